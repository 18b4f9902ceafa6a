//! Header settings: CORS and its preflight, cross-origin isolation, custom headers by glob.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{draft, request, start_draft as start, write_aged};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_core::config::CustomHeaderDraft;
use wharf_core::{ConfigDraft, ServerConfig};

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("index.html"), b"<p>home</p>");
    std::fs::create_dir_all(dir.path().join("assets/deep")).unwrap();
    write_aged(&dir.path().join("assets/app.css"), b"body{}");
    write_aged(&dir.path().join("assets/deep/x.js"), b"1");
    write_aged(&dir.path().join("assets/lib.wasm"), b"\0asm");
    dir
}

fn rule(path: &str, name: &str, value: &str) -> CustomHeaderDraft {
    CustomHeaderDraft {
        path: path.into(),
        name: name.into(),
        value: value.into(),
    }
}

const PREFLIGHT: [(&str, &str); 3] = [
    ("Origin", "http://localhost:3000"),
    ("Access-Control-Request-Method", "GET"),
    ("Access-Control-Request-Headers", "x-custom, content-type"),
];

#[tokio::test]
async fn cors_echoes_an_allowed_origin_and_answers_its_preflights() {
    let dir = site();
    let off = start(draft(dir.path())).await;
    let plain = request(off.local_addr(), "GET", "/", &[]).await;
    assert_eq!(plain.header("access-control-allow-origin"), None);
    let preflight = request(off.local_addr(), "OPTIONS", "/assets/app.css", &PREFLIGHT).await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-methods"), None);

    let on = start(ConfigDraft {
        cors: Some(true),
        ..draft(dir.path())
    })
    .await;
    let addr = on.local_addr();
    for path in ["/", "/assets/app.css", "/missing"] {
        let response = request(addr, "GET", path, &[("Origin", "http://localhost:3000")]).await;
        // Never `*`: the origin itself, a loopback one here (see hosts.rs for the rest).
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("http://localhost:3000"),
            "{path}"
        );
    }
    let preflight = request(addr, "OPTIONS", "/assets/app.css", &PREFLIGHT).await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("x-custom, content-type")
    );
    assert_eq!(preflight.header("access-control-max-age"), Some("86400"));
    assert!(preflight.body.is_empty());
    // A plain OPTIONS is not a preflight.
    let options = request(addr, "OPTIONS", "/", &[]).await;
    assert_eq!(options.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(options.header("access-control-allow-methods"), None);
}

#[tokio::test]
async fn cross_origin_isolation_sends_coop_and_coep() {
    let dir = site();
    let off = start(draft(dir.path())).await;
    assert_eq!(
        request(off.local_addr(), "GET", "/", &[])
            .await
            .header("cross-origin-opener-policy"),
        None
    );
    let on = start(ConfigDraft {
        cross_origin_isolation: Some(true),
        ..draft(dir.path())
    })
    .await;
    for path in ["/", "/assets/deep/x.js", "/missing", "/assets/"] {
        let response = request(on.local_addr(), "GET", path, &[]).await;
        assert_eq!(
            response.header("cross-origin-opener-policy"),
            Some("same-origin"),
            "{path}"
        );
        assert_eq!(
            response.header("cross-origin-embedder-policy"),
            Some("require-corp"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn custom_headers_apply_by_glob_and_replace_wharfs_own() {
    let dir = site();
    let server = start(ConfigDraft {
        custom_headers: Some(vec![
            rule("/assets/**", "Cache-Control", "max-age=31536000"),
            rule("**/*.wasm", "Content-Type", "application/wasm"),
            rule("/assets/*.css", "Link", "</a.css>; rel=preload"),
            rule("/assets/*.css", "Link", "</b.css>; rel=preload"),
            rule("/__wharf/**", "X-Never", "1"),
        ]),
        ..draft(dir.path())
    })
    .await;
    let addr = server.local_addr();
    let css = request(addr, "GET", "/assets/app.css", &[]).await;
    assert_eq!(css.header("cache-control"), Some("max-age=31536000"));
    let head = format!("GET /assets/app.css HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    // The parsed response keeps one value per name; count the lines on the wire.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    assert_eq!(text.matches("\r\nlink: <").count(), 2, "{text}");
    assert_eq!(text.matches("\r\ncache-control: ").count(), 1, "{text}");

    let deep = request(addr, "GET", "/assets/deep/x.js", &[]).await;
    assert_eq!(deep.header("cache-control"), Some("max-age=31536000"));
    assert_eq!(deep.header("link"), None, "`*` stays within one segment");
    let encoded = request(addr, "GET", "/%61ssets/app.css", &[]).await;
    assert_eq!(encoded.header("cache-control"), Some("max-age=31536000"));
    let wasm = request(addr, "GET", "/assets/lib.wasm", &[]).await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    let home = request(addr, "GET", "/", &[]).await;
    assert_eq!(home.header("cache-control"), Some("no-cache"));
    let script = request(addr, "GET", "/__wharf/reload.js", &[]).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("x-never"),
        None,
        "Wharf's endpoints are not the site's"
    );
}

#[test]
fn bad_rules_name_the_field_and_index() {
    let dir = site();
    let refuse = |rules: Vec<CustomHeaderDraft>| {
        ServerConfig::try_from(ConfigDraft {
            custom_headers: Some(rules),
            ..draft(dir.path())
        })
        .unwrap_err()
    };
    let ok = rule("/a/**", "X-A", "1");
    let cases = [
        (rule("/b", "Bad Name", "1"), "customHeaders[2].name: "),
        (rule("/b", "X-B", "a\nb"), "customHeaders[2].value: "),
        (rule("b/**", "X-B", "1"), "customHeaders[2].path: "),
        (rule("/b/[", "X-B", "1"), "customHeaders[2].path: "),
        (rule("/b", "Content-Length", "1"), "customHeaders[2].name: "),
        (
            rule("/b", "Transfer-Encoding", "chunked"),
            "customHeaders[2].name: ",
        ),
    ];
    for (bad, prefix) in cases {
        let err = refuse(vec![ok.clone(), ok.clone(), bad]);
        assert_eq!(err.field, "customHeaders");
        assert!(err.to_string().starts_with(prefix), "{err}");
    }
    let err = ServerConfig::try_from(ConfigDraft {
        reload_ignore: Some(vec!["ok/**".into(), "[".into()]),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("reloadIgnore[1]: "), "{err}");
}
