//! Answers one HTTP request from the served folder: methods, the `Host` check, path
//! resolution, folders (index, redirect, listing), files with validators, and error pages.
//!
//! It reads the config snapshot it is given and never the live config, so a request is always
//! answered by the generation its connection was accepted under. It owns no state.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use percent_encoding::utf8_percent_encode;
use tokio::io::AsyncReadExt;

use crate::body::Body;
use crate::config::ServerConfig;
use crate::listing::{self, SEGMENT};
use crate::mime;
use crate::resolve::{self, Refusal, SitePath};

/// Files up to this size are read in one go and sent from memory; larger ones are streamed.
const READ_WHOLE_MAX: u64 = 64 * 1024;

const ALLOW: HeaderValue = HeaderValue::from_static("GET, HEAD, OPTIONS");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// Answers `request` from `config.root`. Never fails: every problem becomes a status page.
pub async fn respond<B>(config: &ServerConfig, request: Request<B>) -> Response<Body> {
    let head = request.method() == Method::HEAD;
    let mut response = route(config, &request).await;
    response
        .headers_mut()
        .insert("x-content-type-options", NOSNIFF);
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
    response
}

async fn route<B>(config: &ServerConfig, request: &Request<B>) -> Response<Body> {
    match *request.method() {
        Method::GET | Method::HEAD => {}
        Method::OPTIONS => {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            response.headers_mut().insert(header::ALLOW, ALLOW);
            return response;
        }
        _ => {
            let mut response = status_page(StatusCode::METHOD_NOT_ALLOWED);
            response.headers_mut().insert(header::ALLOW, ALLOW);
            return response;
        }
    }
    // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is a 400. hyper does not check.
    if request.version() == Version::HTTP_11
        && request.headers().get_all(header::HOST).iter().count() != 1
    {
        return status_page(StatusCode::BAD_REQUEST);
    }
    let site_path = match SitePath::parse(request.uri().path(), false) {
        Ok(path) => path,
        Err(Refusal::Malformed) => return status_page(StatusCode::BAD_REQUEST),
        Err(Refusal::Hidden) => return status_page(StatusCode::NOT_FOUND),
    };
    let path = site_path.under(&config.root);
    let Some(real) = resolve::contain(&config.root, &path) else {
        return status_page(StatusCode::NOT_FOUND);
    };
    let Ok(meta) = tokio::fs::metadata(&real).await else {
        return status_page(StatusCode::NOT_FOUND);
    };
    if meta.is_dir() {
        if !site_path.trailing_slash && !site_path.segments.is_empty() {
            return redirect_to_folder(&site_path, request.uri().query());
        }
        let index = real.join("index.html");
        if tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file()) {
            return serve_file(&index, request.headers()).await;
        }
        return serve_listing(&real, &site_path).await;
    }
    if site_path.trailing_slash {
        return status_page(StatusCode::NOT_FOUND);
    }
    serve_file(&real, request.headers()).await
}

/// 301 from `/docs` to `/docs/`. The Location is rebuilt from the decoded, checked segments,
/// each percent-encoded, so it always starts with one `/` and a non-empty segment and can never
/// point at another host (`//evil.example`, `/\evil`).
fn redirect_to_folder(site_path: &SitePath, query: Option<&str>) -> Response<Body> {
    let mut location = String::new();
    for segment in &site_path.segments {
        location.push('/');
        location.extend(utf8_percent_encode(segment, SEGMENT));
    }
    location.push('/');
    if let Some(query) = query {
        location.push('?');
        location.push_str(query);
    }
    let mut response = status_page(StatusCode::MOVED_PERMANENTLY);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn serve_listing(dir: &Path, site_path: &SitePath) -> Response<Body> {
    let Ok(entries) = listing::read_entries(dir, false).await else {
        return status_page(StatusCode::NOT_FOUND);
    };
    let mut response = Response::new(Body::from(listing::render(&site_path.segments, &entries)));
    response.headers_mut().insert(header::CONTENT_TYPE, HTML);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, NO_CACHE);
    response
}

async fn serve_file(path: &Path, request_headers: &HeaderMap) -> Response<Body> {
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return status_page(StatusCode::NOT_FOUND);
    };
    // Metadata from the open handle, not the path, so validators describe the bytes we send.
    let Ok(meta) = file.metadata().await else {
        return status_page(StatusCode::NOT_FOUND);
    };
    let len = meta.len();
    let modified = meta.modified().ok();
    let etag = etag(len, modified);

    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, NO_CACHE);
    if let Some(etag) = &etag {
        headers.insert(header::ETAG, etag.clone());
    }
    if let Some(modified) = modified {
        if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(modified)) {
            headers.insert(header::LAST_MODIFIED, value);
        }
    }

    if not_modified(request_headers, etag.as_ref(), modified) {
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = headers;
        return response;
    }

    let body = if len <= READ_WHOLE_MAX {
        let mut buf = Vec::with_capacity(len as usize);
        if file.read_to_end(&mut buf).await.is_err() {
            return status_page(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Body::Full(Bytes::from(buf))
    } else {
        Body::file(file, len)
    };
    headers.insert(header::CONTENT_TYPE, mime::content_type(path));
    let mut response = Response::new(body);
    *response.headers_mut() = headers;
    response
}

/// A strong validator from size and modification time (to the nanosecond), so any edit that
/// changes either is seen on the very next request.
fn etag(len: u64, modified: Option<SystemTime>) -> Option<HeaderValue> {
    let since = modified?.duration_since(UNIX_EPOCH).ok()?;
    HeaderValue::from_str(&format!(
        "\"{len:x}-{:x}.{:x}\"",
        since.as_secs(),
        since.subsec_nanos()
    ))
    .ok()
}

/// RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since only otherwise.
fn not_modified(
    request: &HeaderMap,
    etag: Option<&HeaderValue>,
    modified: Option<SystemTime>,
) -> bool {
    if let Some(if_none_match) = request.get(header::IF_NONE_MATCH) {
        let Ok(list) = if_none_match.to_str() else {
            return false;
        };
        let Some(etag) = etag.and_then(|e| e.to_str().ok()) else {
            return false;
        };
        // Weak comparison: W/"x" matches "x".
        return list
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag);
    }
    let (Some(since), Some(modified)) = (request.get(header::IF_MODIFIED_SINCE), modified) else {
        return false;
    };
    let Some(since) = since
        .to_str()
        .ok()
        .and_then(|s| httpdate::parse_http_date(s).ok())
    else {
        return false;
    };
    // HTTP dates have whole seconds; compare at that resolution.
    let modified_secs = modified
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let since_secs = since
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    modified_secs <= since_secs
}

/// A short static HTML page for an error or redirect. Reflects nothing from the request.
pub fn status_page(status: StatusCode) -> Response<Body> {
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
        .insert(header::CACHE_CONTROL, NO_CACHE);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let now = SystemTime::now();
        let tag = etag(10, Some(now)).unwrap();
        let date = httpdate::fmt_http_date(now + std::time::Duration::from_secs(60));
        let stale = headers(&[
            (header::IF_NONE_MATCH, "\"other\""),
            (header::IF_MODIFIED_SINCE, &date),
        ]);
        assert!(!not_modified(&stale, Some(&tag), Some(now)));
        let fresh = headers(&[(
            header::IF_NONE_MATCH,
            &format!("\"x\", W/{}", tag.to_str().unwrap()),
        )]);
        assert!(not_modified(&fresh, Some(&tag), Some(now)));
        let any = headers(&[(header::IF_NONE_MATCH, "*")]);
        assert!(not_modified(&any, Some(&tag), Some(now)));
        let by_date = headers(&[(header::IF_MODIFIED_SINCE, &date)]);
        assert!(not_modified(&by_date, Some(&tag), Some(now)));
        let old_date = httpdate::fmt_http_date(now - std::time::Duration::from_secs(60));
        let changed = headers(&[(header::IF_MODIFIED_SINCE, &old_date)]);
        assert!(!not_modified(&changed, Some(&tag), Some(now)));
    }
}
