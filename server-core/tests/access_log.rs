//! The access log is complete: every request is recorded exactly once with the right status,
//! bytes and outcome, including requests that fail, time out or are aborted by the client.
//! Real sockets, a real log directory, records read back from disk.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wharf_core::ExportFilter;
use wharf_core::{sessions, LogLine, SessionReader};
use wharf_core::{AccessLog, LogSettings};
use wharf_core::{AccessRecord, Outcome, Served};
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};

const BIG: usize = 16 << 20;
const SMALL: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

struct Fixture {
    _site: tempfile::TempDir,
    logs: tempfile::TempDir,
    server: ServerHandle,
    log: AccessLog,
}

async fn fixture() -> Fixture {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("small.txt"), SMALL).unwrap();
    std::fs::write(site.path().join("big.bin"), vec![7u8; BIG]).unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = AccessLog::start(LogSettings {
        dir: Some(logs.path().to_path_buf()),
        ..LogSettings::default()
    })
    .unwrap();
    let config = ServerConfig::try_from(ConfigDraft {
        root: Some(site.path().to_path_buf()),
        port: Some(0),
        header_read_timeout_ms: Some(300),
        compression: Some(false),
        ..ConfigDraft::default()
    })
    .unwrap();
    let server = ServerHandle::start_logged(config, Some(log.clone()))
        .await
        .unwrap();
    Fixture {
        _site: site,
        logs,
        server,
        log,
    }
}

/// Sends `request` and reads until the server closes.
async fn exchange(addr: SocketAddr, request: String) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    response
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nUser-Agent: wharf-test\r\nReferer: http://t/from\r\n{extra}\r\n")
}

/// What a test request should leave in the log.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    status: u16,
    bytes: Option<u64>,
    outcome: Outcome,
    served: Served,
}

fn read_log(fixture: &Fixture) -> Vec<AccessRecord> {
    let all = sessions(fixture.logs.path()).unwrap();
    assert_eq!(all.len(), 1, "one session");
    SessionReader::open(&all[0])
        .unwrap()
        .map(|line| match line.unwrap() {
            LogLine::Request(record) => record,
            LogLine::Lost { count, .. } => panic!("{count} records lost"),
        })
        .collect()
}

#[tokio::test]
async fn every_request_is_recorded_once_with_its_status_bytes_and_outcome() {
    let fixture = fixture().await;
    let addr = fixture.server.local_addr();
    let etag = {
        let response = exchange(addr, get("/small.txt?warmup", "")).await;
        let response = common::parse(&response);
        response.header("etag").unwrap().to_owned()
    };
    let mut expected: HashMap<String, Expected> = HashMap::new();
    expected.insert(
        "/small.txt?warmup".into(),
        Expected {
            status: 200,
            bytes: Some(SMALL.len() as u64),
            outcome: Outcome::Completed,
            served: Served::File,
        },
    );

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..40 {
        let (target, request, want) = match n % 5 {
            0 => {
                let target = format!("/small.txt?n={n}");
                let want = Expected {
                    status: 200,
                    bytes: Some(SMALL.len() as u64),
                    outcome: Outcome::Completed,
                    served: Served::File,
                };
                (target.clone(), get(&target, ""), want)
            }
            1 => {
                let target = format!("/small.txt?n={n}");
                let want = Expected {
                    status: 304,
                    bytes: Some(0),
                    outcome: Outcome::Completed,
                    served: Served::NotModified,
                };
                (
                    target.clone(),
                    get(&target, &format!("If-None-Match: {etag}\r\n")),
                    want,
                )
            }
            2 => {
                let target = format!("/small.txt?n={n}");
                let want = Expected {
                    status: 206,
                    bytes: Some(10),
                    outcome: Outcome::Completed,
                    served: Served::Range,
                };
                (target.clone(), get(&target, "Range: bytes=0-9\r\n"), want)
            }
            3 => {
                let target = format!("/missing-{n}.html?x=%3Cscript%3E");
                let want = Expected {
                    status: 404,
                    bytes: None,
                    outcome: Outcome::Completed,
                    served: Served::Status,
                };
                (target.clone(), get(&target, ""), want)
            }
            _ => {
                // HTTP/1.1 without Host: refused by the server with 400.
                let target = format!("/small.txt?nohost={n}");
                let request = format!("GET {target} HTTP/1.1\r\nConnection: close\r\n\r\n");
                let want = Expected {
                    status: 400,
                    bytes: None,
                    outcome: Outcome::Completed,
                    served: Served::Status,
                };
                (target, request, want)
            }
        };
        expected.insert(target, want);
        tasks.spawn(exchange(addr, request));
    }
    while tasks.join_next().await.is_some() {}

    // Aborted mid-body: read a little of a 16 MiB download, then hang up.
    for n in 0..3 {
        let target = format!("/big.bin?abort={n}");
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(get(&target, "").as_bytes()).await.unwrap();
        let mut some = vec![0u8; 64 * 1024];
        stream.read_exact(&mut some).await.unwrap();
        drop(stream);
        expected.insert(
            target,
            Expected {
                status: 200,
                bytes: None,
                outcome: Outcome::ClientAborted,
                served: Served::File,
            },
        );
    }
    // Timed out: half a request head, then silence past the 300 ms header timeout.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /small.txt?slow HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest))
        .await
        .expect("cut off at the header timeout")
        .ok();
    // Garbage: hyper answers 400 itself; the request line never parsed.
    let garbage = exchange(addr, "\x01\x02 nonsense\r\n\r\n".into()).await;
    assert!(garbage.starts_with(b"HTTP/1.1 400"));
    // A connection that never says anything is not a request.
    let silent = TcpStream::connect(addr).await.unwrap();

    let total = expected.len() + 2;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            fixture.log.sync();
            if fixture.log.stats().logged as usize >= total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every request logged");
    drop(silent);
    let stats = fixture.log.stats();
    assert_eq!(stats.lost, 0);

    let records = read_log(&fixture);
    assert_eq!(records.len(), total, "exactly one record per request");
    let ids: Vec<u64> = records.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        (1..=total as u64).collect::<Vec<_>>(),
        "ids count from 1"
    );
    for record in &records {
        if record.target.is_empty() {
            continue;
        }
        let want = expected
            .remove(&record.target)
            .unwrap_or_else(|| panic!("unexpected or duplicate record {record:?}"));
        let got = Expected {
            status: record.status,
            bytes: want.bytes.map(|_| record.body_bytes),
            outcome: record.outcome,
            served: record.served,
        };
        assert_eq!(got, want, "{}", record.target);
        assert_eq!(record.completed, record.outcome == Outcome::Completed);
        if record.outcome == Outcome::ClientAborted {
            assert!(record.body_bytes >= 64 * 1024 && record.body_bytes < BIG as u64);
        }
        assert_eq!(record.generation, 1);
        assert!(record.peer.ip().is_loopback());
        assert!(record.total_us >= record.ttfb_us.unwrap_or(0));
        if record.target.contains("nohost") {
            assert_eq!(record.user_agent, None);
        } else {
            assert_eq!(record.user_agent.as_deref(), Some("wharf-test"));
            assert_eq!(record.referer.as_deref(), Some("http://t/from"));
            assert_eq!(record.method, "GET");
            assert_eq!(record.version, "HTTP/1.1");
        }
    }
    assert!(expected.is_empty(), "never logged: {:?}", expected.keys());

    // The CSV export holds the same rows: one per request, with the same status and outcome.
    let mut csv = Vec::new();
    let summary =
        wharf_core::export_csv(fixture.logs.path(), &ExportFilter::default(), &mut csv).unwrap();
    assert_eq!(summary.records as usize, total);
    assert_eq!((summary.lost, summary.retention_dropped), (0, 0));
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.split("\r\n").filter(|row| !row.is_empty()).collect();
    assert_eq!(rows.len(), total + 1, "a header and one row per request");
    for record in &records {
        let row = rows[record.id as usize];
        assert!(row.starts_with(&format!("{},", record.id)), "{row}");
        assert!(row.contains(&format!(",{},", record.status)), "{row}");
        assert!(row.contains(record.outcome.as_str()), "{row}");
        assert!(row.contains(&record.target), "{row}");
    }

    let unparsed: Vec<(u16, Outcome)> = records
        .iter()
        .filter(|r| r.target.is_empty())
        .map(|r| (r.status, r.outcome))
        .collect();
    assert_eq!(unparsed.len(), 2);
    assert!(unparsed.contains(&(0, Outcome::TimedOut)), "{unparsed:?}");
    assert!(unparsed.contains(&(400, Outcome::Error)), "{unparsed:?}");
}

#[tokio::test]
async fn live_subscribers_get_batches_and_a_slow_one_is_told_what_it_missed() {
    let fixture = fixture().await;
    let addr = fixture.server.local_addr();
    let mut live = fixture.log.subscribe();
    // Subscribed and never read until the end: it must not hold anyone up.
    let mut slow = fixture.log.subscribe();
    let mut seen = 0;
    for round in 0..30 {
        for n in 0..10 {
            exchange(addr, get(&format!("/small.txt?r={round}&n={n}"), "")).await;
        }
        fixture.log.sync();
        while let Ok(batch) = live.try_recv() {
            assert_eq!(batch.missed, 0);
            seen += batch.records.len();
        }
    }
    assert_eq!(seen, 300, "the live subscriber saw every record");
    let mut slow_seen = 0;
    let mut slow_missed = 0;
    while let Ok(batch) = slow.try_recv() {
        slow_seen += batch.records.len() as u64;
        slow_missed += batch.missed;
    }
    // Its buffer held the first batches; the rest were skipped for it alone. It learns how
    // many once there is room again.
    exchange(addr, get("/small.txt?last", "")).await;
    fixture.log.sync();
    while let Ok(batch) = slow.try_recv() {
        slow_seen += batch.records.len() as u64;
        slow_missed += batch.missed;
    }
    assert!(slow_missed > 0, "the slow subscriber fell behind");
    assert_eq!(
        slow_seen + slow_missed,
        301,
        "seen plus missed is everything"
    );
    assert_eq!(
        fixture.log.stats().logged,
        301,
        "the durable log has every record"
    );
    assert_eq!(read_log(&fixture).len(), 301);
}

#[tokio::test]
async fn metrics_samples_count_the_served_requests_and_mark_a_new_generation() {
    let fixture = fixture().await;
    let addr = fixture.server.local_addr();
    let mut samples = fixture.log.subscribe_metrics();
    for n in 0..20 {
        exchange(addr, get(&format!("/small.txt?m={n}"), "")).await;
    }
    for n in 0..5 {
        exchange(addr, get(&format!("/missing?m={n}"), "")).await;
    }
    // Samples close once a second; collect until all 25 requests are counted.
    let mut requests = 0;
    let mut counted = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while requests < 25 {
            let sample = samples.recv().await.unwrap();
            requests += sample.requests;
            counted.push(sample);
        }
    })
    .await
    .expect("samples within 5 s");
    assert_eq!(requests, 25);
    let success: u64 = counted.iter().map(|s| s.status.success).sum();
    let client_error: u64 = counted.iter().map(|s| s.status.client_error).sum();
    assert_eq!((success, client_error), (20, 5));
    let busy = counted.iter().find(|s| s.requests > 0).unwrap();
    assert!(busy.ttfb.count > 0 && busy.ttfb.p50_us > 0 && busy.ttfb.max_us >= busy.ttfb.p99_us);
    assert!(busy.total.p99_us >= busy.ttfb.p50_us);
    assert_eq!(busy.generation, 1);

    let root = fixture.server.config().root().clone();
    fixture
        .server
        .apply(ConfigDraft {
            root: Some(root),
            port: Some(0),
            cache_control: Some("max-age=1".into()),
            ..ConfigDraft::default()
        })
        .await
        .unwrap();
    let marked = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let sample = samples.recv().await.unwrap();
            if sample.generation == 2 {
                return sample;
            }
        }
    })
    .await
    .expect("a sample on generation 2");
    assert!(marked.generation_changed, "the new generation is marked");
    assert!(fixture.log.timeline().len() >= counted.len());
}
