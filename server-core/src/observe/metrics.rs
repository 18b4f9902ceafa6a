//! Request metrics: one sample per second and a 16-minute timeline.
//!
//! [`Metrics`] is owned by the access log's writer thread, which feeds it every
//! record ([`Metrics::observe`], on its [`Numbers`]) and closes a sample once a second
//! ([`Metrics::tick`]). It is a plain value: no locks, no I/O, no channels, no clock of its own.
//! It must not send samples anywhere; the writer broadcasts what `tick` returns.
//!
//! Latencies go into HDR histograms (microseconds, 3 significant digits), so every percentile
//! is computed from the values themselves, never averaged from other percentiles. Each
//! sample stores only its computed [`Percentiles`], so memory stays bounded: two histograms
//! (this second's time to first byte and total duration), two for the first byte's phases,
//! plus [`TIMELINE_CAPACITY`] samples.
//!
//! # What the numbers mean
//!
//! - **Which second a record belongs to**: the one in which the writer *observes* it, that is
//!   the sample returned by the first `tick` after `observe`. Not the second the request
//!   started (`start_ms`) or ended. Records reach the writer when their response has ended, so
//!   a sample counts requests that *finished* in that second, and a published sample never
//!   changes afterwards. A ten-minute download appears once, when it ends, with its full
//!   duration.
//! - `requests`: records observed, whatever their outcome (completed, aborted, timed out,
//!   failed, or never answered).
//! - `bytes`: the sum of their `body_bytes`: body bytes handed to the connection, without
//!   heads, including the part of an aborted response that was sent.
//! - `status`: requests by the class of the status sent. `no_response` is status 0 (the
//!   connection closed before any response); `other` is any status outside 100..=599, which
//!   Wharf never sends. The seven counts always add up to `requests`.
//! - `errors`: requests that failed on the server's or the protocol's side: outcome
//!   [`Outcome::Error`] (unreadable request, server failure) or [`Outcome::TimedOut`], *or* a
//!   5xx status whatever the outcome. 5xx count because a handler that panics still answers a
//!   clean 500 with outcome `Completed`, and that is exactly the failure to see. 4xx are not
//!   errors (a 404 is ordinary on a preview server); they are in `status.client_error`. Each
//!   request counts at most once.
//! - `aborted`: outcome [`Outcome::ClientAborted`]: the client went away before the response
//!   was complete. Not an error, unless the status was 5xx (then it counts in both).
//! - `ttfb`: microseconds from the request's head to the response's first byte, over the
//!   records that have one (`ttfb_us` is `Some`). A request never answered counts in
//!   `requests` and `total` but not here, so `ttfb.count` can be less than `requests`.
//! - `total`: microseconds from the request's head to the end (or abandonment) of the
//!   response, over every record.
//! - `resolve` and `respond`: the time to first byte in two phases (issue 19), over the
//!   records whose route looked a file up and that got a response (a refusal, a proxied
//!   request or Wharf's own endpoints have no resolution, and count in neither): `resolve` from
//!   the head to the route's last lookup done (`Timing::resolve_us`), `respond` from there to
//!   the first byte. Each has its own percentiles; a p99 of one plus a p99 of the other is
//!   not a p99 of their sum, which is `ttfb`'s.
//! - Percentiles: `p50_us`, `p90_us`, `p99_us` are the smallest value such that at least 50%,
//!   90%, 99% of the values are at or below it, to within 0.1% (HDR's 3 significant digits:
//!   the reported value is at least the true one and at most 0.1% above it, and never above
//!   `max_us`). `max_us` is the largest value, exact. `count` is how many values there were.
//!   All five are 0 when there were no values. Values above [`MAX_TRACKED_US`] (1 hour) are
//!   recorded as 1 hour.
//! - `active_connections`: open connections at the tick, as the writer reports them.
//! - `generation`: the config generation in force at the tick. `generation_changed` is true
//!   when it differs from the previous sample's, or when the writer called
//!   [`Metrics::mark_generation`] with a new generation since the previous sample. The first
//!   sample has nothing to differ from, so it is marked only after such a call. `generation_applied_at_ms` is when that apply happened, if the
//!   writer said so with `mark_generation`.
//! - `at_ms` is the `now_ms` given to `tick` (the end of the interval), and `interval_ms` the
//!   time since the previous tick (or since start): about 1000, more if the writer was late, so
//!   a rate is `requests * 1000 / interval_ms`.
//!
//! ```ignore
//! use wharf_core::metrics::Metrics;
//!
//! let mut metrics = Metrics::new(1_000);
//! // The writer: `metrics.observe(&record)` for each record of a batch, and once a second:
//! let sample = metrics.tick(2_000, 3, 1);
//! assert_eq!((sample.requests, sample.active_connections, sample.interval_ms), (0, 3, 1_000));
//! assert_eq!(metrics.timeline().count(), 1);
//! ```

use std::collections::VecDeque;
use std::fmt;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::observe::access::Outcome;
use crate::observe::packed::Numbers;

/// The longest duration the histograms tell apart: 1 hour, in microseconds. Longer ones are
/// recorded as this.
pub(crate) const MAX_TRACKED_US: u64 = 3_600_000_000;

/// Samples kept in [`Metrics::timeline`]: 960, 16 minutes at one tick per second, so the
/// last 15 minutes are there even when some ticks come early.
pub(crate) const TIMELINE_CAPACITY: usize = 960;

/// Significant decimal digits kept by the histograms: every reported percentile is within
/// 0.1% of the true one.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Per-second samples, fed from access records.
///
/// Owned by one thread (the access log's writer); not shared.
#[derive(Debug)]
pub(crate) struct Metrics {
    last_tick_ms: u64,
    second: Tally,
    timeline: VecDeque<MetricsSample>,
    /// The last generation seen by `tick` or `mark_generation`; `None` before either.
    generation: Option<u64>,
    /// When `mark_generation` saw a new generation since the last tick.
    applied_at_ms: Option<u64>,
}

impl Metrics {
    /// Starts counting at `started_ms` (milliseconds since the Unix epoch), with an empty
    /// timeline.
    ///
    /// Allocates the four histograms (about 190 KB each) and the timeline up front, so that
    /// neither `observe` nor `tick` allocates.
    pub(crate) fn new(started_ms: u64) -> Metrics {
        Metrics {
            last_tick_ms: started_ms,
            second: Tally::new(),
            timeline: VecDeque::with_capacity(TIMELINE_CAPACITY),
            generation: None,
            applied_at_ms: None,
        }
    }

    /// Counts one request in the current second.
    ///
    /// O(1) and does not allocate. See the module docs for how each field is counted.
    pub(crate) fn observe(&mut self, record: &Numbers) {
        self.second.observe(record);
    }

    /// Notes that config `generation` was applied at `at_ms`, so the next sample is marked
    /// as a change even if the generation is back where it was by then.
    ///
    /// Marking the generation already in force is not a change. The sample's `generation` is
    /// still the one given to the next `tick`.
    pub(crate) fn mark_generation(&mut self, generation: u64, at_ms: u64) {
        if self.generation.is_some_and(|known| known != generation) {
            self.applied_at_ms = Some(at_ms);
        }
        self.generation = Some(generation);
    }

    /// Closes the current second: returns its sample, appends it to the timeline (dropping
    /// the oldest beyond [`TIMELINE_CAPACITY`]) and starts the next second.
    ///
    /// `now_ms` is the end of the interval (milliseconds since the Unix epoch),
    /// `active_connections` the connections open now, `generation` the config generation in
    /// force now.
    pub(crate) fn tick(
        &mut self,
        now_ms: u64,
        active_connections: usize,
        generation: u64,
    ) -> MetricsSample {
        let generation_changed = self.applied_at_ms.is_some()
            || self.generation.is_some_and(|known| known != generation);
        let second = &self.second;
        let sample = MetricsSample {
            at_ms: now_ms,
            interval_ms: now_ms.saturating_sub(self.last_tick_ms),
            requests: second.requests,
            bytes: second.bytes,
            status: second.status,
            active_connections,
            errors: second.errors,
            aborted: second.aborted,
            ttfb: second.ttfb.percentiles(),
            total: second.total.percentiles(),
            resolve: second.resolve.percentiles(),
            respond: second.respond.percentiles(),
            generation,
            generation_changed,
            generation_applied_at_ms: self.applied_at_ms.take(),
        };
        self.second.clear();
        self.last_tick_ms = now_ms;
        self.generation = Some(generation);
        if self.timeline.len() == TIMELINE_CAPACITY {
            self.timeline.pop_front();
        }
        self.timeline.push_back(sample.clone());
        sample
    }

    /// The samples kept, oldest first: the last [`TIMELINE_CAPACITY`] ticks (16 minutes).
    #[cfg(test)]
    pub(crate) fn timeline(
        &self,
    ) -> impl DoubleEndedIterator<Item = &MetricsSample> + ExactSizeIterator + '_ {
        self.timeline.iter()
    }
}

/// One second of traffic, closed by [`Metrics::tick`]. The module docs say what each number
/// means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSample {
    /// When the sample was closed (the end of its interval), in milliseconds since the Unix
    /// epoch.
    pub at_ms: u64,
    /// Milliseconds since the previous sample (or since start): about 1000.
    pub interval_ms: u64,
    /// Requests observed in the interval.
    pub requests: u64,
    /// Body bytes of those requests.
    pub bytes: u64,
    /// Those requests by status class; adds up to `requests`.
    pub status: StatusCounts,
    /// Connections open at the tick.
    pub active_connections: usize,
    /// Requests that failed: outcome error or timed out, or a 5xx status.
    pub errors: u64,
    /// Requests the client abandoned before the response was complete.
    pub aborted: u64,
    /// Time to first byte of the requests that got a response.
    pub ttfb: Percentiles,
    /// Total duration of every request.
    pub total: Percentiles,
    /// The first byte's first phase: from the head to the route's file resolved (issue 19).
    #[serde(default)]
    pub resolve: Percentiles,
    /// The first byte's second phase: from the file resolved to the first byte (issue 19).
    #[serde(default)]
    pub respond: Percentiles,
    /// The config generation in force at the tick.
    pub generation: u64,
    /// Whether the config generation changed since the previous sample.
    pub generation_changed: bool,
    /// When the change was applied, if the writer marked it with
    /// [`Metrics::mark_generation`].
    pub generation_applied_at_ms: Option<u64>,
}

/// Requests by the class of the status sent. The fields add up to the request count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    /// 1xx.
    pub informational: u64,
    /// 2xx.
    pub success: u64,
    /// 3xx (including 304 Not Modified).
    pub redirection: u64,
    /// 4xx.
    pub client_error: u64,
    /// 5xx.
    pub server_error: u64,
    /// Status 0: the connection closed before any response.
    pub no_response: u64,
    /// Any other status (1..=99, 600 and up); Wharf sends none, so this stays 0.
    pub other: u64,
}

impl StatusCounts {
    fn count(&mut self, status: u16) {
        let class = match status {
            0 => &mut self.no_response,
            100..=199 => &mut self.informational,
            200..=299 => &mut self.success,
            300..=399 => &mut self.redirection,
            400..=499 => &mut self.client_error,
            500..=599 => &mut self.server_error,
            _ => &mut self.other,
        };
        *class += 1;
    }
}

/// Latency percentiles in microseconds, from an HDR histogram (3 significant digits).
///
/// All fields are 0 when there were no values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Percentiles {
    /// Median: half the values are at or below it (within 0.1%).
    pub p50_us: u64,
    /// 90% of the values are at or below it (within 0.1%).
    pub p90_us: u64,
    /// 99% of the values are at or below it (within 0.1%).
    pub p99_us: u64,
    /// The largest value, exact (capped at [`MAX_TRACKED_US`]).
    pub max_us: u64,
    /// How many values there were.
    pub count: u64,
}

/// The counts and histograms of the current second.
#[derive(Debug)]
struct Tally {
    requests: u64,
    bytes: u64,
    status: StatusCounts,
    errors: u64,
    aborted: u64,
    ttfb: Latency,
    total: Latency,
    resolve: Latency,
    respond: Latency,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            requests: 0,
            bytes: 0,
            status: StatusCounts::default(),
            errors: 0,
            aborted: 0,
            ttfb: Latency::new(),
            total: Latency::new(),
            resolve: Latency::new(),
            respond: Latency::new(),
        }
    }

    fn observe(&mut self, record: &Numbers) {
        self.requests += 1;
        self.bytes = self.bytes.saturating_add(record.body_bytes);
        self.status.count(record.status);
        let failed = matches!(record.outcome, Outcome::Error | Outcome::TimedOut);
        if failed || (500..=599).contains(&record.status) {
            self.errors += 1;
        }
        if record.outcome == Outcome::ClientAborted {
            self.aborted += 1;
        }
        if let Some(ttfb_us) = record.ttfb_us {
            self.ttfb.record(ttfb_us);
            let resolve_us = record.timing.and_then(|timing| timing.resolve_us);
            if let Some(resolve_us) = resolve_us.map(u64::from) {
                self.resolve.record(resolve_us);
                self.respond.record(ttfb_us.saturating_sub(resolve_us));
            }
        }
        self.total.record(record.total_us);
    }

    /// Back to zero, keeping the histograms' memory.
    fn clear(&mut self) {
        self.requests = 0;
        self.bytes = 0;
        self.status = StatusCounts::default();
        self.errors = 0;
        self.aborted = 0;
        self.ttfb.clear();
        self.total.clear();
        self.resolve.clear();
        self.respond.clear();
    }
}

/// One latency distribution: the histogram for percentiles, the exact maximum beside it.
struct Latency {
    histogram: Histogram<u64>,
    max_us: u64,
}

impl Latency {
    fn new() -> Latency {
        // Startup invariant: the bounds are constants that satisfy `new_with_bounds`
        // (1 <= low, 2 * low <= high, sigfig <= 5), so this cannot fail.
        let histogram = Histogram::new_with_bounds(1, MAX_TRACKED_US, SIGNIFICANT_DIGITS)
            .expect("constant histogram bounds are valid");
        Latency {
            histogram,
            max_us: 0,
        }
    }

    fn record(&mut self, value_us: u64) {
        let value_us = value_us.min(MAX_TRACKED_US);
        // In range after the clamp, so this never resizes (allocates) or fails.
        self.histogram.saturating_record(value_us);
        self.max_us = self.max_us.max(value_us);
    }

    fn percentiles(&self) -> Percentiles {
        let count = self.histogram.len();
        if count == 0 {
            return Percentiles::default();
        }
        // HDR reports the top of the value's bucket; capping at the exact maximum keeps
        // p99 <= max (a single 5000 µs value would otherwise have p50 = 5003 > max = 5000).
        let at = |quantile| self.histogram.value_at_quantile(quantile).min(self.max_us);
        Percentiles {
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            max_us: self.max_us,
            count,
        }
    }

    fn clear(&mut self) {
        // Idle seconds are common; skip the 190 KB wipe when nothing was recorded.
        if !self.histogram.is_empty() {
            self.histogram.reset();
        }
        self.max_us = 0;
    }
}

impl fmt::Debug for Latency {
    // The derived form would print all ~24,000 buckets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latency")
            .field("count", &self.histogram.len())
            .field("max_us", &self.max_us)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;

/// The module's documented example, run as a test (the items are private to the crate, so a
/// doctest cannot reach them).
#[cfg(test)]
mod doc_example {
    #[test]
    fn metrics() {
        use crate::observe::metrics::Metrics;

        let mut metrics = Metrics::new(1_000);
        // The writer: `metrics.observe(&record)` for each record of a batch, and once a second:
        let sample = metrics.tick(2_000, 3, 1);
        assert_eq!(
            (
                sample.requests,
                sample.active_connections,
                sample.interval_ms
            ),
            (0, 3, 1_000)
        );
        assert_eq!(metrics.timeline().count(), 1);
    }
}
