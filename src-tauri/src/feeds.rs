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
use tokio::sync::{broadcast, mpsc, Notify};
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
        let json = serde_json::to_value(SiteFeed::from(batch(1..=1, 2))).unwrap();
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

    /// A measurement, not a check: the delay from a response's end to its record reaching the
    /// window's sink. `cargo test -p wharf-desktop --lib -- --ignored --nocapture log_latency`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement; prints timings"]
    async fn log_latency_from_response_to_window() {
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
        let arrived = Arc::new(Mutex::new(std::collections::HashMap::new()));
        let seen = Arc::clone(&arrived);
        let task = tokio::spawn(watch(Arc::clone(&sites), site.id.clone(), move |message| {
            if let SiteFeed::Log { records, .. } = &message {
                let now = std::time::Instant::now();
                for record in records.iter() {
                    lock(&seen).insert(record.target.clone(), now);
                }
            }
            true
        }));
        tokio::time::sleep(Duration::from_millis(600)).await;
        let mut finished = Vec::new();
        for n in 0..60_u64 {
            let path = format!("/r{n}");
            fetch(&url, &path).await;
            finished.push((path, std::time::Instant::now()));
            // Spread over the batching period, so every phase is sampled.
            tokio::time::sleep(Duration::from_millis(17 + (n * 7) % 23)).await;
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        let arrived = lock(&arrived).clone();
        let mut delays: Vec<Duration> = finished
            .iter()
            .map(|(path, at)| arrived[path].saturating_duration_since(*at))
            .collect();
        delays.sort();
        let pick = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize];
        println!(
            "log latency over {} requests: p50 {:?}, p90 {:?}, max {:?}",
            delays.len(),
            pick(0.5),
            pick(0.9),
            delays[delays.len() - 1]
        );
        task.abort();
    }

    /// This process's CPU time (user + system), from `/proc/self/stat`, in clock ticks.
    fn cpu_ticks() -> u64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after_name.split(' ').collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    /// A measurement, not a check: the app's CPU while idle with three running sites and 20
    /// idle keep-alive connections each, under the old 500 ms state poll and under the push.
    /// `cargo test -p wharf-desktop --lib -- --ignored --nocapture idle_state`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement; prints timings"]
    async fn idle_state_cost_poll_against_push() {
        let welcome = site_dir("welcome page");
        let config = tempfile::tempdir().unwrap();
        let sites = Sites::open(Folders {
            store: config.path().join("sites.json"),
            logs: None,
            certs: None,
            welcome: welcome.path().canonicalize().unwrap(),
        })
        .await;
        let changes = sites.changes();
        let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
        let folders: Vec<_> = (0..3).map(|n| site_dir(&format!("site {n}"))).collect();
        let mut idle = Vec::new();
        for folder in &folders {
            let site = sites.lock().await.add(folder.path()).await.unwrap();
            let authority = site
                .url
                .unwrap()
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned();
            for _ in 0..20 {
                idle.push(tokio::net::TcpStream::connect(&authority).await.unwrap());
            }
        }
        let reads = std::time::Instant::now();
        for _ in 0..200 {
            std::hint::black_box(sites.lock().await.state());
        }
        println!("one state read: {:?}", reads.elapsed() / 200);
        let run = |task: tauri::async_runtime::JoinHandle<()>| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let before = cpu_ticks();
            tokio::time::sleep(Duration::from_secs(10)).await;
            let used = cpu_ticks() - before;
            task.abort();
            used
        };
        let feed = Arc::new(StateFeed::default());
        let (polled_sites, polled_feed) = (Arc::clone(&sites), Arc::clone(&feed));
        let polled = run(tauri::async_runtime::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(500));
            loop {
                ticks.tick().await;
                let state = polled_sites.lock().await.state();
                polled_feed.publish_if_changed(state);
            }
        }))
        .await;
        let pushed = run(tauri::async_runtime::spawn(push_state_changes(
            Arc::clone(&sites),
            feed,
            changes,
        )))
        .await;
        println!("CPU over 10 s idle (clock ticks of 10 ms, whole process): 500 ms poll {polled}, push {pushed}");
        let nothing = run(tauri::async_runtime::spawn(async {})).await;
        println!("CPU over 10 s idle with neither: {nothing}");
        drop(idle);
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
                    targets.extend(records.iter().map(|record| record.target.clone()));
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
