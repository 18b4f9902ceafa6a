//! The routing helpers and their precedence: real file > clean URL > SPA fallback > the
//! site's 404.html > plain 404, each candidate under the same path rules as any file.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{request, write_aged};
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};

const HTML: (&str, &str) = ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
const ANY: (&str, &str) = ("Accept", "*/*");

/// A site where every rule has something to find.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let home = format!("<html><body>HOME {}</body></html>", "x".repeat(600));
    write_aged(&root.join("index.html"), home.as_bytes());
    write_aged(&root.join("about.html"), b"ABOUT PAGE");
    write_aged(&root.join("real"), b"REAL FILE");
    write_aged(&root.join("real.html"), b"REAL HTML");
    write_aged(&root.join("404.html"), b"CUSTOM 404");
    write_aged(&root.join(".secret.html"), b"SECRET");
    write_aged(&root.join("café.html"), b"CAFE");
    std::fs::create_dir(root.join("docs")).unwrap();
    write_aged(&root.join("docs/index.html"), b"DOCS");
    write_aged(&root.join("docs/guide.html"), b"GUIDE");
    dir
}

async fn start_with(root: &Path, draft: ConfigDraft) -> ServerHandle {
    let config = ServerConfig::try_from(ConfigDraft {
        root: Some(root.to_path_buf()),
        port: Some(0),
        ..draft
    })
    .unwrap();
    ServerHandle::start(config).await.unwrap()
}

/// (method, path, accept header, status, body starts with)
type Row = (
    &'static str,
    &'static str,
    (&'static str, &'static str),
    u16,
    &'static str,
);

fn helpers() -> ConfigDraft {
    ConfigDraft {
        spa_fallback: Some(true),
        clean_urls: Some(true),
        ..ConfigDraft::default()
    }
}

#[tokio::test]
async fn precedence_real_file_clean_url_spa_fallback_404_page_plain_404() {
    let dir = site();
    let server = start_with(dir.path(), helpers()).await;
    let addr = server.local_addr();
    let table: &[Row] = &[
        ("GET", "/real", HTML, 200, "REAL FILE"),
        ("GET", "/about", HTML, 200, "ABOUT PAGE"),
        ("GET", "/about", ANY, 200, "ABOUT PAGE"),
        ("GET", "/docs/guide", HTML, 200, "GUIDE"),
        ("GET", "/caf%C3%A9", HTML, 200, "CAFE"),
        ("GET", "/dashboard/settings", HTML, 200, "<html><body>HOME"),
        ("GET", "/dashboard/settings/", HTML, 200, "<html><body>HOME"),
        ("GET", "/about/", HTML, 200, "<html><body>HOME"),
        ("GET", "/dashboard", ANY, 404, "CUSTOM 404"),
        ("GET", "/missing.js", HTML, 404, "CUSTOM 404"),
        ("GET", "/v1.2", HTML, 404, "CUSTOM 404"),
        // Hidden stays hidden: no clean URL to .secret.html, no SPA page, just the 404 page.
        ("GET", "/.secret", HTML, 404, "CUSTOM 404"),
        ("GET", "/.secret.html", HTML, 404, "CUSTOM 404"),
        ("GET", "/%2e%2e/etc/passwd", HTML, 400, "<!DOCTYPE html>"),
        ("GET", "/docs", HTML, 301, "<!DOCTYPE html>"),
        ("POST", "/dashboard", HTML, 405, "<!DOCTYPE html>"),
    ];
    for &(method, path, accept, status, body) in table {
        let response = request(addr, method, path, &[accept]).await;
        assert_eq!(response.status, status, "{method} {path} {accept:?}");
        assert!(
            response.page().starts_with(body),
            "{method} {path} {accept:?}: {}",
            response.text()
        );
    }
    // HEAD is a navigation too, with GET's length.
    let get = request(addr, "GET", "/dashboard", &[HTML]).await;
    let head = request(addr, "HEAD", "/dashboard", &[HTML]).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert!(head.body.is_empty());

    // Without 404.html, a plain 404; without the helpers, only real files.
    std::fs::remove_file(dir.path().join("404.html")).unwrap();
    let plain = request(addr, "GET", "/missing.js", &[HTML]).await;
    assert_eq!(plain.status, 404);
    assert!(plain.text().contains("404 Not Found"));
    let off = start_with(dir.path(), ConfigDraft::default()).await;
    for path in ["/about", "/dashboard"] {
        assert_eq!(
            request(off.local_addr(), "GET", path, &[HTML]).await.status,
            404,
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_substituted_page_keeps_validators_ranges_and_compression() {
    let dir = site();
    let server = start_with(
        dir.path(),
        ConfigDraft {
            live_reload: Some(false),
            ..helpers()
        },
    )
    .await;
    let addr = server.local_addr();
    let real = request(addr, "GET", "/index.html", &[HTML]).await;
    let etag = real.header("etag").unwrap().to_owned();
    let fallback = request(addr, "GET", "/app/route", &[HTML]).await;
    assert_eq!(fallback.header("etag"), Some(etag.as_str()));
    let revalidated = request(addr, "GET", "/app/route", &[HTML, ("If-None-Match", &etag)]).await;
    assert_eq!(revalidated.status, 304);
    let range = request(addr, "GET", "/app/route", &[HTML, ("Range", "bytes=0-5")]).await;
    assert_eq!((range.status, range.text().as_str()), (206, "<html>"));
    let gzip = request(
        addr,
        "GET",
        "/app/route",
        &[HTML, ("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gzip.header("content-length").unwrap(),
        gzip.body.len().to_string()
    );
    // The site's 404 page is the answer to a miss, not a resource: no validators, no ranges.
    let missing = request(
        addr,
        "GET",
        "/x.js",
        &[("Range", "bytes=0-2"), ("If-None-Match", "*")],
    )
    .await;
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (404, "CUSTOM 404")
    );
    assert_eq!(missing.header("etag"), None);
}

#[cfg(unix)]
#[tokio::test]
async fn candidates_obey_the_symlink_rule() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    write_aged(&dir.path().join("outside.html"), b"OUTSIDE");
    std::os::unix::fs::symlink(dir.path().join("outside.html"), site.join("out.html")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.html"), site.join("index.html")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.html"), site.join("404.html")).unwrap();
    let server = start_with(&site, helpers()).await;
    for path in ["/out", "/spa/route", "/nothing.js"] {
        let response = request(server.local_addr(), "GET", path, &[HTML]).await;
        assert_eq!(response.status, 404, "{path}");
        assert!(!response.text().contains("OUTSIDE"), "{path}");
    }
}

#[tokio::test]
async fn drop_html_extension_redirects_to_the_clean_address() {
    let dir = site();
    let server = start_with(
        dir.path(),
        ConfigDraft {
            drop_html_extension: Some(true),
            ..helpers()
        },
    )
    .await;
    let addr = server.local_addr();
    for (from, to) in [
        ("/about.html", "/about"),
        ("/about.html?tab=2&x=%20", "/about?tab=2&x=%20"),
        ("/docs/guide.html", "/docs/guide"),
        ("/docs/index.html", "/docs/"),
        ("/index.html", "/"),
        ("/caf%C3%A9.html", "/caf%C3%A9"),
        ("//about.html", "/about"),
    ] {
        let response = request(addr, "GET", from, &[HTML]).await;
        assert_eq!(response.status, 301, "{from}");
        assert_eq!(response.header("location"), Some(to), "{from}");
    }
    // `real` is another file: /real.html keeps its address.
    let kept = request(addr, "GET", "/real.html", &[HTML]).await;
    assert_eq!((kept.status, kept.page().as_str()), (200, "REAL HTML"));

    let refused = ServerConfig::try_from(ConfigDraft {
        root: Some(dir.path().to_path_buf()),
        drop_html_extension: Some(true),
        ..ConfigDraft::default()
    })
    .unwrap_err();
    assert_eq!(refused.field, "dropHtmlExtension");
}
