//! `--access-log FORMAT`: the live access log on stdout, as Apache's `common` or `combined`
//! lines or as JSON Lines. Strings from the network are escaped the way nginx does (`\"`,
//! `\\`, `\xHH` for control bytes), so one request is always exactly one line.
//!
//! `--explain` adds why each request got its answer (`AccessRecord::explain`, the words the window
//! shows): indented lines under a `common` or `combined` line, which no log parser takes
//! for a request, or an `explain` array in a JSON line.

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

/// What is printed for each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Printing {
    pub(crate) format: Format,
    /// `--explain`: why, in words.
    pub(crate) explain: bool,
}

/// Prints every batch until the log ends. A stdout too slow to keep up loses lines, never
/// the server's time: the skipped count is printed on stderr.
pub(crate) async fn print(mut batches: Receiver<LogBatch>, printing: Printing) {
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
            line(&mut text, record, printing);
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
}

fn line(out: &mut String, record: &AccessRecord, printing: Printing) {
    let Printing { format, explain } = printing;
    let sentences = if explain {
        record.explain()
    } else {
        Vec::new()
    };
    if format == Format::Json {
        let json = if explain {
            serde_json::to_value(record).map(|mut value| {
                value["explain"] = serde_json::Value::from(sentences);
                value.to_string()
            })
        } else {
            serde_json::to_string(record)
        };
        if let Ok(json) = json {
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
    for sentence in sentences {
        // The words are Wharf's; only `{method}` came from the client, escaped like the rest.
        out.push_str("    ");
        escaped(out, &sentence);
        out.push('\n');
    }
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
            headers: None,
            timing: None,
        };
        let mut out = String::new();
        line(&mut out, &record, printing(Format::Combined, false));
        assert_eq!(
            out,
            "127.0.0.1 - - [21/Nov/2026:03:02:03 +0000] \"GET /a\\\"b\\\\c HTTP/1.1\" 404 12 \"-\" \"evil\\x0A127.0.0.1 - - fake\"\n"
        );
    }

    fn printing(format: Format, explain: bool) -> Printing {
        Printing { format, explain }
    }

    #[test]
    fn explain_puts_the_words_under_the_line_or_in_the_json() {
        let mut record: AccessRecord = serde_json::from_value(serde_json::json!({
            "id": 1, "startMs": 1_795_230_123_456_u64, "peer": "127.0.0.1:5000",
            "method": "PUT\nX", "target": "/", "version": "HTTP/1.1", "status": 405,
            "bodyBytes": 0, "completed": true, "ttfbUs": 1, "totalUs": 2,
            "outcome": "completed", "userAgent": null, "referer": null, "connection": 1,
            "generation": 1, "served": "status",
            "why": { "route": "method", "validation": "unknown", "body": "unknown",
                     "injected": false, "cacheControl": "default", "headerRules": 0 }
        }))
        .unwrap();
        let mut out = String::new();
        line(&mut out, &record, printing(Format::Common, true));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(
            lines[1],
            "    A static site answers GET and HEAD: PUT\\x0AX got 405 (OPTIONS gets the allowed methods)."
        );
        out.clear();
        line(&mut out, &record, printing(Format::Json, true));
        let json: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(json["explain"].as_array().unwrap().len(), 1);
        assert_eq!(json["why"]["route"], "method");
        out.clear();
        line(&mut out, &record, printing(Format::Common, false));
        assert_eq!(out.lines().count(), 1, "no words unless asked");
        record.why = None;
        out.clear();
        line(&mut out, &record, printing(Format::Combined, true));
        assert_eq!(
            out.lines().count(),
            1,
            "a record from before issue 19 has none"
        );
    }
}
