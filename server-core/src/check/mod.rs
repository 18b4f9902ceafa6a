//! The site check (`wharf check DIR`): what would go wrong if this folder were published as
//! it is, found statically, each finding with its file, line and advice (issue 19).
//!
//! One walk of the folder (`inventory`), then one mechanism per file: what pages and
//! stylesheets link (`pages`, through the `html` and `css` scanners, `links`' resolution and
//! `mime`'s judgement of content types, all as Wharf serves them), files that must not be
//! published (`private`), shared memory without cross-origin isolation (`isolation`), and
//! large text without a precompressed sibling (`compression`). It only reads the folder: it
//! never serves, follows symlinks out of it, or enters dot folders. Given a session of the
//! access log, it also reports the 404s that the site's pages met live (`traffic`).
//!
//! ```no_run
//! use wharf_core::{check_site, CheckOptions, Severity};
//!
//! let report = check_site("./site".as_ref(), &CheckOptions::default())?;
//! for finding in &report.findings {
//!     println!("{}:{:?}: {} {}", finding.file, finding.line, finding.kind.code(), finding.message);
//! }
//! let failed = report.count(Severity::Error) > 0;
//! # Ok::<(), wharf_core::CheckError>(())
//! ```

mod compression;
mod css;
mod finding;
mod html;
mod inventory;
mod isolation;
mod links;
mod mime;
mod pages;
mod private;
mod text;
mod traffic;

use std::path::{Path, PathBuf};

use crate::ConfigDraft;

pub use finding::{CheckReport, Finding, FindingKind, Severity};
pub use traffic::{Traffic, MAX_PAIRS as MAX_LIVE_PAIRS};

use inventory::Inventory;

/// What the check assumes about how the site will be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    /// The path the site will be deployed under, e.g. `/repo/` on GitHub Pages; root-relative
    /// links under it are the site's own, others are reported. Must start with `/`; a
    /// missing final `/` is added. Default: none (every root-relative link is reported).
    pub base_path: Option<String>,
    /// Whether the site will be served cross-origin isolated (COOP and COEP), as Wharf's
    /// `cross_origin_isolation` setting does. Default: false.
    pub cross_origin_isolation: bool,
    /// Whether the site will be served with clean URLs (a link to `/about` finds
    /// `about.html`), as Wharf's `clean_urls` setting does. Default: false.
    pub clean_urls: bool,
    /// Whether the site will be served with the SPA fallback (a page link to a path with no
    /// extension, such as `/dashboard`, gets the root `index.html`), as Wharf's
    /// `spa_fallback` setting does. Default: false.
    pub spa_fallback: bool,
    /// Files larger than this are not read (their links are unchecked; the report lists
    /// them). Default: 8 MiB.
    pub max_read_bytes: u64,
    /// Compressible files larger than this need a `.br` or `.gz` sibling. Default: 100 KiB.
    pub large_asset_bytes: u64,
    /// A session of the access log whose 404s, asked for by the site's pages, are reported
    /// too (`live_not_found`). Default: none.
    pub traffic: Option<Traffic>,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            base_path: None,
            cross_origin_isolation: false,
            clean_urls: false,
            spa_fallback: false,
            max_read_bytes: 8 << 20,
            large_asset_bytes: 100 << 10,
            traffic: None,
        }
    }
}

impl CheckOptions {
    /// The options for a site served with `settings`: its clean URLs, SPA fallback and
    /// cross-origin isolation, each its default when left out; the rest are the defaults.
    pub fn for_settings(settings: &ConfigDraft) -> CheckOptions {
        let settings = settings.clone().with_defaults();
        CheckOptions {
            cross_origin_isolation: settings.cross_origin_isolation.unwrap_or_default(),
            clean_urls: settings.clean_urls.unwrap_or_default(),
            spa_fallback: settings.spa_fallback.unwrap_or_default(),
            ..CheckOptions::default()
        }
    }
}

/// Why the check could not run.
#[derive(Debug)]
pub enum CheckError {
    /// The folder to check does not exist or is not a folder.
    RootNotADirectory {
        /// The folder as given.
        path: PathBuf,
    },
    /// The base path does not start with `/`.
    BadBasePath {
        /// The base path as given.
        value: String,
    },
    /// The access log's session for live traffic cannot be found or read.
    Log(Box<crate::ExportError>),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::RootNotADirectory { path } => {
                write!(f, "{} is not a folder", path.display())
            }
            CheckError::BadBasePath { value } => {
                write!(f, "base path `{value}` must start with `/`, e.g. /repo/")
            }
            CheckError::Log(err) => write!(f, "live traffic: {err}"),
        }
    }
}

impl std::error::Error for CheckError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckError::Log(err) => Some(err),
            _ => None,
        }
    }
}

/// Checks the folder `root` as it would be published. Blocking: it walks the folder and
/// reads its HTML, CSS, JavaScript and source-map files (each up to
/// [`CheckOptions::max_read_bytes`]).
///
/// # Errors
/// [`CheckError::RootNotADirectory`] if `root` is not a folder; [`CheckError::BadBasePath`]
/// if the base path does not start with `/`; [`CheckError::Log`] if `options.traffic` names
/// a session that cannot be found or read.
pub fn check_site(root: &Path, options: &CheckOptions) -> Result<CheckReport, CheckError> {
    let base_path = match options.base_path.as_deref() {
        None | Some("" | "/") => None,
        Some(base) if !base.starts_with('/') => {
            return Err(CheckError::BadBasePath {
                value: base.to_owned(),
            })
        }
        Some(base) if base.ends_with('/') => Some(base.to_owned()),
        Some(base) => Some(format!("{base}/")),
    };
    let root = dunce::canonicalize(root)
        .ok()
        .filter(|root| root.is_dir())
        .ok_or_else(|| CheckError::RootNotADirectory {
            path: root.to_path_buf(),
        })?;
    let mut inventory = Inventory::walk(&root, options.max_read_bytes);
    let mut findings = private::check(&mut inventory);
    findings.extend(pages::check(&mut inventory, base_path.as_deref(), options));
    findings.extend(isolation::check(
        &mut inventory,
        options.cross_origin_isolation,
    ));
    findings.extend(compression::check(&inventory, options.large_asset_bytes));
    let mut live_omitted = 0;
    if let Some(traffic) = &options.traffic {
        let (live, omitted) = traffic::check(&inventory, traffic, options.clean_urls)?;
        findings.extend(live);
        live_omitted = omitted;
    }
    let files_seen = inventory.file_count();
    let mut report = CheckReport::new(findings, files_seen, inventory.into_skipped());
    report.live = options.traffic.is_some();
    report.live_omitted = live_omitted;
    Ok(report)
}
