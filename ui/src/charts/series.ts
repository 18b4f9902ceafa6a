//! The graphs' data, without uPlot: the metrics timeline (what the feed sent, at most 16
//! minutes) and the fixed-length columnar window the charts draw (the last 15 minutes, one
//! slot per second, null where there is no sample or no request). Rust computes percentiles;
//! this only converts units. Pure: tested without a window.
import type { MetricsSample } from "../api/types";

/** Seconds on screen: 15 minutes. */
export const WINDOW_SECONDS = 900;
/** Samples kept: 16 minutes, as the feed sends on reset. */
export const KEEP_MS = 16 * 60 * 1000;

/** A vertical line where a new config generation took effect. */
export interface GenerationMarker {
  /** Unix seconds (uPlot's time scale). */
  atS: number;
  generation: number;
}

/** uPlot columns: x in unix seconds, then one array per series, all WINDOW_SECONDS long. */
export interface ChartWindow {
  x: number[];
  requestsPerSecond: Array<number | null>;
  ttfbP50Ms: Array<number | null>;
  ttfbP90Ms: Array<number | null>;
  ttfbP99Ms: Array<number | null>;
  totalP99Ms: Array<number | null>;
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

/** The last WINDOW_SECONDS seconds up to `endMs` (default: the latest sample) as columns. */
export function chartWindow(samples: readonly MetricsSample[], endMs?: number): ChartWindow {
  const end = endMs ?? (samples.length > 0 ? samples[samples.length - 1].atMs : 0);
  const endS = Math.floor(end / 1000);
  const firstS = endS - (WINDOW_SECONDS - 1);
  const empty = () => new Array<number | null>(WINDOW_SECONDS).fill(null);
  const out: ChartWindow = {
    x: Array.from({ length: WINDOW_SECONDS }, (_, i) => firstS + i),
    requestsPerSecond: empty(),
    ttfbP50Ms: empty(),
    ttfbP90Ms: empty(),
    ttfbP99Ms: empty(),
    totalP99Ms: empty(),
    markers: [],
  };
  for (const s of samples) {
    const slot = Math.floor(s.atMs / 1000) - firstS;
    if (slot >= 0 && slot < WINDOW_SECONDS) {
      out.requestsPerSecond[slot] = s.intervalMs > 0 ? (s.requests * 1000) / s.intervalMs : s.requests;
      if (s.ttfb.count > 0) {
        out.ttfbP50Ms[slot] = toMs(s.ttfb.p50Us);
        out.ttfbP90Ms[slot] = toMs(s.ttfb.p90Us);
        out.ttfbP99Ms[slot] = toMs(s.ttfb.p99Us);
      }
      if (s.total.count > 0) {
        out.totalP99Ms[slot] = toMs(s.total.p99Us);
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
