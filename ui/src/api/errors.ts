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

/** A sentence for the banner, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (isCommandError(error)) {
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
