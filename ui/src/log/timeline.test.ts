import { describe, expect, it } from "vitest";
import type { Timing } from "../api/generated/config";
import { detailRows } from "./detail";
import { record } from "./fixtures";
import { barGeometry, timelinePhases, timelineWords } from "./timeline";

const timing = (over: Partial<Timing>): Timing => ({
  newConnection: true,
  sinceAcceptUs: 5_000,
  tlsUs: null,
  headUs: 1_000,
  resolveUs: 100,
  ...over,
});

const spans = (over: Partial<Timing>, ttfbUs: number | null = 400, totalUs = 900) =>
  timelinePhases(record({ timing: timing(over), ttfbUs, totalUs }))?.phases.map((p) => [p.key, p.startUs, p.durationUs]);

describe("the request's timeline (issue 19)", () => {
  it("splits a new HTTPS connection's first request into every phase, in order", () => {
    expect(spans({ tlsUs: 3_000 })).toEqual([
      ["tls", -5_000, 3_000],
      ["setup", -2_000, 1_000],
      ["head", -1_000, 1_000],
      ["resolve", 0, 100],
      ["respond", 100, 300],
      ["transfer", 400, 500],
    ]);
    const timeline = timelinePhases(record({ timing: timing({ tlsUs: 3_000 }), ttfbUs: 400, totalUs: 900 }))!;
    expect([timeline.startUs, timeline.endUs]).toEqual([-5_000, 900]);
    expect(timelineWords(timeline)).toEqual([
      "new connection",
      "TLS handshake 3 ms",
      "Connection setup 1 ms",
      "Waiting for the head 1 ms",
      "Resolving the file 0.1 ms",
      "To first byte 0.3 ms",
      "Transfer 0.5 ms",
    ]);
  });

  it("starts a reused connection's bar at its head, not at the accept long before", () => {
    const timeline = timelinePhases(record({ timing: timing({ newConnection: false, sinceAcceptUs: 60_000_000 }) }))!;
    expect(timeline.startUs).toBe(-1_000);
    expect(timeline.phases.map((p) => p.key)).toEqual(["head", "resolve", "respond", "transfer"]);
    expect(timelineWords(timeline)[0]).toBe("reused connection");
  });

  it("leaves out what is unknown: no lookup, no head of its own (HTTP/2), no record timing", () => {
    expect(spans({ resolveUs: null, headUs: null, newConnection: false })).toEqual([
      ["respond", 0, 400],
      ["transfer", 400, 500],
    ]);
    // A response with no body: the first byte is the last.
    expect(spans({ newConnection: false }, null, 300)).toEqual([
      ["head", -1_000, 1_000],
      ["resolve", 0, 100],
      ["respond", 100, 200],
      ["transfer", 300, 0],
    ]);
    expect(timelinePhases(record())).toBeNull();
  });

  it("places every phase on the bar, the shortest still visible", () => {
    const timeline = timelinePhases(record({ timing: timing({ tlsUs: 3_000 }), ttfbUs: 400, totalUs: 900 }))!;
    const bar = barGeometry(timeline);
    expect(bar[0]).toEqual({ key: "tls", left: 0, width: (3_000 / 5_900) * 100 });
    for (const segment of bar) {
      expect(segment.width).toBeGreaterThanOrEqual(0.5);
      expect(segment.left + segment.width).toBeLessThanOrEqual(100.0001);
    }
    const lefts = bar.map((s) => s.left);
    expect([...lefts].sort((a, b) => a - b)).toEqual(lefts);
  });

  it("is a row of the detail pane, after why", () => {
    const rows = detailRows(record({ timing: timing({ newConnection: false }) }));
    const row = rows.find(([label]) => label === "Timeline");
    expect(row?.[1]).toMatch(/^reused connection, Waiting for the head 1 ms, /);
    expect(detailRows(record()).some(([label]) => label === "Timeline")).toBe(false);
  });
});
