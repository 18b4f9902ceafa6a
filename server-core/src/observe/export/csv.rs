//! The CSV format of an export: RFC 4180 quoting, the neutralising of cells a spreadsheet
//! would run as formulas ([`push_cell`]), and the rows, built in one reused buffer and written
//! out in chunks ([`CsvWriter`]). Called by `export_csv` only.

use std::io::Write;
use std::net::SocketAddr;

use super::{ExportError, CHUNK_BYTES, COLUMNS};
use crate::observe::access::{rfc3339_ms, AccessRecord};

/// Builds rows in one reused buffer and hands it to `out` in chunks. Cells that repeat from
/// row to row (the second of a time, the peer) are formatted once, not once per row.
pub(super) struct CsvWriter<W: Write> {
    out: W,
    pub(super) buffer: Vec<u8>,
    /// The second last formatted, and its text up to the fraction (`2026-11-21T03:02:03`).
    second: Option<(u64, String)>,
    /// The peer last formatted, and its text.
    peer: Option<(SocketAddr, String)>,
}

impl<W: Write> CsvWriter<W> {
    pub(super) fn new(out: W) -> CsvWriter<W> {
        CsvWriter {
            out,
            buffer: Vec::with_capacity(CHUNK_BYTES + 4096),
            second: None,
            peer: None,
        }
    }

    pub(super) fn record_row(&mut self, record: &AccessRecord) -> Result<(), ExportError> {
        self.number(record.id);
        self.time(record.start_ms);
        self.peer(record.peer);
        self.text(&record.method);
        self.text(&record.target);
        self.text(&record.version);
        self.number(u64::from(record.status));
        self.number(record.body_bytes);
        self.safe(if record.completed { "true" } else { "false" });
        self.optional(record.ttfb_us);
        self.number(record.total_us);
        self.safe(record.outcome.as_str());
        self.text(record.user_agent.as_deref().unwrap_or(""));
        self.text(record.referer.as_deref().unwrap_or(""));
        self.number(record.connection);
        self.number(record.generation);
        self.safe(record.served.as_str());
        self.safe("");
        let proxy = record.proxy;
        self.optional(proxy.map(|proxy| u64::from(proxy.rule)));
        self.optional(proxy.and_then(|proxy| proxy.upstream_status).map(u64::from));
        self.optional(proxy.and_then(|proxy| proxy.upstream_ttfb_us));
        match record.network {
            Some(note) => {
                self.number(u64::from(note.rule));
                self.safe(&note.effect_names());
            }
            None => {
                self.safe("");
                self.safe("");
            }
        }
        // Wharf's own words (`route=spa-fallback body=br-compressed`): no comma, quote or
        // line break, and never a formula's first character.
        self.safe(&record.why.map(|why| why.code()).unwrap_or_default());
        let timing = record.timing;
        self.safe(match timing.map(|timing| timing.new_connection) {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        });
        self.optional(timing.map(|timing| timing.since_accept_us));
        for phase in [
            timing.and_then(|timing| timing.tls_us),
            timing.and_then(|timing| timing.head_us),
            timing.and_then(|timing| timing.resolve_us),
        ] {
            self.optional(phase.map(u64::from));
        }
        self.end_row()
    }

    /// A row that stands for records the log does not hold: only `start`, `outcome` and
    /// `note` are filled.
    pub(super) fn note_row(
        &mut self,
        unix_ms: u64,
        outcome: &str,
        note: &str,
    ) -> Result<(), ExportError> {
        for column in COLUMNS {
            match column {
                "start" => self.time(unix_ms),
                "outcome" => self.safe(outcome),
                "note" => self.text(note),
                _ => self.safe(""),
            }
        }
        self.end_row()
    }

    /// A number, or an empty cell.
    pub(super) fn optional(&mut self, value: Option<u64>) {
        match value {
            Some(value) => self.number(value),
            None => self.safe(""),
        }
    }

    pub(super) fn number(&mut self, value: u64) {
        self.buffer
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self.buffer.push(b',');
    }

    /// As [`rfc3339_ms`]: `2026-11-21T03:02:03.456Z`.
    pub(super) fn time(&mut self, unix_ms: u64) {
        let second = unix_ms / 1000;
        let prefix = match &mut self.second {
            Some((cached, prefix)) if *cached == second => prefix,
            slot => {
                let mut text = rfc3339_ms(second * 1000);
                text.truncate(text.len() - ".000Z".len());
                &slot.insert((second, text)).1
            }
        };
        self.buffer.extend_from_slice(prefix.as_bytes());
        let millis = unix_ms % 1000;
        self.buffer.extend_from_slice(&[
            b'.',
            b'0' + (millis / 100) as u8,
            b'0' + (millis / 10 % 10) as u8,
            b'0' + (millis % 10) as u8,
            b'Z',
            b',',
        ]);
    }

    /// A socket address has no character that needs quoting or neutralising.
    pub(super) fn peer(&mut self, peer: SocketAddr) {
        let text = match &mut self.peer {
            Some((cached, text)) if *cached == peer => text,
            slot => &slot.insert((peer, peer.to_string())).1,
        };
        self.buffer.extend_from_slice(text.as_bytes());
        self.buffer.push(b',');
    }

    /// A cell whose text we chose (a name, a time, an enum), never a stranger's.
    pub(super) fn safe(&mut self, value: &str) {
        self.buffer.extend_from_slice(value.as_bytes());
        self.buffer.push(b',');
    }

    /// A text cell: from the network, or a note. Quoted and neutralised.
    fn text(&mut self, value: &str) {
        push_cell(&mut self.buffer, value);
        self.buffer.push(b',');
    }

    pub(super) fn end_row(&mut self) -> Result<(), ExportError> {
        // Every cell ended with a comma; the row's last one becomes the line end.
        self.buffer.pop();
        self.buffer.extend_from_slice(b"\r\n");
        if self.buffer.len() >= CHUNK_BYTES {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), ExportError> {
        self.out
            .write_all(&self.buffer)
            .map_err(|source| ExportError::Write { source })?;
        self.buffer.clear();
        Ok(())
    }

    pub(super) fn finish(&mut self) -> Result<(), ExportError> {
        self.drain()?;
        self.out
            .flush()
            .map_err(|source| ExportError::Write { source })
    }
}

/// Appends network text as one CSV cell: quoted, and neutralised wherever a spreadsheet may
/// start a cell.
///
/// Quoted per RFC 4180 §2.6–2.7, always (empty text stays an empty cell): the text is enclosed
/// in double quotes, its double quotes doubled, so a comma, quote or line break inside it never
/// ends the cell for a reader that splits on commas.
///
/// Neutralised following OWASP "CSV Injection": a spreadsheet runs a cell starting with `=`,
/// `+`, `-` or `@` (or their full-width forms, or tab or CR hiding such a start) as a formula,
/// so a single quote goes before it and the cell stays text. That start is looked for at the
/// beginning of the text and after every character some spreadsheet may split cells on when it
/// guesses the separator or the user picks one: `,` `;` tab `|` CR LF, and `"` (a field may open
/// with a quote after a split). A reader splitting on `;` sees `x;=1+1` as the cells `x` and
/// `=1+1`, so the export writes `x;'=1+1`. Spaces between the split and the start are skipped,
/// for readers that trim them.
pub(super) fn push_cell(buffer: &mut Vec<u8>, value: &str) {
    if value.is_empty() {
        return;
    }
    buffer.push(b'"');
    // Bytes, not chars: every character that matters is ASCII but the full-width starts, and
    // a run with nothing to add is copied in one piece.
    let bytes = value.as_bytes();
    let (mut copied, mut cell_start) = (0, true);
    for (at, &byte) in bytes.iter().enumerate() {
        if cell_start && starts_formula(&bytes[at..]) {
            buffer.extend_from_slice(&bytes[copied..at]);
            buffer.push(b'\'');
            copied = at;
        }
        if byte == b'"' {
            buffer.extend_from_slice(&bytes[copied..=at]);
            buffer.push(b'"');
            copied = at + 1;
        }
        cell_start = splits_cells(byte) || (cell_start && byte == b' ');
    }
    buffer.extend_from_slice(&bytes[copied..]);
    buffer.push(b'"');
}

/// Whether `text` starts with a character that makes a cell a formula when it comes first:
/// `=` `+` `-` `@` tab CR, or the full-width `＝` `＋` `－` `＠` (U+FF1D, U+FF0B, U+FF0D, U+FF20).
fn starts_formula(text: &[u8]) -> bool {
    matches!(
        text,
        [b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r', ..]
            | [0xEF, 0xBC, 0x9D | 0x8B | 0x8D | 0xA0, ..]
    )
}

/// A byte after which some spreadsheet may start a new cell or row.
fn splits_cells(byte: u8) -> bool {
    matches!(byte, b',' | b';' | b'\t' | b'|' | b'\r' | b'\n' | b'"')
}
