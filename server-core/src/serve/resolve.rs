//! Turns a request's URL path into a file path that is guaranteed to lie inside the served
//! folder, or refuses it.
//!
//! Resolution is lexical first: the path is percent-decoded once, split on `/`, and every
//! segment is checked on its own, so `%2f`, `..` and NUL never reach the file system as
//! anything but a plain name. Which other names are refused depends on the OS, because only
//! the OS gives them a meaning: on Unix nothing else (`a:b`, `a\b`, `CON.txt` are ordinary
//! names), on Windows streams, drives, `\`, device names and names Win32 would shorten (see
//! `forbidden_on_windows`). `PathBuf::join` is only ever given a single, checked segment, so
//! an absolute segment cannot replace the root.
//!
//! The file system can still lead elsewhere: a symlink, or on Windows an 8.3 short name
//! (`GIT~1` for `.git`). So once the cache has resolved a file's real path, `route` refuses
//! it if it lies outside the root (unless symlinks may be followed) or if any component below
//! the root starts with a dot (unless dotfiles are shown); [`DotDepth`] makes that second check
//! a comparison per request. This module does no I/O.

#![cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]

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
    /// decoded, climb above the root with `..`, or hold a segment this OS reads as more
    /// than a name (NUL everywhere; on Windows also `:`, `\`, device names, ...);
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
        let len = self.segments.iter().map(|s| s.len() + 1).sum::<usize>();
        let mut path = PathBuf::with_capacity(root.as_os_str().len() + len);
        path.push(root);
        for segment in &self.segments {
            path.push(segment);
        }
        path
    }
}

/// Whether `path` lies in `root` (or is it), as [`Path::starts_with`] says, which compares
/// component by component. Most calls are answered by a byte comparison: the root's bytes,
/// then the separator, are a component boundary in any path; anything else is left to
/// `starts_with`. Checked on every request, for the file's real path (issue 17).
pub fn lies_in(path: &Path, root: &Path) -> bool {
    let (path_bytes, root_bytes) = (
        path.as_os_str().as_encoded_bytes(),
        root.as_os_str().as_encoded_bytes(),
    );
    let boundary = path_bytes.get(root_bytes.len()).copied();
    if path_bytes.starts_with(root_bytes)
        && !root_bytes.is_empty()
        && boundary == Some(std::path::MAIN_SEPARATOR as u8)
    {
        return true;
    }
    path.starts_with(root)
}

/// Where the deepest dot-named component of a real (canonical) path ends, found once per
/// path so that "is anything below this root hidden?" is one comparison per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DotDepth {
    /// Length in bytes of the path up to the end of that component; 0 if there is none.
    end: usize,
}

impl DotDepth {
    /// Finds the deepest component of `real_path` whose name starts with `.`.
    pub fn of(real_path: &Path) -> DotDepth {
        let end = real_path
            .ancestors()
            .find(|ancestor| {
                ancestor
                    .file_name()
                    .is_some_and(|name| name.as_encoded_bytes().starts_with(b"."))
            })
            .map_or(0, |ancestor| ancestor.as_os_str().len());
        DotDepth { end }
    }

    /// Whether a component of the path this was found in, below `root`, starts with a dot.
    /// `root` must be an ancestor of that path, spelled the same way (both canonical).
    pub fn below(self, root: &Path) -> bool {
        self.end > root.as_os_str().len()
    }
}

/// Whether the OS this server runs on gives `segment` (one decoded path segment, never `.`,
/// `..` or empty) a meaning beyond a plain name. This is the one place the OS is chosen.
fn is_forbidden(segment: &str) -> bool {
    if cfg!(windows) {
        forbidden_on_windows(segment)
    } else {
        forbidden_on_unix(segment)
    }
}

/// On Unix a name is any bytes but `/` (the separator, which a segment cannot hold) and NUL
/// (which ends a C string, so the OS would see a shorter name). `notes 10:30.txt`, `a\b.txt`
/// and `CON.txt` are ordinary files there and must be served.
fn forbidden_on_unix(segment: &str) -> bool {
    segment.contains('\0')
}

/// The names Win32 reads as something other than a file in the folder: an NTFS alternate data
/// stream or a drive (`name:stream`, `C:`), a separator (`\`), a device (`CON`, `COM1`,
/// `LPT¹.txt`, ...), a name Win32 would silently shorten (trailing dots or spaces, so
/// `index.html.` is `index.html`), and the characters it forbids (`<>:"|?*`, controls).
/// See Microsoft's "Naming Files, Paths, and Namespaces". Compiled everywhere, so these rules
/// are tested on every platform.
fn forbidden_on_windows(segment: &str) -> bool {
    const FORBIDDEN: [char; 9] = ['<', '>', ':', '"', '|', '?', '*', '\\', '/'];
    if segment.contains(|c: char| c < ' ' || FORBIDDEN.contains(&c))
        || segment.ends_with(['.', ' '])
    {
        return true;
    }
    // `CON`, `con.txt`, `CON .tar.gz`: a device whatever the extension, case or padding.
    let stem = segment.split('.').next().unwrap_or(segment);
    let stem = stem.trim_end_matches(' ').to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => stem
            .strip_prefix("COM")
            .or_else(|| stem.strip_prefix("LPT"))
            .is_some_and(|port| {
                matches!(
                    port,
                    "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
                )
            }),
    }
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
            "/a%00.html",
            "/%00",
            "/%ff%fe",
            "etc/passwd",
            "",
        ] {
            assert_eq!(parse(raw), Err(Refusal::Malformed), "{raw}");
        }
    }

    /// Names only Windows reads as streams, drives, separators or devices.
    const WINDOWS_ONLY: [&str; 9] = [
        "/..\\..\\etc\\passwd",
        "/%5c..%5cetc",
        "/C:/Windows/win.ini",
        "/c%3a/windows",
        "/index.html::$DATA",
        "/CON",
        "/aux.txt",
        "/LPT1",
        "/index.html.",
    ];

    #[cfg(not(windows))]
    #[test]
    fn names_only_windows_gives_a_meaning_are_plain_names_elsewhere() {
        assert_eq!(parse("/notes 10:30.txt").unwrap(), ["notes 10:30.txt"]);
        assert_eq!(parse("/a%5Cb.txt").unwrap(), ["a\\b.txt"]);
        assert_eq!(
            parse("/%3Cscript%20src=data:,alert(1)%3E.txt").unwrap(),
            ["<script src=data:,alert(1)>.txt"]
        );
        assert_eq!(
            parse("/C:/Windows/win.ini").unwrap(),
            ["C:", "Windows", "win.ini"]
        );
        let root = Path::new("/srv/site");
        for raw in WINDOWS_ONLY {
            let path = SitePath::parse(raw, true).unwrap_or_else(|_| panic!("{raw}"));
            assert!(path.under(root).starts_with(root), "{raw}");
            assert_eq!(
                path.under(root).components().count(),
                root.components().count() + path.segments.len(),
                "{raw}: one component per segment"
            );
        }
    }

    #[cfg(windows)]
    #[test]
    fn names_windows_gives_a_meaning_are_refused_there() {
        for raw in WINDOWS_ONLY {
            assert_eq!(parse(raw), Err(Refusal::Malformed), "{raw}");
        }
    }

    #[test]
    fn windows_rules() {
        for name in [
            "a:b",
            "C:",
            "name:stream",
            "index.html::$DATA",
            "a\\b",
            "a<b",
            "a>b",
            "a\"b",
            "a|b",
            "a?b",
            "a*b",
            "tab\tname",
            "\u{1}",
            "CON",
            "con",
            "Con.txt",
            "CON .txt",
            "con  ",
            "nul.tar.gz",
            "PRN",
            "aux.html",
            "COM0",
            "com9.log",
            "LPT5",
            "COM\u{b9}",
            "com\u{b2}.txt",
            "LPT\u{b3}",
            "lpt\u{b9}.x",
            "CONIN$",
            "conout$.txt",
            "trailing.",
            "trailing ",
            "index.html. .",
            "...",
        ] {
            assert!(
                forbidden_on_windows(name),
                "{name:?} must be refused on Windows"
            );
        }
        for name in [
            "index.html",
            "notes 10.30.txt",
            "CONSOLE.txt",
            "com10",
            "LPT",
            "COM\u{b4}",
            "my con.txt",
            "xcon",
            ".hidden",
            "café",
            "\u{202e}txt.exe",
            "a\u{7f}b",
            "GIT~1",
        ] {
            assert!(
                !forbidden_on_windows(name),
                "{name:?} is a plain name on Windows"
            );
        }
        for name in ["a:b", "a\\b", "CON.txt", "x.", "a|b", "\u{202e}"] {
            assert!(!forbidden_on_unix(name), "{name:?} is a plain name on Unix");
        }
        assert!(forbidden_on_unix("a\0b"));
    }

    #[test]
    fn dot_depth_finds_dot_components_below_the_root_only() {
        let below = |real: &str, root: &str| DotDepth::of(Path::new(real)).below(Path::new(root));
        assert!(below("/srv/site/.git/config", "/srv/site"));
        assert!(below("/srv/site/a/.env", "/srv/site"));
        assert!(below("/srv/site/.a/b/c.txt", "/srv/site"));
        assert!(below("/.x/f", "/"));
        assert!(!below("/srv/site/a/b.txt", "/srv/site"));
        assert!(!below("/srv/site/a.b/c.d", "/srv/site"));
        assert!(!below("/home/u/.local/site/a.txt", "/home/u/.local/site"));
        assert!(!below("/home/u/.local/site", "/home/u/.local/site"));
        assert!(below("/home/u/.local/site/.cache/x", "/home/u/.local/site"));
        assert_eq!(DotDepth::of(Path::new("/a/b")), DotDepth::default());
    }

    #[test]
    fn lies_in_says_what_starts_with_says() {
        let cases = [
            ("/srv/site/a.txt", "/srv/site"),
            ("/srv/site", "/srv/site"),
            ("/srv/site2/a.txt", "/srv/site"),
            ("/srv/sit", "/srv/site"),
            ("/srv/site/a.txt", "/"),
            ("/srv/site/a.txt", "/srv/site/"),
            ("/srv//site/a.txt", "/srv/site"),
            ("/srv/./site/a.txt", "/srv/site"),
            ("/srv/site/../b", "/srv/site"),
            ("relative/a", "relative"),
            ("/a", ""),
            ("C:\\site\\a.txt", "C:\\site"),
            ("C:\\site/a.txt", "C:\\site"),
            ("\\\\?\\C:\\site\\a", "\\\\?\\C:\\site"),
            ("\\\\?\\C:\\site/a", "\\\\?\\C:\\site"),
            ("C:\\a", "C:"),
        ];
        for (path, root) in cases {
            let (path, root) = (Path::new(path), Path::new(root));
            assert_eq!(
                lies_in(path, root),
                path.starts_with(root),
                "{path:?} in {root:?}"
            );
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
                    proptest::prop_assert!(!segment.contains(['/', '\0']));
                    proptest::prop_assert!(!cfg!(windows) || !segment.contains(['\\', ':']));
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
