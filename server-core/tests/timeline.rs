//! The request's timeline in the access record (issue 19), over real sockets: a new
//! connection's first request against a reused keep-alive connection's second, HTTPS's
//! handshake on the first request only, a head that arrives in two parts, and a 304 and a 404
//! timed like any answer. Every record's phases are in order: accepted, TLS done, head begun,
//! head complete, file resolved, first byte, last byte.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wharf_core::{AccessRecord, ConfigDraft, Timing};

/// A pause long enough to stand out of any phase's noise.
const PAUSE: Duration = Duration::from_millis(40);

/// Sends `GET target` on `stream` (keep-alive) and reads the whole response; returns its status
/// and `ETag`.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    addr: SocketAddr,
    target: &str,
    extra: &str,
) -> (u16, Option<String>) {
    let head = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n");
    stream.get_mut().write_all(head.as_bytes()).await.unwrap();
    read_response(stream).await
}

/// One response with a `Content-Length` body (or none): its status and `ETag`.
async fn read_response<S: AsyncRead + Unpin>(stream: &mut BufReader<S>) -> (u16, Option<String>) {
    let (mut status, mut length, mut etag) = (0, 0, None);
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(code) = line.strip_prefix("HTTP/1.1 ") {
            status = code[..3].parse().unwrap();
        } else if let Some((name, value)) = line.split_once(": ") {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap(),
                "etag" => etag = Some(value.to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    (status, etag)
}

/// The record's timeline, after checking that its phases are in order.
#[track_caller]
fn ordered(record: &AccessRecord) -> Timing {
    let timing = record
        .timing
        .unwrap_or_else(|| panic!("no timing: {record:?}"));
    let head_us = u64::from(timing.head_us.unwrap());
    let tls_us = u64::from(timing.tls_us.unwrap_or(0));
    assert!(
        tls_us + head_us <= timing.since_accept_us,
        "accepted, TLS done, head begun: {record:?}"
    );
    let resolve_us = u64::from(timing.resolve_us.unwrap_or(0));
    let ttfb_us = record.ttfb_us.unwrap();
    assert!(
        resolve_us <= ttfb_us && ttfb_us <= record.total_us,
        "head, resolved, first byte, last byte: {record:?}"
    );
    timing
}

fn site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("a.txt"), "first\n").unwrap();
    std::fs::write(site.path().join("b.txt"), "second\n").unwrap();
    site
}

fn draft(site: &tempfile::TempDir) -> ConfigDraft {
    ConfigDraft {
        // The second request must not look like an SPA navigation, and a miss must be a 404.
        spa_fallback: Some(false),
        ..common::draft(site.path())
    }
}

#[tokio::test]
async fn a_reused_connection_s_second_request_is_marked_reused() {
    let site = site();
    let (server, log, logs) = common::start_logged(draft(&site)).await;
    let addr = server.local_addr();
    let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
    // The first head in two parts: its wait is the client's.
    let first = format!("GET /a.txt HTTP/1.1\r\nHost: {addr}\r\n");
    stream.get_mut().write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(PAUSE).await;
    stream.get_mut().write_all(b"\r\n").await.unwrap();
    assert_eq!(read_response(&mut stream).await.0, 200);
    tokio::time::sleep(PAUSE).await;
    assert_eq!(exchange(&mut stream, addr, "/b.txt", "").await.0, 200);

    let first = common::logged(&log, logs.path(), "/a.txt").await;
    let second = common::logged(&log, logs.path(), "/b.txt").await;
    assert_eq!(first.connection, second.connection);
    let (one, two) = (ordered(&first), ordered(&second));
    assert!(one.new_connection, "{first:?}");
    assert!(!two.new_connection, "{second:?}");
    assert_eq!((one.tls_us, two.tls_us), (None, None), "plain HTTP");
    let pause_us = PAUSE.as_micros() as u64;
    assert!(
        u64::from(one.head_us.unwrap()) >= pause_us,
        "the first head waited for its second part: {one:?}"
    );
    assert!(
        u64::from(two.head_us.unwrap()) < pause_us,
        "the pause between requests is not the second head's: {two:?}"
    );
    assert!(
        two.since_accept_us >= one.since_accept_us + pause_us,
        "the second head came a pause and a response later: {one:?} {two:?}"
    );
    assert!(one.resolve_us.is_some() && two.resolve_us.is_some());
    server.stop(Duration::from_secs(1)).await;

    // The CSV's last five columns: new connection, since accept, TLS, head, resolve.
    let csv = common::exported_csv(logs.path());
    let tail = |target: &str| {
        let row = csv.lines().find(|line| line.contains(target)).unwrap();
        row.rsplitn(6, ',').take(5).collect::<Vec<_>>().join(" ")
    };
    let cells = |t: Timing| {
        let us = |us: Option<u32>| us.map(|us| us.to_string()).unwrap_or_default();
        let cells = [
            t.new_connection.to_string(),
            t.since_accept_us.to_string(),
            us(t.tls_us),
            us(t.head_us),
            us(t.resolve_us),
        ];
        cells.into_iter().rev().collect::<Vec<_>>().join(" ")
    };
    assert_eq!(tail("/a.txt"), cells(one));
    assert_eq!(tail("/b.txt"), cells(two));
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",new_connection,since_accept_us,tls_us,head_us,resolve_us"));
}

#[tokio::test]
async fn a_304_and_a_404_carry_their_timeline() {
    let site = site();
    let (server, log, logs) = common::start_logged(draft(&site)).await;
    let addr = server.local_addr();
    let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let (status, etag) = exchange(&mut stream, addr, "/a.txt?full", "").await;
    assert_eq!(status, 200);
    let condition = format!("If-None-Match: {}\r\n", etag.unwrap());
    let (status, _) = exchange(&mut stream, addr, "/a.txt?again", &condition).await;
    assert_eq!(status, 304);
    assert_eq!(exchange(&mut stream, addr, "/missing", "").await.0, 404);

    let not_modified = common::logged(&log, logs.path(), "/a.txt?again").await;
    let missing = common::logged(&log, logs.path(), "/missing").await;
    for record in [&not_modified, &missing] {
        let timing = ordered(record);
        assert!(!timing.new_connection, "{record:?}");
        assert!(
            timing.resolve_us.is_some(),
            "a lookup answered it: {record:?}"
        );
    }
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn over_https_the_first_request_carries_the_handshake() {
    let site = site();
    let certs = tempfile::tempdir().unwrap();
    let (server, log, logs) = common::start_logged(ConfigDraft {
        https_port: Some(0),
        cert_dir: Some(certs.path().join("wharf/certs")),
        ..draft(&site)
    })
    .await;
    let https = server.https().unwrap();
    let addr = https.local_addr;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = common::tls_connect(tcp, &https.ca_cert_path, &[b"http/1.1"]).await;
    let mut stream = BufReader::new(tls);
    assert_eq!(exchange(&mut stream, addr, "/a.txt", "").await.0, 200);
    assert_eq!(exchange(&mut stream, addr, "/b.txt", "").await.0, 200);

    let first = common::logged(&log, logs.path(), "/a.txt").await;
    let second = common::logged(&log, logs.path(), "/b.txt").await;
    let (one, two) = (ordered(&first), ordered(&second));
    assert!(one.new_connection && !two.new_connection);
    assert!(one.tls_us.unwrap() > 0, "the handshake took time: {one:?}");
    assert_eq!(two.tls_us, None, "only the first request shows it: {two:?}");
    server.stop(Duration::from_secs(1)).await;
}
