// @vitest-environment happy-dom
// The trust dialog drawn into the real index.html: the report of a trust step, store by store,
// as text only (a path or a tool's message never becomes markup), the state, and the phone's
// download address.
import { beforeEach, describe, expect, it } from "vitest";
import page from "../../index.html?raw";
import type { Site, TrustAction, TrustReport } from "../api/types";
import { caDownloadUrl, renderReport, reportLines, TrustDialog, trustState } from "./trust";

const CA = Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).toUpperCase().padStart(2, "0")).join(":");

function report(stores: TrustReport["stores"]): TrustReport {
  return { caFingerprint: CA, caCertPath: "/data/certs/ca.pem", stores };
}

const HOSTILE = '/tmp/<img src=x onerror="alert(1)">/nssdb';

const site = {
  id: "s1",
  name: "site",
  root: "/srv/site",
  isWelcome: false,
  running: true,
  url: "http://127.0.0.1:43127/",
  lan: true,
  lanUrls: ["http://192.168.1.5:43127/"],
  https: { url: "https://127.0.0.1:43128/", lanUrls: [], fingerprint: CA, caFingerprint: CA },
} as unknown as Site;

beforeEach(() => {
  const parsed = new DOMParser().parseFromString(page, "text/html");
  document.body.replaceChildren(...[...parsed.body.children].filter((node) => node.tagName !== "SCRIPT"));
});

describe("the trust report", () => {
  it("names each store and what happened to it, with the reason of a failure", () => {
    const lines = reportLines(
      report([
        { store: { kind: "nss", browser: "Chromium", path: "/home/me/.pki/nssdb" }, outcome: { kind: "updated" } },
        { store: { kind: "nss", browser: "Firefox", path: "/home/me/.mozilla/firefox/x.default" }, outcome: { kind: "unchanged" } },
        { store: { kind: "system", location: "/usr/local/share/ca-certificates" }, outcome: { kind: "failed", reason: "`pkexec` is not installed" } },
      ]),
    );
    expect(lines).toEqual([
      { outcome: "updated", text: "Updated: Chromium (/home/me/.pki/nssdb)" },
      { outcome: "unchanged", text: "Unchanged: Firefox (/home/me/.mozilla/firefox/x.default)" },
      { outcome: "failed", text: "Failed: the system store (/usr/local/share/ca-certificates) — `pkexec` is not installed" },
    ]);
  });

  it("draws markup in a path or a reason as text", () => {
    const list = document.getElementById("trust-report") as HTMLElement;
    renderReport(
      list,
      report([{ store: { kind: "nss", browser: "NSS", path: HOSTILE }, outcome: { kind: "failed", reason: "<b>no</b>" } }]),
    );
    expect(list.querySelector("img, b")).toBeNull();
    expect(list.children).toHaveLength(1);
    expect(list.children[0].textContent).toBe(`Failed: NSS (${HOSTILE}) — <b>no</b>`);
    expect((list.children[0] as HTMLElement).dataset.outcome).toBe("failed");
    renderReport(list, report([]));
    expect(list.textContent).toBe("No trust store found.");
  });

  it("says whether the CA is trusted", () => {
    const nss = (kind: "trusted" | "notTrusted") => ({
      store: { kind: "nss" as const, browser: "NSS", path: "/db" },
      outcome: { kind },
    });
    expect(trustState(report([nss("trusted")]))).toMatch(/^Trusted on this computer/);
    expect(trustState(report([nss("notTrusted")]))).toMatch(/^Not trusted yet/);
    expect(trustState(report([nss("trusted"), nss("notTrusted")]))).toBe("Trusted in 1 of 2 stores.");
    expect(trustState(report([]))).toBe("No trust store found on this computer.");
  });

  it("gives the phone the CA's address on the network only while shared", () => {
    expect(caDownloadUrl(site)).toBe("http://192.168.1.5:43127/__wharf/ca.crt");
    expect(caDownloadUrl({ ...site, lan: false })).toBeNull();
    expect(caDownloadUrl({ ...site, running: false })).toBeNull();
  });
});

describe("the trust dialog", () => {
  it("shows the state, then a step's report; the system store is its own call", async () => {
    const calls: string[] = [];
    const answer = (scope: string) => (action: TrustAction) => {
      calls.push(`${scope} ${action}`);
      const outcome = action === "status" ? { kind: "trusted" as const } : { kind: "updated" as const };
      return Promise.resolve(report([{ store: { kind: "nss", browser: "NSS", path: "/tmp/db" }, outcome }]));
    };
    const dialog = new TrustDialog({ user: answer("user"), system: answer("system") });
    dialog.open(site);
    await new Promise((r) => setTimeout(r, 0));
    const text = (id: string) => document.getElementById(id)?.textContent ?? "";
    expect(text("trust-state")).toMatch(/^Trusted on this computer/);
    expect(text("ca-fingerprint")).toBe(CA);
    expect(text("phone-ca-url")).toBe("http://192.168.1.5:43127/__wharf/ca.crt");
    expect(document.getElementById("phone-ca-off")?.hidden).toBe(true);

    document.getElementById("trust-ca")?.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(text("trust-report")).toBe("Updated: NSS (/tmp/db)");
    document.getElementById("trust-ca-system")?.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(["user status", "user trust", "user status", "system trust", "user status"]);
  });
});
