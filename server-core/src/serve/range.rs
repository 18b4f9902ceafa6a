//! Decides how to answer a `Range` request (RFC 9110 §14): the whole file, some byte ranges
//! of it, or 416, and lays out the `multipart/byteranges` body when there is more than one.
//!
//! It owns the parsing of `Range`, the anti-amplification policy (coalescing, a cap on parts)
//! and the exact byte layout of multipart bodies. It does no I/O, reads no other header
//! (`If-Range` is [`crate::serve::conditional`]'s) and builds no response: the caller reads the bytes
//! and sets the status and headers.
//!
//! ```ignore
//! use http::HeaderValue;
//! use wharf_core::range::{self, ByteRange, RangeDecision};
//!
//! let header = HeaderValue::from_static("bytes=0-499");
//! match range::decide(Some(&header), 10_000) {
//!     RangeDecision::Partial(ranges) => {
//!         assert_eq!(ranges, [ByteRange { start: 0, end: 499 }]);
//!         assert_eq!(ranges[0].content_range(10_000), "bytes 0-499/10000");
//!     }
//!     _ => unreachable!(),
//! }
//! ```

#![cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::HeaderValue;

/// More parts than this after coalescing and the request is answered with the whole file.
const MAX_PARTS: usize = 16;

/// Ranges separated by fewer bytes than this are merged: a multipart part header costs about
/// this much, so sending the gap is cheaper than starting a new part.
const MERGE_GAP: u64 = 80;

/// How to answer a request, given its `Range` header and the file's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeDecision {
    /// Send the whole file with 200: no `Range`, an invalid or unknown one, or one not worth
    /// honouring (too many parts).
    Full,
    /// Send 206 with these ranges: sorted, non-overlapping, never empty. One range is a plain
    /// body with `Content-Range`; more are a `multipart/byteranges` body ([`multipart_layout`]).
    Partial(Vec<ByteRange>),
    /// Send 416 with `Content-Range: bytes */len` ([`unsatisfied_content_range`]).
    Unsatisfiable,
}

/// A satisfiable byte range: `start..=end`, both inside the file, as in `Content-Range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub start: u64,
    /// Offset of the last byte, inclusive.
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    // An inclusive range always holds at least one byte, so an `is_empty` would only ever say
    // `false`.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start).saturating_add(1)
    }

    /// The `Content-Range` value for this range of a `total`-byte file, e.g. `bytes 0-99/1000`.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.start, self.end)
    }
}

/// The `Content-Range` value of a 416 for a `total`-byte file, e.g. `bytes */1000`
/// (RFC 9110 §15.5.17).
pub fn unsatisfied_content_range(total: u64) -> String {
    format!("bytes */{total}")
}

/// Decides how to answer a request with this `Range` header for a `total_len`-byte file.
///
/// Call it for GET only (RFC 9110 §14.2; HEAD too if it mirrors GET's headers), after the
/// preconditions have passed and `If-Range` has allowed it. Never fails: whatever cannot be honoured becomes
/// [`RangeDecision::Full`], which RFC 9110 §14.2 always permits.
pub fn decide(range_header: Option<&HeaderValue>, total_len: u64) -> RangeDecision {
    let Some(specs) = range_header.and_then(parse) else {
        return RangeDecision::Full;
    };
    let mut ranges: Vec<ByteRange> = specs
        .into_iter()
        .filter_map(|spec| spec.resolve(total_len))
        .collect();
    // RFC 9110 §14.1.1: satisfiable if at least one range-spec is; the others are dropped.
    // A zero-length file satisfies none (§14.1.1, "an empty representation").
    if ranges.is_empty() {
        return RangeDecision::Unsatisfiable;
    }
    coalesce(&mut ranges);
    // RFC 9110 §14.2 lets a server ignore ranges that look like a denial-of-service attempt
    // (overlapping or many small ranges; CVE-2011-3192). After coalescing, parts are disjoint
    // and at most MAX_PARTS, so the response is never much larger than the file. The length
    // check cannot fail after coalescing; it stays as a guard on that invariant.
    let sum = ranges
        .iter()
        .fold(0u64, |sum, range| sum.saturating_add(range.len()));
    if ranges.len() > MAX_PARTS || sum > total_len {
        return RangeDecision::Full;
    }
    // A range that covers the whole file (`bytes=0-`) still gets a 206: WebKit and Safari probe
    // media with it and treat a 200 as "this video cannot seek".
    RangeDecision::Partial(ranges)
}

/// One `range-spec` (RFC 9110 §14.1.1), before it meets the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-` or `first-last`.
    From { first: u64, last: Option<u64> },
    /// `-length`: the last `length` bytes.
    Suffix { length: u64 },
}

impl Spec {
    /// The satisfiable range this spec names in a `total`-byte file, or `None` if it is
    /// unsatisfiable.
    fn resolve(self, total: u64) -> Option<ByteRange> {
        let last_byte = total.checked_sub(1)?;
        match self {
            // RFC 9110 §14.1.1: satisfiable iff first-pos < length; a last-pos beyond the end
            // means "to the end".
            Spec::From { first, last } => (first < total).then(|| ByteRange {
                start: first,
                end: last.map_or(last_byte, |last| last.min(last_byte)),
            }),
            // A suffix is satisfiable iff its length is non-zero; one longer than the file
            // means the whole file.
            Spec::Suffix { length } => (length > 0).then(|| ByteRange {
                start: total - length.min(total),
                end: last_byte,
            }),
        }
    }
}

/// Parses `bytes=` followed by a range-set. `None` for anything not honoured: another unit,
/// bad syntax, an invalid spec, a number that does not fit in `u64`.
fn parse(header: &HeaderValue) -> Option<Vec<Spec>> {
    let value = header.to_str().ok()?;
    let (unit, set) = value.split_once('=')?;
    // Range units are case-insensitive (RFC 9110 §14.1).
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut specs = Vec::new();
    // RFC 9110 §5.6.1.2: recipients accept empty list elements and OWS around commas. OWS
    // right after `=` is not in the grammar but is harmless, so it is accepted too.
    for element in set.split(',') {
        let element = element.trim_matches([' ', '\t']);
        if element.is_empty() {
            continue;
        }
        specs.push(parse_spec(element)?);
    }
    // range-set = 1#range-spec: at least one.
    (!specs.is_empty()).then_some(specs)
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return Some(Spec::Suffix {
            length: number(last)?,
        });
    }
    let first = number(first)?;
    let last = if last.is_empty() {
        None
    } else {
        Some(number(last)?)
    };
    // RFC 9110 §14.1.1: a spec whose last-pos is less than its first-pos is invalid, and a
    // Range with an invalid spec is ignored (§14.2).
    if last.is_some_and(|last| last < first) {
        return None;
    }
    Some(Spec::From { first, last })
}

/// `1*DIGIT` as a `u64`. `str::parse` alone would also take a leading `+`.
fn number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Sorts `ranges` and merges those that overlap, touch, or are less than [`MERGE_GAP`] apart.
fn coalesce(ranges: &mut Vec<ByteRange>) {
    ranges.sort_unstable_by_key(|range| range.start);
    let mut merged: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for &range in ranges.iter() {
        match merged.last_mut() {
            Some(last) if range.start <= last.end.saturating_add(MERGE_GAP) => {
                last.end = last.end.max(range.end);
            }
            _ => merged.push(range),
        }
    }
    *ranges = merged;
}

/// A fresh multipart boundary: 32 characters from `[0-9a-f]`, different on every call.
///
/// It is a hash of a process-wide counter and the clock under a per-process random key, so a
/// file's content cannot be crafted in advance to contain it (RFC 2046 §5.1.1).
pub fn multipart_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    // Each RandomState carries random keys, fixed per process and varied per instance.
    let mut high = RandomState::new().build_hasher();
    high.write_u64(count);
    high.write_u128(nanos);
    let mut low = RandomState::new().build_hasher();
    low.write_u64(count);
    low.write_u64(high.finish());
    format!("{:016x}{:016x}", high.finish(), low.finish())
}

/// The exact bytes of a `multipart/byteranges` body (RFC 9110 §14.6), except the file data.
///
/// The body is, for each part, its header bytes followed by the file bytes of its range, then
/// the closing delimiter. Every part header starts with CRLF (an empty preamble before the
/// first, as nginx sends), so all parts look alike.
#[derive(Debug, Clone)]
pub struct MultipartLayout {
    parts: Vec<(Bytes, ByteRange)>,
    closing: Bytes,
    boundary: String,
    content_length: u64,
}

/// Lays out a `multipart/byteranges` body for `ranges` of a `total`-byte file whose own type is
/// `content_type`, delimited by `boundary` (from [`multipart_boundary`]).
///
/// Use it when [`decide`] returns more than one range. A `content_type` that is empty or holds
/// control characters is left out of the part headers rather than risk breaking them.
pub fn multipart_layout(
    ranges: &[ByteRange],
    total: u64,
    content_type: &str,
    boundary: &str,
) -> MultipartLayout {
    let type_line = if content_type.is_empty() || content_type.chars().any(char::is_control) {
        String::new()
    } else {
        format!("Content-Type: {content_type}\r\n")
    };
    let parts: Vec<(Bytes, ByteRange)> = ranges
        .iter()
        .map(|range| {
            let head = format!(
                "\r\n--{boundary}\r\n{type_line}Content-Range: {}\r\n\r\n",
                range.content_range(total)
            );
            (Bytes::from(head), *range)
        })
        .collect();
    let closing = Bytes::from(format!("\r\n--{boundary}--\r\n"));
    let content_length = parts
        .iter()
        .fold(closing.len() as u64, |sum, (head, range)| {
            sum.saturating_add(head.len() as u64)
                .saturating_add(range.len())
        });
    MultipartLayout {
        parts,
        closing,
        boundary: boundary.to_owned(),
        content_length,
    }
}

impl MultipartLayout {
    /// The body's exact length, for `Content-Length`.
    pub fn content_length(&self) -> u64 {
        self.content_length
    }

    /// Each part's header bytes and the range of the file to send right after them.
    pub fn parts(&self) -> &[(Bytes, ByteRange)] {
        &self.parts
    }

    /// The closing delimiter, sent after the last part's data.
    pub fn closing(&self) -> Bytes {
        self.closing.clone()
    }

    /// The response's `Content-Type`: `multipart/byteranges; boundary=...`.
    pub fn content_type(&self) -> String {
        format!("multipart/byteranges; boundary={}", self.boundary)
    }
}

#[cfg(test)]
mod tests;

/// The module's documented example, run as a test (the items are private to the crate, so a
/// doctest cannot reach them).
#[cfg(test)]
mod doc_example {
    #[test]
    fn range() {
        use crate::serve::range::{self, ByteRange, RangeDecision};
        use http::HeaderValue;

        let header = HeaderValue::from_static("bytes=0-499");
        match range::decide(Some(&header), 10_000) {
            RangeDecision::Partial(ranges) => {
                assert_eq!(ranges, [ByteRange { start: 0, end: 499 }]);
                assert_eq!(ranges[0].content_range(10_000), "bytes 0-499/10000");
            }
            _ => unreachable!(),
        }
    }
}
