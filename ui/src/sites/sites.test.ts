import { describe, expect, it } from "vitest";
import type { Site } from "../api/types";
import { qrMatrix } from "./qr";
import { baseName } from "./sidebar";
import { siteView } from "./view";

const base = {
  id: "s1",
  name: "site",
  root: "/srv/site",
  isWelcome: false,
  running: true,
  url: "http://127.0.0.1:43127/",
  lan: false,
  lanUrls: [],
} as unknown as Site;

describe("siteView", () => {
  it("shows a running site with its URL and a Stop button", () => {
    const v = siteView(base);
    expect(v.state).toBe("Running");
    expect(v.url).toBe("http://127.0.0.1:43127/");
    expect(v.toggleLabel).toBe("Stop");
    expect(v.canOpen).toBe(true);
  });

  it("offers Start and no URL when stopped", () => {
    const v = siteView({ ...base, running: false, url: null });
    expect(v.state).toBe("Stopped");
    expect(v.toggleLabel).toBe("Start");
    expect(v.canOpen).toBe(false);
    expect(v.url).toBe("Not running");
  });

  it("shows the LAN URL and QR only while shared and running", () => {
    expect(siteView(base).lanUrl).toBe("");
    const shared = siteView({ ...base, lan: true, lanUrls: ["http://192.168.1.5:43127/"] });
    expect(shared.lanUrl).toBe("http://192.168.1.5:43127/");
    expect(shared.showQr).toBe(true);
    expect(siteView({ ...base, lan: true, running: false, url: null }).showQr).toBe(false);
    expect(siteView({ ...base, lan: true, lanUrls: [] }).showQr).toBe(false);
  });
});

describe("qrMatrix", () => {
  it("reads modules row by row", () => {
    expect(qrMatrix({ text: "x", width: 2, modules: "1001" })).toEqual([
      [true, false],
      [false, true],
    ]);
  });
  it("refuses malformed codes", () => {
    expect(qrMatrix({ text: "x", width: 2, modules: "100" })).toBeNull();
    expect(qrMatrix({ text: "x", width: 2, modules: "10x1" })).toBeNull();
    expect(qrMatrix({ text: "x", width: 0, modules: "" })).toBeNull();
  });
});

describe("baseName", () => {
  it("takes the last segment of POSIX and Windows paths", () => {
    expect(baseName("/home/me/site/")).toBe("site");
    expect(baseName("C:\\Users\\me\\site")).toBe("site");
    expect(baseName("/")).toBe("/");
  });
});

