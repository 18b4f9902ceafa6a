//! The settings form's state, without the DOM: the applied settings (baseline), the user's
//! edits (draft), which fields differ (dirty), Apply/Discard, and inline errors. It only checks
//! what is obviously not a number; server-core decides what is valid and says why, and that
//! sentence lands next to the field it names (`CommandError.field`), on the custom header row
//! it names (`CommandError.index`, `member`).
import { errorField, errorItem, errorMessage, isCommandError, type LabelOf } from "../api/errors";
import type { CustomHeader, SiteSettings } from "../api/types";
import { msToSecondsText } from "../format";
import { SWITCH_NAMES, type SwitchName } from "./switches";

/** A form control: every `SiteSettings` field plus the two "automatic port" checkboxes. */
export type FieldName = keyof SiteSettings | "portAutomatic" | "httpsPortAutomatic";

/** A cell of a custom header row, as `CommandError.member` names it. */
export type HeaderMember = keyof CustomHeader;

/**
 * One custom header row as typed. `key` identifies the row for this form's life (the DOM row
 * and an error follow it when rows above are removed); it is never sent.
 */
export interface HeaderRow {
  readonly key: number;
  readonly path: string;
  readonly name: string;
  readonly value: string;
}

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
  maxConnections: string;
  cacheControl: string;
  /** One glob per line, as typed; blank lines are not sent. */
  reloadIgnore: string;
  /** One host name per line, as typed; blank lines are not sent. */
  allowedHosts: string;
  /** One origin per line, as typed; blank lines are not sent. */
  corsOrigins: string;
  /** Never mutated: every edit makes a new array. */
  customHeaders: readonly HeaderRow[];
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

export const HEADER_MEMBERS: readonly HeaderMember[] = ["path", "name", "value"];

const SECONDS_FIELDS = new Set<FieldName>(["headerReadTimeoutMs", "keepAliveIdleTimeoutMs"]);
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

function isHeaderMember(name: string | null): name is HeaderMember {
  return name !== null && (HEADER_MEMBERS as readonly string[]).includes(name);
}

let lastRowKey = 0;

function headerRow(header: CustomHeader): HeaderRow {
  lastRowKey += 1;
  return { key: lastRowKey, path: header.path, name: header.name, value: header.value };
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
    maxConnections: String(settings.maxConnections),
    cacheControl: settings.cacheControl,
    reloadIgnore: settings.reloadIgnore.join("\n"),
    allowedHosts: settings.allowedHosts.join("\n"),
    corsOrigins: settings.corsOrigins.join("\n"),
    customHeaders: settings.customHeaders.map(headerRow),
  };
}

/** The entries of a one-per-line list's text (globs, hosts, origins): trimmed, blank lines left out. */
export function ignoreLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

function isBlankRow(row: HeaderRow): boolean {
  return HEADER_MEMBERS.every((m) => row[m].trim() === "");
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
};

type FormValue = FormValues[keyof FormValues];

function sameRows(a: readonly HeaderRow[], b: readonly HeaderRow[], compare: (x: string, y: string) => boolean): boolean {
  return a.length === b.length && a.every((row, i) => HEADER_MEMBERS.every((m) => compare(row[m], b[i][m])));
}

/**
 * Whether two values of `field` mean the same thing: "5" and "5.0" seconds do, so do ignore
 * lists that differ only in blank lines and spaces, and header rows that differ only in spaces
 * around a cell. A row added or removed (even a blank one) is a change.
 */
function same(field: FieldName, a: FormValue, b: FormValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && sameRows(a, b, (x, y) => x.trim() === y.trim());
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

/** Whether two values are written exactly alike (row keys aside). */
function identical(a: FormValue, b: FormValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && sameRows(a, b, (x, y) => x === y);
  }
  return a === b;
}

export type PrepareResult =
  | { ok: true; settings: SiteSettings }
  | { ok: false; errors: Partial<Record<FieldName, string>> };

/** How `rebase` treated a change of the applied settings. */
export type RebaseResult = "unchanged" | "reset" | "merged";

/** The custom header row an error is about, and its cell when the error names one. */
export interface HeaderFault {
  key: number;
  member: HeaderMember | null;
}

export class SettingsDraft {
  private base: FormValues;
  private draft: FormValues;
  private readonly errorMap = new Map<FieldName, string>();
  private headerFault: HeaderFault | null = null;
  /** The row key of each custom header in the last settings prepared, by position sent. */
  private sentHeaderKeys: number[] = [];

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
    if (field === "customHeaders") {
      this.headerFault = null;
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

  /** Appends an empty custom header row and returns its key. */
  addHeader(): number {
    const row = headerRow({ path: "", name: "", value: "" });
    this.set("customHeaders", [...this.draft.customHeaders, row]);
    return row.key;
  }

  /** Removes custom header row `key` (no-op if it is gone). */
  removeHeader(key: number): void {
    if (this.draft.customHeaders.some((row) => row.key === key)) {
      this.set(
        "customHeaders",
        this.draft.customHeaders.filter((row) => row.key !== key),
      );
    }
  }

  /** Sets one cell of custom header row `key` (no-op if it is gone). */
  editHeader(key: number, member: HeaderMember, text: string): void {
    if (this.draft.customHeaders.some((row) => row.key === key && row[member] !== text)) {
      this.set(
        "customHeaders",
        this.draft.customHeaders.map((row) => (row.key === key ? { ...row, [member]: text } : row)),
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

  /** The custom header row (and cell) the shown `customHeaders` error is about, if known. */
  headerError(): HeaderFault | null {
    return this.headerFault;
  }

  private clearErrors(): void {
    this.errorMap.clear();
    this.headerFault = null;
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
    if (FIELDS.every((f) => identical(next[f], this.base[f]))) {
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
   * An automatic port is sent as 0 (so is the HTTPS port); blank ignore lines and blank header
   * rows are left out.
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
    const rows = this.draft.customHeaders.filter((row) => !isBlankRow(row));
    const settings: SiteSettings = {
      ...switchesOf(this.draft),
      port: this.draft.portAutomatic ? 0 : number("port"),
      httpsPort: this.draft.httpsPortAutomatic ? 0 : number("httpsPort"),
      headerReadTimeoutMs: number("headerReadTimeoutMs"),
      keepAliveIdleTimeoutMs: number("keepAliveIdleTimeoutMs"),
      maxConnections: number("maxConnections"),
      cacheControl: this.draft.cacheControl.trim(),
      customHeaders: rows.map((row) => ({ path: row.path.trim(), name: row.name.trim(), value: row.value.trim() })),
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
    this.sentHeaderKeys = rows.map((row) => row.key);
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
   * (`inline: true`); any other error is for the banner. An error about a custom header also
   * marks its row (see `headerError`), found from the index in the list last prepared. An
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
      if (field === "customHeaders") {
        const item = errorItem(error);
        const key = item === null ? undefined : this.sentHeaderKeys[item.index];
        const present = this.draft.customHeaders.some((row) => row.key === key);
        this.headerFault =
          item !== null && key !== undefined && present
            ? { key, member: isHeaderMember(item.member) ? item.member : null }
            : null;
      }
      return { inline: true, field, message };
    }
    return { inline: false, field: null, message };
  }
}
