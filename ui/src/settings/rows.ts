//! The settings that the form edits as tables of rows: custom headers, proxy rules and network
//! rules. For each, the row as typed (text stays text, so a half-typed value is kept), how a
//! rule becomes a row and a row a rule, which rows are blank (never sent), and which cell an
//! error of server-core's names (`CommandError.member`). Pure: no DOM, no Tauri.
import type { NetworkRuleDraft, ProxyRuleDraft } from "../api/generated/config";
import type { CustomHeader, SiteSettings } from "../api/types";

/** One custom header row as typed. */
export interface HeaderRow {
  /** Identifies the row for the form's life (the DOM row and an error follow it); never sent. */
  readonly key: number;
  readonly path: string;
  readonly name: string;
  readonly value: string;
}

/** What a proxy rule does to the matched part of the path. */
export type RewriteMode = "keep" | "strip" | "replace";

/** One proxy rule row as typed. */
export interface ProxyRow {
  readonly key: number;
  /** A prefix (`/api`) or a `^regex`. */
  readonly path: string;
  readonly target: string;
  /** Keep the path (no `rewrite`), strip the prefix (`""`), or replace it with `rewriteTo`. */
  readonly rewrite: RewriteMode;
  readonly rewriteTo: string;
  readonly changeOrigin: boolean;
}

/** One network rule row as typed: the glob, the preset, and every other key as `KEY=VALUE` words. */
export interface NetworkRow {
  readonly key: number;
  readonly path: string;
  /** A preset's name (`slow-3g`), or "" for none. */
  readonly preset: string;
  /** The other keys as the CLI writes them: `latency=300 status=503 p=0.1`. */
  readonly options: string;
}

/** Each table setting and its row. */
export interface TableRows {
  customHeaders: HeaderRow;
  proxy: ProxyRow;
  network: NetworkRow;
}

export type TableName = keyof TableRows;

/** A cell of a row of `T`. */
export type RowMember<T extends TableName> = Exclude<keyof TableRows[T], "key"> & string;

/** Any table's row, as the generic code handles it. */
export type AnyRow = TableRows[TableName];

/** The tables, in the form's order. */
export const TABLES: readonly TableName[] = ["proxy", "network", "customHeaders"];

/** Each table's cells, in the order of its columns. */
export const ROW_MEMBERS: { readonly [T in TableName]: readonly RowMember<T>[] } = {
  customHeaders: ["path", "name", "value"],
  proxy: ["path", "target", "rewrite", "rewriteTo", "changeOrigin"],
  network: ["path", "preset", "options"],
};

export function isTableName(name: string): name is TableName {
  return (TABLES as readonly string[]).includes(name);
}

/** The keys of a network rule typed in its options cell (all but the glob and the preset). */
type OptionKey = Exclude<keyof NetworkRuleDraft, "path" | "preset">;

/** How each option's value is read: a whole number up to a maximum, a probability, or a word. */
const OPTION_KINDS: Readonly<Record<OptionKey, number | "probability" | "word">> = {
  rate: 0xffff_ffff,
  per: "word",
  latency: 0xffff_ffff,
  jitter: 0xffff_ffff,
  status: 0xffff,
  "reset-after": 0xffff_ffff,
  "stall-after": 0xffff_ffff,
  ttfb: 0xffff_ffff,
  slice: 0xffff_ffff,
  p: "probability",
};

/** The option keys, in the CLI's order. */
export const OPTION_KEYS = Object.keys(OPTION_KINDS) as OptionKey[];

let lastRowKey = 0;

function nextKey(): number {
  lastRowKey += 1;
  return lastRowKey;
}

/** A row of `table` with every cell empty (a proxy rule changes origin by default). */
export function emptyRow<T extends TableName>(table: T): TableRows[T] {
  const rows: { [K in TableName]: () => TableRows[K] } = {
    customHeaders: () => headerRow({ path: "", name: "", value: "" }),
    proxy: () => proxyRow({ path: "", target: "" }),
    network: () => networkRow({ path: "" }),
  };
  return rows[table]();
}

function headerRow(header: CustomHeader): HeaderRow {
  return { key: nextKey(), path: header.path, name: header.name, value: header.value };
}

function proxyRow(rule: ProxyRuleDraft): ProxyRow {
  const rewrite = rule.rewrite ?? null;
  return {
    key: nextKey(),
    path: rule.path,
    target: rule.target,
    rewrite: rewrite === null ? "keep" : rewrite === "" ? "strip" : "replace",
    rewriteTo: rewrite ?? "",
    changeOrigin: rule.changeOrigin ?? true,
  };
}

/** A rule's keys but the glob and the preset, as `KEY=VALUE` words in the CLI's order. */
function optionWords(rule: NetworkRuleDraft): string[] {
  return OPTION_KEYS.flatMap((k) => {
    const value = rule[k];
    return value === undefined || value === null ? [] : [`${k}=${value}`];
  });
}

function networkRow(rule: NetworkRuleDraft): NetworkRow {
  return { key: nextKey(), path: rule.path, preset: rule.preset ?? "", options: optionWords(rule).join(" ") };
}

/** A network rule as the CLI's `--network` writes it: `/videos/** preset=slow-3g`. */
export function networkRuleText(rule: NetworkRuleDraft): string {
  const preset = rule.preset ? [`preset=${rule.preset}`] : [];
  return [rule.path, ...preset, ...optionWords(rule)].join(" ");
}

/** The rows showing the table settings of `settings`, each with a new key. */
export function rowsOf(settings: SiteSettings): { [T in TableName]: readonly TableRows[T][] } {
  return {
    customHeaders: settings.customHeaders.map(headerRow),
    proxy: settings.proxy.map(proxyRow),
    network: settings.network.map(networkRow),
  };
}

/** Whether a row has nothing typed in it (its checkboxes and selects left as they come). */
export function isBlankRow(table: TableName, row: AnyRow): boolean {
  const typed: readonly string[] = ROW_MEMBERS[table].filter((m) => m !== "rewrite" && m !== "preset");
  return (
    typed.every((m) => {
      const cell = (row as unknown as Record<string, unknown>)[m];
      return typeof cell !== "string" || cell.trim() === "";
    }) &&
    !("rewrite" in row && row.rewrite !== "keep") &&
    !("preset" in row && row.preset !== "")
  );
}

/** Whether two rows' cells match by `compare` (text) and equality (the rest); keys aside. */
export function sameRows(
  table: TableName,
  a: readonly AnyRow[],
  b: readonly AnyRow[],
  compare: (x: string, y: string) => boolean,
): boolean {
  const members: readonly string[] = ROW_MEMBERS[table];
  const cell = (row: AnyRow, m: string) => (row as unknown as Record<string, string | boolean>)[m];
  return (
    a.length === b.length &&
    a.every((row, i) =>
      members.every((m) => {
        const x = cell(row, m);
        const y = cell(b[i], m);
        return typeof x === "string" && typeof y === "string" ? compare(x, y) : x === y;
      }),
    )
  );
}

/** A row the form cannot send, and why; `member` is the cell at fault. */
export interface RowProblem {
  member: string;
  reason: string;
}

function proxyRule(row: ProxyRow): ProxyRuleDraft {
  const rule: ProxyRuleDraft = { path: row.path.trim(), target: row.target.trim() };
  if (row.rewrite !== "keep") {
    rule.rewrite = row.rewrite === "strip" ? "" : row.rewriteTo.trim();
  }
  rule.changeOrigin = row.changeOrigin;
  return rule;
}

/**
 * The network rule a row says, or the first word of its options that is not `KEY=VALUE` with
 * a known key and a number where one is needed. What the numbers mean is server-core's to judge.
 */
export function networkRule(row: NetworkRow): NetworkRuleDraft | RowProblem {
  const rule: NetworkRuleDraft = { path: row.path.trim() };
  if (row.preset !== "") {
    rule.preset = row.preset;
  }
  const record = rule as Record<string, unknown>;
  for (const word of row.options.split(/\s+/).filter((w) => w !== "")) {
    const eq = word.indexOf("=");
    const key = word.slice(0, Math.max(eq, 0));
    const value = word.slice(eq + 1);
    const kind = (OPTION_KINDS as Readonly<Record<string, number | "probability" | "word">>)[key];
    if (eq < 0 || kind === undefined) {
      const reason =
        key === "preset"
          ? "choose the preset in its own column"
          : `"${word}" is not KEY=VALUE with a key of: ${OPTION_KEYS.join(", ")}`;
      return { member: "options", reason };
    }
    if (kind === "word") {
      record[key] = value;
    } else if (kind === "probability") {
      // Any number JavaScript writes (`1e-7` too); the core says whether it is in 0..1.
      if (value === "" || !Number.isFinite(Number(value))) {
        return { member: "options", reason: `${key}=${value} is not a number from 0 to 1` };
      }
      record[key] = Number(value);
    } else {
      if (!/^\d+$/.test(value) || Number(value) > kind) {
        return { member: "options", reason: `${key}=${value} is not a whole number from 0 to ${kind}` };
      }
      record[key] = Number(value);
    }
  }
  return rule;
}

/** The rule a row of `table` says (blank rows are the caller's to leave out). */
export function ruleOf(
  table: TableName,
  row: AnyRow,
): CustomHeader | ProxyRuleDraft | NetworkRuleDraft | RowProblem {
  switch (table) {
    case "customHeaders": {
      const h = row as HeaderRow;
      return { path: h.path.trim(), name: h.name.trim(), value: h.value.trim() };
    }
    case "proxy":
      return proxyRule(row as ProxyRow);
    case "network":
      return networkRule(row as NetworkRow);
  }
}

export function isRowProblem(value: object): value is RowProblem {
  return "reason" in value;
}

/**
 * The cell an error about a rule's `member` (as server-core names it) is shown on: a proxy
 * rule's rewrite is typed in `rewriteTo`, a network rule's keys other than the glob and the
 * preset in `options`. Null: the error is about the whole row.
 */
export function cellOf(table: TableName, member: string | null): string | null {
  if (member === null) {
    return null;
  }
  if (table === "proxy" && member === "rewrite") {
    return "rewriteTo";
  }
  if (table === "network" && (OPTION_KEYS as readonly string[]).includes(member)) {
    return "options";
  }
  return (ROW_MEMBERS[table] as readonly string[]).includes(member) ? member : null;
}
