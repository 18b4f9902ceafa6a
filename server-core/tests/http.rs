//! HTTP behaviour of the file server on a real socket.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{fixture_site, get, request, send_raw, start};

#[tokio::test]
async fn get_serves_index_html_for_the_root() {
    let server = start(&fixture_site()).await;
    let response = get(server.local_addr(), "/").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(response.text().contains("Fixture home"));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    assert!(response
        .header("etag")
        .is_some_and(|tag| tag.starts_with('"')));
    assert!(response.header("last-modified").is_some());
}

#[tokio::test]
async fn head_sends_the_same_headers_and_no_body() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let got = get(addr, "/style.css").await;
    let head = request(addr, "HEAD", "/style.css", &[]).await;
    assert_eq!(head.status, 200);
    assert!(
        head.body.is_empty(),
        "HEAD must not carry a body on the wire"
    );
    assert_eq!(
        head.header("content-length"),
        Some(got.body.len().to_string().as_str())
    );
    for name in ["content-type", "etag", "last-modified", "cache-control"] {
        assert_eq!(head.header(name), got.header(name), "{name}");
    }
}

#[tokio::test]
async fn missing_files_are_404_with_a_short_page() {
    let server = start(&fixture_site()).await;
    // Windows forbids `<` and `>` in names (a 400 there, see resolve): its missing file has a
    // name it allows.
    let path = if cfg!(windows) {
        "/no/such/script.html?q=%3Cscript%3E"
    } else {
        "/no/such/%3Cscript%3E.html?q=%3Cscript%3E"
    };
    let response = get(server.local_addr(), path).await;
    assert_eq!(response.status, 404);
    assert!(response.text().contains("404 Not Found"));
    assert!(
        !response.text().contains("script"),
        "nothing from the request is reflected"
    );
}

#[tokio::test]
async fn mime_types_names_with_spaces_and_unicode() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let cases = [
        ("/style.css", "text/css; charset=utf-8", "color"),
        ("/app.js", "text/javascript; charset=utf-8", "fixture app"),
        ("/data.json", "application/json; charset=utf-8", "fixture"),
        (
            "/with%20space.txt",
            "text/plain; charset=utf-8",
            "hello with spaces",
        ),
        ("/caf%C3%A9.txt", "text/plain; charset=utf-8", "bonjour"),
    ];
    for (path, content_type, needle) in cases {
        let response = get(addr, path).await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some(content_type),
            "{path}"
        );
        assert!(response.text().contains(needle), "{path}");
    }
    let empty = get(addr, "/empty.txt").await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.header("content-length"), Some("0"));
}

#[tokio::test]
async fn folders_redirect_to_the_slash_form_and_serve_their_index() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let redirect = get(addr, "/nested?x=1").await;
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/nested/?x=1"));
    let nested = get(addr, "/nested/").await;
    assert_eq!(nested.status, 200);
    assert!(nested.text().contains("Nested index"));
    // A Location must never be protocol-relative, whatever the request looked like.
    let sneaky = get(addr, "//nested").await;
    assert_eq!(sneaky.header("location"), Some("/nested/"));
}

#[tokio::test]
async fn folders_without_index_are_listed_without_dotfiles() {
    let server = start(&fixture_site()).await;
    let listing = get(server.local_addr(), "/docs/").await;
    assert_eq!(listing.status, 200);
    assert!(listing.text().contains("href=\"./readme.txt\""));
    let root_listing = tempfile::tempdir().unwrap();
    std::fs::write(root_listing.path().join("a b.txt"), "x").unwrap();
    std::fs::write(root_listing.path().join(".env"), "x").unwrap();
    let server = start(root_listing.path()).await;
    let text = get(server.local_addr(), "/").await.text();
    assert!(text.contains("href=\"./a%20b.txt\""), "{text}");
    assert!(!text.contains(".env"), "{text}");
}

#[tokio::test]
async fn dotfiles_and_dot_folders_are_404() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    for path in [
        "/.env",
        "/.private/notes.txt",
        "/.private/",
        "/%2eenv",
        "/nested/../.env",
    ] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 404, "{path}");
        assert!(!response.text().contains("SECRET_TOKEN"), "{path}");
        assert!(!response.text().contains("dot-folder"), "{path}");
    }
}

#[tokio::test]
async fn methods_other_than_get_and_head_are_refused() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let options = request(addr, "OPTIONS", "/", &[]).await;
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, OPTIONS"));
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let response = request(addr, method, "/index.html", &[("Content-Length", "0")]).await;
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(response.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
    assert!(fixture_site().join("index.html").exists());
}

#[tokio::test]
async fn http11_without_host_is_400() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let missing = send_raw(addr, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(missing.status, 400);
    let twice = send_raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(twice.status, 400);
    let http10 = send_raw(addr, b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!(http10.status, 200);
}

#[tokio::test]
async fn conditional_get_answers_304_with_the_etag() {
    let server = start(&fixture_site()).await;
    let addr = server.local_addr();
    let first = get(addr, "/style.css").await;
    let etag = first.header("etag").unwrap().to_owned();
    let again = request(addr, "GET", "/style.css", &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn an_edited_file_is_served_fresh_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.html");
    std::fs::write(&file, "version one").unwrap();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let first = get(addr, "/page.html").await;
    assert_eq!(first.page(), "version one");
    std::fs::write(&file, "version two, longer").unwrap();
    let second = get(addr, "/page.html").await;
    assert_eq!(second.page(), "version two, longer");
    assert_ne!(first.header("etag"), second.header("etag"));
    std::fs::remove_file(&file).unwrap();
    assert_eq!(get(addr, "/page.html").await.status, 404);
}

#[tokio::test]
async fn large_files_stream_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &data).unwrap();
    let server = start(dir.path()).await;
    let response = get(server.local_addr(), "/big.bin").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(response.header("content-length"), Some("3000000"));
    assert!(response.body == data, "body differs from the file");
}

#[tokio::test]
async fn set_root_serves_the_new_folder_on_the_same_port() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::write(a.path().join("index.html"), "site A").unwrap();
    std::fs::write(b.path().join("index.html"), "site B").unwrap();
    let server = start(a.path()).await;
    let addr = server.local_addr();
    assert_eq!(get(addr, "/").await.page(), "site A");
    let applied = server.set_root(b.path()).await.unwrap();
    assert_eq!(applied.generation, 2);
    assert_eq!(server.local_addr(), addr);
    assert_eq!(get(addr, "/").await.page(), "site B");
    let refused = server
        .set_root(&b.path().join("missing"))
        .await
        .unwrap_err();
    assert_eq!(refused.field(), "root");
    assert_eq!(
        server.config().generation(),
        2,
        "a refused root leaves the server untouched"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn folder_redirects_never_leave_the_host_or_inject_headers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("evil.example")).unwrap();
    std::fs::create_dir(dir.path().join("a\r\nX-Injected")).unwrap();
    // Plain names on Unix (clippy reads a leading `\` as Windows's separator).
    for name in ["\\evil.example", "\\\\evil.example"] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
    }
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    for path in [
        "//evil.example",
        "/%2fevil.example",
        "///evil.example",
        "/./evil.example",
    ] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 301, "{path}");
        assert_eq!(
            response.header("location"),
            Some("/evil.example/"),
            "{path}"
        );
    }
    // `\` is an ordinary name on Unix, so these folders exist and redirect; a browser reads
    // `/\evil.example` as `//evil.example`, so the Location must carry it encoded.
    for (path, location) in [
        ("/%5cevil.example", "/%5Cevil.example/"),
        ("/\\evil.example", "/%5Cevil.example/"),
        ("/%5c%5cevil.example", "/%5C%5Cevil.example/"),
    ] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 301, "{path}");
        assert_eq!(response.header("location"), Some(location), "{path}");
    }
    let response = get(addr, "/a%0d%0aX-Injected").await;
    assert_eq!(response.status, 301);
    assert_eq!(response.header("x-injected"), None, "no header injection");
    assert_eq!(response.header("location"), Some("/a%0D%0AX-Injected/"));
}
