use super::*;
use crate::observe::access::AccessRecord;
use crate::observe::packed::Numbers;

const START_MS: u64 = 1_795_230_000_000;

/// A completed 200 whose first byte took `ttfb_us` and whole response `total_us`.
fn record(ttfb_us: u64, total_us: u64) -> AccessRecord {
    AccessRecord {
        start_ms: START_MS,
        ttfb_us: Some(ttfb_us),
        total_us,
        ..AccessRecord::example("/index.html")
    }
}

fn ended(status: u16, outcome: Outcome) -> AccessRecord {
    AccessRecord {
        status,
        outcome,
        completed: outcome == Outcome::Completed,
        ..record(10, 20)
    }
}

/// Observes one record per value, with the same value as ttfb and total.
fn observe_all(metrics: &mut Metrics, values_us: impl IntoIterator<Item = u64>) {
    for value_us in values_us {
        metrics.observe(&Numbers::of(&record(value_us, value_us)));
    }
}

/// HDR with 3 significant digits reports a value at least the true one and less than
/// 0.1% above it.
#[track_caller]
fn assert_within_precision(reported: u64, true_value: u64) {
    assert!(
        true_value <= reported && reported <= true_value + true_value / 1000,
        "reported {reported}, true value {true_value}"
    );
}

#[test]
fn uniform_latencies_give_their_true_percentiles() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, 1..=10_000);
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    for percentiles in [sample.ttfb, sample.total] {
        assert_within_precision(percentiles.p50_us, 5_000);
        assert_within_precision(percentiles.p90_us, 9_000);
        assert_within_precision(percentiles.p99_us, 9_900);
        assert_eq!(percentiles.max_us, 10_000);
        assert_eq!(percentiles.count, 10_000);
    }
    // Pinned to HDR's buckets: 5000 is the start of a 4-wide bucket, 9900 is inside an
    // 8-wide one starting at 9896.
    assert_eq!(
        (
            sample.total.p50_us,
            sample.total.p90_us,
            sample.total.p99_us
        ),
        (5_003, 9_007, 9_903)
    );
}

#[test]
fn one_percent_slow_stays_out_of_p99_and_two_percent_does_not() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, std::iter::repeat_n(100, 9_900));
    observe_all(&mut metrics, std::iter::repeat_n(50_000, 100));
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    assert_eq!(
        sample.total,
        Percentiles {
            p50_us: 100,
            p90_us: 100,
            p99_us: 100,
            max_us: 50_000,
            count: 10_000,
        }
    );

    observe_all(&mut metrics, std::iter::repeat_n(100, 9_800));
    observe_all(&mut metrics, std::iter::repeat_n(50_000, 200));
    let sample = metrics.tick(START_MS + 2_000, 0, 1);
    assert_eq!((sample.total.p50_us, sample.total.p90_us), (100, 100));
    // The top of 50,000's bucket (32 wide) would be 50,015; the exact max caps it.
    assert_eq!(sample.total.p99_us, 50_000);
    assert_eq!(sample.total.max_us, 50_000);
}

#[test]
fn a_single_huge_outlier_shows_in_max_only() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, std::iter::repeat_n(200, 999));
    observe_all(&mut metrics, [600_000_000]); // ten minutes
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    assert_eq!(
        sample.total,
        Percentiles {
            p50_us: 200,
            p90_us: 200,
            p99_us: 200,
            max_us: 600_000_000,
            count: 1_000,
        }
    );
}

#[test]
fn durations_beyond_an_hour_are_clamped_not_fatal() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, [u64::MAX, 2 * MAX_TRACKED_US, 0]);
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    assert_eq!(
        sample.total,
        Percentiles {
            p50_us: MAX_TRACKED_US,
            p90_us: MAX_TRACKED_US,
            p99_us: MAX_TRACKED_US,
            max_us: MAX_TRACKED_US,
            count: 3,
        }
    );
    assert_eq!(sample.ttfb.max_us, MAX_TRACKED_US);
}

#[test]
fn a_single_value_is_reported_exactly() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, [5_000]);
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    let exact = Percentiles {
        p50_us: 5_000,
        p90_us: 5_000,
        p99_us: 5_000,
        max_us: 5_000,
        count: 1,
    };
    assert_eq!((sample.ttfb, sample.total), (exact, exact));
}

#[test]
fn an_empty_second_is_all_zeros() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, [300, 400]);
    metrics.tick(START_MS + 1_000, 2, 7);
    let sample = metrics.tick(START_MS + 2_000, 0, 7);
    assert_eq!(
        sample,
        MetricsSample {
            at_ms: START_MS + 2_000,
            interval_ms: 1_000,
            requests: 0,
            bytes: 0,
            status: StatusCounts::default(),
            active_connections: 0,
            errors: 0,
            aborted: 0,
            ttfb: Percentiles::default(),
            total: Percentiles::default(),
            resolve: Percentiles::default(),
            respond: Percentiles::default(),
            generation: 7,
            generation_changed: false,
            generation_applied_at_ms: None,
        }
    );
}

#[test]
fn each_sample_holds_only_its_own_second() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, std::iter::repeat_n(100, 10));
    let first = metrics.tick(START_MS + 1_000, 0, 1);
    observe_all(&mut metrics, std::iter::repeat_n(9_000, 5));
    let second = metrics.tick(START_MS + 2_000, 0, 1);
    assert_eq!(
        (first.requests, first.bytes, first.total.max_us),
        (10, 1_000, 100)
    );
    assert_eq!((second.requests, second.bytes), (5, 500));
    assert_eq!((second.total.p50_us, second.total.count), (9_000, 5));
}

#[test]
fn a_record_belongs_to_the_second_it_is_observed_in() {
    let mut metrics = Metrics::new(START_MS);
    metrics.tick(START_MS + 1_000, 0, 1);
    // Started a minute before this Metrics existed; it still counts now.
    let old = AccessRecord {
        start_ms: START_MS - 60_000,
        ..record(10, 60_000_000)
    };
    metrics.observe(&Numbers::of(&old));
    let sample = metrics.tick(START_MS + 2_000, 0, 1);
    assert_eq!((sample.requests, sample.total.max_us), (1, 60_000_000));
}

#[test]
fn records_without_a_response_count_everywhere_but_ttfb() {
    let mut metrics = Metrics::new(START_MS);
    let unanswered = AccessRecord {
        status: 0,
        ttfb_us: None,
        total_us: 5_000_000,
        body_bytes: 0,
        outcome: Outcome::TimedOut,
        completed: false,
        ..record(0, 0)
    };
    metrics.observe(&Numbers::of(&unanswered));
    metrics.observe(&Numbers::of(&record(40, 80)));
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    assert_eq!(sample.requests, 2);
    assert_eq!((sample.status.no_response, sample.status.success), (1, 1));
    assert_eq!((sample.ttfb.count, sample.ttfb.max_us), (1, 40));
    assert_eq!((sample.total.count, sample.total.max_us), (2, 5_000_000));
    assert_eq!(sample.errors, 1);
}

#[test]
fn statuses_are_counted_by_class_and_add_up_to_requests() {
    let mut metrics = Metrics::new(START_MS);
    let statuses = [
        0, 0, 100, 101, 199, 200, 206, 299, 301, 304, 399, 400, 404, 499, 500, 503, 599, 99, 600,
        999,
    ];
    for status in statuses {
        metrics.observe(&Numbers::of(&ended(status, Outcome::Completed)));
    }
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    let expected = StatusCounts {
        informational: 3,
        success: 3,
        redirection: 3,
        client_error: 3,
        server_error: 3,
        no_response: 2,
        other: 3,
    };
    assert_eq!(sample.status, expected);
    assert_eq!(sample.requests, statuses.len() as u64);
}

#[test]
fn errors_and_aborts_are_counted_once_each() {
    let cases = [
        (200, Outcome::Completed, false, false),
        (404, Outcome::Completed, false, false),
        (304, Outcome::Completed, false, false),
        (400, Outcome::Error, true, false),
        (0, Outcome::Error, true, false),
        (0, Outcome::TimedOut, true, false),
        (408, Outcome::TimedOut, true, false),
        (500, Outcome::Completed, true, false),
        (503, Outcome::Error, true, false),
        (200, Outcome::ClientAborted, false, true),
        (0, Outcome::ClientAborted, false, true),
        (500, Outcome::ClientAborted, true, true),
    ];
    for (status, outcome, error, aborted) in cases {
        let mut metrics = Metrics::new(START_MS);
        metrics.observe(&Numbers::of(&ended(status, outcome)));
        let sample = metrics.tick(START_MS + 1_000, 0, 1);
        assert_eq!(
            (sample.errors, sample.aborted),
            (u64::from(error), u64::from(aborted)),
            "status {status}, {outcome:?}"
        );
    }
}

#[test]
fn the_timeline_rolls_over_at_its_capacity() {
    const { assert!(TIMELINE_CAPACITY >= 900) };
    let mut metrics = Metrics::new(START_MS);
    let ticks = TIMELINE_CAPACITY as u64 + 100;
    for second in 1..=ticks {
        // `second` requests in each second, so each sample can be told apart.
        observe_all(&mut metrics, std::iter::repeat_n(100, second as usize));
        metrics.tick(START_MS + second * 1_000, 0, 1);
        assert_eq!(
            metrics.timeline().len() as u64,
            second.min(TIMELINE_CAPACITY as u64)
        );
    }
    let requests: Vec<u64> = metrics.timeline().map(|sample| sample.requests).collect();
    let expected: Vec<u64> = (101..=ticks).collect();
    assert_eq!(requests, expected, "the oldest 100 are gone, oldest first");
    let newest = metrics.timeline().next_back().unwrap();
    assert_eq!(newest.at_ms, START_MS + ticks * 1_000);
    let oldest = metrics.timeline().next().unwrap();
    assert!(newest.at_ms - oldest.at_ms >= 15 * 60 * 1_000);
}

#[test]
fn generation_changes_are_marked_exactly_where_they_happen() {
    let mut metrics = Metrics::new(START_MS);
    let generations = [1, 1, 2, 2, 2, 3, 5, 5];
    let marked: Vec<bool> = generations
        .iter()
        .zip(1..)
        .map(|(&generation, second)| {
            metrics
                .tick(START_MS + second * 1_000, 0, generation)
                .generation_changed
        })
        .collect();
    assert_eq!(
        marked,
        [false, false, true, false, false, true, true, false]
    );
    assert!(metrics
        .timeline()
        .all(|sample| sample.generation_applied_at_ms.is_none()));

    // An explicit apply marks the next sample with its time, even if the tick then reports
    // the same generation as the previous sample.
    metrics.mark_generation(6, START_MS + 8_400);
    let sample = metrics.tick(START_MS + 9_000, 0, 6);
    assert!(sample.generation_changed);
    assert_eq!(sample.generation_applied_at_ms, Some(START_MS + 8_400));
    let sample = metrics.tick(START_MS + 10_000, 0, 6);
    assert!(!sample.generation_changed);
    assert_eq!(sample.generation_applied_at_ms, None);

    // Marking the generation already in force is no change.
    metrics.mark_generation(6, START_MS + 10_500);
    assert!(!metrics.tick(START_MS + 11_000, 0, 6).generation_changed);
}

#[test]
fn samples_record_their_interval_and_connections() {
    let mut metrics = Metrics::new(START_MS);
    let first = metrics.tick(START_MS + 1_000, 4, 1);
    let late = metrics.tick(START_MS + 3_500, 9, 1);
    assert_eq!(
        (first.at_ms, first.interval_ms, first.active_connections),
        (START_MS + 1_000, 1_000, 4)
    );
    assert_eq!(
        (late.at_ms, late.interval_ms, late.active_connections),
        (START_MS + 3_500, 2_500, 9)
    );
    // A clock that steps back gives an empty interval, not an overflow.
    assert_eq!(metrics.tick(START_MS, 0, 1).interval_ms, 0);
}

#[test]
fn samples_serialize_in_camel_case() {
    let mut metrics = Metrics::new(START_MS);
    observe_all(&mut metrics, [250]);
    metrics.mark_generation(1, START_MS + 100);
    let sample = metrics.tick(START_MS + 1_000, 3, 1);
    let json = serde_json::to_value(&sample).unwrap();
    assert_eq!(json["activeConnections"], 3);
    assert_eq!(json["intervalMs"], 1_000);
    assert_eq!(json["status"]["success"], 1);
    assert_eq!(json["status"]["noResponse"], 0);
    assert_eq!(json["total"]["p50Us"], 250);
    assert_eq!(json["ttfb"]["maxUs"], 250);
    assert_eq!(json["generationChanged"], false);
    assert_eq!(json["generationAppliedAtMs"], serde_json::Value::Null);
    let back: MetricsSample = serde_json::from_value(json).unwrap();
    assert_eq!(back, sample);
}

/// The first byte's phases (issue 19): over the records with a resolution, `resolve` is the
/// head to the lookup and `respond` the rest of the first byte; records without one (a proxied
/// request, an old record) count in `ttfb` only.
#[test]
fn the_first_byte_is_split_into_resolve_and_respond() {
    use crate::observe::timing::Timing;
    let mut metrics = Metrics::new(START_MS);
    let timed = |ttfb_us: u64, resolve_us: Option<u32>| AccessRecord {
        timing: Some(Timing {
            new_connection: false,
            since_accept_us: 1_000,
            tls_us: None,
            head_us: Some(5),
            resolve_us,
        }),
        ..record(ttfb_us, ttfb_us + 10)
    };
    for i in 1..=100u32 {
        metrics.observe(&Numbers::of(&timed(1_000 + u64::from(i), Some(i))));
    }
    metrics.observe(&Numbers::of(&timed(50_000, None)));
    metrics.observe(&Numbers::of(&record(60_000, 60_000)));
    let sample = metrics.tick(START_MS + 1_000, 0, 1);
    assert_eq!(sample.ttfb.count, 102);
    assert_eq!((sample.resolve.count, sample.respond.count), (100, 100));
    assert_eq!((sample.resolve.p50_us, sample.resolve.max_us), (50, 100));
    assert_eq!(
        (sample.respond.p50_us, sample.respond.max_us),
        (1_000, 1_000)
    );
    let next = metrics.tick(START_MS + 2_000, 0, 1);
    assert_eq!(
        (next.resolve, next.respond),
        (Percentiles::default(), Percentiles::default())
    );
}
