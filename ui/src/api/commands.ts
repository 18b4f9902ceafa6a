// The only module that talks to Tauri: typed wrappers, one per Rust command, same names in
// camelCase. Components import these and never call `invoke` themselves.
import { invoke, type Channel } from "@tauri-apps/api/core";
import { open } from "@tauri-apps/plugin-dialog";

/** Mirrors `site::ServerStatus` in src-tauri. */
export interface ServerStatus {
  running: boolean;
  url: string | null;
  root: string;
  isWelcome: boolean;
  generation: number;
}

/** Mirrors `commands::CommandError`: branch on `kind`, show `message`. */
export interface CommandError {
  kind: "portInUse" | "startFailed" | "invalidConfig" | "notRunning" | "openFailed";
  message: string;
}

export function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as CommandError).kind === "string" &&
    typeof (value as CommandError).message === "string"
  );
}

export const startServer = () => invoke<ServerStatus>("start_server");
export const stopServer = () => invoke<ServerStatus>("stop_server");
export const setRoot = (path: string) => invoke<ServerStatus>("set_root", { path });
export const openInBrowser = () => invoke<void>("open_in_browser");
export const subscribeStatus = (channel: Channel<ServerStatus>) => invoke<void>("subscribe_status", { channel });

/** Native folder picker; resolves to null when the user cancels. */
export async function pickFolder(): Promise<string | null> {
  const chosen = await open({ directory: true, multiple: false, title: "Choose the folder to serve" });
  return typeof chosen === "string" ? chosen : null;
}
