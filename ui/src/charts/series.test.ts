import { describe, expect, it } from "vitest";
import type { MetricsSample } from "../api/types";
import { chartWindow, KEEP_MS, MetricsTimeline, MIN_SECONDS, WINDOW_SECONDS } from "./series";

const pct = (p50Us: number, p90Us: number, p99Us: number, count: number) => ({ p50Us, p90Us, p99Us, maxUs: p99Us, count });

function sample(atMs: number, over: Partial<MetricsSample> = {}): MetricsSample {
  return {
    atMs,
    intervalMs: 1000,
    requests: 10,
    bytes: 0,
    status: { informational: 0, success: 10, redirection: 0, clientError: 0, serverError: 0, noResponse: 0, other: 0 },
    activeConnections: 1,
    errors: 0,
    aborted: 0,
    ttfb: pct(1000, 2000, 3000, 10),
    total: pct(1500, 2500, 4000, 10),
    resolve: pct(100, 150, 200, 10),
    respond: pct(900, 1800, 2800, 10),
    generation: 1,
    generationChanged: false,
    generationAppliedAtMs: null,
    ...over,
  };
}

const T = 1_700_000_000_000; // a whole second

describe("chartWindow", () => {
  it("spans the data's own time, at least half a minute and at most 15 minutes, ending at the latest sample", () => {
    const minute = chartWindow([sample(T - 59_000), sample(T)]);
    expect(minute.x).toHaveLength(60);
    expect(minute.requestsPerSecond).toHaveLength(60);
    expect(minute.x[0]).toBe(T / 1000 - 59);
    expect(minute.x[59]).toBe(T / 1000);
    expect(minute.requestsPerSecond[0]).toBe(10); // the oldest sample opens the chart
    expect(chartWindow([sample(T)]).x).toHaveLength(MIN_SECONDS);
    expect(chartWindow([]).x).toHaveLength(MIN_SECONDS);
    const long = chartWindow([sample(T - 20 * 60_000), sample(T - 10 * 60_000), sample(T)]);
    expect(long.x).toHaveLength(WINDOW_SECONDS);
    expect(long.x[WINDOW_SECONDS - 1]).toBe(T / 1000);
    expect(long.x[0]).toBe(T / 1000 - (WINDOW_SECONDS - 1));
  });

  it("says whether any request was counted", () => {
    const idle = { requests: 0, ttfb: pct(0, 0, 0, 0), total: pct(0, 0, 0, 0) };
    expect(chartWindow([]).anyRequests).toBe(false);
    expect(chartWindow([sample(T - 1000, idle), sample(T, idle)]).anyRequests).toBe(false);
    expect(chartWindow([sample(T - 1000, idle), sample(T)]).anyRequests).toBe(true);
  });

  it("puts each sample in its second and converts units", () => {
    const w = chartWindow([sample(T - 2000, { requests: 5, intervalMs: 500 }), sample(T)]);
    const last = w.x.length - 1;
    expect(w.requestsPerSecond[last - 2]).toBe(10); // 5 requests in half a second
    expect(w.requestsPerSecond[last - 1]).toBeNull(); // no sample: a gap
    expect(w.requestsPerSecond[last]).toBe(10);
    expect(w.ttfbP50Ms[last]).toBe(1);
    expect(w.ttfbP90Ms[last]).toBe(2);
    expect(w.ttfbP99Ms[last]).toBe(3);
    expect(w.totalP99Ms[last]).toBe(4);
  });

  it("draws the first byte's phases from their own percentiles (issue 19)", () => {
    const w = chartWindow([sample(T - 1000, { resolve: pct(0, 0, 0, 0) }), sample(T)]);
    const last = w.x.length - 1;
    expect([w.resolveP50Ms[last], w.resolveP99Ms[last]]).toEqual([0.1, 0.2]);
    expect([w.respondP50Ms[last], w.respondP99Ms[last]]).toEqual([0.9, 2.8]);
    // A second in which no request resolved a file: no resolve point, the other phase drawn.
    expect(w.resolveP50Ms[last - 1]).toBeNull();
    expect(w.respondP50Ms[last - 1]).toBe(0.9);
  });

  it("draws no latency for a second without requests", () => {
    const w = chartWindow([sample(T, { requests: 0, ttfb: pct(0, 0, 0, 0), total: pct(0, 0, 0, 0) })]);
    const last = w.x.length - 1;
    expect(w.requestsPerSecond[last]).toBe(0);
    expect(w.ttfbP99Ms[last]).toBeNull();
    expect(w.totalP99Ms[last]).toBeNull();
  });

  it("leaves out samples older than the window", () => {
    const w = chartWindow([sample(T - WINDOW_SECONDS * 1000), sample(T)]);
    expect(w.requestsPerSecond.filter((v) => v !== null)).toHaveLength(1);
  });

  it("marks a generation change where it was applied, else at the sample", () => {
    const w = chartWindow([
      sample(T - 10_000, { generation: 2, generationChanged: true, generationAppliedAtMs: T - 10_400 }),
      sample(T - 5_000, { generation: 3, generationChanged: true }),
      sample(T, { generation: 3 }),
    ]);
    expect(w.markers).toEqual([
      { atS: (T - 10_400) / 1000, generation: 2 },
      { atS: (T - 5_000) / 1000, generation: 3 },
    ]);
  });
});

describe("MetricsTimeline", () => {
  it("replaces everything on reset and appends otherwise", () => {
    const t = new MetricsTimeline();
    t.apply([sample(T), sample(T + 1000)], true);
    t.apply([sample(T + 2000)], false);
    expect(t.samples.map((s) => s.atMs)).toEqual([T, T + 1000, T + 2000]);
    t.apply([sample(T + 5000)], true);
    expect(t.samples.map((s) => s.atMs)).toEqual([T + 5000]);
  });

  it("keeps order and one sample per instant when messages overlap", () => {
    const t = new MetricsTimeline();
    t.apply([sample(T), sample(T + 2000)], true);
    t.apply([sample(T + 1000), sample(T + 2000, { requests: 99 })], false);
    expect(t.samples.map((s) => s.atMs)).toEqual([T, T + 1000, T + 2000]);
    expect(t.latest?.requests).toBe(99);
  });

  it("forgets samples older than 16 minutes", () => {
    const t = new MetricsTimeline();
    t.apply([sample(T - KEEP_MS - 1000), sample(T - KEEP_MS), sample(T)], true);
    expect(t.samples.map((s) => s.atMs)).toEqual([T - KEEP_MS, T]);
  });
});
