//! The checks of what pages and stylesheets link: broken links, case mismatches,
//! root-relative paths that break under a subpath, and content types that do not suit the
//! link's use. Reads each HTML and CSS file once (as Wharf's content-type table names them).

use super::finding::{Finding, FindingKind, Severity};
use super::inventory::Inventory;
use super::inventory::Lookup;
use super::links::{folder_of, resolve, target, Link, Resolution, Role, Target};
use super::text::Lines;
use super::{css, html, mime, CheckOptions};

/// The findings of every page and stylesheet's links.
pub(super) fn check(
    inventory: &mut Inventory,
    base_path: Option<&str>,
    options: &CheckOptions,
) -> Vec<Finding> {
    let sources: Vec<(String, bool)> = inventory
        .entries()
        .filter(|(_, entry)| !entry.is_dir)
        .filter_map(|(name, _)| match mime::served_type(name).as_str() {
            "text/html" => Some((name.to_owned(), true)),
            "text/css" => Some((name.to_owned(), false)),
            _ => None,
        })
        .collect();
    let mut findings = Vec::new();
    for (file, is_html) in sources {
        let Some(text) = inventory.read_text(&file) else {
            continue;
        };
        let links = if is_html {
            html::links(&text)
        } else {
            let mut links = Vec::new();
            css::links(&text, 0, &mut links);
            links
        };
        // HTML's first `<base href>` applies to every link of the page, even earlier ones.
        let folder = match links.iter().find(|link| link.role == Role::Base) {
            None => folder_of(&file).to_owned(),
            Some(base) => match target(folder_of(&file), &base.url, base_path) {
                Target::Local { name, .. }
                    if base
                        .url
                        .split(['?', '#'])
                        .next()
                        .is_some_and(|path| path.ends_with('/'))
                        && !name.is_empty() =>
                {
                    format!("{name}/")
                }
                Target::Local { name, .. } => folder_of(&name).to_owned(),
                // Another site's base: the page's links are not this site's.
                Target::Skip | Target::Malformed => continue,
            },
        };
        let lines = Lines::new(&text);
        let place = Place {
            file: &file,
            folder: &folder,
            base_path,
            clean_urls: options.clean_urls,
            spa_fallback: options.spa_fallback,
        };
        for link in links.iter().filter(|link| link.role != Role::Base) {
            let line = lines.line_of(link.offset);
            judge(inventory, &place, line, link, &mut findings);
        }
    }
    findings
}

/// Where links are found and resolved.
struct Place<'a> {
    /// The site file holding them.
    file: &'a str,
    /// The folder their relative paths resolve against.
    folder: &'a str,
    /// The deploy's base path, if any.
    base_path: Option<&'a str>,
    /// Whether `about` finds `about.html`.
    clean_urls: bool,
    /// Whether a page link with no extension finds the root `index.html`.
    spa_fallback: bool,
}

/// The findings of one link at `line` of `place.file`.
fn judge(
    inventory: &Inventory,
    place: &Place<'_>,
    line: u32,
    link: &Link,
    findings: &mut Vec<Finding>,
) {
    let base_path = place.base_path;
    let mut finding = |kind, severity, message: String, advice: String| {
        findings.push(Finding {
            kind,
            severity,
            file: place.file.to_owned(),
            line: Some(line),
            message,
            advice,
        });
    };
    let url = link.url.trim();
    let (name, absolute) = match target(place.folder, url, base_path) {
        Target::Skip => return,
        Target::Malformed => {
            finding(
                FindingKind::BrokenLink,
                Severity::Error,
                format!(
                    "`{url}` is not a path Wharf would serve (bad percent-encoding, a NUL, or \
                     a name this OS forbids)"
                ),
                "Percent-encode the path as UTF-8 (e.g. `caf%C3%A9.html`), and give files \
                 names every OS accepts."
                    .to_owned(),
            );
            return;
        }
        Target::Local { name, absolute } => (name, absolute),
    };
    if absolute {
        let advice = match base_path {
            Some(base) => format!(
                "The site is deployed under `{base}`: write the link relative to this file, \
                 or start it with `{base}`."
            ),
            None => "Fine if the site is served at the root of its domain; if it will live \
                under a subpath (e.g. GitHub Pages' /repo/), write the link relative to this \
                file, or run `wharf check --base-path /repo/` to check links against it."
                .to_owned(),
        };
        finding(
            FindingKind::AbsolutePath,
            Severity::Warning,
            format!("`{url}` is root-relative and breaks if the site is served under a subpath"),
            advice,
        );
    }
    match resolve(inventory, &name, place.clean_urls) {
        Resolution::File(target_file) => {
            if let Some(mismatch) = mime::judge(link.role, &target_file) {
                finding(
                    FindingKind::WrongMime,
                    mismatch.severity,
                    mismatch.message,
                    mismatch.advice,
                );
            }
        }
        Resolution::CaseOnly { stored } => finding(
            FindingKind::CaseMismatch,
            Severity::Error,
            format!("`{url}` differs in case from the file `{stored}`"),
            "macOS and Windows ignore the difference, Linux hosts answer 404: spell the link \
             (or rename the file) so the case matches exactly."
                .to_owned(),
        ),
        // The SPA fallback answers a navigation to a path with no extension (as
        // `route::is_navigation` does) with the root page.
        Resolution::Missing(_) if place.spa_fallback && is_spa_route(inventory, link, &name) => {}
        Resolution::Missing(what) => {
            let advice = if is_navigation(link, &name) {
                "Fix the link, or add the file it points to. If a single-page app's router or \
                 clean URLs answer it, check as you serve: `--spa-fallback` or `--clean-urls`."
            } else {
                "Fix the link, or add the file it points to."
            };
            finding(
                FindingKind::BrokenLink,
                Severity::Error,
                format!("`{url}` is broken: {what}"),
                advice.to_owned(),
            );
        }
    }
}

/// Whether the SPA fallback answers page link `link` to the missing `name`: a navigation
/// whose last segment has no extension, on a site with a root `index.html`.
fn is_spa_route(inventory: &Inventory, link: &Link, name: &str) -> bool {
    is_navigation(link, name) && matches!(inventory.lookup("index.html"), Lookup::Exact(_))
}

/// Whether page link `link` to `name` is a navigation a router or clean URLs may answer: its
/// last segment has no extension (as `route::is_navigation` judges a request).
fn is_navigation(link: &Link, name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    link.role == Role::Page && !last.contains('.')
}
