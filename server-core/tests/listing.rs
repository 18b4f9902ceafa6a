//! Folder listings on a real socket: sorting and filtering without JavaScript, hostile names,
//! and a cache that never shows a stale folder.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{get, start, write_aged};

#[tokio::test]
async fn folders_first_then_sorted_by_the_query() {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("b-small.txt"), b"1");
    write_aged(&dir.path().join("a-big.txt"), &[0u8; 5000]);
    std::fs::create_dir(dir.path().join("z-folder")).unwrap();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let pos = |html: &str, name: &str| {
        html.find(&format!(">{name}"))
            .unwrap_or_else(|| panic!("{name} missing"))
    };

    let by_name = get(addr, "/").await.text();
    assert!(
        pos(&by_name, "z-folder") < pos(&by_name, "a-big.txt"),
        "folders first"
    );
    assert!(pos(&by_name, "a-big.txt") < pos(&by_name, "b-small.txt"));

    let by_size = get(addr, "/?sort=size&order=desc").await.text();
    assert!(
        pos(&by_size, "z-folder") < pos(&by_size, "a-big.txt"),
        "folders first"
    );
    assert!(pos(&by_size, "a-big.txt") < pos(&by_size, "b-small.txt"));
    let by_size_asc = get(addr, "/?sort=size&order=asc").await.text();
    assert!(pos(&by_size_asc, "b-small.txt") < pos(&by_size_asc, "a-big.txt"));

    let filtered = get(addr, "/?q=SMALL").await.text();
    assert!(filtered.contains(">b-small.txt"));
    assert!(!filtered.contains(">a-big.txt"));
    assert!(by_name.contains("4.9 KiB"), "human sizes");
}

#[tokio::test]
async fn hostile_names_and_queries_stay_text() {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("<img src=x onerror=alert(1)>.html"), b"x");
    let server = start(dir.path()).await;
    let html = get(
        server.local_addr(),
        "/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
    )
    .await
    .text();
    assert!(!html.contains("<script>alert"), "{html}");
    let html = get(server.local_addr(), "/").await.text();
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;.html"));
}

#[tokio::test]
async fn cached_listings_follow_every_change() {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("one.txt"), b"1");
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let first = get(addr, "/").await.text();
    assert_eq!(get(addr, "/").await.text(), first, "served again unchanged");

    write_aged(&dir.path().join("two.txt"), b"2");
    assert!(
        get(addr, "/").await.text().contains(">two.txt"),
        "a new file is listed at once"
    );

    // An edit that keeps an old mtime (cp -p, rsync -t) is caught by the watcher.
    write_aged(&dir.path().join("one.txt"), &[b'x'; 3000]);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if get(addr, "/").await.text().contains("2.9 KiB") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "listing never showed the new size"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    std::fs::remove_file(dir.path().join("two.txt")).unwrap();
    assert!(
        !get(addr, "/").await.text().contains(">two.txt"),
        "a deleted file is gone at once"
    );
}
