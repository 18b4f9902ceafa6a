//! Live configuration: `apply` changes what new connections get, while every connection keeps
//! the config it was accepted with. Transfers are held mid-body by not reading the socket
//! (a gate), never by sleeping, and bodies are checked by SHA-256.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::{free_port, parse, start_draft as start};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wharf_core::{ApplyError, ConfigDraft, ConnectionState, ServerEvent};

/// 24 MiB: far more than loopback's socket buffers hold, so a client that stops reading
/// really holds the server mid-body.
const BIG: usize = 24 << 20;

struct Site {
    dir: tempfile::TempDir,
    big_sha: Vec<u8>,
}

/// A site whose index.html says `label`.
fn site(label: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), label).unwrap();
    dir
}

/// A site with a `big.bin` of [`BIG`] pseudo-random bytes too.
fn big_site(label: &str) -> Site {
    let dir = site(label);
    let big = common::noise(BIG, 0x9E37_79B9_7F4A_7C15u64 ^ label.len() as u64);
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    Site {
        dir,
        big_sha: Sha256::digest(&big).to_vec(),
    }
}

fn draft(root: &Path, marker: &str) -> ConfigDraft {
    ConfigDraft {
        root: Some(root.to_path_buf()),
        port: Some(0),
        cache_control: Some(format!("no-cache, gen={marker}")),
        // Bodies are compared byte for byte; the live-reload script has its own tests.
        live_reload: Some(false),
        ..ConfigDraft::default()
    }
}

/// A keep-alive client on one connection.
struct Client {
    stream: TcpStream,
    addr: SocketAddr,
}

struct Head {
    status: u16,
    marker: String,
    length: usize,
    close: bool,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.unwrap(),
            addr,
        }
    }

    async fn send(&mut self, path: &str) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        self.stream.write_all(request.as_bytes()).await.unwrap();
    }

    async fn head(&mut self) -> Head {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            self.stream.read_exact(&mut byte).await.expect("read head");
            head.push(byte[0]);
        }
        let parsed = parse(&head);
        Head {
            status: parsed.status,
            marker: parsed
                .header("cache-control")
                .and_then(|value| value.split("gen=").nth(1))
                .unwrap_or_default()
                .to_owned(),
            length: parsed.header("content-length").unwrap().parse().unwrap(),
            close: parsed.header("connection") == Some("close"),
        }
    }

    async fn body(&mut self, length: usize) -> Vec<u8> {
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await.expect("whole body");
        body
    }

    /// One request, answered in full: the head and the body.
    async fn get(&mut self, path: &str) -> (Head, Vec<u8>) {
        self.send(path).await;
        let head = self.head().await;
        let body = self.body(head.length).await;
        (head, body)
    }

    /// Waits for the server to close the connection, sending nothing more.
    async fn closed_by_server(&mut self) -> bool {
        let mut rest = Vec::new();
        match tokio::time::timeout(Duration::from_secs(5), self.stream.read_to_end(&mut rest)).await
        {
            Ok(Ok(_)) => rest.is_empty(),
            Ok(Err(_)) | Err(_) => false,
        }
    }
}

#[tokio::test]
async fn new_connections_get_the_new_generation_and_idle_old_ones_close_at_once() {
    let site = site("A");
    let server = start(draft(site.path(), "1")).await;
    let addr = server.local_addr();
    let mut old = Client::connect(addr).await;
    assert_eq!(old.get("/").await.0.marker, "1");

    let report = server.apply(draft(site.path(), "2")).await.unwrap();
    assert_eq!(report.generation, 2);
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].field, "cacheControl");
    assert!(report.continuing.is_empty(), "the old connection was idle");
    assert!(
        report
            .to_string()
            .starts_with("generation 2 applied: cache_control no-cache, gen=1 -> no-cache, gen=2"),
        "{report}"
    );

    assert!(old.closed_by_server().await, "idle old connection closes");
    let mut new = Client::connect(addr).await;
    assert_eq!(new.get("/").await.0.marker, "2");
    // The new connection keeps its snapshot: it is not closed by its own generation.
    assert_eq!(new.get("/").await.0.marker, "2");
}

#[tokio::test]
async fn a_connection_not_used_yet_answers_its_first_request_then_closes() {
    // A browser opens a connection and sends its request; an apply lands in between. The
    // request was sent expecting an answer (browsers retry only on reused connections), so
    // it gets one, on the generation the connection was accepted under, then the close.
    let site = site("A");
    let server = start(draft(site.path(), "1")).await;
    let addr = server.local_addr();
    let mut fresh = Client::connect(addr).await;
    eventually(|| server.connections().len() == 1).await;
    let mut reading = Client::connect(addr).await;
    reading
        .stream
        .write_all(b"GET / HTTP/1.1\r\nHo")
        .await
        .unwrap();
    eventually(|| {
        server
            .connections()
            .iter()
            .any(|c| c.state == ConnectionState::Reading)
    })
    .await;

    server.apply(draft(site.path(), "2")).await.unwrap();

    let (head, body) = fresh.get("/").await;
    assert_eq!(
        (head.status, head.marker.as_str(), body.as_slice()),
        (200, "1", b"A".as_slice())
    );
    assert!(head.close, "Connection: close");
    assert!(fresh.closed_by_server().await);

    reading
        .stream
        .write_all(format!("st: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let head = reading.head().await;
    assert_eq!(
        (head.status, head.marker.as_str(), head.close),
        (200, "1", true)
    );
    reading.body(head.length).await;
    assert!(reading.closed_by_server().await);

    assert_eq!(Client::connect(addr).await.get("/").await.0.marker, "2");
}

#[tokio::test]
async fn a_download_spanning_ten_applies_completes_byte_exact_on_its_own_generation() {
    let (a, b) = (big_site("A"), site("B"));
    let server = start(draft(a.dir.path(), "1")).await;
    let addr = server.local_addr();
    let mut download = Client::connect(addr).await;
    download.send("/big.bin").await;
    let head = download.head().await;
    assert_eq!(
        (head.status, head.length, head.marker.as_str()),
        (200, BIG, "1")
    );
    let mut hasher = Sha256::new();
    hasher.update(download.body(64 * 1024).await);

    for generation in 2..=11u64 {
        // Alternate roots: the download must keep reading from A regardless.
        let root = if generation % 2 == 0 {
            b.path()
        } else {
            a.dir.path()
        };
        let report = server
            .apply(draft(root, &generation.to_string()))
            .await
            .unwrap();
        assert_eq!(report.generation, generation);
        assert_eq!(
            report.continuing,
            vec![(1, 1)],
            "the download continues on 1"
        );
        let held = server.connections();
        let held = held.iter().find(|c| c.generation == 1).unwrap();
        assert_eq!(held.state, ConnectionState::Sending);
        // A new connection meanwhile sees the new generation and its root.
        let mut fresh = Client::connect(addr).await;
        let (head, body) = fresh.get("/").await;
        assert_eq!(head.marker, generation.to_string());
        assert_eq!(body, if generation % 2 == 0 { b"B" } else { b"A" });
        // Let some more of the download through.
        hasher.update(download.body(256 * 1024).await);
    }

    let rest = BIG - 64 * 1024 - 10 * 256 * 1024;
    hasher.update(download.body(rest).await);
    assert_eq!(hasher.finalize().to_vec(), a.big_sha, "byte-exact");
    assert!(
        download.closed_by_server().await,
        "after its response the old connection closes, so the next request reconnects"
    );
}

#[tokio::test]
async fn a_port_change_binds_first_and_old_connections_keep_going() {
    let site = big_site("A");
    let server = start(draft(site.dir.path(), "1")).await;
    let old_addr = server.local_addr();
    let mut download = Client::connect(old_addr).await;
    download.send("/big.bin").await;
    let head = download.head().await;
    let mut events = server.subscribe();

    let report = server
        .apply(ConfigDraft {
            port: Some(u32::from(free_port())),
            ..draft(site.dir.path(), "2")
        })
        .await
        .unwrap();
    let new_addr = report.rebound.expect("a new listener");
    assert_ne!(new_addr, old_addr);
    assert_eq!(server.local_addr(), new_addr);
    assert!(report.to_string().contains("port 0 -> "), "{report}");

    assert!(
        TcpStream::connect(old_addr).await.is_err(),
        "the old listener no longer accepts"
    );
    let (head2, body) = Client::connect(new_addr).await.get("/").await;
    assert_eq!(
        (head2.marker.as_str(), body.as_slice()),
        ("2", b"A".as_slice())
    );

    let body = download.body(head.length).await;
    assert_eq!(Sha256::digest(&body).to_vec(), site.big_sha);
    assert!(download.closed_by_server().await);

    let mut seen_rebound = false;
    let mut seen_applied = false;
    while let Ok(event) = events.try_recv() {
        match event {
            ServerEvent::ListenerRebound { from, to } => {
                assert_eq!((from, to), (old_addr, new_addr));
                seen_rebound = true;
            }
            ServerEvent::Applied { generation, .. } => {
                assert_eq!(generation, 2);
                seen_applied = true;
            }
            _ => {}
        }
    }
    assert!(seen_rebound && seen_applied);
}

#[tokio::test]
async fn a_failed_bind_leaves_the_server_serving_on_its_old_address() {
    let site = site("A");
    let server = start(draft(site.path(), "1")).await;
    let addr = server.local_addr();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();

    let err = server
        .apply(ConfigDraft {
            port: Some(u32::from(port)),
            ..draft(site.path(), "2")
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::Bind { .. }));
    assert_eq!(err.field(), "port");
    let message = err.to_string();
    assert!(
        message.contains(&format!("port {port} is already in use")),
        "{message}"
    );
    assert!(
        message.contains(&format!("still serving on http://{addr}/")),
        "{message}"
    );

    assert_eq!(server.config().generation(), 1, "nothing applied");
    assert_eq!(server.local_addr(), addr);
    assert_eq!(Client::connect(addr).await.get("/").await.0.marker, "1");
}

#[tokio::test]
async fn bad_drafts_are_refused_with_the_field_and_change_nothing() {
    let site = site("A");
    let server = start(draft(site.path(), "1")).await;
    let addr = server.local_addr();
    let mut idle = Client::connect(addr).await;
    idle.get("/").await;

    let missing = server
        .apply(draft(&site.path().join("gone"), "2"))
        .await
        .unwrap_err();
    assert_eq!(missing.field(), "root");
    let port = server
        .apply(ConfigDraft {
            port: Some(70000),
            ..draft(site.path(), "2")
        })
        .await
        .unwrap_err();
    assert_eq!(
        port.to_string(),
        "port: 70000 is not a valid port; use 0-65535 (0 picks a free one)"
    );

    assert_eq!(server.config().generation(), 1);
    // The idle connection was not disturbed: it still serves on generation 1.
    assert_eq!(idle.get("/").await.0.marker, "1");
}

#[tokio::test]
async fn an_unchanged_draft_applies_nothing_and_closes_nothing() {
    let site = site("A");
    let server = start(draft(site.path(), "1")).await;
    let mut idle = Client::connect(server.local_addr()).await;
    idle.get("/").await;
    let report = server.apply(draft(site.path(), "1")).await.unwrap();
    assert!(!report.applied());
    assert_eq!(report.generation, 1);
    assert_eq!(idle.get("/").await.0.marker, "1");
}

#[tokio::test]
async fn keep_alive_off_closes_after_each_response_and_on_again_keeps_open() {
    let site = site("A");
    let server = start(draft(site.path(), "1")).await;
    let addr = server.local_addr();
    server
        .apply(ConfigDraft {
            keep_alive: Some(false),
            ..draft(site.path(), "2")
        })
        .await
        .unwrap();
    let mut once = Client::connect(addr).await;
    let (head, _) = once.get("/").await;
    assert!(head.close, "Connection: close");
    assert!(once.closed_by_server().await);

    let report = server.apply(draft(site.path(), "3")).await.unwrap();
    assert!(
        report.to_string().contains("keep_alive off -> on"),
        "{report}"
    );
    let mut kept = Client::connect(addr).await;
    assert!(!kept.get("/").await.0.close);
    assert_eq!(
        kept.get("/").await.0.marker,
        "3",
        "second request, same connection"
    );
}

#[tokio::test]
async fn beyond_max_connections_clients_wait_in_the_kernel_queue() {
    let site = site("A");
    let server = start(ConfigDraft {
        max_connections: Some(2),
        ..draft(site.path(), "1")
    })
    .await;
    let addr = server.local_addr();
    let mut first = Client::connect(addr).await;
    first.get("/").await;
    let mut second = Client::connect(addr).await;
    second.get("/").await;

    // The kernel completes the handshake, but the server does not accept it yet.
    let mut third = Client::connect(addr).await;
    third.send("/").await;
    let admission = server.admission();
    assert_eq!((admission.open, admission.limit), (2, 2));
    #[cfg(target_os = "linux")]
    assert_eq!(admission.waiting, Some(1));
    let mut byte = [0u8; 1];
    let early =
        tokio::time::timeout(Duration::from_millis(300), third.stream.peek(&mut byte)).await;
    assert!(early.is_err(), "not served while both slots are taken");

    drop(first);
    let (head, body) = tokio::time::timeout(Duration::from_secs(5), async {
        let head = third.head().await;
        let body = third.body(head.length).await;
        (head, body)
    })
    .await
    .expect("served once a slot frees");
    assert_eq!((head.status, body.as_slice()), (200, b"A".as_slice()));
    assert_eq!(server.admission().waiting.unwrap_or(0), 0);
}

#[tokio::test]
async fn stop_lets_transfers_finish_until_the_deadline_then_cuts_and_reports() {
    let site = big_site("A");
    let server = start(draft(site.dir.path(), "1")).await;
    let addr = server.local_addr();
    let mut idle = Client::connect(addr).await;
    idle.get("/").await;
    let mut held = Client::connect(addr).await;
    held.send("/big.bin").await;
    held.head().await;

    let report = server.stop(Duration::from_millis(300)).await;
    assert_eq!((report.finished, report.cut), (1, 1), "{report:?}");
    assert!(idle.closed_by_server().await);
}

#[tokio::test]
async fn a_panic_costs_one_request_and_everyone_else_is_served() {
    let site = site("A");
    let server = start(draft(site.path(), "1")).await;
    let addr = server.local_addr();
    let mut bystander = Client::connect(addr).await;
    bystander.get("/").await;

    let mut victim = Client::connect(addr).await;
    victim
        .stream
        .write_all(
            format!("GET / HTTP/1.1\r\nHost: {addr}\r\nX-Wharf-Fault: panic\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let head = victim.head().await;
    assert_eq!(head.status, 500);
    assert!(head.close);

    assert_eq!(bystander.get("/").await.0.status, 200);
    assert_eq!(Client::connect(addr).await.get("/").await.0.status, 200);
}

#[tokio::test]
async fn connections_report_state_counts_and_can_be_closed() {
    let site = big_site("A");
    let server = start(draft(site.dir.path(), "1")).await;
    let addr = server.local_addr();
    let mut events = server.subscribe();

    let mut idle = Client::connect(addr).await;
    idle.get("/").await;
    idle.get("/").await;
    let mut reading = Client::connect(addr).await;
    reading
        .stream
        .write_all(b"GET / HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut sending = Client::connect(addr).await;
    sending.send("/big.bin").await;
    sending.head().await;
    // The half-sent request has reached the server once the table says so.
    eventually(|| {
        let connections = server.connections();
        connections.len() == 3 && connections[1].state == ConnectionState::Reading
    })
    .await;
    let connections = server.connections();
    let states: Vec<_> = connections.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        [
            ConnectionState::Idle,
            ConnectionState::Reading,
            ConnectionState::Sending
        ]
    );
    assert_eq!(connections[0].requests, 2);
    assert!(connections[0].bytes_sent > 0);
    assert!(connections
        .iter()
        .all(|c| c.generation == 1 && c.peer.ip().is_loopback()));
    assert!(connections[0].id < connections[1].id && connections[1].id < connections[2].id);

    assert!(server.close_connection(connections[2].id));
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        sending.stream.read_to_end(&mut rest),
    )
    .await
    .expect("a closed connection ends");
    assert!(rest.len() < BIG, "cut before the end");
    eventually(|| server.connections().len() == 2).await;

    let mut opened = 0;
    let mut closed = 0;
    while let Ok(event) = events.try_recv() {
        match event {
            ServerEvent::ConnectionOpened { generation, .. } => {
                assert_eq!(generation, 1);
                opened += 1;
            }
            ServerEvent::ConnectionClosed { id, .. } => {
                assert_eq!(id, connections[2].id);
                closed += 1;
            }
            _ => {}
        }
    }
    assert_eq!((opened, closed), (3, 1));
}

/// Waits (yielding, up to 5 s) until `condition` holds.
async fn eventually(condition: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("condition reached within 5 s");
}
