//! The checks of what pages and stylesheets link: broken links, case mismatches,
//! root-relative paths that break under a subpath, and content types that do not suit the
//! link's use. Reads each HTML and CSS file once (as Wharf's content-type table names them).

use super::finding::{Finding, FindingKind, Severity};
use super::inventory::Inventory;
use super::links::{folder_of, resolve, target, Link, Resolution, Role, Target};
use super::text::Lines;
use super::{css, html, mime};

/// The findings of every page and stylesheet's links.
pub(super) fn check(
    inventory: &mut Inventory,
    base_path: Option<&str>,
    clean_urls: bool,
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
            clean_urls,
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
        Resolution::Missing(what) => finding(
            FindingKind::BrokenLink,
            Severity::Error,
            format!("`{url}` is broken: {what}"),
            "Fix the link, or add the file it points to.".to_owned(),
        ),
    }
}
