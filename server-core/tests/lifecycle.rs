//! Config changes and stopping, with transfers in flight. Synchronised by reading the socket,
//! never by sleeping.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{get, parse, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.expect("read head");
        head.push(byte[0]);
    }
    head
}

fn big_site() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..8_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &data).unwrap();
    std::fs::write(dir.path().join("index.html"), "old root").unwrap();
    (dir, data)
}

#[tokio::test]
async fn a_transfer_in_flight_survives_set_root_and_the_next_request_sees_the_new_root() {
    let (old, data) = big_site();
    let new = tempfile::tempdir().unwrap();
    std::fs::write(new.path().join("index.html"), "new root").unwrap();
    let server = start(old.path()).await;
    let addr = server.local_addr();

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET /big.bin HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let head = read_head(&mut stream).await;
    assert_eq!(parse(&head).status, 200);

    server.set_root(new.path()).await.unwrap();

    let mut body = vec![0u8; data.len()];
    stream
        .read_exact(&mut body)
        .await
        .expect("the whole body arrives");
    assert!(
        body == data,
        "transfer completed byte-exact on its old config"
    );
    // The old connection closes after its response, so the browser reconnects.
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("old connection closes after its response")
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(get(addr, "/").await.page(), "new root");
}

#[tokio::test]
async fn idle_keep_alive_connections_close_when_the_root_changes() {
    let (old, _) = big_site();
    let server = start(old.path()).await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET /index.html HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let head = read_head(&mut stream).await;
    let len: usize = parse(&head)
        .header("content-length")
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.unwrap();
    // The connection is now idle, kept alive.
    server
        .set_root(tempfile::tempdir().unwrap().path())
        .await
        .unwrap();
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("idle connection closed promptly")
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn stop_lets_a_transfer_in_flight_finish() {
    let (dir, data) = big_site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET /big.bin HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_head(&mut stream).await;

    let reader = tokio::spawn(async move {
        let mut body = vec![0u8; data.len()];
        stream.read_exact(&mut body).await.map(|_| body == data)
    });
    let report = server.stop(Duration::from_secs(30)).await;
    assert_eq!(report.cut, 0);
    assert_eq!(report.finished, 1);
    assert!(
        reader.await.unwrap().expect("body read"),
        "byte-exact after stop"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn stop_cuts_what_is_still_busy_at_the_deadline() {
    let (dir, _) = big_site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled
        .write_all(format!("GET /big.bin HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_head(&mut stalled).await;
    // The client never reads the 8 MB body, so the transfer cannot finish.
    let report = server.stop(Duration::from_millis(300)).await;
    assert_eq!(report.cut, 1);
}
