//! Pushes the site's status to the window whenever it changes, over `tauri::ipc::Channel`
//! (the Tauri docs' tool for streams), so the window never shows a stale state, whoever
//! made the change.

use std::sync::Mutex;

use tauri::ipc::Channel;

use crate::site::ServerStatus;

/// Subscribers kept at most; a reloaded window subscribes again, so old channels age out.
const MAX_SUBSCRIBERS: usize = 4;

/// The window's status subscriptions.
#[derive(Default)]
pub(crate) struct StatusFeed {
    subscribers: Mutex<Vec<Channel<ServerStatus>>>,
}

impl StatusFeed {
    /// Adds `channel` and sends it `current` at once.
    pub(crate) fn subscribe(&self, channel: Channel<ServerStatus>, current: ServerStatus) {
        let mut subscribers = self.lock();
        if channel.send(current).is_ok() {
            if subscribers.len() == MAX_SUBSCRIBERS {
                subscribers.remove(0);
            }
            subscribers.push(channel);
        }
    }

    /// Sends `status` to every subscriber, dropping those that are gone.
    pub(crate) fn publish(&self, status: &ServerStatus) {
        self.lock()
            .retain(|channel| channel.send(status.clone()).is_ok());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Channel<ServerStatus>>> {
        // A poisoned lock only means a send panicked; the list itself is still sound.
        self.subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
