//! The Range parser and policy (`range::decide`) and the multipart layout, against a small
//! model of RFC 9110 §14.1 written from the grammar, not from Wharf's code.
//!
//! Invariants, for any header bytes and any file length:
//! - no header, another unit or a header the grammar rejects: 200 with the whole file;
//! - a valid header that no range-spec satisfies: 416; one that some spec satisfies: 206
//!   with ranges that cover every byte asked for (or 200 when honouring would cost too many
//!   parts, which RFC 9110 §14.2 allows), but never 200 for a single range;
//! - 206 ranges are sorted, disjoint, not touching, inside the file, start and end on bytes
//!   that were asked for, and never add up to more than the file;
//! - the multipart layout's `Content-Length` is the exact sum of its parts.
#![no_main]

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use wharf_core::fuzzing::range::{self, ByteRange, RangeDecision};

/// A range-spec as the grammar reads it: `first-[last]` or `-suffix`.
#[derive(Debug, Clone, Copy)]
enum Spec {
    From(u64, Option<u64>),
    Suffix(u64),
}

/// `ranges-specifier = range-unit "=" range-set`, with the OWS and empty list elements that
/// RFC 9110 §5.6.1 lets a recipient accept. `None` when invalid.
fn model_parse(value: &[u8]) -> Option<Vec<Spec>> {
    let text = std::str::from_utf8(value).ok()?;
    let (unit, set) = text.split_once('=')?;
    if !unit.trim_matches([' ', '\t']).eq_ignore_ascii_case("bytes") {
        return None;
    }
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let mut specs = Vec::new();
    for element in set.split(',') {
        let element = element.trim_matches([' ', '\t']);
        if element.is_empty() {
            continue;
        }
        let (first, last) = element.split_once('-')?;
        specs.push(if first.is_empty() {
            Spec::Suffix(number(last)?)
        } else {
            let first = number(first)?;
            let last = if last.is_empty() {
                None
            } else {
                Some(number(last)?)
            };
            if last.is_some_and(|last| last < first) {
                return None;
            }
            Spec::From(first, last)
        });
    }
    (!specs.is_empty()).then_some(specs)
}

/// The bytes each spec asks for in a `total`-byte file, as inclusive intervals.
fn asked(specs: &[Spec], total: u64) -> Vec<(u64, u64)> {
    specs
        .iter()
        .filter_map(|spec| match *spec {
            Spec::From(first, last) if first < total => {
                Some((first, last.unwrap_or(u64::MAX).min(total - 1)))
            }
            Spec::Suffix(len) if len > 0 && total > 0 => Some((total - len.min(total), total - 1)),
            _ => None,
        })
        .collect()
}

fn is_asked(asked: &[(u64, u64)], byte: u64) -> bool {
    asked
        .iter()
        .any(|&(start, end)| start <= byte && byte <= end)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let (len, value) = data.split_at(8);
    let mut total = u64::from_le_bytes(len.try_into().unwrap_or_default());
    // Mostly small files, where every byte can be checked; sometimes any length at all.
    if total & 1 == 0 {
        total = (total >> 1) % 5000;
    } else {
        total >>= 1;
    }
    assert_eq!(range::decide(None, total), RangeDecision::Full);
    // A value hyper would hand over: no CR, LF or NUL.
    let Ok(header) = HeaderValue::from_bytes(value) else {
        return;
    };
    let decision = range::decide(Some(&header), total);
    let specs = model_parse(value);
    let Some(specs) = specs else {
        assert_eq!(
            decision,
            RangeDecision::Full,
            "invalid {value:?} of {total}"
        );
        return;
    };
    let asked = asked(&specs, total);
    if asked.is_empty() {
        assert_eq!(
            decision,
            RangeDecision::Unsatisfiable,
            "{value:?} of {total}"
        );
        return;
    }
    let ranges = match decision {
        RangeDecision::Partial(ranges) => ranges,
        RangeDecision::Full => {
            assert!(
                asked.len() > 1,
                "one satisfiable range answered 200: {value:?} of {total}"
            );
            return;
        }
        RangeDecision::Unsatisfiable => panic!("satisfiable {value:?} of {total} answered 416"),
    };
    assert!(!ranges.is_empty());
    let mut sum = 0u64;
    for (i, range) in ranges.iter().enumerate() {
        assert!(
            range.start <= range.end && range.end < total,
            "{range:?} of {total}"
        );
        assert!(
            is_asked(&asked, range.start) && is_asked(&asked, range.end),
            "{range:?} not asked by {value:?}"
        );
        if let Some(next) = ranges.get(i + 1) {
            assert!(
                next.start > range.end.saturating_add(1),
                "{ranges:?} not disjoint"
            );
        }
        assert_eq!(range.len(), range.end - range.start + 1);
        sum += range.len();
    }
    assert!(sum <= total, "{ranges:?} add up to more than {total}");
    // Every asked byte is sent: each asked interval lies inside one range (they are merged).
    for &(start, end) in &asked {
        assert!(
            ranges
                .iter()
                .any(|r: &ByteRange| r.start <= start && end <= r.end),
            "asked {start}-{end} of {value:?} not covered by {ranges:?}"
        );
    }
    let boundary = range::multipart_boundary();
    let layout = range::multipart_layout(&ranges, total, "text/plain", &boundary);
    let expected = layout
        .parts()
        .iter()
        .map(|(head, r)| head.len() as u64 + r.len())
        .sum::<u64>()
        + layout.closing().len() as u64;
    assert_eq!(layout.content_length(), expected);
    for ((head, part), range) in layout.parts().iter().zip(&ranges) {
        assert_eq!(part, range);
        let head = std::str::from_utf8(head).expect("ASCII head");
        assert!(head.contains(&format!("\r\n--{boundary}\r\n")));
        assert!(head.ends_with(&format!(
            "Content-Range: {}\r\n\r\n",
            range.content_range(total)
        )));
    }
});
