import { describe, expect, it } from "vitest";
import type { SiteSettings } from "../api/types";
import { formValuesOf, SettingsDraft } from "./draft";

const applied: SiteSettings = {
  port: 8080,
  keepAlive: true,
  headerReadTimeoutMs: 10_000,
  keepAliveIdleTimeoutMs: 5_000,
  maxConnections: 256,
  directoryListing: true,
  showDotfiles: false,
  followSymlinks: false,
  cacheControl: "no-cache",
  compression: true,
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
    expect(draft.values).toEqual(formValuesOf(applied, false));
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
