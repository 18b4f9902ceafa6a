//! Every byte delivered, however the client asks and however it reads: HTTP/1.0 and 1.1,
//! `Connection: close` and keep-alive, clients that stop reading for a while, many at once,
//! and an apply or a stop landing while a client has stopped reading.
//!
//! The body is a file the cache holds in memory, so hyper takes all of it at once and the
//! response is complete on Wharf's side long before the client has read it: what is still
//! unsent then sits in hyper's write buffer, and only the connection's own handling decides
//! whether it reaches the client. Clients have small receive buffers, so a client that stops
//! reading really holds the rest of the body in the server.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use wharf_core::{ConfigDraft, ServerHandle};

/// 4 MiB: under the cache's per-file limit, so it is served from memory in one piece, and
/// more than loopback's socket buffers take while the client waits.
const BODY: usize = 4 << 20;
/// How long a slow client stops reading: far longer than a connection waits before parking.
const PAUSE: Duration = Duration::from_millis(300);
/// A client that gets nothing for this long has been left hanging.
const STALL: Duration = Duration::from_secs(4);

struct Site {
    dir: tempfile::TempDir,
    /// The file's bytes, to compare whole bodies with (hashing in a debug build would keep
    /// the runtime's threads so busy that clients idled out).
    body: Arc<Vec<u8>>,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let body = common::noise(BODY, 0x9E37_79B9_7F4A_7C15);
    common::write_aged(&dir.path().join("big.bin"), &body);
    Site {
        body: Arc::new(body),
        dir,
    }
}

fn draft(site: &Site) -> ConfigDraft {
    ConfigDraft {
        compression: Some(false),
        live_reload: Some(false),
        ..common::draft(site.dir.path())
    }
}

/// How a client asks: its HTTP version and its `Connection` header, if any.
#[derive(Debug, Clone, Copy)]
struct Ask {
    version: &'static str,
    connection: Option<&'static str>,
}

impl Ask {
    const ALL: [Ask; 5] = [
        Ask::new("HTTP/1.1", Some("close")),
        Ask::new("HTTP/1.1", None),
        Ask::new("HTTP/1.1", Some("keep-alive")),
        Ask::new("HTTP/1.0", None),
        Ask::new("HTTP/1.0", Some("keep-alive")),
    ];

    const fn new(version: &'static str, connection: Option<&'static str>) -> Ask {
        Ask {
            version,
            connection,
        }
    }

    fn request(&self, addr: SocketAddr) -> String {
        let connection = self
            .connection
            .map(|value| format!("Connection: {value}\r\n"))
            .unwrap_or_default();
        format!(
            "GET /big.bin {}\r\nHost: {addr}\r\n{connection}\r\n",
            self.version
        )
    }

    /// Whether the server may keep the connection open after answering.
    fn keeps_alive(&self) -> bool {
        match self.version {
            "HTTP/1.0" => self.connection == Some("keep-alive"),
            _ => self.connection != Some("close"),
        }
    }
}

/// A connection whose receive buffer is small, so the server's data waits on its side.
async fn connect(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(32 * 1024).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads one response: its head, then exactly `Content-Length` body bytes, failing if the
/// client is left without a byte for [`STALL`] or the connection ends early. Pauses for
/// `pause` after the first `pause_at` body bytes.
async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    pause_at: usize,
    pause: Duration,
) -> Vec<u8> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(STALL, stream.read(&mut byte))
            .await
            .expect("the response head arrives")
            .unwrap_or_else(|e| panic!("{e} after {head:?}"));
        assert_eq!(n, 1, "connection ended inside the head after {head:?}");
        head.push(byte[0]);
    }
    let response = common::parse(&head);
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&head));
    let len: usize = response.header("content-length").unwrap().parse().unwrap();
    let mut body = vec![0u8; len];
    let mut got = 0;
    let mut paused = false;
    while got < len {
        if !paused && got >= pause_at {
            tokio::time::sleep(pause).await;
            paused = true;
        }
        let end = if paused { len } else { len.min(pause_at) };
        let read = tokio::time::timeout(STALL, stream.read(&mut body[got..end.max(got + 1)])).await;
        let n = read
            .unwrap_or_else(|_| panic!("stalled at byte {got} of {len}"))
            .unwrap();
        assert!(n > 0, "the connection ended at byte {got} of {len}");
        got += n;
    }
    body
}

/// Asserts that `body` is the file's, byte for byte.
fn assert_whole(body: &[u8], expected: &[u8], what: &str) {
    assert_eq!(body.len(), expected.len(), "{what}: length");
    if body != expected {
        let first = body.iter().zip(expected).position(|(a, b)| a != b);
        panic!("{what}: bytes differ from byte {first:?}");
    }
}

/// Asks for the big file, stops reading for `pause` after `pause_at` bytes, then reads the
/// rest, and checks it against `expected`; on a keep-alive connection, asks again on it.
async fn fetch<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    addr: SocketAddr,
    ask: Ask,
    pause_at: usize,
    pause: Duration,
    expected: &[u8],
) {
    let rounds = if ask.keeps_alive() { 2 } else { 1 };
    for round in 0..rounds {
        stream
            .write_all(ask.request(addr).as_bytes())
            .await
            .unwrap();
        let body = read_response(stream, pause_at, pause).await;
        assert_whole(
            &body,
            expected,
            &format!("{ask:?}, pause at {pause_at}, round {round}"),
        );
    }
    if !ask.keeps_alive() {
        // The server closes after the response: nothing more, and no hang.
        let mut rest = Vec::new();
        tokio::time::timeout(STALL, stream.read_to_end(&mut rest))
            .await
            .expect("the server closes after the response")
            .unwrap();
        assert!(rest.is_empty(), "{} bytes after the body", rest.len());
    }
}

async fn fetch_plain(
    addr: SocketAddr,
    ask: Ask,
    pause_at: usize,
    pause: Duration,
    expected: Arc<Vec<u8>>,
) {
    let mut stream = connect(addr).await;
    fetch(&mut stream, addr, ask, pause_at, pause, &expected).await;
}

/// The bug of issue 13: a `Connection: close` response whose tail was still in hyper's
/// buffer when the client paused was parked and lost, and the client hung until the idle
/// timeout. Every way of asking gets every byte.
#[tokio::test]
async fn a_client_that_stops_reading_gets_every_byte_however_it_asks() {
    let site = site();
    let server = common::start_draft(draft(&site)).await;
    let addr = server.local_addr();
    for ask in Ask::ALL {
        for pause_at in [0, BODY / 2] {
            fetch_plain(addr, ask, pause_at, PAUSE, Arc::clone(&site.body)).await;
        }
    }
    server.stop(Duration::from_secs(1)).await;
}

/// The same without keep-alive: every response ends the connection, and still whole.
#[tokio::test]
async fn without_keep_alive_a_slow_reader_gets_every_byte() {
    let site = site();
    let server = common::start_draft(ConfigDraft {
        keep_alive: Some(false),
        ..draft(&site)
    })
    .await;
    let addr = server.local_addr();
    for ask in [
        Ask::new("HTTP/1.1", Some("close")),
        Ask::new("HTTP/1.1", None),
    ] {
        let mut stream = connect(addr).await;
        stream
            .write_all(ask.request(addr).as_bytes())
            .await
            .unwrap();
        let body = read_response(&mut stream, 0, PAUSE).await;
        assert_whole(&body, &site.body, &format!("{ask:?}"));
    }
    server.stop(Duration::from_secs(1)).await;
}

/// Many clients at once, every way of asking, some reading steadily and some pausing at
/// different points: every body arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_mixed_clients_at_once_all_get_every_byte() {
    let site = site();
    let server = common::start_draft(ConfigDraft {
        // The idle timeout runs from when the kernel took a response's last byte, and these
        // clients, starved of CPU, can take seconds to read what the kernel holds for them.
        keep_alive_idle_timeout_ms: Some(30_000),
        ..draft(&site)
    })
    .await;
    let addr = server.local_addr();
    let clients: Vec<_> = (0..48)
        .map(|i| {
            let ask = Ask::ALL[i % Ask::ALL.len()];
            let pause_at = (i * 97_531) % BODY;
            let pause = Duration::from_millis([0, 40, 150][i % 3]);
            tokio::spawn(fetch_plain(
                addr,
                ask,
                pause_at,
                pause,
                Arc::clone(&site.body),
            ))
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    server.stop(Duration::from_secs(1)).await;
}

/// An apply and a stop that land while a `Connection: close` client has stopped reading:
/// the response in flight still arrives whole (on its generation), and only then does the
/// connection close.
#[tokio::test]
async fn an_apply_or_a_stop_while_a_client_has_stopped_reading_loses_nothing() {
    let site = site();
    let server = common::start_draft(draft(&site)).await;
    let addr = server.local_addr();
    for ask in [
        Ask::new("HTTP/1.1", Some("close")),
        Ask::new("HTTP/1.0", None),
    ] {
        let mut stream = connect(addr).await;
        stream
            .write_all(ask.request(addr).as_bytes())
            .await
            .unwrap();
        // Let the server hand hyper the whole body and fill the socket.
        tokio::time::sleep(Duration::from_millis(100)).await;
        server
            .apply(ConfigDraft {
                cache_control: Some(format!("max-age={}", ask.version.len())),
                ..draft(&site)
            })
            .await
            .unwrap();
        let body = read_response(&mut stream, 0, PAUSE).await;
        assert_whole(&body, &site.body, &format!("apply, {ask:?}"));
    }

    let mut stream = connect(addr).await;
    let ask = Ask::new("HTTP/1.1", Some("close"));
    stream
        .write_all(ask.request(addr).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stop = tokio::spawn(server.stop(Duration::from_secs(5)));
    let body = read_response(&mut stream, 0, PAUSE).await;
    assert_whole(&body, &site.body, "stop");
    let report = stop.await.unwrap();
    assert_eq!(report.cut, 0, "the transfer finished before the deadline");
}

/// The server's HTTPS port, the same slow readers, and an apply landing while one has
/// stopped reading: TLS keeps its own buffers on top of hyper's.
#[tokio::test]
async fn over_https_a_slow_reader_gets_every_byte() {
    let site = site();
    let certs = tempfile::tempdir().unwrap();
    let https_draft = |cache_control: &str| ConfigDraft {
        https_port: Some(0),
        cert_dir: Some(certs.path().join("certs")),
        cache_control: Some(cache_control.to_owned()),
        ..draft(&site)
    };
    let server: ServerHandle = common::start_draft(https_draft("no-cache")).await;
    let https = server.https().unwrap();
    for (i, ask) in [
        Ask::new("HTTP/1.1", Some("close")),
        Ask::new("HTTP/1.1", None),
        Ask::new("HTTP/1.0", None),
    ]
    .into_iter()
    .enumerate()
    {
        let tcp = connect(https.local_addr).await;
        let mut tls = common::tls_connect(tcp, &https.ca_cert_path, &[b"http/1.1"]).await;
        fetch(&mut tls, https.local_addr, ask, BODY / 4, PAUSE, &site.body).await;

        let tcp = connect(https.local_addr).await;
        let mut tls = common::tls_connect(tcp, &https.ca_cert_path, &[b"http/1.1"]).await;
        tls.write_all(ask.request(https.local_addr).as_bytes())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        server
            .apply(https_draft(&format!("max-age={i}")))
            .await
            .unwrap();
        let body = read_response(&mut tls, 0, PAUSE).await;
        assert_whole(&body, &site.body, &format!("apply over HTTPS, {ask:?}"));
    }
    server.stop(Duration::from_secs(1)).await;
}
