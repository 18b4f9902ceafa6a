import { describe, expect, it } from "vitest";
import type { SiteSettings } from "../api/types";
import { formValuesOf, ignoreLines, SettingsDraft, settingsWithSwitch } from "./draft";

const applied: SiteSettings = {
  port: 8080,
  https: false,
  httpsPort: 0,
  keepAlive: true,
  headerReadTimeoutMs: 10_000,
  keepAliveIdleTimeoutMs: 5_000,
  proxyConnectTimeoutMs: 5_000,
  proxyFirstByteTimeoutMs: 30_000,
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
  whyHeader: false,
  cors: false,
  crossOriginIsolation: false,
  customHeaders: [{ path: "/assets/**", name: "Cache-Control", value: "max-age=60" }],
  proxy: [{ path: "/api", target: "http://localhost:3000", changeOrigin: true }],
  network: [{ path: "/videos/**", preset: "slow-3g" }],
  networkConditions: true,
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
    const noRows = { customHeaders: [], proxy: [], network: [] }; // row keys differ: compared above
    expect({ ...draft.values, ...noRows }).toEqual({ ...formValuesOf(applied, false), ...noRows });
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
    const key = draft.addRow("customHeaders");
    expect(draft.dirtyFields()).toEqual(["customHeaders"]);
    draft.editRow("customHeaders", key, "path", "**/*.wasm");
    expect(draft.values.customHeaders[1]).toMatchObject({ key, path: "**/*.wasm", name: "", value: "" });
    draft.removeRow("customHeaders", key);
    expect(draft.isDirty()).toBe(false);

    const [first] = rowKeys(draft);
    draft.editRow("customHeaders", first, "value", "max-age=3600");
    expect(draft.isDirty("customHeaders")).toBe(true);
    draft.editRow("customHeaders", first, "value", " max-age=60 ");
    expect(draft.isDirty("customHeaders")).toBe(false);
    draft.removeRow("customHeaders", first);
    expect(draft.values.customHeaders).toEqual([]);
    expect(draft.isDirty("customHeaders")).toBe(true);
  });

  it("edits never change the baseline's rows", () => {
    const draft = new SettingsDraft(applied, false);
    const [first] = rowKeys(draft);
    draft.editRow("customHeaders", first, "name", "X-Other");
    draft.addRow("customHeaders");
    expect(draft.baseline.customHeaders).toHaveLength(1);
    expect(draft.baseline.customHeaders[0].name).toBe("Cache-Control");
  });

  it("discard restores the applied rows and globs", () => {
    const draft = new SettingsDraft(applied, false);
    const before = draft.values.customHeaders;
    draft.removeRow("customHeaders", before[0].key);
    draft.addRow("customHeaders");
    draft.edit("reloadIgnore", "");
    draft.discard();
    expect(draft.isDirty()).toBe(false);
    expect(draft.values.customHeaders).toEqual(before);
    expect(draft.values.reloadIgnore).toBe(".git/**\nnode_modules/**");
  });

  it("sends trimmed rows and globs, leaving blank rows and lines out", () => {
    const draft = new SettingsDraft(applied, false);
    draft.addRow("customHeaders");
    const key = draft.addRow("customHeaders");
    draft.editRow("customHeaders", key, "path", " /api/* ");
    draft.editRow("customHeaders", key, "name", "X-Api");
    draft.editRow("customHeaders", key, "value", " 1 ");
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

    draft.addRow("customHeaders");
    expect(draft.rebase({ ...pushed, customHeaders: [], reloadIgnore: ["x/**"] }, false)).toBe("merged");
    expect(draft.values.customHeaders.map((row) => row.name)).toEqual(["Cache-Control", "X-A", ""]);
    expect(draft.values.reloadIgnore).toBe("x/**"); // untouched: takes the new value
    expect(draft.dirtyFields()).toEqual(["customHeaders"]);
  });

  it("an error on a header row marks that row and cell, found by the index sent", () => {
    const draft = new SettingsDraft(applied, false);
    draft.addRow("customHeaders"); // blank: not sent, so the sent index 1 is the row after it
    const bad = draft.addRow("customHeaders");
    draft.editRow("customHeaders", bad, "path", "/x");
    draft.editRow("customHeaders", bad, "name", "Bad Name");
    expect(draft.prepare().ok).toBe(true);
    const message = 'customHeaders[1].name: "Bad Name" is not a valid header name';
    const result = draft.failed({ kind: "invalidConfig", message, field: "customHeaders", index: 1, member: "name" });
    expect(result).toEqual({ inline: true, field: "customHeaders", message });
    expect(draft.error("customHeaders")).toBe(message);
    expect(draft.rowError("customHeaders")).toEqual({ key: bad, member: "name" });
    expect(draft.values.customHeaders).toHaveLength(3);

    draft.editRow("customHeaders", bad, "name", "X-Good");
    expect(draft.error("customHeaders")).toBeNull();
    expect(draft.rowError("customHeaders")).toBeNull();
  });

  it("a header error without an index, or for a removed row, marks no row", () => {
    const draft = new SettingsDraft(applied, false);
    const [first] = draft.values.customHeaders.map((row) => row.key);
    draft.prepare();
    draft.failed({ kind: "invalidConfig", message: "customHeaders: the globs cannot be combined", field: "customHeaders" });
    expect(draft.rowError("customHeaders")).toBeNull();
    expect(draft.error("customHeaders")).not.toBeNull();
    draft.discard();
    expect(draft.error("customHeaders")).toBeNull();

    draft.prepare();
    draft.removeRow("customHeaders", first);
    draft.failed({ kind: "invalidConfig", message: "m", field: "customHeaders", index: 0, member: "path" });
    expect(draft.rowError("customHeaders")).toBeNull();
  });

  it("an ignore glob error lands on the ignore list", () => {
    const draft = new SettingsDraft(applied, false);
    draft.edit("reloadIgnore", "a[");
    const message = 'reloadIgnore[0]: "a[" is not a valid glob';
    expect(draft.failed({ kind: "invalidConfig", message, field: "reloadIgnore", index: 0 }).inline).toBe(true);
    expect(draft.error("reloadIgnore")).toBe(message);
    expect(draft.rowError("customHeaders")).toBeNull();
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

describe("SettingsDraft: proxy and network tables", () => {
  const rules: SiteSettings = {
    ...applied,
    proxy: [
      { path: "/api", target: "http://localhost:3000", changeOrigin: true },
      { path: "/auth", target: "http://127.0.0.1:4000", rewrite: "", changeOrigin: false },
      { path: "^/v1/(.*)", target: "http://localhost:3000/v2", rewrite: "/$1", changeOrigin: true },
    ],
    network: [
      { path: "/videos/**", preset: "slow-3g" },
      {
        path: "/api/**",
        rate: 1000,
        per: "connection",
        latency: 20,
        jitter: 5,
        status: 503,
        "reset-after": 10,
        "stall-after": 20,
        ttfb: 30,
        slice: 40,
        p: 0.25,
      },
    ],
    proxyConnectTimeoutMs: 1_500,
    networkConditions: false,
  };

  it("shows each rule as a row: the rewrite as a choice, the network keys as KEY=VALUE words, timeouts in seconds", () => {
    const draft = new SettingsDraft(rules, false);
    expect(draft.values.proxy.map(({ key: _, ...row }) => row)).toEqual([
      { path: "/api", target: "http://localhost:3000", rewrite: "keep", rewriteTo: "", changeOrigin: true },
      { path: "/auth", target: "http://127.0.0.1:4000", rewrite: "strip", rewriteTo: "", changeOrigin: false },
      { path: "^/v1/(.*)", target: "http://localhost:3000/v2", rewrite: "replace", rewriteTo: "/$1", changeOrigin: true },
    ]);
    expect(draft.values.network.map(({ key: _, ...row }) => row)).toEqual([
      { path: "/videos/**", preset: "slow-3g", options: "" },
      {
        path: "/api/**",
        preset: "",
        options: "rate=1000 per=connection latency=20 jitter=5 status=503 reset-after=10 stall-after=20 ttfb=30 slice=40 p=0.25",
      },
    ]);
    expect(draft.values.proxyConnectTimeoutMs).toBe("1.5");
    expect(draft.values.proxyFirstByteTimeoutMs).toBe("30");
    expect(draft.values.networkConditions).toBe(false);
  });

  it("sends back exactly the rules it was given", () => {
    const prepared = new SettingsDraft(rules, false).prepare();
    expect(prepared).toEqual({ ok: true, settings: rules });
  });

  it("rows typed in the tables are sent as rules, blank rows left out", () => {
    const draft = new SettingsDraft({ ...applied, proxy: [], network: [] }, false);
    draft.addRow("proxy"); // blank: not sent
    const api = draft.addRow("proxy");
    draft.editRow("proxy", api, "path", " /api ");
    draft.editRow("proxy", api, "target", "http://localhost:3000 ");
    draft.editRow("proxy", api, "rewrite", "strip");
    draft.editRow("proxy", api, "changeOrigin", "no"); // not a checkbox's value: ignored
    draft.editRow("proxy", api, "changeOrigin", false);
    const slow = draft.addRow("network");
    draft.editRow("network", slow, "path", "/**");
    draft.editRow("network", slow, "preset", "slow-3g");
    const faults = draft.addRow("network");
    draft.editRow("network", faults, "path", "/api/**");
    draft.editRow("network", faults, "options", " status=429  p=.5 ");
    draft.set("proxyFirstByteTimeoutMs", "2.5");
    expect(draft.dirtyFields()).toEqual(["proxy", "proxyFirstByteTimeoutMs", "network"]);
    const prepared = draft.prepare();
    expect(prepared.ok && prepared.settings.proxy).toEqual([
      { path: "/api", target: "http://localhost:3000", rewrite: "", changeOrigin: false },
    ]);
    expect(prepared.ok && prepared.settings.network).toEqual([
      { path: "/**", preset: "slow-3g" },
      { path: "/api/**", status: 429, p: 0.5 },
    ]);
    expect(prepared.ok && prepared.settings.proxyFirstByteTimeoutMs).toBe(2500);

    draft.removeRow("network", slow);
    draft.removeRow("network", faults);
    expect(draft.isDirty("network")).toBe(false);
  });

  it("a network row whose options are not KEY=VALUE words is not sent, and its row and cell are marked", () => {
    const draft = new SettingsDraft(rules, false);
    const [, second] = draft.values.network.map((row) => row.key);
    for (const [options, reason] of [
      ["latency=fast", /latency=fast is not a whole number/],
      ["p=2x", /p=2x is not a number from 0 to 1/],
      ["speed=1", /"speed=1" is not KEY=VALUE with a key of: rate, per, latency/],
      ["latency", /"latency" is not KEY=VALUE/],
      ["preset=slow-3g", /preset in its own column/],
      ["status=70000", /from 0 to 65535/],
    ] as const) {
      draft.editRow("network", second, "options", options);
      const prepared = draft.prepare();
      expect(prepared.ok, options).toBe(false);
      expect(draft.error("network"), options).toMatch(/^Row 2: /);
      expect(draft.error("network"), options).toMatch(reason);
      expect(draft.rowError("network"), options).toEqual({ key: second, member: "options" });
    }
    draft.editRow("network", second, "options", "latency=100");
    expect(draft.error("network")).toBeNull();
    expect(draft.rowError("network")).toBeNull();
    expect(draft.prepare().ok).toBe(true);
  });

  it("a core error on a rule marks its row and the cell showing the member it names", () => {
    const draft = new SettingsDraft(rules, false);
    const proxyKeys = draft.values.proxy.map((row) => row.key);
    const networkKeys = draft.values.network.map((row) => row.key);
    const blank = draft.addRow("network"); // blank: not sent, so indexes still match the rows above
    expect(draft.prepare().ok).toBe(true);
    const cases = [
      ["proxy", 2, "rewrite", proxyKeys[2], "rewriteTo"],
      ["proxy", 1, "target", proxyKeys[1], "target"],
      ["network", 1, "reset-after", networkKeys[1], "options"],
      ["network", 0, "preset", networkKeys[0], "preset"],
      ["network", 1, "p", networkKeys[1], "options"],
      ["network", 0, "path", networkKeys[0], "path"],
    ] as const;
    for (const [field, index, member, key, cell] of cases) {
      const error = { kind: "invalidConfig", message: "m", field, index, member, reason: "is wrong" };
      const labels = (f: string) => ({ proxy: "Proxy rules", network: "Network rules" })[f] ?? null;
      const result = draft.failed(error, labels, (m) => (m === "rewrite" ? "Path sent" : null));
      expect(result.inline).toBe(true);
      expect(draft.rowError(field), `${field} ${member}`).toEqual({ key, member: cell });
      const place = `${labels(field)}, row ${index + 1}, ${member === "rewrite" ? "Path sent" : member}`;
      expect(draft.error(field)).toBe(`${place}: is wrong`);
    }
    expect(draft.rowError("customHeaders")).toBeNull();
    draft.editRow("network", blank, "path", "/x");
    expect(draft.rowError("network")).toBeNull();
    expect(draft.rowError("proxy")).toEqual({ key: proxyKeys[1], member: "target" });
  });

  it("one switch changed on the applied settings (the header's Turn off) keeps the rules and automatic ports", () => {
    const site = { ...rules, networkConditions: true, port: 43127, httpsPort: 43128 };
    const off = settingsWithSwitch(site, { portAutomatic: true, httpsPortAutomatic: false }, "networkConditions", false);
    expect(off).toEqual({ ...site, networkConditions: false, port: 0 });
  });

  it("a rebase keeps the user's rows and takes the switch turned off elsewhere", () => {
    const draft = new SettingsDraft({ ...rules, networkConditions: true }, false);
    const key = draft.addRow("proxy");
    draft.editRow("proxy", key, "path", "/new");
    expect(draft.rebase({ ...rules, networkConditions: false }, false)).toBe("merged");
    expect(draft.values.networkConditions).toBe(false);
    expect(draft.values.proxy.map((row) => row.path)).toEqual(["/api", "/auth", "^/v1/(.*)", "/new"]);
    expect(draft.dirtyFields()).toEqual(["proxy"]);
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
