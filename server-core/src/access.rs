//! One access record per request: what was asked, what was answered, how long it took, and
//! how it ended. Records are built on the request path from data already at hand (a few
//! clocks and clones); formatting and I/O happen later, in the log's writer.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The whole response was handed to the connection.
    Completed,
    /// The client went away before the response was complete.
    ClientAborted,
    /// The client was too slow (its request head did not arrive within the header timeout).
    TimedOut,
    /// The request could not be read (malformed, too large) or the server failed.
    Error,
}

impl Outcome {
    /// The name used in logs and exports: `completed`, `client_aborted`, `timed_out`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::ClientAborted => "client_aborted",
            Outcome::TimedOut => "timed_out",
            Outcome::Error => "error",
        }
    }
}

/// What answered the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Served {
    /// A file, whole and uncompressed.
    File,
    /// A file, compressed with Brotli (on the fly or a `.br` sibling).
    Br,
    /// A file, compressed with gzip (on the fly or a `.gz` sibling).
    Gzip,
    /// Part of a file (206).
    Range,
    /// 304 Not Modified: the client's copy is current.
    NotModified,
    /// A directory listing.
    Listing,
    /// A redirect (a folder without its trailing slash, or `.html` dropped from an address).
    Redirect,
    /// A miss answered by the site's own page: the root `index.html` (SPA fallback, 200) or
    /// `404.html` (404).
    Fallback,
    /// Wharf's live-reload endpoints under `/__wharf/`: the event stream or its script.
    LiveReload,
    /// A status page or an empty answer (404, 405, OPTIONS, ...), or nothing at all.
    Status,
    /// Refused with 403 before anything was looked up: a `Host` the server does not answer to
    /// (DNS rebinding) or a cross-site `no-cors` load (see [`crate::guard`]).
    Blocked,
}

impl Served {
    /// The name used in logs and exports: `file`, `br`, `gzip`, `range`, `304`, `listing`,
    /// `redirect`, `fallback`, `live_reload`, `status`, `blocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Served::File => "file",
            Served::Br => "br",
            Served::Gzip => "gzip",
            Served::Range => "range",
            Served::NotModified => "304",
            Served::Listing => "listing",
            Served::Redirect => "redirect",
            Served::Fallback => "fallback",
            Served::LiveReload => "live_reload",
            Served::Status => "status",
            Served::Blocked => "blocked",
        }
    }
}

/// Everything recorded about one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRecord {
    /// Counts requests in the log's session, from 1.
    pub id: u64,
    /// When the request's head had been read, in milliseconds since the Unix epoch.
    pub start_ms: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The method as received (`GET`); empty when the request could not be parsed.
    pub method: String,
    /// The path and query exactly as received; empty when the request could not be parsed.
    pub target: String,
    /// `HTTP/1.1`, `HTTP/1.0`; empty when unknown.
    pub version: String,
    /// The status sent; 0 when the connection closed before any response.
    pub status: u16,
    /// Body bytes handed to the connection (not counting the head).
    pub body_bytes: u64,
    /// Whether the whole response was sent.
    pub completed: bool,
    /// Microseconds from the request's head to the response's first byte; `None` if no
    /// response started.
    pub ttfb_us: Option<u64>,
    /// Microseconds from the request's head to the end of the response (or its abandonment).
    pub total_us: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// The `User-Agent` header, if any. Untrusted text.
    pub user_agent: Option<String>,
    /// The `Referer` header, if any. Untrusted text.
    pub referer: Option<String>,
    /// The connection it arrived on, as in [`crate::ConnectionInfo::id`].
    pub connection: u64,
    /// The config generation that answered it.
    pub generation: u64,
    /// What answered it.
    pub served: Served,
}

#[cfg(test)]
impl AccessRecord {
    /// For unit tests: a completed `GET target` answered 200 from a file, on connection 1
    /// and generation 1, with every other field plain. Tests override what they examine.
    pub(crate) fn example(target: &str) -> AccessRecord {
        AccessRecord {
            id: 1,
            start_ms: 1_795_230_123_456,
            peer: std::net::SocketAddr::from(([127, 0, 0, 1], 50_000)),
            method: "GET".into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            status: 200,
            body_bytes: 100,
            completed: true,
            ttfb_us: Some(10),
            total_us: 20,
            outcome: Outcome::Completed,
            user_agent: None,
            referer: None,
            connection: 1,
            generation: 1,
            served: Served::File,
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// Whole microseconds, saturating.
pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// `unix_ms` as RFC 3339 UTC with milliseconds: `2026-11-21T03:15:00.123Z`.
pub fn rfc3339_ms(unix_ms: u64) -> String {
    let (secs, ms) = (unix_ms / 1000, unix_ms % 1000);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{ms:03}Z")
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_with_milliseconds() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_007), "2000-02-29T00:00:00.007Z");
        assert_eq!(rfc3339_ms(1_795_230_123_456), "2026-11-21T03:02:03.456Z");
    }
}
