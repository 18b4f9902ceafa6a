//! Broken links found live (issue 19): the requests a page of the site made that got 404,
//! read from a session of the access log, each with the page that asked (its `Referer`).
//! They find what the static half cannot see: links a script builds, and pages visited by
//! hand. A 404 whose path resolves now (the file was added, or the link's target fixed) is
//! left out, so fixed problems leave the report at the next check.
//!
//! Only a page of this machine or its network can be the asker: a `Referer` whose host is
//! `localhost`, a name under it, or a loopback or private IP address. A page of another site
//! sends only its origin (browsers' default policy), and it is not the site's to fix. What a
//! log holds is a stranger's to grow, so at most [`MAX_PAIRS`] distinct (path, page) pairs are
//! kept; later ones are counted in the report ([`CheckReport::live_omitted`]).
//!
//! [`CheckReport::live_omitted`]: super::CheckReport::live_omitted

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use super::finding::{Finding, FindingKind, Severity};
use super::inventory::Inventory;
use super::links::{self, Resolution, Target};
use super::CheckError;
use crate::http::guard;
use crate::observe::access::{rfc3339_ms, AccessRecord, Served};
use crate::observe::export::find_session;
use crate::observe::session_log::{LogLine, SessionReader};

/// Distinct (path, page) pairs kept from one session.
pub const MAX_PAIRS: usize = 200;

/// Where the check reads live traffic: a session of an access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traffic {
    /// The log folder (`--log-dir`).
    pub log_dir: PathBuf,
    /// The session's id; `None` for the newest.
    pub session: Option<String>,
}

/// One path's 404s from one page.
struct Seen {
    /// The path as requested, without its query.
    path: String,
    /// The page's address as its `Referer` gave it.
    referer: String,
    count: u64,
    last_ms: u64,
}

/// The 404s of `traffic`'s session that pages of the site asked for and that still miss in
/// `inventory` (as served with `clean_urls`), as findings; and how many pairs were over
/// [`MAX_PAIRS`].
///
/// # Errors
/// [`CheckError::Log`] when the session cannot be found or read.
pub(super) fn check(
    inventory: &Inventory,
    traffic: &Traffic,
    clean_urls: bool,
) -> Result<(Vec<Finding>, u64), CheckError> {
    let log_error = |source| CheckError::Log(Box::new(source));
    let session = find_session(&traffic.log_dir, traffic.session.as_deref()).map_err(log_error)?;
    let reader = SessionReader::open(&session).map_err(|source| {
        log_error(crate::ExportError::Read {
            folder: session.folder.clone(),
            source,
        })
    })?;
    let mut seen: HashMap<(String, String), Seen> = HashMap::new();
    let mut omitted = 0;
    // Unreadable lines (a crash mid-write) are skipped, as the CSV export does.
    for line in reader.flatten() {
        let LogLine::Request(record) = line else {
            continue;
        };
        let Some((path, referer)) = asked_by_a_page(&record) else {
            continue;
        };
        let key = (path.to_owned(), referer.to_owned());
        if let Some(pair) = seen.get_mut(&key) {
            pair.count += 1;
            pair.last_ms = pair.last_ms.max(record.start_ms);
        } else if seen.len() < MAX_PAIRS {
            let pair = Seen {
                path: key.0.clone(),
                referer: key.1.clone(),
                count: 1,
                last_ms: record.start_ms,
            };
            seen.insert(key, pair);
        } else {
            omitted += 1;
        }
    }
    let findings = seen
        .into_values()
        .filter(|pair| still_missing(inventory, &pair.path, clean_urls))
        .map(|pair| finding(inventory, clean_urls, pair))
        .collect();
    Ok((findings, omitted))
}

/// The path and the asking page of a 404 that a page of this machine or its network asked
/// for; `None` for any other record.
fn asked_by_a_page(record: &AccessRecord) -> Option<(&str, &str)> {
    let answered_by_site = !matches!(record.served, Served::Proxy | Served::Blocked);
    let read = matches!(record.method.as_str(), "GET" | "HEAD");
    if record.status != 404 || !answered_by_site || !read {
        return None;
    }
    let referer = record.referer.as_deref()?;
    let path = record.target.split(['?', '#']).next().unwrap_or("");
    // Wharf's own paths, and those browsers and tools probe by themselves.
    if !path.starts_with('/') || guard::is_wharf_path(path) || path.starts_with("/.well-known/") {
        return None;
    }
    local_page(referer).then_some((path, referer))
}

/// Whether `referer` is a page of this machine or its network.
fn local_page(referer: &str) -> bool {
    let Ok(uri) = referer.parse::<http::Uri>() else {
        return false;
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return false;
    }
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local()
        }
        Err(_) => false,
    }
}

/// Whether the site path `path` (as requested, from the root) still finds no file.
fn still_missing(inventory: &Inventory, path: &str, clean_urls: bool) -> bool {
    match links::target("", path, None) {
        Target::Local { name, .. } => !matches!(
            links::resolve(inventory, &name, clean_urls),
            Resolution::File(_)
        ),
        Target::Skip | Target::Malformed => true,
    }
}

/// The site file of the page at `referer`, if it is one; else its path as given.
fn page_file(inventory: &Inventory, referer: &str, clean_urls: bool) -> String {
    let path = referer
        .parse::<http::Uri>()
        .ok()
        .map(|uri| uri.path().to_owned())
        .unwrap_or_default();
    if let Target::Local { name, .. } = links::target("", &path, None) {
        if let Resolution::File(file) = links::resolve(inventory, &name, clean_urls) {
            return file;
        }
    }
    path
}

fn finding(inventory: &Inventory, clean_urls: bool, pair: Seen) -> Finding {
    let times = match pair.count {
        1 => "once".to_owned(),
        n => format!("{n} times"),
    };
    let when = rfc3339_ms(pair.last_ms);
    let favicon = pair.path == "/favicon.ico";
    let message = format!(
        "`{}` got 404 when {} asked for it ({times}, last at {when})",
        pair.path, pair.referer
    );
    let advice = if favicon {
        "Browsers ask for /favicon.ico by themselves: add one at the root, or name an icon \
         with <link rel=\"icon\" href=\"...\"> in the page's head."
    } else {
        "Fix the link in this page (or the script that builds it), or add the file. This was \
         seen live in the access log: a link made by a script is not found by reading the page."
    };
    Finding {
        kind: FindingKind::LiveNotFound,
        severity: if favicon {
            Severity::Warning
        } else {
            Severity::Error
        },
        file: page_file(inventory, &pair.referer, clean_urls),
        line: None,
        message,
        advice: advice.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_this_machine_or_its_network_are_askers() {
        for local in [
            "http://localhost:8080/a.html",
            "http://app.localhost/",
            "https://127.0.0.1:8443/x",
            "http://[::1]:9000/",
            "http://192.168.1.20:8080/",
            "http://10.0.0.2/",
            "http://[fd00::1]/",
        ] {
            assert!(local_page(local), "{local}");
        }
        for foreign in [
            "https://evil.example/",
            "http://8.8.8.8/",
            "file:///etc/passwd",
            "not a url",
            "http://localhost.evil.example/",
        ] {
            assert!(!local_page(foreign), "{foreign}");
        }
    }

    #[test]
    fn a_404_counts_only_when_a_page_asked_for_a_site_path() {
        let mut record = AccessRecord::example("/img/missing.png?v=2");
        record.status = 404;
        record.served = Served::Status;
        record.referer = Some("http://127.0.0.1:8080/blog/".into());
        assert_eq!(
            asked_by_a_page(&record),
            Some(("/img/missing.png", "http://127.0.0.1:8080/blog/"))
        );
        let mut other = record.clone();
        other.referer = None;
        assert_eq!(asked_by_a_page(&other), None, "no page asked");
        let mut other = record.clone();
        other.status = 200;
        assert_eq!(asked_by_a_page(&other), None);
        let mut other = record.clone();
        other.served = Served::Proxy;
        assert_eq!(asked_by_a_page(&other), None, "the backend's 404");
        let mut other = record.clone();
        other.method = "POST".into();
        assert_eq!(asked_by_a_page(&other), None);
        let mut other = record;
        other.target = "/.well-known/appspecific/com.chrome.devtools.json".into();
        assert_eq!(
            asked_by_a_page(&other),
            None,
            "probed by the browser itself"
        );
    }
}
