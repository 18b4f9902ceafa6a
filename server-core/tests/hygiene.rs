//! Hostile and malformed requests on a real socket: each gets the right 4xx, never a crash,
//! and the server keeps serving everyone else.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{fixture_site, get, parse, send_raw, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `request` and returns the status of the first response, plus whether the server
/// closed the connection afterwards (read to EOF within 5 s).
async fn status_and_close(addr: std::net::SocketAddr, request: &[u8]) -> (u16, bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut bytes))
        .await
        .is_ok();
    (parse(&bytes).status, closed)
}

#[tokio::test]
async fn framing_attacks_are_400_and_close() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let cases: [&[u8]; 7] = [
        b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        // A foreign Host too: the framing fault is answered first, and closes (a 403 that kept
        // the connection would leave the smuggled bytes to be read as the next request).
        b"GET / HTTP/1.1\r\nHost: evil.example\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: +5\r\n\r\nhello",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n",
    ];
    for request in cases {
        let (status, closed) = status_and_close(addr, request).await;
        let shown = String::from_utf8_lossy(request);
        assert_eq!(status, 400, "{shown}");
        assert!(closed, "connection must close after {shown}");
    }
    assert_eq!(get(addr, "/").await.status, 200, "still serving");
}

#[tokio::test]
async fn oversized_headers_are_431_and_uris_414() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let (status, _) = status_and_close(addr, big_header.as_bytes()).await;
    assert_eq!(status, 431);
    // Whatever the method (found by the `hygiene` fuzz target: OPTIONS got 204, POST 405).
    for (len, method) in [
        (10_000, "GET"),
        (60_000, "GET"),
        (10_000, "OPTIONS"),
        (10_000, "POST"),
    ] {
        let long_uri = format!(
            "{method} /{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "a".repeat(len)
        );
        let (status, _) = status_and_close(addr, long_uri.as_bytes()).await;
        assert_eq!(status, 414, "{method} URI of {len} bytes");
    }
    assert_eq!(get(addr, "/").await.status, 200, "still serving");
}

#[tokio::test]
async fn garbage_is_400_never_a_crash() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let cases: [&[u8]; 6] = [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"HELLO\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: localhost\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost a\r\n\r\n",
        b"\0\0\0\0\r\n\r\n",
    ];
    for request in cases {
        let (status, _) = status_and_close(addr, request).await;
        assert!(
            (400..500).contains(&status),
            "{:?} -> {status}",
            String::from_utf8_lossy(request)
        );
    }
    assert_eq!(get(addr, "/").await.status, 200, "still serving");
}

/// RFC 9112 §3.2: whatever the method. Found by the `hygiene` fuzz target: a `POST`
/// without `Host` got 405 and an `OPTIONS` 204, because the method was judged first.
#[tokio::test]
async fn http11_without_exactly_one_host_is_400_whatever_the_method() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    for method in ["GET", "HEAD", "OPTIONS", "POST", "DELETE", "BREW"] {
        for hosts in ["", "Host: a\r\nHost: b\r\n"] {
            let request = format!(
                "{method} / HTTP/1.1\r\n{hosts}Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let (status, _) = status_and_close(addr, request.as_bytes()).await;
            assert_eq!(status, 400, "{request:?}");
        }
    }
    let (status, _) = status_and_close(addr, b"OPTIONS * HTTP/1.0\r\n\r\n").await;
    assert_eq!(status, 204, "HTTP/1.0 needs no Host");
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let request = b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n\
                    GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n\
                    GET /data.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let response = send_raw(addr, request).await;
    let text = String::from_utf8_lossy(&response.body).into_owned();
    let whole = format!("{:?}", response.headers) + &text;
    let css = whole.find("text/css").unwrap_or(0);
    let js = text.find("fixture app").expect("second response");
    let json = text.find("\"name\":\"fixture\"").expect("third response");
    assert!(css <= js && js < json, "responses out of order: {text}");
}

#[tokio::test]
async fn http10_closes_unless_keep_alive_is_asked_for() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let (status, closed) = status_and_close(addr, b"GET /style.css HTTP/1.0\r\n\r\n").await;
    assert_eq!((status, closed), (200, true));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
    assert!(head.contains("connection: keep-alive"), "{head}");
    // Still open: a second request on the same connection is answered.
    stream
        .write_all(b"GET /style.css HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.0 200"));
}

#[tokio::test]
async fn a_silent_client_is_cut_off_by_the_header_timeout() {
    let dir = fixture_site();
    let config = wharf_core::ServerConfig::try_from(wharf_core::ConfigDraft {
        root: Some(dir.to_path_buf()),
        port: Some(0),
        header_read_timeout_ms: Some(400),
        ..wharf_core::ConfigDraft::default()
    })
    .unwrap();
    let server = wharf_core::ServerHandle::start(config).await.unwrap();
    let addr = server.local_addr();

    let started = Instant::now();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut sink = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut sink))
        .await
        .expect("a silent client is cut off")
        .ok();
    assert!(started.elapsed() < Duration::from_secs(3));

    // One byte per 100 ms never completes the header block: cut off too.
    let started = Instant::now();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let mut cut = false;
    for byte in
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    {
        if slow.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(1), slow.read(&mut probe)).await
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "slowloris client was never cut off");
    assert!(started.elapsed() < Duration::from_secs(3));
}
