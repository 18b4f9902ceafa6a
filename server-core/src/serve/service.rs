//! Answers one HTTP request from the served folder: methods, request hygiene, path
//! resolution, folders (index, redirect, listing), and files with validators, preconditions,
//! ranges and content codings.
//!
//! A miss goes through the site's routing helpers, in this order: the real file, then the
//! clean URL (`/about` → `about.html`), then the SPA fallback (the root `index.html`), then
//! the site's `404.html`, then a plain 404. Every candidate passes the same path, dotfile and
//! symlink checks as a requested file, and is served with the same validators, preconditions,
//! ranges and codings. HTML gets the live-reload script (see `live_reload`), and the site's
//! header settings (CORS, cross-origin isolation, custom headers) are added last. Before
//! all of it, [`guard`] refuses a foreign `Host` and cross-site loads with 403.
//!
//! It reads the config snapshot it is given and never the live config, so a request is always
//! answered by the generation its connection was accepted under. Its only state is the
//! server's [`FileCache`], which is never stale.

use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use percent_encoding::{percent_decode_str, utf8_percent_encode};

use crate::config::ServerConfig;
use crate::files::cache::{CachedFile, FileCache, FileVersion, Lookup};
use crate::files::listing_cache::ListingKey;
use crate::http::body::Body;
use crate::http::guard;
use crate::live_reload::{self, ReloadFeed, RESERVED_SEGMENT};
use crate::observe::access::Served;
use crate::serve::conditional::{self, Precondition, Validators};
use crate::serve::encoding::{self, Encoding};
use crate::serve::listing::{self, ListingQuery, SEGMENT};
use crate::serve::range::{self, RangeDecision};
use crate::serve::resolve::{Refusal, SitePath};

/// Longest request target accepted; longer ones get 414 (nginx's default buffer is 8 KiB too).
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub const MAX_URI_LEN: usize = 8 * 1024;
/// Files up to this size are read on the runtime's thread on a cache miss; larger ones on the
/// blocking pool, so one big read never stalls other connections.
const READ_INLINE_MAX: u64 = 256 * 1024;

const ALLOW: HeaderValue = HeaderValue::from_static("GET, HEAD, OPTIONS");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const BYTES: HeaderValue = HeaderValue::from_static("bytes");
const CLOSE: HeaderValue = HeaderValue::from_static("close");
const VARY_ENCODING: HeaderValue = HeaderValue::from_static("accept-encoding");
const SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
const REQUIRE_CORP: HeaderValue = HeaderValue::from_static("require-corp");

/// Answers `request` from `config.root`, and says what answered, for the access log. Never
/// fails: every problem becomes a status page.
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub async fn respond_noting<B>(
    config: &Arc<ServerConfig>,
    cache: &Arc<FileCache>,
    feed: &ReloadFeed,
    request: Request<B>,
) -> (Response<Body>, Served) {
    let head = request.method() == Method::HEAD;
    // The head's own faults first (framing, Host count, target length): each is a 4xx
    // whatever else the request says, and a framing fault closes the connection. Then, before
    // anything is looked up, `/__wharf/` included: a foreign Host or a cross-site load.
    let malformed = refuse_head(&request);
    let blocked = match malformed {
        None => guard::refusal(config, &request),
        Some(_) => None,
    };
    let (mut response, served) = match blocked {
        Some(refused) => (refused, Served::Blocked),
        None => {
            let mut noted = Served::Status;
            let mut response = match malformed {
                Some(refused) => refused,
                None => route(config, cache, feed, &request, &mut noted).await,
            };
            add_site_headers(config, &request, response.headers_mut());
            let served = served(&response, noted);
            (response, served)
        }
    };
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
    (response, served)
}

/// `nosniff`, then the site's header settings. Each costs nothing when it is off.
fn add_site_headers<B>(config: &ServerConfig, request: &Request<B>, headers: &mut HeaderMap) {
    headers.insert("x-content-type-options", NOSNIFF);
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
        for rule in config.custom_headers.matching(&path) {
            if !replaced.contains(&&rule.name) {
                headers.remove(&rule.name);
                replaced.push(&rule.name);
            }
            headers.append(rule.name.clone(), rule.value.clone());
        }
    }
}

/// The faults of a request head that make it a 4xx whatever its method (the `hygiene` fuzz
/// target found a POST without Host answered 405 while the method was judged first).
fn refuse_head<B>(request: &Request<B>) -> Option<Response<Body>> {
    if let Some(refusal) = refuse_framing(request) {
        return Some(refusal);
    }
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

/// Answers a well-formed `request`, noting in `noted` when a file or a listing answered.
async fn route<B>(
    config: &Arc<ServerConfig>,
    cache: &Arc<FileCache>,
    feed: &ReloadFeed,
    request: &Request<B>,
    noted: &mut Served,
) -> Response<Body> {
    // Tests prove that a panic costs one request, not the server.
    #[cfg(feature = "fault-injection")]
    if request.headers().contains_key("x-wharf-fault") {
        panic!("fault injected by the request");
    }
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
    let site_path = match SitePath::parse(request.uri().path(), config.show_dotfiles) {
        Ok(path) => path,
        Err(Refusal::Malformed) => return status_page(StatusCode::BAD_REQUEST),
        // Hidden is answered as absent, including by the site's own 404 page.
        Err(Refusal::Hidden) => return not_found(config, cache, request, None, noted).await,
    };
    // Checked on the decoded path, so `/%5F%5Fwharf/` cannot reach a site folder either.
    if let Some((first, rest)) = site_path.segments.split_first() {
        if first == RESERVED_SEGMENT {
            let http2 = request.version() == http::Version::HTTP_2;
            let Some(response) = live_reload::respond(config, feed, rest, http2) else {
                return status_page(StatusCode::NOT_FOUND);
            };
            *noted = Served::LiveReload;
            return response;
        }
    }
    let path = site_path.under(&config.root);
    let hidden = |entry: &CachedFile| !config.show_dotfiles && entry.hidden_below(&config.root);
    let inside = |entry: &CachedFile| {
        // Checked against this snapshot's root on every request: the cache outlives root changes.
        (entry.real_path.starts_with(&config.root) || config.follow_symlinks) && !hidden(entry)
    };
    match lookup(cache, &config.root, &path).await {
        Lookup::Missing => {
            if config.clean_urls && !site_path.trailing_slash && !site_path.segments.is_empty() {
                let mut page = path.into_os_string();
                page.push(".html");
                let page = std::path::PathBuf::from(page);
                if let Lookup::File(entry) = lookup(cache, &config.root, &page).await {
                    if inside(&entry) {
                        *noted = Served::File;
                        return serve_file(config, cache, request, &page, &entry, StatusCode::OK)
                            .await;
                    }
                }
            }
            not_found(config, cache, request, Some(&site_path), noted).await
        }
        // A symlink or an 8.3 name (`/GIT~1/`) that reaches a dot-folder is hidden, as the
        // dotted path would be (issue 13).
        Lookup::File(entry) if hidden(&entry) => {
            not_found(config, cache, request, None, noted).await
        }
        Lookup::Dir {
            hidden_below_root: true,
            ..
        } if !config.show_dotfiles => not_found(config, cache, request, None, noted).await,
        Lookup::Dir { inside_root, .. } if !inside_root && !config.follow_symlinks => {
            not_found(config, cache, request, Some(&site_path), noted).await
        }
        Lookup::Dir { real_path, .. } => {
            if !site_path.trailing_slash && !site_path.segments.is_empty() {
                return redirect(site_path.segments.iter(), true, request.uri().query());
            }
            let index = path.join("index.html");
            if let Lookup::File(entry) = lookup(cache, &config.root, &index).await {
                if inside(&entry) {
                    *noted = Served::File;
                    return serve_file(config, cache, request, &index, &entry, StatusCode::OK)
                        .await;
                }
            }
            if !config.directory_listing {
                return not_found(config, cache, request, Some(&site_path), noted).await;
            }
            *noted = Served::Listing;
            serve_listing(config, cache, &real_path, &site_path, request.uri().query()).await
        }
        Lookup::File(entry) if !inside(&entry) || site_path.trailing_slash => {
            not_found(config, cache, request, Some(&site_path), noted).await
        }
        Lookup::File(entry) => {
            if config.drop_html_extension {
                if let Some(response) = drop_html(cache, config, &site_path, request).await {
                    return response;
                }
            }
            *noted = Served::File;
            serve_file(config, cache, request, &path, &entry, StatusCode::OK).await
        }
    }
}

/// A miss: the SPA fallback for a page navigation, else the site's `404.html`, else a plain
/// 404. `site_path` is `None` for hidden paths, which are never navigations.
async fn not_found<B>(
    config: &ServerConfig,
    cache: &Arc<FileCache>,
    request: &Request<B>,
    site_path: Option<&SitePath>,
    noted: &mut Served,
) -> Response<Body> {
    if config.spa_fallback && site_path.is_some_and(|path| is_navigation(request, path)) {
        let index = config.root.join("index.html");
        if let Some(entry) = site_file(cache, config, &index).await {
            *noted = Served::Fallback;
            return serve_file(config, cache, request, &index, &entry, StatusCode::OK).await;
        }
    }
    let page = config.root.join("404.html");
    if let Some(entry) = site_file(cache, config, &page).await {
        *noted = Served::Fallback;
        return serve_file(config, cache, request, &page, &entry, StatusCode::NOT_FOUND).await;
    }
    status_page(StatusCode::NOT_FOUND)
}

/// A file at the root that may be served: present, and inside the root unless symlinks
/// may lead out.
async fn site_file(
    cache: &Arc<FileCache>,
    config: &ServerConfig,
    path: &Path,
) -> Option<Arc<CachedFile>> {
    match lookup(cache, &config.root, path).await {
        Lookup::File(entry)
            if (entry.real_path.starts_with(&config.root) || config.follow_symlinks)
                && (config.show_dotfiles || !entry.hidden_below(&config.root)) =>
        {
            Some(entry)
        }
        _ => None,
    }
}

/// A browser loading a page, as opposed to a script fetching an asset: GET or HEAD, HTML
/// accepted, and no extension in the last segment (`/app/settings`, not `/app.js`).
fn is_navigation<B>(request: &Request<B>, site_path: &SitePath) -> bool {
    const HTML_TYPE: &[u8] = b"text/html";
    let accepts_html = request
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .any(|value| {
            value
                .as_bytes()
                .windows(HTML_TYPE.len())
                .any(|window| window.eq_ignore_ascii_case(HTML_TYPE))
        });
    let extensionless = site_path
        .segments
        .last()
        .is_none_or(|segment| !segment.contains('.'));
    matches!(*request.method(), Method::GET | Method::HEAD) && accepts_html && extensionless
}

/// With `dropHtmlExtension`: 301 from `/about.html` to `/about`, and from `/docs/index.html`
/// to `/docs/`, when that address would serve this same file (nothing else is named `about`).
async fn drop_html<B>(
    cache: &Arc<FileCache>,
    config: &ServerConfig,
    site_path: &SitePath,
    request: &Request<B>,
) -> Option<Response<Body>> {
    let (last, parents) = site_path.segments.split_last()?;
    let stem = last.strip_suffix(".html").filter(|stem| !stem.is_empty())?;
    let query = request.uri().query();
    if stem == "index" {
        return Some(redirect(parents.iter(), true, query));
    }
    let mut plain = config.root.clone();
    plain.extend(parents);
    plain.push(stem);
    if !matches!(lookup(cache, &config.root, &plain).await, Lookup::Missing) {
        return None;
    }
    let segments = parents.iter().map(String::as_str).chain([stem]);
    Some(redirect(segments, false, query))
}

/// What answered `response`, for the access log: its status first, then what [`route`]
/// noted, then its content coding.
fn served<B>(response: &Response<B>, noted: Served) -> Served {
    match response.status() {
        StatusCode::NOT_MODIFIED => return Served::NotModified,
        StatusCode::PARTIAL_CONTENT => return Served::Range,
        status if status.is_redirection() => return Served::Redirect,
        status if !status.is_success() => return Served::Status,
        _ => {}
    }
    match noted {
        Served::File => match response.headers().get(header::CONTENT_ENCODING) {
            Some(coding) if coding == "br" => Served::Br,
            Some(coding) if coding == "gzip" => Served::Gzip,
            _ => Served::File,
        },
        other => other,
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

/// Stats (and on a miss reads) off the runtime's thread only when the read could be large.
async fn lookup(cache: &Arc<FileCache>, root: &Path, path: &Path) -> Lookup {
    match cache.probe(root, path) {
        Ok(found) => found,
        Err(miss) if miss.len() <= READ_INLINE_MAX => cache.load(root, path, miss),
        Err(miss) => {
            let (cache, root, path) = (Arc::clone(cache), root.to_path_buf(), path.to_path_buf());
            tokio::task::spawn_blocking(move || cache.load(&root, &path, miss))
                .await
                .unwrap_or(Lookup::Missing)
        }
    }
}

/// 301 to `segments` (e.g. from `/docs` to `/docs/`). The Location is rebuilt from the
/// decoded, checked segments, each percent-encoded, so it always starts with one `/` and a
/// non-empty segment and can never point at another host (`//evil.example`, `/\evil`).
fn redirect<'a>(
    segments: impl Iterator<Item = impl AsRef<str> + 'a>,
    trailing_slash: bool,
    query: Option<&str>,
) -> Response<Body> {
    let mut location = String::new();
    for segment in segments {
        location.push('/');
        location.extend(utf8_percent_encode(segment.as_ref(), SEGMENT));
    }
    if trailing_slash || location.is_empty() {
        location.push('/');
    }
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

/// A folder's listing, from the listing cache when nothing under the root has changed, with
/// the live-reload script when live reload is on.
async fn serve_listing(
    config: &ServerConfig,
    cache: &FileCache,
    dir: &Path,
    site_path: &SitePath,
    query: Option<&str>,
) -> Response<Body> {
    let key = ListingKey {
        dir: dir.to_path_buf(),
        segments: site_path.segments.clone(),
        query: ListingQuery::parse(query),
        show_dotfiles: config.show_dotfiles,
        live_reload: config.live_reload,
    };
    let html = match cache.listings.get(&config.root, &key) {
        Some(html) => html,
        None => {
            // Read the epoch before the folder, so a change during rendering makes the page stale.
            let epoch = cache.listings.epoch(&config.root);
            let dir_version = std::fs::metadata(dir).map(|m| FileVersion::of(&m));
            let Ok(entries) = listing::read_entries(dir, &config.root, config.show_dotfiles).await
            else {
                return status_page(StatusCode::NOT_FOUND);
            };
            let page = listing::render(&site_path.segments, &entries, &key.query);
            // The listing reloads too, so a file added or removed shows up in it.
            let html = if config.live_reload {
                live_reload::inject(page.as_bytes())
            } else {
                Bytes::from(page)
            };
            if let (Some(epoch), Ok(dir_version)) = (epoch, dir_version) {
                let newest = entries.iter().filter_map(|e| e.modified).max();
                cache
                    .listings
                    .put(key, epoch, dir_version, newest, html.clone());
            }
            html
        }
    };
    let mut response = Response::new(Body::Full(html));
    response.headers_mut().insert(header::CONTENT_TYPE, HTML);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, config.cache_control.clone());
    response
}

/// The representation chosen for a response: the file itself, a compressed variant, or the
/// page with the live-reload script (and its compressed variants).
struct Representation {
    encoding: Encoding,
    /// The variant's own body, when it is not the file's.
    body: Option<Bytes>,
    etag: HeaderValue,
}

/// Serves `entry` (found at `path`) with `status`: 200 for a page, with validators,
/// preconditions, ranges and codings; or 404 for the site's `404.html`, which is sent whole
/// and without validators, because preconditions and ranges are about the resource asked for.
async fn serve_file<B>(
    config: &ServerConfig,
    cache: &Arc<FileCache>,
    request: &Request<B>,
    path: &Path,
    entry: &Arc<CachedFile>,
    status: StatusCode,
) -> Response<Body> {
    let headers = request.headers();
    let page = status == StatusCode::OK;
    let compressible = config.compression && encoding::is_compressible(&entry.content_type);
    let wants_range = page && headers.contains_key(header::RANGE);
    // A range is always of the file as it is on disk: never compressed, never injected.
    let injected =
        if config.live_reload && !wants_range && live_reload::is_html(&entry.content_type) {
            entry.injected(live_reload::inject)
        } else {
            None
        };
    let chosen = if let Some(injected) = injected {
        choose_injected(compressible, headers, entry, injected)
    } else if compressible && !wants_range {
        choose_encoding(config, cache, headers, path, entry).await
    } else {
        Representation {
            encoding: Encoding::Identity,
            body: None,
            etag: entry.etag.clone(),
        }
    };

    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, config.cache_control.clone());
    if compressible {
        out.insert(header::VARY, VARY_ENCODING);
    }
    if !page {
        out.insert(header::CONTENT_TYPE, entry.content_type.clone());
        if let Some(token) = chosen.encoding.token() {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        }
        return match chosen.body {
            Some(body) => with_headers(status, out, Body::Full(body)),
            None => match full_body(entry).await {
                Some(body) => with_headers(status, out, body),
                None => status_page(status),
            },
        };
    }
    out.insert(header::ETAG, chosen.etag.clone());
    if let Some(last_modified) = &entry.last_modified {
        out.insert(header::LAST_MODIFIED, last_modified.clone());
    }

    let validators = Validators {
        etag: chosen.etag.to_str().ok(),
        last_modified: entry.modified,
    };
    match conditional::evaluate(request.method(), headers, &validators) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return with_headers(StatusCode::NOT_MODIFIED, out, Body::Empty)
        }
        Precondition::Failed => {
            return with_headers(StatusCode::PRECONDITION_FAILED, out, Body::Empty)
        }
    }

    out.insert(header::CONTENT_TYPE, entry.content_type.clone());
    if let Some(token) = chosen.encoding.token() {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        let body = chosen.body.unwrap_or_default();
        return with_headers(StatusCode::OK, out, Body::Full(body));
    }
    // The page with the script: ranges of it are not offered (a range gets the file itself).
    if let Some(body) = chosen.body {
        return with_headers(StatusCode::OK, out, Body::Full(body));
    }
    out.insert(header::ACCEPT_RANGES, BYTES);

    let decision = if wants_range && conditional::if_range_allows(headers, &validators) {
        range::decide(headers.get(header::RANGE), entry.len)
    } else {
        RangeDecision::Full
    };
    match decision {
        RangeDecision::Full => match full_body(entry).await {
            Some(body) => with_headers(StatusCode::OK, out, body),
            None => status_page(StatusCode::NOT_FOUND),
        },
        RangeDecision::Unsatisfiable => {
            out.insert(
                header::CONTENT_RANGE,
                header_value(&range::unsatisfied_content_range(entry.len)),
            );
            with_headers(StatusCode::RANGE_NOT_SATISFIABLE, out, Body::Empty)
        }
        RangeDecision::Partial(ranges) if ranges.len() == 1 => {
            let part = ranges[0];
            out.insert(
                header::CONTENT_RANGE,
                header_value(&part.content_range(entry.len)),
            );
            match slice_body(entry, part.start, part.len()).await {
                Some(body) => with_headers(StatusCode::PARTIAL_CONTENT, out, body),
                None => status_page(StatusCode::NOT_FOUND),
            }
        }
        RangeDecision::Partial(ranges) => match &entry.body {
            Some(body) => {
                let content_type = entry
                    .content_type
                    .to_str()
                    .unwrap_or("application/octet-stream");
                let layout = range::multipart_layout(
                    &ranges,
                    entry.len,
                    content_type,
                    &range::multipart_boundary(),
                );
                let mut buf = BytesMut::with_capacity(layout.content_length() as usize);
                for (part_head, part) in layout.parts() {
                    buf.extend_from_slice(part_head);
                    buf.extend_from_slice(&body[part.start as usize..=part.end as usize]);
                }
                buf.extend_from_slice(&layout.closing());
                out.insert(header::CONTENT_TYPE, header_value(&layout.content_type()));
                with_headers(StatusCode::PARTIAL_CONTENT, out, Body::Full(buf.freeze()))
            }
            // Several ranges of a file too big to keep in memory: RFC 9110 §14.2 lets us send
            // the whole file instead, which players never ask for anyway.
            None => match full_body(entry).await {
                Some(body) => with_headers(StatusCode::OK, out, body),
                None => status_page(StatusCode::NOT_FOUND),
            },
        },
    }
}

/// Picks the best coding the client accepts: a precompressed sibling (`app.js.br`) that is
/// at least as new as the file, else the body compressed in memory, else the file itself.
async fn choose_encoding(
    config: &ServerConfig,
    cache: &Arc<FileCache>,
    headers: &HeaderMap,
    path: &Path,
    entry: &CachedFile,
) -> Representation {
    for encoding in encoding::preferences(headers) {
        let Some(suffix) = encoding.suffix() else {
            break;
        };
        if let Some(body) = precompressed(cache, &config.root, path, suffix, entry).await {
            return variant(encoding, body, entry, "p");
        }
        let compressed = match encoding {
            Encoding::Brotli => entry.brotli(),
            Encoding::Gzip => entry.gzip(),
            Encoding::Identity => None,
        };
        if let Some(body) = compressed {
            return variant(encoding, body.clone(), entry, "c");
        }
    }
    Representation {
        encoding: Encoding::Identity,
        body: None,
        etag: entry.etag.clone(),
    }
}

/// The page with the live-reload script, compressed on the fly when the client accepts it.
/// Precompressed `.br`/`.gz` siblings of HTML are skipped: they hold the page without the
/// script. Its validators differ from the file's (`-lr` inside the quotes), so a cache never
/// mixes the two.
fn choose_injected(
    compressible: bool,
    headers: &HeaderMap,
    entry: &CachedFile,
    injected: &crate::files::cache::Rewritten,
) -> Representation {
    let base = entry.etag.to_str().unwrap_or("\"0\"").trim_end_matches('"');
    if compressible {
        for encoding in encoding::preferences(headers) {
            let body = match encoding {
                Encoding::Brotli => injected.brotli(),
                Encoding::Gzip => injected.gzip(),
                Encoding::Identity => break,
            };
            if let (Some(body), Some(token)) = (body, encoding.token()) {
                return Representation {
                    encoding,
                    body: Some(body.clone()),
                    etag: header_value(&format!("{base}-lr-{token}c\"")),
                };
            }
        }
    }
    Representation {
        encoding: Encoding::Identity,
        body: Some(injected.body.clone()),
        etag: header_value(&format!("{base}-lr\"")),
    }
}

/// Each representation has its own strong validator (RFC 9110 §8.8.3): the file's tag with
/// the coding and its origin appended inside the quotes.
fn variant(encoding: Encoding, body: Bytes, entry: &CachedFile, origin: &str) -> Representation {
    let base = entry.etag.to_str().unwrap_or("\"0\"").trim_end_matches('"');
    let token = encoding.token().unwrap_or("identity");
    Representation {
        encoding,
        body: Some(body),
        etag: header_value(&format!("{base}-{token}{origin}\"")),
    }
}

/// The precompressed sibling (`app.js.br`), through the same never-stale cache as every file,
/// so it is read once per version and, like any file, never followed out of the root. A sibling
/// older than the file it compresses is stale and ignored.
async fn precompressed(
    cache: &Arc<FileCache>,
    root: &Path,
    path: &Path,
    suffix: &str,
    entry: &CachedFile,
) -> Option<Bytes> {
    let mut sibling = path.as_os_str().to_os_string();
    sibling.push(suffix);
    let Lookup::File(found) = lookup(cache, root, Path::new(&sibling)).await else {
        return None;
    };
    let usable = found.real_path.starts_with(root)
        && !found.hidden_below(root)
        && found.modified >= entry.modified;
    if usable {
        found.body.clone()
    } else {
        None
    }
}

async fn full_body(entry: &CachedFile) -> Option<Body> {
    match &entry.body {
        Some(body) => Some(Body::Full(body.clone())),
        None => slice_body(entry, 0, entry.len).await,
    }
}

/// `len` bytes from `start`: a zero-copy slice of the cached body, or a stream from disk.
async fn slice_body(entry: &CachedFile, start: u64, len: u64) -> Option<Body> {
    if let Some(body) = &entry.body {
        return Some(Body::Full(
            body.slice(start as usize..(start + len) as usize),
        ));
    }
    let mut file = tokio::fs::File::open(&entry.real_path).await.ok()?;
    if start > 0 {
        use tokio::io::AsyncSeekExt;
        file.seek(std::io::SeekFrom::Start(start)).await.ok()?;
    }
    Some(Body::file(file, len))
}

fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn header_value(text: &str) -> HeaderValue {
    // Only ever called with text we formatted from numbers and tokens.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(""))
}

/// The answer to a request whose handling panicked: 500, and the connection closes.
pub(crate) fn internal_error() -> Response<Body> {
    let mut response = status_page(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONNECTION, CLOSE);
    response
        .headers_mut()
        .insert("x-content-type-options", NOSNIFF);
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
