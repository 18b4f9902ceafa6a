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
    let secret_abs = fixture_secret().canonicalize().unwrap();
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
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    paths.push(format!("/{secret_abs}"));
    paths.push(format!("//{}", secret_abs.trim_start_matches('/')));
    paths.push(format!("/..{secret_abs}"));
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
