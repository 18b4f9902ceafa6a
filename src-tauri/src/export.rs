//! The Export buttons: one site's access-log session as a CSV or HAR file at the path the user
//! chose.
//!
//! The user chooses the path in a save dialog the app opens ([`SaveTarget`]); the window only
//! says which site and which requests, never where, and reveals an export by its id (see
//! `Sites::exported`), so no script in the window can make the app write or show another file.
//!
//! The file itself is `wharf_core::export_csv`'s or `export_har`'s (the same as `wharf
//! export-csv` and `export-har`). This module
//! turns the window's filter into the core's, makes sure every request logged so far is on
//! disk first, and writes atomically (a temporary file renamed over the target), so a failed
//! export never leaves a truncated file. It runs on a blocking thread and holds no lock.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wharf_core::AccessLog;
use wharf_core::ExportSummary;

use crate::error::SiteError;

/// Which requests to export: the same rules as the log table's filters; every field
/// narrows and empty text means "any". Mirrors `ExportFilter` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExportFilter {
    /// A comma list of codes and classes, e.g. `2xx,304` (`0` is no response).
    pub status: Option<String>,
    /// Exact method, e.g. `GET`.
    pub method: Option<String>,
    /// Case-insensitive substring of the target, as received or percent-decoded.
    pub path_contains: Option<String>,
}

impl ExportFilter {
    /// The core's filter for `session` (`None`: the newest in the folder).
    fn to_core(&self, session: Option<String>) -> Result<wharf_core::ExportFilter, SiteError> {
        let given = |text: &Option<String>| {
            text.as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        Ok(wharf_core::ExportFilter {
            session,
            status: given(&self.status)
                .map(|status| status.parse())
                .transpose()
                .map_err(SiteError::Export)?,
            method: given(&self.method),
            path_contains: given(&self.path_contains),
            ..wharf_core::ExportFilter::default()
        })
    }
}

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `wharf_core::export_csv`: one row per request, for spreadsheets.
    Csv,
    /// `wharf_core::export_har`: HAR 1.2, for a browser's DevTools.
    Har,
}

impl ExportFormat {
    /// The file extension, also the save dialog's filter.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Har => "har",
        }
    }

    /// The save dialog's title.
    pub fn dialog_title(self) -> &'static str {
        match self {
            ExportFormat::Csv => "Export the access log as CSV",
            ExportFormat::Har => "Export the access log as HAR",
        }
    }

    fn write(
        self,
        log_dir: &std::path::Path,
        filter: &wharf_core::ExportFilter,
        out: &std::fs::File,
    ) -> Result<ExportSummary, wharf_core::ExportError> {
        match self {
            ExportFormat::Csv => wharf_core::export_csv(log_dir, filter, out),
            ExportFormat::Har => wharf_core::export_har(log_dir, filter, out),
        }
    }
}

/// Where the Export buttons' file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveTarget {
    /// The native save dialog; the file the user chooses there is the only one written.
    Dialog,
    /// Tests only: this file (with the export's extension: `.csv` or `.har`), as if the user
    /// had chosen it in the dialog. End-to-end tests drive the window through WebDriver, which
    /// cannot click a native dialog.
    Fixed(PathBuf),
}

impl SaveTarget {
    /// The variable that, set in the app's environment at launch (by the test harness, never
    /// by the window), replaces the dialog with [`SaveTarget::Fixed`]. Tests only.
    pub const TEST_ENV: &'static str = "WHARF_TEST_EXPORT_PATH";

    /// [`SaveTarget::Fixed`] when [`SaveTarget::TEST_ENV`] names a file, else the dialog.
    pub fn from_env() -> SaveTarget {
        match std::env::var_os(SaveTarget::TEST_ENV).filter(|path| !path.is_empty()) {
            Some(path) => SaveTarget::Fixed(path.into()),
            None => SaveTarget::Dialog,
        }
    }
}

/// The name the save dialog suggests: `wharf-<site>-<date>.csv` (or `.har`), with the UTC date
/// of `now_ms` and the site's name reduced to letters, digits, `.`, `_` and `-` (so no
/// separator, control or bidirectional character reaches the file system).
pub fn export_file_name(site_name: &str, now_ms: u64, format: ExportFormat) -> String {
    let mut slug = String::new();
    for c in site_name.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug
        .trim_start_matches(['-', '.'])
        .trim_end_matches('-')
        .chars()
        .take(60)
        .collect();
    let slug = if slug.is_empty() { "site" } else { &slug };
    let date = wharf_core::rfc3339_ms(now_ms);
    let extension = format.extension();
    format!(
        "wharf-{slug}-{}.{extension}",
        date.get(..10).unwrap_or("today")
    )
}

/// A finished export as the window sees it: the id to reveal it by, and what was written.
/// Mirrors `ExportSummary` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    /// This app run's number for the export, from `Sites::exported`.
    pub id: u64,
    /// The file and the counts.
    #[serde(flatten)]
    pub csv: ExportedCsv,
}

/// What an export wrote, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedCsv {
    /// The file written.
    pub path: PathBuf,
    /// The core's counts: rows, records, retention-dropped, lost, unreadable lines.
    #[serde(flatten)]
    pub summary: ExportSummary,
}

/// Writes the session `log` is recording (or, with no log this app run, the newest session
/// in `log_dir`) to `path` as `format`, keeping the requests that pass `filter`.
///
/// # Errors
/// [`SiteError::Export`] for a bad status filter or an unreadable log, and
/// [`SiteError::ExportFile`] if `path` cannot be written; `path` is then untouched.
pub async fn export_site(
    log: Option<AccessLog>,
    log_dir: PathBuf,
    path: PathBuf,
    filter: ExportFilter,
    format: ExportFormat,
) -> Result<ExportedCsv, SiteError> {
    let session = log.as_ref().and_then(|log| log.stats().session);
    let filter = filter.to_core(session)?;
    let target = path.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(log) = &log {
            // Everything logged until now is in the file, so the export holds every request.
            log.sync();
        }
        // Private like the log it copies (0600), and never written through a planted symlink.
        let summary =
            wharf_core::replace_private(&path, |file| format.write(&log_dir, &filter, file))
                .map_err(|source| SiteError::ExportFile {
                    path: path.clone(),
                    source,
                })?
                .map_err(SiteError::Export)?;
        Ok(ExportedCsv { path, summary })
    })
    .await
    // Only a panic in the export ends the task early; report it like a failed write.
    .map_err(|err| SiteError::ExportFile {
        path: target,
        source: std::io::Error::other(err),
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_mean_any_and_a_bad_status_is_refused() {
        let filter = ExportFilter {
            status: Some(" ".into()),
            method: Some("".into()),
            path_contains: Some(" /Assets ".into()),
        };
        let core = filter.to_core(Some("S".into())).unwrap();
        assert_eq!(core.session.as_deref(), Some("S"));
        assert_eq!(core.status, None);
        assert_eq!(core.method, None);
        assert_eq!(core.path_contains.as_deref(), Some("/Assets"));

        let bad = ExportFilter {
            status: Some("2xx,abc".into()),
            ..ExportFilter::default()
        };
        let err = bad.to_core(None).unwrap_err();
        assert!(matches!(err, SiteError::Export(_)), "{err}");

        let json: ExportFilter =
            serde_json::from_str(r#"{"status":"4xx","pathContains":"café"}"#).unwrap();
        assert_eq!(json.path_contains.as_deref(), Some("café"));
    }

    #[test]
    fn the_default_file_name_is_safe_and_dated() {
        let at = 1_763_683_200_000; // 2025-11-21T00:00:00Z
        let csv_file_name = |name: &str, at| export_file_name(name, at, ExportFormat::Csv);
        assert_eq!(csv_file_name("my-site", at), "wharf-my-site-2025-11-21.csv");
        assert_eq!(
            export_file_name("my-site", at, ExportFormat::Har),
            "wharf-my-site-2025-11-21.har"
        );
        assert_eq!(
            csv_file_name("My Site / v2", at),
            "wharf-My-Site-v2-2025-11-21.csv"
        );
        assert_eq!(csv_file_name("..", at), "wharf-site-2025-11-21.csv");
        assert_eq!(csv_file_name("café", at), "wharf-café-2025-11-21.csv");
        assert_eq!(
            csv_file_name("evil\u{202E}vsc.exe", at),
            "wharf-evil-vsc.exe-2025-11-21.csv"
        );
        assert_eq!(csv_file_name("../../etc", at), "wharf-etc-2025-11-21.csv");
    }

    #[tokio::test]
    async fn a_failed_export_leaves_no_file_behind() {
        let logs = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("requests.csv");
        let err = export_site(
            None,
            logs.path().into(),
            path.clone(),
            ExportFilter::default(),
            ExportFormat::Har,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("holds no session"), "{err}");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }
}
