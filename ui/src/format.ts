//! Formatting of numbers, sizes, durations and times for display. Pure: no DOM, no Tauri.
//! Counts use grouping commas ("1,234") whatever the system locale, so texts read the same
//! everywhere (and the end-to-end tests can parse them).
//! `visibleText` is the one way text from the network or the file system reaches the screen.

const GROUPED = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 1234 -> "1,234". */
export function formatCount(n: number): string {
  return GROUPED.format(n);
}

/** "1 request" / "3 requests". */
export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Keeps up to three significant digits: 1.23, 12.3, 123. */
function threeDigits(value: number): string {
  if (value < 10) {
    return (Math.round(value * 100) / 100).toString();
  }
  if (value < 100) {
    return (Math.round(value * 10) / 10).toString();
  }
  return Math.round(value).toString();
}

/** Bytes in decimal units as browsers' devtools show them: "512 B", "1.5 kB", "12.3 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return "—";
  }
  if (bytes < 1000) {
    return `${Math.round(bytes)} B`;
  }
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  // Round first, so 999,999 B reads "1 MB" and not "1000 kB".
  while (unit < units.length - 1 && Number(threeDigits(value)) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  return `${threeDigits(value)} ${units[unit]}`;
}

/** Microseconds as milliseconds ("0.42 ms", "12.3 ms", "250 ms"), seconds from 10 s; null: "—". */
export function formatDurationUs(us: number | null): string {
  if (us === null || !Number.isFinite(us) || us < 0) {
    return "—";
  }
  const ms = us / 1000;
  if (ms >= 10_000) {
    return `${threeDigits(ms / 1000)} s`;
  }
  return `${threeDigits(ms)} ms`;
}

/** An age in milliseconds: "850 ms", "42 s", "3 min 5 s", "2 h 4 min". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    return "—";
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const s = Math.floor(ms / 1000);
  if (s < 60) {
    return `${s} s`;
  }
  const min = Math.floor(s / 60);
  if (min < 60) {
    return `${min} min ${s % 60} s`;
  }
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

const pad = (n: number, width = 2) => n.toString().padStart(width, "0");

/** Local wall-clock time with milliseconds: "14:03:07.042". */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Milliseconds as the seconds a form shows: 5000 -> "5", 1500 -> "1.5". */
export function msToSecondsText(ms: number): string {
  return (Math.round(ms) / 1000).toString();
}

/**
 * The bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates
 * (U+2066–U+2069) and marks (U+200E, U+200F, U+061C). They are invisible and reorder the text
 * around them, so `evil\u202Etxt.exe` reads as "evilexe.txt" (CVE-2021-42574, "Trojan Source").
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/**
 * Text from the network or the file system (paths, targets, user agents, referers, folder and
 * site names) as it is shown: each bidirectional control is replaced by a visible `<U+202E>`,
 * so the text reads in the order of its characters. Everything else is unchanged.
 */
export function visibleText(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
}
