//! `range`'s unit tests.

use super::*;
use proptest::prelude::*;

fn decide_str(header: &str, total: u64) -> RangeDecision {
    decide(Some(&HeaderValue::from_str(header).unwrap()), total)
}

fn partial(pairs: &[(u64, u64)]) -> RangeDecision {
    RangeDecision::Partial(
        pairs
            .iter()
            .map(|&(start, end)| ByteRange { start, end })
            .collect(),
    )
}

#[test]
fn rfc_9110_examples() {
    // RFC 9110 §14.1.2, for a 10000-byte representation.
    assert_eq!(decide_str("bytes=0-499", 10_000), partial(&[(0, 499)]));
    assert_eq!(decide_str("bytes=500-999", 10_000), partial(&[(500, 999)]));
    assert_eq!(decide_str("bytes=-500", 10_000), partial(&[(9500, 9999)]));
    assert_eq!(decide_str("bytes=9500-", 10_000), partial(&[(9500, 9999)]));
    assert_eq!(
        decide_str("bytes=0-0,-1", 10_000),
        partial(&[(0, 0), (9999, 9999)])
    );
    assert_eq!(
        decide_str("bytes=500-600,601-999", 10_000),
        partial(&[(500, 999)])
    );
    assert_eq!(
        decide_str("bytes=500-700,601-999", 10_000),
        partial(&[(500, 999)])
    );
}

#[test]
fn no_header_means_full() {
    assert_eq!(decide(None, 100), RangeDecision::Full);
    assert_eq!(decide(None, 0), RangeDecision::Full);
}

#[test]
fn last_pos_is_clamped_and_open_ranges_run_to_the_end() {
    assert_eq!(decide_str("bytes=10-5000", 100), partial(&[(10, 99)]));
    assert_eq!(decide_str("bytes=10-", 100), partial(&[(10, 99)]));
    assert_eq!(decide_str("bytes=99-99", 100), partial(&[(99, 99)]));
    assert_eq!(decide_str("bytes=007-010", 100), partial(&[(7, 10)]));
}

#[test]
fn suffixes() {
    assert_eq!(decide_str("bytes=-1", 100), partial(&[(99, 99)]));
    // Longer than the file: the whole file, still as a 206.
    assert_eq!(decide_str("bytes=-500", 100), partial(&[(0, 99)]));
    assert_eq!(decide_str("bytes=-100", 100), partial(&[(0, 99)]));
    assert_eq!(decide_str("bytes=-0", 100), RangeDecision::Unsatisfiable);
    assert_eq!(decide_str("bytes=-0,-5", 100), partial(&[(95, 99)]));
}

#[test]
fn unit_and_whitespace() {
    assert_eq!(decide_str("Bytes=0-9", 100), partial(&[(0, 9)]));
    assert_eq!(decide_str("BYTES=0-9", 100), partial(&[(0, 9)]));
    assert_eq!(decide_str("bytes= 0-9", 100), partial(&[(0, 9)]));
    assert_eq!(
        decide_str("bytes=0-1 ,\t 90-99", 100),
        partial(&[(0, 1), (90, 99)])
    );
    assert_eq!(
        decide_str("bytes=0-1,,90-99,", 100),
        partial(&[(0, 1), (90, 99)])
    );
}

#[test]
fn invalid_headers_are_ignored() {
    for header in [
        "items=0-1",
        "bytes 0-1",
        "bytes=",
        "bytes=,",
        "bytes=5-1",
        "bytes=0-1,5-1",
        "bytes=+5-",
        "bytes=5-+9",
        "bytes=--5",
        "bytes=-",
        "bytes=abc",
        "bytes=1-2-3",
        "bytes=1 -2",
        "bytes=1- 2",
        "bytes=0x10-",
        "bytes=18446744073709551616-",
        "bytes=0-18446744073709551616",
        "bytes=-18446744073709551616",
        "bytes==0-1",
        "=0-1",
        "",
    ] {
        assert_eq!(decide_str(header, 1000), RangeDecision::Full, "{header}");
    }
    let non_ascii = HeaderValue::from_bytes(b"bytes=0-1\xff").unwrap();
    assert_eq!(decide(Some(&non_ascii), 1000), RangeDecision::Full);
}

#[test]
fn unsatisfiable() {
    assert_eq!(
        decide_str("bytes=1000-", 1000),
        RangeDecision::Unsatisfiable
    );
    assert_eq!(
        decide_str("bytes=1000-2000,5000-", 1000),
        RangeDecision::Unsatisfiable
    );
    assert_eq!(decide_str("bytes=0-0", 0), RangeDecision::Unsatisfiable);
    assert_eq!(decide_str("bytes=-5", 0), RangeDecision::Unsatisfiable);
    assert_eq!(decide_str("bytes=0-", 0), RangeDecision::Unsatisfiable);
    // Invalid beats unsatisfiable: the header is ignored as a whole.
    assert_eq!(decide_str("bytes=2000-1000", 1000), RangeDecision::Full);
    assert_eq!(unsatisfied_content_range(1000), "bytes */1000");
}

#[test]
fn unsatisfiable_specs_are_dropped_when_one_is_satisfiable() {
    assert_eq!(decide_str("bytes=5000-6000,0-9", 1000), partial(&[(0, 9)]));
}

#[test]
fn whole_file_is_still_a_206_for_media_players() {
    assert_eq!(decide_str("bytes=0-", 1000), partial(&[(0, 999)]));
    assert_eq!(decide_str("bytes=0-999", 1000), partial(&[(0, 999)]));
    assert_eq!(decide_str("bytes=0-499,500-", 1000), partial(&[(0, 999)]));
}

#[test]
fn ranges_are_sorted_and_close_ones_merged() {
    assert_eq!(
        decide_str("bytes=900-999,0-99", 10_000),
        partial(&[(0, 99), (900, 999)])
    );
    // A gap under MERGE_GAP bytes is sent rather than paying for another part header.
    assert_eq!(
        decide_str("bytes=0-99,150-199", 10_000),
        partial(&[(0, 199)])
    );
    assert_eq!(
        decide_str("bytes=0-99,180-199", 10_000),
        partial(&[(0, 99), (180, 199)])
    );
}

#[test]
fn repeated_whole_file_ranges_do_not_amplify() {
    let header = format!("bytes={}", vec!["0-"; 100].join(","));
    assert_eq!(decide_str(&header, 1_000_000), partial(&[(0, 999_999)]));
}

#[test]
fn many_tiny_overlapping_ranges_collapse() {
    let specs: Vec<String> = (0..200).map(|i| format!("{i}-{}", i + 1)).collect();
    let header = format!("bytes={}", specs.join(","));
    assert_eq!(decide_str(&header, 1_000_000), partial(&[(0, 200)]));
}

#[test]
fn too_many_parts_means_full() {
    let spaced = |n: u64| -> String {
        let specs: Vec<String> = (0..n).map(|i| format!("{0}-{0}", i * 1000)).collect();
        format!("bytes={}", specs.join(","))
    };
    assert!(matches!(
        decide_str(&spaced(16), 1_000_000),
        RangeDecision::Partial(ranges) if ranges.len() == 16
    ));
    assert_eq!(decide_str(&spaced(17), 1_000_000), RangeDecision::Full);
}

#[test]
fn byte_range_helpers() {
    let range = ByteRange { start: 0, end: 99 };
    assert_eq!(range.len(), 100);
    assert_eq!(range.content_range(1000), "bytes 0-99/1000");
    assert_eq!(ByteRange { start: 5, end: 5 }.len(), 1);
}

#[test]
fn boundaries_are_alphanumeric_and_fresh() {
    let a = multipart_boundary();
    let b = multipart_boundary();
    assert_ne!(a, b);
    assert!(a.len() <= 70 && a.bytes().all(|b| b.is_ascii_alphanumeric()));
}

/// The whole body, with `file` supplying each range's data.
fn assemble(layout: &MultipartLayout, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (head, range) in layout.parts() {
        body.extend_from_slice(head);
        body.extend_from_slice(&file[range.start as usize..=range.end as usize]);
    }
    body.extend_from_slice(&layout.closing());
    body
}

#[test]
fn multipart_body_is_exact() {
    let file = b"0123456789".repeat(30);
    let ranges = [
        ByteRange { start: 0, end: 1 },
        ByteRange {
            start: 298,
            end: 299,
        },
    ];
    let layout = multipart_layout(&ranges, 300, "text/plain; charset=utf-8", "XyZ09");
    let body = assemble(&layout, &file);
    assert_eq!(
        String::from_utf8(body.clone()).unwrap(),
        "\r\n--XyZ09\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Range: bytes 0-1/300\r\n\r\n01\
         \r\n--XyZ09\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Range: bytes 298-299/300\r\n\r\n89\
         \r\n--XyZ09--\r\n"
    );
    assert_eq!(layout.content_length(), body.len() as u64);
    assert_eq!(
        layout.content_type(),
        "multipart/byteranges; boundary=XyZ09"
    );
}

#[test]
fn multipart_drops_an_unsafe_content_type() {
    let ranges = [ByteRange { start: 0, end: 0 }];
    let layout = multipart_layout(&ranges, 1, "text/plain\r\nX-Evil: 1", "b");
    let (head, _) = &layout.parts()[0];
    assert_eq!(&head[..], b"\r\n--b\r\nContent-Range: bytes 0-0/1\r\n\r\n");
}

/// Range headers that are mostly well formed, with some noise.
fn range_header() -> impl Strategy<Value = String> {
    let spec = prop_oneof![
        16 => (0u64..4000, 0u64..400).prop_map(|(a, n)| format!("{a}-{}", a + n)),
        4 => (0u64..4000).prop_map(|a| format!("{a}-")),
        4 => (0u64..4000).prop_map(|n| format!("-{n}")),
        1 => "[0-9]{0,25}-[0-9]{0,25}",
        1 => "[ -~]{0,6}",
    ];
    let structured = (
        "bytes|BYTES|items| bytes",
        prop::collection::vec((spec, "[ \t]{0,2}", "[ \t]{0,2}"), 1..12),
    )
        .prop_map(|(unit, specs)| {
            let specs: Vec<String> = specs
                .into_iter()
                .map(|(spec, before, after)| format!("{before}{spec}{after}"))
                .collect();
            format!("{unit}={}", specs.join(","))
        });
    prop_oneof![8 => structured, 1 => "[ -~]{0,60}", 1 => "\\PC{0,30}"]
}

fn total_len() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..5000, 1 => any::<u64>()]
}

fn check_partial(ranges: &[ByteRange], total: u64) {
    assert!(!ranges.is_empty() && ranges.len() <= MAX_PARTS);
    for range in ranges {
        assert!(range.start <= range.end && range.end < total, "{range:?}");
    }
    for pair in ranges.windows(2) {
        assert!(pair[0].end < pair[1].start, "{pair:?}");
    }
    let sum: u64 = ranges.iter().map(ByteRange::len).sum();
    assert!(sum <= total);
}

proptest! {
    #[test]
    fn decide_never_panics_and_partial_is_sane(
        header in range_header(),
        total in total_len(),
    ) {
        let Ok(value) = HeaderValue::from_str(&header) else {
            return Ok(());
        };
        if let RangeDecision::Partial(ranges) = decide(Some(&value), total) {
            check_partial(&ranges, total);
        }
    }

    /// Every requested satisfiable byte is sent, and 416 only when none is satisfiable.
    #[test]
    fn partial_covers_what_was_asked(
        specs in prop::collection::vec(
            prop_oneof![
                (0u64..2500, prop::option::of(0u64..2500))
                    .prop_map(|(a, b)| (Some(a), b.map(|b| a + b))),
                (0u64..2500).prop_map(|n| (None, Some(n))),
            ],
            1..30,
        ),
        total in 0u64..3000,
    ) {
        let rendered: Vec<String> = specs
            .iter()
            .map(|spec| match spec {
                (Some(a), Some(b)) => format!("{a}-{b}"),
                (Some(a), None) => format!("{a}-"),
                (None, Some(n)) => format!("-{n}"),
                (None, None) => unreachable!(),
            })
            .collect();
        let header = HeaderValue::from_str(&format!("bytes={}", rendered.join(", "))).unwrap();
        let wanted: Vec<ByteRange> = specs
            .iter()
            .filter_map(|&(a, b)| match a {
                Some(first) => Spec::From { first, last: b },
                None => Spec::Suffix { length: b.unwrap() },
            }.resolve(total))
            .collect();
        match decide(Some(&header), total) {
            RangeDecision::Partial(ranges) => {
                check_partial(&ranges, total);
                for want in &wanted {
                    prop_assert!(
                        ranges.iter().any(|r| r.start <= want.start && want.end <= r.end),
                        "{want:?} not in {ranges:?}"
                    );
                }
            }
            RangeDecision::Unsatisfiable => prop_assert!(wanted.is_empty()),
            RangeDecision::Full => prop_assert!(!wanted.is_empty()),
        }
    }

    #[test]
    fn multipart_length_is_exact(
        header in range_header(),
        total in 1u64..3000,
        content_type in "[ -~]{0,40}",
    ) {
        let Ok(value) = HeaderValue::from_str(&header) else {
            return Ok(());
        };
        let RangeDecision::Partial(ranges) = decide(Some(&value), total) else {
            return Ok(());
        };
        let file: Vec<u8> = (0..total).map(|i| i as u8).collect();
        let boundary = multipart_boundary();
        let layout = multipart_layout(&ranges, total, &content_type, &boundary);
        let body = assemble(&layout, &file);
        prop_assert_eq!(layout.content_length(), body.len() as u64);
        prop_assert_eq!(layout.parts().len(), ranges.len());
    }
}
