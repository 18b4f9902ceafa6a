//! Where a link found in a page leads: resolved as a browser would against the page's URL,
//! then looked up in the site as Wharf would serve it (percent-decoded once by `resolve`'s
//! `SitePath`, query and fragment dropped, a folder answered by its `index.html`).
//! External URLs (any scheme, `//host`), fragments, empty and templated links are skipped.

use super::inventory::{Inventory, Lookup};
use crate::serve::names::composed;
use crate::serve::resolve::SitePath;

/// One link in a page or stylesheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    /// The URL as written (with `&amp;` decoded).
    pub url: String,
    /// The byte offset of the URL in its file.
    pub offset: usize,
    /// What the page loads it as.
    pub role: Role,
}

/// What a page loads a link as, which decides the content types it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A page to navigate to or frame (`<a>`, `<iframe>`, `<form action>`).
    Page,
    /// A classic script.
    Script,
    /// A module script (`<script type=module>`, `<link rel=modulepreload>`).
    ModuleScript,
    /// A stylesheet (`<link rel=stylesheet>`, `@import`).
    Style,
    /// A web font (`url()` in `@font-face`, `<link rel=preload as=font>`).
    Font,
    /// An image, media, icon or anything else.
    Other,
    /// The document's base URL (`<base href>`): every relative link resolves against it.
    Base,
}

/// Where a link points, before looking it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// Not a file of this site (external, a fragment, a template placeholder).
    Skip,
    /// A path Wharf would refuse as malformed (bad UTF-8 once decoded, a NUL).
    Malformed,
    /// A path in the site.
    Local {
        /// The site name it resolves to (`""` for the root).
        name: String,
        /// Written root-relative (`/x`), outside the base path if one is set.
        absolute: bool,
    },
}

/// What is at a link's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Resolution {
    /// This file answers it.
    File(String),
    /// Only a differently cased name exists.
    CaseOnly {
        /// The file's name as stored.
        stored: String,
    },
    /// Nothing answers it; the sentence says what is missing.
    Missing(String),
}

/// Where `url` points when relative links resolve against the site folder `folder` (`""` for
/// the root, else ending in `/`, e.g. `docs/`). `base_path`, when set, starts and ends with
/// `/`: root-relative links under it are the site's own.
pub(super) fn target(folder: &str, url: &str, base_path: Option<&str>) -> Target {
    let url = url.trim();
    let templated = ["{{", "${", "<%", "{%"].iter().any(|t| url.contains(t));
    if url.starts_with('#') || url.starts_with("//") || has_scheme(url) || templated {
        return Target::Skip;
    }
    let path = url.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() {
        return Target::Skip;
    }
    let (absolute, joined) = match path.strip_prefix('/') {
        Some(rest) => match base_path {
            Some(base) if path.starts_with(base) => (false, format!("/{}", &path[base.len()..])),
            Some(base) if path == base.trim_end_matches('/') => (false, "/".to_owned()),
            _ => (true, format!("/{rest}")),
        },
        None => (false, format!("/{folder}{path}")),
    };
    match SitePath::parse(&without_dot_segments(&joined), true) {
        Ok(site_path) => Target::Local {
            name: composed(&site_path.segments.join("/")).into_owned(),
            absolute,
        },
        Err(_) => Target::Malformed,
    }
}

/// The folder relative links of the site file `file` resolve against (`docs/` for
/// `docs/a.html`).
pub(super) fn folder_of(file: &str) -> &str {
    file.rfind('/').map_or("", |end| &file[..=end])
}

/// What answers the site name `name` (from [`target`]). With `clean_urls`, as Wharf's
/// setting of that name, a missing `about` is answered by `about.html`.
pub(super) fn resolve(inventory: &Inventory, name: &str, clean_urls: bool) -> Resolution {
    let lookup = match inventory.lookup(name) {
        Lookup::Missing if clean_urls && !name.is_empty() => {
            let page = format!("{name}.html");
            match inventory.lookup(&page) {
                Lookup::Exact(entry) if !entry.is_dir => return Resolution::File(page),
                Lookup::CaseOnly(stored) => return Resolution::CaseOnly { stored },
                _ => Lookup::Missing,
            }
        }
        lookup => lookup,
    };
    let (entry_name, is_dir, case_only) = match lookup {
        Lookup::Exact(entry) => (name.to_owned(), entry.is_dir, false),
        Lookup::CaseOnly(stored) => {
            let is_dir = matches!(inventory.lookup(&stored), Lookup::Exact(e) if e.is_dir);
            (stored, is_dir, true)
        }
        Lookup::Missing => return Resolution::Missing(format!("no file `{name}`")),
    };
    let file = if is_dir {
        let index = if entry_name.is_empty() {
            "index.html".to_owned()
        } else {
            format!("{entry_name}/index.html")
        };
        match inventory.lookup(&index) {
            Lookup::Exact(_) => index,
            Lookup::CaseOnly(stored) => return Resolution::CaseOnly { stored },
            Lookup::Missing => {
                let shown = if name.is_empty() { "/" } else { name };
                return Resolution::Missing(format!("folder `{shown}` has no index.html"));
            }
        }
    } else {
        entry_name
    };
    if case_only {
        Resolution::CaseOnly { stored: file }
    } else {
        Resolution::File(file)
    }
}

/// Whether `url` starts with a URL scheme (`https:`, `mailto:`, `data:`, `javascript:`).
fn has_scheme(url: &str) -> bool {
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `path` with `.` and `..` segments applied as the URL standard does (also `%2e`), never
/// climbing above the root: a browser turns `/../x` into `/x`.
fn without_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment.to_ascii_lowercase().as_str() {
            "." | "%2e" => {}
            ".." | ".%2e" | "%2e." | "%2e%2e" => {
                kept.pop();
            }
            _ => kept.push(segment),
        }
    }
    format!("/{}", kept.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(from: &str, url: &str, base: Option<&str>) -> (String, bool) {
        match target(from, url, base) {
            Target::Local { name, absolute } => (name, absolute),
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn links_resolve_against_their_page_like_a_browser() {
        assert_eq!(
            local("docs/", "b.html", None),
            ("docs/b.html".into(), false)
        );
        assert_eq!(
            local("docs/", "../x%20y.css?v=1#f", None),
            ("x y.css".into(), false)
        );
        assert_eq!(local("", "../../up.js", None), ("up.js".into(), false));
        assert_eq!(
            local("docs/", "/js/app.js", None),
            ("js/app.js".into(), true)
        );
        assert_eq!(
            local("", "/sub/js/app.js", Some("/sub/")),
            ("js/app.js".into(), false)
        );
        assert_eq!(local("", "/sub", Some("/sub/")), ("".into(), false));
        assert_eq!(
            local("", "/other/x.js", Some("/sub/")),
            ("other/x.js".into(), true)
        );
    }

    #[test]
    fn external_and_special_links_are_skipped() {
        for url in [
            "https://example.com/x.js",
            "//cdn.example.com/x.js",
            "mailto:a@b.c",
            "data:image/png;base64,xx",
            "javascript:void(0)",
            "#top",
            "?page=2",
            "",
            "{{ asset }}",
        ] {
            assert_eq!(target("", url, None), Target::Skip, "{url}");
        }
        assert_eq!(target("", "/%ff.js", None), Target::Malformed);
    }
}
