import { describe, expect, it } from "vitest";
import type { SiteSettings } from "../api/types";
import { formValuesOf, ignoreLines, SettingsDraft } from "./draft";

const applied: SiteSettings = {
  port: 8080,
  https: false,
  httpsPort: 0,
  keepAlive: true,
  headerReadTimeoutMs: 10_000,
  keepAliveIdleTimeoutMs: 5_000,
  maxConnections: 256,
  directoryListing: true,
  showDotfiles: false,
  followSymlinks: false,
  cacheControl: "no-cache",
  compression: true,
  byteRanges: true,
  spaFallback: false,
  cleanUrls: false,
  dropHtmlExtension: false,
  cors: false,
  crossOriginIsolation: false,
  customHeaders: [{ path: "/assets/**", name: "Cache-Control", value: "max-age=60" }],
  liveReload: true,
  reloadIgnore: [".git/**", "node_modules/**"],
  allowedHosts: [],
  corsOrigins: [],
};

describe("SettingsDraft: dirty and discard", () => {
  it("starts clean, showing the applied settings (timeouts in seconds)", () => {
    const draft = new SettingsDraft(applied, false);
    expect(draft.isDirty()).toBe(false);
    expect(draft.values.port).toBe("8080");
    expect(draft.values.headerReadTimeoutMs).toBe("10");
    expect(draft.values.keepAliveIdleTimeoutMs).toBe("5");
  });

  it("marks exactly the edited field dirty", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("keepAlive", false);
    expect(draft.isDirty()).toBe(true);
    expect(draft.dirtyFields()).toEqual(["keepAlive"]);
  });

  it("is clean again when an edit is undone by hand", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("maxConnections", "300");
    draft.set("maxConnections", "256");
    expect(draft.isDirty()).toBe(false);
  });

  it("treats the same number written differently as unchanged", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("keepAliveIdleTimeoutMs", "5.0");
    expect(draft.isDirty("keepAliveIdleTimeoutMs")).toBe(false);
    draft.set("keepAliveIdleTimeoutMs", "5.5");
    expect(draft.isDirty("keepAliveIdleTimeoutMs")).toBe(true);
  });

  it("discard restores the applied values and clears errors", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("port", "abc");
    draft.set("compression", false);
    expect(draft.prepare().ok).toBe(false);
    expect(draft.error("port")).not.toBeNull();
    draft.discard();
    expect(draft.isDirty()).toBe(false);
    expect(draft.values).toEqual(draft.baseline);
    expect({ ...draft.values, customHeaders: [] }).toEqual({ ...formValuesOf(applied, false), customHeaders: [] });
    expect(draft.error("port")).toBeNull();
  });

  it("ignores the port number while the port is automatic", () => {
    const draft = new SettingsDraft({ ...applied, port: 43127 }, true);
    draft.set("port", "9000");
    expect(draft.isDirty()).toBe(false);
    draft.set("portAutomatic", false);
    expect(draft.dirtyFields()).toEqual(["port", "portAutomatic"]);
  });

  it("accepts an edit from a control only with the field's type", () => {
    const draft = new SettingsDraft(applied, false);
    draft.edit("keepAlive", "false");
    expect(draft.values.keepAlive).toBe(true);
    draft.edit("keepAlive", false);
    expect(draft.values.keepAlive).toBe(false);
  });
});

describe("SettingsDraft: prepare", () => {
  it("sends every field, timeouts back in milliseconds", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("headerReadTimeoutMs", "2.5");
    draft.set("cacheControl", "  max-age=3600 ");
    const prepared = draft.prepare();
    expect(prepared).toEqual({
      ok: true,
      settings: { ...applied, headerReadTimeoutMs: 2500, cacheControl: "max-age=3600" },
    });
  });

  it("sends an automatic port as 0", () => {
    const draft = new SettingsDraft({ ...applied, port: 43127 }, true);
    const prepared = draft.prepare();
    expect(prepared.ok && prepared.settings.port).toBe(0);
  });

  it("refuses what is not a number, and only that", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("maxConnections", "lots");
    draft.set("keepAliveIdleTimeoutMs", "");
    draft.set("port", "0"); // a number: server-core judges it
    const prepared = draft.prepare();
    expect(prepared.ok).toBe(false);
    expect(prepared.ok ? [] : Object.keys(prepared.errors).sort()).toEqual(["keepAliveIdleTimeoutMs", "maxConnections"]);
    expect(draft.error("maxConnections")).toMatch(/whole number/);
    expect(draft.error("port")).toBeNull();
  });

  it("clears a field's error when that field is edited", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("maxConnections", "x");
    draft.prepare();
    draft.set("maxConnections", "12");
    expect(draft.error("maxConnections")).toBeNull();
  });
});

describe("SettingsDraft: apply", () => {
  it("success makes what was applied the new baseline, clean", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("keepAlive", false);
    const prepared = draft.prepare();
    expect(prepared.ok).toBe(true);
    const server = { ...applied, keepAlive: false };
    draft.applied(server, false);
    expect(draft.isDirty()).toBe(false);
    expect(draft.baseline.keepAlive).toBe(false);
    expect(draft.values.keepAlive).toBe(false);
  });

  it("an error for a field keeps the draft and shows the message inline", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("maxConnections", "0");
    const result = draft.failed({
      kind: "invalidConfig",
      message: "maxConnections: must be at least 1",
      field: "maxConnections",
    });
    expect(result).toEqual({ inline: true, field: "maxConnections", message: "maxConnections: must be at least 1" });
    expect(draft.error("maxConnections")).toBe("maxConnections: must be at least 1");
    expect(draft.values.maxConnections).toBe("0");
    expect(draft.isDirty()).toBe(true);
  });

  it("names the refused field by the label the form shows", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("maxConnections", "0");
    const error = {
      kind: "invalidConfig",
      message: "maxConnections: 0 is out of range; use 1 to 1,000,000",
      field: "maxConnections",
      reason: "0 is out of range; use 1 to 1,000,000",
    };
    const result = draft.failed(error, (field) => (field === "maxConnections" ? "Max connections" : null));
    expect(result.message).toBe("Max connections: 0 is out of range; use 1 to 1,000,000");
    expect(draft.error("maxConnections")).toBe("Max connections: 0 is out of range; use 1 to 1,000,000");
  });

  it("a port in use lands on the port field", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("port", "3000");
    const result = draft.failed({ kind: "portInUse", message: "Port 3000 is already in use.", field: "port" });
    expect(result.inline).toBe(true);
    expect(draft.error("port")).toBe("Port 3000 is already in use.");
    expect(draft.values.port).toBe("3000");
  });

  it("an error that names no form field goes to the banner, draft kept", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("compression", false);
    const result = draft.failed({ kind: "noSuchSite", message: "No such site." });
    expect(result.inline).toBe(false);
    expect(result.message).toBe("No such site.");
    expect([...draft.errors()]).toEqual([]);
    expect(draft.values.compression).toBe(false);
    expect(draft.failed({ kind: "invalidConfig", message: "root: gone", field: "root" }).inline).toBe(false);
  });
});

describe("SettingsDraft: the applied settings change elsewhere", () => {
  it("a clean form takes the new settings as its baseline", () => {
    const draft = new SettingsDraft(applied, false);
    expect(draft.rebase({ ...applied, maxConnections: 512 }, false)).toBe("reset");
    expect(draft.values.maxConnections).toBe("512");
    expect(draft.baseline.maxConnections).toBe("512");
    expect(draft.isDirty()).toBe(false);
  });

  it("a clean automatic port follows the port the server picked", () => {
    const draft = new SettingsDraft({ ...applied, port: 0 }, true);
    expect(draft.values.port).toBe("");
    draft.rebase({ ...applied, port: 43127 }, true);
    expect(draft.values.port).toBe("43127");
    expect(draft.isDirty()).toBe(false);
  });

  it("nothing happens when the push repeats the same settings", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("keepAlive", false);
    expect(draft.rebase({ ...applied }, false)).toBe("unchanged");
    expect(draft.values.keepAlive).toBe(false);
  });

  it("a dirty form keeps the user's edits and takes the other fields' new values", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("keepAlive", false);
    expect(draft.rebase({ ...applied, maxConnections: 512, keepAlive: true }, false)).toBe("merged");
    expect(draft.values.keepAlive).toBe(false); // the user's edit
    expect(draft.values.maxConnections).toBe("512"); // someone else's change, not reverted
    expect(draft.baseline.maxConnections).toBe("512");
    expect(draft.dirtyFields()).toEqual(["keepAlive"]);
  });

  it("a dirty field whose new applied value equals the edit becomes clean", () => {
    const draft = new SettingsDraft(applied, false);
    draft.set("compression", false);
    draft.rebase({ ...applied, compression: false }, false);
    expect(draft.isDirty()).toBe(false);
  });
});

describe("SettingsDraft: lists (custom headers, ignore globs)", () => {
  const rowKeys = (draft: SettingsDraft) => draft.values.customHeaders.map((row) => row.key);

  it("shows the ignore globs one per line and the header rows with keys", () => {
    const draft = new SettingsDraft(applied, false);
    expect(draft.values.reloadIgnore).toBe(".git/**\nnode_modules/**");
    expect(draft.values.customHeaders).toEqual([
      { key: expect.any(Number), path: "/assets/**", name: "Cache-Control", value: "max-age=60" },
    ]);
  });

  it("an ignore list is dirty only when its globs change", () => {
    const draft = new SettingsDraft(applied, false);
    draft.edit("reloadIgnore", " .git/**\n\nnode_modules/** \n");
    expect(draft.isDirty()).toBe(false);
    draft.edit("reloadIgnore", ".git/**\nnode_modules/**\ndist/**");
    expect(draft.dirtyFields()).toEqual(["reloadIgnore"]);
    expect(ignoreLines("a\r\n  b  \n\n")).toEqual(["a", "b"]);
  });

  it("adding, editing and removing a row makes the headers dirty; undoing by hand makes them clean", () => {
    const draft = new SettingsDraft(applied, false);
    const key = draft.addHeader();
    expect(draft.dirtyFields()).toEqual(["customHeaders"]);
    draft.editHeader(key, "path", "**/*.wasm");
    expect(draft.values.customHeaders[1]).toMatchObject({ key, path: "**/*.wasm", name: "", value: "" });
    draft.removeHeader(key);
    expect(draft.isDirty()).toBe(false);

    const [first] = rowKeys(draft);
    draft.editHeader(first, "value", "max-age=3600");
    expect(draft.isDirty("customHeaders")).toBe(true);
    draft.editHeader(first, "value", " max-age=60 ");
    expect(draft.isDirty("customHeaders")).toBe(false);
    draft.removeHeader(first);
    expect(draft.values.customHeaders).toEqual([]);
    expect(draft.isDirty("customHeaders")).toBe(true);
  });

  it("edits never change the baseline's rows", () => {
    const draft = new SettingsDraft(applied, false);
    const [first] = rowKeys(draft);
    draft.editHeader(first, "name", "X-Other");
    draft.addHeader();
    expect(draft.baseline.customHeaders).toHaveLength(1);
    expect(draft.baseline.customHeaders[0].name).toBe("Cache-Control");
  });

  it("discard restores the applied rows and globs", () => {
    const draft = new SettingsDraft(applied, false);
    const before = draft.values.customHeaders;
    draft.removeHeader(before[0].key);
    draft.addHeader();
    draft.edit("reloadIgnore", "");
    draft.discard();
    expect(draft.isDirty()).toBe(false);
    expect(draft.values.customHeaders).toEqual(before);
    expect(draft.values.reloadIgnore).toBe(".git/**\nnode_modules/**");
  });

  it("sends trimmed rows and globs, leaving blank rows and lines out", () => {
    const draft = new SettingsDraft(applied, false);
    draft.addHeader();
    const key = draft.addHeader();
    draft.editHeader(key, "path", " /api/* ");
    draft.editHeader(key, "name", "X-Api");
    draft.editHeader(key, "value", " 1 ");
    draft.edit("reloadIgnore", "\n*.log\n\n");
    const prepared = draft.prepare();
    expect(prepared.ok && prepared.settings.customHeaders).toEqual([
      { path: "/assets/**", name: "Cache-Control", value: "max-age=60" },
      { path: "/api/*", name: "X-Api", value: "1" },
    ]);
    expect(prepared.ok && prepared.settings.reloadIgnore).toEqual(["*.log"]);
    expect(prepared.ok && prepared.settings.liveReload).toBe(true);
  });

  it("a clean form takes new rows pushed from elsewhere; a dirty one keeps its rows", () => {
    const draft = new SettingsDraft(applied, false);
    const pushed = { ...applied, customHeaders: [...applied.customHeaders, { path: "/*", name: "X-A", value: "b" }] };
    expect(draft.rebase({ ...applied, customHeaders: [...applied.customHeaders] }, false)).toBe("unchanged");
    expect(draft.rebase(pushed, false)).toBe("reset");
    expect(draft.values.customHeaders.map((row) => row.name)).toEqual(["Cache-Control", "X-A"]);
    expect(draft.isDirty()).toBe(false);

    draft.addHeader();
    expect(draft.rebase({ ...pushed, customHeaders: [], reloadIgnore: ["x/**"] }, false)).toBe("merged");
    expect(draft.values.customHeaders.map((row) => row.name)).toEqual(["Cache-Control", "X-A", ""]);
    expect(draft.values.reloadIgnore).toBe("x/**"); // untouched: takes the new value
    expect(draft.dirtyFields()).toEqual(["customHeaders"]);
  });

  it("an error on a header row marks that row and cell, found by the index sent", () => {
    const draft = new SettingsDraft(applied, false);
    draft.addHeader(); // blank: not sent, so the sent index 1 is the row after it
    const bad = draft.addHeader();
    draft.editHeader(bad, "path", "/x");
    draft.editHeader(bad, "name", "Bad Name");
    expect(draft.prepare().ok).toBe(true);
    const message = 'customHeaders[1].name: "Bad Name" is not a valid header name';
    const result = draft.failed({ kind: "invalidConfig", message, field: "customHeaders", index: 1, member: "name" });
    expect(result).toEqual({ inline: true, field: "customHeaders", message });
    expect(draft.error("customHeaders")).toBe(message);
    expect(draft.headerError()).toEqual({ key: bad, member: "name" });
    expect(draft.values.customHeaders).toHaveLength(3);

    draft.editHeader(bad, "name", "X-Good");
    expect(draft.error("customHeaders")).toBeNull();
    expect(draft.headerError()).toBeNull();
  });

  it("a header error without an index, or for a removed row, marks no row", () => {
    const draft = new SettingsDraft(applied, false);
    const [first] = draft.values.customHeaders.map((row) => row.key);
    draft.prepare();
    draft.failed({ kind: "invalidConfig", message: "customHeaders: the globs cannot be combined", field: "customHeaders" });
    expect(draft.headerError()).toBeNull();
    expect(draft.error("customHeaders")).not.toBeNull();
    draft.discard();
    expect(draft.error("customHeaders")).toBeNull();

    draft.prepare();
    draft.removeHeader(first);
    draft.failed({ kind: "invalidConfig", message: "m", field: "customHeaders", index: 0, member: "path" });
    expect(draft.headerError()).toBeNull();
  });

  it("an ignore glob error lands on the ignore list", () => {
    const draft = new SettingsDraft(applied, false);
    draft.edit("reloadIgnore", "a[");
    const message = 'reloadIgnore[0]: "a[" is not a valid glob';
    expect(draft.failed({ kind: "invalidConfig", message, field: "reloadIgnore", index: 0 }).inline).toBe(true);
    expect(draft.error("reloadIgnore")).toBe(message);
    expect(draft.headerError()).toBeNull();
  });

  it("allowed hosts and CORS origins are one per line, and a refused entry lands under its field", () => {
    const draft = new SettingsDraft({ ...applied, allowedHosts: ["dev.test"] }, false);
    expect(draft.values.allowedHosts).toBe("dev.test");
    draft.edit("allowedHosts", " dev.test \n\n");
    expect(draft.isDirty()).toBe(false);
    draft.edit("allowedHosts", "dev.test\nhttp://x.test");
    draft.edit("corsOrigins", "\nhttps://app.example.test\n");
    expect(draft.dirtyFields()).toEqual(["allowedHosts", "corsOrigins"]);
    const prepared = draft.prepare();
    expect(prepared.ok && prepared.settings.allowedHosts).toEqual(["dev.test", "http://x.test"]);
    expect(prepared.ok && prepared.settings.corsOrigins).toEqual(["https://app.example.test"]);
    const message = 'allowedHosts[1]: "http://x.test" is not a host name';
    expect(draft.failed({ kind: "invalidConfig", message, field: "allowedHosts", index: 1 }).inline).toBe(true);
    expect(draft.error("allowedHosts")).toBe(message);
  });
});

describe("SettingsDraft: routing and header toggles", () => {
  it("each toggle is its own dirty field and is sent", () => {
    const draft = new SettingsDraft(applied, false);
    draft.edit("spaFallback", true);
    draft.edit("cors", true);
    draft.edit("crossOriginIsolation", true);
    draft.edit("liveReload", false);
    expect(draft.dirtyFields()).toEqual(["liveReload", "spaFallback", "cors", "crossOriginIsolation"]);
    const prepared = draft.prepare();
    expect(prepared.ok && prepared.settings).toMatchObject({
      spaFallback: true,
      cors: true,
      crossOriginIsolation: true,
      liveReload: false,
    });
  });

  it("turning clean URLs off turns dropping .html off, as server-core requires", () => {
    const draft = new SettingsDraft({ ...applied, cleanUrls: true, dropHtmlExtension: true }, false);
    draft.edit("cleanUrls", false);
    expect(draft.values.dropHtmlExtension).toBe(false);
    expect(draft.dirtyFields()).toEqual(["cleanUrls", "dropHtmlExtension"]);
    draft.discard();
    expect(draft.values).toMatchObject({ cleanUrls: true, dropHtmlExtension: true });
  });

  it("a refusal of drop .html lands on its field", () => {
    const draft = new SettingsDraft(applied, false);
    draft.edit("dropHtmlExtension", true);
    const message = "dropHtmlExtension: needs cleanUrls on; without it /about would not find about.html";
    expect(draft.failed({ kind: "invalidConfig", message, field: "dropHtmlExtension" }).field).toBe("dropHtmlExtension");
    expect(draft.error("dropHtmlExtension")).toBe(message);
  });
});

describe("SettingsDraft: HTTPS", () => {
  const serving: SiteSettings = { ...applied, https: true, httpsPort: 43128 };

  it("turning HTTPS on is one dirty field, sent with an automatic port as 0", () => {
    const draft = new SettingsDraft(applied, false, true);
    expect(draft.values).toMatchObject({ https: false, httpsPort: "", httpsPortAutomatic: true });
    draft.edit("https", true);
    expect(draft.dirtyFields()).toEqual(["https"]);
    const prepared = draft.prepare();
    expect(prepared.ok && prepared.settings).toMatchObject({ https: true, httpsPort: 0, port: 8080 });
  });

  it("shows the automatic HTTPS port in use and ignores its number until unticked", () => {
    const draft = new SettingsDraft(serving, false, true);
    expect(draft.values.httpsPort).toBe("43128");
    draft.set("httpsPort", "9443");
    expect(draft.isDirty()).toBe(false);
    draft.set("httpsPortAutomatic", false);
    expect(draft.dirtyFields()).toEqual(["httpsPort", "httpsPortAutomatic"]);
    const prepared = draft.prepare();
    expect(prepared.ok && prepared.settings).toMatchObject({ https: true, httpsPort: 9443 });
  });

  it("a chosen HTTPS port that is not a number is refused on its own field", () => {
    const draft = new SettingsDraft({ ...serving, httpsPort: 8443 }, false, false);
    expect(draft.values.httpsPort).toBe("8443");
    draft.set("httpsPort", "https");
    const prepared = draft.prepare();
    expect(prepared.ok ? [] : Object.keys(prepared.errors)).toEqual(["httpsPort"]);
    expect(draft.error("httpsPort")).toMatch(/8443, or tick Automatic/);
    expect(draft.error("port")).toBeNull();
  });

  it("an HTTPS port in use lands on the HTTPS port, not the HTTP one", () => {
    const draft = new SettingsDraft(serving, false, false);
    draft.set("httpsPort", "8443");
    const message = "httpsPort: HTTPS: port 8443 is already in use by another program";
    const result = draft.failed({ kind: "portInUse", message, field: "httpsPort" });
    expect(result).toEqual({ inline: true, field: "httpsPort", message });
    expect(draft.error("httpsPort")).toBe(message);
    expect(draft.error("port")).toBeNull();
    draft.set("httpsPort", "8444");
    expect(draft.error("httpsPort")).toBeNull();
  });

  it("an error about the certificate folder is shown beside the HTTPS toggle", () => {
    const draft = new SettingsDraft(applied, false);
    draft.edit("https", true);
    const message = "certDir: HTTPS needs a folder to keep its certificate in";
    expect(draft.failed({ kind: "invalidConfig", message, field: "certDir" })).toEqual({
      inline: true,
      field: "https",
      message,
    });
    expect(draft.error("https")).toBe(message);
  });

  it("a clean automatic HTTPS port follows the server; an edited one is kept", () => {
    const draft = new SettingsDraft({ ...applied, https: true }, false, true);
    expect(draft.rebase(serving, false, true)).toBe("reset");
    expect(draft.values.httpsPort).toBe("43128");
    draft.set("httpsPortAutomatic", false);
    draft.set("httpsPort", "8443");
    expect(draft.rebase({ ...serving, httpsPort: 43129, maxConnections: 512 }, false, true)).toBe("merged");
    expect(draft.values).toMatchObject({ httpsPort: "8443", httpsPortAutomatic: false, maxConnections: "512" });
  });

  it("after Apply the server's choice is the baseline", () => {
    const draft = new SettingsDraft(applied, false, true);
    draft.edit("https", true);
    draft.applied(serving, false, true);
    expect(draft.isDirty()).toBe(false);
    expect(draft.baseline).toMatchObject({ https: true, httpsPort: "43128", httpsPortAutomatic: true });
  });
});
