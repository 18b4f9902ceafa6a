//! File bodies sent with `sendfile` (Linux, plain HTTP/1: `http::sendfile`; the files too big
//! for the cache, which are read from disk as they are sent) arrive byte for byte, however the client asks and reads: HTTP/1.0 and 1.1, keep-alive and
//! `Connection: close`, `HEAD`, a range, a slow reader with a small receive window, and
//! several requests pipelined in one write. A file truncated while it is being sent fails the
//! transfer short of its length, and what did arrive is the file's own bytes, never the
//! placeholder zeros the socket sends the file in place of.
//!
//! The files are noise (see `common::noise`), so a body with zeros, bytes from the wrong
//! offset or bytes of another response fails the byte-for-byte comparison. Off Linux the same
//! bodies go the usual way, and the same tests hold.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use wharf_core::{AccessLog, LogSettings};
use wharf_core::{ConfigDraft, Outcome, ServerConfig, ServerHandle};

/// Over the cache's 16 MiB limit: opened and sent from disk for each request.
const BIG: usize = 17 << 20;
/// A client left without a byte for this long has been left hanging.
const STALL: Duration = Duration::from_secs(5);

/// Two big files, so a body from the wrong file is caught too.
struct Site {
    dir: tempfile::TempDir,
    one: Vec<u8>,
    two: Vec<u8>,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let one = common::noise(BIG, 0x51);
        let two = common::noise(BIG - 12_345, 0x52);
        common::write_aged(&dir.path().join("one.bin"), &one);
        common::write_aged(&dir.path().join("two.bin"), &two);
        Site { dir, one, two }
    }

    fn draft(&self) -> ConfigDraft {
        ConfigDraft {
            compression: Some(false),
            live_reload: Some(false),
            ..common::draft(self.dir.path())
        }
    }

    async fn serve(&self) -> ServerHandle {
        common::start_draft(self.draft()).await
    }

    fn file(&self, name: &str) -> &[u8] {
        match name {
            "one.bin" => &self.one,
            _ => &self.two,
        }
    }
}

/// A connection whose receive buffer is small, so most of a body waits on the server's side.
async fn connect_small(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    socket.connect(addr).await.unwrap()
}

struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Reads one response to a `method` request: its head, then `Content-Length` body bytes
/// (none for `HEAD`), failing if the connection ends early or stalls. Stops reading for
/// `pause` once, after the first 64 KiB of the body.
async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    method: &str,
    pause: Duration,
) -> Response {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(STALL, stream.read(&mut byte))
            .await
            .expect("the head arrives")
            .unwrap();
        assert_eq!(n, 1, "connection ended inside the head after {head:?}");
        head.push(byte[0]);
    }
    let parsed = common::parse(&head);
    let len: usize = parsed.header("content-length").unwrap().parse().unwrap();
    let len = if method == "HEAD" { 0 } else { len };
    let mut body = vec![0u8; len];
    let mut got = 0;
    let mut paused = pause.is_zero();
    while got < len {
        if got >= 64 * 1024 && !paused {
            tokio::time::sleep(pause).await;
            paused = true;
        }
        let n = tokio::time::timeout(STALL, stream.read(&mut body[got..]))
            .await
            .unwrap_or_else(|_| panic!("stalled at byte {got} of {len}"))
            .unwrap();
        assert!(n > 0, "the connection ended at byte {got} of {len}");
        got += n;
    }
    Response {
        status: parsed.status,
        head: String::from_utf8(head).unwrap(),
        body,
    }
}

fn assert_same(body: &[u8], expected: &[u8], what: &str) {
    assert_eq!(body.len(), expected.len(), "{what}: length");
    if body != expected {
        let first = body.iter().zip(expected).position(|(a, b)| a != b);
        panic!("{what}: bytes differ from byte {first:?}");
    }
}

/// After a response that closes the connection, the server sends nothing more and closes.
async fn assert_closed(stream: &mut TcpStream) {
    let mut rest = Vec::new();
    tokio::time::timeout(STALL, stream.read_to_end(&mut rest))
        .await
        .expect("the server closes")
        .unwrap();
    assert!(rest.is_empty(), "{} bytes after the response", rest.len());
}

#[tokio::test]
async fn every_version_and_connection_header_gets_the_file_byte_for_byte() {
    let site = Site::new();
    let server = site.serve().await;
    let addr = server.local_addr();
    let asks = [
        ("HTTP/1.1", "", true),
        ("HTTP/1.1", "Connection: keep-alive\r\n", true),
        ("HTTP/1.1", "Connection: close\r\n", false),
        ("HTTP/1.0", "", false),
        ("HTTP/1.0", "Connection: keep-alive\r\n", true),
    ];
    for name in ["one.bin", "two.bin"] {
        for (version, connection, keeps_alive) in asks {
            let what = format!("{name} {version} {connection:?}");
            let mut stream = TcpStream::connect(addr).await.unwrap();
            // On a connection kept alive, a second request proves the first left the
            // connection in step.
            for _ in 0..if keeps_alive { 2 } else { 1 } {
                let request = format!("GET /{name} {version}\r\nHost: {addr}\r\n{connection}\r\n");
                stream.write_all(request.as_bytes()).await.unwrap();
                let response = read_response(&mut stream, "GET", Duration::ZERO).await;
                assert_eq!(response.status, 200, "{what}: {}", response.head);
                assert_same(&response.body, site.file(name), &what);
            }
            if !keeps_alive {
                assert_closed(&mut stream).await;
            }
        }
    }
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn head_a_range_and_a_slow_reader_on_one_connection() {
    let site = Site::new();
    let server = site.serve().await;
    let addr = server.local_addr();
    for name in ["one.bin", "two.bin"] {
        let file = site.file(name);
        let mut stream = connect_small(addr).await;
        let ask = |method: &str, extra: &str| {
            format!("{method} /{name} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n")
        };

        stream.write_all(ask("HEAD", "").as_bytes()).await.unwrap();
        let head = read_response(&mut stream, "HEAD", Duration::ZERO).await;
        assert_eq!(head.status, 200);
        assert!(head
            .head
            .contains(&format!("content-length: {}", file.len())));

        // A range starting and ending inside frames, well past the first.
        let (start, end) = (200_001, 1_500_000);
        let range = format!("Range: bytes={start}-{end}\r\n");
        stream
            .write_all(ask("GET", &range).as_bytes())
            .await
            .unwrap();
        let part = read_response(&mut stream, "GET", Duration::ZERO).await;
        assert_eq!(part.status, 206, "{}", part.head);
        assert_same(&part.body, &file[start..=end], &format!("{name} range"));

        // A reader that stops for a while with its small window full.
        stream.write_all(ask("GET", "").as_bytes()).await.unwrap();
        let slow = read_response(&mut stream, "GET", Duration::from_millis(300)).await;
        assert_same(&slow.body, file, &format!("{name} slow reader"));
    }
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_byte_for_byte() {
    let site = Site::new();
    std::fs::write(site.dir.path().join("small.txt"), b"small and in memory\n").unwrap();
    let server = site.serve().await;
    let addr = server.local_addr();
    let asks = [
        ("GET", "/one.bin", ""),
        ("HEAD", "/two.bin", ""),
        ("GET", "/small.txt", ""),
        ("GET", "/two.bin", "Range: bytes=5-70004\r\n"),
        ("GET", "/two.bin", ""),
        ("GET", "/one.bin", "Connection: close\r\n"),
    ];
    let requests: String = asks
        .iter()
        .map(|(method, path, extra)| {
            format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n")
        })
        .collect();
    let mut stream = connect_small(addr).await;
    stream.write_all(requests.as_bytes()).await.unwrap();
    for (method, path, _) in asks {
        let response = read_response(&mut stream, method, Duration::ZERO).await;
        let expected: &[u8] = match (method, path) {
            ("HEAD", _) => b"",
            (_, "/small.txt") => b"small and in memory\n",
            (_, "/one.bin") => &site.one,
            _ if response.status == 206 => &site.two[5..=70_004],
            _ => &site.two,
        };
        assert_same(&response.body, expected, &format!("{method} {path}"));
    }
    assert_closed(&mut stream).await;
    server.stop(Duration::from_secs(1)).await;
}

/// The access record counts the body bytes sent with `sendfile`, as it counts any body's.
#[tokio::test]
async fn access_records_count_the_bytes_sent_with_sendfile() {
    let site = Site::new();
    let logs = tempfile::tempdir().unwrap();
    let log = AccessLog::start(LogSettings {
        dir: Some(logs.path().to_path_buf()),
        ..LogSettings::default()
    })
    .unwrap();
    let config = ServerConfig::try_from(site.draft()).unwrap();
    let server = ServerHandle::start_logged(config, Some(log.clone()))
        .await
        .unwrap();
    let addr = server.local_addr();
    let asks = [
        ("GET", "/one.bin?whole", ""),
        ("GET", "/two.bin?range", "Range: bytes=100-300099\r\n"),
        ("HEAD", "/one.bin?head", ""),
    ];
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for (method, target, extra) in asks {
        let request = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let response = read_response(&mut stream, method, Duration::ZERO).await;
        let record = common::logged(&log, logs.path(), target).await;
        assert_eq!(
            (record.status, record.outcome, record.body_bytes),
            (
                response.status,
                Outcome::Completed,
                response.body.len() as u64
            ),
            "{target}"
        );
    }
    assert_eq!(
        common::logged(&log, logs.path(), "/one.bin?whole")
            .await
            .body_bytes,
        BIG as u64
    );
    server.stop(Duration::from_secs(1)).await;
}

/// Truncates `path` once the client has read `after` bytes of it, then reads what still
/// comes: the transfer ends short of `Content-Length`, and every byte that came is the
/// file's.
async fn truncated_while_sent(addr: SocketAddr, path: &Path, name: &str, file: &[u8]) {
    let mut stream = connect_small(addr).await;
    let request = format!("GET /{name} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") || received.len() < 256 * 1024 {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "ended early");
        received.extend_from_slice(&buf[..n]);
    }
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
    loop {
        // At once, as a file that shrinks under a body read from disk does: well before the
        // connection would idle out.
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
            .await
            .expect("the transfer ends at once rather than hang")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
    }
    let split = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = &received[split..];
    assert!(
        body.len() < file.len(),
        "{name}: the whole length arrived from a file truncated to nothing"
    );
    if body != &file[..body.len()] {
        let first = body.iter().zip(file).position(|(a, b)| a != b);
        panic!(
            "{name}: bytes differ from the file's from byte {first:?} (of {})",
            body.len()
        );
    }
}

#[tokio::test]
async fn a_file_truncated_while_it_is_sent_fails_the_transfer_without_zeros() {
    let site = Site::new();
    let server = site.serve().await;
    let addr = server.local_addr();
    let path = site.dir.path().join("one.bin");
    truncated_while_sent(addr, &path, "one.bin", &site.one).await;
    server.stop(Duration::from_secs(1)).await;
}
