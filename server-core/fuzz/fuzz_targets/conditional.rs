//! Conditional requests (`conditional::evaluate` and `if_range_allows`), against RFC 9110
//! §13 read directly, not against Wharf's code.
//!
//! The input is a method, the current validators (an entity-tag, weak or strong, and a
//! modification time to the nanosecond) and header lines. A value starting with byte 1 is
//! replaced by the HTTP-date of the modification time plus a signed offset; byte 2, by the
//! current entity-tag; byte 3, by its weak form: so the fuzzer reaches matches easily.
//!
//! Invariants:
//! - without precondition fields, Proceed; 304 only for GET and HEAD;
//! - the order of §13.2.2: the result is step 1 or 2's Failed if any, else step 3 or 4's,
//!   each computed on its fields alone; If-Match hides If-Unmodified-Since, If-None-Match
//!   hides If-Modified-Since, and If-Modified-Since counts only for GET and HEAD;
//! - a single-element If-Match / If-None-Match matches exactly as §13.1.1–2 say (strong
//!   and weak comparison of `[W/]"etagc*"`, or `*`);
//! - a single If-Modified-Since / If-Unmodified-Since date compares at one-second
//!   resolution (§13.1.3–4), and a future If-Modified-Since is ignored;
//! - If-Range allows ranges only for the current strong tag or the exact modification
//!   second (§13.1.5), and always does without the field.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use libfuzzer_sys::fuzz_target;
use wharf_core::fuzzing::conditional::{self, Precondition, Validators};

const FIELDS: [HeaderName; 6] = [
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
    header::CACHE_CONTROL,
];

const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::OPTIONS,
];

/// `[W/] DQUOTE *etagc DQUOTE` (RFC 9110 §8.8.3), exactly.
fn entity_tag(bytes: &[u8]) -> Option<(bool, &[u8])> {
    let (weak, rest) = match bytes.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    if rest.len() < 2 || rest[0] != b'"' || rest[rest.len() - 1] != b'"' {
        return None;
    }
    let opaque = &rest[1..rest.len() - 1];
    let etagc = |b: u8| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80;
    opaque.iter().all(|&b| etagc(b)).then_some((weak, opaque))
}

fn ows_trimmed(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &bytes[start..end.max(start)]
}

fn secs(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::from(d.as_secs()),
        Err(e) => -i128::from(e.duration().as_secs()) - i128::from(e.duration().subsec_nanos() > 0),
    }
}

fn only(headers: &HeaderMap, name: &HeaderName) -> HeaderMap {
    let mut out = HeaderMap::new();
    for value in headers.get_all(name) {
        out.append(name.clone(), value.clone());
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let method = &METHODS[usize::from(data[0]) % METHODS.len()];
    let flags = data[1];
    // A modification time between 1970 and 2106, to the nanosecond.
    let lm_secs = u64::from(u32::from_le_bytes([data[2], data[3], data[4], data[5]]));
    let lm_nanos = u32::from(u16::from_le_bytes([data[6], data[7]])) * 15_259;
    let last_modified =
        (flags & 1 != 0).then(|| UNIX_EPOCH + Duration::new(lm_secs, lm_nanos.min(999_999_999)));
    let mut lines = data[8..].split(|&b| b == b'\n');
    let opaque = lines.next().unwrap_or_default();
    let etag_text = format!(
        "{}\"{}\"",
        if flags & 2 != 0 { "W/" } else { "" },
        String::from_utf8_lossy(opaque)
    );
    let etag = (flags & 4 != 0).then_some(etag_text.as_str());
    let v = Validators {
        etag,
        last_modified,
    };
    let current = etag.and_then(|e| entity_tag(e.as_bytes()));

    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((&which, raw)) = line.split_first() else {
            continue;
        };
        let value: Vec<u8> = match raw {
            [1, offset, ..] => match last_modified {
                Some(lm) => {
                    let offset = i64::from(*offset as i8);
                    let at = if offset >= 0 {
                        lm + Duration::from_secs(offset.unsigned_abs())
                    } else {
                        // HTTP-dates start in 1970.
                        lm.checked_sub(Duration::from_secs(offset.unsigned_abs()))
                            .filter(|at| *at >= UNIX_EPOCH)
                            .unwrap_or(UNIX_EPOCH)
                    };
                    httpdate::fmt_http_date(at).into_bytes()
                }
                None => b"Thu, 01 Jan 1970 00:00:00 GMT".to_vec(),
            },
            [2, ..] => etag_text.clone().into_bytes(),
            [3, ..] => format!("W/\"{}\"", String::from_utf8_lossy(opaque)).into_bytes(),
            _ => raw.to_vec(),
        };
        let Ok(value) = HeaderValue::from_bytes(&value) else {
            continue;
        };
        headers.append(FIELDS[usize::from(which) % FIELDS.len()].clone(), value);
    }

    let result = conditional::evaluate(method, &headers, &v);
    let get_or_head = *method == Method::GET || *method == Method::HEAD;
    let has = |name: &HeaderName| headers.contains_key(name);
    let preconditions = [&FIELDS[0], &FIELDS[1], &FIELDS[2], &FIELDS[3]];
    if !preconditions.iter().any(|name| has(name)) {
        assert_eq!(result, Precondition::Proceed);
    }
    if result == Precondition::NotModified {
        assert!(get_or_head, "304 for {method}");
    }

    // §13.2.2's order, each step on its own fields.
    let first = if has(&header::IF_MATCH) {
        &header::IF_MATCH
    } else {
        &header::IF_UNMODIFIED_SINCE
    };
    let second = if has(&header::IF_NONE_MATCH) {
        &header::IF_NONE_MATCH
    } else {
        &header::IF_MODIFIED_SINCE
    };
    let step_a = conditional::evaluate(method, &only(&headers, first), &v);
    let step_b = conditional::evaluate(method, &only(&headers, second), &v);
    assert_ne!(step_a, Precondition::NotModified);
    let expected = if step_a == Precondition::Failed {
        step_a
    } else {
        step_b
    };
    assert_eq!(result, expected, "{method} {headers:?} {v:?}");

    let single = |name: &HeaderName| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => Some(value.as_bytes()),
            _ => None,
        }
    };
    // One element, no list: §13.1.1 (strong) and §13.1.2 (weak) comparisons.
    let matches = |value: &[u8], strong: bool| -> Option<bool> {
        if value.contains(&b',') {
            return None;
        }
        let element = ows_trimmed(value);
        if element.is_empty() {
            return None;
        }
        Some(
            element == b"*"
                || match (entity_tag(element), current) {
                    (Some((weak, tag)), Some((current_weak, now))) => {
                        tag == now && (!strong || (!weak && !current_weak))
                    }
                    _ => false,
                },
        )
    };
    if let Some(matched) = single(&header::IF_MATCH).and_then(|value| matches(value, true)) {
        assert_eq!(
            step_a == Precondition::Proceed,
            matched,
            "If-Match {headers:?} {v:?}"
        );
    }
    if let Some(matched) = single(&header::IF_NONE_MATCH).and_then(|value| matches(value, false)) {
        let expected = match (matched, get_or_head) {
            (false, _) => Precondition::Proceed,
            (true, true) => Precondition::NotModified,
            (true, false) => Precondition::Failed,
        };
        assert_eq!(step_b, expected, "If-None-Match {headers:?} {v:?}");
    }
    let date = |value: &[u8]| {
        std::str::from_utf8(ows_trimmed(value))
            .ok()
            .and_then(|s| httpdate::parse_http_date(s).ok())
    };
    if !has(&header::IF_MATCH) {
        let failed = match (
            single(&header::IF_UNMODIFIED_SINCE).and_then(date),
            last_modified,
        ) {
            (Some(date), Some(lm)) => secs(lm) > secs(date),
            _ => false,
        };
        assert_eq!(
            step_a == Precondition::Failed,
            failed,
            "If-Unmodified-Since {headers:?} {v:?}"
        );
    }
    if !has(&header::IF_NONE_MATCH) {
        let now = SystemTime::now();
        let not_modified = match (
            single(&header::IF_MODIFIED_SINCE).and_then(date),
            last_modified,
        ) {
            (Some(date), Some(lm)) => {
                get_or_head && secs(lm) <= secs(date) && secs(date) <= secs(now)
            }
            _ => false,
        };
        assert_eq!(
            step_b == Precondition::NotModified,
            not_modified,
            "If-Modified-Since {headers:?} {v:?}"
        );
        assert_ne!(step_b, Precondition::Failed);
    }

    // If-Range (§13.1.5).
    let allows = conditional::if_range_allows(&headers, &v);
    match single(&header::IF_RANGE) {
        None if !has(&header::IF_RANGE) => assert!(allows),
        None => assert!(!allows, "two If-Range lines allowed ranges"),
        Some(value) => {
            let value = ows_trimmed(value);
            let expected = match entity_tag(value) {
                Some((weak, tag)) => !weak && matches!(current, Some((false, now)) if now == tag),
                None if value.starts_with(b"\"") || value.starts_with(b"W/") => false,
                None => match (date(value), last_modified) {
                    (Some(date), Some(lm)) => secs(date) == secs(lm),
                    _ => false,
                },
            };
            assert_eq!(allows, expected, "If-Range {value:?} {v:?}");
        }
    }
});
