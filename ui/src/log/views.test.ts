import { describe, expect, it } from "vitest";
import { admissionText } from "../connections/view";
import { detailRows } from "./detail";
import { exportResultText } from "./export";
import { record } from "./fixtures";
import { statusCell } from "./table";

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
