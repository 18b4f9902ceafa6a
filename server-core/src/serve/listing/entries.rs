//! The entries a listing shows: one read of a folder, in a blocking task, leaving out what
//! could not or must not be served (dotfiles unless shown, non-UTF-8 names, dangling links,
//! links into dot-named folders). Called by the service before rendering.

use std::path::Path;
use std::time::SystemTime;

use crate::serve::resolve::DotDepth;

/// One row of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The file or folder name.
    pub name: String,
    /// Whether it is a folder (symlinks are followed).
    pub is_dir: bool,
    /// Size in bytes; 0 for folders, and ignored for them when sorting.
    pub size: u64,
    /// Last modification time, if the platform reports one.
    pub modified: Option<SystemTime>,
}

/// Reads the visible entries of `dir`, in no particular order ([`render`] sorts).
///
/// Dotfiles are left out unless `show_dotfiles`, and so are symlinks that lead into a dot-named
/// file or folder below `root` (the served folder, canonical), which `service` would answer as
/// hidden; names that are not UTF-8 are left out because no URL could name them; dangling
/// symlinks, and entries that vanish while being read, are left out because they could not be
/// served. A symlink is followed, so a link to a folder lists as a folder with the target's
/// size and date.
///
/// The whole folder is read in one blocking task (one thread hop, not one per entry).
///
/// # Errors
/// When `dir` cannot be opened or read. Dropping the future does not stop the read: it runs
/// to the end and its result is discarded.
pub(crate) async fn read_entries(
    dir: &Path,
    root: &Path,
    show_dotfiles: bool,
) -> std::io::Result<Vec<Entry>> {
    let (dir, root) = (dir.to_path_buf(), root.to_path_buf());
    tokio::task::spawn_blocking(move || read_entries_blocking(&dir, &root, show_dotfiles))
        .await
        .map_err(std::io::Error::other)?
}

fn read_entries_blocking(
    dir: &Path,
    root: &Path,
    show_dotfiles: bool,
) -> std::io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') && !show_dotfiles {
            continue;
        }
        // The type usually comes with the directory entry (d_type), no stat needed. Only
        // symlinks are followed; for anything else the entry's own (lstat) metadata is
        // the target's.
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let meta = if file_type.is_symlink() {
            if !show_dotfiles && leads_into_dots(&entry.path(), root) {
                continue;
            }
            std::fs::metadata(entry.path())
        } else {
            entry.metadata()
        };
        let Ok(meta) = meta else {
            continue;
        };
        let is_dir = meta.is_dir();
        entries.push(Entry {
            name,
            is_dir,
            size: if is_dir { 0 } else { meta.len() },
            modified: meta.modified().ok(),
        });
    }
    Ok(entries)
}

/// Whether the symlink at `link` resolves inside `root` through a dot-named component.
fn leads_into_dots(link: &Path, root: &Path) -> bool {
    dunce::canonicalize(link)
        .is_ok_and(|real| real.starts_with(root) && DotDepth::of(&real).below(root))
}
