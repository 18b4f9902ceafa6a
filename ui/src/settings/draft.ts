//! The settings form's state, without the DOM: the applied settings (baseline), the user's
//! edits (draft), which fields differ (dirty), Apply/Discard, and inline errors. It only checks
//! what is obviously not a number; server-core decides what is valid and says why, and that
//! sentence lands next to the field it names (`CommandError.field`), on the row of a table
//! (custom headers, proxy rules, network rules: `rows.ts`) it names (`CommandError.index`,
//! `member`).
import { errorField, errorItem, errorMessage, isCommandError, type LabelOf } from "../api/errors";
import type { SiteSettings } from "../api/types";
import { msToSecondsText } from "../format";
import {
  cellOf,
  emptyRow,
  isBlankRow,
  isRowProblem,
  isTableName,
  rowsOf,
  ruleOf,
  sameRows,
  TABLES,
  type AnyRow,
  type RowMember,
  type TableName,
  type TableRows,
} from "./rows";
import { SWITCH_NAMES, type SwitchName } from "./switches";

/** A form control: every `SiteSettings` field plus the two "automatic port" checkboxes. */
export type FieldName = keyof SiteSettings | "portAutomatic" | "httpsPortAutomatic";

/**
 * What the controls hold. Numbers stay text so a half-typed value is kept as typed. Every
 * switch of `SiteSettings` (generated from server-core's settings table) is a boolean here
 * without a line of its own.
 */
export type FormValues = { [K in SwitchName]: boolean } & {
  port: string;
  portAutomatic: boolean;
  httpsPort: string;
  httpsPortAutomatic: boolean;
  /** Seconds, as typed (the field is named after the setting it sends, in ms). */
  headerReadTimeoutMs: string;
  /** Seconds, as typed. */
  keepAliveIdleTimeoutMs: string;
  /** Seconds, as typed. */
  proxyConnectTimeoutMs: string;
  /** Seconds, as typed. */
  proxyFirstByteTimeoutMs: string;
  maxConnections: string;
  cacheControl: string;
  /** One glob per line, as typed; blank lines are not sent. */
  reloadIgnore: string;
  /** One host name per line, as typed; blank lines are not sent. */
  allowedHosts: string;
  /** One origin per line, as typed; blank lines are not sent. */
  corsOrigins: string;
} & {
  /** The tables' rows (`rows.ts`). Never mutated: every edit makes a new array. */
  readonly [T in TableName]: readonly TableRows[T][];
};

/**
 * The fields written in index.html, in the form's order. A setting added to server-core's table
 * is a type error below until it is listed here, or, for a switch, in `SWITCHES` (switches.ts).
 */
const HTML_FIELDS = [
  "port",
  "portAutomatic",
  "headerReadTimeoutMs",
  "keepAliveIdleTimeoutMs",
  "maxConnections",
  "httpsPort",
  "httpsPortAutomatic",
  "cacheControl",
  "reloadIgnore",
  "proxy",
  "proxyConnectTimeoutMs",
  "proxyFirstByteTimeoutMs",
  "network",
  "allowedHosts",
  "corsOrigins",
  "customHeaders",
] as const satisfies readonly Exclude<FieldName, SwitchName>[];

/** Every field: those of index.html in the form's order, then the switches in `SWITCHES`' order. */
export const FIELDS: readonly FieldName[] = [...HTML_FIELDS, ...SWITCH_NAMES];

/** `never` exactly when `FIELDS` lists every field: otherwise the missing ones, and an error. */
export type UnlistedFields = EveryListed<Exclude<FieldName, (typeof HTML_FIELDS)[number] | SwitchName>>;
type EveryListed<Missing extends never> = Missing;

/** The switches' values in `source` (settings or form values), by `SWITCHES`. */
function switchesOf(source: Readonly<Record<string, unknown>>): Record<SwitchName, boolean> {
  const entries = SWITCH_NAMES.filter((f) => typeof source[f] === "boolean").map((f) => [f, source[f]]);
  return Object.fromEntries(entries) as Record<SwitchName, boolean>;
}

const SECONDS_FIELDS = new Set<FieldName>([
  "headerReadTimeoutMs",
  "keepAliveIdleTimeoutMs",
  "proxyConnectTimeoutMs",
  "proxyFirstByteTimeoutMs",
]);
const INTEGER_FIELDS = new Set<FieldName>(["port", "httpsPort", "maxConnections"]);
/** Lists typed one entry per line. */
const LINE_FIELDS = new Set<FieldName>(["reloadIgnore", "allowedHosts", "corsOrigins"]);
/** A port field and the checkbox that makes it automatic. */
const PORT_AUTOMATIC: Partial<Record<FieldName, "portAutomatic" | "httpsPortAutomatic">> = {
  port: "portAutomatic",
  httpsPort: "httpsPortAutomatic",
};
/**
 * Errors about a setting the form has no control for, shown beside the control that causes
 * it: `certDir` (HTTPS without a certificate folder) next to the HTTPS toggle.
 */
const SHOWN_AT: Partial<Record<string, FieldName>> = { certDir: "https" };

export function isFieldName(name: string): name is FieldName {
  return (FIELDS as readonly string[]).includes(name);
}

/**
 * The form values showing `settings` (the ports in use are shown even when automatic).
 * `httpsPortAutomatic` defaults to true, the default of a site that never set one.
 */
export function formValuesOf(settings: SiteSettings, portAutomatic: boolean, httpsPortAutomatic = true): FormValues {
  return {
    ...switchesOf(settings),
    port: settings.port === 0 ? "" : String(settings.port),
    portAutomatic,
    httpsPort: settings.httpsPort === 0 ? "" : String(settings.httpsPort),
    httpsPortAutomatic,
    headerReadTimeoutMs: msToSecondsText(settings.headerReadTimeoutMs),
    keepAliveIdleTimeoutMs: msToSecondsText(settings.keepAliveIdleTimeoutMs),
    proxyConnectTimeoutMs: msToSecondsText(settings.proxyConnectTimeoutMs),
    proxyFirstByteTimeoutMs: msToSecondsText(settings.proxyFirstByteTimeoutMs),
    maxConnections: String(settings.maxConnections),
    cacheControl: settings.cacheControl,
    reloadIgnore: settings.reloadIgnore.join("\n"),
    allowedHosts: settings.allowedHosts.join("\n"),
    corsOrigins: settings.corsOrigins.join("\n"),
    ...rowsOf(settings),
  };
}

/** The entries of a one-per-line list's text (globs, hosts, origins): trimmed, blank lines left out. */
export function ignoreLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** Text -> number for a numeric field, or null when it is not a number at all. */
function parseNumber(field: FieldName, text: string): number | null {
  const t = text.trim();
  if (INTEGER_FIELDS.has(field)) {
    return /^\d+$/.test(t) ? Number(t) : null;
  }
  if (SECONDS_FIELDS.has(field)) {
    return /^(\d+(\.\d*)?|\.\d+)$/.test(t) ? Math.round(Number(t) * 1000) : null;
  }
  return null;
}

const NOT_A_NUMBER: Partial<Record<FieldName, string>> = {
  port: "Enter a port number, e.g. 8080, or tick Automatic.",
  httpsPort: "Enter a port number, e.g. 8443, or tick Automatic.",
  maxConnections: "Enter a whole number of connections.",
  headerReadTimeoutMs: "Enter a number of seconds, e.g. 10 or 0.5.",
  keepAliveIdleTimeoutMs: "Enter a number of seconds, e.g. 5 or 0.5.",
  proxyConnectTimeoutMs: "Enter a number of seconds, e.g. 5 or 0.5.",
  proxyFirstByteTimeoutMs: "Enter a number of seconds, e.g. 30 or 0.5.",
};

type FormValue = FormValues[keyof FormValues];

/**
 * Whether two values of `field` mean the same thing: "5" and "5.0" seconds do, so do ignore
 * lists that differ only in blank lines and spaces, and table rows that differ only in spaces
 * around a cell. A row added or removed (even a blank one) is a change.
 */
function same(field: FieldName, a: FormValue, b: FormValue): boolean {
  if (isTableName(field)) {
    return sameRows(field, a as readonly AnyRow[], b as readonly AnyRow[], (x, y) => x.trim() === y.trim());
  }
  if (typeof a === "string" && typeof b === "string") {
    if (LINE_FIELDS.has(field)) {
      return ignoreLines(a).join("\n") === ignoreLines(b).join("\n");
    }
    if (INTEGER_FIELDS.has(field) || SECONDS_FIELDS.has(field)) {
      const x = parseNumber(field, a);
      const y = parseNumber(field, b);
      if (x !== null && y !== null) {
        return x === y;
      }
      return a.trim() === b.trim();
    }
  }
  return a === b;
}

/** Whether two values of `field` are written exactly alike (row keys aside). */
function identical(field: FieldName, a: FormValue, b: FormValue): boolean {
  if (isTableName(field)) {
    return sameRows(field, a as readonly AnyRow[], b as readonly AnyRow[], (x, y) => x === y);
  }
  return a === b;
}

/**
 * The site's applied settings with switch `name` set to `on`, as Apply would send them
 * (automatic ports as 0): for a one-click change that leaves the form's unapplied edits alone.
 */
export function settingsWithSwitch(
  settings: SiteSettings,
  automatic: { portAutomatic: boolean; httpsPortAutomatic: boolean },
  name: SwitchName,
  on: boolean,
): SiteSettings {
  const draft = new SettingsDraft(settings, automatic.portAutomatic, automatic.httpsPortAutomatic);
  draft.set(name, on);
  const prepared = draft.prepare();
  if (!prepared.ok) {
    // Applied settings are numbers and rules the core took: they always prepare.
    throw new Error(`the applied settings do not prepare: ${Object.keys(prepared.errors).join(", ")}`);
  }
  return prepared.settings;
}

export type PrepareResult =
  | { ok: true; settings: SiteSettings }
  | { ok: false; errors: Partial<Record<FieldName, string>> };

/** How `rebase` treated a change of the applied settings. */
export type RebaseResult = "unchanged" | "reset" | "merged";

/** The table row an error is about, and its cell when the error names one. */
export interface RowFault {
  key: number;
  member: string | null;
}

type TableRecord<V> = { [T in TableName]: V };

function perTable<V>(make: () => V): TableRecord<V> {
  return Object.fromEntries(TABLES.map((t) => [t, make()])) as TableRecord<V>;
}

export class SettingsDraft {
  private base: FormValues;
  private draft: FormValues;
  private readonly errorMap = new Map<FieldName, string>();
  private rowFaults: TableRecord<RowFault | null> = perTable(() => null);
  /** The row key of each rule in the last settings prepared, by table and position sent. */
  private sentKeys: TableRecord<number[]> = perTable(() => []);

  constructor(settings: SiteSettings, portAutomatic: boolean, httpsPortAutomatic = true) {
    this.base = formValuesOf(settings, portAutomatic, httpsPortAutomatic);
    this.draft = { ...this.base };
  }

  /** The applied values the draft is compared with. */
  get baseline(): Readonly<FormValues> {
    return this.base;
  }

  /** What the form shows. */
  get values(): Readonly<FormValues> {
    return this.draft;
  }

  /**
   * Records an edit; an error shown for that field no longer applies to the new value.
   * Turning clean URLs off turns "drop .html" off too: server-core refuses one without the other.
   */
  set<K extends FieldName>(field: K, value: FormValues[K]): void {
    this.draft = { ...this.draft, [field]: value };
    this.errorMap.delete(field);
    if (isTableName(field)) {
      this.rowFaults[field] = null;
    }
    if (field === "cleanUrls" && value === false && this.draft.dropHtmlExtension) {
      this.set("dropHtmlExtension", false);
    }
  }

  /** An edit from a control: a checkbox's boolean or a text field's string (others ignored). */
  edit(field: FieldName, value: string | boolean): void {
    if (typeof value === typeof this.draft[field]) {
      (this.set as (f: FieldName, v: string | boolean) => void)(field, value);
    }
  }

  private setRows(table: TableName, rows: readonly AnyRow[]): void {
    (this.set as (f: TableName, v: readonly AnyRow[]) => void)(table, rows);
  }

  /** Appends an empty row to `table` and returns its key. */
  addRow(table: TableName): number {
    const row = emptyRow(table);
    this.setRows(table, [...this.draft[table], row]);
    return row.key;
  }

  /** Removes row `key` of `table` (no-op if it is gone). */
  removeRow(table: TableName, key: number): void {
    const rows: readonly AnyRow[] = this.draft[table];
    if (rows.some((row) => row.key === key)) {
      this.setRows(
        table,
        rows.filter((row) => row.key !== key),
      );
    }
  }

  /**
   * Sets one cell of row `key` of `table` (no-op if the row is gone, or the value is not of
   * the cell's type: a checkbox's boolean, a text field's or a select's string).
   */
  editRow<T extends TableName>(table: T, key: number, member: RowMember<T>, value: string | boolean): void {
    const rows: readonly AnyRow[] = this.draft[table];
    const cell = (row: AnyRow) => (row as unknown as Record<string, unknown>)[member];
    if (rows.some((row) => row.key === key && typeof cell(row) === typeof value && cell(row) !== value)) {
      this.setRows(
        table,
        rows.map((row) => (row.key === key ? { ...row, [member]: value } : row)),
      );
    }
  }

  /** Whether `field` (or, without one, any field) differs from the applied settings. */
  isDirty(field?: FieldName): boolean {
    if (field === undefined) {
      return FIELDS.some((f) => this.isDirty(f));
    }
    const automatic = PORT_AUTOMATIC[field];
    if (automatic !== undefined && this.draft[automatic]) {
      // An automatic port is whatever port is in use: only the checkbox can differ.
      return false;
    }
    return !same(field, this.draft[field], this.base[field]);
  }

  dirtyFields(): FieldName[] {
    return FIELDS.filter((f) => this.isDirty(f));
  }

  error(field: FieldName): string | null {
    return this.errorMap.get(field) ?? null;
  }

  errors(): ReadonlyMap<FieldName, string> {
    return this.errorMap;
  }

  /** The row (and cell) of `table` the shown error of that table is about, if known. */
  rowError(table: TableName): RowFault | null {
    return this.rowFaults[table];
  }

  private clearErrors(): void {
    this.errorMap.clear();
    this.rowFaults = perTable(() => null);
  }

  /** Drops every edit and error: the form shows the applied settings again. */
  discard(): void {
    this.draft = { ...this.base };
    this.clearErrors();
  }

  /**
   * The applied settings changed elsewhere (a push, another command). A clean form simply
   * shows them. A dirty form keeps every field the user edited and takes the new value of
   * every field they did not touch, so Apply never reverts someone else's change.
   */
  rebase(settings: SiteSettings, portAutomatic: boolean, httpsPortAutomatic = true): RebaseResult {
    const next = formValuesOf(settings, portAutomatic, httpsPortAutomatic);
    if (FIELDS.every((f) => identical(f, next[f], this.base[f]))) {
      return "unchanged";
    }
    if (!this.isDirty()) {
      this.base = next;
      this.draft = { ...next };
      this.clearErrors();
      return "reset";
    }
    const merged: FormValues = { ...this.draft };
    for (const f of FIELDS) {
      const untouched =
        f === "port" || f === "httpsPort" ? this.draft[f] === this.base[f] : same(f, this.draft[f], this.base[f]);
      if (untouched) {
        (merged as unknown as Record<FieldName, FormValue>)[f] = next[f];
      }
    }
    if (!merged.cleanUrls) {
      merged.dropHtmlExtension = false;
    }
    this.base = next;
    this.draft = merged;
    return "merged";
  }

  /**
   * The settings to send, or the fields that are not even numbers (their errors are set).
   * An automatic port is sent as 0 (so is the HTTPS port); blank ignore lines and blank table
   * rows are left out. A network rule whose options are not `KEY=VALUE` words marks its row.
   */
  prepare(): PrepareResult {
    const errors: Partial<Record<FieldName, string>> = {};
    const number = (field: FieldName): number => {
      const parsed = parseNumber(field, this.draft[field] as string);
      if (parsed === null) {
        errors[field] = NOT_A_NUMBER[field] ?? "Enter a number.";
        return 0;
      }
      return parsed;
    };
    const sent = perTable<AnyRow[]>(() => []);
    const rules = perTable<unknown[]>(() => []);
    for (const table of TABLES) {
      (this.draft[table] as readonly AnyRow[]).forEach((row, index) => {
        if (isBlankRow(table, row)) {
          return;
        }
        const rule = ruleOf(table, row);
        if (isRowProblem(rule)) {
          if (errors[table] === undefined) {
            errors[table] = `Row ${index + 1}: ${rule.reason}`;
            this.rowFaults[table] = { key: row.key, member: rule.member };
          }
          return;
        }
        sent[table].push(row);
        rules[table].push(rule);
      });
    }
    const settings: SiteSettings = {
      ...switchesOf(this.draft),
      port: this.draft.portAutomatic ? 0 : number("port"),
      httpsPort: this.draft.httpsPortAutomatic ? 0 : number("httpsPort"),
      headerReadTimeoutMs: number("headerReadTimeoutMs"),
      keepAliveIdleTimeoutMs: number("keepAliveIdleTimeoutMs"),
      proxyConnectTimeoutMs: number("proxyConnectTimeoutMs"),
      proxyFirstByteTimeoutMs: number("proxyFirstByteTimeoutMs"),
      maxConnections: number("maxConnections"),
      cacheControl: this.draft.cacheControl.trim(),
      ...(rules as { [T in TableName]: SiteSettings[T] }),
      reloadIgnore: ignoreLines(this.draft.reloadIgnore),
      allowedHosts: ignoreLines(this.draft.allowedHosts),
      corsOrigins: ignoreLines(this.draft.corsOrigins),
    };
    const failed = Object.keys(errors) as FieldName[];
    for (const f of failed) {
      this.errorMap.set(f, errors[f] as string);
    }
    if (failed.length > 0) {
      return { ok: false, errors };
    }
    this.sentKeys = perTable(() => []);
    for (const table of TABLES) {
      this.sentKeys[table] = sent[table].map((row) => row.key);
    }
    return { ok: true, settings };
  }

  /** Apply succeeded: what was applied is the new baseline and the form is clean. */
  applied(settings: SiteSettings, portAutomatic: boolean, httpsPortAutomatic = true): void {
    this.base = formValuesOf(settings, portAutomatic, httpsPortAutomatic);
    this.draft = { ...this.base };
    this.clearErrors();
  }

  /**
   * Apply failed: the draft stays as typed. An error about a form field is shown next to it
   * (`inline: true`); any other error is for the banner. An error about a table's rule also
   * marks its row and cell (see `rowError`), found from the index in the list last prepared. An
   * error about `certDir`, which has no control, is shown beside the HTTPS toggle. The message
   * names the field, and a list item's member, as `labelOf` and `memberLabel` say the form shows them.
   */
  failed(
    error: unknown,
    labelOf?: LabelOf,
    memberLabel?: LabelOf,
  ): { inline: boolean; field: FieldName | null; message: string } {
    const message = errorMessage(error, labelOf, memberLabel);
    let field = errorField(error);
    if (field === null && isCommandError(error) && error.kind === "portInUse") {
      field = "port";
    }
    if (field !== null) {
      field = SHOWN_AT[field] ?? field;
    }
    if (field !== null && isFieldName(field)) {
      this.errorMap.set(field, message);
      if (isTableName(field)) {
        const item = errorItem(error);
        const key = item === null ? undefined : this.sentKeys[field][item.index];
        const present = (this.draft[field] as readonly AnyRow[]).some((row) => row.key === key);
        this.rowFaults[field] =
          item !== null && key !== undefined && present ? { key, member: cellOf(field, item.member) } : null;
      }
      return { inline: true, field, message };
    }
    return { inline: false, field: null, message };
  }
}
