//! Which records an export keeps: the session, the time range, the status filter
//! ([`StatusFilter`]: codes, classes, lists) and the method and path filters, and the RFC 3339
//! times a user gives for the range ([`parse_rfc3339_ms`]). Called by `export_csv` for each
//! record, and by the CLI and the app to parse what a user typed.

use std::str::FromStr;

use percent_encoding::percent_decode_str;
use time::{Date, Month};

use super::ExportError;
use crate::observe::access::AccessRecord;

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
    pub(super) fn in_range(&self, unix_ms: u64) -> bool {
        self.from_ms.is_none_or(|from| unix_ms >= from) && self.to_ms.is_none_or(|to| unix_ms < to)
    }

    pub(super) fn keeps(&self, record: &AccessRecord) -> bool {
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
