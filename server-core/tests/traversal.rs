//! No request may read anything outside the served folder. Every variant is sent raw on a
//! real socket, and the secret file next to the fixture site must never appear.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{fixture_secret, fixture_site, get, start, SECRET_MARKER};

#[tokio::test]
async fn traversal_variants_never_leak_the_secret() {
    assert!(std::fs::read_to_string(fixture_secret())
        .unwrap()
        .contains(SECRET_MARKER));
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let secret_abs = dunce::canonicalize(fixture_secret()).unwrap();
    let secret_abs = secret_abs.to_str().unwrap();
    let mut paths: Vec<String> = [
        "/../secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/nested/../../secret.txt",
        "/nested/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
        "/..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/nested\\..\\..\\secret.txt",
        "/....//secret.txt",
        "/..;/secret.txt",
        "/../../../../../../etc/passwd",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/etc/passwd",
        "/secret.txt%00.html",
        "/..%00/secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/%ef%bc%8e%ef%bc%8e/secret.txt",
        "/C:/Windows/win.ini",
        "/C:%5cWindows%5cwin.ini",
        "/%5c%5cserver%5cshare",
        "/CON",
        "/nul.txt",
        // double and triple encoding
        "/%252e%252e%252fsecret.txt",
        "/..%252fsecret.txt",
        "/..%255csecret.txt",
        "/%25252e%25252e/secret.txt",
        // overlong and alternative UTF-8 forms of '.', '/' and '\\'
        "/%e0%80%ae%e0%80%ae/secret.txt",
        "/..%c0%af..%c0%afsecret.txt",
        "/..%e0%80%afsecret.txt",
        "/..%c1%9csecret.txt",
        "/..%c0%2fsecret.txt",
        "/%u002e%u002e/secret.txt",
        "/%uff0e%uff0e/secret.txt",
        "/\\u002e\\u002e/secret.txt",
        // full-width and look-alike dots
        "/．．/secret.txt",
        "/%e2%80%a4%e2%80%a4/secret.txt",
        // mixed separators and dot tricks
        "/./../secret.txt",
        "/.//../secret.txt",
        "/nested/./../../secret.txt",
        "/nested//..//..//secret.txt",
        "/%2e./secret.txt",
        "/.%2e%2fsecret.txt",
        "/...../secret.txt",
        "/..%09/secret.txt",
        "/..%20/secret.txt",
        "/.. /secret.txt",
        "/..%23/secret.txt",
        "/..%3f/secret.txt",
        "/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/....\\\\secret.txt",
        // absolute paths, URLs, drives, UNC and device paths
        "/%2f%2fetc%2fpasswd",
        "/file:///etc/passwd",
        "/file:%2f%2f%2fetc%2fpasswd",
        "/c|/windows/win.ini",
        "/%5c%5c%3f%5cC:%5cWindows",
        "/%5c%5c.%5cpipe%5cx",
        "/\\\\?\\C:\\Windows",
        "/COM1",
        "/lpt9.txt",
        "/con.",
        "/aux",
        "/nul/secret.txt",
        "/etc/passwd%00.html",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    paths.push(format!("/{secret_abs}"));
    paths.push(format!("//{}", secret_abs.trim_start_matches('/')));
    paths.push(format!("/..{secret_abs}"));
    paths.push(format!("/%2e%2e{}", secret_abs.replace('/', "%2f")));
    paths.push(format!("/{}", secret_abs.replace('/', "%5c")));
    assert!(
        paths.len() >= 60,
        "the table holds {} variants",
        paths.len()
    );
    for path in &paths {
        let response = get(addr, path).await;
        assert!(
            matches!(response.status, 400 | 404),
            "{path}: status {}",
            response.status
        );
        let text = response.text();
        assert!(!text.contains(SECRET_MARKER), "{path} leaked the secret");
        assert!(!text.contains("root:x:0:0"), "{path} leaked /etc/passwd");
    }
}

#[tokio::test]
async fn absolute_form_and_odd_request_targets_never_leak() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let targets = [
        format!("http://{addr}/../secret.txt"),
        format!("http://{addr}/%2e%2e/secret.txt"),
        "http://evil.example/../secret.txt".to_owned(),
        "*".to_owned(),
        "../secret.txt".to_owned(),
        "secret.txt".to_owned(),
    ];
    for target in targets {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        let response = common::send_raw(addr, raw.as_bytes()).await;
        // 403: an absolute-form target names its own host, and evil.example is not allowed.
        assert!(
            matches!(response.status, 400 | 403 | 404),
            "{target}: {}",
            response.status
        );
        assert!(
            !response.text().contains(SECRET_MARKER),
            "{target} leaked the secret"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_the_root_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(dir.path().join("outside.txt"), SECRET_MARKER).unwrap();
    std::fs::write(root.join("inside.txt"), "inside").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
    std::os::unix::fs::symlink(root.join("inside.txt"), root.join("alias.txt")).unwrap();
    let server = start(&root).await;
    let addr = server.local_addr();
    for path in ["/link.txt", "/up/outside.txt", "/up/"] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 404, "{path}");
        assert!(!response.text().contains(SECRET_MARKER), "{path}");
    }
    assert_eq!(get(addr, "/alias.txt").await.text(), "inside");
}

/// A symlink inside the root that leads into a dot-folder is hidden like the dotted path it
/// reaches (the mechanism that also stops `/GIT~1/config` on Windows): the real path is
/// checked, not only the requested one.
#[cfg(unix)]
#[tokio::test]
async fn links_into_dot_folders_are_hidden_unless_dotfiles_are_shown() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    // The root itself lies under a dot-folder: only components below the root count.
    let root = dir.path().join(".config").join("site");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir(root.join("docs")).unwrap();
    std::fs::write(root.join(".git/config"), SECRET_MARKER).unwrap();
    std::fs::write(root.join(".env"), SECRET_MARKER).unwrap();
    std::fs::write(root.join("docs/a.txt"), "plain").unwrap();
    symlink(root.join(".git"), root.join("git")).unwrap();
    symlink(root.join(".git/config"), root.join("config.txt")).unwrap();
    symlink(".env", root.join("env.txt")).unwrap();
    symlink(root.join("docs"), root.join("manual")).unwrap();
    symlink("docs/a.txt", root.join("alias.txt")).unwrap();
    let hidden = ["/git/config", "/git/", "/git", "/config.txt", "/env.txt"];

    let server = common::start_draft(common::draft(&root)).await;
    let addr = server.local_addr();
    for path in hidden {
        let response = get(addr, path).await;
        assert_eq!(response.status, 404, "{path}");
        assert!(!response.text().contains(SECRET_MARKER), "{path} leaked");
    }
    assert_eq!(get(addr, "/docs/a.txt").await.text(), "plain");
    assert_eq!(get(addr, "/manual/a.txt").await.text(), "plain");
    assert_eq!(get(addr, "/alias.txt").await.text(), "plain");
    // The listing shows what can be served: not the links into dot-folders.
    let root_listing = get(addr, "/").await.text();
    for name in [">git/<", ">config.txt<", ">env.txt<"] {
        assert!(
            !root_listing.contains(name),
            "{name} listed: {root_listing}"
        );
    }
    assert!(root_listing.contains(">manual/<") && root_listing.contains(">alias.txt<"));
    let listing = get(addr, "/manual/").await;
    assert_eq!(listing.status, 200);
    assert!(listing.text().contains("a.txt"));
    server.stop(std::time::Duration::from_secs(1)).await;

    let server = common::start_draft(wharf_core::ConfigDraft {
        show_dotfiles: Some(true),
        ..common::draft(&root)
    })
    .await;
    let addr = server.local_addr();
    for path in ["/git/config", "/config.txt", "/env.txt"] {
        assert_eq!(get(addr, path).await.text(), SECRET_MARKER, "{path}");
    }
    assert_eq!(get(addr, "/git/").await.status, 200);
    let root_listing = get(addr, "/").await.text();
    assert!(root_listing.contains(">git/<") && root_listing.contains(">env.txt<"));
}
