//! The Graphs tab: four uPlot charts (requests/s; TTFB p50/p90/p99; TTFB by phase, resolving
//! and to first byte, p50/p99; total p99), each created
//! once, and "No requests yet" above them until a request is counted. New data is handed to uPlot with `setData` at most once per animation frame, and not
//! at all while the tab is hidden (the latest window is drawn when it is shown); sizes follow
//! a ResizeObserver. Vertical dashed lines mark new config generations (a draw hook).
//!
//! CSP: uPlot builds its DOM with createElement and sets `element.style` properties (no
//! <style> tags, no innerHTML, no style attributes in markup), which `style-src 'self'` allows;
//! its stylesheet is bundled by Vite as a file.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { byId } from "../dom";
import { chartWindow, type ChartWindow, type GenerationMarker } from "./series";

const HEIGHT = 170;

/** Colours of the canvas parts that follow the theme (read from CSS variables). */
interface Theme {
  axis: string;
  grid: string;
  marker: string;
}

function readTheme(): Theme {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    axis: v("--chart-axis", "#57606a"),
    grid: v("--chart-grid", "rgba(128,128,128,0.2)"),
    marker: v("--chart-marker", "#bf8700"),
  };
}

const fixed = (digits: number) => (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(digits);

interface SeriesSpec {
  label: string;
  color: string;
  fill?: string;
}

interface ChartSpec {
  rootId: string;
  unit: string;
  format: (value: number) => string;
  series: SeriesSpec[];
  columns: (w: ChartWindow) => Array<Array<number | null>>;
}

const SPECS: ChartSpec[] = [
  {
    rootId: "chart-rps",
    unit: "req/s",
    format: fixed(1),
    series: [{ label: "Requests/s", color: "#2f81f7", fill: "rgba(47,129,247,0.14)" }],
    columns: (w) => [w.requestsPerSecond],
  },
  {
    rootId: "chart-ttfb",
    unit: "ms",
    format: fixed(2),
    series: [
      { label: "p50", color: "#1f9d55" },
      { label: "p90", color: "#d29922" },
      { label: "p99", color: "#e5534b" },
    ],
    columns: (w) => [w.ttfbP50Ms, w.ttfbP90Ms, w.ttfbP99Ms],
  },
  {
    // Each phase's own percentiles, computed by the core: they do not add up to TTFB's.
    rootId: "chart-phases",
    unit: "ms",
    format: fixed(2),
    series: [
      { label: "resolve p50", color: "#2f81f7" },
      { label: "resolve p99", color: "#79b8ff" },
      { label: "to first byte p50", color: "#1f9d55" },
      { label: "to first byte p99", color: "#85e89d" },
    ],
    columns: (w) => [w.resolveP50Ms, w.resolveP99Ms, w.respondP50Ms, w.respondP99Ms],
  },
  {
    rootId: "chart-total",
    unit: "ms",
    format: fixed(2),
    series: [{ label: "p99", color: "#a371f7", fill: "rgba(163,113,247,0.12)" }],
    columns: (w) => [w.totalP99Ms],
  },
];

export class Graphs {
  private readonly charts: Array<{ plot: uPlot; spec: ChartSpec; root: HTMLElement; width: number }> = [];
  private theme = readTheme();
  private markers: GenerationMarker[] = [];
  private pending: ChartWindow | null = null;
  /** "No requests yet", shown above the charts until a request is counted. */
  private readonly empty = byId("graphs-empty");
  private readonly panel = byId("panel-graphs");
  private resized = false;
  private frame = 0;
  private visible = false;
  private readonly observer: ResizeObserver;
  private readonly media = window.matchMedia("(prefers-color-scheme: dark)");
  private readonly onTheme = () => {
    this.theme = readTheme();
    this.charts.forEach((c) => c.plot.redraw(false, true));
  };

  constructor() {
    const empty = chartWindow([], Date.now());
    this.observer = new ResizeObserver(() => {
      this.resized = true;
      this.schedule();
    });
    for (const spec of SPECS) {
      const root = document.getElementById(spec.rootId);
      if (root === null) {
        throw new Error(`missing #${spec.rootId}`);
      }
      const width = Math.max(300, Math.floor(root.clientWidth) || 600);
      const plot = new uPlot(this.options(spec, width), [empty.x, ...spec.columns(empty)] as uPlot.AlignedData, root);
      this.charts.push({ plot, spec, root, width });
      this.observer.observe(root);
    }
    this.media.addEventListener("change", this.onTheme);
  }

  /** The latest window; drawn at the next frame while the tab is shown. */
  update(data: ChartWindow): void {
    this.empty.hidden = data.anyRequests;
    // The span drawn, in seconds, for the end-to-end test to read.
    this.panel.dataset.seconds = String(data.x.length);
    this.pending = data;
    this.schedule();
  }

  /** The Graphs tab was shown or hidden. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) {
      this.resized = true;
      this.schedule();
    }
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.observer.disconnect();
    this.media.removeEventListener("change", this.onTheme);
    this.charts.forEach((c) => c.plot.destroy());
    this.charts.length = 0;
  }

  private schedule(): void {
    if (this.frame === 0 && this.visible) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.resized) {
      this.resized = false;
      for (const chart of this.charts) {
        const width = Math.floor(chart.root.clientWidth);
        // A hidden tab measures 0: keep the last size rather than collapse the canvas.
        if (width > 0 && width !== chart.width) {
          chart.width = width;
          chart.plot.setSize({ width, height: HEIGHT });
        }
      }
    }
    const data = this.pending;
    if (data !== null) {
      this.pending = null;
      this.markers = data.markers;
      for (const { plot, spec } of this.charts) {
        plot.setData([data.x, ...spec.columns(data)] as uPlot.AlignedData);
      }
    }
  }

  private options(spec: ChartSpec, width: number): uPlot.Options {
    const theme = () => this.theme;
    const value = (_u: uPlot, v: number | null) => (v === null || v === undefined ? "—" : `${spec.format(v)} ${spec.unit}`);
    return {
      width,
      height: HEIGHT,
      cursor: { sync: { key: "wharf-metrics" }, drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, max !== null && max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        {
          stroke: () => theme().axis,
          grid: { stroke: () => theme().grid, width: 1 },
          ticks: { stroke: () => theme().grid, width: 1 },
        },
        {
          stroke: () => theme().axis,
          grid: { stroke: () => theme().grid, width: 1 },
          ticks: { stroke: () => theme().grid, width: 1 },
          size: 56,
          values: (_u, splits) => splits.map((s) => spec.format(s)),
        },
      ],
      series: [
        { label: "Time", value: (_u, v) => (v === null ? "—" : new Date(v * 1000).toLocaleTimeString()) },
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.fill,
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          value,
        })),
      ],
      hooks: { draw: [(u: uPlot) => this.drawMarkers(u)] },
    };
  }

  /** Dashed vertical lines with "gen N" where a new generation took effect. */
  private drawMarkers(u: uPlot): void {
    if (this.markers.length === 0) {
      return;
    }
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const ratio = uPlot.pxRatio || 1;
    ctx.save();
    ctx.strokeStyle = this.theme.marker;
    ctx.fillStyle = this.theme.marker;
    ctx.lineWidth = ratio;
    ctx.setLineDash([4 * ratio, 3 * ratio]);
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    const labels: Array<{ x: number; text: string }> = [];
    for (const marker of this.markers) {
      const x = Math.round(u.valToPos(marker.atS, "x", true)) + 0.5;
      if (x < left || x > left + width) {
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      // Markers closer than a label's width share one label, the newest generation's, so
      // applies in quick succession never print on top of each other.
      const text = `gen ${marker.generation}`;
      const last = labels[labels.length - 1];
      if (last && x - last.x < ctx.measureText(last.text).width + 6 * ratio) {
        labels[labels.length - 1] = { x: last.x, text };
      } else {
        labels.push({ x, text });
      }
    }
    for (const { x, text } of labels) {
      ctx.fillText(text, x + 3 * ratio, top + 2 * ratio);
    }
    ctx.restore();
  }
}
