//! Turns a request's URL path into a file path that is guaranteed to lie inside the served
//! folder, or refuses it.
//!
//! Resolution is lexical first: the path is percent-decoded once, split on `/`, and every
//! segment is checked on its own, so `%2f`, `%5c`, `..`, NUL and drive letters never reach the
//! file system as anything but a plain name. `PathBuf::join` is only ever given a single,
//! checked segment, so an absolute segment cannot replace the root. Symlinks that lead out of
//! the root are refused after the file system has been consulted, in `cache` (which knows each
//! file's real path). This module does no I/O.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// A request path that passed the lexical checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePath {
    /// The decoded, normalised segments, e.g. `["docs", "index.html"]` for `/docs/./index.html`.
    pub segments: Vec<String>,
    /// Whether the request path ended in `/` (it names a folder).
    pub trailing_slash: bool,
}

/// Why a request path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The path is malformed or tries to leave the root: answer 400.
    Malformed,
    /// The path names something hidden (a dotfile or dot-folder): answer 404, as if absent.
    Hidden,
}

impl SitePath {
    /// Parses the path part of a request target (no query string).
    ///
    /// # Errors
    /// [`Refusal::Malformed`] for paths that do not start with `/`, are not UTF-8 once
    /// decoded, contain NUL, backslashes or `:`, or climb above the root with `..`;
    /// [`Refusal::Hidden`] for any segment starting with `.` when dotfiles are hidden.
    pub fn parse(raw: &str, show_dotfiles: bool) -> Result<SitePath, Refusal> {
        if !raw.starts_with('/') {
            return Err(Refusal::Malformed);
        }
        let decoded = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| Refusal::Malformed)?;
        let mut segments: Vec<String> = Vec::new();
        let mut hidden = false;
        for segment in decoded.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    // Climbing above the root is an attack, not a typo: browsers normalise
                    // `..` before sending, so only hand-made requests carry one.
                    segments.pop().ok_or(Refusal::Malformed)?;
                }
                _ if is_forbidden(segment) => return Err(Refusal::Malformed),
                _ => {
                    hidden |= segment.starts_with('.');
                    segments.push(segment.to_owned());
                }
            }
        }
        if hidden && !show_dotfiles {
            return Err(Refusal::Hidden);
        }
        Ok(SitePath {
            segments,
            trailing_slash: decoded.ends_with('/'),
        })
    }

    /// The file system path under `root`. Lexically inside `root` by construction.
    pub fn under(&self, root: &Path) -> PathBuf {
        let mut path = root.to_path_buf();
        for segment in &self.segments {
            path.push(segment);
        }
        path
    }
}

/// Characters that have a meaning to some file system or OS and never belong in a web path:
/// NUL (C strings), `\` (a separator on Windows), `:` (drive letters, NTFS streams).
/// Windows device names (`CON`, `NUL`, ...) are refused as well, whatever the platform, so a
/// site behaves the same everywhere.
fn is_forbidden(segment: &str) -> bool {
    if segment.contains(['\0', '\\', ':']) {
        return true;
    }
    let stem = segment.split('.').next().unwrap_or(segment);
    let stem = stem.trim_end_matches(' ').to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Vec<String>, Refusal> {
        SitePath::parse(raw, false).map(|p| p.segments)
    }

    #[test]
    fn plain_paths_split_into_segments() {
        assert_eq!(parse("/").unwrap(), Vec::<String>::new());
        assert_eq!(parse("/a/b.html").unwrap(), ["a", "b.html"]);
        assert_eq!(parse("/a//./b/").unwrap(), ["a", "b"]);
        assert_eq!(parse("/caf%C3%A9/x%20y").unwrap(), ["café", "x y"]);
        assert_eq!(parse("/a/../b").unwrap(), ["b"]);
        assert!(SitePath::parse("/docs/", false).unwrap().trailing_slash);
        assert!(!SitePath::parse("/docs", false).unwrap().trailing_slash);
    }

    #[test]
    fn escapes_are_refused() {
        for raw in [
            "/..",
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/a/../../etc/passwd",
            "/..%2f..%2fetc/passwd",
            "/..\\..\\etc\\passwd",
            "/%5c..%5cetc",
            "/a%00.html",
            "/C:/Windows/win.ini",
            "/c%3a/windows",
            "/CON",
            "/aux.txt",
            "/LPT1",
            "/%ff%fe",
            "etc/passwd",
            "",
        ] {
            assert_eq!(parse(raw), Err(Refusal::Malformed), "{raw}");
        }
    }

    #[test]
    fn absolute_looking_paths_stay_under_the_root() {
        let root = Path::new("/srv/site");
        let path = SitePath::parse("//etc/passwd", false).unwrap();
        assert_eq!(path.under(root), Path::new("/srv/site/etc/passwd"));
        let path = SitePath::parse("/%2fetc%2fpasswd", false).unwrap();
        assert_eq!(path.under(root), Path::new("/srv/site/etc/passwd"));
    }

    proptest::proptest! {
        /// Whatever the input, an accepted path only ever adds plain names under the root.
        #[test]
        fn accepted_paths_stay_under_the_root(raw in "/[a-zA-Z0-9%./\\\\:~_ -]{0,40}", dots: bool) {
            let root = Path::new("/srv/site");
            if let Ok(path) = SitePath::parse(&raw, dots) {
                let full = path.under(root);
                proptest::prop_assert!(full.starts_with(root));
                proptest::prop_assert_eq!(full.components().count(), root.components().count() + path.segments.len());
                for segment in &path.segments {
                    proptest::prop_assert!(!segment.is_empty() && segment != "." && segment != "..");
                    proptest::prop_assert!(!segment.contains(['/', '\\', '\0', ':']));
                    proptest::prop_assert!(dots || !segment.starts_with('.'));
                }
            }
        }

        /// Arbitrary bytes, percent-encoded, never panic and never escape.
        #[test]
        fn encoded_bytes_never_escape(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..24)) {
            let raw: String = std::iter::once("/".to_owned())
                .chain(bytes.iter().map(|b| format!("%{b:02x}")))
                .collect();
            if let Ok(path) = SitePath::parse(&raw, true) {
                proptest::prop_assert!(path.under(Path::new("/srv/site")).starts_with("/srv/site"));
            }
        }
    }

    #[test]
    fn dotfiles_are_hidden_unless_shown() {
        assert_eq!(parse("/.env"), Err(Refusal::Hidden));
        assert_eq!(parse("/.git/config"), Err(Refusal::Hidden));
        assert_eq!(parse("/a/%2egit/HEAD"), Err(Refusal::Hidden));
        assert_eq!(SitePath::parse("/.env", true).unwrap().segments, [".env"]);
    }
}
