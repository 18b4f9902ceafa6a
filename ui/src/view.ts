// Pure mapping from server state to what the window shows. No DOM, no Tauri: unit-tested.
import { isCommandError, type ServerStatus } from "./api/commands";

export interface SiteView {
  pill: string;
  pillTone: "ok" | "off" | "busy";
  url: string;
  root: string;
  showWelcomeBadge: boolean;
  toggleLabel: "Start" | "Stop";
  canOpen: boolean;
}

export function siteView(status: ServerStatus): SiteView {
  return {
    pill: status.running ? "Running" : "Stopped",
    pillTone: status.running ? "ok" : "off",
    url: status.url ?? "not serving",
    root: status.root,
    showWelcomeBadge: status.isWelcome,
    toggleLabel: status.running ? "Stop" : "Start",
    canOpen: status.running && status.url !== null,
  };
}

/** A sentence for the error banner, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (isCommandError(error)) {
    return error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
