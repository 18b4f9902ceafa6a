//! Forwarding one request to its rule's target and its response back, both bodies streamed
//! frame by frame (never buffered whole, except proxied HTML that gets the live-reload
//! script). Hop-by-hop headers stay on their own hop; `X-Forwarded-For/Host/Proto` say where
//! the request came from; `Host` is the target's unless the rule keeps the browser's.

use std::net::SocketAddr;
use std::time::Instant;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::client::{client, trust_for};
use super::page::{failure_page, Failure};
use super::ProxyNote;
use crate::config::ServerConfig;
use crate::http::body::Body;
use crate::live_reload;

/// Proxied HTML up to this size gets the live-reload script (it is read whole to add it);
/// larger HTML is passed on as it comes.
const INJECT_MAX: u64 = 8 * 1024 * 1024;

/// Hop-by-hop headers (RFC 9110 §7.6.1), which describe one connection and never cross a
/// proxy, beside those the `Connection` header names.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

const UPGRADE_VALUE: HeaderValue = HeaderValue::from_static("upgrade");
const IDENTITY: HeaderValue = HeaderValue::from_static("identity");

/// Forwards `request` by rule `index` of `config.proxy`, from `peer` (over TLS if `https`),
/// and answers with the target's response, or 502/504 when the target fails. A `101
/// Switching Protocols` comes back with the upstream's upgrade in the note, for the
/// connection to join to its own socket once the 101 is sent.
pub(crate) async fn forward(
    config: &ServerConfig,
    index: usize,
    request: Request<Incoming>,
    peer: SocketAddr,
    https: bool,
) -> (Response<Body>, ProxyNote) {
    let rule = &config.proxy.rules()[index];
    let mut note = ProxyNote {
        rule: index,
        upstream_status: None,
        ttfb: None,
        upgrade: None,
    };
    let (mut parts, body) = request.into_parts();
    let upgrade = wants_upgrade(&parts.headers);
    let path = parts.uri.path();
    let target = rule.upstream_path(path, parts.uri.query());
    let uri = Uri::builder()
        .scheme(if rule.https { "https" } else { "http" })
        .authority(rule.authority.clone())
        .path_and_query(target)
        .build();
    let Ok(uri) = uri else {
        // Only a rewrite can make a path that is no longer a URI's.
        let failure = Failure::Broken("the rewritten path is not a valid URL path".into());
        return (failure_page(&rule.target, &failure), note);
    };
    // HTTP/2 has no `Host`: its `:authority` is in the URI.
    let browser_host = parts.headers.get(header::HOST).cloned().or_else(|| {
        let authority = parts.uri.authority()?;
        HeaderValue::from_str(authority.as_str()).ok()
    });
    let headers = &mut parts.headers;
    strip_hop_by_hop(headers);
    // `Upgrade` is hop-by-hop too, but a WebSocket handshake must reach the target.
    headers.remove(header::UPGRADE);
    if let Some(protocol) = upgrade.clone() {
        headers.insert(header::UPGRADE, protocol);
        headers.insert(header::CONNECTION, UPGRADE_VALUE);
    }
    if rule.change_origin || browser_host.is_none() {
        if let Ok(host) = HeaderValue::from_str(rule.authority.as_str()) {
            headers.insert(header::HOST, host);
        }
    }
    add_forwarded(headers, peer, browser_host, https);
    // The script goes into HTML Wharf can read: ask for it uncompressed.
    let inject = config.live_reload && is_navigation(headers);
    if inject {
        headers.insert(header::ACCEPT_ENCODING, IDENTITY);
    }
    parts.uri = uri;
    parts.version = http::Version::HTTP_11;
    let upstream_request = Request::from_parts(parts, body);

    let started = Instant::now();
    let trust = trust_for(rule.authority.host());
    let sent = client(config.proxy_connect_timeout, trust).request(upstream_request);
    let mut response = match tokio::time::timeout(config.proxy_first_byte_timeout, sent).await {
        Ok(Ok(response)) => response,
        Ok(Err(err)) => {
            let failure = if err.is_connect() {
                Failure::Unreachable(cause(&err))
            } else {
                Failure::Broken(cause(&err))
            };
            return (failure_page(&rule.target, &failure), note);
        }
        Err(_) => {
            let failure = Failure::TimedOut(config.proxy_first_byte_timeout);
            return (failure_page(&rule.target, &failure), note);
        }
    };
    note.ttfb = Some(started.elapsed());
    note.upstream_status = Some(response.status());
    if response.status() == StatusCode::SWITCHING_PROTOCOLS && upgrade.is_some() {
        note.upgrade = Some(hyper::upgrade::on(&mut response));
        let (mut parts, _) = response.into_parts();
        let upgrade_to = parts.headers.get(header::UPGRADE).cloned();
        strip_hop_by_hop(&mut parts.headers);
        if let Some(upgrade_to) = upgrade_to {
            parts.headers.insert(header::UPGRADE, upgrade_to);
            parts.headers.insert(header::CONNECTION, UPGRADE_VALUE);
        }
        return (Response::from_parts(parts, Body::Empty), note);
    }
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::UPGRADE);
    parts.version = http::Version::HTTP_11;
    if inject && injectable(&parts.headers, &body) {
        match body.collect().await {
            Ok(collected) => {
                let html = live_reload::inject(&collected.to_bytes());
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(html.len()));
                return (Response::from_parts(parts, Body::Full(html)), note);
            }
            Err(err) => {
                let failure = Failure::Broken(cause(&err));
                return (failure_page(&rule.target, &failure), note);
            }
        }
    }
    (
        Response::from_parts(parts, Body::Upstream(Box::new(body))),
        note,
    )
}

/// Whether the request asks to switch protocols (a WebSocket handshake): `Connection:
/// upgrade` and an `Upgrade` header.
fn wants_upgrade(headers: &HeaderMap) -> Option<HeaderValue> {
    let connection_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    connection_upgrade
        .then(|| headers.get(header::UPGRADE).cloned())
        .flatten()
}

/// Removes the hop-by-hop headers, and those `Connection` names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
}

/// `X-Forwarded-For` (appended to), `X-Forwarded-Host` and `X-Forwarded-Proto`.
fn add_forwarded(
    headers: &mut HeaderMap,
    peer: SocketAddr,
    browser_host: Option<HeaderValue>,
    https: bool,
) {
    const FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    let peer = peer.ip().to_canonical().to_string();
    let chain = match headers.get(FOR).and_then(|value| value.to_str().ok()) {
        Some(before) => format!("{before}, {peer}"),
        None => peer,
    };
    if let Ok(chain) = HeaderValue::from_str(&chain) {
        headers.insert(FOR, chain);
    }
    if let Some(host) = browser_host {
        headers.insert(HeaderName::from_static("x-forwarded-host"), host);
    }
    let proto = if https { "https" } else { "http" };
    headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static(proto),
    );
}

/// A page load: a GET that accepts HTML (what a browser's navigation sends).
fn is_navigation(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Whether a response is HTML Wharf can add the script to: `text/html`, not compressed
/// (a target that ignores `Accept-Encoding: identity` is passed on untouched), and small.
fn injectable(headers: &HeaderMap, body: &Incoming) -> bool {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("text/html"));
    let plain = headers
        .get(header::CONTENT_ENCODING)
        .is_none_or(|coding| coding.as_bytes().eq_ignore_ascii_case(b"identity"));
    let small = http_body::Body::size_hint(body)
        .upper()
        .is_some_and(|len| len <= INJECT_MAX);
    html && plain && small
}

/// The innermost cause of `err` as a person reads it: the OS's error when there is one
/// (`Connection refused (os error 111)`), else the error itself.
fn cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest: &(dyn std::error::Error + 'static) = err;
    while let Some(source) = deepest.source() {
        deepest = source;
    }
    deepest.to_string()
}
