//! One access record per request: what was asked, what was answered, how long it took, and
//! how it ended. Records are built on the request path from data already at hand (a few
//! clocks and clones); formatting and I/O happen later, in the log's writer.
//!
//! The text a client chooses (method, target, user agent, referer) is capped
//! ([`MAX_TARGET_BYTES`] and its siblings), so one record, and the window's buffer of
//! records, has a bounded size however large the headers that arrive (issue 13).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use time::UtcDateTime;

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

    /// How it ended, in words, as the window and `wharf serve --explain` say it: nothing for a
    /// completed answer. `{bytes}` stands for the body bytes that went out.
    pub fn words(self) -> &'static str {
        match self {
            Outcome::Completed => "",
            Outcome::ClientAborted => {
                "The client went away before the whole answer was sent: {bytes} body bytes went out."
            }
            Outcome::TimedOut => {
                "The request's head did not arrive in time (Settings → Header timeout): Wharf closed \
                 the connection."
            }
            Outcome::Error => {
                "The request could not be read, or its connection was cut (by a stop, a new \
                 generation's deadline, or a network rule's reset)."
            }
        }
    }

    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Completed,
        Outcome::ClientAborted,
        Outcome::TimedOut,
        Outcome::Error,
    ];
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
    /// (DNS rebinding) or a cross-site `no-cors` load (see [`crate::http::guard`]).
    Blocked,
    /// Forwarded to a proxy rule's target, or answered 502/504 for it (see [`crate::proxy`]).
    Proxy,
}

impl Served {
    /// The name used in logs and exports: `file`, `br`, `gzip`, `range`, `304`, `listing`,
    /// `redirect`, `fallback`, `live_reload`, `status`, `blocked`, `proxy`.
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
            Served::Proxy => "proxy",
        }
    }
}

/// Longest method kept in a record, in bytes. Every method Wharf answers is far shorter;
/// hyper accepts any token as an extension method.
pub(crate) const MAX_METHOD_BYTES: usize = 32;
/// Longest request target (path and query) kept in a record, in bytes: 2 KiB, the limit the
/// sitemaps protocol and many tools apply to URLs. Longer targets are still answered (up to
/// the 414 limit, `service::MAX_URI_LEN`), only their record is cut.
pub const MAX_TARGET_BYTES: usize = 2048;
/// Longest `User-Agent` kept in a record, in bytes. Real browsers' are 100 to 400 bytes.
pub const MAX_USER_AGENT_BYTES: usize = 512;
/// Longest `Referer` kept in a record, in bytes. Browsers send only the origin across sites
/// (the default policy, `strict-origin-when-cross-origin`); longer ones are the site's own
/// pages, whose target is recorded in full by their own request.
pub const MAX_REFERER_BYTES: usize = 512;
/// Ends a field that was cut to its cap.
pub const TRUNCATION_MARK: char = '…';
/// Most headers a record keeps of each side (request, response); the rest are counted in
/// [`RecordedHeaders::request_omitted`] and its sibling (issue 19).
pub const MAX_HEADERS: usize = 64;
/// Most bytes of names and values a record keeps of each side's headers: a header that would
/// go past them is left out and counted, never cut at a place other than its value's cap.
pub const MAX_HEADER_SIDE_BYTES: usize = 8 * 1024;
/// Longest header value kept, in bytes (capped as [`capped_end`] says): room for a browser's
/// largest cookie (4 KiB).
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;
/// Longest header name kept, in bytes (capped as [`capped_end`] says).
pub const MAX_HEADER_NAME_BYTES: usize = 256;

/// `text` as kept in a record with a cap of `cap` bytes: whole when shorter than `cap`;
/// otherwise cut at the last char boundary at or before `cap`, then
/// [`TRUNCATION_MARK`]. A cut field is therefore at least `cap` bytes long and ends with the
/// mark, which no whole field is (see [`is_truncated`]).
///
/// ```ignore
/// use wharf_core::access::{capped, is_truncated};
///
/// assert_eq!(capped("Mozilla/5.0", 512), "Mozilla/5.0");
/// let cut = capped(&"é".repeat(100), 9); // two bytes each: 9 falls inside one
/// assert_eq!(cut, "éééé…");
/// assert!(is_truncated(&cut, 9));
/// ```
#[cfg(test)]
pub(crate) fn capped(text: &str, cap: usize) -> String {
    let Some(end) = capped_end(text, cap) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(end + TRUNCATION_MARK.len_utf8());
    out.push_str(&text[..end]);
    out.push(TRUNCATION_MARK);
    out
}

/// Where [`capped`] cuts `text`: `None` when it is kept whole, else the last char boundary at
/// or before `cap`, after which the mark follows.
pub(crate) fn capped_end(text: &str, cap: usize) -> Option<usize> {
    if text.len() < cap {
        return None;
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(end)
}

/// [`capped`] for a header value: invalid UTF-8 becomes U+FFFD, and a huge value is never
/// copied whole first.
#[cfg(test)]
pub(crate) fn capped_bytes(bytes: &[u8], cap: usize) -> String {
    capped(&lossy_prefix(bytes, cap), cap)
}

/// The start of a header value `bytes`, decoded (invalid UTF-8 as U+FFFD), long enough to be
/// capped at `cap` as the whole value would be: a char is at most 4 bytes, and an invalid
/// byte becomes one 3-byte U+FFFD, so this prefix decodes to more than `cap` bytes whenever
/// the whole value would.
pub(crate) fn lossy_prefix(bytes: &[u8], cap: usize) -> std::borrow::Cow<'_, str> {
    let prefix = &bytes[..bytes.len().min(cap + 4)];
    // `from_utf8` first: it checks ASCII a word at a time, where `from_utf8_lossy` walks every
    // byte, and nearly every header value is ASCII (measured: 0.9 % of a request's CPU).
    match std::str::from_utf8(prefix) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(prefix),
    }
}

/// Whether `field` was cut by [`capped_end`] with a cap of `cap` bytes.
pub(crate) fn is_truncated(field: &str, cap: usize) -> bool {
    field.len() >= cap && field.ends_with(TRUNCATION_MARK)
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
    /// The method as received (`GET`); empty when the request could not be parsed. Capped
    /// at [`MAX_METHOD_BYTES`] (see [`capped_end`]).
    pub method: String,
    /// The path and query exactly as received; empty when the request could not be parsed.
    /// Capped at [`MAX_TARGET_BYTES`] (see [`capped_end`]).
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
    /// The `User-Agent` header, if any. Untrusted text, capped at [`MAX_USER_AGENT_BYTES`]
    /// (see [`capped_end`]).
    pub user_agent: Option<String>,
    /// The `Referer` header, if any. Untrusted text, capped at [`MAX_REFERER_BYTES`] (see
    /// [`capped_end`]).
    pub referer: Option<String>,
    /// The connection it arrived on, as in [`crate::ConnectionInfo::id`].
    pub connection: u64,
    /// The config generation that answered it.
    pub generation: u64,
    /// What answered it.
    pub served: Served,
    /// For a proxied request, the rule and what its target did; absent from records written
    /// before the proxy (issue 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyRecord>,
    /// Which network rule shaped or failed it, and how (issue 18); `None` when no rule
    /// matched, and in records written before network rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<crate::network::NetworkNote>,
    /// The decisions that shaped the response (issue 19); `None` in records written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<crate::observe::why::Why>,
    /// The request's timeline before its first byte, and whether its connection was new
    /// (issue 19); `None` for a head that never finished, and in records written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<crate::observe::timing::Timing>,
    /// The request's headers as the server saw them and the response's as it sent them,
    /// bounded (issue 19, for the HAR export). Kept only by a durable log and read back from
    /// it: the live stream leaves them out, and records written before, or by a log that keeps
    /// nothing on disk, read `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<RecordedHeaders>,
}

/// The headers of one exchange, as a record keeps them: at most [`MAX_HEADERS`] and
/// [`MAX_HEADER_SIDE_BYTES`] a side, each name and value capped ([`MAX_HEADER_NAME_BYTES`],
/// [`MAX_HEADER_VALUE_BYTES`]) and marked with [`TRUNCATION_MARK`] when cut. Names are lower
/// case (as hyper gives them); invalid UTF-8 in a value is U+FFFD. An HTTP/2 request's
/// authority is its first header, `:authority`, as browsers show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedHeaders {
    /// The address the server answered on (the connection's local address).
    pub server: Option<SocketAddr>,
    /// Whether the request came over TLS.
    pub https: bool,
    /// The request's headers, in the order hyper gives them.
    pub request: Vec<HeaderLine>,
    /// Request headers left out by the bounds.
    pub request_omitted: u16,
    /// The response's headers as the server set them, and the framing header hyper adds when
    /// the server set none (`content-length` or `transfer-encoding`). hyper's `date` is not
    /// kept: the HAR export writes it from the start time.
    pub response: Vec<HeaderLine>,
    /// Response headers left out by the bounds.
    pub response_omitted: u16,
}

/// One header: untrusted text, capped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderLine {
    /// Its name, lower case.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl RecordedHeaders {
    /// Whether anything was left out or cut.
    pub fn truncated(&self) -> bool {
        let cut = |lines: &[HeaderLine]| {
            lines.iter().any(|line| {
                is_truncated(&line.name, MAX_HEADER_NAME_BYTES)
                    || is_truncated(&line.value, MAX_HEADER_VALUE_BYTES)
            })
        };
        self.request_omitted > 0
            || self.response_omitted > 0
            || cut(&self.request)
            || cut(&self.response)
    }

    /// The first request header named `name` (lower case).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        find(&self.request, name)
    }

    /// The first response header named `name` (lower case).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find(&self.response, name)
    }
}

fn find<'a>(lines: &'a [HeaderLine], name: &str) -> Option<&'a str> {
    lines
        .iter()
        .find(|line| line.name == name)
        .map(|line| line.value.as_str())
}

/// What a proxy rule's target did for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyRecord {
    /// The rule that matched: its index in the `proxy` setting of the record's generation.
    pub rule: u16,
    /// The target's status; `None` when it did not answer (the 502 or 504 is `status`).
    pub upstream_status: Option<u16>,
    /// Microseconds from sending the request to the target to its response head.
    pub upstream_ttfb_us: Option<u64>,
}

impl AccessRecord {
    /// Whether any field was cut to its cap, as marked by [`TRUNCATION_MARK`]. Derived from
    /// the fields themselves, so session logs written before the caps read the same.
    pub fn truncated(&self) -> bool {
        is_truncated(&self.method, MAX_METHOD_BYTES)
            || is_truncated(&self.target, MAX_TARGET_BYTES)
            || self
                .user_agent
                .as_deref()
                .is_some_and(|ua| is_truncated(ua, MAX_USER_AGENT_BYTES))
            || self
                .referer
                .as_deref()
                .is_some_and(|referer| is_truncated(referer, MAX_REFERER_BYTES))
            || self
                .headers
                .as_ref()
                .is_some_and(RecordedHeaders::truncated)
    }
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
            proxy: None,
            network: None,
            why: None,
            timing: None,
            headers: None,
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
pub(crate) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// `unix_ms` as RFC 3339 UTC with milliseconds: `2026-11-21T03:15:00.123Z`. Times after
/// the year 9999, which no clock gives, are written as its last millisecond.
pub fn rfc3339_ms(unix_ms: u64) -> String {
    let (secs, ms) = (unix_ms / 1000, unix_ms % 1000);
    let utc = i64::try_from(secs)
        .ok()
        .and_then(|secs| UtcDateTime::from_unix_timestamp(secs).ok());
    let (utc, ms) = match utc {
        Some(utc) => (utc, ms),
        None => (UtcDateTime::MAX, 999),
    };
    let (year, month, day) = utc.to_calendar_date();
    let (hour, minute, second) = utc.as_hms();
    let month = u8::from(month);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_fields_are_cut_at_a_char_boundary_and_marked() {
        assert_eq!(capped("", 4), "");
        assert_eq!(capped("abc", 4), "abc");
        assert!(!is_truncated("abc", 4));
        assert_eq!(
            capped("abcd", 4),
            "abcd…",
            "a field of exactly the cap is marked"
        );
        assert_eq!(capped("a😀b", 3), "a…", "never inside a 4-byte char");
        let huge = "x".repeat(50_000);
        let cut = capped(&huge, MAX_USER_AGENT_BYTES);
        assert_eq!(cut.len(), MAX_USER_AGENT_BYTES + '…'.len_utf8());
        assert!(is_truncated(&cut, MAX_USER_AGENT_BYTES));
        let bad = capped_bytes(&[0xff; 50_000], 10);
        assert_eq!(bad, "\u{fffd}\u{fffd}\u{fffd}…");
        assert!(is_truncated(&bad, 10));
        assert_eq!(capped_bytes("é".as_bytes(), 10), "é");
        let mut record = AccessRecord::example("/");
        assert!(!record.truncated());
        record.user_agent = Some(cut);
        assert!(record.truncated());
    }

    #[test]
    fn formats_rfc3339_with_milliseconds() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_007), "2000-02-29T00:00:00.007Z");
        assert_eq!(rfc3339_ms(1_795_230_123_456), "2026-11-21T03:02:03.456Z");
        assert_eq!(rfc3339_ms(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
    }
}

/// The module's documented example, run as a test (the items are private to the crate, so a
/// doctest cannot reach them).
#[cfg(test)]
mod doc_example {
    #[test]
    fn capped() {
        use crate::observe::access::{capped, is_truncated};

        assert_eq!(capped("Mozilla/5.0", 512), "Mozilla/5.0");
        let cut = capped(&"é".repeat(100), 9); // two bytes each: 9 falls inside one
        assert_eq!(cut, "éééé…");
        assert!(is_truncated(&cut, 9));
    }
}
