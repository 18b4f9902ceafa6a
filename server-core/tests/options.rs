//! Settings that change what is served: listing, dotfiles, symlinks, cache policy, keep-alive
//! and the idle timeout.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{fixture_site, get, parse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};

async fn start_with(draft: ConfigDraft) -> ServerHandle {
    let config = ServerConfig::try_from(ConfigDraft {
        port: Some(0),
        ..draft
    })
    .unwrap();
    ServerHandle::start(config).await.unwrap()
}

fn root(path: &std::path::Path) -> ConfigDraft {
    ConfigDraft {
        root: Some(path.to_path_buf()),
        ..ConfigDraft::default()
    }
}

#[tokio::test]
async fn listing_can_be_turned_off() {
    let server = start_with(ConfigDraft {
        directory_listing: Some(false),
        ..root(&fixture_site())
    })
    .await;
    assert_eq!(get(server.local_addr(), "/docs/").await.status, 404);
    assert_eq!(
        get(server.local_addr(), "/nested/").await.status,
        200,
        "an index still works"
    );
}

#[tokio::test]
async fn dotfiles_can_be_shown() {
    let server = start_with(ConfigDraft {
        show_dotfiles: Some(true),
        ..root(&fixture_site())
    })
    .await;
    let env = get(server.local_addr(), "/.env").await;
    assert_eq!(env.status, 200);
    assert!(env.text().contains("SECRET_TOKEN"));
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_the_root_can_be_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(dir.path().join("shared.css"), "shared").unwrap();
    std::os::unix::fs::symlink(dir.path().join("shared.css"), site.join("shared.css")).unwrap();
    let refused = start_with(root(&site)).await;
    assert_eq!(get(refused.local_addr(), "/shared.css").await.status, 404);
    let allowed = start_with(ConfigDraft {
        follow_symlinks: Some(true),
        ..root(&site)
    })
    .await;
    assert_eq!(
        get(allowed.local_addr(), "/shared.css").await.text(),
        "shared"
    );
}

#[tokio::test]
async fn cache_control_is_configurable() {
    let server = start_with(ConfigDraft {
        cache_control: Some("public, max-age=60".into()),
        ..root(&fixture_site())
    })
    .await;
    let response = get(server.local_addr(), "/style.css").await;
    assert_eq!(response.header("cache-control"), Some("public, max-age=60"));
}

#[tokio::test]
async fn keep_alive_off_closes_after_each_response() {
    let server = start_with(ConfigDraft {
        keep_alive: Some(false),
        ..root(&fixture_site())
    })
    .await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut bytes))
        .await
        .expect("closed after one response")
        .unwrap();
    let response = parse(&bytes);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
}

#[tokio::test]
async fn idle_keep_alive_connections_close_after_the_idle_timeout() {
    let server = start_with(ConfigDraft {
        keep_alive_idle_timeout_ms: Some(300),
        ..root(&fixture_site())
    })
    .await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 8192];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("idle connection closed")
        .unwrap();
    let idle = idle_from.elapsed();
    assert!(
        idle >= Duration::from_millis(250),
        "closed too early: {idle:?}"
    );
    assert!(idle < Duration::from_secs(3), "closed too late: {idle:?}");
}

#[tokio::test]
async fn an_active_keep_alive_connection_is_not_idled_out() {
    let server = start_with(ConfigDraft {
        keep_alive_idle_timeout_ms: Some(400),
        ..root(&fixture_site())
    })
    .await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 8192];
    // Requests every 200 ms for 1.2 s: never idle for 400 ms.
    for _ in 0..6 {
        stream
            .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_parked_connection_answers_its_next_requests_on_the_same_socket() {
    let server = start_with(ConfigDraft {
        keep_alive_idle_timeout_ms: Some(3000),
        ..root(&fixture_site())
    })
    .await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 16384];
    for round in 0..3 {
        // Quiet for longer than the park delay (25 ms) between requests.
        stream
            .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(text.starts_with("HTTP/1.1 200"), "round {round}: {text}");
        assert!(
            !text.to_ascii_lowercase().contains("connection: close"),
            "round {round}: {text}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // Two pipelined requests after parking: both answered, in order, on this socket.
    stream
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\nGET /app.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut all))
        .await
        .expect("closed after the second response")
        .unwrap();
    let text = String::from_utf8_lossy(&all);
    let css = text.find("#123456").expect("first response");
    let js = text.find("fixture app").expect("second response");
    assert!(css < js);
}

#[tokio::test]
async fn a_parked_connection_closes_at_the_idle_timeout_and_on_stop() {
    let server = start_with(ConfigDraft {
        keep_alive_idle_timeout_ms: Some(1000),
        ..root(&fixture_site())
    })
    .await;
    let addr = server.local_addr();
    let mut parked = TcpStream::connect(addr).await.unwrap();
    parked
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 8192];
    let n = parked.read(&mut buf).await.unwrap();
    assert!(n > 0);
    let quiet_from = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), parked.read_to_end(&mut rest))
        .await
        .expect("parked connection closed at the idle timeout")
        .unwrap();
    let idle = quiet_from.elapsed();
    assert!(
        idle >= Duration::from_millis(900) && idle < Duration::from_secs(3),
        "{idle:?}"
    );

    let mut parked = TcpStream::connect(addr).await.unwrap();
    parked
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let n = parked.read(&mut buf).await.unwrap();
    assert!(n > 0);
    tokio::time::sleep(Duration::from_millis(400)).await; // parked now
    let report = server.stop(Duration::from_secs(5)).await;
    assert_eq!(report.cut, 0);
    let n = tokio::time::timeout(Duration::from_secs(2), parked.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0, "stop closes parked connections");
}

#[tokio::test]
async fn without_keep_alive_a_preconnected_socket_still_gets_its_answer() {
    let server = start_with(ConfigDraft {
        keep_alive: Some(false),
        ..root(&fixture_site())
    })
    .await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    // A browser opens sockets ahead of time and may use them a while later.
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    assert_eq!(parse(&bytes).status, 200);
}

/// `byteRanges` off (issue 15, the setting added end to end): a Range request gets the whole
/// file with 200 and no `Accept-Ranges`, as from a server without ranges; on (the default),
/// the part asked for with 206.
#[tokio::test]
async fn byte_ranges_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("clip.bin"), b"0123456789").unwrap();
    let range = [("Range", "bytes=2-4")];

    let on = start_with(root(dir.path())).await;
    let part = common::request(on.local_addr(), "GET", "/clip.bin", &range).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.header("accept-ranges"), Some("bytes"));
    assert_eq!(part.text(), "234");

    let off = start_with(ConfigDraft {
        byte_ranges: Some(false),
        ..root(dir.path())
    })
    .await;
    let whole = common::request(off.local_addr(), "GET", "/clip.bin", &range).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges"), None);
    assert_eq!(whole.text(), "0123456789");
}
