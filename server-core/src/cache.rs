//! An in-memory cache of file bodies and their response headers, shared by every connection
//! of one server, that is never stale.
//!
//! Each lookup costs one `stat` of the requested path (following symlinks). The entry is used
//! only if the file's identity and version — device, inode, size, mtime and ctime, to the
//! nanosecond — are unchanged; otherwise it is rebuilt from disk. A rename or a symlink swap
//! changes the inode or the ctime, so a cached entry can never be reached through a new route
//! that would escape the root. Files modified within the last [`RACY_WINDOW`] are not cached
//! at all: file systems stamp times with a coarse clock, so two writes of the same size within
//! one tick could otherwise look identical (git's "racily clean" problem).
//!
//! This module reads files; it does not decide HTTP semantics.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderValue;
use tokio::sync::broadcast;

use crate::live_reload;
use crate::mime;
use crate::watcher::{Changes, SiteWatcher, CHANGE_BUFFER};

/// Files modified more recently than this are read from disk on every request.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);
/// Largest file whose body is kept in memory.
pub const MAX_CACHED_FILE: u64 = 16 * 1024 * 1024;
/// Total body bytes kept in memory per server before the cache starts over.
pub const MAX_CACHED_TOTAL: u64 = 256 * 1024 * 1024;

/// What identifies one version of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileVersion {
    /// The version described by `meta`.
    pub fn of(meta: &Metadata) -> FileVersion {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileVersion {
                dev: meta.dev(),
                ino: meta.ino(),
                len: meta.len(),
                mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
                ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            }
        }
        #[cfg(not(unix))]
        {
            let nanos = |t: io::Result<SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as i128)
            };
            FileVersion {
                dev: 0,
                ino: 0,
                len: meta.len(),
                mtime_ns: nanos(meta.modified()),
                ctime_ns: nanos(meta.created()),
            }
        }
    }
}

/// A file ready to serve: validators, type and (for files that fit) the body.
#[derive(Debug)]
pub struct CachedFile {
    /// The file's real path, symlinks resolved.
    pub real_path: PathBuf,
    /// The version this entry describes.
    pub version: FileVersion,
    /// Size in bytes.
    pub len: u64,
    /// Modification time.
    pub modified: Option<SystemTime>,
    /// Strong validator, quoted.
    pub etag: HeaderValue,
    /// `Last-Modified` value, if the file system reports a time.
    pub last_modified: Option<HeaderValue>,
    /// `Content-Type` value.
    pub content_type: HeaderValue,
    /// The whole body, when it is small enough to keep.
    pub body: Option<Bytes>,
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
    injected: OnceLock<Option<Rewritten>>,
}

/// A body rewritten for live reload (the script added), with its own compressed variants.
#[derive(Debug)]
pub struct Rewritten {
    /// The rewritten body.
    pub body: Bytes,
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
}

impl Rewritten {
    /// The rewritten body compressed with gzip, once; `None` if it does not shrink.
    pub fn gzip(&self) -> Option<&Bytes> {
        self.gzip.get_or_init(|| compress_gzip(&self.body)).as_ref()
    }

    /// The rewritten body compressed with Brotli, once; `None` if it does not shrink.
    pub fn brotli(&self) -> Option<&Bytes> {
        self.brotli
            .get_or_init(|| compress_brotli(&self.body))
            .as_ref()
    }
}

impl CachedFile {
    /// The body with the live-reload script added, computed once per version; `None` for
    /// files too big to keep in memory.
    pub fn injected(&self) -> Option<&Rewritten> {
        let body = self.body.as_ref()?;
        self.injected
            .get_or_init(|| {
                Some(Rewritten {
                    body: live_reload::inject(body),
                    gzip: OnceLock::new(),
                    brotli: OnceLock::new(),
                })
            })
            .as_ref()
    }

    /// The body compressed with gzip, computed once per version; `None` if it does not shrink.
    pub fn gzip(&self) -> Option<&Bytes> {
        let body = self.body.as_ref()?;
        self.gzip.get_or_init(|| compress_gzip(body)).as_ref()
    }

    /// The body compressed with Brotli, computed once per version; `None` if it does not shrink.
    pub fn brotli(&self) -> Option<&Bytes> {
        let body = self.body.as_ref()?;
        self.brotli.get_or_init(|| compress_brotli(body)).as_ref()
    }
}

/// What a [`FileCache::probe`] could not answer from memory.
#[derive(Debug, Clone, Copy)]
pub struct Miss {
    version: FileVersion,
    modified: Option<SystemTime>,
}

impl Miss {
    /// Size of the file to read.
    pub fn len(&self) -> u64 {
        self.version.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.version.len == 0
    }
}

/// The outcome of a lookup.
#[derive(Debug)]
pub enum Lookup {
    /// A regular file.
    File(Arc<CachedFile>),
    /// A directory, with its real path and whether that lies inside the root.
    Dir {
        /// The directory's real path.
        real_path: PathBuf,
        /// Whether that lies inside the served root.
        inside_root: bool,
    },
    /// Nothing there, or nothing readable.
    Missing,
}

/// The cache. One per running server; cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct FileCache {
    entries: RwLock<HashMap<PathBuf, Arc<CachedFile>>>,
    total: std::sync::atomic::AtomicU64,
    /// Rendered folder listings.
    pub listings: ListingCache,
}

/// Rendered listings, valid while the site watcher has seen no change and the folder's own
/// `stat` is unchanged. Without a working watcher nothing is cached: a listing shows file
/// sizes and dates, which a folder's `stat` does not cover.
///
/// It owns the server's one site watcher, which also feeds live reload: every batch of
/// changes goes out on one channel for the server's life, whichever root is watched.
#[derive(Debug)]
pub struct ListingCache {
    watch: Arc<Mutex<WatchState>>,
    pages: RwLock<HashMap<ListingKey, CachedListing>>,
    changes: broadcast::Sender<Arc<Changes>>,
}

impl Default for ListingCache {
    fn default() -> ListingCache {
        ListingCache {
            watch: Arc::default(),
            pages: RwLock::default(),
            changes: broadcast::channel(CHANGE_BUFFER).0,
        }
    }
}

/// Everything a rendered page depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListingKey {
    /// The folder's real path.
    pub dir: PathBuf,
    /// The URL path it was asked for (shown in the page).
    pub url_path: String,
    /// The query string (sort and filter).
    pub query: String,
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

#[derive(Debug, Default)]
enum WatchState {
    #[default]
    Idle,
    /// A thread is setting up the watch on this root.
    Starting(PathBuf),
    Watching(SiteWatcher),
    /// Watching this root failed; do not retry on every request.
    Failed(PathBuf),
}

/// Pages kept at most before the listing cache starts over.
const MAX_LISTINGS: usize = 512;

impl ListingCache {
    /// The watcher's change count for `root`, starting a watcher on first use or after a root
    /// change. `None` when the folder cannot be watched.
    pub fn epoch(&self, root: &Path) -> Option<u64> {
        let mut watch = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        match &*watch {
            WatchState::Watching(watcher) if watcher.root() == root => {
                return Some(watcher.epoch())
            }
            WatchState::Starting(pending) | WatchState::Failed(pending) if pending == root => {
                return None
            }
            _ => {}
        }
        // A new root: earlier pages belong to another watch.
        self.pages
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *watch = WatchState::Starting(root.to_path_buf());
        // Watching a large tree adds one watch per folder and can take seconds, so it never runs
        // on a request's thread; listings are rendered fresh until it is ready. The thread ends
        // as soon as the watch is set up and owns nothing after that.
        let (state, root) = (Arc::clone(&self.watch), root.to_path_buf());
        let changes = self.changes.clone();
        let spawned = std::thread::Builder::new().name("wharf-watch".into()).spawn(move || {
            let started = SiteWatcher::start(&root, changes);
            let mut watch = state.lock().unwrap_or_else(|p| p.into_inner());
            // Another root may have been asked for meanwhile: only the current one is kept.
            if matches!(&*watch, WatchState::Starting(pending) if *pending == root) {
                *watch = match started {
                    Ok(watcher) => WatchState::Watching(watcher),
                    Err(err) => {
                        tracing::warn!(root = %root.display(), "cannot watch the folder, so listings will not be cached and live reload will not see changes: {err}");
                        WatchState::Failed(root)
                    }
                };
            }
        });
        if spawned.is_err() {
            *watch = WatchState::Idle;
        }
        None
    }

    /// Makes sure `root` is watched (starting in the background), so that changes under it
    /// reach [`ListingCache::changes`].
    pub fn watch(&self, root: &Path) {
        let _ = self.epoch(root);
    }

    /// Batches of changes from now on, for whichever root is watched (see
    /// [`Changes::root`]). A subscriber that falls behind loses the oldest batches.
    pub fn changes(&self) -> broadcast::Receiver<Arc<Changes>> {
        self.changes.subscribe()
    }

    /// The cached page for `key`, if nothing changed since it was rendered.
    pub fn get(&self, root: &Path, key: &ListingKey) -> Option<Bytes> {
        let epoch = self.epoch(root)?;
        let dir_version = FileVersion::of(&std::fs::metadata(&key.dir).ok()?);
        let pages = self.pages.read().unwrap_or_else(|p| p.into_inner());
        let page = pages.get(key)?;
        (page.epoch == epoch && page.dir_version == dir_version).then(|| page.html.clone())
    }

    /// Keeps a page rendered from a folder read when the watcher stood at `epoch`. Pages
    /// that show a file modified within [`RACY_WINDOW`] are not kept.
    pub fn put(
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
        let mut pages = self.pages.write().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= MAX_LISTINGS {
            pages.clear();
        }
        pages.insert(
            key,
            CachedListing {
                epoch,
                dir_version,
                html,
            },
        );
    }
}

impl FileCache {
    /// Looks up `path` (lexically inside `root`, which must be canonical), from memory when the
    /// file is unchanged, from disk otherwise. Blocking: it stats, and on a miss reads, the file.
    pub fn lookup(&self, root: &Path, path: &Path) -> Lookup {
        match self.probe(root, path) {
            Ok(found) => found,
            Err(miss) => self.load(root, path, miss),
        }
    }

    /// The cheap half of a lookup: one `stat`. Answers from memory, or says what must be read.
    ///
    /// # Errors
    /// [`Miss`] when the file must be read with [`FileCache::load`].
    pub fn probe(&self, root: &Path, path: &Path) -> Result<Lookup, Miss> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(Lookup::Missing);
        };
        if meta.is_dir() {
            return Ok(match path.canonicalize() {
                Ok(real_path) => Lookup::Dir {
                    inside_root: real_path.starts_with(root),
                    real_path,
                },
                Err(_) => Lookup::Missing,
            });
        }
        if !meta.is_file() {
            // Sockets, FIFOs and devices are never served: reading a FIFO would hang.
            return Ok(Lookup::Missing);
        }
        let version = FileVersion::of(&meta);
        if let Some(hit) = self.get(path).filter(|entry| entry.version == version) {
            return Ok(Lookup::File(hit));
        }
        Err(Miss {
            version,
            modified: meta.modified().ok(),
        })
    }

    /// The expensive half: resolves symlinks and reads the file that [`FileCache::probe`] missed.
    pub fn load(&self, root: &Path, path: &Path, miss: Miss) -> Lookup {
        match self.read(root, path, miss) {
            Ok(entry) => Lookup::File(entry),
            Err(_) => Lookup::Missing,
        }
    }

    fn get(&self, path: &Path) -> Option<Arc<CachedFile>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(path).cloned()
    }

    fn read(&self, root: &Path, path: &Path, miss: Miss) -> io::Result<Arc<CachedFile>> {
        let Miss { version, modified } = miss;
        let real_path = path.canonicalize()?;
        let inside_root = real_path.starts_with(root);
        let len = version.len;
        let settled = modified
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= RACY_WINDOW);
        let cacheable = settled && len <= MAX_CACHED_FILE;
        // Files too big to keep are streamed by the caller; small racy ones are read here and
        // used once.
        let body = if inside_root && len <= MAX_CACHED_FILE {
            let mut file = std::fs::File::open(&real_path)?;
            let mut buf = Vec::with_capacity(len as usize);
            file.read_to_end(&mut buf)?;
            if buf.len() as u64 != len {
                // Changed under us between stat and read: serve what we read, never cache it.
                return Ok(Arc::new(self.entry(
                    real_path,
                    version,
                    modified,
                    Some(Bytes::from(buf)),
                )));
            }
            Some(Bytes::from(buf))
        } else {
            None
        };
        let entry = Arc::new(self.entry(real_path, version, modified, body));
        if cacheable && inside_root {
            self.insert(path.to_path_buf(), Arc::clone(&entry), len);
        }
        Ok(entry)
    }

    fn entry(
        &self,
        real_path: PathBuf,
        version: FileVersion,
        modified: Option<SystemTime>,
        body: Option<Bytes>,
    ) -> CachedFile {
        let len = body.as_ref().map_or(version.len, |b| b.len() as u64);
        CachedFile {
            etag: etag(len, version),
            last_modified: modified.and_then(http_date),
            content_type: mime::content_type(&real_path),
            real_path,
            version,
            len,
            modified,
            body,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            injected: OnceLock::new(),
        }
    }

    fn insert(&self, path: PathBuf, entry: Arc<CachedFile>, len: u64) {
        use std::sync::atomic::Ordering;
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.total.load(Ordering::Relaxed) + len > MAX_CACHED_TOTAL {
            // Simple and bounded: start over. A development site's working set refills quickly.
            entries.clear();
            self.total.store(0, Ordering::Relaxed);
        }
        if let Some(old) = entries.insert(path, entry) {
            self.total.fetch_sub(
                old.len.min(self.total.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
        }
        self.total.fetch_add(len, Ordering::Relaxed);
    }
}

/// `time` as an HTTP-date, or `None` outside the years 1970 to 9999 that one can say (and
/// that `httpdate` panics on): a file dated before 1970 is served without `Last-Modified`.
fn http_date(time: SystemTime) -> Option<HeaderValue> {
    // 9999-12-31T23:59:59Z.
    const LAST: Duration = Duration::from_secs(253_402_300_799);
    let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    (since <= LAST)
        .then(|| HeaderValue::from_str(&httpdate::fmt_http_date(time)).ok())
        .flatten()
}

/// A strong validator from the file's version: any edit changes it.
fn etag(len: u64, version: FileVersion) -> HeaderValue {
    let tag = format!("\"{len:x}-{:x}-{:x}\"", version.mtime_ns, version.ino);
    HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Smallest body worth compressing: below this the headers cost more than the savings.
const MIN_COMPRESS: usize = 512;

fn compress_gzip(body: &Bytes) -> Option<Bytes> {
    use std::io::Write;
    if body.len() < MIN_COMPRESS {
        return None;
    }
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::new(6),
    );
    encoder.write_all(body).ok()?;
    let out = encoder.finish().ok()?;
    (out.len() < body.len()).then(|| Bytes::from(out))
}

fn compress_brotli(body: &Bytes) -> Option<Bytes> {
    if body.len() < MIN_COMPRESS {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 5,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    (out.len() < body.len()).then(|| Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settle(path: &Path) {
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    #[test]
    fn unchanged_files_come_from_memory_and_edits_are_seen_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join("a.txt");
        std::fs::write(&file, "one").unwrap();
        settle(&file);
        let cache = FileCache::default();
        let Lookup::File(first) = cache.lookup(&root, &file) else {
            panic!("file")
        };
        let Lookup::File(again) = cache.lookup(&root, &file) else {
            panic!("file")
        };
        assert!(Arc::ptr_eq(&first, &again), "second lookup is a cache hit");

        std::fs::write(&file, "two").unwrap(); // same size, new mtime
        let Lookup::File(edited) = cache.lookup(&root, &file) else {
            panic!("file")
        };
        assert_eq!(edited.body.as_deref(), Some(&b"two"[..]));
        assert_ne!(edited.etag, first.etag);
    }

    #[test]
    fn racy_files_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join("fresh.txt");
        std::fs::write(&file, "just written").unwrap();
        let cache = FileCache::default();
        let Lookup::File(a) = cache.lookup(&root, &file) else {
            panic!("file")
        };
        let Lookup::File(b) = cache.lookup(&root, &file) else {
            panic!("file")
        };
        assert!(
            !Arc::ptr_eq(&a, &b),
            "a file written just now is read again"
        );
    }

    #[test]
    fn deleted_files_are_missing_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join("gone.txt");
        std::fs::write(&file, "x").unwrap();
        settle(&file);
        let cache = FileCache::default();
        assert!(matches!(cache.lookup(&root, &file), Lookup::File(_)));
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(cache.lookup(&root, &file), Lookup::Missing));
    }

    #[test]
    fn listings_are_cached_only_once_the_watcher_runs_and_until_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
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
            url_path: "/".into(),
            query: String::new(),
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
    fn compression_shrinks_text_and_skips_tiny_bodies() {
        let text = Bytes::from("hello world, ".repeat(200));
        let gz = compress_gzip(&text).unwrap();
        let br = compress_brotli(&text).unwrap();
        assert!(gz.len() < text.len() && br.len() < text.len());
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, text);
        assert!(compress_gzip(&Bytes::from_static(b"tiny")).is_none());
    }
}
