//! The live log's filters, with the same rules as `ExportFilter` (types.ts) so the table and
//! the CSV agree: status is a comma list of codes and classes ("2xx,304"; "0" is no response),
//! method is exact, and the path text matches the target case-insensitively, as received or
//! percent-decoded. Two words in the path box pick rows by what answered them instead
//! (`parsePath`): `served:proxy` and `network:` (or `network:reset`); the CSV export cannot
//! apply those and says so. Pure: no DOM.
import type { AccessRecord, ExportFilter } from "../api/types";
import { effectNames } from "./marks";

/** Methods with a choice of their own in the method filter; "other" is every other method. */
export const LISTED_METHODS: readonly string[] = ["GET", "HEAD", "OPTIONS"];

export interface LogFilter {
  /** "all" (or "") for any, else a comma list such as "4xx" or "2xx,304". */
  status: string;
  /** "all" (or "") for any, an exact method, or "other" (not one of LISTED_METHODS). */
  method: string;
  /** Case-insensitive text the target must contain, as received or percent-decoded; and the words of `parsePath`. */
  path: string;
}

export const NO_FILTER: LogFilter = { status: "all", method: "all", path: "" };

const isAny = (value: string) => value.trim() === "" || value.trim().toLowerCase() === "all";

export function isEmptyFilter(filter: LogFilter): boolean {
  return isAny(filter.status) && isAny(filter.method) && filter.path.trim() === "";
}

/** A predicate for a status list such as "2xx,304,0"; unknown items match nothing. */
export function statusMatcher(spec: string): (status: number) => boolean {
  if (isAny(spec)) {
    return () => true;
  }
  const codes = new Set<number>();
  const classes = new Set<number>();
  for (const raw of spec.split(",")) {
    const item = raw.trim().toLowerCase();
    if (/^[1-5]xx$/.test(item)) {
      classes.add(Number(item[0]));
    } else if (/^\d+$/.test(item)) {
      codes.add(Number(item));
    }
  }
  return (status) => codes.has(status) || (status >= 100 && status < 600 && classes.has(Math.floor(status / 100)));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

const hexValue = (byte: number): number => {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 65 && byte <= 70) return byte - 55;
  if (byte >= 97 && byte <= 102) return byte - 87;
  return -1;
};

/**
 * Percent-decodes a target leniently: valid `%XX` become bytes, anything else stays, and the
 * bytes are read as UTF-8 with replacement characters (a stranger's path may be any bytes).
 */
export function percentDecode(text: string): string {
  if (!text.includes("%")) {
    return text;
  }
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    if (bytes[i] === 37 && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = bytes[i];
  }
  return decoder.decode(out.subarray(0, n));
}

/** The path box's text, with the words that pick rows by what answered them taken out. */
export interface PathQuery {
  /** The path text left, trimmed. */
  text: string;
  /** `served:proxy,blocked`: the `served` kinds kept; null for any. */
  served: Set<string> | null;
  /** `network:` keeps the rows a network rule shaped or failed; `network:reset,stall` those with one of these effects (`data-network`'s names). Null for any row. */
  network: Set<string> | null;
  /** The words as typed, for the export's "not applied". */
  words: string[];
}

const QUERY_WORD = /(^|\s+)(served|network):(\S*)/gi;

/**
 * Splits the path box into path text and the words `served:KIND[,KIND]` and
 * `network:[EFFECT[,EFFECT]]` (case-insensitive, anywhere in the box). `served:` alone
 * narrows nothing yet (it is being typed); an unknown kind or effect matches no row.
 */
export function parsePath(path: string): PathQuery {
  const query: PathQuery = { text: "", served: null, network: null, words: [] };
  const rest = path.replace(QUERY_WORD, (_word, _space: string, key: string, value: string) => {
    query.words.push(`${key}:${value}`);
    const items = value
      .toLowerCase()
      .split(",")
      .filter((item) => item !== "");
    if (key.toLowerCase() === "served") {
      if (items.length > 0) {
        query.served = new Set([...(query.served ?? []), ...items]);
      }
    } else {
      query.network = new Set([...(query.network ?? []), ...items]);
    }
    return "";
  });
  query.text = rest.trim();
  return query;
}

/** Whether a network rule shaped or failed `record` with one of `effects` (any, when empty). */
function shapedBy(record: AccessRecord, effects: Set<string>): boolean {
  const note = record.network;
  if (note === undefined || note.effects === 0) {
    return false;
  }
  return effects.size === 0 || effectNames(note).some((name) => effects.has(name));
}

/** A predicate for `filter`, or null when it lets everything through. */
export function compileFilter(filter: LogFilter): ((record: AccessRecord) => boolean) | null {
  if (isEmptyFilter(filter)) {
    return null;
  }
  const status = isAny(filter.status) ? null : statusMatcher(filter.status);
  const method = isAny(filter.method) ? null : filter.method.trim();
  const query = parsePath(filter.path);
  const needle = query.text.toLowerCase();
  return (record) => {
    if (status !== null && !status(record.status)) {
      return false;
    }
    if (method !== null) {
      if (method === "other" ? LISTED_METHODS.includes(record.method) : record.method !== method) {
        return false;
      }
    }
    if (query.served !== null && !query.served.has(record.served)) {
      return false;
    }
    if (query.network !== null && !shapedBy(record, query.network)) {
      return false;
    }
    if (needle !== "") {
      const target = record.target.toLowerCase();
      if (!target.includes(needle) && !percentDecode(record.target).toLowerCase().includes(needle)) {
        return false;
      }
    }
    return true;
  };
}

/**
 * The export filter for the table's filters. "other" methods cannot be said in an
 * `ExportFilter` (its method is exact), nor `served:` and `network:` words: they are left out
 * and named in `unsupported`.
 */
export function toExportFilter(filter: LogFilter): { filter: ExportFilter; unsupported: string[] } {
  const out: ExportFilter = {};
  const unsupported: string[] = [];
  if (!isAny(filter.status)) {
    out.status = filter.status.trim();
  }
  if (!isAny(filter.method)) {
    if (filter.method.trim() === "other") {
      unsupported.push("method “other”");
    } else {
      out.method = filter.method.trim();
    }
  }
  const query = parsePath(filter.path);
  if (query.text !== "") {
    out.pathContains = query.text;
  }
  unsupported.push(...query.words.map((word) => `“${word}”`));
  return { filter: out, unsupported };
}
