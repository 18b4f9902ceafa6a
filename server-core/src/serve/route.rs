//! Routing: which resource answers a well-formed request, and what answered it.
//!
//! Before everything here, [`proxied`] says whether a proxy rule takes the request: a
//! matching rule wins over files, clean URLs and the SPA fallback, and over the method check
//! (the target answers POST and the rest), but never takes `/__wharf/`. Then the method (GET and HEAD are served, OPTIONS is answered, the rest get 405), then
//! the URL path through [`SitePath`], then the reserved `/__wharf/` prefix (to
//! `live_reload`), then the file system through the cache. A miss goes through the site's
//! routing helpers, in this order: the real file, then the clean URL (`/about` →
//! `about.html`), then the SPA fallback (the root `index.html`), then the site's `404.html`,
//! then a plain 404. Every candidate passes [`may_serve`]: this is where a file whose real
//! path leaves the root (a symlink) or passes through a dot-folder is refused, since only
//! here are the cache's real paths compared with this snapshot's root and settings. Folders
//! are `folder`'s, files `file`'s. It returns what answered as data, for the access log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use percent_encoding::utf8_percent_encode;

use crate::config::ServerConfig;
use crate::files::cache::{CachedFile, FileCache, Lookup};
use crate::http::body::Body;
use crate::lifecycle::ca;
use crate::live_reload::{self, ReloadFeed, RESERVED_SEGMENT};
use crate::observe::access::Served;
use crate::observe::timing::Moment;
use crate::observe::why::{Deciding, Route};
use crate::serve::encoding::Encoding;
use crate::serve::file::serve_file;
use crate::serve::folder;
use crate::serve::listing::SEGMENT;
use crate::serve::resolve::{lies_in, Refusal, SitePath};
use crate::serve::service::status_page;

/// Files up to this size are read on the runtime's thread on a cache miss; larger ones on the
/// blocking pool, so one big read never stalls other connections.
const READ_INLINE_MAX: u64 = 256 * 1024;

const ALLOW: HeaderValue = HeaderValue::from_static("GET, HEAD, OPTIONS");

/// One request against the site, under one config snapshot.
pub(super) struct Visit<'a, B> {
    pub(super) config: &'a Arc<ServerConfig>,
    pub(super) cache: &'a Arc<FileCache>,
    pub(super) request: &'a Request<B>,
    /// The decisions made so far, for the access record (`observe::why`).
    pub(super) why: Deciding,
    /// When the route's last lookup ended, for the request's timeline (`observe::timing`).
    pub(super) resolved: Moment,
}

impl<B> Visit<'_, B> {
    /// [`lookup`] under the snapshot's root, noting when it ended (`resolved`).
    pub(super) async fn lookup(&self, path: &Path) -> Lookup {
        let found = lookup(self.cache, &self.config.root, path).await;
        self.resolved.now();
        found
    }
}

/// A response, and what produced it (before its status has a say, see `service::served`).
pub(super) type Answer = (Response<Body>, Served);

/// The index of the proxy rule that takes `request`, if any (see the module's doc).
pub(crate) fn proxied<B>(config: &ServerConfig, request: &Request<B>) -> Option<usize> {
    if config.proxy.is_empty() {
        return None;
    }
    let path = request.uri().path();
    // Decoded, so `/%5F%5Fwharf/` is Wharf's too.
    if crate::http::guard::is_wharf_path(path) {
        return None;
    }
    config.proxy.matching(path)
}

/// Answers a well-formed request.
pub(super) async fn route<B>(visit: &Visit<'_, B>, feed: &ReloadFeed) -> Answer {
    let (config, request) = (visit.config, visit.request);
    // Tests prove that a panic costs one request, not the server.
    #[cfg(feature = "fault-injection")]
    if request.headers().contains_key("x-wharf-fault") {
        panic!("fault injected by the request");
    }
    if let Some(response) = answer_method(request.method()) {
        visit.why.route(Route::Method);
        return (response, Served::Status);
    }
    let site_path = match SitePath::parse(request.uri().path(), config.show_dotfiles) {
        Ok(path) => path,
        Err(Refusal::Malformed) => {
            visit.why.route(Route::Malformed);
            return (status_page(StatusCode::BAD_REQUEST), Served::Status);
        }
        // Hidden is answered as absent, including by the site's own 404 page.
        Err(Refusal::Hidden) => return Box::pin(hidden(visit, Route::Hidden)).await,
    };
    // Checked on the decoded path, so `/%5F%5Fwharf/` cannot reach a site folder either.
    if let Some((first, rest)) = site_path.segments.split_first() {
        if first == RESERVED_SEGMENT {
            visit.why.route(Route::Reserved);
            if let [name] = rest {
                if name == ca::DOWNLOAD_NAME {
                    return Box::pin(ca_certificate(config)).await;
                }
            }
            let http2 = request.version() == http::Version::HTTP_2;
            return match live_reload::respond(config, feed, rest, http2) {
                Some(response) => (response, Served::LiveReload),
                None => (status_page(StatusCode::NOT_FOUND), Served::Status),
            };
        }
    }
    let path = site_path.under(&config.root);
    // Every branch but a file's is boxed: a future is as large as its largest state, and the
    // file's is the one that must cost little (issue 17).
    match visit.lookup(&path).await {
        Lookup::Missing => Box::pin(missing(visit, &site_path, path)).await,
        Lookup::File(entry) => file(visit, &site_path, &path, &entry).await,
        Lookup::Dir {
            real_path,
            inside_root,
            hidden_below_root,
        } => {
            // A symlink or an 8.3 name (`/GIT~1/`) that reaches a dot-folder is hidden, as the
            // dotted path would be (issue 13).
            if hidden_below_root && !config.show_dotfiles {
                Box::pin(hidden(visit, Route::Hidden)).await
            } else if !inside_root && !config.follow_symlinks {
                visit.why.route(Route::OutsideRoot);
                Box::pin(not_found(visit, Some(&site_path))).await
            } else {
                Box::pin(folder::answer(visit, &site_path, &path, &real_path)).await
            }
        }
    }
}

/// `/__wharf/ca.crt`: the certificate (never the key) of the local CA that signs the site's
/// HTTPS certificate, in DER as `application/x-x509-ca-cert`, which iOS and Android offer to
/// install from a browser download. 404 without a certificate folder or a CA in it.
async fn ca_certificate(config: &ServerConfig) -> Answer {
    let der = match &config.cert_dir {
        Some(dir) => tokio::fs::read(dir.join(ca::CA_CERT_FILE))
            .await
            .ok()
            .and_then(|pem| {
                use rustls::pki_types::pem::PemObject;
                rustls::pki_types::CertificateDer::from_pem_slice(&pem).ok()
            }),
        None => None,
    };
    let Some(der) = der else {
        return (status_page(StatusCode::NOT_FOUND), Served::Status);
    };
    let mut response = Response::new(Body::from(bytes::Bytes::from(der.to_vec())));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-x509-ca-cert"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"wharf-ca.crt\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    (response, Served::File)
}

/// The answer to a method other than GET and HEAD: OPTIONS gets 204, the rest 405.
fn answer_method(method: &Method) -> Option<Response<Body>> {
    let mut response = match *method {
        Method::GET | Method::HEAD => return None,
        Method::OPTIONS => {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        _ => status_page(StatusCode::METHOD_NOT_ALLOWED),
    };
    response.headers_mut().insert(header::ALLOW, ALLOW);
    Some(response)
}

/// Nothing at `path`: the clean URL's page if there is one, else a miss.
async fn missing<B>(visit: &Visit<'_, B>, site_path: &SitePath, path: PathBuf) -> Answer {
    let config = visit.config;
    if config.clean_urls && !site_path.trailing_slash && !site_path.segments.is_empty() {
        let mut page = path.into_os_string();
        page.push(".html");
        let page = PathBuf::from(page);
        if let Lookup::File(entry) = visit.lookup(&page).await {
            if may_serve(config, &entry) {
                visit.why.route(Route::CleanUrl);
                return file_answer(visit, &page, &entry, Served::File).await;
            }
        }
    }
    not_found(visit, Some(site_path)).await
}

/// A file at `path`: served, unless it is refused or answered with a redirect.
async fn file<B>(
    visit: &Visit<'_, B>,
    site_path: &SitePath,
    path: &Path,
    entry: &Arc<CachedFile>,
) -> Answer {
    let config = visit.config;
    // A symlink or an 8.3 name that reaches a dotfile is hidden, as the dotted path would be.
    if !config.show_dotfiles && entry.hidden_below(&config.root) {
        return Box::pin(hidden(visit, Route::Hidden)).await;
    }
    if !may_serve(config, entry) || site_path.trailing_slash {
        if !site_path.trailing_slash {
            visit.why.route(Route::OutsideRoot);
        }
        return Box::pin(not_found(visit, Some(site_path))).await;
    }
    if config.drop_html_extension {
        if let Some(response) = Box::pin(drop_html(visit, site_path)).await {
            visit.why.route(Route::RedirectHtml);
            return (response, Served::Redirect);
        }
    }
    visit.why.route(Route::File);
    file_answer(visit, path, entry, Served::File).await
}

/// `entry` served as a page (200), noted as `what` answered: a file, or a fallback. A file
/// sent with a content coding is noted as that coding.
pub(super) async fn file_answer<B>(
    visit: &Visit<'_, B>,
    path: &Path,
    entry: &Arc<CachedFile>,
    what: Served,
) -> Answer {
    let (response, encoding) = serve_file(visit, path, entry, StatusCode::OK).await;
    let served = match (what, encoding) {
        (Served::File, Encoding::Brotli) => Served::Br,
        (Served::File, Encoding::Gzip) => Served::Gzip,
        (what, _) => what,
    };
    (response, served)
}

/// Whether the cache's `entry` may be served under this snapshot: inside the root unless
/// symlinks may lead out, and below no dot-folder unless dotfiles are shown. Checked against
/// this snapshot's root on every request: the cache outlives root changes.
pub(super) fn may_serve(config: &ServerConfig, entry: &CachedFile) -> bool {
    (lies_in(&entry.real_path, &config.root) || config.follow_symlinks)
        && (config.show_dotfiles || !entry.hidden_below(&config.root))
}

/// A path hidden from the site (a dotfile, a dot-folder), answered as a miss that is never a
/// navigation, noted as `why`.
async fn hidden<B>(visit: &Visit<'_, B>, why: Route) -> Answer {
    visit.why.route(why);
    not_found(visit, None).await
}

/// A miss: the SPA fallback for a page navigation, else the site's `404.html`, else a plain
/// 404. `site_path` is `None` for hidden paths, which are never navigations. A miss already
/// noted as hidden or outside the root keeps that note.
pub(super) async fn not_found<B>(visit: &Visit<'_, B>, site_path: Option<&SitePath>) -> Answer {
    let config = visit.config;
    if config.spa_fallback && site_path.is_some_and(|path| is_navigation(visit.request, path)) {
        let index = config.root.join("index.html");
        if let Some(entry) = site_file(visit, &index).await {
            visit.why.route(Route::SpaFallback);
            return file_answer(visit, &index, &entry, Served::Fallback).await;
        }
    }
    let refused = matches!(visit.why.get().route, Route::Hidden | Route::OutsideRoot);
    let page = config.root.join("404.html");
    if let Some(entry) = site_file(visit, &page).await {
        if !refused {
            visit.why.route(Route::NotFoundPage);
        }
        let (response, _) = serve_file(visit, &page, &entry, StatusCode::NOT_FOUND).await;
        return (response, Served::Fallback);
    }
    if !refused {
        visit.why.route(Route::NotFound);
    }
    (status_page(StatusCode::NOT_FOUND), Served::Status)
}

/// A file at the root that may be served.
async fn site_file<B>(visit: &Visit<'_, B>, path: &Path) -> Option<Arc<CachedFile>> {
    match visit.lookup(path).await {
        Lookup::File(entry) if may_serve(visit.config, &entry) => Some(entry),
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
async fn drop_html<B>(visit: &Visit<'_, B>, site_path: &SitePath) -> Option<Response<Body>> {
    let (last, parents) = site_path.segments.split_last()?;
    let stem = last.strip_suffix(".html").filter(|stem| !stem.is_empty())?;
    let query = visit.request.uri().query();
    if stem == "index" {
        return Some(redirect(parents.iter(), true, query));
    }
    let root = &visit.config.root;
    let mut plain = root.clone();
    plain.extend(parents);
    plain.push(stem);
    if !matches!(visit.lookup(&plain).await, Lookup::Missing) {
        return None;
    }
    let segments = parents.iter().map(String::as_str).chain([stem]);
    Some(redirect(segments, false, query))
}

/// Stats (and on a miss reads) off the runtime's thread only when the read could be large.
pub(super) async fn lookup(cache: &Arc<FileCache>, root: &Path, path: &Path) -> Lookup {
    match cache.probe(root, path) {
        Ok(found) => found,
        Err(miss) if miss.len() <= READ_INLINE_MAX => cache.load(root, path, miss),
        Err(miss) => {
            let (cache, root, path) = (Arc::clone(cache), root.to_path_buf(), path.to_path_buf());
            // Boxed, so that a lookup's future is small when it answers from memory.
            Box::pin(tokio::task::spawn_blocking(move || {
                cache.load(&root, &path, miss)
            }))
            .await
            .unwrap_or(Lookup::Missing)
        }
    }
}

/// 301 to `segments` (e.g. from `/docs` to `/docs/`). The Location is rebuilt from the
/// decoded, checked segments, each percent-encoded, so it always starts with one `/` and a
/// non-empty segment and can never point at another host (`//evil.example`, `/\evil`).
pub(super) fn redirect<'a>(
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
