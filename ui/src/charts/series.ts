//! The graphs' data, without uPlot: the metrics timeline (what the feed sent, at most 16
//! minutes) and the columnar window the charts draw: the data's own time span, from the oldest
//! sample to the latest, at least half a minute and at most the last 15 minutes, one slot per
//! second, null where there is no sample or no request. So a site started a minute ago fills
//! the chart instead of hugging its right edge. Rust computes percentiles; this only converts
//! units. Pure: tested without a window.
import type { MetricsSample } from "../api/types";

/** Seconds on screen at most: 15 minutes. */
export const WINDOW_SECONDS = 900;
/** Seconds on screen at least, so the first samples draw a line rather than a dot. */
export const MIN_SECONDS = 30;
/** Samples kept: 16 minutes, as the feed sends on reset. */
export const KEEP_MS = 16 * 60 * 1000;

/** A vertical line where a new config generation took effect. */
export interface GenerationMarker {
  /** Unix seconds (uPlot's time scale). */
  atS: number;
  generation: number;
}

/** uPlot columns: x in unix seconds, then one array per series, all as long as `x`. */
export interface ChartWindow {
  x: number[];
  /** Whether any sample counted a request (else the tab says "No requests yet"). */
  anyRequests: boolean;
  requestsPerSecond: Array<number | null>;
  ttfbP50Ms: Array<number | null>;
  ttfbP90Ms: Array<number | null>;
  ttfbP99Ms: Array<number | null>;
  totalP99Ms: Array<number | null>;
  /** The first byte's phases (issue 19): head to file resolved, and from there to the first byte. */
  resolveP50Ms: Array<number | null>;
  resolveP99Ms: Array<number | null>;
  respondP50Ms: Array<number | null>;
  respondP99Ms: Array<number | null>;
  markers: GenerationMarker[];
}

/** The samples of the watched site, oldest first. */
export class MetricsTimeline {
  private list: MetricsSample[] = [];

  get samples(): readonly MetricsSample[] {
    return this.list;
  }

  get latest(): MetricsSample | null {
    return this.list.length > 0 ? this.list[this.list.length - 1] : null;
  }

  clear(): void {
    this.list = [];
  }

  /** A `metrics` message: the whole timeline (`reset`) or new samples. */
  apply(samples: readonly MetricsSample[], reset: boolean): void {
    if (reset) {
      this.list = [];
    }
    for (const sample of samples) {
      const last = this.latest;
      if (last === null || sample.atMs > last.atMs) {
        this.list.push(sample);
      } else {
        // Out of order or repeated: keep one sample per instant, in order.
        const i = this.list.findIndex((s) => s.atMs >= sample.atMs);
        if (this.list[i].atMs === sample.atMs) {
          this.list[i] = sample;
        } else {
          this.list.splice(i, 0, sample);
        }
      }
    }
    const latest = this.latest;
    if (latest !== null) {
      const cutoff = latest.atMs - KEEP_MS;
      const firstKept = this.list.findIndex((s) => s.atMs >= cutoff);
      if (firstKept > 0) {
        this.list.splice(0, firstKept);
      }
    }
  }
}

const toMs = (us: number) => us / 1000;

/**
 * The seconds from the oldest sample to `endMs` (default: the latest sample), at least
 * MIN_SECONDS and at most WINDOW_SECONDS, as columns.
 */
export function chartWindow(samples: readonly MetricsSample[], endMs?: number): ChartWindow {
  const end = endMs ?? (samples.length > 0 ? samples[samples.length - 1].atMs : 0);
  const endS = Math.floor(end / 1000);
  const oldestS = samples.length > 0 ? Math.floor(samples[0].atMs / 1000) : endS;
  const seconds = Math.min(WINDOW_SECONDS, Math.max(MIN_SECONDS, endS - oldestS + 1));
  const firstS = endS - (seconds - 1);
  const empty = () => new Array<number | null>(seconds).fill(null);
  const out: ChartWindow = {
    x: Array.from({ length: seconds }, (_, i) => firstS + i),
    anyRequests: samples.some((s) => s.requests > 0),
    requestsPerSecond: empty(),
    ttfbP50Ms: empty(),
    ttfbP90Ms: empty(),
    ttfbP99Ms: empty(),
    totalP99Ms: empty(),
    resolveP50Ms: empty(),
    resolveP99Ms: empty(),
    respondP50Ms: empty(),
    respondP99Ms: empty(),
    markers: [],
  };
  for (const s of samples) {
    const slot = Math.floor(s.atMs / 1000) - firstS;
    if (slot >= 0 && slot < seconds) {
      out.requestsPerSecond[slot] = s.intervalMs > 0 ? (s.requests * 1000) / s.intervalMs : s.requests;
      if (s.ttfb.count > 0) {
        out.ttfbP50Ms[slot] = toMs(s.ttfb.p50Us);
        out.ttfbP90Ms[slot] = toMs(s.ttfb.p90Us);
        out.ttfbP99Ms[slot] = toMs(s.ttfb.p99Us);
      }
      if (s.total.count > 0) {
        out.totalP99Ms[slot] = toMs(s.total.p99Us);
      }
      // Absent from samples of a core from before the phases.
      if (s.resolve !== undefined && s.resolve.count > 0) {
        out.resolveP50Ms[slot] = toMs(s.resolve.p50Us);
        out.resolveP99Ms[slot] = toMs(s.resolve.p99Us);
      }
      if (s.respond !== undefined && s.respond.count > 0) {
        out.respondP50Ms[slot] = toMs(s.respond.p50Us);
        out.respondP99Ms[slot] = toMs(s.respond.p99Us);
      }
    }
    if (s.generationChanged) {
      const atS = (s.generationAppliedAtMs ?? s.atMs) / 1000;
      if (atS >= firstS && atS < endS + 1) {
        out.markers.push({ atS, generation: s.generation });
      }
    }
  }
  return out;
}
