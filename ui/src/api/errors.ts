//! Turns whatever a command rejected with into a `CommandError` the window can branch on.
//! Pure: no Tauri, no DOM. Commands reject with `{ kind, message, field? }`; anything else
//! (a plugin's string, a thrown Error) is wrapped so callers handle a single shape.
import type { CommandError } from "./types";

const KINDS: ReadonlySet<string> = new Set<CommandError["kind"]>([
  "invalidConfig",
  "portInUse",
  "startFailed",
  "notRunning",
  "noSuchSite",
  "lanOff",
  "exportFailed",
  "openFailed",
  "checkFailed",
]);

export function isCommandError(value: unknown): value is CommandError {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return (
    typeof v.kind === "string" &&
    KINDS.has(v.kind) &&
    typeof v.message === "string" &&
    (v.field === undefined || v.field === null || typeof v.field === "string")
  );
}

/**
 * The names users see for the settings that have no control in the settings form (a form
 * field's name is its control's label, which the form passes as `labelOf`).
 */
const PLACES: Readonly<Record<string, string>> = { root: "Folder", certDir: "Certificate folder", host: "Address" };

/** Names a field as the user sees it: `labelOf`'s answer, else `PLACES`, else the field itself. */
export type LabelOf = (field: string) => string | null;

/**
 * A sentence for the banner or beside a field, whatever was thrown. A refused setting is named
 * by its label, and a list item by its row: "Max connections: 0 is out of range; use 1 to
 * 1,000,000", "Custom headers, row 2, Header name: …".
 */
export function errorMessage(error: unknown, labelOf: LabelOf = () => null, memberLabel: LabelOf = () => null): string {
  if (isCommandError(error)) {
    if (typeof error.reason === "string" && typeof error.field === "string" && error.field !== "") {
      const item = errorItem(error);
      let place = labelOf(error.field) ?? PLACES[error.field] ?? error.field;
      if (item !== null) {
        place += `, row ${item.index + 1}`;
        if (item.member !== null) {
          place += `, ${memberLabel(item.member) ?? item.member}`;
        }
      }
      return `${place}: ${error.reason}`;
    }
    return error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}

/** The settings field a command error names, if any (for an inline error). */
export function errorField(error: unknown): string | null {
  return isCommandError(error) && typeof error.field === "string" && error.field !== "" ? error.field : null;
}

/** The list item a command error names (`index`, and `member` when the item has members). */
export function errorItem(error: unknown): { index: number; member: string | null } | null {
  if (!isCommandError(error) || typeof error.index !== "number" || !Number.isInteger(error.index) || error.index < 0) {
    return null;
  }
  return { index: error.index, member: typeof error.member === "string" ? error.member : null };
}
