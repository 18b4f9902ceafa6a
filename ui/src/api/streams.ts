// The only module that opens Tauri Channels: live data pushed from Rust to the window.
import { Channel } from "@tauri-apps/api/core";
import { subscribeStatus, type ServerStatus } from "./commands";

/** Calls `onStatus` with the current status now and after every change. */
export async function watchStatus(onStatus: (status: ServerStatus) => void): Promise<void> {
  const channel = new Channel<ServerStatus>();
  channel.onmessage = onStatus;
  await subscribeStatus(channel);
}
