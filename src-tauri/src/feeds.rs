//! Live data for the window, over `tauri::ipc::Channel` (the Tauri docs' tool for streams;
//! events are not meant for throughput): the app state, and the watched site's feed. Both
//! are pushed from the core; nothing here polls the state or batches the log a second time.
//!
//! - [`StateFeed`] sends the [`AppState`] when a window subscribes, after every command that
//!   changes it, and whenever a running server reports an event the window shows (a
//!   connection opened or closed, a config applied, a listener rebound), from one task
//!   ([`push_state_changes`]) woken by the servers' event channels.
//! - [`SiteWatch`] owns the one `watch_site` task: a new watch aborts the previous one. The
//!   task ([`watch`]) forwards each log batch as the core's writer hands it over (the core
//!   caps it at 2,000 records and counts the rest as skipped: the one batching and thinning
//!   stage), the metrics timeline then each new sample, and samples the connection table
//!   every 500 ms (its byte counters and states move with every write; no event says so).
//!   It writes to any sink, so it is tested without a window.
//!
//! Every task here is owned: the handles are kept and aborted on replace and at exit.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tokio::sync::{broadcast, mpsc, watch, Notify};
use wharf_core::AccessRecord;
use wharf_core::MetricsSample;
use wharf_core::{AccessLog, LogBatch};
use wharf_core::{Admission, ConnectionInfo};

use crate::sites::{AppState, Sites};

/// The sites, shared by the commands and the feeds.
pub(crate) type SharedSites = Arc<tokio::sync::Mutex<Sites>>;

/// The least time between two state pushes woken by server events: a burst of a thousand
/// connections makes ten pushes a second, not a thousand. No timer runs while nothing
/// happens.
const STATE_SPACING: Duration = Duration::from_millis(100);
/// How often the connection table is sampled.
const CONNECTIONS_INTERVAL: Duration = Duration::from_millis(500);
/// Records per log message at most; older ones are counted as skipped (by the core).
pub(crate) const MAX_RECORDS: usize = 2_000;
/// State subscribers kept at most; a reloaded window subscribes again, so old channels age out.
const MAX_SUBSCRIBERS: usize = 4;

/// A message of `watch_site`'s channel. Mirrors `SiteFeed` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum SiteFeed {
    /// The whole timeline (`reset`), or new samples.
    Metrics {
        /// Oldest first.
        samples: Vec<MetricsSample>,
        /// Whether these replace every sample shown.
        reset: bool,
    },
    /// New records, oldest first: one batch of the core's log writer, shared, not copied.
    Log {
        /// At most [`MAX_RECORDS`].
        #[serde(serialize_with = "as_slice")]
        records: Arc<[AccessRecord]>,
        /// Records left out of the live view (they are all in the log and the CSV).
        skipped: u64,
    },
    /// The open connections; empty while the site is stopped.
    Connections {
        /// Oldest first.
        connections: Vec<ConnectionInfo>,
        /// While running.
        admission: Option<Admission>,
    },
}

fn as_slice<S: serde::Serializer>(
    records: &Arc<[AccessRecord]>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    records[..].serialize(serializer)
}

impl From<LogBatch> for SiteFeed {
    fn from(batch: LogBatch) -> SiteFeed {
        SiteFeed::Log {
            records: batch.records,
            skipped: batch.missed,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a send panicked; the data is still sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The window's state subscriptions, and the last state pushed (which the tray watches).
#[derive(Default)]
pub(crate) struct StateFeed {
    subscribers: Mutex<Vec<Channel<AppState>>>,
    last: watch::Sender<Option<AppState>>,
}

impl StateFeed {
    /// Adds `channel` and sends it `current` at once.
    pub(crate) fn subscribe(&self, channel: Channel<AppState>, current: AppState) {
        if channel.send(current.clone()).is_ok() {
            let mut subscribers = lock(&self.subscribers);
            if subscribers.len() == MAX_SUBSCRIBERS {
                subscribers.remove(0);
            }
            subscribers.push(channel);
        }
        self.last.send_replace(Some(current));
    }

    /// Sends `state` to every subscriber, dropping those that are gone.
    pub(crate) fn publish(&self, state: AppState) {
        lock(&self.subscribers).retain(|channel| channel.send(state.clone()).is_ok());
        self.last.send_replace(Some(state));
    }

    /// Each state pushed from now on (the tray's menu follows it).
    pub(crate) fn published(&self) -> watch::Receiver<Option<AppState>> {
        self.last.subscribe()
    }

    /// [`StateFeed::publish`], unless `state` is what was pushed last.
    fn publish_if_changed(&self, state: AppState) {
        if self.last.borrow().as_ref() != Some(&state) {
            self.publish(state);
        }
    }
}

/// Pushes the state each time `changes` (see [`Sites::changes`]) is woken, when it differs
/// from the last push; at most once per [`STATE_SPACING`]. Runs until aborted.
pub(crate) async fn push_state_changes(
    sites: SharedSites,
    feed: Arc<StateFeed>,
    changes: Arc<Notify>,
) {
    loop {
        changes.notified().await;
        let state = sites.lock().await.state();
        feed.publish_if_changed(state);
        // Events during the pause leave one permit: the next round reads them all at once.
        tokio::time::sleep(STATE_SPACING).await;
    }
}

/// The one `watch_site` task.
#[derive(Default)]
pub(crate) struct SiteWatch {
    task: Mutex<Option<JoinHandle<()>>>,
}

impl SiteWatch {
    /// Makes `task` the watch, aborting the previous one.
    pub(crate) fn replace(&self, task: JoinHandle<()>) {
        if let Some(previous) = lock(&self.task).replace(task) {
            previous.abort();
        }
    }

    /// Aborts the watch (at exit).
    pub(crate) fn stop(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

/// Streams site `id`'s feed into `send` until `send` fails (the window is gone) or the site
/// is removed. Survives stops and starts: the site's log lives for the app run. A site that
/// has not started yet has no log; its feed begins when it starts (seen at the next
/// connection sample).
pub(crate) async fn watch(sites: SharedSites, id: String, mut send: impl FnMut(SiteFeed) -> bool) {
    let mut live: Option<LiveLog> = None;
    let mut ticks = tokio::time::interval(CONNECTIONS_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut first = true;
    loop {
        let pushed = match &mut live {
            Some(log) => tokio::select! {
                message = log.next() => Some(message),
                _ = ticks.tick() => None,
            },
            None => {
                ticks.tick().await;
                None
            }
        };
        let sampled = match pushed {
            Some(message) => Ok(vec![message]),
            None => sample(&sites, &id, &mut live, first).await,
        };
        first = false;
        match sampled {
            Ok(messages) => {
                for message in messages {
                    if !send(message) {
                        return;
                    }
                }
            }
            Err(last) => {
                let _ = send(last);
                return;
            }
        }
    }
}

/// The connection table now, after the timeline when the site's log is newly subscribed
/// (`first`: clears the previous site's charts while this one has not started yet). Once
/// the site is removed, the last message: an empty table.
async fn sample(
    sites: &SharedSites,
    id: &str,
    live: &mut Option<LiveLog>,
    first: bool,
) -> Result<Vec<SiteFeed>, SiteFeed> {
    let Some(site) = sites.lock().await.live(id) else {
        return Err(SiteFeed::Connections {
            connections: Vec::new(),
            admission: None,
        });
    };
    let mut messages = Vec::new();
    match (live.is_none(), site.log) {
        (true, Some(log)) => {
            let (log, timeline) = LiveLog::subscribe(log);
            *live = Some(log);
            messages.push(timeline);
        }
        // Not started yet in this app run: the window clears the previous site's charts
        // now, and gets the timeline once the site starts.
        (true, None) if first => messages.push(SiteFeed::Metrics {
            samples: Vec::new(),
            reset: true,
        }),
        _ => {}
    }
    messages.push(SiteFeed::Connections {
        connections: site.connections,
        admission: site.admission,
    });
    Ok(messages)
}

/// One subscription to a site's log and metrics.
struct LiveLog {
    log: AccessLog,
    batches: mpsc::Receiver<LogBatch>,
    samples: broadcast::Receiver<MetricsSample>,
    /// The newest sample sent, so one that was both in the timeline and on the channel is
    /// sent once.
    last_sample_ms: Option<u64>,
}

impl LiveLog {
    /// Subscribes, and returns the whole timeline as the first metrics message.
    fn subscribe(log: AccessLog) -> (LiveLog, SiteFeed) {
        // Samples first, then the timeline: a sample closed in between is in both, and the
        // duplicate is dropped by time; the other order could lose it.
        let samples = log.subscribe_metrics();
        let batches = log.subscribe_at_most(MAX_RECORDS);
        let mut live = LiveLog {
            log,
            batches,
            samples,
            last_sample_ms: None,
        };
        let timeline = live.timeline();
        (live, timeline)
    }

    fn timeline(&mut self) -> SiteFeed {
        let samples = self.log.timeline();
        self.last_sample_ms = samples.last().map(|sample| sample.at_ms);
        SiteFeed::Metrics {
            samples,
            reset: true,
        }
    }

    /// The next message: a log batch as the core handed it over, or a new metrics sample.
    /// Cancel-safe: nothing received is held across an await.
    async fn next(&mut self) -> SiteFeed {
        loop {
            tokio::select! {
                Some(batch) = self.batches.recv() => return SiteFeed::from(batch),
                sample = self.samples.recv() => match sample {
                    Ok(sample) => {
                        if self.last_sample_ms.is_some_and(|last| sample.at_ms <= last) {
                            continue;
                        }
                        self.last_sample_ms = Some(sample.at_ms);
                        return SiteFeed::Metrics {
                            samples: vec![sample],
                            reset: false,
                        };
                    }
                    // Fell behind: the timeline has every sample, so start over from it.
                    Err(broadcast::error::RecvError::Lagged(_)) => return self.timeline(),
                    // `self.log` keeps both channels open.
                    Err(broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests;
