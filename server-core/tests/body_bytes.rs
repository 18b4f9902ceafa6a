//! The access record's body bytes are the body's own bytes, counted from the body, never a
//! socket count less a guessed head: on real sockets, each record says exactly how many body
//! bytes the client received, over HTTP/1.0 and HTTP/1.1 (close and keep-alive), chunked
//! (a live-reload stream the client leaves), HEAD, 304, ranges, and HTTP/2 (a page, and a
//! stream the client cancels, whose head HPACK makes far smaller than an HTTP/1 head).

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use common::tls::{h2, h2_request};
use http_body_util::BodyExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wharf_core::{AccessLog, LogSettings};
use wharf_core::{ConfigDraft, Outcome, ServerConfig, ServerHandle};

const TEXT: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz, a small text file\n";
const BIG: usize = 300 * 1024;

struct Fixture {
    _site: tempfile::TempDir,
    _certs: tempfile::TempDir,
    server: ServerHandle,
    logs: tempfile::TempDir,
    log: AccessLog,
}

async fn fixture() -> Fixture {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("small.txt"), TEXT).unwrap();
    std::fs::write(site.path().join("big.bin"), common::noise(BIG, 7)).unwrap();
    let certs = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = AccessLog::start(LogSettings {
        dir: Some(logs.path().to_path_buf()),
        ..LogSettings::default()
    })
    .unwrap();
    let config = ServerConfig::try_from(ConfigDraft {
        root: Some(site.path().to_path_buf()),
        port: Some(0),
        https_port: Some(0),
        cert_dir: Some(certs.path().join("wharf/certs")),
        live_reload: Some(true),
        compression: Some(false),
        ..ConfigDraft::default()
    })
    .unwrap();
    let server = ServerHandle::start_logged(config, Some(log.clone()))
        .await
        .unwrap();
    Fixture {
        _site: site,
        _certs: certs,
        server,
        logs,
        log,
    }
}

impl Fixture {
    /// Asserts that `target`'s record counts `received` body bytes, with `status` and `outcome`.
    async fn assert_logged(&self, target: &str, status: u16, outcome: Outcome, received: usize) {
        let record = common::logged(&self.log, self.logs.path(), target).await;
        assert_eq!(
            (record.status, record.outcome, record.body_bytes),
            (status, outcome, received as u64),
            "{target}: {record:?}"
        );
    }
}

/// One HTTP/1 response read off `reader`: its status, and its body as the client received
/// it (`Content-Length` bytes, or every chunk until the end, or until `stop_after_chunk`).
async fn read_response(
    reader: &mut BufReader<TcpStream>,
    head_only: bool,
    stop_after_chunk: bool,
) -> (u16, Vec<u8>) {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).await.unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let line = line.trim_end().to_ascii_lowercase();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("content-length:") {
            length = Some(value.trim().parse::<usize>().unwrap());
        }
        chunked |= line == "transfer-encoding: chunked";
    }
    let mut body = Vec::new();
    if head_only || status == 304 {
        return (status, body);
    }
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await.unwrap();
            let size = usize::from_str_radix(size.trim_end(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await.unwrap();
            body.extend_from_slice(&chunk[..size]);
            if size == 0 || stop_after_chunk {
                return (status, body);
            }
        }
    }
    match length {
        Some(length) => {
            body.resize(length, 0);
            reader.read_exact(&mut body).await.unwrap();
        }
        None => {
            reader.read_to_end(&mut body).await.unwrap();
        }
    }
    (status, body)
}

/// Sends `request` on a new connection and reads one response.
async fn exchange(addr: SocketAddr, request: &str, head_only: bool) -> (u16, Vec<u8>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut reader = BufReader::new(stream);
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .unwrap();
    read_response(&mut reader, head_only, false).await
}

fn get(target: &str, extra: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n")
}

#[tokio::test]
async fn http1_records_count_the_body_bytes_the_client_received() {
    let fixture = fixture().await;
    let addr = fixture.server.local_addr();

    let (status, body) = exchange(addr, "GET /small.txt?v=1.0 HTTP/1.0\r\n\r\n", false).await;
    assert_eq!((status, body.as_slice()), (200, TEXT));
    fixture
        .assert_logged("/small.txt?v=1.0", 200, Outcome::Completed, body.len())
        .await;

    // Keep-alive: two responses on one connection, the second closing it.
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut reader = BufReader::new(stream);
    let first = "GET /big.bin?keep=1 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    reader.get_mut().write_all(first.as_bytes()).await.unwrap();
    let (_, big) = read_response(&mut reader, false, false).await;
    assert_eq!(big.len(), BIG);
    let second = get("/small.txt?keep=2", "");
    reader.get_mut().write_all(second.as_bytes()).await.unwrap();
    let (_, small) = read_response(&mut reader, false, false).await;
    fixture
        .assert_logged("/big.bin?keep=1", 200, Outcome::Completed, big.len())
        .await;
    fixture
        .assert_logged("/small.txt?keep=2", 200, Outcome::Completed, small.len())
        .await;

    let head = "HEAD /big.bin?head HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let (status, body) = exchange(addr, head, true).await;
    assert_eq!((status, body.len()), (200, 0));
    fixture
        .assert_logged("/big.bin?head", 200, Outcome::Completed, 0)
        .await;

    let etag = {
        let response = common::get(addr, "/small.txt").await;
        response.header("etag").unwrap().to_owned()
    };
    let (status, body) = exchange(
        addr,
        &get("/small.txt?304", &format!("If-None-Match: {etag}\r\n")),
        false,
    )
    .await;
    assert_eq!((status, body.len()), (304, 0));
    fixture
        .assert_logged("/small.txt?304", 304, Outcome::Completed, 0)
        .await;

    for (target, range) in [
        ("/big.bin?range=one", "bytes=100-4195"),
        ("/small.txt?range=two", "bytes=0-3,10-12"),
    ] {
        let (status, body) =
            exchange(addr, &get(target, &format!("Range: {range}\r\n")), false).await;
        assert_eq!(status, 206);
        fixture
            .assert_logged(target, 206, Outcome::Completed, body.len())
            .await;
    }

    // Chunked: a live-reload stream, left by its client once the first event has arrived.
    // Nothing else is sent before the keep-alive comment, so the client has every byte sent.
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut reader = BufReader::new(stream);
    let events = "GET /__wharf/reload?h1 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    reader.get_mut().write_all(events.as_bytes()).await.unwrap();
    let (status, hello) = read_response(&mut reader, false, true).await;
    assert_eq!(status, 200);
    assert!(hello.starts_with(b"retry: "), "{hello:?}");
    drop(reader);
    fixture
        .assert_logged(
            "/__wharf/reload?h1",
            200,
            Outcome::ClientAborted,
            hello.len(),
        )
        .await;
}

#[tokio::test]
async fn http2_records_count_the_body_bytes_the_client_received() {
    let fixture = fixture().await;
    let mut sender = h2(&fixture.server, "localhost").await;

    let page = sender
        .send_request(h2_request(&fixture.server, "/big.bin?h2"))
        .await
        .unwrap();
    let page = page.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(page.len(), BIG);
    fixture
        .assert_logged("/big.bin?h2", 200, Outcome::Completed, page.len())
        .await;

    // A stream the client cancels once the first event has arrived: its head, sent with
    // HPACK on a connection that already sent one, is a few bytes, not an HTTP/1 head.
    let events = sender
        .send_request(h2_request(&fixture.server, "/__wharf/reload?h2"))
        .await
        .unwrap();
    let mut events = events.into_body();
    let hello = events.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(hello.starts_with(b"retry: "), "{hello:?}");
    drop(events);
    fixture
        .assert_logged(
            "/__wharf/reload?h2",
            200,
            Outcome::ClientAborted,
            hello.len(),
        )
        .await;
}
