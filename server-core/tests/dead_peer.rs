//! A live-reload client that vanishes without closing (laptop asleep, Wi-Fi gone) gives its
//! stream and connection back within a bounded time (issue 13, point 5), over HTTP/1.1 and
//! over HTTP/2 on HTTPS; a slow reader of a large download is never cut for it.
//!
//! A vanished client is made for real: each such test runs again in a network namespace of
//! its own (`unshare -rn`), where it may drop every packet on loopback
//! (`tc qdisc add dev lo root blackhole`) once its stream is open. It needs `unshare`
//! (util-linux), `ip` and `tc` (iproute2), and user namespaces or root; without them it fails
//! and says what is missing.

#![cfg(target_os = "linux")]
// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::tls::{h2, h2_request};
use common::{draft, start_draft, write_aged};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use wharf_core::{ConfigDraft, ServerHandle};
use wharf_core::{DEAD_CLIENT_AFTER, KEEP_ALIVE};

/// Set in the copy of the test binary that runs inside its own network namespace.
const IN_NAMESPACE: &str = "WHARF_TEST_IN_NETNS";

/// Runs test `name` again in a user and network namespace of its own, and returns false
/// once it passed there; returns true when this is that run, which goes on with the test.
fn in_own_network(name: &str) -> bool {
    if std::env::var_os(IN_NAMESPACE).is_some() {
        run("ip", &["link", "set", "lo", "up"]);
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("unshare")
        .args(["-rn", "--"])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_NAMESPACE, "1")
        .output()
        .unwrap_or_else(|err| {
            panic!("this test needs `unshare` (util-linux) to get a network of its own: {err}")
        });
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    eprintln!("{stdout}{stderr}");
    assert!(
        stdout.contains("running 1 test"),
        "`{name}` could not run in a network namespace of its own: `unshare -rn` needs \
         user namespaces or root (see above)"
    );
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "`{name}` failed in its own network namespace (see above)"
    );
    false
}

/// Runs a command that must succeed (`ip`, `tc`).
fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|err| panic!("this test needs `{program}` (iproute2): {err}"));
    assert!(status.success(), "`{program} {}` failed", args.join(" "));
}

/// From now on every packet on loopback is dropped: the client is gone without a word.
fn vanish() {
    run("tc", &["qdisc", "add", "dev", "lo", "root", "blackhole"]);
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("index.html"), b"<p>hello</p>");
    dir
}

/// A vanished client is let go within this: the next heartbeat (or event) goes out at most a
/// [`KEEP_ALIVE`] later, is never acknowledged, and the connection is dropped
/// [`DEAD_CLIENT_AFTER`] after that; plus a margin for a loaded machine.
fn drop_deadline() -> Duration {
    KEEP_ALIVE + DEAD_CLIENT_AFTER + Duration::from_secs(10)
}

/// Makes the client vanish, has the stream send an event (a file changes), and waits until
/// `gone` says the server let go of it. Returns how long that took.
async fn vanish_and_wait(site: &std::path::Path, gone: impl Fn() -> bool) -> Duration {
    vanish();
    let start = Instant::now();
    // An event goes out at once rather than at the next heartbeat; it is never acknowledged.
    std::fs::write(site.join("index.html"), b"<p>changed</p>").unwrap();
    while !gone() {
        assert!(
            start.elapsed() < drop_deadline(),
            "the vanished client still holds its stream after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = start.elapsed();
    eprintln!("the vanished client was let go after {took:?}");
    took
}

#[tokio::test]
async fn a_vanished_client_gives_its_stream_back() {
    if !in_own_network("a_vanished_client_gives_its_stream_back") {
        return;
    }
    let dir = site();
    let server = start_draft(draft(dir.path())).await;
    let addr = server.local_addr();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /__wharf/reload HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    let mut opening = Vec::new();
    while !String::from_utf8_lossy(&opening).contains("event: hello") {
        let mut buffer = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buffer))
            .await
            .expect("the stream opens within 5 s")
            .unwrap();
        assert!(
            n > 0,
            "the stream ended: {:?}",
            String::from_utf8_lossy(&opening)
        );
        opening.extend_from_slice(&buffer[..n]);
    }
    assert!(String::from_utf8_lossy(&opening).starts_with("HTTP/1.1 200"));
    let me = client.local_addr().unwrap();
    let held = |server: &ServerHandle| server.connections().iter().any(|c| c.peer == me);
    assert!(held(&server));

    let took = vanish_and_wait(dir.path(), || !held(&server)).await;
    assert!(
        took >= DEAD_CLIENT_AFTER - Duration::from_secs(1),
        "{took:?}"
    );
    drop(client);
}

#[tokio::test]
async fn a_vanished_client_gives_its_http2_stream_back() {
    if !in_own_network("a_vanished_client_gives_its_http2_stream_back") {
        return;
    }
    let dir = site();
    let certs = tempfile::tempdir().unwrap();
    let server = start_draft(ConfigDraft {
        https_port: Some(0),
        cert_dir: Some(certs.path().join("certs")),
        // Longer than the test: only the dead client may end the connection.
        keep_alive_idle_timeout_ms: Some(600_000),
        ..draft(dir.path())
    })
    .await;
    let sender = h2(&server, "localhost").await;
    let page = sender
        .clone()
        .send_request(h2_request(&server, "/"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let response = sender
        .clone()
        .send_request(h2_request(&server, "/__wharf/reload"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.into_body();
    let hello = tokio::time::timeout(Duration::from_secs(5), stream.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let hello = hello.into_data().unwrap();
    assert!(String::from_utf8_lossy(&hello).contains("event: hello"));
    assert_eq!(server.admission().open, 2, "a connection and its stream");

    let took = vanish_and_wait(dir.path(), || server.admission().open == 0).await;
    assert!(
        took >= DEAD_CLIENT_AFTER - Duration::from_secs(1),
        "{took:?}"
    );
    drop((stream, sender));
}

/// A download whose reader stops reading for longer than [`DEAD_CLIENT_AFTER`] (its window
/// closed all that time) is not cut: the bound holds only on connections carrying an event
/// stream.
#[tokio::test]
async fn a_slow_reader_of_a_large_download_is_not_cut() {
    const SIZE: usize = 16 << 20;
    let dir = site();
    let body: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    write_aged(&dir.path().join("big.bin"), &body);
    let server = start_draft(draft(dir.path())).await;
    let addr = server.local_addr();
    let socket = TcpSocket::new_v4().unwrap();
    // A small window, so the server's side is stuck on a closed window soon.
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let mut client = socket.connect(addr).await.unwrap();
    let request = format!("GET /big.bin HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0u8; 1];
    client.read_exact(&mut first).await.unwrap();
    tokio::time::sleep(DEAD_CLIENT_AFTER + Duration::from_secs(5)).await;
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), client.read_to_end(&mut rest))
        .await
        .expect("the rest arrives within 60 s");
    let cut = format!("the download was cut after a pause of {DEAD_CLIENT_AFTER:?}");
    read.unwrap_or_else(|err| panic!("{cut}: {err}"));
    let split = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(rest.len() - split, SIZE, "{cut}");
    assert!(rest[split..] == body[..], "the body arrived intact");
}
