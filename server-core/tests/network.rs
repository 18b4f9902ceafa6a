//! Network rules (issue 18) on real sockets: each test asserts what happened (the fault, the
//! bytes that arrived, their order), never how long it took; `bench/network-accuracy.sh`
//! measures the timings.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{draft, get, logged, noise, parse, start_draft as start, start_logged, write_aged};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wharf_core::config::NetworkRuleDraft;
use wharf_core::Outcome;
use wharf_core::{ConfigDraft, ServerConfig};

const BIG: usize = 100_000;

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("index.html"), b"<p>home</p>");
    std::fs::create_dir_all(dir.path().join("api")).unwrap();
    write_aged(&dir.path().join("api/data.json"), b"{\"ok\":true}");
    std::fs::create_dir_all(dir.path().join("dir")).unwrap();
    write_aged(&dir.path().join("dir/a.txt"), b"a");
    write_aged(&dir.path().join("big.bin"), &noise(BIG, 7));
    write_aged(&dir.path().join("mib.bin"), &noise(1 << 20, 9));
    dir
}

/// A rule from the CLI's spelling, so the tests read like the README.
fn rule(text: &str) -> NetworkRuleDraft {
    wharf_core::config::parse_network_rule(text).unwrap()
}

fn with_rules(dir: &tempfile::TempDir, rules: &[&str]) -> ConfigDraft {
    ConfigDraft {
        network: Some(rules.iter().map(|text| rule(text)).collect()),
        ..draft(dir.path())
    }
}

/// Sends `GET path` and reads until the server closes or resets the connection, or nothing
/// comes for `quiet`. Returns the raw bytes and whether the read ended by a close or reset.
async fn read_until_end(addr: SocketAddr, path: &str, quiet: Duration) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let text = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match tokio::time::timeout(quiet, stream.read(&mut buf)).await {
            Err(_) => return (bytes, false),
            Ok(Ok(0) | Err(_)) => return (bytes, true),
            Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
        }
    }
}

fn body_of(bytes: &[u8]) -> Vec<u8> {
    parse(bytes).body
}

#[tokio::test]
async fn a_status_fault_answers_with_it_and_retry_after() {
    let dir = site();
    let server = start(with_rules(
        &dir,
        &["/api/** status=429", "/dir/* status=503"],
    ))
    .await;
    let addr = server.local_addr();
    let limited = get(addr, "/api/data.json").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    // A listing is shaped as a file is.
    let listing = get(addr, "/dir/").await;
    assert_eq!(listing.status, 503);
    assert_eq!(listing.header("retry-after"), Some("1"));
    let other = get(addr, "/index.html").await;
    assert_eq!(other.status, 200);
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn wharfs_own_endpoints_are_never_shaped() {
    let dir = site();
    let server = start(with_rules(&dir, &["/** status=503", "** status=503"])).await;
    let addr = server.local_addr();
    assert_eq!(get(addr, "/index.html").await.status, 503);
    let script = get(addr, "/__wharf/reload.js").await;
    assert_eq!(script.status, 200, "{}", script.text());
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_reset_comes_after_exactly_k_body_bytes() {
    let dir = site();
    let server = start(with_rules(&dir, &["/big.bin reset-after=1000"])).await;
    let (bytes, ended) =
        read_until_end(server.local_addr(), "/big.bin", Duration::from_secs(10)).await;
    assert!(ended, "the connection ends");
    let response = parse(&bytes);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-length"), Some(&*BIG.to_string()));
    assert_eq!(
        response.body,
        noise(BIG, 7)[..1000],
        "exactly the first 1000 bytes"
    );
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn offline_resets_before_any_byte() {
    let dir = site();
    let server = start(with_rules(&dir, &["/big.bin preset=offline"])).await;
    let (bytes, ended) =
        read_until_end(server.local_addr(), "/big.bin", Duration::from_secs(10)).await;
    assert!(ended);
    // As a refused connection looks to a page: no byte at all, so `fetch` rejects.
    assert!(bytes.is_empty(), "not even a head arrives: {bytes:?}");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_stall_sends_k_bytes_then_nothing_and_still_ends_with_its_connection() {
    let dir = site();
    let server = start(with_rules(&dir, &["/big.bin stall-after=1000"])).await;
    let addr = server.local_addr();
    let (bytes, ended) = read_until_end(addr, "/big.bin", Duration::from_secs(2)).await;
    assert!(!ended, "the server keeps the connection open");
    assert_eq!(body_of(&bytes), noise(BIG, 7)[..1000]);
    // The client has left: its stalled connection ends.
    wait_for(|| server.connections().is_empty()).await;
    // Cut from the window: it ends.
    let _open = stalled(addr).await;
    wait_for(|| server.connections().len() == 1).await;
    let id = server.connections()[0].id;
    assert!(server.close_connection(id));
    wait_for(|| server.connections().is_empty()).await;
    // Open while the server stops: the stop's deadline cuts it.
    let _open = stalled(addr).await;
    let report = tokio::time::timeout(
        Duration::from_secs(10),
        server.stop(Duration::from_millis(300)),
    )
    .await
    .expect("the stop completes at its deadline");
    assert_eq!(report.cut, 1, "{report:?}");
}

/// A connection whose answer has started and stalled.
async fn stalled(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let text = format!("GET /big.bin HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut first = [0; 512];
    assert!(stream.read(&mut first).await.unwrap() > 0);
    stream
}

/// Waits up to 10 s for `done`.
async fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not within 10 s");
}

#[tokio::test]
async fn a_transfer_in_flight_keeps_its_rule_across_apply() {
    let dir = site();
    let rules = ["/mib.bin rate=400000", "/index.html status=503"];
    let server = start(with_rules(&dir, &rules)).await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let text = format!("GET /mib.bin HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut bytes = vec![0; 1024];
    let n = stream.read(&mut bytes).await.unwrap();
    bytes.truncate(n);
    // The rules are turned off while the throttled transfer is under way.
    server.apply(draft(dir.path())).await.unwrap();
    assert_eq!(
        get(addr, "/index.html").await.status,
        200,
        "new connections: no rule"
    );
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut bytes))
        .await
        .unwrap()
        .unwrap();
    assert!(
        body_of(&bytes) == noise(1 << 20, 9),
        "the transfer in flight ends whole"
    );
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn sliced_writes_arrive_whole_and_in_order() {
    let dir = site();
    let server = start(with_rules(&dir, &["/big.bin slice=7"])).await;
    let response = get(server.local_addr(), "/big.bin").await;
    assert_eq!(response.status, 200);
    assert!(response.body == noise(BIG, 7), "byte-exact, in order");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_throttled_mebibyte_arrives_byte_exact() {
    let dir = site();
    for per in ["rule", "connection"] {
        let rules = [format!("/mib.bin rate=8000000 per={per}")];
        let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
        let server = start(with_rules(&dir, &rules)).await;
        let response = get(server.local_addr(), "/mib.bin").await;
        assert_eq!(response.status, 200);
        assert!(response.body == noise(1 << 20, 9), "per={per}: byte-exact");
        server.stop(Duration::from_secs(1)).await;
    }
}

/// A held head (`ttfb`), added latency with a jitter, and the Slow 3G preset each hold the
/// response back: no byte within a quarter of the least hold (a bound load cannot break, as
/// load only delays), then the whole answer; the record names the effects.
#[tokio::test]
async fn held_heads_hold_back_every_byte_then_the_whole_answer_arrives() {
    let dir = site();
    let (server, log, logs) = start_logged(with_rules(
        &dir,
        &[
            "/api/** ttfb=1200",
            "/dir/** latency=1000 jitter=200",
            "/index.html preset=slow-3g",
        ],
    ))
    .await;
    let addr = server.local_addr();
    let cases = [
        ("/api/data.json", 1_000, "ttfb"),
        ("/dir/a.txt", 800, "latency"),
        ("/index.html", 2_000, "throttle+latency"),
    ];
    for (path, least_ms, effects) in cases {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let text = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(text.as_bytes()).await.unwrap();
        let mut first = [0; 1];
        let early = Duration::from_millis(least_ms / 4);
        assert!(
            tokio::time::timeout(early, stream.read(&mut first))
                .await
                .is_err(),
            "{path}: a byte came before {early:?}"
        );
        let mut bytes = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut bytes))
            .await
            .unwrap()
            .unwrap();
        let answer = parse(&bytes);
        assert_eq!(answer.status, 200, "{path}");
        let file = std::fs::read(dir.path().join(&path[1..])).unwrap();
        // HTML also carries the live-reload script after the file.
        assert!(answer.body.starts_with(&file), "{path}");
        let note = logged(&log, logs.path(), path).await.network.unwrap();
        assert_eq!(note.effect_names(), effects, "{path}");
    }
    server.stop(Duration::from_secs(1)).await;
}

/// Two answers on one keep-alive connection share its bucket (`per=connection`): both arrive
/// whole, in order.
#[tokio::test]
async fn answers_on_one_connection_share_its_bucket_and_arrive_whole() {
    let dir = site();
    let server = start(with_rules(&dir, &["/big.bin rate=2000000 per=connection"])).await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let text = format!(
        "GET /big.bin HTTP/1.1\r\nHost: {addr}\r\n\r\n\
         GET /big.bin HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut bytes))
        .await
        .unwrap()
        .unwrap();
    let first = parse(&bytes);
    assert_eq!(first.status, 200);
    let (one, rest) = first.body.split_at(BIG);
    assert!(one == noise(BIG, 7), "the first answer whole");
    let second = parse(rest);
    assert!(second.body == noise(BIG, 7), "the second answer whole");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn probability_zero_never_and_one_always() {
    let dir = site();
    let server = start(with_rules(
        &dir,
        &["/api/** status=503 p=0", "/** status=503 p=1"],
    ))
    .await;
    let addr = server.local_addr();
    for _ in 0..20 {
        assert_eq!(get(addr, "/api/data.json").await.status, 200);
        assert_eq!(get(addr, "/index.html").await.status, 503);
    }
    server.stop(Duration::from_secs(1)).await;
}

/// `networkConditions` off keeps the rules and applies none; on again (a live apply), they
/// shape new requests once more.
#[tokio::test]
async fn one_switch_turns_every_rule_off_and_on_again() {
    let dir = site();
    let draft = with_rules(&dir, &["/api/** status=503", "/** preset=offline"]);
    let off = ConfigDraft {
        network_conditions: Some(false),
        ..draft.clone()
    };
    let server = start(off).await;
    let addr = server.local_addr();
    assert_eq!(get(addr, "/api/data.json").await.status, 200);
    assert_eq!(get(addr, "/index.html").await.status, 200);
    server.apply(draft).await.unwrap();
    assert_eq!(get(addr, "/api/data.json").await.status, 503);
    let (bytes, ended) = read_until_end(addr, "/index.html", Duration::from_secs(5)).await;
    assert!(ended && bytes.is_empty(), "offline again: {bytes:?}");
    server.stop(Duration::from_secs(1)).await;
}

#[test]
fn bad_rules_name_the_field_index_and_member() {
    let dir = site();
    let ok = rule("/a/** latency=10");
    let cases = [
        (rule("/b rate=0"), "network[1].rate: "),
        (rule("/b per=tab"), "network[1].per: "),
        (rule("/b preset=slow-5g"), "network[1].preset: "),
        (rule("/b status=42"), "network[1].status: "),
        (rule("/b p=1.5"), "network[1].p: "),
        (rule("/b slice=0"), "network[1].slice: "),
        (rule("b/**"), "network[1].path: "),
        (rule("/b/["), "network[1].path: "),
    ];
    for (bad, prefix) in cases {
        let err = ServerConfig::try_from(ConfigDraft {
            network: Some(vec![ok.clone(), bad]),
            ..draft(dir.path())
        })
        .unwrap_err();
        assert_eq!(err.field, "network");
        assert!(err.to_string().starts_with(prefix), "{err}");
    }
    let parse = wharf_core::config::parse_network_rule;
    assert!(parse("/a speed=1").unwrap_err().contains("\"speed\""));
    assert!(parse("/a rate=fast").unwrap_err().contains("rate="));
    assert!(parse("/a latency").is_err());
}

#[test]
fn toml_uses_the_cli_names() {
    let text = r#"
        root = "."
        [[network]]
        path = "/api/**"
        status = 503
        reset-after = 10
        p = 0.5
    "#;
    let file = wharf_core::ConfigFile::parse(std::path::Path::new("wharf.toml"), text.into());
    let rules = file.unwrap().draft.network.unwrap();
    assert_eq!(rules[0].status, Some(503));
    assert_eq!(rules[0].reset_after, Some(10));
    assert_eq!(rules[0].p, Some(0.5));
}

/// An answer a rule slowed but let through whole is recorded as completed, with every body
/// byte, over HTTP/1.1 keep-alive and close and HTTP/1.0 (the window showed throttled rows as
/// aborted: the shaped body never said it had ended).
#[tokio::test]
async fn a_slowed_answer_that_arrives_whole_is_recorded_completed() {
    let dir = site();
    let (server, log, logs) = start_logged(with_rules(
        &dir,
        &["/big.bin rate=5000000 latency=5 slice=4096"],
    ))
    .await;
    let addr = server.local_addr();
    for (query, head) in [
        ("?keep", "HTTP/1.1\r\nHost: {addr}"),
        ("?close", "HTTP/1.1\r\nHost: {addr}\r\nConnection: close"),
        ("?ten", "HTTP/1.0"),
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = head.replace("{addr}", &addr.to_string());
        let text = format!("GET /big.bin{query} {head}\r\n\r\n");
        stream.write_all(text.as_bytes()).await.unwrap();
        let mut bytes = Vec::new();
        let mut buf = vec![0; 64 * 1024];
        // Until the whole body is in (a keep-alive connection stays open after it).
        while parse_len(&bytes) != Some(BIG) {
            let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_ne!(n, 0, "{query}: closed before the whole body");
            bytes.extend_from_slice(&buf[..n]);
        }
        assert!(body_of(&bytes) == noise(BIG, 7), "{query}: the body whole");
        let record = logged(&log, logs.path(), &format!("/big.bin{query}")).await;
        assert_eq!(
            (record.completed, record.outcome, record.body_bytes),
            (true, Outcome::Completed, BIG as u64),
            "{query}"
        );
        let note = record.network.expect("a note");
        assert_eq!(note.effect_names(), "throttle+latency+slice", "{query}");
    }
    server.stop(Duration::from_secs(1)).await;
}

/// The body length read so far, once the head is in.
fn parse_len(bytes: &[u8]) -> Option<usize> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some(bytes.len() - end)
}

/// The access record says which rule applied and what it did, and how the transfer ended;
/// requests no rule matched carry no note.
#[tokio::test]
async fn the_access_record_names_the_rule_and_its_effect() {
    let dir = site();
    let (server, log, logs) = start_logged(with_rules(
        &dir,
        &[
            "/api/** status=503",
            "/big.bin rate=10000000 reset-after=1000",
        ],
    ))
    .await;
    let addr = server.local_addr();
    assert_eq!(get(addr, "/api/data.json").await.status, 503);
    read_until_end(addr, "/big.bin", Duration::from_secs(10)).await;
    assert_eq!(get(addr, "/index.html").await.status, 200);
    let failed = logged(&log, logs.path(), "/api/data.json").await;
    let note = failed.network.expect("a note");
    assert_eq!((note.rule, note.effect_names().as_str()), (0, "status"));
    let reset = logged(&log, logs.path(), "/big.bin").await;
    let note = reset.network.expect("a note");
    assert_eq!(
        (note.rule, note.effect_names().as_str()),
        (1, "throttle+reset")
    );
    assert!(!reset.completed);
    assert_ne!(reset.outcome, Outcome::Completed);
    assert_eq!(logged(&log, logs.path(), "/index.html").await.network, None);
    server.stop(Duration::from_secs(1)).await;
    // The CSV export's last two columns.
    let csv = common::exported_csv(logs.path());
    let row = |target: &str| {
        let line = csv.lines().find(|line| line.contains(target)).unwrap();
        // Before `why` (whose words hold no comma) and the timeline's five numbers.
        line.rsplitn(9, ',').skip(6).take(2).collect::<Vec<_>>()
    };
    assert_eq!(row("/big.bin"), ["throttle+reset", "1"]);
    assert_eq!(row("/api/data.json"), ["status", "0"]);
    assert_eq!(row("/index.html"), ["", ""]);
    assert!(
        csv.starts_with("id,")
            && csv
                .lines()
                .next()
                .unwrap()
                .contains(",network_rule,network_effect,why,")
    );
}
