//! `--access-log FORMAT`: the live access log on stdout, as Apache's `common` or `combined`
//! lines or as JSON Lines. Strings from the network are escaped the way nginx does (`\"`,
//! `\\`, `\xHH` for control bytes), so one request is always exactly one line.

use std::fmt::Write as _;
use std::io::Write as _;

use tokio::sync::mpsc::Receiver;
use wharf_core::LogBatch;
use wharf_core::{rfc3339_ms, AccessRecord};

/// How each record is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// `peer - - [time] "request" status bytes`
    Common,
    /// `common` plus `"referer" "user-agent"`
    Combined,
    /// One JSON object per line, every field of the record.
    Json,
}

/// Prints every batch until the log ends. A stdout too slow to keep up loses lines, never
/// the server's time: the skipped count is printed on stderr.
pub(crate) async fn print(mut batches: Receiver<LogBatch>, format: Format) {
    let mut text = String::new();
    while let Some(batch) = batches.recv().await {
        if batch.missed > 0 {
            eprintln!(
                "access log: {} records not shown here (stdout fell behind); the log on disk has them",
                batch.missed
            );
        }
        text.clear();
        for record in batch.records.iter() {
            line(&mut text, record, format);
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
}

fn line(out: &mut String, record: &AccessRecord, format: Format) {
    if format == Format::Json {
        if let Ok(json) = serde_json::to_string(record) {
            out.push_str(&json);
            out.push('\n');
        }
        return;
    }
    let _ = write!(
        out,
        "{} - - [{}] \"",
        record.peer.ip(),
        clf_time(record.start_ms)
    );
    if record.method.is_empty() {
        out.push('-');
    } else {
        escaped(out, &record.method);
        out.push(' ');
        escaped(out, &record.target);
        out.push(' ');
        escaped(out, &record.version);
    }
    let _ = write!(out, "\" {} {}", record.status, record.body_bytes);
    if format == Format::Combined {
        for value in [&record.referer, &record.user_agent] {
            out.push_str(" \"");
            escaped(out, value.as_deref().unwrap_or("-"));
            out.push('"');
        }
    }
    out.push('\n');
}

/// `21/Nov/2026:03:02:03 +0000`, the Common Log Format's time.
fn clf_time(unix_ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 2026-11-21T03:02:03.456Z
    let iso = rfc3339_ms(unix_ms);
    let month = iso[5..7].parse::<usize>().unwrap_or(1);
    format!(
        "{}/{}/{}:{} +0000",
        &iso[8..10],
        MONTHS[month.clamp(1, 12) - 1],
        &iso[0..4],
        &iso[11..19]
    )
}

fn escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let mut bytes = [0u8; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    let _ = write!(out, "\\x{byte:02X}");
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::{Outcome, Served};

    #[test]
    fn combined_lines_escape_what_strangers_send() {
        let record = AccessRecord {
            id: 1,
            start_ms: 1_795_230_123_456,
            peer: "127.0.0.1:5000".parse().unwrap(),
            method: "GET".into(),
            target: "/a\"b\\c".into(),
            version: "HTTP/1.1".into(),
            status: 404,
            body_bytes: 12,
            completed: true,
            ttfb_us: Some(1),
            total_us: 2,
            outcome: Outcome::Completed,
            user_agent: Some("evil\n127.0.0.1 - - fake".into()),
            referer: None,
            connection: 1,
            generation: 1,
            served: Served::Status,
            proxy: None,
            network: None,
            why: None,
            timing: None,
        };
        let mut out = String::new();
        line(&mut out, &record, Format::Combined);
        assert_eq!(
            out,
            "127.0.0.1 - - [21/Nov/2026:03:02:03 +0000] \"GET /a\\\"b\\\\c HTTP/1.1\" 404 12 \"-\" \"evil\\x0A127.0.0.1 - - fake\"\n"
        );
    }
}
