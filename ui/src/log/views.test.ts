// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import type { Site } from "../api/types";
import { admissionText } from "../connections/view";
import { detailRows } from "./detail";
import { exportResultText } from "./export";
import { proxied, proxyNoAnswer, record, throttledReset } from "./fixtures";
import { createRow, fillRow, statusCell } from "./table";

describe("detailRows", () => {
  it("lists every field of the record", () => {
    const r = record({
      id: 7,
      method: "HEAD",
      target: "/a%20b",
      status: 404,
      userAgent: "curl/8",
      referer: "http://x/",
      connection: 3,
      generation: 2,
      served: "status",
      outcome: "client_aborted",
      completed: false,
      ttfbUs: null,
    });
    const rows = new Map(detailRows(r));
    expect(rows.get("Target")).toBe("/a%20b");
    expect(rows.get("Target, decoded")).toBe("/a b");
    expect(rows.get("Peer")).toBe("127.0.0.1:50000");
    expect(rows.get("HTTP version")).toBe("HTTP/1.1");
    expect(rows.get("Status")).toBe("404");
    expect(rows.get("Served")).toBe("status");
    expect(rows.get("Outcome")).toBe("aborted by the client");
    expect(rows.get("Completed")).toBe("no");
    expect(rows.get("Time to first byte")).toBe("—");
    expect(rows.get("Total duration")).toBe("0.4 ms");
    expect(rows.get("User agent")).toBe("curl/8");
    expect(rows.get("Referer")).toBe("http://x/");
    expect(rows.get("Connection")).toBe("#3");
    expect(rows.get("Generation")).toBe("2");
    expect(rows.get("Record")).toBe("#7");
    expect(rows.get("Body bytes")).toBe("100 B (100 B)");
    expect(rows.get("Started")).toContain("2023-11-14T22:13:20.000Z");
  });

  it("keeps hostile strings verbatim (they are set as text)", () => {
    const markup = `<img src=x onerror="window.__xss=2">`;
    const rows = new Map(detailRows(record({ userAgent: markup, target: "/%3Cimg%3E" })));
    expect(rows.get("User agent")).toBe(markup);
    expect(rows.get("Target, decoded")).toBe("/<img>");
  });
});

describe("exportResultText", () => {
  const summary = { id: 1, path: "/tmp/w.csv", sessionId: "s", rows: 1234, records: 1234, retentionDropped: 0, lost: 0, unreadableLines: 0 };
  it("says how many rows went where", () => {
    expect(exportResultText(summary)).toBe("Exported 1,234 rows to /tmp/w.csv");
    expect(exportResultText({ ...summary, rows: 1 })).toBe("Exported 1 row to /tmp/w.csv");
    // A HAR counts its entries: the requests, without rows standing for lost records.
    const har = { ...summary, path: "/tmp/w.har", rows: 3, records: 3 };
    expect(exportResultText(har, [], "har")).toBe("Exported 3 entries to /tmp/w.har");
    expect(exportResultText({ ...har, records: 1 }, [], "har")).toBe("Exported 1 entry to /tmp/w.har");
  });
  it("says what is missing and why", () => {
    const text = exportResultText({ ...summary, lost: 3, retentionDropped: 10 }, ["method “other”"]);
    expect(text).toContain("10 older records were removed by log retention");
    expect(text).toContain("3 records were lost");
    expect(text).toContain("not applied: method “other”");
  });
});

describe("admissionText", () => {
  it("shows open / limit and the queue", () => {
    expect(admissionText({ open: 3, limit: 256, waiting: 2, queueCapacity: 1024, turnedAway: 0 }, true)).toBe(
      "3 open / limit 256 · 2 waiting in queue (of 1,024)",
    );
    expect(admissionText({ open: 1, limit: 8, waiting: null, queueCapacity: null, turnedAway: 5 }, true)).toBe(
      "1 open / limit 8 · waiting in queue: not available on this OS · 5 turned away",
    );
  });
  it("says when the site is not running", () => {
    expect(admissionText(null, false)).toMatch(/Not running/);
  });
});

describe("statusCell", () => {
  it("marks a request Wharf blocked", () => {
    expect(statusCell(record({ status: 403, served: "blocked" })).text).toBe("403 blocked");
    expect(statusCell(record({ status: 403, served: "blocked" })).title).toContain("Blocked");
    expect(statusCell(record({ status: 403, served: "status" })).text).toBe("403");
    expect(statusCell(record({ status: 0, served: "status" })).title).toBe("No response");
  });
});

describe("proxied and network-shaped requests (issue 18)", () => {
  const plain = record({ id: 14, generation: 3 });
  /** The site whose generation 3 answered the fixtures. */
  const site = {
    generation: 3,
    settings: {
      proxy: [
        { path: "/api", target: "http://localhost:3000" },
        { path: "/v2", target: "http://127.0.0.1:9" },
      ],
      network: [{ path: "/videos/**", preset: null, rate: 1000000, "reset-after": 5000, p: null }],
    },
  } as unknown as Site;

  it("marks a proxied status with what the target answered", () => {
    expect(statusCell(proxied)).toEqual({
      text: "200 proxy",
      title: "Proxied by rule 1 (the first in Settings → Proxy) to its target: 200 in 12 ms",
    });
    expect(statusCell(proxyNoAnswer)).toEqual({
      text: "502 proxy",
      title: "Proxied by rule 2 (the second in Settings → Proxy): its target did not answer, so Wharf answered 502",
    });
    expect(statusCell(throttledReset).text).toBe("200");
    expect(statusCell(plain)).toEqual({ text: "200", title: "" });
  });

  it("tags a shaped row and lists its effects in data-network; a reused row loses both", () => {
    const row = createRow();
    fillRow(row, throttledReset);
    expect(row.node.dataset.network).toBe("throttle reset");
    expect(row.node.matches('[data-network~="reset"]')).toBe(true);
    expect(row.node.matches('[data-network~="latency"]')).toBe(false);
    const target = row.node.querySelector(".log-target") as HTMLElement;
    expect(target.dataset.mark).toBe("fault");
    expect(target.textContent).toBe("/videos/a.mp4");
    expect(target.title).toBe("/videos/a.mp4\nNetwork rule 1 (the first in Settings → Network conditions): throttled, then reset");

    fillRow(row, record({ target: "/slow", network: { rule: 2, effects: 2 } }));
    expect(row.node.dataset.network).toBe("latency");
    expect(target.dataset.mark).toBe("throttled");
    expect(target.title).toBe("/slow\nNetwork rule 3 (the third in Settings → Network conditions): delayed");

    for (const r of [plain, proxied, proxyNoAnswer, record({ network: { rule: 0, effects: 0 } })]) {
      fillRow(row, r);
      expect(row.node.hasAttribute("data-network")).toBe(false);
      expect(target.hasAttribute("data-mark")).toBe(false);
      expect(target.title).toBe(r.target);
    }
    fillRow(row, proxied);
    expect(row.node.dataset.served).toBe("proxy");
    expect(row.node.querySelector(".log-status")?.textContent).toBe("200 proxy");
  });

  it("keeps a hostile target as text beside the mark", () => {
    const row = createRow();
    const markup = `/<img src=x onerror="window.__xss=3">`;
    fillRow(row, record({ target: markup, network: { rule: 0, effects: 4 }, status: 503 }));
    expect(row.node.querySelector("img")).toBeNull();
    expect(row.node.querySelector(".log-target")?.textContent).toBe(markup);
    expect(row.node.querySelector(".log-target")?.getAttribute("title")).toBe(
      `${markup}\nNetwork rule 1 (the first in Settings → Network conditions): answered 503 instead`,
    );
  });

  it("details the proxy rule, the upstream status and first byte", () => {
    const rows = new Map(detailRows(proxied, site));
    expect(rows.get("Served")).toBe("proxy");
    expect(rows.get("Proxy rule")).toBe("rule 1 (the first in Settings → Proxy): /api → http://localhost:3000");
    expect(rows.get("Upstream status")).toBe("200");
    expect(rows.get("Upstream first byte")).toBe("12 ms");
    expect(rows.has("Network rule")).toBe(false);

    const failed = new Map(detailRows(proxyNoAnswer, site));
    expect(failed.get("Proxy rule")).toBe("rule 2 (the second in Settings → Proxy): /v2 → http://127.0.0.1:9");
    expect(failed.get("Upstream status")).toBe("no answer (Wharf answered 502)");
    expect(failed.get("Upstream first byte")).toBe("—");
  });

  it("names a rule by its place alone when the settings at hand are not the record's", () => {
    expect(new Map(detailRows(proxied)).get("Proxy rule")).toBe("rule 1 (the first in Settings → Proxy)");
    const later = { ...site, generation: 4 } as Site;
    expect(new Map(detailRows(proxyNoAnswer, later)).get("Proxy rule")).toBe(
      "rule 2 (the second in Settings → Proxy, as of generation 3)",
    );
  });

  it("details the network rule and its effects in plain words", () => {
    const rows = new Map(detailRows(throttledReset, site));
    expect(rows.get("Network rule")).toBe("rule 1 (the first in Settings → Network conditions): /videos/** rate=1000000 reset-after=5000");
    expect(rows.get("Network effect")).toBe("throttled, then reset");
    expect(rows.has("Proxy rule")).toBe(false);
    const effect = (effects: number, status = 200) =>
      new Map(detailRows(record({ status, network: { rule: 0, effects } }))).get("Network effect");
    expect(effect(1 | 2 | 64)).toBe("delayed, throttled, sliced into small writes");
    expect(effect(4 | 32, 503)).toBe("first byte held, answered 503 instead");
    expect(effect(16)).toBe("stalled");
    expect(effect(0)).toBe("none this time");
  });

  it("adds nothing to a plain record", () => {
    const labels = detailRows(plain, site).map(([label]) => label);
    for (const label of ["Proxy rule", "Upstream status", "Upstream first byte", "Network rule", "Network effect"]) {
      expect(labels).not.toContain(label);
    }
  });
});
