//! HAR 1.2 export of one session of the durable access log, behind `wharf export-har` and the
//! desktop app's Export HAR: the records the CSV export's filter keeps, as a log Chrome's and
//! Firefox's DevTools import (their importers require `log.entries`, `log.pages`, an entry's
//! `startedDateTime`, `time`, `request`, `response` with its `content`, `cache` and `timings`,
//! and numbers for sizes and times; see the tests in `server-core/tests/har_export.rs`, and
//! `tests/browser/har-import.test.mjs`, which has Chromium's own DevTools import a file).
//!
//! What the server cannot know is said as HAR says it: `-1` for the timings before the request
//! reached it (`blocked`, `dns`, `connect`, `ssl`) and for header sizes; `send` is 0 (the
//! request's head had arrived when its clock starts), `wait` the time to the first byte,
//! `receive` the rest. Headers are the record's (see [`RecordedHeaders`]); a record without
//! them (a log written before they were kept) has none and says so in its `comment`.
//!
//! It streams like the CSV export: the prologue, then one entry at a time serialised by
//! serde_json (which escapes every string from the network) into a buffered writer, so memory
//! stays flat whatever the session's size. Losses and retention, which a HAR has no entry for,
//! are stated in `log.comment`.

use std::borrow::Cow;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use percent_encoding::percent_decode_str;
use serde::Serialize;

use super::{
    each_line, lost_note, open_session, retention_note, ExportError, ExportFilter, ExportSummary,
    Kept, CHUNK_BYTES,
};
use crate::observe::access::{
    rfc3339_ms, AccessRecord, HeaderLine, RecordedHeaders, MAX_HEADERS, MAX_HEADER_SIDE_BYTES,
};

/// The host of a URL whose request named none Wharf kept (a record without headers): `.invalid`
/// is reserved for names that resolve nowhere (RFC 2606), so the URL is whole but claims no host.
const UNKNOWN_HOST: &str = "unknown.invalid";

/// Writes one session of the log in `log_dir` as a HAR 1.2 log to `out`: one entry per request
/// that passes `filter` (the same records as [`super::export_csv`]), in the log's order. `out`
/// is buffered here and flushed at the end.
///
/// ```no_run
/// use wharf_core::{export_har, ExportFilter};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let file = std::fs::File::create("session.har")?;
/// let summary = export_har("logs".as_ref(), &ExportFilter::default(), file)?;
/// println!("{} entries from session {}", summary.records, summary.session_id);
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`super::export_csv`].
pub fn export_har(
    log_dir: &Path,
    filter: &ExportFilter,
    out: impl Write,
) -> Result<ExportSummary, ExportError> {
    let (session, mut reader, mut summary) = open_session(log_dir, filter)?;
    let mut out = BufWriter::with_capacity(CHUNK_BYTES, out);
    let write = |source| ExportError::Write { source };
    let json = |err: serde_json::Error| ExportError::Write {
        source: std::io::Error::other(err),
    };
    out.write_all(br#"{"log":{"version":"1.2","creator":"#)
        .map_err(write)?;
    let creator = NameVersion {
        name: "Wharf",
        version: env!("CARGO_PKG_VERSION"),
    };
    serde_json::to_writer(&mut out, &creator).map_err(json)?;
    out.write_all(br#","pages":[],"entries":["#)
        .map_err(write)?;
    let mut first = true;
    let mut lost = 0;
    each_line(&session, &mut reader, filter, &mut summary, |line| {
        match line {
            Kept::Request(record) => {
                if !first {
                    out.write_all(b",").map_err(write)?;
                }
                first = false;
                serde_json::to_writer(&mut out, &Entry::of(record)).map_err(json)?;
            }
            Kept::Lost { count, .. } => lost += count,
        }
        Ok(())
    })?;
    out.write_all(b"]").map_err(write)?;
    let mut notes = Vec::new();
    if summary.retention_dropped > 0 {
        notes.push(retention_note(summary.retention_dropped));
    }
    if lost > 0 {
        notes.push(lost_note(lost));
    }
    if !notes.is_empty() {
        out.write_all(br#","comment":"#).map_err(write)?;
        serde_json::to_writer(&mut out, &notes.join("; ")).map_err(json)?;
    }
    out.write_all(b"}}").map_err(write)?;
    out.flush().map_err(write)?;
    summary.rows = summary.records;
    Ok(summary)
}

#[derive(Serialize)]
struct NameVersion {
    name: &'static str,
    version: &'static str,
}

/// One HAR entry, borrowing the record's text.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    started_date_time: String,
    /// Milliseconds, the sum of the timings that are not -1.
    time: f64,
    request: Request<'a>,
    response: Response<'a>,
    cache: Empty,
    timings: Timings,
    #[serde(rename = "serverIPAddress", skip_serializing_if = "Option::is_none")]
    server_ip_address: Option<String>,
    /// The server's port: what both importers read here (Chrome's
    /// `setRemoteAddress(serverIPAddress, Number(connection))`, Firefox's `remotePort`), and
    /// what Chrome's own exports write. HAR 1.2 allows a port or an id.
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<String>,
    /// Wharf's connection id, where Chrome keeps it (its Connection ID column).
    #[serde(rename = "_connectionId")]
    connection_id: String,
    /// Chrome's name for what the content is, from its type (see [`resource_type`]).
    #[serde(rename = "_resourceType")]
    resource_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    method: &'a str,
    url: String,
    http_version: &'a str,
    cookies: [Empty; 0],
    headers: &'a [HeaderLine],
    query_string: Vec<NameValue<'a>>,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: u16,
    status_text: &'static str,
    http_version: &'a str,
    cookies: [Empty; 0],
    headers: SentHeaders<'a>,
    content: Content<'a>,
    #[serde(rename = "redirectURL")]
    redirect_url: &'a str,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content<'a> {
    /// The body's bytes as sent: for a compressed body Wharf does not know the decoded size.
    size: u64,
    mime_type: &'a str,
}

#[derive(Serialize)]
struct Timings {
    /// The phases before the request reached the server, which it cannot know: -1.
    blocked: i8,
    dns: i8,
    connect: i8,
    ssl: i8,
    send: f64,
    wait: f64,
    receive: f64,
}

/// The response's headers as recorded, and the `Date` hyper adds to every response that has
/// none: its clock ticks once a second, so it is the second the request started (or the next).
struct SentHeaders<'a> {
    recorded: &'a [HeaderLine],
    date: Option<String>,
}

impl Serialize for SentHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        for line in self.recorded {
            seq.serialize_element(line)?;
        }
        if let Some(date) = &self.date {
            seq.serialize_element(&NameValue {
                name: "date".into(),
                value: date.as_str().into(),
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct NameValue<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

#[derive(Serialize)]
struct Empty {}

impl<'a> Entry<'a> {
    fn of(record: &'a AccessRecord) -> Entry<'a> {
        let headers = record.headers.as_ref();
        let request_headers = headers.map_or(&[][..], |headers| &headers.request[..]);
        let response_headers = headers.map_or(&[][..], |headers| &headers.response[..]);
        let content_type = headers.and_then(|headers| headers.response_header("content-type"));
        let ms = |us: u64| us as f64 / 1000.0;
        let wait = record
            .ttfb_us
            .unwrap_or(record.total_us)
            .min(record.total_us);
        Entry {
            started_date_time: rfc3339_ms(record.start_ms),
            time: ms(record.total_us),
            request: Request {
                method: &record.method,
                url: url(record),
                http_version: &record.version,
                cookies: [],
                headers: request_headers,
                query_string: query_string(&record.target),
                headers_size: -1,
                body_size: headers.map_or(-1, request_body_size),
            },
            response: Response {
                status: record.status,
                status_text: http::StatusCode::from_u16(record.status)
                    .ok()
                    .and_then(|status| status.canonical_reason())
                    .unwrap_or(""),
                http_version: &record.version,
                cookies: [],
                headers: SentHeaders {
                    recorded: response_headers,
                    date: headers
                        .filter(|headers| headers.response_header("date").is_none())
                        .filter(|_| record.status != 0)
                        .map(|_| {
                            let at = UNIX_EPOCH + Duration::from_millis(record.start_ms);
                            httpdate::fmt_http_date(at)
                        }),
                },
                content: Content {
                    size: record.body_bytes,
                    // DevTools' own word for a response without a type.
                    mime_type: content_type.unwrap_or("x-unknown"),
                },
                redirect_url: headers
                    .and_then(|headers| headers.response_header("location"))
                    .unwrap_or(""),
                headers_size: -1,
                body_size: i64::try_from(record.body_bytes).unwrap_or(i64::MAX),
            },
            cache: Empty {},
            timings: Timings {
                blocked: -1,
                dns: -1,
                connect: -1,
                ssl: -1,
                send: 0.0,
                wait: ms(wait),
                receive: ms(record.total_us - wait),
            },
            server_ip_address: headers
                .and_then(|headers| headers.server)
                .map(|server| server.ip().to_string()),
            connection: headers
                .and_then(|headers| headers.server)
                .map(|server| server.port().to_string()),
            connection_id: record.connection.to_string(),
            resource_type: resource_type(content_type),
            comment: comment(record),
        }
    }
}

/// The request's absolute URL: its scheme, the host it named (`Host`, or HTTP/2's
/// `:authority`; the server's address when it named none or an unusable one), and its target.
fn url(record: &AccessRecord) -> String {
    let target = &record.target;
    if target.starts_with("http://") || target.starts_with("https://") {
        // The absolute form (a proxy's request) is the URL already.
        return target.clone();
    }
    let headers = record.headers.as_ref();
    let scheme = if headers.is_some_and(|headers| headers.https) {
        "https"
    } else {
        "http"
    };
    let named = headers.and_then(|headers| {
        headers
            .request_header("host")
            .or_else(|| headers.request_header(":authority"))
    });
    let host: Cow<'_, str> = match named.filter(|host| is_host(host)) {
        Some(host) => host.into(),
        None => match headers.and_then(|headers| headers.server) {
            Some(SocketAddr::V4(addr)) => addr.to_string().into(),
            Some(SocketAddr::V6(addr)) => format!("[{}]:{}", addr.ip(), addr.port()).into(),
            None => UNKNOWN_HOST.into(),
        },
    };
    let slash = if target.starts_with('/') { "" } else { "/" };
    format!("{scheme}://{host}{slash}{target}")
}

/// Whether `host` can stand in a URL as its authority: a name or address and an optional port,
/// nothing a URL parser would read as more (no `/`, `@`, space, ...).
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-_:[]".contains(&byte))
}

/// The target's query, split on `&` and the first `=`, each part decoded as a form's
/// (`+` is a space, `%XX` a byte; invalid UTF-8 becomes U+FFFD).
fn query_string(target: &str) -> Vec<NameValue<'_>> {
    let Some((_, query)) = target.split_once('?') else {
        return Vec::new();
    };
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            NameValue {
                name: form_decoded(name),
                value: form_decoded(value),
            }
        })
        .collect()
}

fn form_decoded(text: &str) -> Cow<'_, str> {
    if !text.contains(['+', '%']) {
        return text.into();
    }
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
        .into()
}

/// The request body's size as its `Content-Length` says; 0 without a body; -1 when a chunked
/// body's size is unknown.
fn request_body_size(headers: &RecordedHeaders) -> i64 {
    if let Some(length) = headers.request_header("content-length") {
        return length.trim().parse().unwrap_or(-1);
    }
    if headers.request_header("transfer-encoding").is_some() {
        return -1;
    }
    0
}

/// Chrome's resource type for a response of `content_type`, as DevTools names them
/// (`front_end/core/common/ResourceType.ts`): what a page loads it as. Data a script asks for
/// (JSON, XML, text) is `fetch`, since the server cannot tell `fetch` from XHR.
fn resource_type(content_type: Option<&str>) -> &'static str {
    let Some(content_type) = content_type else {
        return "other";
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/').unwrap_or((&essence, ""));
    match (kind, subtype) {
        ("text", "html") | ("application", "xhtml+xml") => "document",
        ("text", "css") => "stylesheet",
        (_, sub) if sub.contains("javascript") || sub.contains("ecmascript") => "script",
        ("image", _) => "image",
        ("font", _) | ("application", "vnd.ms-fontobject") => "font",
        ("application", sub) if sub.starts_with("font-") || sub.starts_with("x-font") => "font",
        ("audio" | "video", _) => "media",
        ("application", "wasm") => "wasm",
        ("text", "event-stream") => "eventsource",
        ("application", "manifest+json") => "manifest",
        ("application" | "text", sub)
            if sub == "json"
                || sub.ends_with("+json")
                || sub == "xml"
                || sub.ends_with("+xml")
                || sub == "plain" =>
        {
            "fetch"
        }
        _ => "other",
    }
}

/// What a reader should know of this entry: headers left out or cut, or none kept, and a
/// request that did not complete.
fn comment(record: &AccessRecord) -> Option<String> {
    let mut notes = Vec::new();
    match &record.headers {
        None => notes.push("Wharf kept no headers for this request".to_owned()),
        Some(headers) if headers.truncated() => notes.push(format!(
            "headers cut to the record's bounds ({} request and {} response headers left out; \
             cut values end with …): a record keeps at most {MAX_HEADERS} headers and {} KiB \
             a side",
            headers.request_omitted,
            headers.response_omitted,
            MAX_HEADER_SIDE_BYTES / 1024
        )),
        Some(_) => {}
    }
    if !record.completed {
        notes.push(format!("not completed: {}", record.outcome.as_str()));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_follow_chrome_names() {
        for (content_type, expected) in [
            (Some("text/html; charset=utf-8"), "document"),
            (Some("text/css"), "stylesheet"),
            (Some("text/javascript"), "script"),
            (Some("application/javascript; charset=utf-8"), "script"),
            (Some("image/svg+xml"), "image"),
            (Some("font/woff2"), "font"),
            (Some("video/mp4"), "media"),
            (Some("application/wasm"), "wasm"),
            (Some("application/json"), "fetch"),
            (Some("application/ld+json"), "fetch"),
            (Some("text/plain"), "fetch"),
            (Some("text/event-stream"), "eventsource"),
            (Some("application/octet-stream"), "other"),
            (Some("TEXT/HTML"), "document"),
            (None, "other"),
        ] {
            assert_eq!(resource_type(content_type), expected, "{content_type:?}");
        }
    }

    #[test]
    fn query_strings_are_form_decoded() {
        let pairs: Vec<(String, String)> =
            query_string("/a?x=1&y=a+b%20c&&flag&%E2%82%AC=%ff#frag")
                .into_iter()
                .map(|pair| (pair.name.into_owned(), pair.value.into_owned()))
                .collect();
        assert_eq!(
            pairs,
            [
                ("x".into(), "1".into()),
                ("y".into(), "a b c".into()),
                ("flag".into(), String::new()),
                ("€".into(), "\u{fffd}".into()),
            ]
        );
        assert!(query_string("/plain").is_empty());
    }

    #[test]
    fn urls_are_absolute_whatever_the_host_said() {
        let mut record = AccessRecord::example("/p?q=1");
        assert_eq!(url(&record), "http://unknown.invalid/p?q=1");
        let line = |name: &str, value: &str| HeaderLine {
            name: name.into(),
            value: value.into(),
        };
        record.headers = Some(RecordedHeaders {
            server: Some("[::1]:8443".parse().unwrap()),
            https: true,
            request: vec![line("host", "evil host/@x")],
            request_omitted: 0,
            response: vec![],
            response_omitted: 0,
        });
        assert_eq!(url(&record), "https://[::1]:8443/p?q=1");
        if let Some(headers) = &mut record.headers {
            headers.request = vec![line(":authority", "site.test:8443")];
        }
        assert_eq!(url(&record), "https://site.test:8443/p?q=1");
        record.target = "*".into();
        assert_eq!(url(&record), "https://site.test:8443/*");
    }
}
