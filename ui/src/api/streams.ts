//! The only module that opens Tauri Channels: the app state and the selected site's feed,
//! pushed from Rust. A feed that was replaced is muted, so a late message from the previous
//! site's channel never reaches the new site's views.
import { Channel } from "@tauri-apps/api/core";
import { subscribeState, watchSite } from "./commands";
import type { AppState, SiteFeed, SiteId } from "./types";

/** Calls `onState` with the app state now and after every change. */
export async function subscribeAppState(onState: (state: AppState) => void): Promise<void> {
  const channel = new Channel<AppState>(onState);
  await subscribeState(channel);
}

/** A watch on one site's feed; `stop()` mutes it (Rust replaces it at the next watch). */
export interface FeedWatch {
  stop(): void;
}

/** Watches `id`'s metrics, log and connections; replaces the previous watch on the Rust side. */
export async function watchSiteFeed(id: SiteId, onFeed: (message: SiteFeed) => void): Promise<FeedWatch> {
  let live = true;
  const channel = new Channel<SiteFeed>((message) => {
    if (live) {
      onFeed(message);
    }
  });
  const watch = {
    stop() {
      live = false;
    },
  };
  try {
    await watchSite(id, channel);
  } catch (error) {
    watch.stop();
    throw error;
  }
  return watch;
}
