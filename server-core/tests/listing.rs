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
    // The name is markup where the OS allows it; Windows forbids `<`, `>` and `"` in names,
    // so there it breaks out of a quoted attribute and carries an entity instead.
    let (name, raw, escaped) = if cfg!(windows) {
        (
            "x' onmouseover='alert(1)' &amp;.html",
            "' onmouseover='",
            "x&#39; onmouseover=&#39;alert(1)&#39; &amp;amp;.html",
        )
    } else {
        (
            "<img src=x onerror=alert(1)>.html",
            "<img src=x",
            "&lt;img src=x onerror=alert(1)&gt;.html",
        )
    };
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join(name), b"x");
    let server = start(dir.path()).await;
    let html = get(
        server.local_addr(),
        "/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
    )
    .await
    .text();
    assert!(!html.contains("<script>alert"), "{html}");
    let html = get(server.local_addr(), "/").await.text();
    assert!(!html.contains(raw), "{html}");
    assert!(html.contains(escaped), "{html}");
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

/// Names a user may give files on this OS, chosen to trip URL encoding, HTML escaping and
/// the resolver: every one must be listed with a link that leads to it.
fn odd_names() -> Vec<&'static str> {
    let mut names = vec![
        "plain.txt",
        "with space.txt",
        "hash#tag.txt",
        "100%.txt",
        "%41",
        "%2e%2e",
        "a+b=c.txt",
        "rock&roll.txt",
        "it's.txt",
        "semi;colon,comma.txt",
        "[brackets]{braces}~tilde!$^.txt",
        "back`tick.txt",
        "café-日本語.txt",
        "emoji-🦀🚢.txt",
        "evil\u{202E}txt.exe",
        "-rf.txt",
        "=1+1.txt",
        "@SUM(A1).txt",
        "empty.txt",
        "a..b",
    ];
    if cfg!(unix) {
        // Legal on Unix, refused by Windows itself.
        names.extend([
            "notes 10:30.txt",
            "CON.txt",
            "a:b",
            "what?.txt",
            "say \"hi\".txt",
            "<script src=data:,alert(1)>.txt",
            "a\\b.txt",
            "\\\\server\\share",
            "pipe|star*.txt",
            "trailing space ",
            "trailing dot.",
            "tab\tand\nnewline",
        ]);
    }
    names
}

/// Follows every link of a listing (and of the listings it links to) on a real socket, as a
/// browser would resolve it, and checks each reaches its file's bytes or its folder's listing.
/// Bidi controls in names are shown written out (issue 13, point 7).
#[tokio::test]
async fn every_listed_link_leads_to_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = if cfg!(unix) {
        "sub: #?% dir "
    } else {
        "sub #% dir"
    };
    let deeper = format!("{sub}/deeper [1] é");
    std::fs::create_dir_all(dir.path().join(&deeper)).unwrap();
    let mut expected = std::collections::BTreeMap::new();
    for (index, name) in odd_names().into_iter().enumerate() {
        for folder in ["", sub, deeper.as_str()] {
            let path = if folder.is_empty() {
                name.to_owned()
            } else {
                format!("{folder}/{name}")
            };
            let bytes = if name == "empty.txt" {
                Vec::new()
            } else {
                format!("file {index} at {path:?}").into_bytes()
            };
            write_aged(&dir.path().join(&path), &bytes);
            expected.insert(path, bytes);
        }
    }
    let server = start(dir.path()).await;
    let addr = server.local_addr();

    let mut reached = std::collections::BTreeMap::new();
    let mut folders = vec![String::from("/")];
    let mut listed = Vec::new();
    while let Some(base) = folders.pop() {
        let listing = get(addr, &base).await;
        assert_eq!(listing.status, 200, "listing {base}");
        listed.push(base.clone());
        let html = listing.text();
        // The U+202E name is shown written out, never raw; its link (followed below) still
        // reaches the file.
        assert!(!html.contains('\u{202E}'), "a raw U+202E in {base}");
        assert!(
            html.contains("evil<span class=\"ctl\">&lt;U+202E&gt;</span>txt.exe</a>"),
            "{base}: {html}"
        );
        for href in hrefs(&html) {
            if href.starts_with('?') {
                continue;
            }
            let target = if href == "../" {
                let trimmed = base.trim_end_matches('/');
                trimmed[..=trimmed.rfind('/').unwrap()].to_owned()
            } else {
                let relative = href
                    .strip_prefix("./")
                    .unwrap_or_else(|| panic!("{href} is not relative"));
                format!("{base}{relative}")
            };
            let response = get(addr, &target).await;
            assert_eq!(response.status, 200, "{target} (href {href:?} in {base})");
            if href == "../" {
                assert!(listing.text().contains("Index of"), "{target}");
            } else if target.ends_with('/') {
                folders.push(target);
            } else {
                let name = percent_encoding::percent_decode_str(&target[1..])
                    .decode_utf8()
                    .unwrap()
                    .into_owned();
                reached.insert(name, response.body);
            }
        }
    }
    assert_eq!(
        listed.len(),
        3,
        "the root, {sub:?} and {deeper:?}: {listed:?}"
    );
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !reached.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "never reached: {missing:?}");
    for (path, bytes) in &expected {
        assert_eq!(&reached[path], bytes, "{path:?}");
    }
}

/// The `href` values of a page, HTML-unescaped.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| {
            rest[..rest.find('"').unwrap()]
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}
