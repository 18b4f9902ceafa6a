//! CSV export of a million records: how long it takes and how much memory it needs.
//!
//! Untimed: write `--records` access records (realistic paths and user agents, one in fifty
//! hostile enough to need quoting or neutralising, a few lost-record lines) into a session in
//! a temporary log directory with [`SessionWriter`], keeping everything (no retention).
//! Timed: [`export_csv`] of that session into a file in the same temporary directory. It
//! prints the elapsed time, rows and bytes per second, and the export's peak resident memory
//! (`VmHWM` from `/proc/self/status`, reset through `/proc/self/clear_refs` after writing so
//! that it covers the export alone; if the reset is refused it is the whole run's peak, and
//! says so).
//!
//! Run it with `bench/export-million.sh` or
//! `cargo run --release -p wharf-core --example export_million -- --records 1000000`.

use std::error::Error;
use std::fs::File;
use std::time::Instant;

use clap::Parser;
use wharf_core::{export_csv, ExportFilter};
use wharf_core::{sessions, LogLine, Retention, SessionReader, SessionWriter};
use wharf_core::{AccessRecord, Outcome, Served};

/// 2026-11-21T03:00:00Z.
const T0: u64 = 1_795_230_000_000;

const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "curl/8.5.0",
    "=HYPERLINK(\"http://evil\",\"click, me\")",
];

/// Export benchmark: see the module docs.
#[derive(Parser)]
struct Args {
    /// Records written, then exported.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let log_dir = dir.path().join("log");
    let retention = Retention {
        max_session_bytes: u64::MAX,
        ..Retention::default()
    };

    let started = Instant::now();
    let mut writer = SessionWriter::create(&log_dir, retention)?;
    for id in 1..=args.records {
        writer.append(&LogLine::Request(record(id)))?;
        if id % 250_000 == 0 {
            writer.append(&LogLine::Lost {
                count: 3,
                at_ms: T0 + id,
            })?;
        }
    }
    writer.flush()?;
    let log_bytes = folder_bytes(writer.folder())?;
    drop(writer);
    println!(
        "wrote {} records ({:.0} MB of JSON Lines) in {:.2?}; peak RSS so far {}",
        args.records,
        log_bytes as f64 / 1e6,
        started.elapsed(),
        peak_rss()
    );

    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let csv_path = dir.path().join("export.csv");
    let started = Instant::now();
    let summary = export_csv(&log_dir, &ExportFilter::default(), File::create(&csv_path)?)?;
    let elapsed = started.elapsed();
    let csv_bytes = std::fs::metadata(&csv_path)?.len();
    let seconds = elapsed.as_secs_f64();
    println!(
        "exported {} rows ({:.0} MB of CSV) in {elapsed:.2?}: {:.0} rows/s, {:.0} MB/s read",
        summary.rows,
        csv_bytes as f64 / 1e6,
        summary.rows as f64 / seconds,
        log_bytes as f64 / 1e6 / seconds
    );
    println!(
        "peak RSS {} ({})",
        peak_rss(),
        if reset {
            "during the export alone"
        } else {
            "of the whole run: /proc/self/clear_refs refused the reset"
        }
    );
    assert_eq!(summary.records, args.records, "every record is exported");

    let started = Instant::now();
    export_csv(&log_dir, &ExportFilter::default(), std::io::sink())?;
    println!("exporting to a sink: {:.2?}", started.elapsed());

    // For comparison: what reading and parsing the log costs without writing any CSV.
    let session = &sessions(&log_dir)?[0];
    let started = Instant::now();
    let lines = SessionReader::open(session)?.count();
    println!(
        "reading the log alone ({lines} lines): {:.2?}",
        started.elapsed()
    );
    Ok(())
}

fn record(id: u64) -> AccessRecord {
    let hostile = id.is_multiple_of(50);
    AccessRecord {
        id,
        start_ms: T0 + id / 10,
        peer: "192.168.1.23:51234".parse().expect("a literal address"),
        method: "GET".into(),
        target: if hostile {
            format!("/search?q=a,b\"c&page={id}")
        } else {
            format!("/assets/app-{}.js?v={id}", id % 97)
        },
        version: "HTTP/1.1".into(),
        status: if id.is_multiple_of(20) { 404 } else { 200 },
        body_bytes: 48_213 + id % 1000,
        completed: true,
        ttfb_us: Some(180 + id % 300),
        total_us: 950 + id % 5000,
        outcome: Outcome::Completed,
        user_agent: Some(USER_AGENTS[(id % 4) as usize].to_owned()),
        referer: id
            .is_multiple_of(3)
            .then(|| "http://127.0.0.1:8080/index.html".to_owned()),
        connection: id / 8,
        generation: 1,
        served: Served::Gzip,
        proxy: None,
        network: None,
        why: None,
        headers: None,
        timing: None,
    }
}

fn folder_bytes(folder: &std::path::Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(folder)? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}

/// `VmHWM` from `/proc/self/status` (Linux), e.g. `9.4 MiB`.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} MiB", kib / 1024.0))
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".to_owned())
}
