//! A request that names a folder: the redirect to its address with a trailing `/`, its
//! `index.html`, or its listing (from the listing cache while nothing under the root has
//! changed, with the live-reload script when live reload is on), or a miss.
//!
//! The listing's HTML is `listing`'s; whether a folder may be answered at all (inside the
//! root, not hidden) is decided by `route` before it comes here.

use std::path::Path;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use crate::config::ServerConfig;
use crate::files::cache::{FileCache, FileVersion, Lookup};
use crate::files::listing_cache::ListingKey;
use crate::http::body::Body;
use crate::live_reload;
use crate::observe::access::Served;
use crate::observe::why::Route;
use crate::serve::listing::{self, ListingQuery};
use crate::serve::resolve::SitePath;
use crate::serve::route::{self, Answer, Visit};
use crate::serve::service::status_page;

const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// Answers the folder found at `path` (its real path `real_path`).
pub(super) async fn answer<B>(
    visit: &Visit<'_, B>,
    site_path: &SitePath,
    path: &Path,
    real_path: &Path,
) -> Answer {
    let config = visit.config;
    if !site_path.trailing_slash && !site_path.segments.is_empty() {
        let query = visit.request.uri().query();
        let response = route::redirect(site_path.segments.iter(), true, query);
        visit.why.route(Route::RedirectSlash);
        return (response, Served::Redirect);
    }
    let index = path.join("index.html");
    if let Lookup::File(entry) = visit.lookup(&index).await {
        if route::may_serve(config, &entry) {
            visit.why.route(Route::Index);
            return route::file_answer(visit, &index, &entry, Served::File).await;
        }
    }
    if !config.directory_listing {
        return route::not_found(visit, Some(site_path)).await;
    }
    let query = visit.request.uri().query();
    let response = serve_listing(config, visit.cache, real_path, site_path, query).await;
    visit.why.route(Route::Listing);
    (response, Served::Listing)
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
        None => match render(config, cache, dir, site_path, key).await {
            Some(html) => html,
            None => return status_page(StatusCode::NOT_FOUND),
        },
    };
    let mut response = Response::new(Body::Full(html));
    response.headers_mut().insert(header::CONTENT_TYPE, HTML);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, config.cache_control.clone());
    response
}

/// Reads and renders the listing of `dir`, and keeps it in the listing cache under `key`.
/// `None` if the folder cannot be read.
async fn render(
    config: &ServerConfig,
    cache: &FileCache,
    dir: &Path,
    site_path: &SitePath,
    key: ListingKey,
) -> Option<Bytes> {
    // Read the epoch before the folder, so a change during rendering makes the page stale.
    let epoch = cache.listings.epoch(&config.root);
    let dir_version = std::fs::metadata(dir).map(|m| FileVersion::of(&m));
    let entries = listing::read_entries(dir, &config.root, config.show_dotfiles)
        .await
        .ok()?;
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
    Some(html)
}
