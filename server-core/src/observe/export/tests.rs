use super::csv::{push_cell, CsvWriter};
use super::*;
use crate::observe::access::{rfc3339_ms, AccessRecord};
use crate::observe::session_log::{Retention, SessionWriter};
use std::path::Path;

fn cell(value: &str) -> String {
    let mut buffer = Vec::new();
    push_cell(&mut buffer, value);
    String::from_utf8(buffer).unwrap()
}

#[test]
fn formula_starts_are_neutralised_with_a_single_quote() {
    assert_eq!(
        cell("=HYPERLINK(\"http://evil\")"),
        "\"'=HYPERLINK(\"\"http://evil\"\")\""
    );
    assert_eq!(cell("=1+1"), "\"'=1+1\"");
    assert_eq!(cell("+1"), "\"'+1\"");
    assert_eq!(cell("-2"), "\"'-2\"");
    assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
    assert_eq!(cell("\tcmd"), "\"'\tcmd\"");
    assert_eq!(cell("\r=1"), "\"'\r'=1\"");
    assert_eq!(cell("\u{FF1D}1+1"), "\"'\u{FF1D}1+1\"");
    assert_eq!(cell(" =1+1"), "\" '=1+1\"");
    // Inside a run of text these are plain text to a spreadsheet.
    assert_eq!(cell("/a=b+c-d@e"), "\"/a=b+c-d@e\"");
    assert_eq!(cell("'quoted"), "\"'quoted\"");
    assert_eq!(cell("a =1"), "\"a =1\"");
    assert_eq!(cell(""), "");
}

#[test]
fn formula_starts_after_any_separator_are_neutralised_too() {
    assert_eq!(cell("x;=1+1;y"), "\"x;'=1+1;y\"");
    assert_eq!(cell("x\t=1+1\ty"), "\"x\t'=1+1\ty\"");
    assert_eq!(cell("x,=1+1"), "\"x,'=1+1\"");
    assert_eq!(cell("x|@SUM(A1)"), "\"x|'@SUM(A1)\"");
    assert_eq!(cell("x\n-2"), "\"x\n'-2\"");
    assert_eq!(cell("x\r+2"), "\"x\r'+2\"");
    assert_eq!(cell("x; =1+1"), "\"x; '=1+1\"");
    assert_eq!(cell("x;\"=1+1\""), "\"x;\"\"'=1+1\"\"\"");
    assert_eq!(cell("x;;=1"), "\"x;;'=1\"");
    assert_eq!(cell("x\t\t=1"), "\"x\t'\t'=1\"");
    assert_eq!(cell("x;\u{FF0B}1"), "\"x;'\u{FF0B}1\"");
    assert_eq!(cell("a;b=c;d"), "\"a;b=c;d\"");
}

#[test]
fn network_cells_are_always_quoted_per_rfc_4180() {
    assert_eq!(cell("/plain/path.html?q=1"), "\"/plain/path.html?q=1\"");
    assert_eq!(cell("a,b"), "\"a,b\"");
    assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(cell("\"\""), "\"\"\"\"\"\"");
    assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    assert_eq!(cell("carriage\rreturn"), "\"carriage\rreturn\"");
    assert_eq!(cell("/a,b\"c\nd"), "\"/a,b\"\"c\nd\"");
    assert_eq!(cell("/café/日本.html"), "\"/café/日本.html\"");
    assert_eq!(cell("tab\tinside"), "\"tab\tinside\"");
}

proptest::proptest! {
    /// Whatever the text: one quoted cell whose content is the text with single quotes
    /// added, and where no cell a spreadsheet may split off starts a formula.
    #[test]
    fn any_text_is_one_quoted_inert_cell(value in "[=+@;,|\t\r\n\" a'\u{FF1D}-]{0,16}|\\PC{0,16}") {
        let written = cell(&value);
        if value.is_empty() {
            proptest::prop_assert_eq!(written, "");
            return Ok(());
        }
        proptest::prop_assert!(written.starts_with('"') && written.ends_with('"'));
        let inner = &written[1..written.len() - 1];
        proptest::prop_assert!(!inner.replace("\"\"", "").contains('"'));
        let content = inner.replace("\"\"", "\"");
        // Split wherever some reader might, then trim spaces as some do.
        for piece in content.split([',', ';', '\t', '|', '\r', '\n', '"']) {
            let piece = piece.trim_start_matches(' ');
            proptest::prop_assert!(
                !piece.starts_with(['=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}']),
                "{:?} from {:?}", piece, value
            );
        }
        // Only single quotes were added.
        proptest::prop_assert_eq!(content.replace('\'', ""), value.replace('\'', ""));
    }
}

#[test]
fn cached_and_hand_formatted_cells_match_the_plain_formatting() {
    let mut csv = CsvWriter::new(io::sink());
    let times = [
        0,
        999,
        1_000,
        1_795_230_123_456,
        1_795_230_123_457,
        1_795_230_124_000,
    ];
    let peers = ["127.0.0.1:1", "127.0.0.1:1", "[::1]:2", "127.0.0.1:1"];
    let numbers = [0, 7, 10, 404, u64::MAX];
    for unix_ms in times {
        csv.time(unix_ms);
    }
    for peer in peers {
        csv.peer(peer.parse().unwrap());
    }
    for number in numbers {
        csv.number(number);
    }
    let expected: Vec<String> = times
        .iter()
        .map(|&unix_ms| rfc3339_ms(unix_ms))
        .chain(peers.iter().map(|&peer| peer.to_owned()))
        .chain(numbers.iter().map(u64::to_string))
        .collect();
    assert_eq!(
        String::from_utf8(csv.buffer).unwrap(),
        format!("{},", expected.join(","))
    );
}

#[test]
fn status_filters_take_codes_classes_and_lists() {
    let parse = |text: &str| text.parse::<StatusFilter>();
    let classes = parse("4xx").unwrap();
    assert!(classes.matches(400) && classes.matches(499));
    assert!(!classes.matches(399) && !classes.matches(500));
    let list = parse("2XX, 304 ,0").unwrap();
    assert!(list.matches(200) && list.matches(304) && list.matches(0));
    assert!(!list.matches(404));
    for bad in [
        "abc", "", "4x", "4xxx", "99", "1000", "0xx", "2xx,,404", "-1", "+404",
    ] {
        let err = parse(bad).unwrap_err();
        assert!(matches!(err, ExportError::BadStatus { .. }), "{bad}");
    }
    assert_eq!(
        parse("2xx,abc").unwrap_err().to_string(),
        "'abc' is not a status or class; use e.g. 404 or 4xx"
    );
}

#[test]
fn rfc3339_times_parse_to_unix_milliseconds() {
    let ms = |text: &str| parse_rfc3339_ms(text).unwrap();
    assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
    assert_eq!(ms("2026-11-21T03:00:00Z"), 1_795_230_000_000);
    assert_eq!(ms("2026-11-21T03:02:03.456Z"), 1_795_230_123_456);
    assert_eq!(ms("2026-11-21t03:02:03.4567891z"), 1_795_230_123_456);
    assert_eq!(ms("2026-11-21 03:02:03.4Z"), 1_795_230_123_400);
    assert_eq!(ms("2026-11-20T22:02:03.456-05:00"), 1_795_230_123_456);
    assert_eq!(ms("2026-11-21T04:32:03.456+01:30"), 1_795_230_123_456);
    assert_eq!(ms("2026-11-21"), 1_795_219_200_000);
    assert_eq!(ms("2000-02-29T00:00:00.007Z"), 951_782_400_007);
    for unix_ms in [0, 951_782_400_007, 1_795_230_123_456, 4_102_444_800_000] {
        assert_eq!(ms(&rfc3339_ms(unix_ms)), unix_ms);
    }
    for bad in [
        "",
        "2026-11-21T03:00:00",
        "2026-11-21T03:00Z",
        "2026-11-21T03:00:00.Z",
        "2026-11-21T24:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-11-21T03:00:00+0100",
        "2026-11-21T03:00:00Zjunk",
        "1969-12-31T23:59:59Z",
        "tomorrow",
    ] {
        assert!(
            matches!(parse_rfc3339_ms(bad), Err(ExportError::BadTime { .. })),
            "{bad}"
        );
    }
}

fn record(id: u64, start_ms: u64, status: u16, target: &str) -> LogLine {
    LogLine::Request(AccessRecord {
        id,
        start_ms,
        peer: "[::1]:50000".parse().unwrap(),
        status,
        body_bytes: 10,
        ttfb_us: Some(5),
        total_us: 7,
        referer: Some("-".into()),
        connection: 3,
        generation: 2,
        ..AccessRecord::example(target)
    })
}

fn export_lines(dir: &Path, filter: &ExportFilter) -> (ExportSummary, Vec<String>) {
    let mut out = Vec::new();
    let summary = export_csv(dir, filter, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with("\r\n"));
    let lines = text.split_terminator("\r\n").map(str::to_owned).collect();
    (summary, lines)
}

#[test]
fn exports_the_newest_session_with_losses_in_place_and_filters_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut older = SessionWriter::create(dir.path(), Retention::default()).unwrap();
    older.append(&record(1, 1000, 200, "/old")).unwrap();
    older.flush().unwrap();
    let older_id = older.id().to_owned();
    let mut writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
    writer.append(&record(1, 1_000, 200, "/a")).unwrap();
    writer
        .append(&record(2, 2_000, 404, "/caf%C3%A9/x"))
        .unwrap();
    writer
        .append(&LogLine::Lost {
            count: 1,
            at_ms: 2_500,
        })
        .unwrap();
    writer.append(&record(3, 3_000, 500, "/b")).unwrap();
    writer.flush().unwrap();

    let (summary, lines) = export_lines(dir.path(), &ExportFilter::default());
    assert_eq!(lines[0], COLUMNS.join(","));
    assert_eq!(
        lines[1],
        "1,1970-01-01T00:00:01.000Z,[::1]:50000,\"GET\",\"/a\",\"HTTP/1.1\",200,10,true,5,7,completed,,\"'-\",3,2,file,,,,,,,,,,,,"
    );
    assert_eq!(
        lines[3],
        ",1970-01-01T00:00:02.500Z,,,,,,,,,,lost,,,,,,\"1 record was lost: the log queue was full\",,,,,,,,,,,"
    );
    assert_eq!(lines.len(), 5);
    assert_eq!(
        summary,
        ExportSummary {
            session_id: writer.id().to_owned(),
            rows: 4,
            records: 3,
            retention_dropped: 0,
            lost: 1,
            unreadable_lines: 0,
        }
    );

    let filter = ExportFilter {
        status: Some("4xx,5xx".parse().unwrap()),
        path_prefix: Some("/café/".into()),
        ..ExportFilter::default()
    };
    let (summary, lines) = export_lines(dir.path(), &filter);
    assert_eq!((summary.records, summary.lost), (1, 1), "{lines:?}");
    assert!(lines[1].starts_with("2,"));

    let filter = ExportFilter {
        from_ms: Some(2_600),
        to_ms: Some(3_000),
        ..ExportFilter::default()
    };
    let (summary, lines) = export_lines(dir.path(), &filter);
    assert_eq!((summary.rows, lines.len()), (0, 1), "to is exclusive");

    let filter = ExportFilter {
        session: Some(older_id),
        ..ExportFilter::default()
    };
    let (_, lines) = export_lines(dir.path(), &filter);
    assert!(lines[1].contains(",\"/old\","));
}

#[test]
fn method_and_path_contains_narrow_like_the_log_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
    let head = |id, target: &str| match record(id, 1_000, 200, target) {
        LogLine::Request(record) => LogLine::Request(AccessRecord {
            method: "HEAD".into(),
            ..record
        }),
        line => line,
    };
    writer
        .append(&record(1, 1_000, 200, "/Assets/App.js"))
        .unwrap();
    writer.append(&head(2, "/assets/app.css")).unwrap();
    writer
        .append(&record(3, 1_000, 200, "/caf%C3%A9/Menu.html"))
        .unwrap();
    writer.append(&record(4, 1_000, 404, "/CAFÉ/x")).unwrap();
    writer.append(&record(5, 1_000, 200, "/other")).unwrap();
    writer.flush().unwrap();
    let ids = |filter: ExportFilter| -> Vec<String> {
        let (_, lines) = export_lines(dir.path(), &filter);
        lines[1..]
            .iter()
            .map(|line| line.split(',').next().unwrap().to_owned())
            .collect()
    };

    let contains = |text: &str| ExportFilter {
        path_contains: Some(text.into()),
        ..ExportFilter::default()
    };
    assert_eq!(ids(contains("ASSETS/app")), ["1", "2"]);
    // Decoded, and ignoring case beyond ASCII.
    assert_eq!(ids(contains("café/")), ["3", "4"]);
    assert_eq!(ids(contains("%c3%a9")), ["3"]);
    assert_eq!(ids(contains("")), ["1", "2", "3", "4", "5"]);
    assert!(ids(contains("/nowhere")).is_empty());

    let method = |text: &str| ExportFilter {
        method: Some(text.into()),
        ..ExportFilter::default()
    };
    assert_eq!(ids(method("HEAD")), ["2"]);
    assert_eq!(ids(method("GET")), ["1", "3", "4", "5"]);
    assert!(ids(method("get")).is_empty(), "methods are case-sensitive");

    // Every field narrows.
    let all = ExportFilter {
        method: Some("GET".into()),
        path_contains: Some("É".into()),
        status: Some("2xx".parse().unwrap()),
        ..ExportFilter::default()
    };
    assert_eq!(ids(all), ["3"]);
}

#[test]
fn states_retention_first_and_counts_torn_lines() {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        max_session_bytes: 2_000,
        max_sessions: 20,
        segment_bytes: 500,
    };
    let mut writer = SessionWriter::create(dir.path(), retention).unwrap();
    for id in 1..=100 {
        writer.append(&record(id, id, 200, "/")).unwrap();
    }
    writer.flush().unwrap();
    let session = sessions(dir.path()).unwrap().remove(0);
    let newest = std::fs::read_dir(&session.folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wlog"))
        .max()
        .unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(newest)
        .unwrap();
    // A crash mid-frame: a request's tag, its id, and the start of its record.
    file.write_all(&[1, 101, 0, 0, 0, 0, 0, 0, 0, 120, 0])
        .unwrap();
    drop(file);

    let (summary, lines) = export_lines(dir.path(), &ExportFilter::default());
    let dropped = session.manifest.dropped_records;
    assert!(dropped > 0);
    assert_eq!(summary.retention_dropped, dropped);
    assert_eq!(summary.unreadable_lines, 1);
    assert_eq!(summary.records + dropped, 100);
    assert_eq!(
        lines[1],
        format!(
            ",{},,,,,,,,,,retention_dropped,,,,,,\"{dropped} earlier records were deleted by \
             the log's retention limit\",,,,,,,,,,,",
            rfc3339_ms(session.manifest.started_ms)
        )
    );
    assert!(lines[2].starts_with(&format!("{},", dropped + 1)));
}

#[test]
fn unknown_sessions_and_empty_ranges_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = export_csv(dir.path(), &ExportFilter::default(), io::sink());
    assert!(matches!(empty, Err(ExportError::NoSessions { .. })));
    let writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
    let filter = ExportFilter {
        session: Some("nope".into()),
        ..ExportFilter::default()
    };
    let err = export_csv(dir.path(), &filter, io::sink()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "no session 'nope' in {}; the newest is {}",
            dir.path().display(),
            writer.id()
        )
    );
    let filter = ExportFilter {
        from_ms: Some(5),
        to_ms: Some(5),
        ..ExportFilter::default()
    };
    let err = export_csv(dir.path(), &filter, io::sink()).unwrap_err();
    assert!(matches!(err, ExportError::EmptyRange { .. }));
}
