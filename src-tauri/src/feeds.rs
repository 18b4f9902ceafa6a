//! Live data for the window, over `tauri::ipc::Channel` (the Tauri docs' tool for streams;
//! events are not meant for throughput): the app state, and the watched site's feed.
//!
//! - [`StateFeed`] sends the [`AppState`] when a window subscribes, after every command that
//!   changes it, and every 500 ms when it differs from the last push (open connections,
//!   transfers continuing, log counters), from one ticker task.
//! - [`SiteWatch`] owns the one `watch_site` task: a new watch aborts the previous one. The
//!   task ([`watch`]) forwards log batches every 100 ms (thinned to 2,000 records, the rest
//!   counted as skipped), the metrics timeline then each new sample, and the connections
//!   every 500 ms. It writes to any sink, so it is tested without a window.
//!
//! Every task here is owned: the handles are kept and aborted on replace and at exit.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tokio::sync::{broadcast, mpsc};
use wharf_core::AccessRecord;
use wharf_core::MetricsSample;
use wharf_core::{AccessLog, LogBatch};
use wharf_core::{Admission, ConnectionInfo};

use crate::sites::{AppState, Sites};

/// The sites, shared by the commands and the feeds.
pub(crate) type SharedSites = Arc<tokio::sync::Mutex<Sites>>;

/// How often the state is compared with the last push.
const STATE_INTERVAL: Duration = Duration::from_millis(500);
/// How often log batches and metrics samples are forwarded.
const LOG_INTERVAL: Duration = Duration::from_millis(100);
/// Log ticks between two connection lists (500 ms).
const CONNECTIONS_EVERY: u64 = 5;
/// Records per log message at most; older ones are counted as skipped.
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
    /// New records, oldest first.
    Log {
        /// At most [`MAX_RECORDS`].
        records: Vec<AccessRecord>,
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a send panicked; the data is still sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The window's state subscriptions, and the last state pushed.
#[derive(Default)]
pub(crate) struct StateFeed {
    subscribers: Mutex<Vec<Channel<AppState>>>,
    last: Mutex<Option<AppState>>,
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
        *lock(&self.last) = Some(current);
    }

    /// Sends `state` to every subscriber, dropping those that are gone.
    pub(crate) fn publish(&self, state: AppState) {
        lock(&self.subscribers).retain(|channel| channel.send(state.clone()).is_ok());
        *lock(&self.last) = Some(state);
    }

    /// [`StateFeed::publish`], unless `state` is what was pushed last.
    fn publish_if_changed(&self, state: AppState) {
        if lock(&self.last).as_ref() != Some(&state) {
            self.publish(state);
        }
    }
}

/// Compares the state with the last push every 500 ms and pushes it when it differs.
/// Runs until aborted.
pub(crate) async fn push_state_changes(sites: SharedSites, feed: Arc<StateFeed>) {
    let mut ticks = tokio::time::interval(STATE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let state = sites.lock().await.state();
        feed.publish_if_changed(state);
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
/// has not started yet has no log; its feed begins when it starts.
pub(crate) async fn watch(sites: SharedSites, id: String, mut send: impl FnMut(SiteFeed) -> bool) {
    let mut live: Option<LiveLog> = None;
    let mut ticks = tokio::time::interval(LOG_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    for tick in 0_u64.. {
        ticks.tick().await;
        if tick % CONNECTIONS_EVERY == 0 {
            let Some(site) = sites.lock().await.live(&id) else {
                let _ = send(SiteFeed::Connections {
                    connections: Vec::new(),
                    admission: None,
                });
                return;
            };
            let timeline = match (&live, site.log) {
                (None, Some(log)) => {
                    let (log, timeline) = LiveLog::subscribe(log);
                    live = Some(log);
                    Some(timeline)
                }
                // Not started yet in this app run: the window clears the previous site's
                // charts now, and gets the timeline once the site starts.
                (None, None) if tick == 0 => Some(SiteFeed::Metrics {
                    samples: Vec::new(),
                    reset: true,
                }),
                _ => None,
            };
            if timeline.is_some_and(|timeline| !send(timeline)) {
                return;
            }
            let connections = SiteFeed::Connections {
                connections: site.connections,
                admission: site.admission,
            };
            if !send(connections) {
                return;
            }
        }
        if let Some(log) = &mut live {
            for message in log.drain() {
                if !send(message) {
                    return;
                }
            }
        }
    }
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
        let batches = log.subscribe();
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

    /// What arrived since the last tick: at most one log message, then the metrics.
    fn drain(&mut self) -> Vec<SiteFeed> {
        let mut batches = Vec::new();
        while let Ok(batch) = self.batches.try_recv() {
            batches.push(batch);
        }
        let mut messages: Vec<SiteFeed> = thin(batches).into_iter().collect();
        loop {
            match self.samples.try_recv() {
                Ok(sample) => {
                    if self.last_sample_ms.is_some_and(|last| sample.at_ms <= last) {
                        continue;
                    }
                    self.last_sample_ms = Some(sample.at_ms);
                    messages.push(SiteFeed::Metrics {
                        samples: vec![sample],
                        reset: false,
                    });
                }
                // Fell behind: the timeline has every sample, so start over from it.
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    messages.retain(|message| !matches!(message, SiteFeed::Metrics { .. }));
                    messages.push(self.timeline());
                }
                Err(_) => break,
            }
        }
        messages
    }
}

/// One log message for `batches`: the newest [`MAX_RECORDS`] records, the older ones and
/// those the log already skipped for us counted in `skipped`. `None` when there is nothing
/// to say.
pub(crate) fn thin(batches: Vec<LogBatch>) -> Option<SiteFeed> {
    let total: usize = batches.iter().map(|batch| batch.records.len()).sum();
    let missed: u64 = batches.iter().map(|batch| batch.missed).sum();
    if total == 0 && missed == 0 {
        return None;
    }
    let left_out = total.saturating_sub(MAX_RECORDS);
    let records = batches
        .iter()
        .flat_map(|batch| batch.records.iter())
        .skip(left_out)
        .cloned()
        .collect();
    Some(SiteFeed::Log {
        records,
        skipped: missed + left_out as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::tests::{fetch, site_dir};
    use crate::sites::Folders;

    fn record(id: u64) -> AccessRecord {
        serde_json::from_value(serde_json::json!({
            "id": id, "startMs": 1, "peer": "127.0.0.1:5000", "method": "GET",
            "target": format!("/{id}"), "version": "HTTP/1.1", "status": 200,
            "bodyBytes": 1, "completed": true, "ttfbUs": 1, "totalUs": 2,
            "outcome": "completed", "userAgent": null, "referer": null,
            "connection": 1, "generation": 1, "served": "file"
        }))
        .unwrap()
    }

    fn batch(ids: impl Iterator<Item = u64>, missed: u64) -> LogBatch {
        LogBatch {
            records: ids.map(record).collect(),
            missed,
        }
    }

    #[test]
    fn batches_are_thinned_to_the_newest_records_and_the_rest_counted() {
        assert_eq!(thin(Vec::new()), None);
        let Some(SiteFeed::Log { records, skipped }) = thin(vec![batch(1..=3, 0)]) else {
            panic!("a log message");
        };
        assert_eq!((records.len(), skipped), (3, 0));

        let Some(SiteFeed::Log { records, skipped }) =
            thin(vec![batch(1..=1500, 7), batch(1501..=2600, 0)])
        else {
            panic!("a log message");
        };
        assert_eq!(records.len(), MAX_RECORDS);
        assert_eq!(records[0].id, 601);
        assert_eq!(records[MAX_RECORDS - 1].id, 2600);
        assert_eq!(skipped, 600 + 7);

        let only_missed = thin(vec![batch(std::iter::empty(), 5)]);
        assert_eq!(
            only_missed,
            Some(SiteFeed::Log {
                records: Vec::new(),
                skipped: 5
            })
        );
    }

    #[test]
    fn messages_serialize_as_tagged_camel_case() {
        let json = serde_json::to_value(SiteFeed::Connections {
            connections: Vec::new(),
            admission: None,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "connections", "connections": [], "admission": null})
        );
        let json = serde_json::to_value(thin(vec![batch(1..=1, 2)]).unwrap()).unwrap();
        assert_eq!(json["type"], "log");
        assert_eq!(json["skipped"], 2);
        assert_eq!(json["records"][0]["bodyBytes"], 1);
    }

    #[tokio::test]
    async fn a_site_not_started_yet_clears_the_charts_and_streams_once_started() {
        let welcome = site_dir("welcome page");
        let folder = site_dir("page");
        let config = tempfile::tempdir().unwrap();
        let store = config.path().join("sites.json");
        let stored = crate::store::StoredSites {
            version: crate::store::VERSION,
            sites: vec![crate::store::StoredSite {
                id: "s1".into(),
                root: Some(folder.path().to_path_buf()),
                lan: false,
                running: false,
                settings: Default::default(),
                last_port: None,
                last_https_port: None,
            }],
            recents: Vec::new(),
        };
        crate::store::save(&store, &stored).unwrap();
        let sites = Sites::open(Folders {
            store,
            logs: None,
            certs: None,
            welcome: welcome.path().canonicalize().unwrap(),
        })
        .await;
        let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
        let (sent, mut received) = mpsc::unbounded_channel();
        let task = tokio::spawn(watch(Arc::clone(&sites), "s1".into(), move |message| {
            sent.send(message).is_ok()
        }));
        assert_eq!(
            received.recv().await.unwrap(),
            SiteFeed::Metrics {
                samples: Vec::new(),
                reset: true
            }
        );
        assert_eq!(
            received.recv().await.unwrap(),
            SiteFeed::Connections {
                connections: Vec::new(),
                admission: None
            }
        );
        sites.lock().await.start("s1").await.unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), received.recv())
                .await
                .expect("the feed goes on")
                .unwrap();
            if matches!(message, SiteFeed::Metrics { reset: true, .. }) {
                break;
            }
        }
        task.abort();
    }

    #[tokio::test]
    async fn a_watch_streams_the_timeline_connections_and_requests_across_a_restart() {
        let welcome = site_dir("welcome page");
        let folder = site_dir("page");
        let config = tempfile::tempdir().unwrap();
        let sites = Sites::open(Folders {
            store: config.path().join("sites.json"),
            logs: None,
            certs: None,
            welcome: welcome.path().canonicalize().unwrap(),
        })
        .await;
        let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
        let site = sites.lock().await.add(folder.path()).await.unwrap();
        let url = site.url.clone().unwrap();

        let (sent, mut received) = mpsc::unbounded_channel();
        let task = tokio::spawn(watch(Arc::clone(&sites), site.id.clone(), move |message| {
            sent.send(message).is_ok()
        }));
        let first = received.recv().await.unwrap();
        assert!(
            matches!(first, SiteFeed::Metrics { reset: true, .. }),
            "{first:?}"
        );
        assert!(matches!(
            received.recv().await.unwrap(),
            SiteFeed::Connections {
                admission: Some(_),
                ..
            }
        ));

        fetch(&url, "/").await;
        let (_, stopping) = sites.lock().await.stop(&site.id).unwrap();
        stopping.finish().await;
        sites.lock().await.start(&site.id).await.unwrap();
        fetch(&url, "/again").await;

        let mut targets = Vec::new();
        let mut saw_sample = false;
        while targets.len() < 2 || !saw_sample {
            let message = tokio::time::timeout(Duration::from_secs(5), received.recv())
                .await
                .expect("the feed goes on")
                .unwrap();
            match message {
                SiteFeed::Log { records, skipped } => {
                    assert_eq!(skipped, 0);
                    targets.extend(records.into_iter().map(|record| record.target));
                }
                SiteFeed::Connections { .. } => {}
                SiteFeed::Metrics { samples, reset } => {
                    assert!(!reset);
                    assert_eq!(samples.len(), 1);
                    saw_sample = true;
                }
            }
        }
        assert_eq!(targets, ["/", "/again"]);

        // Removing the site ends the watch with an empty connection list.
        sites.lock().await.remove(&site.id).unwrap().finish().await;
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }
}
