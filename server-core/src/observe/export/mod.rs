//! CSV export of one session of the durable access log ([`crate::observe::session_log`]), behind both
//! `wharf export-csv` and the desktop app's Export button; and its HAR twin (`har`:
//! `wharf export-har`, the app's Export HAR), which reads the same records through the same
//! filter.
//!
//! This module owns the export: the columns ([`COLUMNS`]), which session, what an export
//! reports ([`ExportSummary`], [`ExportError`]) and the loop over the log. `filter` decides
//! which records are kept; `csv` owns the format: RFC 4180 quoting, and the neutralising of
//! cells a spreadsheet would run as formulas. Numbers, times, peers and names Wharf chose are
//! written bare; every text cell is quoted and neutralised, also where a spreadsheet
//! splitting on `;`, tab or `|` would start a cell (see `csv::push_cell`). It streams: one
//! log line is read, filtered and written at a time into one reused buffer, so memory stays
//! flat whatever the session's size. It never writes to the log, and it never drops anything silently:
//! records deleted by retention or lost to a full queue are stated as rows of the file, and
//! lines torn by a crash are counted in the [`ExportSummary`].

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::observe::access::{rfc3339_ms, AccessRecord};
use crate::observe::session_log::{sessions, LogLine, SessionInfo, SessionReader};
use csv::CsvWriter;
pub use filter::{parse_rfc3339_ms, ExportFilter, StatusFilter};
pub use har::export_har;

mod csv;
mod filter;
mod har;

/// The header row, in column order. Each data row has exactly these cells.
pub const COLUMNS: [&str; 29] = [
    "id",
    "start",
    "peer",
    "method",
    "target",
    "version",
    "status",
    "body_bytes",
    "completed",
    "ttfb_us",
    "total_us",
    "outcome",
    "user_agent",
    "referer",
    "connection",
    "generation",
    "served",
    "note",
    // Issue 18: appended, so the columns before keep their places. The proxy rule (its
    // index in the setting), its target's status and time to first byte.
    "proxy_rule",
    "upstream_status",
    "upstream_ttfb_us",
    // Which network rule (its index in the setting) shaped or failed the request, and how,
    // e.g. `throttle+reset`; empty when none matched (issue 18).
    "network_rule",
    "network_effect",
    // The decisions that shaped the response, as words (issue 19): `route=file body=gz-sibling`.
    "why",
    // The request's timeline (issue 19), in microseconds before and after its head (`start`):
    // whether its connection was new, from the accept to the head, from the accept to TLS done
    // (a new HTTPS connection's first request), the head's own arrival, and the file's
    // resolution after it. Empty when unknown; the first byte and the last are `ttfb_us` and
    // `total_us`.
    "new_connection",
    "since_accept_us",
    "tls_us",
    "head_us",
    "resolve_us",
];

/// The `outcome` of the row stating what retention deleted before the export.
pub(crate) const RETENTION_DROPPED: &str = "retention_dropped";
/// The `outcome` of a row standing for records lost to a full log queue.
pub(crate) const LOST: &str = "lost";

/// Rows are written out in chunks of about this size.
const CHUNK_BYTES: usize = 64 * 1024;

/// What an export wrote, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    /// The session exported.
    pub session_id: String,
    /// Rows written below the header: requests, plus the rows stating dropped or lost
    /// records. For a HAR, its entries plus the losses its comment states.
    pub rows: u64,
    /// Request rows written (the requests that passed the filter).
    pub records: u64,
    /// Records the log's retention limit had deleted from the start of the session; when
    /// not 0, the first row says so.
    pub retention_dropped: u64,
    /// Records lost because the log's queue was full, within the time range; each loss is a
    /// row where it happened.
    pub lost: u64,
    /// Lines of the log that could not be read (torn by a crash) and were skipped.
    pub unreadable_lines: u64,
}

/// Why an export failed.
#[derive(Debug)]
pub enum ExportError {
    /// A status filter item is neither a status nor a class.
    BadStatus {
        /// The item, as given.
        given: String,
    },
    /// A time is not RFC 3339.
    BadTime {
        /// The text, as given.
        given: String,
    },
    /// The time range holds no instant: its start is not before its end.
    EmptyRange {
        /// The start, in milliseconds since the Unix epoch.
        from_ms: u64,
        /// The end, in milliseconds since the Unix epoch.
        to_ms: u64,
    },
    /// The log directory could not be listed.
    LogDir {
        /// The directory.
        dir: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The log directory holds no session.
    NoSessions {
        /// The directory.
        dir: PathBuf,
    },
    /// No session has the id asked for.
    UnknownSession {
        /// The id asked for.
        id: String,
        /// The directory.
        dir: PathBuf,
        /// The newest session's id, to suggest.
        newest: Option<String>,
    },
    /// The session's log could not be read.
    Read {
        /// The session's folder.
        folder: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file could not be written.
    Write {
        /// What the OS said.
        source: io::Error,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::BadStatus { given } => {
                write!(f, "'{given}' is not a status or class; use e.g. 404 or 4xx")
            }
            ExportError::BadTime { given } => write!(
                f,
                "'{given}' is not an RFC 3339 time; use e.g. 2026-11-21T03:00:00Z or \
                 2026-11-21T04:00:00+01:00"
            ),
            ExportError::EmptyRange { from_ms, to_ms } => write!(
                f,
                "the time range is empty: its start ({}) is not before its end ({})",
                rfc3339_ms(*from_ms),
                rfc3339_ms(*to_ms)
            ),
            ExportError::LogDir { dir, source } => {
                write!(
                    f,
                    "cannot read the log directory {}: {source}",
                    dir.display()
                )
            }
            ExportError::NoSessions { dir } => {
                write!(f, "the log directory {} holds no session", dir.display())
            }
            ExportError::UnknownSession { id, dir, newest } => {
                write!(f, "no session '{id}' in {}", dir.display())?;
                match newest {
                    Some(newest) => write!(f, "; the newest is {newest}"),
                    None => write!(f, "; it holds no session"),
                }
            }
            ExportError::Read { folder, source } => {
                write!(
                    f,
                    "cannot read the session log {}: {source}",
                    folder.display()
                )
            }
            ExportError::Write { source } => write!(f, "cannot write the export: {source}"),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::LogDir { source, .. }
            | ExportError::Read { source, .. }
            | ExportError::Write { source } => Some(source),
            _ => None,
        }
    }
}

/// Writes one session of the log in `log_dir` as CSV to `out`: a header row ([`COLUMNS`]),
/// then the requests that pass `filter` in the log's order (the order they finished, so
/// `start` is not always ascending). `out` is written in chunks of about
/// 64 KiB and flushed at the end; it need not be buffered.
///
/// Records that are not in the log are stated as rows, so a reader of the file knows what is
/// missing: first, when retention deleted the start of the session, a
/// [`RETENTION_DROPPED`] row; then, where the log's queue overflowed, a [`LOST`] row
/// (within the time range, whatever the status and path filters, since the lost records
/// might have matched them). See the README's "CSV export" section for each column.
///
/// ```no_run
/// use wharf_core::{export_csv, ExportFilter};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let filter = ExportFilter {
///     status: Some("4xx".parse()?),
///     ..ExportFilter::default()
/// };
/// let file = std::fs::File::create("errors.csv")?;
/// let summary = export_csv("logs".as_ref(), &filter, file)?;
/// println!("{} rows from session {}", summary.rows, summary.session_id);
/// # Ok(()) }
/// ```
///
/// # Errors
/// Before anything is written: [`ExportError::EmptyRange`], and [`ExportError::LogDir`],
/// [`ExportError::NoSessions`] or [`ExportError::UnknownSession`] when there is no such
/// session. Later, [`ExportError::Read`] or [`ExportError::Write`], and `out` may then hold
/// part of the export.
pub fn export_csv(
    log_dir: &Path,
    filter: &ExportFilter,
    out: impl Write,
) -> Result<ExportSummary, ExportError> {
    let (session, mut reader, mut summary) = open_session(log_dir, filter)?;
    let mut csv = CsvWriter::new(out);
    for name in COLUMNS {
        csv.safe(name);
    }
    csv.end_row()?;
    if summary.retention_dropped > 0 {
        let note = retention_note(summary.retention_dropped);
        csv.note_row(session.manifest.started_ms, RETENTION_DROPPED, &note)?;
        summary.rows += 1;
    }
    each_line(
        &session,
        &mut reader,
        filter,
        &mut summary,
        |line| match line {
            Kept::Request(record) => csv.record_row(record),
            Kept::Lost { count, at_ms } => csv.note_row(at_ms, LOST, &lost_note(count)),
        },
    )?;
    csv.finish()?;
    Ok(summary)
}

/// What an export writes a row or an entry for.
enum Kept<'a> {
    /// A request that passed the filter.
    Request(&'a AccessRecord),
    /// Records lost to a full queue, within the time range.
    Lost { count: u64, at_ms: u64 },
}

/// Checks `filter`'s range, then finds and opens the session it names, with the summary as
/// it stands before any line is read.
fn open_session(
    log_dir: &Path,
    filter: &ExportFilter,
) -> Result<(SessionInfo, SessionReader, ExportSummary), ExportError> {
    if let (Some(from_ms), Some(to_ms)) = (filter.from_ms, filter.to_ms) {
        if from_ms >= to_ms {
            return Err(ExportError::EmptyRange { from_ms, to_ms });
        }
    }
    let session = find_session(log_dir, filter.session.as_deref())?;
    let reader = SessionReader::open(&session).map_err(|source| ExportError::Read {
        folder: session.folder.clone(),
        source,
    })?;
    let summary = ExportSummary {
        session_id: session.manifest.id.clone(),
        retention_dropped: session.manifest.dropped_records,
        ..ExportSummary::default()
    };
    Ok((session, reader, summary))
}

/// Reads the session's lines in order, hands `write` each one `filter` keeps (and each loss in
/// its range), and counts them, and the lines it could not read, in `summary`.
fn each_line(
    session: &SessionInfo,
    reader: &mut SessionReader,
    filter: &ExportFilter,
    summary: &mut ExportSummary,
    mut write: impl FnMut(Kept<'_>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    for line in reader.by_ref() {
        match line {
            Ok(LogLine::Request(record)) if filter.keeps(&record) => {
                write(Kept::Request(&record))?;
                summary.records += 1;
                summary.rows += 1;
            }
            Ok(LogLine::Request(_)) => {}
            Ok(LogLine::Lost { count, at_ms }) if filter.in_range(at_ms) => {
                write(Kept::Lost { count, at_ms })?;
                summary.lost += count;
                summary.rows += 1;
            }
            Ok(LogLine::Lost { .. }) => {}
            // A line torn inside a UTF-8 sequence; the reader has consumed it and goes on.
            Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                summary.unreadable_lines += 1;
            }
            Err(source) => {
                return Err(ExportError::Read {
                    folder: session.folder.clone(),
                    source,
                })
            }
        }
    }
    summary.unreadable_lines += reader.unreadable;
    Ok(())
}

pub(crate) fn find_session(log_dir: &Path, id: Option<&str>) -> Result<SessionInfo, ExportError> {
    let mut all = sessions(log_dir).map_err(|source| ExportError::LogDir {
        dir: log_dir.to_owned(),
        source,
    })?;
    let position = match id {
        Some(id) => all
            .iter()
            .position(|session| session.manifest.id == id)
            .ok_or_else(|| ExportError::UnknownSession {
                id: id.to_owned(),
                dir: log_dir.to_owned(),
                newest: all.last().map(|session| session.manifest.id.clone()),
            })?,
        None => all
            .len()
            .checked_sub(1)
            .ok_or_else(|| ExportError::NoSessions {
                dir: log_dir.to_owned(),
            })?,
    };
    Ok(all.swap_remove(position))
}

fn retention_note(count: u64) -> String {
    match count {
        1 => "1 earlier record was deleted by the log's retention limit".to_owned(),
        n => format!("{n} earlier records were deleted by the log's retention limit"),
    }
}

fn lost_note(count: u64) -> String {
    match count {
        1 => "1 record was lost: the log queue was full".to_owned(),
        n => format!("{n} records were lost: the log queue was full"),
    }
}

#[cfg(test)]
mod tests;
