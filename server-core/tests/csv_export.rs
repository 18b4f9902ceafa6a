//! CSV export end to end: a session holding hostile values is exported, checked against RFC
//! 4180 byte by byte, opened by LibreOffice Calc with formula evaluation on (every cell must
//! come back as the literal text, no formula), opened again split on `;` and on tabs as a
//! spreadsheet in another locale would (still no formula), and exported again through
//! `wharf export-csv`.
//!
//! LibreOffice is required: without it the LibreOffice test fails and says how to install it
//! (`scripts/test.sh` does).

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use wharf_core::access::{rfc3339_ms, AccessRecord, Outcome, Served};
use wharf_core::export::{export_csv, ExportFilter, ExportSummary, COLUMNS};
use wharf_core::session_log::{sessions, LogLine, Retention, SessionWriter};

/// 2026-11-21T03:00:00Z.
const T0: u64 = 1_795_230_000_000;
/// Records written before the hostile ones, enough for retention to delete some.
const FILLERS: u64 = 40;
const LOST: u64 = 7;

/// The CSV import options: comma, double quote, UTF-8, from line 1, no column types,
/// default language, quoted fields not forced to text, no special-number detection, then
/// (tokens 9 to 12, export only) defaults, and token 13, *evaluate formulas*: on, as the worst
/// case (and what Excel always does).
const CSV_IMPORT: &str =
    "Text - txt - csv (StarCalc):44,34,76,1,,0,false,false,false,false,false,-1,true";
/// The same options with `;` as the separator: Excel's list separator in most of Europe.
const CSV_IMPORT_SEMICOLON: &str =
    "Text - txt - csv (StarCalc):59,34,76,1,,0,false,false,false,false,false,-1,true";
/// The same options with tab as the separator.
const CSV_IMPORT_TAB: &str =
    "Text - txt - csv (StarCalc):9,34,76,1,,0,false,false,false,false,false,-1,true";
/// How long LibreOffice may take (its first start in a fresh profile is the slow part).
const LIBREOFFICE_PATIENCE: Duration = Duration::from_secs(180);

fn record(id: u64) -> AccessRecord {
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
    }
}

/// Requests with what strangers may send, each under its own id (after the fillers).
fn hostile_records() -> Vec<AccessRecord> {
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
struct Fixture {
    dir: TempDir,
    session_id: String,
    dropped: u64,
    /// Every data row the export must hold, as a spreadsheet must show each cell.
    rows: Vec<Vec<String>>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        max_session_bytes: 8_000,
        max_sessions: 20,
        segment_bytes: 2_000,
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
fn neutralised(text: &str) -> String {
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

fn shown(record: &AccessRecord) -> Vec<String> {
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
    ]
}

fn note_row(unix_ms: u64, outcome: &str, note: &str) -> Vec<String> {
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

fn header() -> Vec<String> {
    COLUMNS.iter().map(|&name| name.to_owned()).collect()
}

fn export(dir: &Path, filter: &ExportFilter) -> (ExportSummary, Vec<u8>) {
    let mut out = Vec::new();
    let summary = export_csv(dir, filter, &mut out).unwrap();
    (summary, out)
}

/// A strict RFC 4180 reader: CRLF after every record (a bare CR or LF only inside quotes),
/// quotes only around whole cells, doubled inside them.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
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

#[test]
fn export_is_rfc_4180_with_every_hostile_cell_neutralised() {
    let fixture = fixture();
    let (summary, bytes) = export(fixture.dir.path(), &ExportFilter::default());
    let rows = parse_csv(&bytes);
    assert_eq!(rows[0], header());
    assert_eq!(rows[1..], fixture.rows[..]);
    assert!(rows.iter().all(|row| row.len() == COLUMNS.len()));
    assert_eq!(
        summary,
        ExportSummary {
            session_id: fixture.session_id.clone(),
            rows: fixture.rows.len() as u64,
            records: fixture.rows.len() as u64 - 2,
            retention_dropped: fixture.dropped,
            lost: LOST,
            unreadable_lines: 0,
        }
    );
    // The exact bytes for the worst cells: quoted, quotes doubled, neutralised inside quotes.
    let text = String::from_utf8(bytes).unwrap();
    // Every text cell is quoted; numbers, times, peers and names Wharf chose are bare.
    for expected in [
        ",\"/a,b\"\"c\nd\",",
        ",\"'=HYPERLINK(\"\"http://evil\"\")\",,",
        ",\"'+1\",\"'-2\",",
        ",\"'-X\",",
        ",\"'@SUM(A1)\",\"'=1+1\",",
        ",\"'\tcmd /c calc\",",
        ",\"/café/日本.html\",",
        ",\"/a;'=1+1;b?c|'@SUM(A1)\",",
        ",\"x;'=1+1;y\",\"x\t'=1+1\ty\",",
        ",\"x;\"\"'=1+1\"\";y\",\"x; '-1+1\t'+1+1\",",
        ",\"GET\",\"/p,'=1+1\",\"HTTP/1.1\",200,1234,true,120,150,completed,",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "LibreOffice, this test's oracle, is installed on Linux and not in the Wine prefix; \
              the CSV's bytes do not depend on the OS, and the tests of them run on Windows too"
)]
fn export_opens_in_libreoffice_as_literal_text_with_no_formula() {
    let fixture = fixture();
    let (_, bytes) = export(fixture.dir.path(), &ExportFilter::default());
    // Proof that these import options do evaluate formulas, so the export's cells stay text
    // because of the neutralising and not because evaluation was off.
    let control = "a,b\r\n=1+1,=HYPERLINK(\"http://evil\")\r\n";
    let sheet = &open_in_libreoffice(&bytes, control, CSV_IMPORT);
    let cells = fods_rows(sheet);
    let mut expected = vec![header()];
    expected.extend(fixture.rows.iter().cloned());
    assert_eq!(cells.len(), expected.len(), "rows in LibreOffice");
    for (row, (got, want)) in cells.iter().zip(&expected).enumerate() {
        for (column, want) in want.iter().enumerate() {
            let got = got.get(column).cloned().unwrap_or_default();
            let at = format!("row {row}, column {}", COLUMNS[column]);
            if want.is_empty() {
                assert!(got.is_empty(), "{at}: expected an empty cell, got {got:?}");
            } else if want.bytes().all(|b| b.is_ascii_digit()) {
                assert_eq!(got.value_type.as_deref(), Some("float"), "{at}: {got:?}");
                assert_eq!(got.value.as_deref(), Some(want.as_str()), "{at}");
            } else {
                assert_eq!(got.value_type.as_deref(), Some("string"), "{at}: {got:?}");
                assert_eq!(&got.text, want, "{at}");
            }
        }
        assert!(
            got.iter().skip(COLUMNS.len()).all(Cell::is_empty),
            "row {row}: {got:?}"
        );
    }
    // Spelled out for the worst of them.
    let column = |index: usize| -> Vec<String> {
        cells
            .iter()
            .map(|row| {
                row.get(index)
                    .map(|cell| cell.text.clone())
                    .unwrap_or_default()
            })
            .collect()
    };
    let user_agents = column(12);
    for literal in [
        "'=HYPERLINK(\"http://evil\")",
        "'+1",
        "'@SUM(A1)",
        "'\tcmd /c calc",
    ] {
        assert!(
            user_agents.iter().any(|ua| ua == literal),
            "{literal:?} in {user_agents:?}"
        );
    }
    let targets = column(4);
    for literal in ["/a,b\"c\nd", "/café/日本.html"] {
        assert!(
            targets.iter().any(|target| target == literal),
            "{literal:?} in {targets:?}"
        );
    }
}

/// A spreadsheet told (or guessing, from its locale) that the file is separated by `;` or by
/// tabs splits the export's rows inside text cells, where quotes no longer protect them: every
/// piece that starts a cell must still be text. The control file holds the same payloads
/// written bare, as the export wrote them before issue 13, to prove these options evaluate
/// them.
#[test]
#[cfg_attr(
    windows,
    ignore = "LibreOffice, this test's oracle, is installed on Linux and not in the Wine prefix; \
              the CSV's bytes do not depend on the OS, and the tests of them run on Windows too"
)]
fn export_split_on_semicolons_or_tabs_still_makes_no_formula() {
    let fixture = fixture();
    let (_, bytes) = export(fixture.dir.path(), &ExportFilter::default());
    for (import, separator) in [(CSV_IMPORT_SEMICOLON, "semicolon"), (CSV_IMPORT_TAB, "tab")] {
        let control = "1,x;=1+1;y\r\n2,x\t=1+1\ty\r\n";
        let sheet = &open_in_libreoffice(&bytes, control, import);
        let texts: Vec<String> = fods_rows(sheet)
            .into_iter()
            .flatten()
            .map(|cell| cell.text)
            .collect();
        assert!(
            !texts.iter().any(|text| text == "2"),
            "split on {separator}, a cell shows 2: {texts:#?}"
        );
        let payload = "'=1+1";
        assert!(
            texts.iter().any(|text| text.starts_with(payload)),
            "split on {separator}, no cell shows {payload:?} literally: {texts:#?}"
        );
    }
}

/// Opens the export `bytes` and a `control` CSV in LibreOffice with the CSV import options
/// `import`, checks that the control's `=1+1` became a formula (so these options do evaluate)
/// and that no cell of the export did, and returns the export as Flat ODS.
fn open_in_libreoffice(bytes: &[u8], control: &str, import: &str) -> String {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("export.csv");
    std::fs::write(&csv, bytes).unwrap();
    let control_csv = work.path().join("control.csv");
    std::fs::write(&control_csv, control).unwrap();
    let mut sheets = convert_with_libreoffice(work.path(), &[&csv, &control_csv], import);
    assert!(
        sheets[1].contains("table:formula=\"of:=1+1\""),
        "with {import}, the control's =1+1 should have become a formula:\n{}",
        sheets[1]
    );
    let sheet = sheets.swap_remove(0);
    let formulas: Vec<&str> = sheet
        .match_indices("table:formula=")
        .map(|(at, _)| &sheet[at..sheet[at..].find('>').map_or(sheet.len(), |end| at + end)])
        .collect();
    assert!(
        formulas.is_empty(),
        "with {import}, LibreOffice made formulas of exported cells: {formulas:#?}"
    );
    sheet
}

/// Converts each CSV to Flat ODS (one XML file) with LibreOffice, reading it with the CSV
/// import options `import`, in a private profile so tests can run side by side, and returns
/// the XML texts in order.
fn convert_with_libreoffice(work: &Path, inputs: &[&Path], import: &str) -> Vec<String> {
    let program = ["libreoffice", "soffice"]
        .into_iter()
        .find(|name| on_path(name))
        .unwrap_or_else(|| {
            panic!(
                "LibreOffice is not installed, and this test needs it to open the CSV as a \
                 user would. Install it with \
                 `apt-get install --no-install-recommends libreoffice-calc-nogui` \
                 (scripts/test.sh does this)."
            )
        });
    let out = work.join("out");
    let profile = work.join("profile");
    let mut child = Command::new(program)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--nologo"])
        .arg(format!("--infilter={import}"))
        .args(["--convert-to", "fods", "--outdir"])
        .arg(&out)
        .args(inputs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {program}: {err}"));
    let deadline = Instant::now() + LIBREOFFICE_PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{program} did not finish within {LIBREOFFICE_PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    inputs
        .iter()
        .map(|input| {
            let name = input.with_extension("fods");
            let path = out.join(name.file_name().unwrap());
            std::fs::read_to_string(&path).unwrap_or_else(|err| {
                panic!(
                    "{program} made no {}: {err}\nstdout: {}\nstderr: {}",
                    path.display(),
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                )
            })
        })
        .collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// One cell of a Flat ODS sheet.
#[derive(Debug, Clone, Default, PartialEq)]
struct Cell {
    /// `office:value-type`: `string`, `float`, ...; `None` for an empty cell.
    value_type: Option<String>,
    /// `office:value`, for numbers.
    value: Option<String>,
    /// The text shown: paragraphs joined by LF.
    text: String,
}

impl Cell {
    fn is_empty(&self) -> bool {
        self.value_type.is_none() && self.text.is_empty()
    }
}

/// The rows of the first sheet of a Flat ODS document, as cells. Only what LibreOffice
/// writes for plain cells is understood: repeated cells and rows, paragraphs, `text:s`,
/// `text:tab`, `text:line-break`; other markup inside a paragraph is skipped, its text kept.
fn fods_rows(xml: &str) -> Vec<Vec<Cell>> {
    let body = &xml[xml.find("<table:table ").expect("a sheet")..];
    let body = &body[..body.find("</table:table>").expect("the sheet's end")];
    let mut rows = Vec::new();
    let (mut row, mut rows_repeated): (Vec<Cell>, usize) = (Vec::new(), 1);
    let mut cell: Option<(Cell, usize)> = None;
    let (mut in_paragraph, mut paragraphs) = (false, 0);
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        if in_paragraph {
            if let Some((cell, _)) = cell.as_mut() {
                cell.text.push_str(&unescape(&rest[..open]));
            }
        }
        let close = rest[open..].find('>').expect("a tag's end") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        let self_closing = tag.ends_with('/');
        let name = tag
            .trim_end_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or("");
        let attrs = attributes(tag);
        let repeated = |key: &str| attrs.get(key).map_or(1, |n| n.parse().unwrap());
        match name {
            "table:table-row" => {
                row.clear();
                rows_repeated = repeated("table:number-rows-repeated");
            }
            "/table:table-row" => {
                // Trailing empty cells and empty rows are formatting, not data.
                while row.last().is_some_and(Cell::is_empty) {
                    row.pop();
                }
                if !row.is_empty() {
                    for _ in 0..rows_repeated {
                        rows.push(row.clone());
                    }
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let new = Cell {
                    value_type: attrs.get("office:value-type").cloned(),
                    value: attrs.get("office:value").cloned(),
                    text: String::new(),
                };
                let times = repeated("table:number-columns-repeated");
                if self_closing {
                    row.extend(std::iter::repeat_n(new, times));
                } else {
                    cell = Some((new, times));
                    paragraphs = 0;
                }
            }
            "/table:table-cell" | "/table:covered-table-cell" => {
                if let Some((done, times)) = cell.take() {
                    row.extend(std::iter::repeat_n(done, times));
                }
            }
            "text:p" => {
                if let Some((cell, _)) = cell.as_mut() {
                    if paragraphs > 0 {
                        cell.text.push('\n');
                    }
                }
                paragraphs += 1;
                in_paragraph = !self_closing;
            }
            "/text:p" => in_paragraph = false,
            "text:s" | "text:tab" | "text:line-break" if in_paragraph => {
                if let Some((cell, _)) = cell.as_mut() {
                    match name {
                        "text:s" => cell.text.push_str(&" ".repeat(repeated("text:c"))),
                        "text:tab" => cell.text.push('\t'),
                        _ => cell.text.push('\n'),
                    }
                }
            }
            _ => {}
        }
    }
    rows
}

fn attributes(tag: &str) -> HashMap<String, String> {
    let mut found = HashMap::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].rsplit(char::is_whitespace).next().unwrap_or("");
        let end = rest[eq + 2..].find('"').expect("a closing quote") + eq + 2;
        found.insert(key.to_owned(), unescape(&rest[eq + 2..end]));
        rest = &rest[end + 1..];
    }
    found
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').expect("an entity's end") + amp;
        let entity = &rest[amp + 1..semi];
        let decoded = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => entity.trim_start_matches('#').parse(),
                };
                char::from_u32(code.unwrap()).unwrap()
            }
        };
        out.push(decoded);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

// --- the command line ---

fn wharf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wharf"))
        .arg("export-csv")
        .args(args)
        .output()
        .expect("run wharf")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn export_csv_cli_writes_a_file_or_stdout_and_says_what_is_missing() {
    let fixture = fixture();
    let (summary, expected) = export(fixture.dir.path(), &ExportFilter::default());
    let log_dir = fixture.dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.csv");

    let output = wharf(&["--log-dir", log_dir, "-o", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    assert_eq!(
        stderr(&output),
        format!(
            "exported {} rows from session {} to {} ({} earlier records were deleted by \
             retention; {LOST} records were lost: the log queue was full)\n",
            summary.rows,
            fixture.session_id,
            out.display(),
            fixture.dropped
        )
    );
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        1,
        "no temporary file is left behind"
    );

    let output = wharf(&[
        "--log-dir",
        log_dir,
        "--session",
        &fixture.session_id,
        "-o",
        "-",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout, expected);
    assert!(
        stderr(&output).contains(" to stdout ("),
        "{}",
        stderr(&output)
    );
}

#[test]
fn export_csv_cli_filters_by_time_status_and_path() {
    let fixture = fixture();
    let log_dir = fixture.dir.path().to_str().unwrap();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--log-dir", log_dir, "-o", "-"];
        all.extend_from_slice(args);
        let output = wharf(&all);
        assert!(output.status.success(), "{}", stderr(&output));
        let rows = parse_csv(&output.stdout);
        assert_eq!(rows[0], header());
        rows[1..]
            .iter()
            .map(|row| format!("{}{}", row[0], row[11]))
            .collect()
    };
    let retention = "retention_dropped".to_owned();
    assert_eq!(
        ids(&["--status", "4xx"]),
        [
            retention.clone(),
            "41completed".into(),
            "lost".into(),
            "45completed".into()
        ]
    );
    assert_eq!(
        ids(&["--status", "0,5XX"]),
        [
            retention.clone(),
            "lost".into(),
            "46timed_out".into(),
            "48client_aborted".into()
        ]
    );
    // As received, or with %XX decoded.
    assert_eq!(
        ids(&["--path-prefix", "/café/"]),
        [
            retention.clone(),
            "lost".into(),
            "44completed".into(),
            "45completed".into()
        ]
    );
    // --from inclusive, --to exclusive; lost records are kept within the range.
    assert_eq!(
        ids(&[
            "--from",
            "2026-11-21T03:00:43Z",
            "--to",
            "2026-11-21T04:00:45.000+01:00",
        ]),
        [
            retention,
            "43completed".into(),
            "lost".into(),
            "44completed".into()
        ]
    );
}

#[test]
fn export_csv_cli_refuses_bad_arguments_with_exit_2_and_one_line() {
    let fixture = fixture();
    let log_dir = fixture.dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.csv");
    let out = out.to_str().unwrap();
    let refused = |args: &[&str]| -> String {
        let mut all = vec!["--log-dir", log_dir, "-o", out];
        all.extend_from_slice(args);
        let output = wharf(&all);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
        assert_eq!(
            std::fs::read_dir(work.path()).unwrap().count(),
            0,
            "{args:?} left a file behind"
        );
        let text = stderr(&output);
        assert_eq!(text.lines().count(), 1, "{text}");
        text
    };
    assert_eq!(
        refused(&["--status", "abc"]),
        "error: --status: 'abc' is not a status or class; use e.g. 404 or 4xx\n"
    );
    assert_eq!(
        refused(&["--from", "yesterday"]),
        "error: --from: 'yesterday' is not an RFC 3339 time; use e.g. 2026-11-21T03:00:00Z \
         or 2026-11-21T04:00:00+01:00\n"
    );
    assert!(refused(&["--to", "2026-11-21T03:00:00"]).starts_with("error: --to: "));
    assert!(refused(&[
        "--from",
        "2026-11-21T04:00:00Z",
        "--to",
        "2026-11-21T03:00:00Z"
    ])
    .starts_with("error: the time range is empty"));
    assert_eq!(
        refused(&["--session", "nope"]),
        format!(
            "error: no session 'nope' in {log_dir}; the newest is {}\n",
            fixture.session_id
        )
    );
    let missing = PathBuf::from(log_dir).join("missing");
    let output = wharf(&["--log-dir", missing.to_str().unwrap(), "-o", out]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("error: cannot read the log directory"),
        "{}",
        stderr(&output)
    );
}
