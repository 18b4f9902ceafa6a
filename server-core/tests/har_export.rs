//! HAR export end to end (issue 19): a real server on 127.0.0.1 with a durable log answers
//! requests with odd headers, a huge header that the record caps, a crowd of headers past the
//! count bound, a 304, a 404 and a HEAD; the session is exported as HAR and parsed back with
//! the `har` crate as HAR 1.2, then checked field by field against what Chrome DevTools'
//! importer (`front_end/models/har/HARFormat.ts`: its HARLog, HAREntry, HARRequest, HARResponse,
//! HARContent and HARTimings constructors throw on a missing `entries` array, an unparsable
//! `startedDateTime`, and on `time`, `status`, `headersSize`, `bodySize`, `content.size`,
//! `timings.send`/`wait`/`receive` that are not numbers) and Firefox's
//! (`devtools/client/netmonitor/src/har/har-importer.js`: reads `log.pages.forEach`,
//! `entry.cache.afterRequest`, `entry.timings[...]`, both sides' `headers`, `cookies` and
//! `headersSize`, `content.size` and `content.mimeType`, and parses `request.url` as a URL)
//! read. These checks replicate those importers' field requirements; Chromium's own DevTools
//! imports an export in `tests/browser/har-import.test.mjs`.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use common::{draft, request, send_raw, start_logged, write_aged};
use serde_json::Value;
use wharf_core::{
    export_har, parse_rfc3339_ms, AccessLog, ExportFilter, MAX_HEADERS, MAX_HEADER_VALUE_BYTES,
    TRUNCATION_MARK,
};

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_aged(
        &dir.path().join("index.html"),
        b"<!doctype html><p>home</p>",
    );
    write_aged(&dir.path().join("app.css"), b"body { color: red }\n");
    write_aged(&dir.path().join("data.json"), b"{\"a\":1}");
    dir
}

fn export(log: &AccessLog, logs: &std::path::Path, filter: &ExportFilter) -> (Value, Vec<u8>) {
    log.sync();
    let mut bytes = Vec::new();
    export_har(logs, filter, &mut bytes).unwrap();
    let parsed = har::from_slice(&bytes).expect("the `har` crate reads it");
    assert_eq!(parsed.version(), har::HarVersion::V1_2);
    (serde_json::from_slice(&bytes).unwrap(), bytes)
}

/// The entry whose URL ends with `path_and_query`.
fn entry<'a>(har: &'a Value, method: &str, path_and_query: &str) -> &'a Value {
    har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| {
            entry["request"]["method"] == method
                && entry["request"]["url"]
                    .as_str()
                    .unwrap()
                    .ends_with(path_and_query)
        })
        .unwrap_or_else(|| panic!("no entry for {method} {path_and_query}"))
}

fn header<'a>(side: &'a Value, name: &str) -> Option<&'a str> {
    side["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["name"] == name)
        .map(|line| line["value"].as_str().unwrap())
}

fn is_number(value: &Value) -> bool {
    value.as_f64().is_some()
}

/// The fields Chrome's and Firefox's importers read, with the types they need.
fn assert_importable(har: &Value) {
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "Wharf");
    assert!(log["creator"]["version"].is_string());
    assert_eq!(log["pages"], Value::Array(vec![]), "Firefox: pages.forEach");
    for entry in log["entries"].as_array().unwrap() {
        let started = entry["startedDateTime"].as_str().unwrap();
        parse_rfc3339_ms(started).expect("startedDateTime is RFC 3339");
        assert!(is_number(&entry["time"]));
        assert!(
            entry["cache"].is_object(),
            "Firefox: entry.cache.afterRequest"
        );
        let request = &entry["request"];
        for field in ["method", "url", "httpVersion"] {
            assert!(request[field].is_string(), "request.{field}");
        }
        let url: http::Uri = request["url"].as_str().unwrap().parse().unwrap();
        assert!(url.scheme().is_some() && url.authority().is_some(), "{url}");
        let response = &entry["response"];
        assert!(is_number(&response["status"]));
        assert!(response["statusText"].is_string());
        assert!(response["httpVersion"].is_string());
        assert!(response["redirectURL"].is_string());
        for side in [request, response] {
            assert!(side["cookies"].is_array());
            assert_eq!(side["headersSize"], -1);
            assert!(is_number(&side["bodySize"]));
            for line in side["headers"].as_array().unwrap() {
                assert!(line["name"].is_string() && line["value"].is_string());
            }
        }
        assert!(request["queryString"].is_array());
        assert!(is_number(&response["content"]["size"]));
        assert!(response["content"]["mimeType"].is_string());
        let timings = &entry["timings"];
        for unknown in ["blocked", "dns", "connect", "ssl"] {
            assert_eq!(timings[unknown], -1, "timings.{unknown}");
        }
        for known in ["send", "wait", "receive"] {
            assert!(timings[known].as_f64().unwrap() >= 0.0, "timings.{known}");
        }
        let sum = timings["send"].as_f64().unwrap()
            + timings["wait"].as_f64().unwrap()
            + timings["receive"].as_f64().unwrap();
        assert!((entry["time"].as_f64().unwrap() - sum).abs() < 0.001);
        // Both importers read `connection` as the server's port; Chrome keeps the connection
        // id in `_connectionId`.
        let port: u16 = entry["connection"].as_str().unwrap().parse().unwrap();
        assert!(port > 0);
        assert!(entry["_connectionId"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok());
        assert!(entry["_resourceType"].is_string());
    }
}

#[tokio::test]
async fn a_session_exports_as_har_that_devtools_importers_accept() {
    let dir = site();
    let (server, log, logs) = start_logged(draft(dir.path())).await;
    let addr: SocketAddr = server.local_addr();

    // Odd headers: quotes, backslashes, a tab, a `</script>`, bytes that are not UTF-8.
    let mut odd = format!(
        "GET /index.html?q=a+b&euro=%E2%82%AC&flag HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         X-Quoted: say \"hi\" \\ back\tslash\r\nX-Script: </script><b>=1+1\r\nX-Bytes: caf"
    );
    let mut bytes = std::mem::take(&mut odd).into_bytes();
    bytes.extend_from_slice(b"\xe9\xff\r\n\r\n");
    assert_eq!(send_raw(addr, &bytes).await.status, 200);

    // A huge header, cut at its cap, and more headers than a record keeps.
    let huge = "h".repeat(20_000);
    let crowd: Vec<(String, String)> = (0..MAX_HEADERS + 10)
        .map(|i| (format!("X-Crowd-{i}"), format!("v{i}")))
        .collect();
    let mut headers: Vec<(&str, &str)> = vec![("X-Huge", &huge)];
    headers.extend(
        crowd
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    assert_eq!(request(addr, "GET", "/app.css", &headers).await.status, 200);

    let etag = request(addr, "GET", "/data.json", &[]).await;
    let etag = etag.header("etag").unwrap().to_owned();
    let not_modified = request(addr, "GET", "/data.json?again", &[("If-None-Match", &etag)]).await;
    assert_eq!(not_modified.status, 304);
    assert_eq!(request(addr, "GET", "/missing", &[]).await.status, 404);
    assert_eq!(request(addr, "HEAD", "/index.html", &[]).await.status, 200);

    let (har, bytes) = export(&log, logs.path(), &ExportFilter::default());
    assert_importable(&har);
    assert_eq!(har["log"]["entries"].as_array().unwrap().len(), 6);

    // The odd request: every header as sent, escaped by JSON, never raw.
    let odd = entry(&har, "GET", "/index.html?q=a+b&euro=%E2%82%AC&flag");
    let request_side = &odd["request"];
    assert_eq!(
        request_side["url"],
        format!("http://{addr}/index.html?q=a+b&euro=%E2%82%AC&flag")
    );
    assert_eq!(
        header(request_side, "host"),
        Some(addr.to_string().as_str())
    );
    assert_eq!(
        header(request_side, "x-quoted"),
        Some("say \"hi\" \\ back\tslash")
    );
    assert_eq!(header(request_side, "x-script"), Some("</script><b>=1+1"));
    assert_eq!(header(request_side, "x-bytes"), Some("caf\u{fffd}\u{fffd}"));
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains(r#"say \"hi\" \\ back\tslash"#),
        "JSON escapes"
    );
    assert_eq!(
        request_side["queryString"],
        serde_json::json!([
            {"name": "q", "value": "a b"},
            {"name": "euro", "value": "€"},
            {"name": "flag", "value": ""},
        ])
    );
    assert_eq!(request_side["httpVersion"], "HTTP/1.1");
    assert_eq!(request_side["bodySize"], 0);
    let response = &odd["response"];
    assert_eq!(response["status"], 200);
    assert_eq!(response["statusText"], "OK");
    assert!(header(response, "content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(header(response, "x-content-type-options"), Some("nosniff"));
    // What hyper adds: the length of a body of known size, and the date.
    assert_eq!(
        header(response, "content-length"),
        Some(response["bodySize"].to_string().as_str())
    );
    assert!(header(response, "date").unwrap().ends_with(" GMT"));
    assert!(response["content"]["mimeType"]
        .as_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(response["bodySize"].as_u64().unwrap() > 0);
    assert_eq!(odd["_resourceType"], "document");
    assert_eq!(odd["serverIPAddress"], "127.0.0.1");
    assert_eq!(odd["connection"], addr.port().to_string());
    // Each request came on a connection of its own (`Connection: close`).
    let ids: std::collections::HashSet<&str> = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["_connectionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6);
    assert!(odd.get("comment").is_none(), "nothing was cut");

    // The crowded request: the huge value cut and marked, the count bounded and said.
    let crowded = entry(&har, "GET", "/app.css");
    let kept = crowded["request"]["headers"].as_array().unwrap();
    assert_eq!(kept.len(), MAX_HEADERS);
    let huge_kept = header(&crowded["request"], "x-huge").unwrap();
    assert!(huge_kept.ends_with(TRUNCATION_MARK));
    assert_eq!(
        huge_kept.len(),
        MAX_HEADER_VALUE_BYTES + TRUNCATION_MARK.len_utf8()
    );
    // Host, Connection, X-Huge and the crowd: 3 + 74 sent, 64 kept.
    let comment = crowded["comment"].as_str().unwrap();
    assert!(
        comment.contains("13 request and 0 response headers left out"),
        "{comment}"
    );
    assert_eq!(crowded["_resourceType"], "stylesheet");

    // The 304: no body, its validators in the headers, and its type kept from the file.
    let not_modified = entry(&har, "GET", "/data.json?again");
    assert_eq!(not_modified["response"]["status"], 304);
    assert_eq!(not_modified["response"]["statusText"], "Not Modified");
    assert_eq!(not_modified["response"]["bodySize"], 0);
    assert_eq!(not_modified["response"]["content"]["size"], 0);
    assert_eq!(header(&not_modified["response"], "content-length"), None);
    assert_eq!(
        header(&not_modified["request"], "if-none-match"),
        Some(etag.as_str())
    );
    assert_eq!(
        header(&not_modified["response"], "etag"),
        Some(etag.as_str())
    );

    let missing = entry(&har, "GET", "/missing");
    assert_eq!(missing["response"]["status"], 404);
    assert_eq!(missing["response"]["statusText"], "Not Found");

    // HEAD: the length a GET would have, no body bytes.
    let head = entry(&har, "HEAD", "/index.html");
    assert_eq!(head["response"]["bodySize"], 0);
    assert_eq!(head["_resourceType"], "document");

    // The CSV's filter applies: only the 4xx.
    let filter = ExportFilter {
        status: Some("4xx".parse().unwrap()),
        ..ExportFilter::default()
    };
    let (only_404, _) = export(&log, logs.path(), &filter);
    assert_importable(&only_404);
    let entries = only_404["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["response"]["status"], 404);
    server.stop(std::time::Duration::from_secs(1)).await;
}

/// The live stream leaves headers out (they are the export's), so the window's buffer of
/// records stays as small as before; the session log keeps them.
#[tokio::test]
async fn live_records_leave_headers_to_the_session_log() {
    let dir = site();
    let (server, log, logs) = start_logged(draft(dir.path())).await;
    let mut live = log.subscribe();
    let addr = server.local_addr();
    assert_eq!(request(addr, "GET", "/app.css", &[]).await.status, 200);
    let record = common::logged(&log, logs.path(), "/app.css").await;
    let headers = record.headers.expect("the session log keeps headers");
    assert_eq!(headers.server, Some(addr));
    assert!(!headers.https);
    assert_eq!(
        headers.request_header("host"),
        Some(addr.to_string().as_str())
    );
    assert!(headers.response_header("etag").is_some());
    let batch = tokio::time::timeout(std::time::Duration::from_secs(10), live.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(batch.records[0].target, "/app.css");
    assert_eq!(batch.records[0].headers, None);
    server.stop(std::time::Duration::from_secs(1)).await;
}

/// Over HTTPS and HTTP/2 the URL is `https://` with the `:authority` the request named (its
/// first header, as browsers show it), and the server's address is the HTTPS port's.
#[tokio::test]
async fn an_http2_request_over_tls_exports_its_authority_and_scheme() {
    use common::tls::{h2, h2_request, https_addr};
    use http_body_util::BodyExt;

    let dir = site();
    let certs = tempfile::tempdir().unwrap();
    let (server, log, logs) = start_logged(wharf_core::ConfigDraft {
        https_port: Some(0),
        cert_dir: Some(certs.path().join("wharf/certs")),
        ..draft(dir.path())
    })
    .await;
    let mut sender = h2(&server, "localhost").await;
    let response = sender
        .send_request(h2_request(&server, "/data.json?x=1"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.into_body().collect().await.unwrap();

    let (har, _) = export(&log, logs.path(), &ExportFilter::default());
    assert_importable(&har);
    let https = https_addr(&server);
    let entry = entry(&har, "GET", "/data.json?x=1");
    let authority = format!("localhost:{}", https.port());
    assert_eq!(
        entry["request"]["url"],
        format!("https://{authority}/data.json?x=1")
    );
    assert_eq!(entry["request"]["httpVersion"], "HTTP/2.0");
    assert_eq!(entry["request"]["headers"][0]["name"], ":authority");
    assert_eq!(entry["request"]["headers"][0]["value"], authority);
    assert_eq!(entry["connection"], https.port().to_string());
    assert_eq!(entry["serverIPAddress"], "127.0.0.1");
    assert_eq!(entry["_resourceType"], "fetch");
    // No framing header on HTTP/2 but the length hyper sends.
    assert_eq!(
        header(&entry["response"], "content-length"),
        Some(entry["response"]["bodySize"].to_string().as_str())
    );
    assert_eq!(header(&entry["response"], "transfer-encoding"), None);
    server.stop(std::time::Duration::from_secs(1)).await;
}
