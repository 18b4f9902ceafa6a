//! The settings form's state, without the DOM: the applied settings (baseline), the user's
//! edits (draft), which fields differ (dirty), Apply/Discard, and inline errors. It only checks
//! what is obviously not a number; server-core decides what is valid and says why, and that
//! sentence lands next to the field it names (`CommandError.field`).
import { errorField, errorMessage, isCommandError } from "../api/errors";
import type { SiteSettings } from "../api/types";
import { msToSecondsText } from "../format";

/** A form control: every `SiteSettings` field plus the "automatic port" checkbox. */
export type FieldName = keyof SiteSettings | "portAutomatic";

/** What the controls hold. Numbers stay text so a half-typed value is kept as typed. */
export interface FormValues {
  port: string;
  portAutomatic: boolean;
  keepAlive: boolean;
  /** Seconds, as typed (the field is named after the setting it sends, in ms). */
  headerReadTimeoutMs: string;
  /** Seconds, as typed. */
  keepAliveIdleTimeoutMs: string;
  maxConnections: string;
  directoryListing: boolean;
  showDotfiles: boolean;
  followSymlinks: boolean;
  cacheControl: string;
  compression: boolean;
}

export const FIELDS: readonly FieldName[] = [
  "port",
  "portAutomatic",
  "keepAlive",
  "headerReadTimeoutMs",
  "keepAliveIdleTimeoutMs",
  "maxConnections",
  "directoryListing",
  "showDotfiles",
  "followSymlinks",
  "cacheControl",
  "compression",
];

const SECONDS_FIELDS = new Set<FieldName>(["headerReadTimeoutMs", "keepAliveIdleTimeoutMs"]);
const INTEGER_FIELDS = new Set<FieldName>(["port", "maxConnections"]);

export function isFieldName(name: string): name is FieldName {
  return (FIELDS as readonly string[]).includes(name);
}

/** The form values showing `settings` (the port in use is shown even when automatic). */
export function formValuesOf(settings: SiteSettings, portAutomatic: boolean): FormValues {
  return {
    port: settings.port === 0 ? "" : String(settings.port),
    portAutomatic,
    keepAlive: settings.keepAlive,
    headerReadTimeoutMs: msToSecondsText(settings.headerReadTimeoutMs),
    keepAliveIdleTimeoutMs: msToSecondsText(settings.keepAliveIdleTimeoutMs),
    maxConnections: String(settings.maxConnections),
    directoryListing: settings.directoryListing,
    showDotfiles: settings.showDotfiles,
    followSymlinks: settings.followSymlinks,
    cacheControl: settings.cacheControl,
    compression: settings.compression,
  };
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
  maxConnections: "Enter a whole number of connections.",
  headerReadTimeoutMs: "Enter a number of seconds, e.g. 10 or 0.5.",
  keepAliveIdleTimeoutMs: "Enter a number of seconds, e.g. 5 or 0.5.",
};

/** Whether two values of `field` mean the same thing ("5" and "5.0" seconds do). */
function same(field: FieldName, a: string | boolean, b: string | boolean): boolean {
  if (typeof a === "string" && typeof b === "string" && (INTEGER_FIELDS.has(field) || SECONDS_FIELDS.has(field))) {
    const x = parseNumber(field, a);
    const y = parseNumber(field, b);
    if (x !== null && y !== null) {
      return x === y;
    }
    return a.trim() === b.trim();
  }
  return a === b;
}

export type PrepareResult =
  | { ok: true; settings: SiteSettings }
  | { ok: false; errors: Partial<Record<FieldName, string>> };

/** How `rebase` treated a change of the applied settings. */
export type RebaseResult = "unchanged" | "reset" | "merged";

export class SettingsDraft {
  private base: FormValues;
  private draft: FormValues;
  private readonly errorMap = new Map<FieldName, string>();

  constructor(settings: SiteSettings, portAutomatic: boolean) {
    this.base = formValuesOf(settings, portAutomatic);
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

  /** Records an edit; an error shown for that field no longer applies to the new value. */
  set<K extends FieldName>(field: K, value: FormValues[K]): void {
    this.draft = { ...this.draft, [field]: value };
    this.errorMap.delete(field);
  }

  /** An edit from a control: a checkbox's boolean or a text field's string (others ignored). */
  edit(field: FieldName, value: string | boolean): void {
    if (typeof value === typeof this.draft[field]) {
      this.set(field, value);
    }
  }

  /** Whether `field` (or, without one, any field) differs from the applied settings. */
  isDirty(field?: FieldName): boolean {
    if (field === undefined) {
      return FIELDS.some((f) => this.isDirty(f));
    }
    if (field === "port" && this.draft.portAutomatic) {
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

  /** Drops every edit and error: the form shows the applied settings again. */
  discard(): void {
    this.draft = { ...this.base };
    this.errorMap.clear();
  }

  /**
   * The applied settings changed elsewhere (a push, another command). A clean form simply
   * shows them. A dirty form keeps every field the user edited and takes the new value of
   * every field they did not touch, so Apply never reverts someone else's change.
   */
  rebase(settings: SiteSettings, portAutomatic: boolean): RebaseResult {
    const next = formValuesOf(settings, portAutomatic);
    if (FIELDS.every((f) => next[f] === this.base[f])) {
      return "unchanged";
    }
    if (!this.isDirty()) {
      this.base = next;
      this.draft = { ...next };
      this.errorMap.clear();
      return "reset";
    }
    const merged: FormValues = { ...this.draft };
    for (const f of FIELDS) {
      const untouched = f === "port" ? this.draft.port === this.base.port : same(f, this.draft[f], this.base[f]);
      if (untouched) {
        (merged as unknown as Record<FieldName, string | boolean>)[f] = next[f];
      }
    }
    this.base = next;
    this.draft = merged;
    return "merged";
  }

  /**
   * The settings to send, or the fields that are not even numbers (their errors are set).
   * An automatic port is sent as 0.
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
    const settings: SiteSettings = {
      port: this.draft.portAutomatic ? 0 : number("port"),
      keepAlive: this.draft.keepAlive,
      headerReadTimeoutMs: number("headerReadTimeoutMs"),
      keepAliveIdleTimeoutMs: number("keepAliveIdleTimeoutMs"),
      maxConnections: number("maxConnections"),
      directoryListing: this.draft.directoryListing,
      showDotfiles: this.draft.showDotfiles,
      followSymlinks: this.draft.followSymlinks,
      cacheControl: this.draft.cacheControl.trim(),
      compression: this.draft.compression,
    };
    const failed = Object.keys(errors) as FieldName[];
    for (const f of failed) {
      this.errorMap.set(f, errors[f] as string);
    }
    return failed.length > 0 ? { ok: false, errors } : { ok: true, settings };
  }

  /** Apply succeeded: what was applied is the new baseline and the form is clean. */
  applied(settings: SiteSettings, portAutomatic: boolean): void {
    this.base = formValuesOf(settings, portAutomatic);
    this.draft = { ...this.base };
    this.errorMap.clear();
  }

  /**
   * Apply failed: the draft stays as typed. An error about a form field is shown next to it
   * (`inline: true`); any other error is for the banner.
   */
  failed(error: unknown): { inline: boolean; field: FieldName | null; message: string } {
    const message = errorMessage(error);
    let field = errorField(error);
    if (field === null && isCommandError(error) && error.kind === "portInUse") {
      field = "port";
    }
    if (field !== null && isFieldName(field)) {
      this.errorMap.set(field, message);
      return { inline: true, field, message };
    }
    return { inline: false, field: null, message };
  }
}
