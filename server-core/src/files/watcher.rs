//! Watches the served folder for changes (notify: inotify, FSEvents, ReadDirectoryChangesW).
//! It counts them, so caches that cannot afford to re-check every file — rendered listings —
//! know when to start over, and it publishes them in debounced batches for live reload.
//!
//! [`SiteWatch`] is the server's one watch: the supervisor (`lifecycle::server`) owns it for
//! the server's life and points it at the served root; its subscribers are the listing cache
//! (`files::listing_cache`, which reads the change count) and live reload's event streams
//! (which take the batches). A watch starts off the request's thread, on first use or when
//! the root changes.
//!
//! It only counts and publishes; it never touches a cache or decides what a change means
//! (which changes are ignored, CSS or not, is `live_reload`'s business, per connection). The
//! watch survives folders being created, deleted and renamed (notify re-watches new folders)
//! and the root itself being deleted, replaced or renamed away: the watch then moves to
//! whatever folder has the root's path, and a batch with `root_replaced` goes out.
//!
//! The watcher's thread lives as long as the [`SiteWatcher`]: dropping it tells the thread to
//! stop, and the thread drops notify's watch on its way out.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::broadcast;

/// A batch is sent once no event has arrived for this long: an editor's save is a burst of
/// events (write, rename, chmod) within a few milliseconds. It is most of the time from a
/// save to the page's reload (bench/browser-reload.sh), so it is kept short.
pub(crate) const DEBOUNCE_QUIET: Duration = Duration::from_millis(15);
/// A batch waits at most this long, so a steady stream of writes still reloads.
const DEBOUNCE_MAX: Duration = Duration::from_millis(250);
/// How often the root's identity is checked while nothing happens.
const ROOT_CHECK: Duration = Duration::from_secs(1);
/// How often a missing root is looked for.
const ROOT_LOST_POLL: Duration = Duration::from_millis(100);
/// Changes buffered for slow subscribers before they lose the oldest (and reload).
pub(crate) const CHANGE_BUFFER: usize = 64;

/// The server's one watch on the folder it serves, whichever root that is: owned by the
/// supervisor, subscribed to by the listing cache ([`SiteWatch::epoch`]) and by live reload
/// ([`SiteWatch::changes`]). Every batch of changes goes out on one channel for the server's
/// life, and the change count never goes back, not even when the watch moves to a new root.
#[derive(Debug)]
pub(crate) struct SiteWatch {
    state: Arc<Mutex<WatchState>>,
    /// Changes seen by every watcher this watch has run, plus one per watcher started: equal
    /// values mean nothing changed in between under the root watched.
    epoch: Arc<AtomicU64>,
    changes: broadcast::Sender<Arc<Changes>>,
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

impl Default for SiteWatch {
    fn default() -> SiteWatch {
        SiteWatch {
            state: Arc::default(),
            epoch: Arc::default(),
            changes: broadcast::channel(CHANGE_BUFFER).0,
        }
    }
}

impl SiteWatch {
    /// The change count for `root`, starting a watcher on first use or after a root change.
    /// `None` while the watch is starting, or when the folder cannot be watched.
    pub(crate) fn epoch(&self, root: &Path) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match &*state {
            WatchState::Watching(watcher) if watcher.root() == root => {
                return Some(watcher.epoch())
            }
            WatchState::Starting(pending) | WatchState::Failed(pending) if pending == root => {
                return None
            }
            _ => {}
        }
        *state = WatchState::Starting(root.to_path_buf());
        // Watching a large tree adds one watch per folder and can take seconds, so it never runs
        // on a request's thread; listings are rendered fresh until it is ready. The thread ends
        // as soon as the watch is set up and owns nothing after that.
        let (shared, root) = (Arc::clone(&self.state), root.to_path_buf());
        let (epoch, changes) = (Arc::clone(&self.epoch), self.changes.clone());
        let spawned = std::thread::Builder::new().name("wharf-watch".into()).spawn(move || {
            let started = SiteWatcher::start(&root, Arc::clone(&epoch), changes);
            let mut state = shared.lock().unwrap_or_else(|p| p.into_inner());
            // Another root may have been asked for meanwhile: only the current one is kept.
            if matches!(&*state, WatchState::Starting(pending) if *pending == root) {
                *state = match started {
                    Ok(watcher) => {
                        // Nothing watched this root until now: whatever was counted before
                        // (under this root or another) says nothing about it any more.
                        epoch.fetch_add(1, Ordering::Release);
                        WatchState::Watching(watcher)
                    }
                    Err(err) => {
                        tracing::warn!(root = %root.display(), "cannot watch the folder, so listings will not be cached and live reload will not see changes: {err}");
                        WatchState::Failed(root)
                    }
                };
            }
        });
        if spawned.is_err() {
            *state = WatchState::Idle;
        }
        None
    }

    /// Makes sure `root` is watched (starting in the background), so that changes under it
    /// reach [`SiteWatch::changes`].
    pub(crate) fn watch(&self, root: &Path) {
        let _ = self.epoch(root);
    }

    /// Batches of changes from now on, for whichever root is watched (see
    /// [`Changes::root`]). A subscriber that falls behind loses the oldest batches.
    pub(crate) fn changes(&self) -> broadcast::Receiver<Arc<Changes>> {
        self.changes.subscribe()
    }
}

/// One debounced batch of changes under a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Changes {
    /// The watched root, as given to [`SiteWatcher::start`].
    pub root: PathBuf,
    /// The paths that changed, relative to the root, `/`-separated, each once.
    pub paths: Vec<String>,
    /// The root itself was replaced, or notify lost track (e.g. its queue overflowed): any
    /// file may have changed.
    pub root_replaced: bool,
}

/// A recursive watch on one folder, with a counter of the changes seen under it.
pub(crate) struct SiteWatcher {
    root: PathBuf,
    epoch: Arc<AtomicU64>,
    stop: mpsc::Sender<Message>,
}

enum Message {
    Event(notify::Result<notify::Event>),
    Stop,
}

impl std::fmt::Debug for SiteWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteWatcher")
            .field("root", &self.root)
            .field("epoch", &self.epoch())
            .finish()
    }
}

impl SiteWatcher {
    /// Starts watching `root` and everything below it, adding each change to `epoch` and
    /// publishing batches on `changes`.
    ///
    /// # Errors
    /// What notify reports, e.g. when the OS's limit on watches is reached, or the OS error
    /// when the thread cannot be started.
    pub(crate) fn start(
        root: &Path,
        epoch: Arc<AtomicU64>,
        changes: broadcast::Sender<Arc<Changes>>,
    ) -> notify::Result<SiteWatcher> {
        let counter = Arc::clone(&epoch);
        let (events, received) = mpsc::channel();
        let stop = events.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // Reads are not changes: our own file reads must not invalidate anything. Errors
                // (e.g. a queue overflow) might hide changes, so they count as one.
                let is_read = matches!(&event, Ok(e) if matches!(e.kind, EventKind::Access(_)));
                if !is_read {
                    // Counted here, not after the debounce: a listing must never be stale.
                    counter.fetch_add(1, Ordering::Release);
                    let _ = events.send(Message::Event(event));
                }
            })?;
        watcher.watch(root, RecursiveMode::Recursive)?;
        let thread = Debouncer {
            root: root.to_path_buf(),
            identity: identity(root),
            watcher,
            epoch: Arc::clone(&epoch),
            changes,
        };
        std::thread::Builder::new()
            .name("wharf-changes".into())
            .spawn(move || thread.run(&received))
            .map_err(notify::Error::io)?;
        Ok(SiteWatcher {
            root: root.to_path_buf(),
            epoch,
            stop,
        })
    }

    /// The folder being watched.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// How many changes have been counted so far (see [`SiteWatch::epoch`]). Equal values mean
    /// nothing changed in between.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}

impl Drop for SiteWatcher {
    fn drop(&mut self) {
        let _ = self.stop.send(Message::Stop);
    }
}

/// The watcher thread's state: it owns notify's watch so it can move it to a new root.
struct Debouncer {
    root: PathBuf,
    /// The root folder's device and inode when it was watched; `None` while it is missing.
    identity: Option<(u64, u64)>,
    watcher: notify::RecommendedWatcher,
    epoch: Arc<AtomicU64>,
    changes: broadcast::Sender<Arc<Changes>>,
}

impl Debouncer {
    fn run(mut self, received: &mpsc::Receiver<Message>) {
        let mut pending: Vec<PathBuf> = Vec::new();
        let mut rescan = false;
        // (first event, last event) of the batch being gathered.
        let mut burst: Option<(Instant, Instant)> = None;
        loop {
            let wait = match burst {
                Some((first, last)) => {
                    let due = (last + DEBOUNCE_QUIET).min(first + DEBOUNCE_MAX);
                    due.saturating_duration_since(Instant::now())
                }
                None if self.identity.is_none() => ROOT_LOST_POLL,
                None => ROOT_CHECK,
            };
            match received.recv_timeout(wait) {
                Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(Message::Event(event)) => {
                    match event {
                        Ok(event) => {
                            // The root deleted or renamed away: its watch is gone even if a new
                            // folder already stands there (with, often, the same inode number).
                            let root_moved = matches!(
                                event.kind,
                                EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
                            ) && event.paths.contains(&self.root);
                            if root_moved {
                                self.identity = None;
                            }
                            pending.extend(event.paths);
                        }
                        Err(err) => {
                            tracing::debug!("watch error, treating every file as changed: {err}");
                            rescan = true;
                        }
                    }
                    let now = Instant::now();
                    let (first, _) = *burst.get_or_insert((now, now));
                    burst = Some((first, now));
                    // Events that never pause would otherwise hold the batch back forever.
                    if now >= first + DEBOUNCE_MAX {
                        burst = None;
                        self.publish(std::mem::take(&mut pending), rescan);
                        rescan = false;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let replaced = self.follow_root();
                    if burst.take().is_some() || replaced {
                        self.publish(std::mem::take(&mut pending), rescan || replaced);
                        rescan = false;
                    }
                }
            }
        }
    }

    /// Re-watches the root if it was deleted, replaced or renamed away. True when the watch
    /// moved to a new folder (so every file may have changed).
    fn follow_root(&mut self) -> bool {
        let now = identity(&self.root);
        if now == self.identity {
            return false;
        }
        // The old watch is gone with its folder, or follows a folder that has moved away.
        let _ = self.watcher.unwatch(&self.root);
        self.identity = None;
        if now.is_none() {
            return false;
        }
        if let Err(err) = self.watcher.watch(&self.root, RecursiveMode::Recursive) {
            tracing::warn!(root = %self.root.display(), "cannot watch the new folder: {err}");
            return false;
        }
        self.identity = now;
        self.epoch.fetch_add(1, Ordering::Release);
        true
    }

    fn publish(&self, paths: Vec<PathBuf>, root_replaced: bool) {
        let mut relative: Vec<String> = paths
            .iter()
            .filter_map(|path| path.strip_prefix(&self.root).ok())
            .filter(|path| !path.as_os_str().is_empty())
            .map(|path| {
                let parts: Vec<_> = path
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect();
                parts.join("/")
            })
            .collect();
        relative.sort_unstable();
        relative.dedup();
        // No subscribers is normal: nobody has a page open.
        let _ = self.changes.send(Arc::new(Changes {
            root: self.root.clone(),
            paths: relative,
            root_replaced,
        }));
    }
}

/// The folder's device and inode (on Windows its volume serial number and file index), or
/// `None` when it is not a folder (any more).
fn identity(root: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(root).ok().filter(|meta| meta.is_dir())?;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(windows)]
    {
        // Not the creation time: NTFS gives a folder made again under a name just deleted the
        // old one's creation time ("tunneling"), and Wine reports the status-change time,
        // which moves with every file added. The file index is what an inode is on Unix;
        // std keeps it unstable, winapi-util reads it without unsafe code.
        use std::os::windows::fs::OpenOptionsExt as _;
        // Opening a folder needs FILE_FLAG_BACKUP_SEMANTICS.
        const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
        const FILE_ATTRIBUTE_DIRECTORY: u64 = 0x10;
        let folder = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(root)
            .ok()?;
        let info = winapi_util::file::information(&folder).ok()?;
        (info.file_attributes() & FILE_ATTRIBUTE_DIRECTORY != 0)
            .then(|| (info.volume_serial_number(), info.file_index()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(changes: &mut broadcast::Receiver<Arc<Changes>>) -> Arc<Changes> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match changes.try_recv() {
                Ok(batch) => return batch,
                Err(broadcast::error::TryRecvError::Empty) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(err) => panic!("no batch: {err:?}"),
            }
        }
    }

    #[test]
    fn changes_anywhere_below_the_root_move_the_epoch() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let (tx, _rx) = broadcast::channel(CHANGE_BUFFER);
        let watcher = SiteWatcher::start(dir.path(), Arc::default(), tx).unwrap();
        let before = watcher.epoch();
        std::fs::write(dir.path().join("sub/new.txt"), "x").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while watcher.epoch() == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(watcher.epoch() > before, "no change seen");
        // Reading is not a change.
        std::thread::sleep(Duration::from_millis(50));
        let settled = watcher.epoch();
        std::fs::read(dir.path().join("sub/new.txt")).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(watcher.epoch(), settled);
    }

    #[test]
    fn a_burst_is_one_batch_of_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dunce::canonicalize(dir.path()).unwrap();
        let (tx, mut rx) = broadcast::channel(CHANGE_BUFFER);
        let _watcher = SiteWatcher::start(&root, Arc::default(), tx).unwrap();
        std::fs::create_dir(root.join("css")).unwrap();
        assert_eq!(next(&mut rx).paths, ["css"]);
        // The new folder is watched too.
        std::fs::write(root.join("css/a.css"), "a").unwrap();
        std::fs::write(root.join("css/a.css"), "b").unwrap();
        std::fs::write(root.join("css/b.css"), "b").unwrap();
        let batch = next(&mut rx);
        assert_eq!(batch.root, root);
        assert_eq!(batch.paths, ["css/a.css", "css/b.css"]);
        assert!(!batch.root_replaced);
    }

    #[test]
    fn a_replaced_root_is_watched_again() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("dist");
        std::fs::create_dir(&root).unwrap();
        let root = dunce::canonicalize(root).unwrap();
        let (tx, mut rx) = broadcast::channel(CHANGE_BUFFER);
        let _watcher = SiteWatcher::start(&root, Arc::default(), tx).unwrap();
        std::fs::remove_dir(&root).unwrap();
        // Windows keeps a deleted folder's name while a watch holds the folder open: the
        // watcher must let go of it, so that it can be made again.
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Err(err) = std::fs::create_dir(&root) {
            assert!(
                cfg!(windows) && Instant::now() < deadline,
                "cannot make the root again: {err}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        loop {
            if next(&mut rx).root_replaced {
                break;
            }
            assert!(Instant::now() < deadline, "the new root was never watched");
        }
        std::fs::write(root.join("index.html"), "new").unwrap();
        let batch = next(&mut rx);
        assert_eq!(batch.paths, ["index.html"], "{batch:?}");
    }

    /// `watch.epoch(root)` once the watch on `root` runs.
    fn started(watch: &SiteWatch, root: &Path) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(epoch) = watch.epoch(root) {
                return epoch;
            }
            assert!(Instant::now() < deadline, "the watch never started");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_count_never_goes_back_when_the_watch_moves_to_another_root() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        let watch = SiteWatch::default();
        let mut changes = watch.changes();
        let first = started(&watch, &a);
        let on_b = started(&watch, &b);
        assert!(on_b > first, "a new watch starts a new count");
        // While b was watched, nobody watched a: a page rendered before must not be trusted.
        let again = started(&watch, &a);
        assert!(again > on_b, "{first} {on_b} {again}");
        // The subscription taken at the start still gets the batches of the new watch.
        std::fs::write(a.join("new.txt"), "x").unwrap();
        let batch = next(&mut changes);
        assert_eq!(batch.paths, ["new.txt"], "{batch:?}");
    }
}
