//! Rendered folder listings, kept per server while nothing under the served root changes.
//!
//! A page stays valid while the server's [`SiteWatch`] has counted no change and the folder's
//! own `stat` is unchanged: a listing shows file sizes and dates, which a folder's `stat` does
//! not cover, so without a working watch nothing is cached. The watch is the supervisor's;
//! this cache subscribes to its change count. Pages are keyed on what a page shows (the
//! parsed sort, order and filter), so junk query parameters never add pages, and they are
//! bounded by bytes ([`MAX_LISTING_TOTAL`], issue 13): over its budget the cache starts over.
//!
//! The service (`serve::service`) renders the pages and calls this cache; this module keeps
//! bytes and decides when they are stale, nothing else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use bytes::Bytes;

use crate::files::cache::{FileVersion, RACY_WINDOW};
use crate::files::watcher::SiteWatch;
use crate::serve::listing::ListingQuery;

/// Total bytes of rendered listing pages kept per server before the listing cache starts
/// over. A page of a 5,000-file folder is about 1 MiB.
pub(crate) const MAX_LISTING_TOTAL: u64 = 32 * 1024 * 1024;

/// The listing pages of one server, valid while its site watch has seen no change.
#[derive(Debug)]
pub(crate) struct ListingCache {
    watch: Arc<SiteWatch>,
    pages: RwLock<Pages>,
}

/// The listing pages kept, the root they were rendered under, and their size in bytes.
#[derive(Debug, Default)]
struct Pages {
    root: PathBuf,
    map: HashMap<ListingKey, CachedListing>,
    bytes: u64,
}

/// Everything a rendered page depends on, and nothing else: two requests that would render
/// the same page share one entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ListingKey {
    /// The folder's real path.
    pub dir: PathBuf,
    /// The decoded path segments it was asked for (shown in the page).
    pub segments: Vec<String>,
    /// The sort, order and filter, as parsed: unknown parameters are not part of it.
    pub query: ListingQuery,
    /// Whether dotfiles are listed.
    pub show_dotfiles: bool,
    /// Whether the page carries the live-reload script.
    pub live_reload: bool,
}

#[derive(Debug)]
struct CachedListing {
    epoch: u64,
    dir_version: FileVersion,
    html: Bytes,
}

impl Default for ListingCache {
    /// A cache with a watch of its own (tests, and a `FileCache` made outside a server).
    fn default() -> ListingCache {
        ListingCache::new(Arc::default())
    }
}

impl ListingCache {
    /// An empty cache whose pages stay valid while `watch` counts no change.
    pub(crate) fn new(watch: Arc<SiteWatch>) -> ListingCache {
        ListingCache {
            watch,
            pages: RwLock::default(),
        }
    }

    /// The watch's change count for `root` (starting the watch on first use or after a root
    /// change); `None` when the folder is not watched (yet). A page rendered from a folder
    /// read after this call is [`ListingCache::put`] with it.
    pub(crate) fn epoch(&self, root: &Path) -> Option<u64> {
        let pages = self.pages.read().unwrap_or_else(|p| p.into_inner());
        if pages.root != root {
            drop(pages);
            let mut pages = self.pages.write().unwrap_or_else(|p| p.into_inner());
            // A new root: earlier pages belong to another watch.
            *pages = Pages {
                root: root.to_path_buf(),
                ..Pages::default()
            };
        }
        self.watch.epoch(root)
    }

    /// The cached page for `key`, if nothing changed since it was rendered.
    pub(crate) fn get(&self, root: &Path, key: &ListingKey) -> Option<Bytes> {
        let epoch = self.epoch(root)?;
        let dir_version = FileVersion::of(&std::fs::metadata(&key.dir).ok()?);
        let pages = self.pages.read().unwrap_or_else(|p| p.into_inner());
        let page = pages.map.get(key)?;
        (page.epoch == epoch && page.dir_version == dir_version).then(|| page.html.clone())
    }

    /// Keeps a page rendered from a folder read when the watcher stood at `epoch`. Pages
    /// that show a file modified within [`RACY_WINDOW`] are not kept.
    pub(crate) fn put(
        &self,
        key: ListingKey,
        epoch: u64,
        dir_version: FileVersion,
        newest: Option<SystemTime>,
        html: Bytes,
    ) {
        let racy = newest
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_none_or(|age| age < RACY_WINDOW);
        if racy && newest.is_some() {
            return;
        }
        let len = html.len() as u64;
        if len > MAX_LISTING_TOTAL / 4 {
            // One page would crowd out the rest: render it each time instead.
            return;
        }
        let mut pages = self.pages.write().unwrap_or_else(|p| p.into_inner());
        if pages.bytes + len > MAX_LISTING_TOTAL {
            pages.map.clear();
            pages.bytes = 0;
        }
        let page = CachedListing {
            epoch,
            dir_version,
            html,
        };
        if let Some(old) = pages.map.insert(key, page) {
            pages.bytes -= old.html.len() as u64;
        }
        pages.bytes += len;
    }

    /// Bytes of the pages kept, at most [`MAX_LISTING_TOTAL`].
    pub(crate) fn bytes(&self) -> u64 {
        self.pages.read().unwrap_or_else(|p| p.into_inner()).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn listings_are_cached_only_once_the_watcher_runs_and_until_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dunce::canonicalize(dir.path()).unwrap();
        let listings = ListingCache::default();
        assert_eq!(
            listings.epoch(&root),
            None,
            "the watch starts off the request's thread"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let epoch = loop {
            if let Some(epoch) = listings.epoch(&root) {
                break epoch;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the watcher never started"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let key = ListingKey {
            dir: root.clone(),
            segments: Vec::new(),
            query: ListingQuery::default(),
            show_dotfiles: false,
            live_reload: false,
        };
        let version = FileVersion::of(&std::fs::metadata(&root).unwrap());
        let old = SystemTime::now() - Duration::from_secs(60);
        listings.put(
            key.clone(),
            epoch,
            version,
            Some(old),
            Bytes::from_static(b"page"),
        );
        assert_eq!(listings.get(&root, &key).as_deref(), Some(&b"page"[..]));

        std::fs::create_dir(root.join("new-folder")).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while listings.get(&root, &key).is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "a change never invalidated the page"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_listing_cache_is_bounded_by_bytes() {
        let listings = ListingCache::default();
        let old = SystemTime::now() - Duration::from_secs(60);
        let version = FileVersion::of(&std::fs::metadata(".").unwrap());
        let page = Bytes::from(vec![b'x'; 1 << 20]);
        for n in 0..100 {
            let key = ListingKey {
                dir: PathBuf::from("/site"),
                segments: Vec::new(),
                query: ListingQuery::parse(Some(&format!("q={n}"))),
                show_dotfiles: false,
                live_reload: false,
            };
            listings.put(key, 1, version, Some(old), page.clone());
            assert!(listings.bytes() <= MAX_LISTING_TOTAL, "after {n}");
        }
        assert!(listings.bytes() > 0);
        let huge = Bytes::from(vec![b'x'; MAX_LISTING_TOTAL as usize / 2]);
        let before = listings.bytes();
        let key = ListingKey {
            dir: PathBuf::from("/site"),
            segments: vec!["huge".into()],
            query: ListingQuery::default(),
            show_dotfiles: false,
            live_reload: false,
        };
        listings.put(key, 1, version, Some(old), huge);
        assert_eq!(
            listings.bytes(),
            before,
            "a page that would crowd out the rest is not kept"
        );
    }
}
