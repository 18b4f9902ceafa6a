//! Who may read the site through a browser (issue 13, points 3 and 4), on real sockets: the
//! `Host` allow-list against DNS rebinding, CORS for allowed origins only, and the refusal of
//! cross-site `no-cors` loads. Refusals are 403s that the access log marks as blocked.
//! HTTPS and HTTP/2 `:authority` are in `https.rs`, the CLI flags in `cli.rs`.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{draft, request, send_raw, start_draft, RawResponse};
use tokio::sync::mpsc::Receiver;
use wharf_core::{AccessLog, LogBatch, LogSettings};
use wharf_core::{AccessRecord, Served};
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>home</p>").unwrap();
    std::fs::write(dir.path().join("secret.js"), "var secret = 42;").unwrap();
    dir
}

/// `GET path` with exactly the `Host` given (`None`: no Host line) and `extra` headers.
async fn get_as(
    addr: SocketAddr,
    path: &str,
    host: Option<&str>,
    extra: &[(&str, &str)],
) -> RawResponse {
    let mut text = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if let Some(host) = host {
        text.push_str(&format!("Host: {host}\r\n"));
    }
    for (name, value) in extra {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    send_raw(addr, text.as_bytes()).await
}

/// A server on `dir` with CORS on for the loopback origins and `origins`.
async fn start_cors(dir: &tempfile::TempDir, origins: &[&str]) -> ServerHandle {
    start_draft(ConfigDraft {
        cors: Some(true),
        cors_origins: Some(origins.iter().map(|origin| (*origin).to_owned()).collect()),
        ..draft(dir.path())
    })
    .await
}

/// A server on `dir` with the default settings, and its live access log.
async fn start_logged(dir: &tempfile::TempDir) -> (ServerHandle, Receiver<LogBatch>) {
    let log = AccessLog::start(LogSettings::default()).unwrap();
    let batches = log.subscribe();
    let config = ServerConfig::try_from(draft(dir.path())).unwrap();
    let server = ServerHandle::start_logged(config, Some(log)).await.unwrap();
    (server, batches)
}

/// Reads the live log until `count` records have arrived.
async fn records(batches: &mut Receiver<LogBatch>, count: usize) -> Vec<AccessRecord> {
    let mut seen = Vec::new();
    while seen.len() < count {
        let batch = tokio::time::timeout(Duration::from_secs(5), batches.recv())
            .await
            .expect("records within 5 s")
            .expect("the log is open");
        seen.extend(batch.records.iter().cloned());
    }
    seen
}

#[tokio::test]
async fn a_foreign_host_gets_403_naming_it_and_is_logged_as_blocked() {
    let dir = site();
    let (server, mut batches) = start_logged(&dir).await;
    let addr = server.local_addr();

    let page = get_as(addr, "/secret.js", Some("evil.example"), &[]).await;
    assert_eq!(page.status, 403);
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let text = page.text();
    assert!(!text.contains("secret"), "{text}");
    assert!(text.contains("\"evil.example\""), "{text}");
    assert!(text.contains("--allowed-host evil.example"), "{text}");
    assert!(text.contains("\"Allowed hosts\""), "{text}");

    // Every /__wharf/ path is covered, the event stream included.
    for path in [
        "/__wharf/reload",
        "/__wharf/reload.js",
        "/%5F%5Fwharf/reload",
    ] {
        let wharf = get_as(addr, path, Some("evil.example:8080"), &[]).await;
        assert_eq!(wharf.status, 403, "{path}");
    }
    // A name that is no name is shown as text, never as markup.
    let odd = get_as(addr, "/", Some("<b>x</b>\u{e9}\u{202e}"), &[]).await;
    assert_eq!(odd.status, 403);
    assert!(
        odd.text().contains("\"<b>x</b>\\u{e9}\\u{202e}\""),
        "{}",
        odd.text()
    );
    assert!(odd.text().contains("--allowed-host NAME"), "{}", odd.text());

    let logged = records(&mut batches, 5).await;
    for record in &logged {
        assert_eq!((record.status, record.served), (403, Served::Blocked));
        assert_eq!(record.served.as_str(), "blocked");
    }
    assert_eq!(logged[0].target, "/secret.js");
}

#[tokio::test]
async fn loopback_names_ip_literals_and_added_hosts_are_served() {
    let dir = site();
    let server = start_draft(ConfigDraft {
        allowed_hosts: Some(vec![
            "MyApp.test".into(),
            ".team.test".into(),
            "*.wild.test".into(),
        ]),
        ..draft(dir.path())
    })
    .await;
    let addr = server.local_addr();
    let port = addr.port();
    let allowed = [
        "localhost".to_owned(),
        format!("LocalHost:{port}"),
        "localhost.".to_owned(),
        format!("app.localhost:{port}"),
        "127.0.0.1".to_owned(),
        format!("127.0.0.1:{port}"),
        "10.0.0.5".to_owned(),
        "[::1]".to_owned(),
        format!("[::1]:{port}"),
        "[2001:db8::1]:80".to_owned(),
        "myapp.test".to_owned(),
        "MYAPP.TEST.:8080".to_owned(),
        "team.test".to_owned(),
        "a.b.team.test".to_owned(),
        "x.wild.test".to_owned(),
    ];
    for host in &allowed {
        let response = get_as(addr, "/", Some(host), &[]).await;
        assert_eq!(response.status, 200, "Host: {host}");
    }
    let refused = [
        "evil.example",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "x.myapp.test",
        "myapp.test.evil.example",
        "evilteam.test",
        "[evil.example]",
        "user@localhost",
        "",
    ];
    for host in refused {
        let response = get_as(addr, "/", Some(host), &[]).await;
        assert_eq!(response.status, 403, "Host: {host:?}");
    }
    // An absolute-form target's authority overrides Host (RFC 9112 §3.2.2).
    let absolute = send_raw(
        addr,
        b"GET http://evil.example/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(absolute.status, 403);
    // A second Host is never served: on HTTP/1.1 it is a malformed head (400, answered before
    // the Host check), and where it is not (HTTP/1.0), every Host given must be allowed.
    let smuggled = send_raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(smuggled.status, 400);
    let smuggled = send_raw(
        addr,
        b"GET / HTTP/1.0\r\nHost: localhost\r\nHost: evil.example\r\n\r\n",
    )
    .await;
    assert_eq!(smuggled.status, 403);
    // HTTP/1.0 without Host: no browser sends that, and no browser means no rebinding.
    let http10 = send_raw(addr, b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!(http10.status, 200);
}

#[tokio::test]
async fn the_machine_name_is_served_only_while_the_server_is_shared() {
    let dir = site();
    let name = gethostname::gethostname().to_string_lossy().to_lowercase();
    let short = name.trim_end_matches(".local").to_owned();
    let local = start_draft(draft(dir.path())).await;
    for host in [&short, &format!("{short}.local")] {
        let response = get_as(local.local_addr(), "/", Some(host), &[]).await;
        assert_eq!(response.status, 403, "{host} on loopback");
    }
    let shared = start_draft(ConfigDraft {
        host: Some("0.0.0.0".into()),
        ..draft(dir.path())
    })
    .await;
    let addr = SocketAddr::from(([127, 0, 0, 1], shared.local_addr().port()));
    for host in [
        short.clone(),
        format!("{short}.local:80"),
        short.to_uppercase(),
    ] {
        let response = get_as(addr, "/", Some(&host), &[]).await;
        assert_eq!(response.status, 200, "{host} while shared");
    }
    assert_eq!(
        get_as(addr, "/", Some("evil.example"), &[]).await.status,
        403
    );
}

#[tokio::test]
async fn allowed_hosts_apply_live_and_bad_entries_name_their_index() {
    let dir = site();
    let server = start_draft(draft(dir.path())).await;
    let addr = server.local_addr();
    assert_eq!(get_as(addr, "/", Some("dev.test"), &[]).await.status, 403);
    let report = server
        .apply(ConfigDraft {
            allowed_hosts: Some(vec!["dev.test".into()]),
            cors_origins: Some(vec!["https://app.example.test".into()]),
            ..draft(dir.path())
        })
        .await
        .unwrap();
    let changed: Vec<String> = report.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        changed,
        [
            "allowed_hosts none -> dev.test",
            "cors_origins none -> https://app.example.test"
        ]
    );
    assert_eq!(get_as(addr, "/", Some("dev.test"), &[]).await.status, 200);

    for (hosts, origins, expected) in [
        (
            vec!["ok.test", "http://x.test"],
            vec![],
            "allowedHosts[1]: ",
        ),
        (vec!["x.test:8080"], vec![], "allowedHosts[0]: "),
        (vec!["*"], vec![], "allowedHosts[0]: "),
        (vec![], vec!["*"], "corsOrigins[0]: "),
        (vec![], vec!["https://a.test", "a.test"], "corsOrigins[1]: "),
        (vec![], vec!["https://a.test/app"], "corsOrigins[0]: "),
    ] {
        let err = ServerConfig::try_from(ConfigDraft {
            allowed_hosts: Some(hosts.into_iter().map(String::from).collect()),
            cors_origins: Some(origins.into_iter().map(String::from).collect()),
            ..draft(dir.path())
        })
        .unwrap_err();
        assert!(err.to_string().starts_with(expected), "{err}");
    }
    // A custom header cannot undo the allow-list with `*`.
    let star = ServerConfig::try_from(ConfigDraft {
        custom_headers: Some(vec![wharf_core::config::CustomHeaderDraft {
            path: "/**".into(),
            name: "Access-Control-Allow-Origin".into(),
            value: "*".into(),
        }]),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert!(
        star.to_string().starts_with("customHeaders[0].name: "),
        "{star}"
    );
    // The TOML spelling.
    let file: ConfigDraft =
        toml::from_str("allowed_hosts = [\"a.test\"]\ncors_origins = [\"https://a.test\"]")
            .unwrap();
    assert_eq!(file.allowed_hosts, Some(vec!["a.test".to_owned()]));
    assert_eq!(file.cors_origins, Some(vec!["https://a.test".to_owned()]));
}

const ORIGIN_HEADERS: [&str; 5] = [
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-allow-credentials",
];

fn cors_headers(response: &RawResponse) -> Vec<(&str, &str)> {
    ORIGIN_HEADERS
        .iter()
        .filter_map(|name| response.header(name).map(|value| (*name, value)))
        .collect()
}

#[tokio::test]
async fn cors_echoes_only_allowed_origins_and_never_for_wharf_paths() {
    let dir = site();
    let server = start_cors(&dir, &["https://App.Example.test:443"]).await;
    let addr = server.local_addr();
    let allowed = [
        "http://localhost:3000",
        "https://localhost",
        "http://app.localhost:5173",
        "http://127.0.0.1:9999",
        "http://[::1]:8000",
        "https://app.example.test",
    ];
    for origin in allowed {
        let response = request(addr, "GET", "/secret.js", &[("Origin", origin)]).await;
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(origin),
            "{origin}"
        );
        assert!(response.text().contains("secret"));
    }
    for origin in [
        "http://evil.example",
        "http://localhost.evil.example",
        "https://app.example.test:8443",
        "http://app.example.test",
        "null",
        "*",
    ] {
        let response = request(addr, "GET", "/secret.js", &[("Origin", origin)]).await;
        assert_eq!(cors_headers(&response), [], "{origin}");
    }
    // The answer depends on Origin, so caches must key on it, with or without one.
    let plain = request(addr, "GET", "/secret.js", &[]).await;
    assert_eq!(cors_headers(&plain), []);
    assert!(vary(addr, "/secret.js", None)
        .await
        .contains(&"origin".to_owned()));
    let page_vary = vary(addr, "/", Some("http://localhost:3000")).await;
    assert!(page_vary.contains(&"origin".to_owned()), "{page_vary:?}");
    assert!(
        page_vary.contains(&"accept-encoding".to_owned()),
        "{page_vary:?}"
    );

    // Wharf's own endpoints are never answered cross-origin.
    for path in ["/__wharf/reload.js", "/__wharf/nothing"] {
        let response = request(addr, "GET", path, &[("Origin", "http://localhost:3000")]).await;
        assert_eq!(cors_headers(&response), [], "{path}");
        let preflight = request(addr, "OPTIONS", path, &preflight("GET")).await;
        assert_eq!(cors_headers(&preflight), [], "{path}");
    }

    // With CORS off nobody is echoed.
    let off = start_draft(draft(dir.path())).await;
    let response = request(
        off.local_addr(),
        "GET",
        "/",
        &[("Origin", "http://localhost:3000")],
    )
    .await;
    assert_eq!(cors_headers(&response), []);
}

/// The `Vary` tokens of `GET path`, lowercase, over all `Vary` lines.
async fn vary(addr: SocketAddr, path: &str, origin: Option<&str>) -> Vec<String> {
    let mut text = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(origin) = origin {
        text.push_str(&format!("Origin: {origin}\r\n"));
    }
    text.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, text.as_bytes())
        .await
        .unwrap();
    let mut bytes = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut bytes)
        .await
        .unwrap();
    let head = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    head.split("\r\n\r\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("vary:"))
        .flat_map(|value| value.split(','))
        .map(|token| token.trim().to_owned())
        .collect()
}

fn preflight(method: &str) -> [(&str, &str); 3] {
    [
        ("Origin", "http://localhost:3000"),
        ("Access-Control-Request-Method", method),
        ("Access-Control-Request-Headers", "x-custom"),
    ]
}

#[tokio::test]
async fn a_preflight_allows_only_the_methods_wharf_serves_for_allowed_origins() {
    let dir = site();
    let server = start_cors(&dir, &[]).await;
    let addr = server.local_addr();
    for method in ["GET", "HEAD", "OPTIONS"] {
        let response = request(addr, "OPTIONS", "/secret.js", &preflight(method)).await;
        assert_eq!(response.status, 204);
        assert_eq!(
            cors_headers(&response),
            [
                ("access-control-allow-origin", "http://localhost:3000"),
                ("access-control-allow-methods", "GET, HEAD, OPTIONS"),
                ("access-control-allow-headers", "x-custom"),
                ("access-control-max-age", "86400"),
            ],
            "{method}"
        );
    }
    for method in ["POST", "PUT", "DELETE", "get"] {
        let response = request(addr, "OPTIONS", "/secret.js", &preflight(method)).await;
        assert_eq!(cors_headers(&response), [], "{method}");
    }
    let foreign = [
        ("Origin", "https://evil.example"),
        ("Access-Control-Request-Method", "GET"),
    ];
    let response = request(addr, "OPTIONS", "/secret.js", &foreign).await;
    assert_eq!(cors_headers(&response), []);
}

const SCRIPT_LOAD: [(&str, &str); 3] = [
    ("Sec-Fetch-Site", "cross-site"),
    ("Sec-Fetch-Mode", "no-cors"),
    ("Sec-Fetch-Dest", "script"),
];

#[tokio::test]
async fn cross_site_no_cors_loads_get_403_and_same_site_and_navigations_do_not() {
    let dir = site();
    let (server, mut batches) = start_logged(&dir).await;
    let addr = server.local_addr();

    // `<script src="http://127.0.0.1:PORT/secret.js">` on another site.
    let mut script = SCRIPT_LOAD.to_vec();
    script.push(("Referer", "http://evil.example/"));
    let blocked = request(addr, "GET", "/secret.js", &script).await;
    assert_eq!(blocked.status, 403);
    assert!(!blocked.text().contains("secret ="), "{}", blocked.text());
    assert!(
        blocked.text().contains("--cors-origin"),
        "{}",
        blocked.text()
    );
    let wharf = request(addr, "GET", "/__wharf/reload.js", &SCRIPT_LOAD).await;
    assert_eq!(wharf.status, 403);

    let passes: [&[(&str, &str)]; 5] = [
        // localhost:3000 -> localhost:8080 is same-site.
        &[
            ("Sec-Fetch-Site", "same-site"),
            ("Sec-Fetch-Mode", "no-cors"),
        ],
        &[
            ("Sec-Fetch-Site", "same-origin"),
            ("Sec-Fetch-Mode", "no-cors"),
        ],
        // Following a link from another site.
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Mode", "navigate"),
        ],
        // A CORS fetch: the browser will not let the page read it without CORS.
        &[("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "cors")],
        // A typed address or a bookmark.
        &[("Sec-Fetch-Site", "none"), ("Sec-Fetch-Mode", "navigate")],
    ];
    for headers in passes {
        let response = request(addr, "GET", "/secret.js", headers).await;
        assert_eq!(response.status, 200, "{headers:?}");
    }
    let logged = records(&mut batches, 7).await;
    let served: Vec<Served> = logged.iter().map(|record| record.served).collect();
    assert_eq!(served[..2], [Served::Blocked, Served::Blocked]);
    assert!(served[2..].iter().all(|served| *served == Served::File));
}

#[tokio::test]
async fn with_cors_an_allowed_page_may_load_files_and_others_may_not() {
    let dir = site();
    let server = start_cors(&dir, &["https://app.example.test"]).await;
    let addr = server.local_addr();
    let from = |referer: &'static str| {
        let mut headers = SCRIPT_LOAD.to_vec();
        headers.push(("Referer", referer));
        headers
    };
    for referer in ["http://127.0.0.1:5173/page", "https://app.example.test/a/b"] {
        let response = request(addr, "GET", "/secret.js", &from(referer)).await;
        assert_eq!(response.status, 200, "{referer}");
    }
    let mut with_origin = SCRIPT_LOAD.to_vec();
    with_origin.push(("Origin", "https://app.example.test"));
    assert_eq!(
        request(addr, "GET", "/secret.js", &with_origin)
            .await
            .status,
        200
    );
    for referer in [
        "http://evil.example/",
        "https://app.example.test.evil.example/",
    ] {
        let response = request(addr, "GET", "/secret.js", &from(referer)).await;
        assert_eq!(response.status, 403, "{referer}");
    }
    // No page named at all (Referrer-Policy: no-referrer): refused.
    assert_eq!(
        request(addr, "GET", "/secret.js", &SCRIPT_LOAD)
            .await
            .status,
        403
    );
    // Never /__wharf/, whoever asks.
    let response = request(
        addr,
        "GET",
        "/__wharf/reload.js",
        &from("http://localhost:5173/"),
    )
    .await;
    assert_eq!(response.status, 403);
}
