//! Why a response is what it is (issue 19), on real sockets: each request's record carries
//! the rule that answered, what its validators decided, the representation sent and why, the
//! live-reload script, and where its headers came from.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{draft, logged, request, start_logged, write_aged};
use wharf_core::config::CustomHeaderDraft;
use wharf_core::{CacheControlFrom, ConfigDraft, Representation, Route, Validation, Why};

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_aged(&root.join("index.html"), b"<!doctype html><p>home</p>");
    let about = format!("<!doctype html>{}", "<p>about us</p>\n".repeat(200));
    write_aged(&root.join("about.html"), about.as_bytes());
    write_aged(
        &root.join("app.css"),
        "body { color: red }\n".repeat(200).as_bytes(),
    );
    write_aged(
        &root.join("photo.png"),
        &[0x89, b'P', b'N', b'G'].repeat(500),
    );
    write_aged(&root.join(".env"), b"SECRET=1");
    std::fs::create_dir_all(root.join("docs")).unwrap();
    write_aged(&root.join("docs/index.html"), b"<p>docs</p>");
    std::fs::create_dir_all(root.join("files")).unwrap();
    write_aged(&root.join("files/a.txt"), b"a");
    write_aged(&root.join("assets.js"), b"export {}\n");
    dir
}

/// A request (its target and extra headers) and the decisions its record must carry.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Why);

/// Each request and the decisions its record must carry.
#[tokio::test]
async fn each_record_says_which_rule_answered_and_how() {
    let dir = site();
    let (server, log, logs) = start_logged(ConfigDraft {
        spa_fallback: Some(true),
        clean_urls: Some(true),
        custom_headers: Some(vec![CustomHeaderDraft {
            path: "/assets.js".into(),
            name: "Cache-Control".into(),
            value: "max-age=60".into(),
        }]),
        ..draft(dir.path())
    })
    .await;
    let addr = server.local_addr();
    let html = ("Accept", "text/html");
    let why = |route, body| Why {
        route,
        body,
        ..Why::default()
    };
    let etag = request(addr, "GET", "/app.css", &[]).await;
    let etag = etag.header("etag").unwrap().to_owned();
    let cases: Vec<Case> = vec![
        (
            "/?home",
            vec![],
            Why {
                injected: true,
                ..why(Route::Index, Representation::NotAccepted)
            },
        ),
        (
            "/about",
            vec![("Accept-Encoding", "gzip")],
            Why {
                injected: true,
                ..why(Route::CleanUrl, Representation::GzCompressed)
            },
        ),
        (
            "/app/settings",
            vec![html],
            Why {
                injected: true,
                ..why(Route::SpaFallback, Representation::NotAccepted)
            },
        ),
        (
            "/app.css?br",
            vec![("Accept-Encoding", "br")],
            why(Route::File, Representation::BrCompressed),
        ),
        (
            "/app.css?etag",
            vec![("If-None-Match", etag.as_str())],
            Why {
                validation: Validation::EtagMatched,
                ..why(Route::File, Representation::NotAccepted)
            },
        ),
        (
            "/app.css?range",
            vec![("Range", "bytes=0-9"), ("Accept-Encoding", "br")],
            why(Route::File, Representation::Range),
        ),
        (
            "/photo.png",
            vec![("Accept-Encoding", "br")],
            why(Route::File, Representation::NotCompressible),
        ),
        (
            "/assets.js",
            vec![("Accept-Encoding", "gzip, br")],
            Why {
                cache_control: CacheControlFrom::Rule,
                header_rules: 1,
                header_rule_mask: 1,
                ..why(Route::File, Representation::NotSmaller)
            },
        ),
        ("/.env", vec![], why(Route::Hidden, Representation::Unknown)),
        (
            "/missing.js",
            vec![],
            why(Route::NotFound, Representation::Unknown),
        ),
        (
            "/docs",
            vec![],
            why(Route::RedirectSlash, Representation::Unknown),
        ),
        (
            "/files/",
            vec![],
            why(Route::Listing, Representation::Unknown),
        ),
        (
            "/index.html?post",
            vec![],
            why(Route::Method, Representation::Unknown),
        ),
    ];
    for (target, headers, expected) in &cases {
        let method = if target.ends_with("?post") {
            "POST"
        } else {
            "GET"
        };
        request(addr, method, target, headers).await;
        let record = logged(&log, logs.path(), target).await;
        assert_eq!(record.why, Some(*expected), "{target}: {record:?}");
    }
    // A foreign Host is refused before anything is looked up.
    let text = "GET /?evil HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    common::send_raw(addr, text.as_bytes()).await;
    let record = logged(&log, logs.path(), "/?evil").await;
    assert_eq!(record.why.map(|why| why.route), Some(Route::Blocked));
    server.stop(Duration::from_secs(1)).await;

    // The CSV's last column says it in words.
    let csv = common::exported_csv(logs.path());
    let row = csv
        .lines()
        .find(|line| line.contains("/app/settings"))
        .unwrap();
    assert!(
        row.contains(",route=spa-fallback body=identity-not-accepted live-reload,"),
        "{row}"
    );
}

/// A changed `cache_control` setting is named as the source of `Cache-Control`.
#[tokio::test]
async fn a_changed_cache_control_setting_is_named() {
    let dir = site();
    let (server, log, logs) = start_logged(ConfigDraft {
        cache_control: Some("max-age=600".into()),
        ..draft(dir.path())
    })
    .await;
    request(server.local_addr(), "GET", "/photo.png", &[]).await;
    let record = logged(&log, logs.path(), "/photo.png").await;
    assert_eq!(
        record.why.map(|why| why.cache_control),
        Some(CacheControlFrom::Setting)
    );
    server.stop(Duration::from_secs(1)).await;
}

/// The opt-in `Wharf-Why` header carries the record's codes; off by default, it is absent.
#[tokio::test]
async fn the_wharf_why_header_is_opt_in_and_says_what_the_record_says() {
    let dir = site();
    let (server, log, logs) = start_logged(ConfigDraft {
        spa_fallback: Some(true),
        ..draft(dir.path())
    })
    .await;
    let addr = server.local_addr();
    let off = request(addr, "GET", "/app.css", &[]).await;
    assert_eq!(off.header("wharf-why"), None, "off by default");
    server
        .apply(ConfigDraft {
            spa_fallback: Some(true),
            why_header: Some(true),
            ..draft(dir.path())
        })
        .await
        .unwrap();
    let html = ("Accept", "text/html");
    for (target, headers, want) in [
        (
            "/dashboard/settings",
            vec![html],
            "route=spa-fallback body=identity-not-accepted live-reload",
        ),
        (
            "/app.css?br",
            vec![("Accept-Encoding", "br")],
            "route=file body=br-compressed",
        ),
        ("/missing.js", vec![], "route=not-found"),
        ("/.env", vec![], "route=hidden"),
    ] {
        let response = request(addr, "GET", target, &headers).await;
        assert_eq!(response.header("wharf-why"), Some(want), "{target}");
        let record = logged(&log, logs.path(), target).await;
        assert_eq!(record.why.unwrap().code(), want, "{target}");
    }
    // A 304 and a HEAD say why too.
    let etag = request(addr, "GET", "/app.css", &[]).await;
    let etag = etag.header("etag").unwrap().to_owned();
    let not_modified = request(addr, "HEAD", "/app.css", &[("If-None-Match", &etag)]).await;
    assert_eq!(
        not_modified.header("wharf-why"),
        Some("route=file validation=etag-matched body=identity-not-accepted")
    );
    server.stop(Duration::from_secs(1)).await;
}
