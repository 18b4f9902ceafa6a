//! Watches the served folder for changes (notify: inotify, FSEvents, ReadDirectoryChangesW)
//! and counts them, so caches that cannot afford to re-check every file — rendered listings —
//! know when to start over.
//!
//! It only counts; it never touches a cache itself. The watcher's thread lives as long as the
//! [`SiteWatcher`]: dropping it stops watching.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use notify::{EventKind, RecursiveMode, Watcher};

/// A recursive watch on one folder, with a counter of the changes seen under it.
pub struct SiteWatcher {
    root: PathBuf,
    epoch: Arc<AtomicU64>,
    _watcher: notify::RecommendedWatcher,
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
    /// Starts watching `root` and everything below it.
    ///
    /// # Errors
    /// What notify reports, e.g. when the OS's limit on watches is reached.
    pub fn start(root: &Path) -> notify::Result<SiteWatcher> {
        let epoch = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&epoch);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // Reads are not changes: our own file reads must not invalidate anything. Errors
                // (e.g. a queue overflow) might hide changes, so they count as one.
                let is_read = matches!(&event, Ok(e) if matches!(e.kind, EventKind::Access(_)));
                if !is_read {
                    counter.fetch_add(1, Ordering::Release);
                }
            })?;
        watcher.watch(root, RecursiveMode::Recursive)?;
        Ok(SiteWatcher {
            root: root.to_path_buf(),
            epoch,
            _watcher: watcher,
        })
    }

    /// The folder being watched.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How many changes have been seen so far. Equal values mean nothing changed in between.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn changes_anywhere_below_the_root_move_the_epoch() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let watcher = SiteWatcher::start(dir.path()).unwrap();
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
}
