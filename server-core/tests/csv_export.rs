//! CSV export end to end: a session holding hostile values is exported, checked against RFC
//! 4180 byte by byte, opened by LibreOffice Calc with formula evaluation on (every cell must
//! come back as the literal text, no formula), opened again split on `;` and on tabs as a
//! spreadsheet in another locale would (still no formula). `wharf export-csv` is tested with
//! the same session in the CLI's tests (`cli/tests/cli.rs`).
//!
//! LibreOffice is required: without it the LibreOffice test fails and says how to install it
//! (`scripts/test.sh` does).

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::hostile_log::{export, fixture, header, parse_csv, LOST};
use wharf_core::{ExportFilter, ExportSummary, COLUMNS};

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
