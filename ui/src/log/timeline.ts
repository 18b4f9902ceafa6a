//! The request's timeline (issue 19) as phases and as a waterfall bar: connection setup and
//! TLS on a new connection, waiting for the head, resolving the file, to the first byte, and
//! the transfer. The core records offsets from the moment the head was complete (`Timing`);
//! `timelinePhases` turns them into spans, pure and tested without a window. The bar is built
//! with createElement and sized through `element.style` (CSSOM), which the strict CSP allows
//! (no style attributes in markup).
import type { Timing } from "../api/generated/config";
import type { AccessRecord } from "../api/types";
import { el } from "../dom";
import { formatDurationUs } from "../format";

/** A phase's key, also its bar segment's class (`wf-<key>`). */
export type PhaseKey = "setup" | "tls" | "head" | "resolve" | "respond" | "transfer";

export const PHASE_LABELS: Record<PhaseKey, string> = {
  setup: "Connection setup",
  tls: "TLS handshake",
  head: "Waiting for the head",
  resolve: "Resolving the file",
  respond: "To first byte",
  transfer: "Transfer",
};

/** One phase: from `startUs` for `durationUs`, both relative to the head being complete. */
export interface Phase {
  key: PhaseKey;
  label: string;
  startUs: number;
  durationUs: number;
}

/** A record's timeline: its phases in order, and the span they cover. */
export interface Timeline {
  newConnection: boolean;
  phases: Phase[];
  /** Where the bar starts (the accept on a new connection, else the head's first byte). */
  startUs: number;
  /** Where it ends: the last byte. */
  endUs: number;
}

/**
 * The phases of `record`, or null when it has no timeline (a head that never finished, or a
 * record from before issue 19). A reused connection's time before its head is not its own
 * (the connection idled), so its bar starts at the head's first byte.
 */
export function timelinePhases(record: AccessRecord): Timeline | null {
  const timing: Timing | undefined = record.timing;
  if (timing === undefined) {
    return null;
  }
  const phases: Phase[] = [];
  const add = (key: PhaseKey, fromUs: number, toUs: number) => {
    phases.push({ key, label: PHASE_LABELS[key], startUs: fromUs, durationUs: Math.max(0, toUs - fromUs) });
  };
  const headBegan = timing.headUs === null ? 0 : -timing.headUs;
  const accepted = -timing.sinceAcceptUs;
  let startUs = headBegan;
  if (timing.newConnection) {
    startUs = accepted;
    let ready = accepted;
    if (timing.tlsUs !== null) {
      ready = Math.min(headBegan, accepted + timing.tlsUs);
      add("tls", accepted, ready);
    }
    if (headBegan > ready) {
      add("setup", ready, headBegan);
    }
  }
  if (timing.headUs !== null) {
    add("head", headBegan, 0);
  }
  const firstByte = record.ttfbUs ?? record.totalUs;
  let resolved = 0;
  if (timing.resolveUs !== null) {
    resolved = Math.min(timing.resolveUs, firstByte);
    add("resolve", 0, resolved);
  }
  add("respond", resolved, firstByte);
  add("transfer", firstByte, Math.max(firstByte, record.totalUs));
  return { newConnection: timing.newConnection, phases, startUs, endUs: Math.max(firstByte, record.totalUs) };
}

/** The timeline in words: "new connection", then "TLS handshake 2.10 ms" for each phase. */
export function timelineWords(timeline: Timeline): string[] {
  return [
    timeline.newConnection ? "new connection" : "reused connection",
    ...timeline.phases.map((phase) => `${phase.label} ${formatDurationUs(phase.durationUs)}`),
  ];
}

/**
 * Each phase's place on the bar, in percent of its width: `left` and `width`. A phase too
 * short to see still gets a sliver, so every phase named in words is on the bar.
 */
export function barGeometry(timeline: Timeline): Array<{ key: PhaseKey; left: number; width: number }> {
  const span = Math.max(1, timeline.endUs - timeline.startUs);
  return timeline.phases.map((phase) => {
    const left = ((phase.startUs - timeline.startUs) / span) * 100;
    const width = Math.max(0.5, (phase.durationUs / span) * 100);
    return { key: phase.key, left: Math.min(left, 99.5), width: Math.min(width, 100 - Math.min(left, 99.5)) };
  });
}

/** The waterfall: a bar of coloured segments and a legend with each phase's duration. */
export function waterfall(timeline: Timeline): HTMLElement {
  const root = el("div", "waterfall");
  const bar = el("div", "wf-bar");
  bar.setAttribute("role", "img");
  bar.setAttribute("aria-label", timelineWords(timeline).join(", "));
  for (const { key, left, width } of barGeometry(timeline)) {
    const segment = el("span", `wf-seg wf-${key}`);
    segment.style.left = `${left}%`;
    segment.style.width = `${width}%`;
    bar.append(segment);
  }
  const legend = el("ul", "wf-legend");
  legend.append(el("li", "wf-connection", timeline.newConnection ? "new connection" : "reused connection"));
  for (const phase of timeline.phases) {
    const item = el("li");
    item.append(el("span", `wf-swatch wf-${phase.key}`), el("span", undefined, `${phase.label} ${formatDurationUs(phase.durationUs)}`));
    legend.append(item);
  }
  root.append(bar, legend);
  return root;
}
