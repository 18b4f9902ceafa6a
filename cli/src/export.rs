//! `wharf export-csv` and `wharf export-har`: one session of the durable access log as a CSV
//! or HAR file, through [`wharf_core::export_csv`] or [`wharf_core::export_har`] (the same
//! exports as the desktop app's buttons), with the same flags.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wharf_core::{
    export_csv, export_har, parse_rfc3339_ms, ExportError, ExportFilter, ExportSummary,
};

/// What an export writes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Format {
    Csv,
    Har,
}

impl Format {
    fn export(
        self,
        log_dir: &Path,
        filter: &ExportFilter,
        out: impl io::Write,
    ) -> Result<ExportSummary, ExportError> {
        match self {
            Format::Csv => export_csv(log_dir, filter, out),
            Format::Har => export_har(log_dir, filter, out),
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// The access log's folder, as given to `wharf serve --log-dir`.
    #[arg(long, value_name = "DIR")]
    log_dir: PathBuf,
    /// Session to export, by id (its folder name) [default: the newest]
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Only requests that started at or after this RFC 3339 time, e.g. 2026-11-21T03:00:00Z
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Only requests that started before this RFC 3339 time
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Only these statuses: a code (404), a class (4xx), or a list (2xx,304)
    #[arg(long, value_name = "STATUS")]
    status: Option<String>,
    /// Only requests whose path and query start with this, e.g. /assets/
    #[arg(long, value_name = "PREFIX")]
    path_prefix: Option<String>,
    /// Only requests with exactly this method, e.g. GET
    #[arg(long, value_name = "METHOD")]
    method: Option<String>,
    /// Only requests whose path and query contain this, ignoring case (also matched against
    /// the percent-decoded path)
    #[arg(long, value_name = "TEXT")]
    path_contains: Option<String>,
    /// The file to write (replaced only once the export succeeds); - for stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

impl ExportArgs {
    /// The flags as the library's filter; the error names the flag at fault.
    fn filter(&self) -> Result<ExportFilter, String> {
        let time = |flag: &str, text: &Option<String>| {
            text.as_deref()
                .map(parse_rfc3339_ms)
                .transpose()
                .map_err(|err| format!("{flag}: {err}"))
        };
        Ok(ExportFilter {
            session: self.session.clone(),
            from_ms: time("--from", &self.from)?,
            to_ms: time("--to", &self.to)?,
            status: self
                .status
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|err| format!("--status: {err}"))?,
            path_prefix: self.path_prefix.clone(),
            method: self.method.clone(),
            path_contains: self.path_contains.clone(),
        })
    }
}

pub(crate) fn run(args: ExportArgs, format: Format) -> ExitCode {
    let filter = match args.filter() {
        Ok(filter) => filter,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let (result, destination) = if args.output == Path::new("-") {
        let result = format.export(&args.log_dir, &filter, io::stdout().lock());
        (result, "stdout".to_owned())
    } else {
        match export_to_file(format, &args.log_dir, &filter, &args.output) {
            Ok(result) => (result, args.output.display().to_string()),
            Err(err) => {
                eprintln!("error: -o: cannot write {}: {err}", args.output.display());
                return ExitCode::from(2);
            }
        }
    };
    match result {
        Ok(summary) => {
            eprintln!("{}", describe(&summary, &destination, format));
            ExitCode::SUCCESS
        }
        // The reader of stdout (e.g. `head`) has all it wanted.
        Err(ExportError::Write { source }) if source.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(
            err @ (ExportError::BadStatus { .. }
            | ExportError::BadTime { .. }
            | ExportError::EmptyRange { .. }
            | ExportError::LogDir { .. }
            | ExportError::NoSessions { .. }
            | ExportError::UnknownSession { .. }),
        ) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Exports into a temporary file beside `output`, renamed over it only on success, so a
/// failed export never leaves a truncated or empty file behind. The outer error is about
/// the file itself.
fn export_to_file(
    format: Format,
    log_dir: &Path,
    filter: &ExportFilter,
    output: &Path,
) -> io::Result<Result<ExportSummary, ExportError>> {
    // Private like the log it copies (0600), and never written through a planted symlink.
    wharf_core::replace_private(output, |file| format.export(log_dir, filter, &*file))
}

/// `exported 1234 rows from session <id> to out.csv (1200 earlier records were deleted by
/// retention)`.
fn describe(summary: &ExportSummary, destination: &str, format: Format) -> String {
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut notes = Vec::new();
    if summary.retention_dropped > 0 {
        notes.push(format!(
            "{} deleted by retention",
            plural(
                summary.retention_dropped,
                "earlier record was",
                "earlier records were"
            )
        ));
    }
    if summary.lost > 0 {
        notes.push(format!(
            "{} lost: the log queue was full",
            plural(summary.lost, "record was", "records were")
        ));
    }
    if summary.unreadable_lines > 0 {
        notes.push(format!(
            "{} skipped",
            plural(
                summary.unreadable_lines,
                "unreadable line",
                "unreadable lines"
            )
        ));
    }
    let exported = match format {
        Format::Csv => plural(summary.rows, "row", "rows"),
        Format::Har => plural(summary.records, "entry", "entries"),
    };
    let mut line = format!(
        "exported {exported} from session {} to {destination}",
        summary.session_id
    );
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join("; ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_names_what_is_missing() {
        let summary = ExportSummary {
            session_id: "S".into(),
            rows: 1234,
            records: 1233,
            retention_dropped: 1200,
            lost: 1,
            unreadable_lines: 0,
        };
        assert_eq!(
            describe(&summary, "out.csv", Format::Csv),
            "exported 1234 rows from session S to out.csv (1200 earlier records were deleted \
             by retention; 1 record was lost: the log queue was full)"
        );
        let whole = ExportSummary {
            session_id: "S".into(),
            rows: 1,
            ..ExportSummary::default()
        };
        assert_eq!(
            describe(&whole, "stdout", Format::Csv),
            "exported 1 row from session S to stdout"
        );
    }
}
