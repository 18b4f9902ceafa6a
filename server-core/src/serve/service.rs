//! Answers one HTTP request from the served folder, and says what answered it: the request
//! head's hygiene (framing, `Host`, target length) first, then [`guard`]'s refusal of a
//! foreign `Host` and cross-site loads with 403, then `route` (which chooses the resource:
//! `folder` and `file` serve it), then the site's header settings (CORS, cross-origin
//! isolation, custom header rules), and last HEAD's empty body. A path a proxy rule takes
//! (`route::proxied`) goes through the same hygiene and guard, then to the rule's target
//! (`respond_proxied`). `nosniff` is added to every answer by the connection's service
//! (`http::connection`).
//!
//! The site's header settings stay hand-written rather than tower-http layers: a custom
//! header rule applies by the request's path, which tower-http's `SetResponseHeader` cannot
//! see, and a rule replaces Wharf's own header of that name; CORS is `guard`'s (see there
//! why tower-http's `CorsLayer` does not fit).
//!
//! It reads the config snapshot it is given and never the live config, so a request is always
//! answered by the generation its connection was accepted under. Its only state is the
//! server's [`FileCache`], which is never stale.

use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use percent_encoding::percent_decode_str;
use tokio::time::Instant;

use crate::config::ServerConfig;
use crate::config::DEFAULT_CACHE_CONTROL;
use crate::files::cache::FileCache;
use crate::http::body::Body;
use crate::http::guard;
use crate::live_reload::ReloadFeed;
use crate::network::{self, ConnectionBuckets};
use crate::observe::access::Served;
use crate::observe::timing::Moment;
use crate::observe::why::{CacheControlFrom, Deciding, Route, Why};
pub(crate) use crate::serve::route::proxied;
use crate::serve::route::{route, Answer, Visit};

/// Longest request target accepted; longer ones get 414 (nginx's default buffer is 8 KiB too).
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub const MAX_URI_LEN: usize = 8 * 1024;
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const CLOSE: HeaderValue = HeaderValue::from_static("close");
const SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
const REQUIRE_CORP: HeaderValue = HeaderValue::from_static("require-corp");
/// The opt-in header that says why (the `why_header` setting).
pub(crate) const WHARF_WHY: header::HeaderName = header::HeaderName::from_static("wharf-why");

/// Answers `request` from `config.root`, and says what answered and why, and when the route's
/// last lookup ended (`None` if nothing was looked up), for the access log. Never fails: every
/// problem becomes a status page.
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub async fn respond_noting<B>(
    config: &Arc<ServerConfig>,
    cache: &Arc<FileCache>,
    feed: &ReloadFeed,
    request: &Request<B>,
) -> (Response<Body>, Served, Why, Option<Instant>) {
    let mut why = Why::default();
    let mut resolved = None;
    let head = request.method() == Method::HEAD;
    // The head's own faults first (framing, Host count, target length): each is a 4xx
    // whatever else the request says, and a framing fault closes the connection. Then, before
    // anything is looked up, `/__wharf/` included: a foreign Host or a cross-site load.
    // Boxed: a refusal is rare, and inline it would be held across the route's await, making
    // every request's future larger (issue 17).
    let refused: Option<Box<(Response<Body>, Served)>> = match refuse_head(request) {
        Some(malformed) => {
            why.route = Route::Malformed;
            let answer = (malformed, Served::Status);
            Some(Box::new(site_answer(config, request, answer, &mut why)))
        }
        None => guard::refusal(config, request).map(|blocked| {
            why.route = Route::Blocked;
            Box::new((blocked, Served::Blocked))
        }),
    };
    let (mut response, served) = match refused {
        Some(refused) => *refused,
        None => {
            let visit = Visit {
                config,
                cache,
                request,
                why: Deciding::default(),
                resolved: Moment::default(),
            };
            let answer = route(&visit, feed).await;
            why = visit.why.get();
            resolved = visit.resolved.get();
            site_answer(config, request, answer, &mut why)
        }
    };
    // Network rules shape whatever answered the site (files, listings, proxied answers),
    // never a refusal and never Wharf's own endpoints.
    let rules = config.shaping();
    if let Some(rules) = rules.filter(|_| !guard::is_wharf_path(request.uri().path())) {
        let path = percent_decode_str(request.uri().path()).decode_utf8_lossy();
        let buckets = request.extensions().get();
        response = network::shape(rules, &path, response, buckets, status_page).await;
    }
    if config.why_header {
        add_why_header(response.headers_mut(), &why);
    }
    if head {
        // HEAD carries GET's headers, Content-Length included, and no body.
        let len = http_body::Body::size_hint(response.body()).exact();
        let keep_length = response.status() == StatusCode::NOT_MODIFIED
            || response.headers().contains_key(header::CONTENT_LENGTH);
        if let Some(len) = len.filter(|_| !keep_length) {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        *response.body_mut() = Body::Empty;
    }
    (response, served, why, resolved)
}

/// Answers `request`, which proxy rule `index` takes (see `route::proxied`), from `peer`:
/// the head's hygiene and the guard's refusals first, as for any request, then the rule's
/// target. Request bodies are forwarded, so `Transfer-Encoding` is no fault here. The
/// target's headers pass as it sent them: the site's header settings are for its files.
pub(crate) async fn respond_proxied(
    config: &Arc<ServerConfig>,
    request: Request<hyper::body::Incoming>,
    index: usize,
    peer: std::net::SocketAddr,
    https: bool,
) -> (Response<Body>, Served, Option<crate::proxy::ProxyNote>) {
    let refused = refuse_host_and_length(&request)
        .or_else(|| guard::refusal(config, &request))
        .or_else(|| {
            (head_size(&request) > MAX_HEAD_BYTES)
                .then(|| status_page(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE))
        });
    if let Some(refused) = refused {
        // The proxied request's own record says it was refused by its status.
        let mut why = Why::default();
        let answer = (refused, Served::Status);
        let (response, served) = site_answer(config, &request, answer, &mut why);
        return (response, served, None);
    }
    // Network rules shape the target's answer as they shape files; a switched protocol (a
    // WebSocket's 101) passes as it is, its tunnel is the target's.
    let shaping = config.shaping().is_some().then(|| {
        percent_decode_str(request.uri().path())
            .decode_utf8_lossy()
            .into_owned()
    });
    let buckets = request.extensions().get::<ConnectionBuckets>().cloned();
    let (mut response, note) = crate::proxy::forward(config, index, request, peer, https).await;
    if config.why_header {
        let why = Why {
            route: Route::Proxy,
            ..Why::default()
        };
        add_why_header(response.headers_mut(), &why);
    }
    if let Some(path) = shaping.filter(|_| response.status() != StatusCode::SWITCHING_PROTOCOLS) {
        let buckets = buckets.as_ref();
        let rules = &config.network;
        response = network::shape(rules, &path, response, buckets, status_page).await;
    }
    (response, Served::Proxy, Some(note))
}

/// The opt-in `Wharf-Why` header: `why`'s codes (`Why::code`), which are Wharf's own words,
/// so always a valid header value. Replaces one a proxy target sent.
fn add_why_header(headers: &mut HeaderMap, why: &Why) {
    if let Ok(value) = HeaderValue::try_from(why.code()) {
        headers.insert(WHARF_WHY, value);
    }
}

/// `answer` with the site's header settings (noted in `why`), and what answered as its status
/// says.
fn site_answer<B>(
    config: &ServerConfig,
    request: &Request<B>,
    answer: Answer,
    why: &mut Why,
) -> Answer {
    let (mut response, what) = answer;
    let headers = response.headers_mut();
    if config.cache_control != DEFAULT_CACHE_CONTROL && headers.contains_key(header::CACHE_CONTROL)
    {
        why.cache_control = CacheControlFrom::Setting;
    }
    add_site_headers(config, request, headers, why);
    let served = served(response.status(), what);
    (response, served)
}

/// The site's header settings, with the custom rules that applied noted in `why`. Each costs
/// nothing when it is off.
fn add_site_headers<B>(
    config: &ServerConfig,
    request: &Request<B>,
    headers: &mut HeaderMap,
    why: &mut Why,
) {
    // Wharf's own endpoints are not the site's: its CORS and rules never apply to them.
    let site = (config.cors || !config.custom_headers.is_empty())
        && !guard::is_wharf_path(request.uri().path());
    if config.cors && site {
        guard::add_cors(config, request.headers(), request.method(), headers);
    }
    if config.cross_origin_isolation {
        headers.insert("cross-origin-opener-policy", SAME_ORIGIN);
        headers.insert("cross-origin-embedder-policy", REQUIRE_CORP);
    }
    if !config.custom_headers.is_empty() && site {
        let path = percent_decode_str(request.uri().path()).decode_utf8_lossy();
        // A rule replaces Wharf's header of that name; several rules for one name add up.
        let mut replaced: Vec<&http::HeaderName> = Vec::new();
        for (index, rule) in config.custom_headers.matching(&path) {
            if !replaced.contains(&&rule.name) {
                headers.remove(&rule.name);
                replaced.push(&rule.name);
            }
            headers.append(rule.name.clone(), rule.value.clone());
            why.header_rules = why.header_rules.saturating_add(1);
            why.header_rule_mask |= 1u32.checked_shl(index as u32).unwrap_or(0);
            if rule.name == header::CACHE_CONTROL {
                why.cache_control = CacheControlFrom::Rule;
            }
        }
    }
}

/// The faults of a request head that make it a 4xx whatever its method (the `hygiene` fuzz
/// target found a POST without Host answered 405 while the method was judged first).
fn refuse_head<B>(request: &Request<B>) -> Option<Response<Body>> {
    if let Some(refusal) = refuse_framing(request) {
        return Some(refusal);
    }
    refuse_host_and_length(request)
}

/// A request without exactly one `Host` (400) or with too long a target (414).
fn refuse_host_and_length<B>(request: &Request<B>) -> Option<Response<Body>> {
    // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is a 400. hyper does not check.
    if request.version() == Version::HTTP_11
        && request.headers().get_all(header::HOST).iter().count() != 1
    {
        return Some(status_page(StatusCode::BAD_REQUEST));
    }
    if request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len())
        > MAX_URI_LEN
    {
        return Some(status_page(StatusCode::URI_TOO_LONG));
    }
    None
}

/// What answered, for the access log: the response's `status` first, then what `route`
/// said answered (a file already noted with the content coding it was sent with).
fn served(status: StatusCode, what: Served) -> Served {
    match status {
        StatusCode::NOT_MODIFIED => Served::NotModified,
        StatusCode::PARTIAL_CONTENT => Served::Range,
        status if status.is_redirection() => Served::Redirect,
        status if !status.is_success() => Served::Status,
        _ => what,
    }
}

/// Request hygiene hyper leaves to us.
///
/// - Wharf accepts no request bodies (GET, HEAD and OPTIONS carry none), so any
///   `Transfer-Encoding` is refused (RFC 9112 §6.1). This also covers `Transfer-Encoding`
///   together with `Content-Length` (§6.3), which hyper cannot report: it drops a
///   `Content-Length` that follows `Transfer-Encoding` before we see the request.
/// - A request head larger than [`MAX_HEAD_BYTES`] is a 431. hyper's buffer limit alone is not
///   exact, because one read may complete an oversized head.
///
/// Both close the connection, because the message's end can no longer be trusted.
fn refuse_framing<B>(request: &Request<B>) -> Option<Response<Body>> {
    let headers = request.headers();
    let status = if headers.contains_key(header::TRANSFER_ENCODING) {
        StatusCode::BAD_REQUEST
    } else if head_size(request) > MAX_HEAD_BYTES {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    } else {
        return None;
    };
    let mut response = status_page(status);
    response.headers_mut().insert(header::CONNECTION, CLOSE);
    Some(response)
}

/// Largest request head accepted, request line and headers together.
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

fn head_size<B>(request: &Request<B>) -> usize {
    let line = request
        .uri()
        .path_and_query()
        .map_or(1, |pq| pq.as_str().len())
        + 16;
    request.headers().iter().fold(line, |sum, (name, value)| {
        sum + name.as_str().len() + value.len() + 4
    })
}

/// [`internal_error`] as [`respond_noting`] says what answered: a status page, no decision,
/// nothing looked up.
pub(crate) fn panicked() -> (Response<Body>, Served, Why, Option<Instant>) {
    (internal_error(), Served::Status, Why::default(), None)
}

/// The answer to a request whose handling panicked: 500, and the connection closes.
pub(crate) fn internal_error() -> Response<Body> {
    let mut response = status_page(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONNECTION, CLOSE);
    response
}

/// A short static HTML page for an error or redirect. Reflects nothing from the request.
pub(crate) fn status_page(status: StatusCode) -> Response<Body> {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{code} {reason}</title></head>\
         <body><h1>{code} {reason}</h1><p>Wharf</p></body></html>\n",
        code = status.as_u16()
    );
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HTML);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
