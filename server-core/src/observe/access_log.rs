//! The access-log pipeline, as in the Haskell web server's logging thread: the request path
//! only appends a finished record, packed into bytes (`packed`), to a bounded queue, and one
//! writer thread does everything else.
//!
//! The queue is one buffer of packed records behind a lock held for a copy: no allocation and
//! no message per record. The writer swaps it for its spare buffer every 10 ms (it never
//! sleeps on the queue itself, so no request ever wakes it), numbers the records, feeds the
//! metrics, and appends each to the durable session log ([`crate::observe::session_log`]) as
//! the packed bytes it is, with no formatting; it makes owned [`AccessRecord`]s only while
//! someone subscribes to the live stream. Every 100 ms it flushes the session log and hands
//! the batch to live subscribers. Once a second it closes a metrics sample. Nothing on the
//! request path waits for I/O, a lock held across I/O, or a subscriber:
//!
//! - If the queue is full, the record is counted as lost (never silently): the count is
//!   written into the log as a `lost` line, and shown by [`AccessLog::stats`].
//! - A subscriber that does not keep up has only its own stream thinned: batches that do not
//!   fit in its buffer are skipped, and the next batch it gets says how many records it missed.
//!   A subscriber may also cap its batches ([`AccessLog::subscribe_at_most`]): it then gets the
//!   newest records of each, the older ones counted as missed. This is the live stream's only
//!   batching and thinning stage: a subscriber forwards each batch as it arrives.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::observe::access::{micros, unix_ms, AccessRecord};
use crate::observe::metrics::{Metrics, MetricsSample};
use crate::observe::packed::{self, Numbers, RequestText};
use crate::observe::session_log::{LogLine, Retention, SessionWriter};

/// How often the writer flushes to disk and to subscribers.
pub(crate) const BATCH_INTERVAL: Duration = Duration::from_millis(100);
/// How often the writer empties the queue. At 60,000 requests a second that is 600 records,
/// far below the queue's capacity.
const DRAIN_INTERVAL: Duration = Duration::from_millis(10);
/// How often a metrics sample is closed.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// Batches a subscriber may have waiting before the next ones are skipped for it.
const SUBSCRIBER_BUFFER: usize = 16;
/// Bytes the queue may hold, whatever its record count: records that would go past it are
/// counted as lost, like those past the count. 16,384 records of the largest size would
/// otherwise take 330 MiB; usual ones (under 2 KiB, headers included) take a tenth of this.
const MAX_QUEUE_BYTES: usize = 32 << 20;
/// Metrics samples kept for [`AccessLog::timeline`]: 16 minutes.
const TIMELINE_SAMPLES: usize = 960;

/// Where and how much to log.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Folder for the durable session logs; `None` keeps nothing on disk (live subscribers and
    /// metrics still work).
    pub dir: Option<PathBuf>,
    /// How much the durable log keeps.
    pub retention: Retention,
    /// Records the queue holds between the request path and the writer (packed, about 150
    /// bytes each, 500 to 1,500 with a durable log's headers, and at most about 20 KiB with
    /// the longest target and headers a record keeps; the buffer grows as they come, up to
    /// 32 MiB whatever the count). Default: 16,384: the writer empties the queue
    /// every 10 ms, so this absorbs a burst far beyond top speed.
    pub queue_capacity: usize,
}

impl Default for LogSettings {
    fn default() -> LogSettings {
        LogSettings {
            dir: None,
            retention: Retention::default(),
            queue_capacity: 16_384,
        }
    }
}

/// Counters of the pipeline, for the user to see that nothing was lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStats {
    /// The durable session's id, when logging to disk.
    pub session: Option<String>,
    /// Its folder.
    pub folder: Option<PathBuf>,
    /// Records handed to the writer and written.
    pub logged: u64,
    /// Records lost because the queue was full. Should be 0.
    pub lost: u64,
    /// The last write error, if writing to disk failed (the live stream goes on).
    pub write_error: Option<String>,
}

/// A batch of records for a live subscriber.
#[derive(Debug, Clone)]
pub struct LogBatch {
    /// The records, in the order they were logged.
    pub records: Arc<[AccessRecord]>,
    /// Records this subscriber missed just before this batch because it fell behind.
    pub missed: u64,
}

/// The access log. Cheap to clone; every clone feeds the same writer.
#[derive(Clone)]
pub struct AccessLog {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The queue between the request path and the writer: packed records, one after the other.
#[derive(Default)]
struct Queue {
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    records: usize,
}

struct Shared {
    queue: Arc<Queue>,
    /// The wall clock, read through the monotonic one: Unix microseconds at `clock_base`,
    /// set again by the writer every 10 ms so that it follows the wall clock's jumps and a
    /// suspended machine. A request's start time then costs no clock read of its own.
    clock_base: Instant,
    clock_base_us: AtomicU64,
    capacity: usize,
    /// Requests to write out everything queued so far, each answered when done.
    syncs: mpsc::Sender<mpsc::Sender<()>>,
    lost: AtomicU64,
    logged: AtomicU64,
    /// Connections open on the server feeding this log, for the metrics.
    active_connections: AtomicUsize,
    /// The config generation in force, for the metrics.
    generation: AtomicU64,
    /// The last generation applied since the writer's last sample, and when (Unix ms), for
    /// the sample's `generation_applied_at_ms`.
    applied: Mutex<Option<(u64, u64)>>,
    subscribers: Mutex<Vec<Subscriber>>,
    samples: broadcast::Sender<MetricsSample>,
    timeline: Mutex<std::collections::VecDeque<MetricsSample>>,
    session: Option<(String, PathBuf)>,
    write_error: Mutex<Option<String>>,
    /// CPU time the writer thread has used, in microseconds, where the OS tells (Linux).
    writer_cpu_us: AtomicU64,
}

struct Subscriber {
    batches: tokio::sync::mpsc::Sender<LogBatch>,
    missed: u64,
    /// Records per batch at most; older ones are counted in `missed`.
    max_records: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AccessLog {
    /// Starts the writer thread, and the durable session when `settings.dir` is set.
    ///
    /// # Errors
    /// What the file system reports when the session cannot be created.
    pub fn start(settings: LogSettings) -> std::io::Result<AccessLog> {
        let (log, writer) = AccessLog::assemble(settings)?;
        std::thread::Builder::new()
            .name("wharf-access-log".into())
            .spawn(move || writer.run())?;
        Ok(log)
    }

    /// The log and its writer, not yet running.
    fn assemble(settings: LogSettings) -> std::io::Result<(AccessLog, Writer)> {
        let session = match &settings.dir {
            Some(dir) => Some(SessionWriter::create(dir, settings.retention.clone())?),
            None => None,
        };
        let queue = Arc::new(Queue::default());
        let (syncs, sync_requests) = mpsc::channel();
        let (samples, _) = broadcast::channel(64);
        let clock_base = Instant::now();
        let shared = Arc::new(Shared {
            queue: Arc::clone(&queue),
            clock_base,
            clock_base_us: AtomicU64::new(wall_us_at_base(clock_base)),
            capacity: settings.queue_capacity.max(1),
            syncs,
            lost: AtomicU64::new(0),
            logged: AtomicU64::new(0),
            active_connections: AtomicUsize::new(0),
            generation: AtomicU64::new(1),
            applied: Mutex::new(None),
            subscribers: Mutex::new(Vec::new()),
            samples,
            timeline: Mutex::new(std::collections::VecDeque::with_capacity(TIMELINE_SAMPLES)),
            session: session
                .as_ref()
                .map(|session| (session.id().to_owned(), session.folder().to_path_buf())),
            write_error: Mutex::new(None),
            writer_cpu_us: AtomicU64::new(0),
        });
        let writer = Writer {
            shared: Arc::downgrade(&shared),
            queue,
            sync_requests,
            session,
            metrics: Metrics::new(unix_ms(SystemTime::now())),
            next_id: 1,
            lost_reported: 0,
            received: Vec::new(),
            live: Vec::new(),
        };
        Ok((AccessLog { shared }, writer))
    }

    /// Hands a finished request's record to the writer: its `numbers` and the client's
    /// `text`, packed into the queue in one copy. Never blocks on I/O: if the queue is full
    /// the record is counted as lost.
    pub(crate) fn record_request(&self, numbers: &Numbers, text: &RequestText) {
        let mut pending = lock(&self.shared.queue.pending);
        if pending.records < self.shared.capacity && pending.bytes.len() < MAX_QUEUE_BYTES {
            packed::pack(numbers, text, &mut pending.bytes);
            pending.records += 1;
        } else {
            drop(pending);
            self.shared.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether records keep their headers: only a durable log keeps them, for its exports
    /// (the live stream leaves them out).
    pub(crate) fn keeps_headers(&self) -> bool {
        self.shared.session.is_some()
    }

    /// The wall-clock time of `at`, in milliseconds since the Unix epoch (see
    /// `Shared::clock_base`).
    pub(crate) fn unix_ms_at(&self, at: Instant) -> u64 {
        let since = micros(at.saturating_duration_since(self.shared.clock_base));
        let base = self.shared.clock_base_us.load(Ordering::Relaxed);
        base.saturating_add(since) / 1000
    }

    /// [`AccessLog::record_request`] for a whole record (a request that never reached the
    /// service has no text of its own). Its id is the writer's to give.
    pub(crate) fn record(&self, record: &AccessRecord) {
        self.record_request(&Numbers::of(record), &RequestText::of_record(record));
    }

    /// Waits (blocking the calling thread) until everything recorded so far is written and
    /// handed to subscribers, e.g. before an export, so the export holds every request.
    pub fn sync(&self) {
        let (done, wait) = mpsc::channel();
        if self.shared.syncs.send(done).is_ok() {
            let _ = wait.recv();
        }
    }

    /// The pipeline's counters.
    pub fn stats(&self) -> LogStats {
        LogStats {
            session: self.shared.session.as_ref().map(|(id, _)| id.clone()),
            folder: self
                .shared
                .session
                .as_ref()
                .map(|(_, folder)| folder.clone()),
            logged: self.shared.logged.load(Ordering::Relaxed),
            lost: self.shared.lost.load(Ordering::Relaxed),
            write_error: lock(&self.shared.write_error).clone(),
        }
    }

    /// The CPU time the writer thread has used so far (numbering, metrics, writing to disk and
    /// to subscribers), where the OS tells it (Linux): divided by [`LogStats::logged`], the
    /// log's cost per request off the request path, which the benchmarks print.
    pub fn writer_cpu(&self) -> Option<Duration> {
        cfg!(target_os = "linux")
            .then(|| Duration::from_micros(self.shared.writer_cpu_us.load(Ordering::Relaxed)))
    }

    /// Live records from now on, in batches at most every 100 ms. Their `headers` are `None`:
    /// headers are for exports, which read them from the session log.
    pub fn subscribe(&self) -> tokio::sync::mpsc::Receiver<LogBatch> {
        self.subscribe_at_most(usize::MAX)
    }

    /// [`AccessLog::subscribe`], with at most `max_records` records per batch: the newest
    /// ones, the older ones counted in the next [`LogBatch::missed`] (the live view of a
    /// window, which cannot draw more). The records are shared, not copied, unless a batch
    /// is cut.
    pub fn subscribe_at_most(&self, max_records: usize) -> tokio::sync::mpsc::Receiver<LogBatch> {
        let (batches, receiver) = tokio::sync::mpsc::channel(SUBSCRIBER_BUFFER);
        lock(&self.shared.subscribers).push(Subscriber {
            batches,
            missed: 0,
            max_records: max_records.max(1),
        });
        receiver
    }

    /// Each new metrics sample, once a second.
    pub fn subscribe_metrics(&self) -> broadcast::Receiver<MetricsSample> {
        self.shared.samples.subscribe()
    }

    /// The metrics samples of the last 16 minutes, oldest first.
    pub fn timeline(&self) -> Vec<MetricsSample> {
        lock(&self.shared.timeline).iter().cloned().collect()
    }

    /// Counts a connection as open for the metrics until the guard is dropped.
    pub(crate) fn connection_opened(&self) -> OpenConnection {
        self.shared
            .active_connections
            .fetch_add(1, Ordering::Relaxed);
        OpenConnection {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Notes that the server feeding this log now gives new connections `generation` (at
    /// start, and on every apply), so the next metrics sample says when it happened.
    pub(crate) fn generation_applied(&self, generation: u64) {
        self.shared.generation.store(generation, Ordering::Relaxed);
        *lock(&self.shared.applied) = Some((generation, unix_ms(SystemTime::now())));
    }
}

/// The calling thread's CPU time so far, in microseconds; 0 where the OS does not tell.
fn thread_cpu_us() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let spent = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        let secs = u64::try_from(spent.tv_sec).unwrap_or(0);
        let nanos = u64::try_from(spent.tv_nsec).unwrap_or(0);
        secs.saturating_mul(1_000_000).saturating_add(nanos / 1000)
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Unix microseconds at `base`, by the wall clock now.
fn wall_us_at_base(base: Instant) -> u64 {
    let since = micros(base.elapsed());
    let now = SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    micros(now.unwrap_or_default()).saturating_sub(since)
}

/// An open connection, counted in the metrics while it lives.
pub(crate) struct OpenConnection {
    shared: Arc<Shared>,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.shared
            .active_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// The writer thread's state.
struct Writer {
    /// Weak, so the thread ends when the last [`AccessLog`] is dropped.
    shared: std::sync::Weak<Shared>,
    /// Strong, so what was queued before the last [`AccessLog`] went is still written.
    queue: Arc<Queue>,
    sync_requests: mpsc::Receiver<mpsc::Sender<()>>,
    session: Option<SessionWriter>,
    metrics: Metrics,
    next_id: u64,
    lost_reported: u64,
    /// The queue's bytes last taken; swapped back as the queue's next buffer, so both keep
    /// their memory.
    received: Vec<u8>,
    /// Written, not yet handed to subscribers (made only while there are any).
    live: Vec<AccessRecord>,
}

impl Writer {
    /// Empties the queue every [`DRAIN_INTERVAL`] rather than waiting on it: a writer blocked
    /// on the queue would have every request wake it (a futex call and a context switch per
    /// request, on the server's own cores).
    fn run(mut self) {
        let mut next_flush = Instant::now() + BATCH_INTERVAL;
        let mut next_sample = Instant::now() + SAMPLE_INTERVAL;
        loop {
            std::thread::sleep(DRAIN_INTERVAL);
            // Taken before the queue: a sync asked for now finds its records in it.
            let syncs: Vec<mpsc::Sender<()>> = match self.sync_requests.try_recv() {
                Ok(first) => std::iter::once(first)
                    .chain(self.sync_requests.try_iter())
                    .collect(),
                Err(TryRecvError::Empty) => Vec::new(),
                // The last `AccessLog` is gone.
                Err(TryRecvError::Disconnected) => break,
            };
            self.drain();
            let now = Instant::now();
            if now >= next_flush || !syncs.is_empty() {
                self.flush();
                if !self.publish() {
                    break;
                }
                for done in syncs {
                    let _ = done.send(());
                }
                next_flush = now + BATCH_INTERVAL;
            }
            if now >= next_sample {
                if !self.sample() {
                    break;
                }
                next_sample += SAMPLE_INTERVAL;
                if next_sample < now {
                    next_sample = now + SAMPLE_INTERVAL;
                }
            }
        }
        // Write what the last `AccessLog` queued before it went.
        self.drain();
        self.flush();
    }

    /// Takes what the queue holds, and numbers, measures and writes out each record (and any
    /// loss since last time, first). Runs even after the last [`AccessLog`] is gone, so
    /// nothing queued is dropped.
    fn drain(&mut self) {
        let shared = self.shared.upgrade();
        if let Some(shared) = &shared {
            let base_us = wall_us_at_base(shared.clock_base);
            shared.clock_base_us.store(base_us, Ordering::Relaxed);
            shared
                .writer_cpu_us
                .store(thread_cpu_us(), Ordering::Relaxed);
        }
        {
            let mut pending = lock(&self.queue.pending);
            self.received.clear();
            std::mem::swap(&mut pending.bytes, &mut self.received);
            pending.records = 0;
        }
        let mut result = Ok(());
        let lost = shared.as_ref().map_or(self.lost_reported, |shared| {
            shared.lost.load(Ordering::Relaxed)
        });
        if lost > self.lost_reported {
            let line = LogLine::Lost {
                count: lost - self.lost_reported,
                at_ms: unix_ms(SystemTime::now()),
            };
            self.lost_reported = lost;
            if let Some(session) = &mut self.session {
                result = session.append(&line);
            }
        }
        let live = shared
            .as_ref()
            .is_some_and(|shared| !lock(&shared.subscribers).is_empty());
        let mut written = 0;
        for record in packed::unpack(&self.received) {
            let id = self.next_id;
            self.next_id += 1;
            written += 1;
            self.metrics.observe(&record.numbers);
            if let (Some(session), Ok(())) = (&mut self.session, &result) {
                result = session.append_packed(id, record.bytes);
            }
            if live {
                // Without headers: they are for exports, which read them from the session log.
                // Left out, a live record stays small (the window keeps thousands) and costs
                // the writer no allocation per header.
                let record = packed::Packed {
                    headers: None,
                    ..record
                };
                self.live.push(record.to_record(id));
            }
        }
        self.report(shared.as_deref(), written, result);
    }

    /// Makes what was written durable.
    fn flush(&mut self) {
        let result = self.session.as_mut().map_or(Ok(()), SessionWriter::flush);
        self.report(self.shared.upgrade().as_deref(), 0, result);
    }

    /// Counts `written` records as logged, and keeps a write error for the stats.
    fn report(&self, shared: Option<&Shared>, written: u64, result: std::io::Result<()>) {
        if let Err(err) = &result {
            tracing::error!("cannot write the access log: {err}");
        }
        if let Some(shared) = shared {
            shared.logged.fetch_add(written, Ordering::Relaxed);
            if let Err(err) = result {
                *lock(&shared.write_error) = Some(err.to_string());
            }
        }
    }

    /// Hands the written records to every subscriber. False when the log is gone.
    fn publish(&mut self) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        if self.live.is_empty() {
            return true;
        }
        let records: Arc<[AccessRecord]> = std::mem::take(&mut self.live).into();
        lock(&shared.subscribers).retain_mut(|subscriber| {
            let left_out = records.len().saturating_sub(subscriber.max_records);
            let batch = LogBatch {
                records: if left_out == 0 {
                    Arc::clone(&records)
                } else {
                    records[left_out..].into()
                },
                missed: subscriber.missed + left_out as u64,
            };
            match subscriber.batches.try_send(batch) {
                Ok(()) => {
                    subscriber.missed = 0;
                    true
                }
                Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                    subscriber.missed += records.len() as u64;
                    true
                }
                Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        true
    }

    /// Closes the current second's metrics sample and hands it out. False when the log is gone.
    fn sample(&mut self) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        if let Some((generation, at_ms)) = lock(&shared.applied).take() {
            // A generation already in force (a restart on the same config) marks nothing.
            self.metrics.mark_generation(generation, at_ms);
        }
        let sample = self.metrics.tick(
            unix_ms(SystemTime::now()),
            shared.active_connections.load(Ordering::Relaxed),
            shared.generation.load(Ordering::Relaxed),
        );
        let mut timeline = lock(&shared.timeline);
        if timeline.len() == TIMELINE_SAMPLES {
            timeline.pop_front();
        }
        timeline.push_back(sample.clone());
        drop(timeline);
        let _ = shared.samples.send(sample);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::session_log::{sessions, SessionReader};

    fn record(target: &str) -> AccessRecord {
        AccessRecord::example(target)
    }

    /// A start time read through the monotonic clock is the wall clock's, to the millisecond.
    #[test]
    fn start_times_are_the_wall_clocks() {
        let (log, _writer) = AccessLog::assemble(LogSettings::default()).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        for _ in 0..100 {
            let before = unix_ms(SystemTime::now());
            let at = Instant::now();
            let after = unix_ms(SystemTime::now());
            let ms = log.unix_ms_at(at);
            // Within a millisecond either way: both clocks are read in whole microseconds.
            assert!(
                (before - 1..=after + 1).contains(&ms),
                "{before} <= {ms} <= {after}"
            );
        }
    }

    #[test]
    fn an_applied_generation_marks_the_next_sample_with_its_time() {
        let (log, mut writer) = AccessLog::assemble(LogSettings::default()).unwrap();
        let last = |log: &AccessLog| log.timeline().pop().unwrap();
        // The server starts on generation 1: nothing to differ from yet.
        log.generation_applied(1);
        assert!(writer.sample());
        assert_eq!(last(&log).generation_applied_at_ms, None);

        let before = unix_ms(SystemTime::now());
        log.generation_applied(2);
        assert!(writer.sample());
        let sample = last(&log);
        assert_eq!(sample.generation, 2);
        assert!(sample.generation_changed);
        let at_ms = sample.generation_applied_at_ms.unwrap();
        assert!(at_ms >= before && at_ms <= unix_ms(SystemTime::now()));

        // Marked once; a restart on the same generation is no change.
        assert!(writer.sample());
        assert_eq!(last(&log).generation_applied_at_ms, None);
        log.generation_applied(2);
        assert!(writer.sample());
        assert!(!last(&log).generation_changed);
    }

    /// A capped subscriber gets the newest records of each batch; the older ones, and the
    /// batches it had no room for, are counted in its next batch. Others get every record.
    #[test]
    fn batches_are_thinned_to_the_newest_records_and_the_rest_counted() {
        let (log, mut writer) = AccessLog::assemble(LogSettings {
            queue_capacity: 4096,
            ..LogSettings::default()
        })
        .unwrap();
        let mut capped = log.subscribe_at_most(2_000);
        let mut whole = log.subscribe();
        let publish = |writer: &mut Writer, targets: std::ops::RangeInclusive<u64>| {
            for n in targets {
                log.record(&record(&format!("/{n}")));
            }
            writer.drain();
            assert!(writer.publish());
        };
        publish(&mut writer, 1..=3);
        let batch = capped.try_recv().unwrap();
        assert_eq!((batch.records.len(), batch.missed), (3, 0));
        assert_eq!(whole.try_recv().unwrap().records.len(), 3);

        // Fill the capped subscriber's buffer: the batches it has no room for are counted.
        for _ in 0..SUBSCRIBER_BUFFER {
            publish(&mut writer, 1..=1);
        }
        while whole.try_recv().is_ok() {}
        publish(&mut writer, 1..=7);
        for _ in 0..SUBSCRIBER_BUFFER {
            assert_eq!(capped.try_recv().unwrap().records.len(), 1);
        }
        publish(&mut writer, 1..=2600);
        let batch = capped.try_recv().unwrap();
        assert_eq!(batch.records.len(), 2_000);
        assert_eq!(batch.records[0].target, "/601");
        assert_eq!(batch.records[1_999].target, "/2600");
        assert_eq!(batch.missed, 600 + 7);
        let batch = whole.try_recv().unwrap();
        assert_eq!((batch.records.len(), batch.missed), (7, 0));
        assert_eq!(whole.try_recv().unwrap().records.len(), 2600);
    }

    #[test]
    fn a_full_queue_counts_the_loss_and_writes_it_into_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let (log, writer) = AccessLog::assemble(LogSettings {
            dir: Some(dir.path().to_path_buf()),
            queue_capacity: 4,
            ..LogSettings::default()
        })
        .unwrap();
        // The writer is not running yet: the queue holds 4, the other 6 are lost.
        for n in 0..10 {
            log.record(&record(&format!("/{n}")));
        }
        assert_eq!(log.stats().lost, 6);
        std::thread::spawn(move || writer.run());
        log.sync();
        let stats = log.stats();
        assert_eq!((stats.logged, stats.lost), (4, 6));

        let session = &sessions(dir.path()).unwrap()[0];
        let lines: Vec<LogLine> = SessionReader::open(session)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            matches!(lines[0], LogLine::Lost { count: 6, .. }),
            "{lines:?}"
        );
        let targets: Vec<&str> = lines[1..]
            .iter()
            .map(|line| match line {
                LogLine::Request(record) => record.target.as_str(),
                LogLine::Lost { .. } => "lost",
            })
            .collect();
        assert_eq!(targets, ["/0", "/1", "/2", "/3"]);
    }
}
