//! Bounds that hold against a hostile client (issue 13, point 5), on real sockets: live-reload
//! event streams are capped per server and per client address and count against the
//! connection limit (on HTTP/2 too), a client that leaves gives its stream back, junk query
//! parameters never grow the listing cache, every representation of a file counts against the
//! file cache's byte limit, and huge header values are recorded capped and marked.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::tls::{h2, h2_request};
use common::{draft, get, request, start_draft, write_aged};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use wharf_core::MAX_STREAMS_PER_PEER;
use wharf_core::{sessions, LogLine, SessionReader};
use wharf_core::{AccessLog, LogSettings};
use wharf_core::{AccessRecord, MAX_REFERER_BYTES, MAX_TARGET_BYTES};
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};
use wharf_core::{MAX_USER_AGENT_BYTES, TRUNCATION_MARK};

/// `127.0.0.n`: Linux routes all of 127/8 to loopback, so tests can be several clients.
fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A connection to `addr` from the address `from`.
async fn connect_from(from: IpAddr, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads a response head: its status and the raw head.
async fn read_head(stream: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("a response head within 5 s")
            .unwrap();
        assert_eq!(read, 1, "the server closed mid-head: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head)
}

/// Asks for the live-reload stream from `from`; returns the connection (held open for a
/// stream) and the response head.
async fn open_stream(from: IpAddr, addr: SocketAddr) -> (TcpStream, u16, String) {
    let mut stream = connect_from(from, addr).await;
    let request = format!("GET /__wharf/reload HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let (status, head) = read_head(&mut stream).await;
    (stream, status, head)
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("index.html"), b"<p>hello</p>");
    dir
}

#[tokio::test]
async fn streams_from_one_address_are_capped_and_a_page_is_still_served() {
    let dir = site();
    let server = start_draft(draft(dir.path())).await;
    let addr = server.local_addr();
    let mut held = Vec::new();
    for _ in 0..MAX_STREAMS_PER_PEER {
        let (stream, status, _) = open_stream(loopback(1), addr).await;
        assert_eq!(status, 200);
        held.push(stream);
    }
    let (_, status, head) = open_stream(loopback(1), addr).await;
    assert_eq!(status, 429, "one address's share is taken: {head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: "),
        "{head}"
    );
    // Another address still gets its own share, and pages are served to everyone.
    let (_other, status, _) = open_stream(loopback(2), addr).await;
    assert_eq!(status, 200);
    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("hello"));

    // A client that leaves gives its stream back.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (stream, status, _) = open_stream(loopback(1), addr).await;
        if status == 200 {
            held.push(stream);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream was never given back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn streams_never_take_more_than_half_the_connection_limit() {
    let dir = site();
    let server = start_draft(ConfigDraft {
        max_connections: Some(16),
        ..draft(dir.path())
    })
    .await;
    let addr = server.local_addr();
    // 8 streams: half of 16, from addresses that each stay within their own share.
    let mut held = Vec::new();
    for n in 0..8 {
        let (stream, status, _) = open_stream(loopback(10 + n % 2), addr).await;
        assert_eq!(status, 200);
        held.push(stream);
    }
    let (_, status, head) = open_stream(loopback(12), addr).await;
    assert_eq!(status, 503, "the server's share is taken: {head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: "),
        "{head}"
    );
    for _ in 0..3 {
        assert_eq!(get(addr, "/").await.status, 200, "pages are still served");
    }
}

#[tokio::test]
async fn http2_streams_take_slots_of_the_connection_limit() {
    let dir = site();
    let certs = tempfile::tempdir().unwrap();
    let server = start_draft(ConfigDraft {
        max_connections: Some(16),
        https_port: Some(0),
        cert_dir: Some(certs.path().join("certs")),
        keep_alive_idle_timeout_ms: Some(60_000),
        ..draft(dir.path())
    })
    .await;
    let addr = server.local_addr();
    // One HTTP/2 connection carries 8 streams, half of the limit, and no more.
    let sender = h2(&server, "localhost").await;
    let mut streams = Vec::new();
    for _ in 0..8 {
        let response = sender
            .clone()
            .send_request(h2_request(&server, "/__wharf/reload"))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        streams.push(response.into_body());
    }
    let refused = sender
        .clone()
        .send_request(h2_request(&server, "/__wharf/reload"))
        .await
        .unwrap();
    // Here the address's share and the server's are both 8.
    assert!(
        matches!(refused.status().as_u16(), 429 | 503),
        "{refused:?}"
    );
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(server.admission().open, 1 + 8, "a connection and 8 streams");

    // 7 more connections fill the limit: 1 + 8 + 7 = 16.
    let mut idle = Vec::new();
    for _ in 0..7 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(read_head(&mut stream).await.0, 200);
        idle.push(stream);
    }
    // The next connection waits in the accept queue, until a stream gives its slot back.
    let waiting = tokio::spawn(async move { get(addr, "/").await.status });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !waiting.is_finished(),
        "accepted beyond the connection limit"
    );
    drop(streams.pop());
    let status = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("a stream's slot was given back")
        .unwrap();
    assert_eq!(status, 200);
    // The HTTP/2 connection still serves pages beside its streams.
    let page = sender
        .clone()
        .send_request(h2_request(&server, "/"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    drop(idle);
}

#[tokio::test]
async fn http2_connections_with_streams_leave_a_quarter_of_the_limit_free() {
    let dir = site();
    let certs = tempfile::tempdir().unwrap();
    let server = start_draft(ConfigDraft {
        max_connections: Some(16),
        https_port: Some(0),
        cert_dir: Some(certs.path().join("certs")),
        ..draft(dir.path())
    })
    .await;
    let mut senders = Vec::new();
    for _ in 0..8 {
        senders.push(h2(&server, "localhost").await);
    }
    // 8 connections and 4 streams take 12 of the 16 slots: the last quarter is left free.
    let mut streams = Vec::new();
    let mut refused = 0;
    for sender in &senders {
        let response = sender
            .clone()
            .send_request(h2_request(&server, "/__wharf/reload"))
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => streams.push(response.into_body()),
            503 => refused += 1,
            other => panic!("status {other}"),
        }
    }
    assert_eq!((streams.len(), refused), (4, 4));
    assert_eq!(server.admission().open, 12);
    assert_eq!(get(server.local_addr(), "/").await.status, 200);
}

#[tokio::test]
async fn junk_query_parameters_never_grow_the_listing_cache() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..300 {
        write_aged(&dir.path().join(format!("file-{n:04}.txt")), b"x");
    }
    let server = start_draft(draft(dir.path())).await;
    let addr = server.local_addr();
    // The listing cache works once the site's watcher runs.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.cache_usage().listing_bytes == 0 {
        assert_eq!(get(addr, "/").await.status, 200);
        assert!(Instant::now() < deadline, "the listing was never cached");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let one_page = server.cache_usage().listing_bytes;
    for n in 0..200 {
        let junk = format!("/?x={n}&sort=name&utm_source={n}&order=asc");
        assert_eq!(get(addr, &junk).await.status, 200);
    }
    assert_eq!(
        server.cache_usage().listing_bytes,
        one_page,
        "unknown parameters render the same page, kept once"
    );
    // What the page shows does make new pages.
    assert_eq!(get(addr, "/?sort=size&order=desc").await.status, 200);
    assert!(server.cache_usage().listing_bytes > one_page);
}

#[tokio::test]
async fn every_representation_of_a_file_counts_against_the_file_cache() {
    let dir = tempfile::tempdir().unwrap();
    let page = format!(
        "<html><body>{}</body></html>",
        "<p>words and more words</p>\n".repeat(2000)
    );
    write_aged(&dir.path().join("index.html"), page.as_bytes());
    let script = "console.log('a fairly repetitive script');\n".repeat(2000);
    write_aged(&dir.path().join("app.js"), script.as_bytes());
    let server = start_draft(draft(dir.path())).await;
    let addr = server.local_addr();
    assert_eq!(server.cache_usage().file_bytes, 0);

    let mut expected = 0;
    // The page: the file, then the file with the live-reload script, then its gzip and br.
    let identity = get(addr, "/").await;
    assert_eq!(identity.header("content-encoding"), None);
    expected += (page.len() + identity.body.len()) as u64;
    assert_eq!(server.cache_usage().file_bytes, expected);
    for coding in ["gzip", "br"] {
        let response = request(addr, "GET", "/", &[("Accept-Encoding", coding)]).await;
        assert_eq!(response.header("content-encoding"), Some(coding));
        expected += response.body.len() as u64;
        assert_eq!(
            server.cache_usage().file_bytes,
            expected,
            "{coding} counted"
        );
    }
    // A script: the file and its gzip and br; asking again adds nothing.
    let plain = request(addr, "GET", "/app.js", &[("Accept-Encoding", "identity")]).await;
    expected += plain.body.len() as u64;
    for coding in ["gzip", "br"] {
        let response = request(addr, "GET", "/app.js", &[("Accept-Encoding", coding)]).await;
        assert_eq!(response.header("content-encoding"), Some(coding));
        expected += response.body.len() as u64;
    }
    let again = request(addr, "GET", "/app.js", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(again.header("content-encoding"), Some("gzip"));
    let usage = server.cache_usage().file_bytes;
    assert_eq!(usage, expected);
}

#[tokio::test]
async fn huge_header_values_are_recorded_capped_and_marked() {
    let dir = site();
    let logs = tempfile::tempdir().unwrap();
    let log = AccessLog::start(LogSettings {
        dir: Some(logs.path().to_path_buf()),
        ..LogSettings::default()
    })
    .unwrap();
    let mut live = log.subscribe();
    let config = ServerConfig::try_from(draft(dir.path())).unwrap();
    let server = ServerHandle::start_logged(config, Some(log.clone()))
        .await
        .unwrap();
    let addr = server.local_addr();
    let user_agent = "A".repeat(50_000);
    let referer = format!("http://x/{}", "é".repeat(1000));
    let target = format!("/{}", "t".repeat(6000));
    let response = request(
        addr,
        "GET",
        &target,
        &[("User-Agent", &user_agent), ("Referer", &referer)],
    )
    .await;
    assert_eq!(response.status, 404);
    log.sync();

    let check = |record: &AccessRecord| {
        let ua = record.user_agent.as_deref().unwrap();
        assert_eq!(ua.len(), MAX_USER_AGENT_BYTES + TRUNCATION_MARK.len_utf8());
        assert!(ua.ends_with(TRUNCATION_MARK));
        let referer = record.referer.as_deref().unwrap();
        assert!(referer.len() <= MAX_REFERER_BYTES + TRUNCATION_MARK.len_utf8());
        assert!(referer.ends_with("é…"), "cut at a char boundary");
        assert!(record.target.len() <= MAX_TARGET_BYTES + TRUNCATION_MARK.len_utf8());
        assert!(record.target.ends_with(TRUNCATION_MARK));
        assert!(record.truncated());
    };
    // The live log.
    let deadline = Instant::now() + Duration::from_secs(5);
    let record = loop {
        if let Ok(batch) = live.try_recv() {
            if let Some(record) = batch.records.first() {
                break record.clone();
            }
        }
        assert!(Instant::now() < deadline, "never recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    check(&record);
    // The session log on disk.
    let all = sessions(logs.path()).unwrap();
    let stored: Vec<AccessRecord> = SessionReader::open(&all[0])
        .unwrap()
        .filter_map(|line| match line.unwrap() {
            LogLine::Request(record) => Some(record),
            LogLine::Lost { .. } => None,
        })
        .collect();
    assert_eq!(stored.len(), 1);
    check(&stored[0]);
    // The CSV export.
    let mut csv = Vec::new();
    wharf_core::export_csv(logs.path(), &wharf_core::ExportFilter::default(), &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains(&format!("{}…", "A".repeat(100))),
        "the mark is exported"
    );
    assert!(csv.len() < 8 * 1024, "{} bytes", csv.len());
}
