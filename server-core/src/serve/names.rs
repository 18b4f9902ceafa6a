//! How the file system under a served folder compares names, so that the site's globs (custom
//! header rules, reload-ignore patterns) compare them the same way (issue 14, point 2).
//!
//! Two spellings can name one file. **Case**: NTFS and APFS ignore it by default, so
//! `/INDEX.HTML` opens `index.html` there, and a rule written for `/index.html` must apply to
//! it too, or changing case would slip past the rule. Which way a folder goes is probed once per
//! configuration, by looking an entry of the root up under its name with the case swapped:
//! per OS would be wrong for a case-sensitive APFS volume, a Windows folder with per-directory
//! case sensitivity, or a Linux folder with casefold on. **Unicode normalisation**: macOS
//! stores `é` decomposed (`e` + U+0301, NFD) on HFS+ and keeps either form on APFS, while
//! browsers send the composed form (NFC); so globs and the paths they are matched against are
//! both brought to NFC first (see [`NameMatching::key`]), on every OS: a user who writes
//! `café/*.html` means the folder whichever form its name was stored in. Case folding, where
//! the file system folds, covers non-ASCII letters too (`É`), which globset alone does not.
//!
//! The dotfile rule needs neither: a leading `.` has no case and no decomposition, and the
//! real-path check in `service` sees the name as stored. This module owns only the comparison;
//! it does not decide what is served.

use std::borrow::Cow;
use std::io;
use std::path::Path;

use globset::{Glob, GlobBuilder};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// How names compare under one served folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameMatching {
    /// Whether the file system opens a name whatever its letters' case.
    pub case_insensitive: bool,
}

impl Default for NameMatching {
    /// What the OS's default file system does: case-insensitive on Windows and macOS.
    fn default() -> NameMatching {
        NameMatching {
            case_insensitive: cfg!(any(windows, target_os = "macos")),
        }
    }
}

/// How many of the root's entries are tried before the probe falls back to the root's own
/// name and its ancestors.
const PROBED_ENTRIES: usize = 32;

impl NameMatching {
    /// Probes the file system under `root`: an entry of the root (else the root or one of its
    /// ancestors) whose name has a letter is looked up with every ASCII letter's case swapped.
    /// The same file answering means case is ignored; nothing, or another file, means it counts.
    /// Without any such name (an empty root at `/`), the OS's default. Blocking: a few `stat`s.
    pub(crate) fn probe(root: &Path) -> NameMatching {
        let entries = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .take(PROBED_ENTRIES)
            .filter_map(|entry| entry.ok().map(|entry| entry.path()));
        let ancestors = root.ancestors().map(Path::to_path_buf);
        entries
            .chain(ancestors)
            .find_map(|path| ignores_case_of(&path))
            .map_or_else(NameMatching::default, |case_insensitive| NameMatching {
                case_insensitive,
            })
    }

    /// A glob that matches as this file system compares names: `*` and `?` stay within one
    /// path segment and `**` crosses them; the text is brought to NFC, and case is ignored
    /// where the file system ignores it. Match it against paths passed through [`Self::key`].
    ///
    /// # Errors
    /// globset's error when `text` is not a valid glob.
    pub(crate) fn glob(self, text: &str) -> Result<Glob, globset::Error> {
        GlobBuilder::new(&self.key(text))
            .literal_separator(true)
            .case_insensitive(self.case_insensitive)
            .build()
    }

    /// `path` as globs from [`Self::glob`] compare it: in NFC, and where case is ignored, with
    /// non-ASCII letters lower-cased. globset folds only ASCII case (it matches bytes), while
    /// NTFS and APFS also fold `É` to `é`. Borrowed for ASCII paths in NFC, the common case.
    pub(crate) fn key(self, path: &str) -> Cow<'_, str> {
        let path = composed(path);
        if self.case_insensitive && !path.is_ascii() {
            Cow::Owned(path.to_lowercase())
        } else {
            path
        }
    }
}

/// `text` in Unicode normalisation form C (composed), borrowed when it already is (any ASCII).
pub(crate) fn composed(text: &str) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    }
}

/// Whether looking `path` up with its last component's ASCII letters swapped in case reaches
/// the same file; `None` when that name has no ASCII letter or the answer is unclear.
fn ignores_case_of(path: &Path) -> Option<bool> {
    let name = path.file_name()?.to_str()?;
    let swapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if swapped == name {
        return None;
    }
    std::fs::symlink_metadata(path).ok()?;
    match same_entry(path, &path.with_file_name(swapped)) {
        Ok(same) => Some(same),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Some(false),
        Err(_) => None,
    }
}

/// Whether two paths name one directory entry. Never opens a file: opening a FIFO for reading
/// would wait for a writer (which is why this is not the `same-file` crate).
fn same_entry(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (a, b) = (std::fs::symlink_metadata(a)?, std::fs::symlink_metadata(b)?);
        Ok((a.dev(), a.ino()) == (b.dev(), b.ino()))
    }
    #[cfg(not(unix))]
    {
        // std has no stable file index on Windows; the final path the OS reports is spelled as
        // stored, so both spellings of one file give the same one.
        std::fs::symlink_metadata(b)?;
        Ok(a.canonicalize()? == b.canonicalize()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_brings_nfd_to_nfc_and_borrows_otherwise() {
        assert_eq!(composed("cafe\u{301}/x.html"), "caf\u{e9}/x.html");
        assert!(matches!(composed("/assets/app.js"), Cow::Borrowed(_)));
        assert!(matches!(composed("caf\u{e9}"), Cow::Borrowed(_)));
        // A combining mark with nothing to combine with stays, so `.` still leads.
        assert_eq!(composed(".\u{301}env"), ".\u{301}env");
    }

    #[test]
    fn globs_fold_case_only_when_asked_and_compose_always() {
        let sensitive = NameMatching {
            case_insensitive: false,
        };
        let insensitive = NameMatching {
            case_insensitive: true,
        };
        let glob = |names: NameMatching, text: &str| names.glob(text).unwrap().compile_matcher();
        assert!(!glob(sensitive, "/assets/**").is_match("/ASSETS/app.js"));
        assert!(glob(insensitive, "/assets/**").is_match("/ASSETS/App.JS"));
        let key = |path| insensitive.key(path).into_owned();
        assert!(glob(insensitive, "/caf\u{e9}/*").is_match(key("/CAF\u{c9}/x")));
        assert!(glob(insensitive, "/CAFE\u{301}/*").is_match(key("/cafe\u{301}/x")));
        assert!(!glob(sensitive, "/caf\u{e9}/*").is_match(sensitive.key("/CAF\u{c9}/x").as_ref()));
        assert!(!glob(insensitive, "/a/*.js").is_match("/a/b/c.js"));
        for names in [sensitive, insensitive] {
            let nfd_glob = glob(names, "/cafe\u{301}/*.html");
            assert!(nfd_glob.is_match(&*names.key("/caf\u{e9}/x.html")));
            assert!(nfd_glob.is_match(&*names.key("/cafe\u{301}/x.html")));
        }
    }

    #[test]
    fn probe_reads_a_case_sensitive_folder_as_such() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Index.html"), "x").unwrap();
        let probed = NameMatching::probe(dir.path());
        // What the file system does, asked directly.
        let folds = dir.path().join("iNDEX.HTML").exists();
        assert_eq!(probed.case_insensitive, folds);
        // Both spellings present as two files: the probe sees case counting.
        if !folds {
            std::fs::write(dir.path().join("iNDEX.HTML"), "y").unwrap();
            assert!(!NameMatching::probe(dir.path()).case_insensitive);
        }
        // Nothing with a letter to probe inside: the root's own name decides.
        let empty = tempfile::tempdir().unwrap();
        std::fs::write(empty.path().join("1"), "").unwrap();
        assert_eq!(NameMatching::probe(empty.path()).case_insensitive, folds);
    }

    /// The probe stats, never opens: a FIFO in the root would block an open for reading.
    #[cfg(unix)]
    #[test]
    fn probe_never_opens_what_it_looks_at() {
        let dir = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("Pipe"))
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let root = dir.path().to_path_buf();
        std::thread::spawn(move || tx.send(NameMatching::probe(&root)));
        let probed = rx.recv_timeout(std::time::Duration::from_secs(5));
        assert!(!probed.expect("the probe returned").case_insensitive);
    }
}
