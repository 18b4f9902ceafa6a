//! The site as the check sees it: every file and folder under the root, walked once, by name
//! (NFC, `/`-separated, relative to the root), with a case-folded index for case mismatches.
//!
//! Bounds: symlinks are followed only where their target lies inside the root (one that
//! leads out is left out, as Wharf refuses it by default), and dot folders (`.git/`, `.well-known/`) are listed
//! but never entered. Files are read only through [`Inventory::read_text`], which refuses
//! files over the size cap and notes them as skipped. It decides nothing about what it finds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::serve::names::composed;
use crate::serve::resolve::lies_in;

/// One entry of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// A folder (entered, unless its name starts with a dot).
    pub is_dir: bool,
    /// Its size in bytes (0 for folders).
    pub size: u64,
}

/// Where a site path leads, case aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lookup {
    /// The name exists as spelled.
    Exact(Entry),
    /// Only a differently cased name exists: this one.
    CaseOnly(String),
    /// Nothing by that name, in any case.
    Missing,
}

/// Every entry under the root, by relative name.
#[derive(Debug, Default)]
pub(super) struct Inventory {
    root: PathBuf,
    entries: BTreeMap<String, Entry>,
    folded: HashMap<String, Vec<String>>,
    max_read_bytes: u64,
    skipped: Vec<String>,
}

impl Inventory {
    /// Walks `root` (a canonical folder). Unreadable entries are left out.
    pub(super) fn walk(root: &Path, max_read_bytes: u64) -> Inventory {
        let mut inventory = Inventory {
            root: root.to_path_buf(),
            max_read_bytes,
            ..Inventory::default()
        };
        // Symlinks are followed (walkdir stops at loops) only where they stay inside the root.
        let mut walk = WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        while let Some(item) = walk.next() {
            let Ok(item) = item else { continue };
            if item.depth() == 0 {
                continue;
            }
            let inside = !item.path_is_symlink()
                || dunce::canonicalize(item.path()).is_ok_and(|real| lies_in(&real, root));
            let Some(name) = relative_name(root, item.path()).filter(|_| inside) else {
                if item.file_type().is_dir() {
                    walk.skip_current_dir();
                }
                continue;
            };
            let Ok(meta) = item.metadata() else { continue };
            let entry = Entry {
                is_dir: meta.is_dir(),
                size: if meta.is_dir() { 0 } else { meta.len() },
            };
            if entry.is_dir && item.file_name().as_encoded_bytes().starts_with(b".") {
                walk.skip_current_dir();
            }
            inventory.insert(name, entry);
        }
        inventory
    }

    fn insert(&mut self, name: String, entry: Entry) {
        self.folded
            .entry(name.to_lowercase())
            .or_default()
            .push(name.clone());
        self.entries.insert(name, entry);
    }

    /// Every entry, in name order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&str, Entry)> {
        self.entries
            .iter()
            .map(|(name, entry)| (name.as_str(), *entry))
    }

    /// How many files (not folders) the walk found.
    pub(super) fn file_count(&self) -> usize {
        self.entries.values().filter(|entry| !entry.is_dir).count()
    }

    /// Whether a file or folder of this name exists, as spelled.
    pub(super) fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Looks a relative name up (already in NFC; `""` is the root).
    pub(super) fn lookup(&self, name: &str) -> Lookup {
        if name.is_empty() {
            return Lookup::Exact(Entry {
                is_dir: true,
                size: 0,
            });
        }
        if let Some(entry) = self.entries.get(name) {
            return Lookup::Exact(*entry);
        }
        match self.folded.get(&name.to_lowercase()) {
            Some(names) => Lookup::CaseOnly(names[0].clone()),
            None => Lookup::Missing,
        }
    }

    /// The file's text (lossy UTF-8), or `None` if it is unreadable or over the size cap
    /// (then it is noted in [`Self::skipped`]).
    pub(super) fn read_text(&mut self, name: &str) -> Option<String> {
        let size = self.entries.get(name)?.size;
        if size > self.max_read_bytes {
            self.skipped.push(name.to_owned());
            return None;
        }
        let bytes = std::fs::read(self.root.join(name)).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The files left unread because of the size cap, in name order.
    pub(super) fn into_skipped(mut self) -> Vec<String> {
        self.skipped.sort();
        self.skipped.dedup();
        self.skipped
    }
}

/// `path` under `root` as `a/b.html`: components joined with `/` (on Windows too), in NFC so
/// that a name macOS stored decomposed matches the composed form links use.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|part| composed(&part.as_os_str().to_string_lossy()).into_owned())
        .collect();
    Some(parts.join("/"))
}
