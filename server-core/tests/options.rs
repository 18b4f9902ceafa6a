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
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n")
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
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n")
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
            .write_all(b"GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
