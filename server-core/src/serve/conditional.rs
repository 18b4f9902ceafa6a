//! Evaluates a request's preconditions (RFC 9110 §13): `If-Match`, `If-Unmodified-Since`,
//! `If-None-Match`, `If-Modified-Since` in the order of §13.2.2, and `If-Range` (§13.1.5).
//!
//! It owns entity-tag parsing and comparison and the second-resolution date rules. It does no
//! I/O, does not compute validators (the caller passes the file's `ETag` and modification
//! time) and builds no response. Malformed headers never panic: they match nothing or are
//! ignored, as each field's rules say.
//!
//! ```ignore
//! use http::{header, HeaderMap, HeaderValue, Method};
//! use wharf_core::conditional::{self, Precondition, Validators};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"abc\""));
//! let validators = Validators { etag: Some("\"abc\""), last_modified: None };
//! assert_eq!(
//!     conditional::evaluate(&Method::GET, &headers, &validators),
//!     Precondition::NotModified
//! );
//! ```

#![cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderMap, HeaderName};
use http::Method;

/// What the preconditions say to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Carry on and answer the request normally (then consult [`if_range_allows`]).
    Proceed,
    /// Answer 304 Not Modified. Only ever returned for GET and HEAD.
    NotModified,
    /// Answer 412 Precondition Failed.
    Failed,
}

/// The current representation's validators, as the response would send them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Validators<'a> {
    /// The `ETag`, quoted, e.g. `"\"abc\""`; a `W/` prefix makes it weak. `None` if there is
    /// none.
    pub etag: Option<&'a str>,
    /// The modification time sent as `Last-Modified`. `None` if there is none.
    pub last_modified: Option<SystemTime>,
}

/// Evaluates the preconditions of a request for an existing representation, in the order of
/// RFC 9110 §13.2.2.
///
/// Call it only when the response without preconditions would be 2xx (§13.2.1): not for 404s,
/// redirects or 405s.
pub fn evaluate(method: &Method, headers: &HeaderMap, v: &Validators) -> Precondition {
    // Most requests carry no precondition: then no clock is read and no tag parsed (issue 17).
    let preconditions = [
        header::IF_MATCH,
        header::IF_UNMODIFIED_SINCE,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
    ];
    if !preconditions.iter().any(|name| headers.contains_key(name)) {
        return Precondition::Proceed;
    }
    evaluate_at(method, headers, v, SystemTime::now())
}

fn evaluate_at(
    method: &Method,
    headers: &HeaderMap,
    v: &Validators,
    now: SystemTime,
) -> Precondition {
    let current = v.etag.and_then(|etag| EntityTag::parse(etag.as_bytes()));
    let get_or_head = *method == Method::GET || *method == Method::HEAD;

    // Step 1. If-Match uses the strong comparison; `*` matches any current representation,
    // and there always is one here.
    if headers.contains_key(header::IF_MATCH) {
        if !list_matches(headers, header::IF_MATCH, current, |a, b| a.strong_eq(b)) {
            return Precondition::Failed;
        }
    } else if let (Some(date), Some(modified)) = (
        // Step 2. §13.1.4: ignore an invalid date, or a resource without a modification date.
        single_date(headers, header::IF_UNMODIFIED_SINCE),
        v.last_modified,
    ) {
        if seconds(modified) > seconds(date) {
            return Precondition::Failed;
        }
    }

    // Step 3. If-None-Match uses the weak comparison (§13.1.2).
    if headers.contains_key(header::IF_NONE_MATCH) {
        if list_matches(headers, header::IF_NONE_MATCH, current, |a, b| a.weak_eq(b)) {
            return if get_or_head {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if get_or_head {
        // Step 4. §13.1.3: only for GET and HEAD, and only without If-None-Match. An invalid
        // date is ignored; so is one later than our clock, which can only be a client's
        // mistake and would otherwise pin a stale copy (RFC 2616 §14.25 said so outright).
        if let (Some(date), Some(modified)) = (
            single_date(headers, header::IF_MODIFIED_SINCE),
            v.last_modified,
        ) {
            if seconds(date) <= seconds(now) && seconds(modified) <= seconds(date) {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// Whether to honour `Range` given the request's `If-Range` (RFC 9110 §13.1.5): `true` to send
/// the ranges, `false` to send the whole representation with 200.
///
/// Only meaningful when the request has a `Range`. `true` without `If-Range`. An entity-tag
/// must match the current one by strong comparison (a weak tag never does); a date must equal
/// the modification time to the second. Anything else, garbage included, is `false`: the
/// client then simply gets the full file.
pub fn if_range_allows(headers: &HeaderMap, v: &Validators) -> bool {
    let mut values = headers.get_all(header::IF_RANGE).iter();
    let Some(value) = values.next() else {
        return true;
    };
    // If-Range is a single value; more than one line cannot be a valid one.
    if values.next().is_some() {
        return false;
    }
    let value = trim_ows(value.as_bytes());
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        let current = v.etag.and_then(|etag| EntityTag::parse(etag.as_bytes()));
        return match (EntityTag::parse(value), current) {
            (Some(tag), Some(current)) => tag.strong_eq(&current),
            _ => false,
        };
    }
    // §13.1.5 asks for a strong Last-Modified, i.e. one known to be at least a second older
    // than the response that carried it. The exact-second match is the usual simplification
    // (nginx, Apache); the ETag carries the nanoseconds for clients that prefer it.
    let date = std::str::from_utf8(value)
        .ok()
        .and_then(|s| httpdate::parse_http_date(s).ok());
    match (date, v.last_modified) {
        (Some(date), Some(modified)) => seconds(date) == seconds(modified),
        _ => false,
    }
}

/// An entity-tag (RFC 9110 §8.8.3): `[W/] DQUOTE *etagc DQUOTE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    /// The characters between the quotes.
    opaque: &'a [u8],
}

impl<'a> EntityTag<'a> {
    /// Parses exactly one entity-tag, with nothing around it.
    fn parse(bytes: &'a [u8]) -> Option<EntityTag<'a>> {
        let (weak, rest) = match bytes.strip_prefix(b"W/") {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        let opaque = rest.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        // etagc = %x21 / %x23-7E / obs-text: no spaces, controls or inner quotes.
        opaque
            .iter()
            .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
            .then_some(EntityTag { weak, opaque })
    }

    /// §8.8.3.2: both strong and character-for-character equal.
    fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// §8.8.3.2: equal opaque tags, whatever their weakness.
    fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque == other.opaque
    }
}

/// Whether an `If-Match` / `If-None-Match` field (`"*" / #entity-tag`, over every line of it)
/// matches the current entity-tag under `eq`. `*` always matches, as the representation
/// exists. Elements that are not entity-tags match nothing.
fn list_matches(
    headers: &HeaderMap,
    name: HeaderName,
    current: Option<EntityTag>,
    eq: fn(&EntityTag, &EntityTag) -> bool,
) -> bool {
    headers.get_all(name).iter().any(|value| {
        list_elements(value.as_bytes()).any(|element| {
            element == b"*"
                || match (EntityTag::parse(element), &current) {
                    (Some(tag), Some(current)) => eq(&tag, current),
                    _ => false,
                }
        })
    })
}

/// Splits a list on the commas outside quotes (etagc includes `,`), trimming OWS and skipping
/// empty elements (RFC 9110 §5.6.1.2).
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut in_quotes = false;
    value
        .split(move |&b| {
            if b == b'"' {
                in_quotes = !in_quotes;
            }
            b == b',' && !in_quotes
        })
        .map(trim_ows)
        .filter(|element| !element.is_empty())
}

fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// The HTTP-date of a singleton date field, or `None` if it is absent, repeated or invalid.
fn single_date(headers: &HeaderMap, name: HeaderName) -> Option<SystemTime> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let text = std::str::from_utf8(trim_ows(value.as_bytes())).ok()?;
    httpdate::parse_http_date(text).ok()
}

/// Whole seconds since the epoch, rounded down, so times compare at HTTP-date resolution.
fn seconds(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i128::from(since.as_secs()),
        Err(before) => {
            let before = before.duration();
            -i128::from(before.as_secs()) - i128::from(before.subsec_nanos() > 0)
        }
    }
}

#[cfg(test)]
mod tests;

/// The module's documented example, run as a test (the items are private to the crate, so a
/// doctest cannot reach them).
#[cfg(test)]
mod doc_example {
    #[test]
    fn conditional() {
        use crate::serve::conditional::{self, Precondition, Validators};
        use http::{header, HeaderMap, HeaderValue, Method};

        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"abc\""));
        let validators = Validators {
            etag: Some("\"abc\""),
            last_modified: None,
        };
        assert_eq!(
            conditional::evaluate(&Method::GET, &headers, &validators),
            Precondition::NotModified
        );
    }
}
