import { describe, expect, it } from "vitest";
import type { Site, SiteSettings } from "../api/types";
import { qrMatrix } from "./qr";
import { baseName } from "./sidebar";
import { fingerprintGroups, siteView, throttleRules } from "./view";

const base = {
  id: "s1",
  name: "site",
  root: "/srv/site",
  isWelcome: false,
  running: true,
  url: "http://127.0.0.1:43127/",
  lan: false,
  lanUrls: [],
  https: null,
} as unknown as Site;

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0")).join(":");

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

describe("siteView: HTTPS", () => {
  const https = { url: "https://127.0.0.1:43128/", lanUrls: ["https://192.168.1.5:43128/"], fingerprint: FINGERPRINT, caFingerprint: FINGERPRINT };

  it("shows nothing of HTTPS while it is off", () => {
    const v = siteView(base);
    expect(v.httpsUrl).toBeNull();
    expect(v.fingerprint).toEqual([]);
    expect(v.lanHttpsUrl).toBe("");
  });

  it("shows the https URL and the fingerprint while serving HTTPS", () => {
    const v = siteView({ ...base, https });
    expect(v.httpsUrl).toBe("https://127.0.0.1:43128/");
    expect(v.fingerprint).toHaveLength(8);
    expect(v.lanHttpsUrl).toBe(""); // not shared
    expect(siteView({ ...base, https, running: false, url: null }).httpsUrl).toBeNull();
  });

  it("adds the https LAN address while shared; the QR code stays on the http one", () => {
    const v = siteView({ ...base, https, lan: true, lanUrls: ["http://192.168.1.5:43127/"] });
    expect(v.lanHttpsUrl).toBe("https://192.168.1.5:43128/");
    expect(v.lanUrl).toBe("http://192.168.1.5:43127/");
    expect(v.showQr).toBe(true);
  });
});

describe("fingerprintGroups", () => {
  it("groups four pairs at a time and copies back as the same text", () => {
    const groups = fingerprintGroups(FINGERPRINT);
    expect(groups).toHaveLength(8);
    expect(groups[0]).toBe("00:01:02:03:");
    expect(groups[7]).toBe("1C:1D:1E:1F");
    expect(groups.join("")).toBe(FINGERPRINT);
  });

  it("copes with a short or empty fingerprint", () => {
    expect(fingerprintGroups("AB:CD")).toEqual(["AB:CD"]);
    expect(fingerprintGroups("")).toEqual([]);
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


describe("throttleRules (the header's Throttled badge)", () => {
  const settings = (over: Partial<SiteSettings>) => ({ networkConditions: true, network: [], ...over }) as SiteSettings;

  it("lists every network rule, as the CLI writes it, while network conditions are on", () => {
    const network = [
      { path: "/videos/**", preset: "slow-3g" },
      { path: "/api/**", preset: null, status: 503, p: 0.1, "reset-after": null },
    ];
    expect(throttleRules(settings({ network }))).toEqual(["/videos/** preset=slow-3g", "/api/** status=503 p=0.1"]);
  });

  it("is empty, so no badge, without a rule or with network conditions off", () => {
    expect(throttleRules(settings({}))).toEqual([]);
    expect(throttleRules(settings({ networkConditions: false, network: [{ path: "/**", preset: "offline" }] }))).toEqual([]);
  });
});
