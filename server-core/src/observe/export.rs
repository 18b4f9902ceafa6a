//! CSV export of one session of the durable access log ([`crate::observe::session_log`]), behind both
//! `wharf export-csv` and the desktop app's Export button.
//!
//! This module owns the CSV format: the columns ([`COLUMNS`]), RFC 4180 quoting, and the
//! neutralising of cells a spreadsheet would run as formulas. Numbers, times, peers and names
//! Wharf chose are written bare; every text cell is quoted and neutralised, also where a
//! spreadsheet splitting on `;`, tab or `|` would start a cell (see `push_cell`). It streams: one log line is
//! read, filtered and written at a time into one reused buffer, so memory stays flat whatever
//! the session's size. It never writes to the log, and it never drops anything silently:
//! records deleted by retention or lost to a full queue are stated as rows of the file, and
//! lines torn by a crash are counted in the [`ExportSummary`].

use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use percent_encoding::percent_decode_str;
use serde::Serialize;
use time::{Date, Month};

use crate::observe::access::{rfc3339_ms, AccessRecord};
use crate::observe::session_log::{sessions, LogLine, SessionInfo, SessionReader};

/// The header row, in column order. Each data row has exactly these cells.
pub const COLUMNS: [&str; 18] = [
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
];

/// The `outcome` of the row stating what retention deleted before the export.
pub(crate) const RETENTION_DROPPED: &str = "retention_dropped";
/// The `outcome` of a row standing for records lost to a full log queue.
pub(crate) const LOST: &str = "lost";

/// Rows are written out in chunks of about this size.
const CHUNK_BYTES: usize = 64 * 1024;

/// Which session, and which of its requests, to export. Every field narrows the export; the
/// default exports the newest session whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// The session to export, by id (its folder name). Default: the newest.
    pub session: Option<String>,
    /// Only requests that started at or after this time, in milliseconds since the Unix
    /// epoch (see [`parse_rfc3339_ms`]). Default: no lower bound.
    pub from_ms: Option<u64>,
    /// Only requests that started before this time (exclusive, so consecutive ranges never
    /// share a row). Default: no upper bound.
    pub to_ms: Option<u64>,
    /// Only requests with these statuses. Default: every status.
    pub status: Option<StatusFilter>,
    /// Only requests whose target (path and query) starts with this, as received or with its
    /// `%XX` escapes decoded, so `/café/` matches `/caf%C3%A9/x`. Default: every target.
    pub path_prefix: Option<String>,
    /// Only requests with exactly this method, e.g. `GET` (methods are case-sensitive).
    /// Default: every method.
    pub method: Option<String>,
    /// Only requests whose target (path and query) contains this, ignoring case, as received
    /// or with its `%XX` escapes decoded, so `CAFÉ` matches `/caf%C3%A9/x`: the desktop log
    /// table's path filter. Default: every target.
    pub path_contains: Option<String>,
}

impl ExportFilter {
    fn in_range(&self, unix_ms: u64) -> bool {
        self.from_ms.is_none_or(|from| unix_ms >= from) && self.to_ms.is_none_or(|to| unix_ms < to)
    }

    fn keeps(&self, record: &AccessRecord) -> bool {
        self.in_range(record.start_ms)
            && self
                .status
                .as_ref()
                .is_none_or(|status| status.matches(record.status))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|prefix| target_starts_with(&record.target, prefix))
            && self
                .method
                .as_deref()
                .is_none_or(|method| record.method == method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|needle| target_contains(&record.target, needle))
    }
}

fn target_starts_with(target: &str, prefix: &str) -> bool {
    target.starts_with(prefix)
        || (target.contains('%')
            && percent_decode_str(target)
                .decode_utf8_lossy()
                .starts_with(prefix))
}

fn target_contains(target: &str, needle: &str) -> bool {
    contains_ignoring_case(target, needle)
        || (target.contains('%')
            && contains_ignoring_case(&percent_decode_str(target).decode_utf8_lossy(), needle))
}

/// Whether `haystack` contains `needle`, ignoring case. An ASCII needle (the common case: a
/// path typed into a filter box) is compared in place, without allocating per record.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if needle.is_ascii() {
        let needle = needle.as_bytes();
        needle.is_empty()
            || haystack
                .as_bytes()
                .windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle))
    } else {
        haystack.to_lowercase().contains(&needle.to_lowercase())
    }
}

/// A set of statuses: exact codes (`404`) and classes (`4xx`), parsed from a comma list such
/// as `2xx,304`. Status `0` stands for connections closed before any response.
///
/// ```
/// use wharf_core::StatusFilter;
///
/// let filter: StatusFilter = "4xx,304".parse().unwrap();
/// assert!(filter.matches(404) && filter.matches(304) && !filter.matches(200));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFilter {
    /// Inclusive ranges: `404` is `404..=404`, `4xx` is `400..=499`.
    ranges: Vec<(u16, u16)>,
}

impl StatusFilter {
    /// Whether `status` is in the set.
    pub fn matches(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }
}

impl FromStr for StatusFilter {
    type Err = ExportError;

    /// # Errors
    /// [`ExportError::BadStatus`] naming the first item that is neither a status (`0`,
    /// `100`–`999`) nor a class (`1xx`–`9xx`).
    fn from_str(text: &str) -> Result<StatusFilter, ExportError> {
        let ranges = text
            .split(',')
            .map(|item| {
                let item = item.trim();
                status_range(item).ok_or_else(|| ExportError::BadStatus {
                    given: item.to_owned(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(StatusFilter { ranges })
    }
}

fn status_range(item: &str) -> Option<(u16, u16)> {
    match item.as_bytes() {
        [class @ b'1'..=b'9', b'x' | b'X', b'x' | b'X'] => {
            let low = u16::from(class - b'0') * 100;
            Some((low, low + 99))
        }
        digits if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            let code: u16 = item.parse().ok()?;
            (code == 0 || (100..=999).contains(&code)).then_some((code, code))
        }
        _ => None,
    }
}

/// Parses an RFC 3339 time into milliseconds since the Unix epoch:
/// `2026-11-21T03:00:00Z`, with or without a fraction (`.123`; digits past milliseconds are
/// truncated), with `Z` or an offset (`+01:00`). A bare date (`2026-11-21`) means its
/// midnight UTC. Times before 1970 are refused.
///
/// ```
/// use wharf_core::parse_rfc3339_ms;
///
/// assert_eq!(parse_rfc3339_ms("2026-11-21T03:02:03.456Z").unwrap(), 1_795_230_123_456);
/// assert_eq!(parse_rfc3339_ms("2026-11-21T04:02:03.456+01:00").unwrap(), 1_795_230_123_456);
/// ```
///
/// # Errors
/// [`ExportError::BadTime`] if `text` is not such a time, including when it has no offset
/// (it would be ambiguous).
pub fn parse_rfc3339_ms(text: &str) -> Result<u64, ExportError> {
    rfc3339_to_ms(text.trim()).ok_or_else(|| ExportError::BadTime {
        given: text.to_owned(),
    })
}

fn rfc3339_to_ms(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let number = |at: usize, len: usize| -> Option<i64> {
        let digits = bytes.get(at..at + len)?;
        digits.iter().try_fold(0_i64, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + i64::from(digit - b'0'))
        })
    };
    let at = |index: usize, expected: &[u8]| bytes.get(index).is_some_and(|b| expected.contains(b));

    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    if !(at(4, b"-") && at(7, b"-")) {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?);
    let mut seconds = date.ok()?.midnight().as_utc().unix_timestamp();
    let mut millis = 0;
    if bytes.len() > 10 {
        let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
        let separators_ok = at(10, b"Tt ") && at(13, b":") && at(16, b":");
        // 60 is a leap second.
        if !separators_ok || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        seconds += hour * 3600 + minute * 60 + second;
        let mut index = 19;
        if at(index, b".") {
            index += 1;
            let digits = bytes[index..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == 0 {
                return None;
            }
            let first_three = &bytes[index..index + digits.min(3)];
            let scale = [100, 10, 1];
            millis = first_three
                .iter()
                .zip(scale)
                .map(|(&digit, scale)| i64::from(digit - b'0') * scale)
                .sum();
            index += digits;
        }
        let offset = match bytes.get(index)? {
            b'Z' | b'z' => {
                index += 1;
                0
            }
            sign @ (b'+' | b'-') => {
                let (hours, minutes) = (number(index + 1, 2)?, number(index + 4, 2)?);
                if !at(index + 3, b":") || hours > 23 || minutes > 59 {
                    return None;
                }
                index += 6;
                let offset = hours * 3600 + minutes * 60;
                if *sign == b'-' {
                    -offset
                } else {
                    offset
                }
            }
            _ => return None,
        };
        if index != bytes.len() {
            return None;
        }
        // Local time is UTC plus the offset.
        seconds -= offset;
    }
    u64::try_from(seconds * 1000 + millis).ok()
}

/// What an export wrote, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    /// The session exported.
    pub session_id: String,
    /// Rows written below the header: requests, plus the rows stating dropped or lost
    /// records.
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
    /// The CSV could not be written.
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
            ExportError::Write { source } => write!(f, "cannot write the CSV: {source}"),
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
    if let (Some(from_ms), Some(to_ms)) = (filter.from_ms, filter.to_ms) {
        if from_ms >= to_ms {
            return Err(ExportError::EmptyRange { from_ms, to_ms });
        }
    }
    let session = find_session(log_dir, filter.session.as_deref())?;
    let read_error = |source| ExportError::Read {
        folder: session.folder.clone(),
        source,
    };
    let mut reader = SessionReader::open(&session).map_err(read_error)?;
    let mut csv = CsvWriter::new(out);
    let mut summary = ExportSummary {
        session_id: session.manifest.id.clone(),
        retention_dropped: session.manifest.dropped_records,
        ..ExportSummary::default()
    };

    for name in COLUMNS {
        csv.safe(name);
    }
    csv.end_row()?;
    if summary.retention_dropped > 0 {
        let note = retention_note(summary.retention_dropped);
        csv.note_row(session.manifest.started_ms, RETENTION_DROPPED, &note)?;
        summary.rows += 1;
    }
    for line in reader.by_ref() {
        match line {
            Ok(LogLine::Request(record)) if filter.keeps(&record) => {
                csv.record_row(&record)?;
                summary.records += 1;
                summary.rows += 1;
            }
            Ok(LogLine::Request(_)) => {}
            Ok(LogLine::Lost { count, at_ms }) if filter.in_range(at_ms) => {
                csv.note_row(at_ms, LOST, &lost_note(count))?;
                summary.lost += count;
                summary.rows += 1;
            }
            Ok(LogLine::Lost { .. }) => {}
            // A line torn inside a UTF-8 sequence; the reader has consumed it and goes on.
            Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                summary.unreadable_lines += 1;
            }
            Err(err) => return Err(read_error(err)),
        }
    }
    summary.unreadable_lines += reader.unreadable;
    csv.finish()?;
    Ok(summary)
}

fn find_session(log_dir: &Path, id: Option<&str>) -> Result<SessionInfo, ExportError> {
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

/// Builds rows in one reused buffer and hands it to `out` in chunks. Cells that repeat from
/// row to row (the second of a time, the peer) are formatted once, not once per row.
struct CsvWriter<W: Write> {
    out: W,
    buffer: Vec<u8>,
    /// The second last formatted, and its text up to the fraction (`2026-11-21T03:02:03`).
    second: Option<(u64, String)>,
    /// The peer last formatted, and its text.
    peer: Option<(SocketAddr, String)>,
}

impl<W: Write> CsvWriter<W> {
    fn new(out: W) -> CsvWriter<W> {
        CsvWriter {
            out,
            buffer: Vec::with_capacity(CHUNK_BYTES + 4096),
            second: None,
            peer: None,
        }
    }

    fn record_row(&mut self, record: &AccessRecord) -> Result<(), ExportError> {
        self.number(record.id);
        self.time(record.start_ms);
        self.peer(record.peer);
        self.text(&record.method);
        self.text(&record.target);
        self.text(&record.version);
        self.number(u64::from(record.status));
        self.number(record.body_bytes);
        self.safe(if record.completed { "true" } else { "false" });
        match record.ttfb_us {
            Some(ttfb_us) => self.number(ttfb_us),
            None => self.safe(""),
        }
        self.number(record.total_us);
        self.safe(record.outcome.as_str());
        self.text(record.user_agent.as_deref().unwrap_or(""));
        self.text(record.referer.as_deref().unwrap_or(""));
        self.number(record.connection);
        self.number(record.generation);
        self.safe(record.served.as_str());
        self.safe("");
        self.end_row()
    }

    /// A row that stands for records the log does not hold: only `start`, `outcome` and
    /// `note` are filled.
    fn note_row(&mut self, unix_ms: u64, outcome: &str, note: &str) -> Result<(), ExportError> {
        for column in COLUMNS {
            match column {
                "start" => self.time(unix_ms),
                "outcome" => self.safe(outcome),
                "note" => self.text(note),
                _ => self.safe(""),
            }
        }
        self.end_row()
    }

    fn number(&mut self, value: u64) {
        self.buffer
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self.buffer.push(b',');
    }

    /// As [`rfc3339_ms`]: `2026-11-21T03:02:03.456Z`.
    fn time(&mut self, unix_ms: u64) {
        let second = unix_ms / 1000;
        let prefix = match &mut self.second {
            Some((cached, prefix)) if *cached == second => prefix,
            slot => {
                let mut text = rfc3339_ms(second * 1000);
                text.truncate(text.len() - ".000Z".len());
                &slot.insert((second, text)).1
            }
        };
        self.buffer.extend_from_slice(prefix.as_bytes());
        let millis = unix_ms % 1000;
        self.buffer.extend_from_slice(&[
            b'.',
            b'0' + (millis / 100) as u8,
            b'0' + (millis / 10 % 10) as u8,
            b'0' + (millis % 10) as u8,
            b'Z',
            b',',
        ]);
    }

    /// A socket address has no character that needs quoting or neutralising.
    fn peer(&mut self, peer: SocketAddr) {
        let text = match &mut self.peer {
            Some((cached, text)) if *cached == peer => text,
            slot => &slot.insert((peer, peer.to_string())).1,
        };
        self.buffer.extend_from_slice(text.as_bytes());
        self.buffer.push(b',');
    }

    /// A cell whose text we chose (a name, a time, an enum), never a stranger's.
    fn safe(&mut self, value: &str) {
        self.buffer.extend_from_slice(value.as_bytes());
        self.buffer.push(b',');
    }

    /// A text cell: from the network, or a note. Quoted and neutralised.
    fn text(&mut self, value: &str) {
        push_cell(&mut self.buffer, value);
        self.buffer.push(b',');
    }

    fn end_row(&mut self) -> Result<(), ExportError> {
        // Every cell ended with a comma; the row's last one becomes the line end.
        self.buffer.pop();
        self.buffer.extend_from_slice(b"\r\n");
        if self.buffer.len() >= CHUNK_BYTES {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), ExportError> {
        self.out
            .write_all(&self.buffer)
            .map_err(|source| ExportError::Write { source })?;
        self.buffer.clear();
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.drain()?;
        self.out
            .flush()
            .map_err(|source| ExportError::Write { source })
    }
}

/// Appends network text as one CSV cell: quoted, and neutralised wherever a spreadsheet may
/// start a cell.
///
/// Quoted per RFC 4180 §2.6–2.7, always (empty text stays an empty cell): the text is enclosed
/// in double quotes, its double quotes doubled, so a comma, quote or line break inside it never
/// ends the cell for a reader that splits on commas.
///
/// Neutralised following OWASP "CSV Injection": a spreadsheet runs a cell starting with `=`,
/// `+`, `-` or `@` (or their full-width forms, or tab or CR hiding such a start) as a formula,
/// so a single quote goes before it and the cell stays text. That start is looked for at the
/// beginning of the text and after every character some spreadsheet may split cells on when it
/// guesses the separator or the user picks one: `,` `;` tab `|` CR LF, and `"` (a field may open
/// with a quote after a split). A reader splitting on `;` sees `x;=1+1` as the cells `x` and
/// `=1+1`, so the export writes `x;'=1+1`. Spaces between the split and the start are skipped,
/// for readers that trim them.
fn push_cell(buffer: &mut Vec<u8>, value: &str) {
    if value.is_empty() {
        return;
    }
    buffer.push(b'"');
    // Bytes, not chars: every character that matters is ASCII but the full-width starts, and
    // a run with nothing to add is copied in one piece.
    let bytes = value.as_bytes();
    let (mut copied, mut cell_start) = (0, true);
    for (at, &byte) in bytes.iter().enumerate() {
        if cell_start && starts_formula(&bytes[at..]) {
            buffer.extend_from_slice(&bytes[copied..at]);
            buffer.push(b'\'');
            copied = at;
        }
        if byte == b'"' {
            buffer.extend_from_slice(&bytes[copied..=at]);
            buffer.push(b'"');
            copied = at + 1;
        }
        cell_start = splits_cells(byte) || (cell_start && byte == b' ');
    }
    buffer.extend_from_slice(&bytes[copied..]);
    buffer.push(b'"');
}

/// Whether `text` starts with a character that makes a cell a formula when it comes first:
/// `=` `+` `-` `@` tab CR, or the full-width `＝` `＋` `－` `＠` (U+FF1D, U+FF0B, U+FF0D, U+FF20).
fn starts_formula(text: &[u8]) -> bool {
    matches!(
        text,
        [b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r', ..]
            | [0xEF, 0xBC, 0x9D | 0x8B | 0x8D | 0xA0, ..]
    )
}

/// A byte after which some spreadsheet may start a new cell or row.
fn splits_cells(byte: u8) -> bool {
    matches!(byte, b',' | b';' | b'\t' | b'|' | b'\r' | b'\n' | b'"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::session_log::{Retention, SessionWriter};

    fn cell(value: &str) -> String {
        let mut buffer = Vec::new();
        push_cell(&mut buffer, value);
        String::from_utf8(buffer).unwrap()
    }

    #[test]
    fn formula_starts_are_neutralised_with_a_single_quote() {
        assert_eq!(
            cell("=HYPERLINK(\"http://evil\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\")\""
        );
        assert_eq!(cell("=1+1"), "\"'=1+1\"");
        assert_eq!(cell("+1"), "\"'+1\"");
        assert_eq!(cell("-2"), "\"'-2\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("\tcmd"), "\"'\tcmd\"");
        assert_eq!(cell("\r=1"), "\"'\r'=1\"");
        assert_eq!(cell("\u{FF1D}1+1"), "\"'\u{FF1D}1+1\"");
        assert_eq!(cell(" =1+1"), "\" '=1+1\"");
        // Inside a run of text these are plain text to a spreadsheet.
        assert_eq!(cell("/a=b+c-d@e"), "\"/a=b+c-d@e\"");
        assert_eq!(cell("'quoted"), "\"'quoted\"");
        assert_eq!(cell("a =1"), "\"a =1\"");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn formula_starts_after_any_separator_are_neutralised_too() {
        assert_eq!(cell("x;=1+1;y"), "\"x;'=1+1;y\"");
        assert_eq!(cell("x\t=1+1\ty"), "\"x\t'=1+1\ty\"");
        assert_eq!(cell("x,=1+1"), "\"x,'=1+1\"");
        assert_eq!(cell("x|@SUM(A1)"), "\"x|'@SUM(A1)\"");
        assert_eq!(cell("x\n-2"), "\"x\n'-2\"");
        assert_eq!(cell("x\r+2"), "\"x\r'+2\"");
        assert_eq!(cell("x; =1+1"), "\"x; '=1+1\"");
        assert_eq!(cell("x;\"=1+1\""), "\"x;\"\"'=1+1\"\"\"");
        assert_eq!(cell("x;;=1"), "\"x;;'=1\"");
        assert_eq!(cell("x\t\t=1"), "\"x\t'\t'=1\"");
        assert_eq!(cell("x;\u{FF0B}1"), "\"x;'\u{FF0B}1\"");
        assert_eq!(cell("a;b=c;d"), "\"a;b=c;d\"");
    }

    #[test]
    fn network_cells_are_always_quoted_per_rfc_4180() {
        assert_eq!(cell("/plain/path.html?q=1"), "\"/plain/path.html?q=1\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("\"\""), "\"\"\"\"\"\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(cell("carriage\rreturn"), "\"carriage\rreturn\"");
        assert_eq!(cell("/a,b\"c\nd"), "\"/a,b\"\"c\nd\"");
        assert_eq!(cell("/café/日本.html"), "\"/café/日本.html\"");
        assert_eq!(cell("tab\tinside"), "\"tab\tinside\"");
    }

    proptest::proptest! {
        /// Whatever the text: one quoted cell whose content is the text with single quotes
        /// added, and where no cell a spreadsheet may split off starts a formula.
        #[test]
        fn any_text_is_one_quoted_inert_cell(value in "[=+@;,|\t\r\n\" a'\u{FF1D}-]{0,16}|\\PC{0,16}") {
            let written = cell(&value);
            if value.is_empty() {
                proptest::prop_assert_eq!(written, "");
                return Ok(());
            }
            proptest::prop_assert!(written.starts_with('"') && written.ends_with('"'));
            let inner = &written[1..written.len() - 1];
            proptest::prop_assert!(!inner.replace("\"\"", "").contains('"'));
            let content = inner.replace("\"\"", "\"");
            // Split wherever some reader might, then trim spaces as some do.
            for piece in content.split([',', ';', '\t', '|', '\r', '\n', '"']) {
                let piece = piece.trim_start_matches(' ');
                proptest::prop_assert!(
                    !piece.starts_with(['=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}']),
                    "{:?} from {:?}", piece, value
                );
            }
            // Only single quotes were added.
            proptest::prop_assert_eq!(content.replace('\'', ""), value.replace('\'', ""));
        }
    }

    #[test]
    fn cached_and_hand_formatted_cells_match_the_plain_formatting() {
        let mut csv = CsvWriter::new(io::sink());
        let times = [
            0,
            999,
            1_000,
            1_795_230_123_456,
            1_795_230_123_457,
            1_795_230_124_000,
        ];
        let peers = ["127.0.0.1:1", "127.0.0.1:1", "[::1]:2", "127.0.0.1:1"];
        let numbers = [0, 7, 10, 404, u64::MAX];
        for unix_ms in times {
            csv.time(unix_ms);
        }
        for peer in peers {
            csv.peer(peer.parse().unwrap());
        }
        for number in numbers {
            csv.number(number);
        }
        let expected: Vec<String> = times
            .iter()
            .map(|&unix_ms| rfc3339_ms(unix_ms))
            .chain(peers.iter().map(|&peer| peer.to_owned()))
            .chain(numbers.iter().map(u64::to_string))
            .collect();
        assert_eq!(
            String::from_utf8(csv.buffer).unwrap(),
            format!("{},", expected.join(","))
        );
    }

    #[test]
    fn status_filters_take_codes_classes_and_lists() {
        let parse = |text: &str| text.parse::<StatusFilter>();
        let classes = parse("4xx").unwrap();
        assert!(classes.matches(400) && classes.matches(499));
        assert!(!classes.matches(399) && !classes.matches(500));
        let list = parse("2XX, 304 ,0").unwrap();
        assert!(list.matches(200) && list.matches(304) && list.matches(0));
        assert!(!list.matches(404));
        for bad in [
            "abc", "", "4x", "4xxx", "99", "1000", "0xx", "2xx,,404", "-1", "+404",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, ExportError::BadStatus { .. }), "{bad}");
        }
        assert_eq!(
            parse("2xx,abc").unwrap_err().to_string(),
            "'abc' is not a status or class; use e.g. 404 or 4xx"
        );
    }

    #[test]
    fn rfc3339_times_parse_to_unix_milliseconds() {
        let ms = |text: &str| parse_rfc3339_ms(text).unwrap();
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("2026-11-21T03:00:00Z"), 1_795_230_000_000);
        assert_eq!(ms("2026-11-21T03:02:03.456Z"), 1_795_230_123_456);
        assert_eq!(ms("2026-11-21t03:02:03.4567891z"), 1_795_230_123_456);
        assert_eq!(ms("2026-11-21 03:02:03.4Z"), 1_795_230_123_400);
        assert_eq!(ms("2026-11-20T22:02:03.456-05:00"), 1_795_230_123_456);
        assert_eq!(ms("2026-11-21T04:32:03.456+01:30"), 1_795_230_123_456);
        assert_eq!(ms("2026-11-21"), 1_795_219_200_000);
        assert_eq!(ms("2000-02-29T00:00:00.007Z"), 951_782_400_007);
        for unix_ms in [0, 951_782_400_007, 1_795_230_123_456, 4_102_444_800_000] {
            assert_eq!(ms(&rfc3339_ms(unix_ms)), unix_ms);
        }
        for bad in [
            "",
            "2026-11-21T03:00:00",
            "2026-11-21T03:00Z",
            "2026-11-21T03:00:00.Z",
            "2026-11-21T24:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-21T03:00:00+0100",
            "2026-11-21T03:00:00Zjunk",
            "1969-12-31T23:59:59Z",
            "tomorrow",
        ] {
            assert!(
                matches!(parse_rfc3339_ms(bad), Err(ExportError::BadTime { .. })),
                "{bad}"
            );
        }
    }

    fn record(id: u64, start_ms: u64, status: u16, target: &str) -> LogLine {
        LogLine::Request(AccessRecord {
            id,
            start_ms,
            peer: "[::1]:50000".parse().unwrap(),
            status,
            body_bytes: 10,
            ttfb_us: Some(5),
            total_us: 7,
            referer: Some("-".into()),
            connection: 3,
            generation: 2,
            ..AccessRecord::example(target)
        })
    }

    fn export_lines(dir: &Path, filter: &ExportFilter) -> (ExportSummary, Vec<String>) {
        let mut out = Vec::new();
        let summary = export_csv(dir, filter, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("\r\n"));
        let lines = text.split_terminator("\r\n").map(str::to_owned).collect();
        (summary, lines)
    }

    #[test]
    fn exports_the_newest_session_with_losses_in_place_and_filters_applied() {
        let dir = tempfile::tempdir().unwrap();
        let mut older = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        older.append(&record(1, 1000, 200, "/old")).unwrap();
        older.flush().unwrap();
        let older_id = older.id().to_owned();
        let mut writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        writer.append(&record(1, 1_000, 200, "/a")).unwrap();
        writer
            .append(&record(2, 2_000, 404, "/caf%C3%A9/x"))
            .unwrap();
        writer
            .append(&LogLine::Lost {
                count: 1,
                at_ms: 2_500,
            })
            .unwrap();
        writer.append(&record(3, 3_000, 500, "/b")).unwrap();
        writer.flush().unwrap();

        let (summary, lines) = export_lines(dir.path(), &ExportFilter::default());
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "1,1970-01-01T00:00:01.000Z,[::1]:50000,\"GET\",\"/a\",\"HTTP/1.1\",200,10,true,5,7,completed,,\"'-\",3,2,file,"
        );
        assert_eq!(
            lines[3],
            ",1970-01-01T00:00:02.500Z,,,,,,,,,,lost,,,,,,\"1 record was lost: the log queue was full\""
        );
        assert_eq!(lines.len(), 5);
        assert_eq!(
            summary,
            ExportSummary {
                session_id: writer.id().to_owned(),
                rows: 4,
                records: 3,
                retention_dropped: 0,
                lost: 1,
                unreadable_lines: 0,
            }
        );

        let filter = ExportFilter {
            status: Some("4xx,5xx".parse().unwrap()),
            path_prefix: Some("/café/".into()),
            ..ExportFilter::default()
        };
        let (summary, lines) = export_lines(dir.path(), &filter);
        assert_eq!((summary.records, summary.lost), (1, 1), "{lines:?}");
        assert!(lines[1].starts_with("2,"));

        let filter = ExportFilter {
            from_ms: Some(2_600),
            to_ms: Some(3_000),
            ..ExportFilter::default()
        };
        let (summary, lines) = export_lines(dir.path(), &filter);
        assert_eq!((summary.rows, lines.len()), (0, 1), "to is exclusive");

        let filter = ExportFilter {
            session: Some(older_id),
            ..ExportFilter::default()
        };
        let (_, lines) = export_lines(dir.path(), &filter);
        assert!(lines[1].contains(",\"/old\","));
    }

    #[test]
    fn method_and_path_contains_narrow_like_the_log_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        let head = |id, target: &str| match record(id, 1_000, 200, target) {
            LogLine::Request(record) => LogLine::Request(AccessRecord {
                method: "HEAD".into(),
                ..record
            }),
            line => line,
        };
        writer
            .append(&record(1, 1_000, 200, "/Assets/App.js"))
            .unwrap();
        writer.append(&head(2, "/assets/app.css")).unwrap();
        writer
            .append(&record(3, 1_000, 200, "/caf%C3%A9/Menu.html"))
            .unwrap();
        writer.append(&record(4, 1_000, 404, "/CAFÉ/x")).unwrap();
        writer.append(&record(5, 1_000, 200, "/other")).unwrap();
        writer.flush().unwrap();
        let ids = |filter: ExportFilter| -> Vec<String> {
            let (_, lines) = export_lines(dir.path(), &filter);
            lines[1..]
                .iter()
                .map(|line| line.split(',').next().unwrap().to_owned())
                .collect()
        };

        let contains = |text: &str| ExportFilter {
            path_contains: Some(text.into()),
            ..ExportFilter::default()
        };
        assert_eq!(ids(contains("ASSETS/app")), ["1", "2"]);
        // Decoded, and ignoring case beyond ASCII.
        assert_eq!(ids(contains("café/")), ["3", "4"]);
        assert_eq!(ids(contains("%c3%a9")), ["3"]);
        assert_eq!(ids(contains("")), ["1", "2", "3", "4", "5"]);
        assert!(ids(contains("/nowhere")).is_empty());

        let method = |text: &str| ExportFilter {
            method: Some(text.into()),
            ..ExportFilter::default()
        };
        assert_eq!(ids(method("HEAD")), ["2"]);
        assert_eq!(ids(method("GET")), ["1", "3", "4", "5"]);
        assert!(ids(method("get")).is_empty(), "methods are case-sensitive");

        // Every field narrows.
        let all = ExportFilter {
            method: Some("GET".into()),
            path_contains: Some("É".into()),
            status: Some("2xx".parse().unwrap()),
            ..ExportFilter::default()
        };
        assert_eq!(ids(all), ["3"]);
    }

    #[test]
    fn states_retention_first_and_counts_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let retention = Retention {
            max_session_bytes: 2_000,
            max_sessions: 20,
            segment_bytes: 500,
        };
        let mut writer = SessionWriter::create(dir.path(), retention).unwrap();
        for id in 1..=100 {
            writer.append(&record(id, id, 200, "/")).unwrap();
        }
        writer.flush().unwrap();
        let session = sessions(dir.path()).unwrap().remove(0);
        let newest = std::fs::read_dir(&session.folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
            .max()
            .unwrap();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(newest)
            .unwrap();
        // A crash mid-line, inside a multi-byte character: not even UTF-8.
        file.write_all(b"{\"type\":\"request\",\"target\":\"/caf\xc3")
            .unwrap();
        drop(file);

        let (summary, lines) = export_lines(dir.path(), &ExportFilter::default());
        let dropped = session.manifest.dropped_records;
        assert!(dropped > 0);
        assert_eq!(summary.retention_dropped, dropped);
        assert_eq!(summary.unreadable_lines, 1);
        assert_eq!(summary.records + dropped, 100);
        assert_eq!(
            lines[1],
            format!(
                ",{},,,,,,,,,,retention_dropped,,,,,,\"{dropped} earlier records were deleted by \
                 the log's retention limit\"",
                rfc3339_ms(session.manifest.started_ms)
            )
        );
        assert!(lines[2].starts_with(&format!("{},", dropped + 1)));
    }

    #[test]
    fn unknown_sessions_and_empty_ranges_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = export_csv(dir.path(), &ExportFilter::default(), io::sink());
        assert!(matches!(empty, Err(ExportError::NoSessions { .. })));
        let writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        let filter = ExportFilter {
            session: Some("nope".into()),
            ..ExportFilter::default()
        };
        let err = export_csv(dir.path(), &filter, io::sink()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no session 'nope' in {}; the newest is {}",
                dir.path().display(),
                writer.id()
            )
        );
        let filter = ExportFilter {
            from_ms: Some(5),
            to_ms: Some(5),
            ..ExportFilter::default()
        };
        let err = export_csv(dir.path(), &filter, io::sink()).unwrap_err();
        assert!(matches!(err, ExportError::EmptyRange { .. }));
    }
}
