//! A session log holding what strangers may send: formula starts, quotes, separators, line
//! breaks, non-ASCII and empty fields, with rows deleted by retention and a lost-records line.
//! The fixture of the CSV export's tests, through the library (`csv_export`) and through
//! `wharf export-csv` (the CLI's tests), with what a spreadsheet must show for each row.

use std::path::Path;

use tempfile::TempDir;
use wharf_core::{export_csv, ExportFilter, ExportSummary, COLUMNS};
use wharf_core::{rfc3339_ms, AccessRecord, Outcome, Served};
use wharf_core::{sessions, LogLine, Retention, SessionWriter};

/// 2026-11-21T03:00:00Z.
pub const T0: u64 = 1_795_230_000_000;
/// Records written before the hostile ones, enough for retention to delete some.
pub const FILLERS: u64 = 40;
pub const LOST: u64 = 7;

pub fn record(id: u64) -> AccessRecord {
    AccessRecord {
        id,
        start_ms: T0 + id * 1000,
        peer: "127.0.0.1:50000".parse().unwrap(),
        method: "GET".into(),
        target: format!("/filler-{id}.html?q=1"),
        version: "HTTP/1.1".into(),
        status: 200,
        body_bytes: 1234,
        completed: true,
        ttfb_us: Some(120),
        total_us: 150,
        outcome: Outcome::Completed,
        user_agent: Some("curl/8.5.0".into()),
        referer: None,
        connection: 1,
        generation: 1,
        served: Served::File,
        proxy: None,
        network: None,
        why: None,
        headers: None,
        timing: None,
    }
}

/// Requests with what strangers may send, each under its own id (after the fillers).
pub fn hostile_records() -> Vec<AccessRecord> {
    let mut id = FILLERS;
    let mut next = |change: &dyn Fn(&mut AccessRecord)| {
        id += 1;
        let mut record = record(id);
        change(&mut record);
        record
    };
    vec![
        next(&|r| {
            r.target = "/a,b\"c\nd".into();
            r.user_agent = Some("=HYPERLINK(\"http://evil\")".into());
            r.referer = Some(String::new());
            r.status = 404;
            r.served = Served::Status;
        }),
        next(&|r| {
            r.user_agent = Some("+1".into());
            r.referer = Some("-2".into());
        }),
        next(&|r| {
            r.user_agent = Some("@SUM(A1)".into());
            r.referer = Some("=1+1".into());
            r.method = "-X".into();
        }),
        next(&|r| {
            r.user_agent = Some("\tcmd /c calc".into());
            r.target = "/café/日本.html".into();
            r.served = Served::Br;
        }),
        next(&|r| {
            r.target = "/caf%C3%A9/menu.html".into();
            r.status = 404;
            r.version = "HTTP/1.0".into();
            r.served = Served::Status;
        }),
        next(&|r| {
            r.method = String::new();
            r.target = String::new();
            r.version = String::new();
            r.status = 0;
            r.body_bytes = 0;
            r.completed = false;
            r.ttfb_us = None;
            r.outcome = Outcome::TimedOut;
            r.user_agent = None;
            r.served = Served::Status;
        }),
        next(&|r| {
            r.status = 304;
            r.body_bytes = 0;
            r.served = Served::NotModified;
            r.peer = "[::1]:4242".parse().unwrap();
        }),
        next(&|r| {
            r.status = 500;
            r.outcome = Outcome::ClientAborted;
            r.completed = false;
            r.referer = Some("http://example.com/?a=1,b=\"2\"".into());
        }),
        // Formula starts after a character that some spreadsheet splits cells on.
        next(&|r| {
            r.user_agent = Some("x;=1+1;y".into());
            r.referer = Some("x\t=1+1\ty".into());
            r.target = "/a;=1+1;b?c|@SUM(A1)".into();
        }),
        next(&|r| {
            r.user_agent = Some("x;\"=1+1\";y".into());
            r.referer = Some("x; -1+1\t+1+1".into());
            r.target = "/p,=1+1".into();
        }),
    ]
}

/// A log directory with one session: fillers (the oldest deleted by retention), then the
/// hostile records with a lost-records line after the third.
pub struct Fixture {
    pub dir: TempDir,
    pub session_id: String,
    pub dropped: u64,
    /// Every data row the export must hold, as a spreadsheet must show each cell.
    pub rows: Vec<Vec<String>>,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        max_session_bytes: 4_000,
        max_sessions: 20,
        segment_bytes: 800,
    };
    let mut writer = SessionWriter::create(dir.path(), retention).unwrap();
    let mut lines: Vec<LogLine> = (1..=FILLERS)
        .map(|id| LogLine::Request(record(id)))
        .collect();
    for (index, hostile) in hostile_records().into_iter().enumerate() {
        lines.push(LogLine::Request(hostile));
        if index == 2 {
            lines.push(LogLine::Lost {
                count: LOST,
                at_ms: T0 + 43_500,
            });
        }
    }
    for line in &lines {
        writer.append(line).unwrap();
    }
    writer.flush().unwrap();
    let session = sessions(dir.path()).unwrap().remove(0);
    let dropped = session.manifest.dropped_records;
    assert!(dropped > 0, "the fixture must exercise retention");
    assert!(
        dropped < FILLERS,
        "retention must keep every hostile record"
    );

    let mut rows = vec![note_row(
        session.manifest.started_ms,
        "retention_dropped",
        &format!("{dropped} earlier records were deleted by the log's retention limit"),
    )];
    for line in lines.iter().skip(usize::try_from(dropped).unwrap()) {
        rows.push(match line {
            LogLine::Request(record) => shown(record),
            LogLine::Lost { count, at_ms } => note_row(
                *at_ms,
                "lost",
                &format!("{count} records were lost: the log queue was full"),
            ),
        });
    }
    Fixture {
        dir,
        session_id: session.manifest.id,
        dropped,
        rows,
    }
}

/// What a spreadsheet must show for text from the network: the text itself, with a single
/// quote before each formula start (`=` `+` `-` `@` tab CR) that begins the text or follows a
/// character some spreadsheet splits cells on (`,` `;` tab `|` CR LF `"`, then any spaces).
pub fn neutralised(text: &str) -> String {
    let mut shown = String::new();
    let mut cell_start = true;
    for c in text.chars() {
        if cell_start && matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r') {
            shown.push('\'');
        }
        shown.push(c);
        cell_start =
            matches!(c, ',' | ';' | '\t' | '|' | '\r' | '\n' | '"') || (cell_start && c == ' ');
    }
    shown
}

pub fn shown(record: &AccessRecord) -> Vec<String> {
    vec![
        record.id.to_string(),
        rfc3339_ms(record.start_ms),
        record.peer.to_string(),
        neutralised(&record.method),
        neutralised(&record.target),
        neutralised(&record.version),
        record.status.to_string(),
        record.body_bytes.to_string(),
        record.completed.to_string(),
        record.ttfb_us.map(|us| us.to_string()).unwrap_or_default(),
        record.total_us.to_string(),
        record.outcome.as_str().to_owned(),
        neutralised(record.user_agent.as_deref().unwrap_or("")),
        neutralised(record.referer.as_deref().unwrap_or("")),
        record.connection.to_string(),
        record.generation.to_string(),
        record.served.as_str().to_owned(),
        String::new(),
        (record.proxy.map(|p| p.rule.to_string())).unwrap_or_default(),
        (record.proxy.and_then(|p| p.upstream_status))
            .map(|s| s.to_string())
            .unwrap_or_default(),
        (record.proxy.and_then(|p| p.upstream_ttfb_us))
            .map(|us| us.to_string())
            .unwrap_or_default(),
        String::new(),
        String::new(),
        record.why.map(|why| why.code()).unwrap_or_default(),
        // The timeline's five columns: these records have none.
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]
}

pub fn note_row(unix_ms: u64, outcome: &str, note: &str) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|&column| match column {
            "start" => rfc3339_ms(unix_ms),
            "outcome" => outcome.to_owned(),
            "note" => note.to_owned(),
            _ => String::new(),
        })
        .collect()
}

pub fn header() -> Vec<String> {
    COLUMNS.iter().map(|&name| name.to_owned()).collect()
}

pub fn export(dir: &Path, filter: &ExportFilter) -> (ExportSummary, Vec<u8>) {
    let mut out = Vec::new();
    let summary = export_csv(dir, filter, &mut out).unwrap();
    (summary, out)
}

/// A strict RFC 4180 reader: CRLF after every record (a bare CR or LF only inside quotes),
/// quotes only around whole cells, doubled inside them.
pub fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("the CSV is UTF-8");
    assert!(text.ends_with("\r\n"), "the last record ends with CRLF");
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut fresh) = (false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => {
                    quoted = false;
                    assert!(
                        matches!(chars.peek(), Some(',' | '\r')),
                        "a closing quote ends its cell"
                    );
                }
                c => cell.push(c),
            }
            continue;
        }
        match c {
            '"' if fresh => quoted = true,
            '"' => panic!("a quote inside an unquoted cell: {cell:?}"),
            ',' => row.push(std::mem::take(&mut cell)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR is followed by LF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("a bare LF outside quotes: records must end with CRLF"),
            c => cell.push(c),
        }
        fresh = matches!(c, ',' | '\r');
    }
    rows
}
