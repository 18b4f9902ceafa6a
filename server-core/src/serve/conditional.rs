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
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;
    use std::time::Duration;
    use Precondition::{Failed, NotModified, Proceed};

    const ETAG: &str = "\"abc\"";

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// A fixed clock, a file modified an hour before it, and its validators.
    fn fixture() -> (SystemTime, SystemTime) {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let modified = now - Duration::from_secs(3600) + Duration::from_millis(400);
        (now, modified)
    }

    fn date(time: SystemTime) -> String {
        httpdate::fmt_http_date(time)
    }

    fn eval(method: Method, pairs: &[(HeaderName, &str)]) -> Precondition {
        let (now, modified) = fixture();
        let v = Validators {
            etag: Some(ETAG),
            last_modified: Some(modified),
        };
        evaluate_at(&method, &headers(pairs), &v, now)
    }

    #[test]
    fn no_preconditions_proceed() {
        assert_eq!(eval(Method::GET, &[]), Proceed);
        assert_eq!(eval(Method::POST, &[]), Proceed);
    }

    #[test]
    fn if_match_is_strong() {
        use header::IF_MATCH;
        assert_eq!(eval(Method::GET, &[(IF_MATCH, "\"abc\"")]), Proceed);
        assert_eq!(eval(Method::GET, &[(IF_MATCH, "*")]), Proceed);
        assert_eq!(
            eval(Method::GET, &[(IF_MATCH, "\"x\" , \t\"abc\"")]),
            Proceed
        );
        assert_eq!(eval(Method::GET, &[(IF_MATCH, "W/\"abc\"")]), Failed);
        assert_eq!(eval(Method::GET, &[(IF_MATCH, "\"x\", \"y\"")]), Failed);
        assert_eq!(eval(Method::GET, &[(IF_MATCH, "abc")]), Failed);
        assert_eq!(eval(Method::GET, &[(IF_MATCH, "")]), Failed);
        assert_eq!(
            eval(Method::GET, &[(IF_MATCH, "\"x\""), (IF_MATCH, "\"abc\"")]),
            Proceed
        );
    }

    #[test]
    fn if_match_without_a_current_etag_only_matches_star() {
        let (now, modified) = fixture();
        let v = Validators {
            etag: None,
            last_modified: Some(modified),
        };
        let check = |value| {
            evaluate_at(
                &Method::GET,
                &headers(&[(header::IF_MATCH, value)]),
                &v,
                now,
            )
        };
        assert_eq!(check("\"abc\""), Failed);
        assert_eq!(check("*"), Proceed);
    }

    #[test]
    fn weak_current_etag_never_matches_strongly() {
        let (now, _) = fixture();
        let v = Validators {
            etag: Some("W/\"abc\""),
            last_modified: None,
        };
        let check = |name: HeaderName, value| {
            evaluate_at(&Method::GET, &headers(&[(name, value)]), &v, now)
        };
        assert_eq!(check(header::IF_MATCH, "\"abc\""), Failed);
        assert_eq!(check(header::IF_NONE_MATCH, "\"abc\""), NotModified);
    }

    #[test]
    fn if_unmodified_since() {
        use header::IF_UNMODIFIED_SINCE as IUS;
        let (_, modified) = fixture();
        // Same second as the modification (which has 400 ms more): unmodified.
        assert_eq!(eval(Method::GET, &[(IUS, &date(modified))]), Proceed);
        let before = date(modified - Duration::from_secs(1));
        assert_eq!(eval(Method::GET, &[(IUS, &before)]), Failed);
        assert_eq!(eval(Method::PUT, &[(IUS, &before)]), Failed);
        assert_eq!(eval(Method::GET, &[(IUS, "yesterday")]), Proceed);
        // If-Match present: If-Unmodified-Since is not consulted.
        assert_eq!(
            eval(Method::GET, &[(header::IF_MATCH, "*"), (IUS, &before)]),
            Proceed
        );
    }

    #[test]
    fn if_none_match_is_weak() {
        use header::IF_NONE_MATCH as INM;
        assert_eq!(eval(Method::GET, &[(INM, "\"abc\"")]), NotModified);
        assert_eq!(eval(Method::HEAD, &[(INM, "W/\"abc\"")]), NotModified);
        assert_eq!(eval(Method::GET, &[(INM, "*")]), NotModified);
        assert_eq!(eval(Method::GET, &[(INM, "\"x\",W/\"abc\"")]), NotModified);
        assert_eq!(
            eval(Method::GET, &[(INM, "\"x\""), (INM, " \"abc\" ")]),
            NotModified
        );
        assert_eq!(eval(Method::GET, &[(INM, "\"x\"")]), Proceed);
        assert_eq!(eval(Method::GET, &[(INM, "\"ab\"")]), Proceed);
        assert_eq!(eval(Method::GET, &[(INM, "abc")]), Proceed);
        // Other methods fail instead of getting a 304.
        assert_eq!(eval(Method::POST, &[(INM, "\"abc\"")]), Failed);
        assert_eq!(eval(Method::DELETE, &[(INM, "*")]), Failed);
    }

    #[test]
    fn commas_inside_entity_tags_are_not_separators() {
        let (now, _) = fixture();
        let v = Validators {
            etag: Some("\"a,b\""),
            last_modified: None,
        };
        let check = |value| {
            evaluate_at(
                &Method::GET,
                &headers(&[(header::IF_NONE_MATCH, value)]),
                &v,
                now,
            )
        };
        assert_eq!(check("\"x\", \"a,b\""), NotModified);
        assert_eq!(check("\"a\", \"b\""), Proceed);
    }

    #[test]
    fn if_modified_since() {
        use header::IF_MODIFIED_SINCE as IMS;
        let (now, modified) = fixture();
        assert_eq!(eval(Method::GET, &[(IMS, &date(modified))]), NotModified);
        assert_eq!(eval(Method::HEAD, &[(IMS, &date(now))]), NotModified);
        let before = date(modified - Duration::from_secs(1));
        assert_eq!(eval(Method::GET, &[(IMS, &before)]), Proceed);
        // Obsolete date formats are still HTTP-dates (RFC 9110 §5.6.7).
        assert_eq!(
            eval(Method::GET, &[(IMS, "Tuesday, 14-Nov-23 22:13:20 GMT")]),
            NotModified
        );
        // Ignored: not GET/HEAD, invalid, repeated, or in the future.
        assert_eq!(eval(Method::POST, &[(IMS, &date(now))]), Proceed);
        assert_eq!(eval(Method::GET, &[(IMS, "not a date")]), Proceed);
        assert_eq!(
            eval(Method::GET, &[(IMS, &date(now)), (IMS, &date(now))]),
            Proceed
        );
        let future = date(now + Duration::from_secs(60));
        assert_eq!(eval(Method::GET, &[(IMS, &future)]), Proceed);
    }

    #[test]
    fn missing_last_modified_ignores_dates() {
        let (now, _) = fixture();
        let v = Validators {
            etag: Some(ETAG),
            last_modified: None,
        };
        for name in [header::IF_MODIFIED_SINCE, header::IF_UNMODIFIED_SINCE] {
            let map = headers(&[(name, &date(now))]);
            assert_eq!(evaluate_at(&Method::GET, &map, &v, now), Proceed);
        }
    }

    #[test]
    fn precedence() {
        let (now, modified) = fixture();
        let fresh = date(now);
        let stale = date(modified - Duration::from_secs(60));
        // If-None-Match decides; If-Modified-Since is not consulted, either way.
        assert_eq!(
            eval(
                Method::GET,
                &[
                    (header::IF_NONE_MATCH, "\"other\""),
                    (header::IF_MODIFIED_SINCE, &fresh)
                ]
            ),
            Proceed
        );
        assert_eq!(
            eval(
                Method::GET,
                &[
                    (header::IF_NONE_MATCH, "\"abc\""),
                    (header::IF_MODIFIED_SINCE, &stale)
                ]
            ),
            NotModified
        );
        // A failed If-Match beats a matching If-None-Match.
        assert_eq!(
            eval(
                Method::GET,
                &[
                    (header::IF_MATCH, "\"other\""),
                    (header::IF_NONE_MATCH, "\"abc\""),
                    (header::IF_MODIFIED_SINCE, &fresh)
                ]
            ),
            Failed
        );
        // A failed If-Unmodified-Since beats If-None-Match too.
        assert_eq!(
            eval(
                Method::GET,
                &[
                    (header::IF_UNMODIFIED_SINCE, &stale),
                    (header::IF_NONE_MATCH, "\"abc\"")
                ]
            ),
            Failed
        );
    }

    #[test]
    fn non_utf8_values_match_nothing() {
        let (now, modified) = fixture();
        let v = Validators {
            etag: Some(ETAG),
            last_modified: Some(modified),
        };
        let raw = HeaderValue::from_bytes(b"\"\xff\"").unwrap();
        for name in [
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_UNMODIFIED_SINCE,
        ] {
            let mut map = HeaderMap::new();
            map.insert(name, raw.clone());
            assert_eq!(evaluate_at(&Method::GET, &map, &v, now), Proceed);
        }
        let mut map = HeaderMap::new();
        map.insert(header::IF_MATCH, raw.clone());
        assert_eq!(evaluate_at(&Method::GET, &map, &v, now), Failed);
        let mut map = HeaderMap::new();
        map.insert(header::IF_RANGE, raw);
        assert!(!if_range_allows(&map, &v));
    }

    #[test]
    fn if_range() {
        let (_, modified) = fixture();
        let v = Validators {
            etag: Some(ETAG),
            last_modified: Some(modified),
        };
        let allows = |pairs: &[(HeaderName, &str)]| if_range_allows(&headers(pairs), &v);
        use header::IF_RANGE;
        assert!(allows(&[]));
        assert!(allows(&[(IF_RANGE, "\"abc\"")]));
        assert!(allows(&[(IF_RANGE, " \"abc\"\t")]));
        assert!(!allows(&[(IF_RANGE, "W/\"abc\"")]));
        assert!(!allows(&[(IF_RANGE, "\"other\"")]));
        assert!(!allows(&[(IF_RANGE, "\"abc\", \"abc\"")]));
        assert!(allows(&[(IF_RANGE, &date(modified))]));
        assert!(!allows(&[(
            IF_RANGE,
            &date(modified + Duration::from_secs(1))
        )]));
        assert!(!allows(&[(
            IF_RANGE,
            &date(modified - Duration::from_secs(1))
        )]));
        assert!(!allows(&[(IF_RANGE, "garbage")]));
        assert!(!allows(&[(IF_RANGE, "")]));
        assert!(!allows(&[(IF_RANGE, "\"abc\""), (IF_RANGE, "\"abc\"")]));

        let weak = Validators {
            etag: Some("W/\"abc\""),
            last_modified: None,
        };
        let map = headers(&[(IF_RANGE, "W/\"abc\"")]);
        assert!(!if_range_allows(&map, &weak));
        let map = headers(&[(IF_RANGE, &date(modified))]);
        assert!(!if_range_allows(&map, &weak));
    }

    #[test]
    fn entity_tag_parsing() {
        assert_eq!(
            EntityTag::parse(b"W/\"x\""),
            Some(EntityTag {
                weak: true,
                opaque: b"x"
            })
        );
        assert!(EntityTag::parse(b"\"\"").is_some());
        for bad in [
            &b"\""[..],
            b"x",
            b"\"a b\"",
            b"\"a\"b\"",
            b"w/\"x\"",
            b"W/x",
            b"",
        ] {
            assert_eq!(EntityTag::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn seconds_round_down() {
        assert_eq!(seconds(UNIX_EPOCH + Duration::from_millis(1999)), 1);
        assert_eq!(seconds(UNIX_EPOCH - Duration::from_millis(1)), -1);
        assert_eq!(seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }

    /// Values that look like what these fields carry, plus noise and non-UTF-8 bytes.
    fn field_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            "[ -~\t]{0,40}".prop_map(String::into_bytes),
            prop::collection::vec(
                prop::sample::select(vec![
                    b'"', b'W', b'/', b',', b' ', b'\t', b'*', b'a', b'b', b'c', 0x80, 0xff,
                ]),
                0..24,
            ),
            (0u64..4_000_000_000)
                .prop_map(|secs| date(UNIX_EPOCH + Duration::from_secs(secs)).into_bytes()),
            Just(b"\"abc\"".to_vec()),
        ]
    }

    fn method() -> impl Strategy<Value = Method> {
        prop::sample::select(vec![
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
    }

    proptest! {
        #[test]
        fn evaluate_never_panics_and_304_is_only_for_get_or_head(
            method in method(),
            fields in prop::collection::vec(
                (
                    prop::sample::select(vec![
                        header::IF_MATCH,
                        header::IF_NONE_MATCH,
                        header::IF_MODIFIED_SINCE,
                        header::IF_UNMODIFIED_SINCE,
                        header::IF_RANGE,
                    ]),
                    field_value(),
                ),
                0..6,
            ),
            etag in prop::option::of(prop::sample::select(vec!["\"abc\"", "W/\"abc\"", "\"\"", "junk"])),
            modified in prop::option::of(0u64..4_000_000_000),
        ) {
            let mut map = HeaderMap::new();
            for (name, value) in fields {
                if let Ok(value) = HeaderValue::from_bytes(&value) {
                    map.append(name, value);
                }
            }
            let v = Validators {
                etag,
                last_modified: modified.map(|secs| UNIX_EPOCH + Duration::from_secs(secs)),
            };
            let outcome = evaluate(&method, &map, &v);
            if outcome == Precondition::NotModified {
                prop_assert!(method == Method::GET || method == Method::HEAD);
            }
            let _ = if_range_allows(&map, &v);
        }
    }
}

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
