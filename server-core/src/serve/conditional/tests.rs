//! `conditional`'s unit tests.

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
    let check =
        |name: HeaderName, value| evaluate_at(&Method::GET, &headers(&[(name, value)]), &v, now);
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
