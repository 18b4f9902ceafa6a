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
//! The cache is bounded by bytes (issue 13): it counts every representation it holds — the
//! body, the page with the live-reload script, and the gzip and Brotli variants of each, as
//! they are made — against [`MAX_CACHED_TOTAL`]. Over its budget it starts over.
//!
//! The service (`serve::service`) asks it for files. An entry carries, made once per version
//! so that no request pays for them, the values the response headers need: the strong
//! validator (`ETag`), the `Last-Modified` date, the `Content-Type` (from `serve::mime`) and
//! the compressed variants. What to do with them — preconditions, ranges, which coding to
//! send — is decided in `serve/`. The cache also holds the server's [`ListingCache`], which
//! shares its lifetime; it does not watch the folder itself: file entries are checked by
//! `stat`, and the site watch belongs to the supervisor.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, Weak};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderValue;

use crate::files::listing_cache::ListingCache;
use crate::files::watcher::SiteWatch;
use crate::serve::mime;
use crate::serve::resolve::{lies_in, DotDepth};

/// Files modified more recently than this are read from disk on every request.
pub(crate) const RACY_WINDOW: Duration = Duration::from_secs(2);
/// Largest file whose body is kept in memory.
pub(crate) const MAX_CACHED_FILE: u64 = 16 * 1024 * 1024;
/// Total bytes of file representations (bodies, pages with the live-reload script, and their
/// gzip and Brotli variants) kept in memory per server before the cache starts over.
pub(crate) const MAX_CACHED_TOTAL: u64 = 256 * 1024 * 1024;

/// What identifies one version of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileVersion {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileVersion {
    /// The version described by `meta`.
    pub(crate) fn of(meta: &Metadata) -> FileVersion {
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
pub(crate) struct CachedFile {
    /// The file's real path, symlinks resolved.
    pub real_path: PathBuf,
    /// Where `real_path`'s deepest dot-named component lies, found once per entry.
    pub dots: DotDepth,
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
    holding: Arc<Holding>,
}

/// What one entry holds in memory, and the cache it is charged to while it is in one.
#[derive(Debug, Default)]
struct Holding {
    /// Bytes of the body and of every variant made so far.
    bytes: AtomicU64,
    /// The cache's store while the entry is in it; variants made later are charged there.
    owner: Mutex<Option<Weak<Store>>>,
}

impl Holding {
    fn owner(&self) -> MutexGuard<'_, Option<Weak<Store>>> {
        self.owner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A representation of `len` bytes was just made and is kept.
    fn charge(&self, made: Option<&Bytes>) {
        let Some(len) = made.map(|b| b.len() as u64) else {
            return;
        };
        self.bytes.fetch_add(len, Ordering::Relaxed);
        let owner = self.owner().as_ref().and_then(Weak::upgrade);
        if let Some(store) = owner {
            store.charge(len);
        }
    }
}

/// A body rewritten for live reload (the script added), with its own compressed variants.
#[derive(Debug)]
pub(crate) struct Rewritten {
    /// The rewritten body.
    pub body: Bytes,
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
    /// The file's: its variants are charged with the file's.
    holding: Arc<Holding>,
}

impl Rewritten {
    /// The rewritten body compressed with gzip, once; `None` if it does not shrink.
    pub(crate) fn gzip(&self) -> Option<&Bytes> {
        made_once(&self.gzip, &self.holding, || compress_gzip(&self.body))
    }

    /// The rewritten body compressed with Brotli, once; `None` if it does not shrink.
    pub(crate) fn brotli(&self) -> Option<&Bytes> {
        made_once(&self.brotli, &self.holding, || compress_brotli(&self.body))
    }
}

/// The representation in `slot`, made by `make` the first time and charged to `holding`.
fn made_once<'a>(
    slot: &'a OnceLock<Option<Bytes>>,
    holding: &Holding,
    make: impl FnOnce() -> Option<Bytes>,
) -> Option<&'a Bytes> {
    slot.get_or_init(|| {
        let made = make();
        holding.charge(made.as_ref());
        made
    })
    .as_ref()
}

impl CachedFile {
    /// Whether the real path lies inside `root` (canonical) and passes through a dot-named
    /// file or folder below it: a symlink, or on Windows an 8.3 name such as `GIT~1`, that
    /// reaches what a lexically dotted path could not.
    pub(crate) fn hidden_below(&self, root: &Path) -> bool {
        self.dots.below(root) && lies_in(&self.real_path, root)
    }

    /// The body rewritten by `inject` (live reload adds its script), computed once per
    /// version; `None` for files too big to keep in memory.
    pub(crate) fn injected(&self, inject: impl FnOnce(&[u8]) -> Bytes) -> Option<&Rewritten> {
        let body = self.body.as_ref()?;
        self.injected
            .get_or_init(|| {
                let body = inject(body);
                self.holding.charge(Some(&body));
                Some(Rewritten {
                    body,
                    gzip: OnceLock::new(),
                    brotli: OnceLock::new(),
                    holding: Arc::clone(&self.holding),
                })
            })
            .as_ref()
    }

    /// The body compressed with gzip, computed once per version; `None` if it does not shrink.
    pub(crate) fn gzip(&self) -> Option<&Bytes> {
        let body = self.body.as_ref()?;
        made_once(&self.gzip, &self.holding, || compress_gzip(body))
    }

    /// The body compressed with Brotli, computed once per version; `None` if it does not shrink.
    pub(crate) fn brotli(&self) -> Option<&Bytes> {
        let body = self.body.as_ref()?;
        made_once(&self.brotli, &self.holding, || compress_brotli(body))
    }

    /// Bytes this entry holds in memory: its body and every variant made so far.
    pub(crate) fn held_bytes(&self) -> u64 {
        self.holding.bytes.load(Ordering::Relaxed)
    }
}

/// What a [`FileCache::probe`] could not answer from memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Miss {
    version: FileVersion,
    modified: Option<SystemTime>,
}

impl Miss {
    /// Size of the file to read.
    pub(crate) fn len(&self) -> u64 {
        self.version.len
    }
}

/// The outcome of a lookup.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A regular file.
    File(Arc<CachedFile>),
    /// A directory, with its real path and whether that lies inside the root.
    Dir {
        /// The directory's real path.
        real_path: PathBuf,
        /// Whether that lies inside the served root.
        inside_root: bool,
        /// Whether it lies inside the root and a component below the root starts with a dot.
        hidden_below_root: bool,
    },
    /// Nothing there, or nothing readable.
    Missing,
}

/// The cache. One per running server; cheap to share behind an `Arc`.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub struct FileCache {
    store: Arc<Store>,
    /// Rendered folder listings.
    pub(crate) listings: ListingCache,
}

/// The file entries, and the bytes they hold.
#[derive(Debug, Default)]
struct Store {
    entries: RwLock<HashMap<PathBuf, Arc<CachedFile>>>,
    /// Bytes held by the entries in `entries`, every representation counted. A variant made
    /// while the cache starts over may be counted once too often, never too few times.
    total: AtomicU64,
}

impl Store {
    /// An entry in the store made a representation of `len` bytes.
    fn charge(&self, len: u64) {
        let total = self.total.fetch_add(len, Ordering::Relaxed) + len;
        if total > MAX_CACHED_TOTAL {
            let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
            self.start_over(&mut entries);
        }
    }

    /// Empties the store: simple and bounded. A development site's working set refills quickly.
    fn start_over(&self, entries: &mut HashMap<PathBuf, Arc<CachedFile>>) {
        for (_, entry) in entries.drain() {
            *entry.holding.owner() = None;
        }
        self.total.store(0, Ordering::Relaxed);
    }
}

/// How many bytes a server's caches hold (see [`FileCache::usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheUsage {
    /// Bytes of file representations, at most [`MAX_CACHED_TOTAL`].
    pub file_bytes: u64,
    /// Bytes of rendered listing pages, at most
    /// [`MAX_LISTING_TOTAL`](crate::files::listing_cache::MAX_LISTING_TOTAL).
    pub listing_bytes: u64,
}

impl FileCache {
    /// An empty cache whose listings stay valid while `watch` (the server's) counts no change.
    pub(crate) fn new(watch: Arc<SiteWatch>) -> FileCache {
        FileCache {
            store: Arc::default(),
            listings: ListingCache::new(watch),
        }
    }

    /// How many bytes the file and listing caches hold now.
    pub(crate) fn usage(&self) -> CacheUsage {
        CacheUsage {
            file_bytes: self.store.total.load(Ordering::Relaxed),
            listing_bytes: self.listings.bytes(),
        }
    }

    /// The cheap half of a lookup: one `stat`. Answers from memory, or says what must be read.
    ///
    /// # Errors
    /// [`Miss`] when the file must be read with [`FileCache::load`].
    pub(crate) fn probe(&self, root: &Path, path: &Path) -> Result<Lookup, Miss> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(Lookup::Missing);
        };
        if meta.is_dir() {
            return Ok(match dunce::canonicalize(path) {
                Ok(real_path) => {
                    let inside_root = real_path.starts_with(root);
                    Lookup::Dir {
                        hidden_below_root: inside_root && DotDepth::of(&real_path).below(root),
                        inside_root,
                        real_path,
                    }
                }
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
    pub(crate) fn load(&self, root: &Path, path: &Path, miss: Miss) -> Lookup {
        match self.read(root, path, miss) {
            Ok(entry) => Lookup::File(entry),
            Err(_) => Lookup::Missing,
        }
    }

    fn get(&self, path: &Path) -> Option<Arc<CachedFile>> {
        let entries = self.store.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(path).cloned()
    }

    fn read(&self, root: &Path, path: &Path, miss: Miss) -> io::Result<Arc<CachedFile>> {
        let Miss { version, modified } = miss;
        // Spelled as the root is (see config's canonical_root).
        let real_path = dunce::canonicalize(path)?;
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
            self.insert(path.to_path_buf(), Arc::clone(&entry));
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
        let holding = Arc::new(Holding::default());
        holding.charge(body.as_ref());
        CachedFile {
            etag: etag(len, version),
            last_modified: modified.and_then(http_date),
            content_type: mime::content_type(&real_path),
            dots: DotDepth::of(&real_path),
            real_path,
            version,
            len,
            modified,
            body,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            injected: OnceLock::new(),
            holding,
        }
    }

    fn insert(&self, path: PathBuf, entry: Arc<CachedFile>) {
        let store = &self.store;
        let mut entries = store.entries.write().unwrap_or_else(|p| p.into_inner());
        // From here on, variants the entry makes are charged to the store.
        *entry.holding.owner() = Some(Arc::downgrade(store));
        let len = entry.held_bytes();
        if store.total.load(Ordering::Relaxed) + len > MAX_CACHED_TOTAL {
            store.start_over(&mut entries);
        }
        if let Some(old) = entries.insert(path, entry) {
            *old.holding.owner() = None;
            let old_len = old.held_bytes();
            let _ = store
                .total
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |total| {
                    Some(total.saturating_sub(old_len))
                });
        }
        store.total.fetch_add(len, Ordering::Relaxed);
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
mod tests;
