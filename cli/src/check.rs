//! `wharf check`: what would go wrong if a folder were published as it is, through
//! [`wharf_core::check_site`], printed for people (grouped by file) or as JSON, with an exit
//! status for CI.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use wharf_core::{check_site, CheckError, CheckOptions, CheckReport, ConfigFile, Severity};
use wharf_core::{Traffic, MAX_LIVE_PAIRS};

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Folder to check; overrides `root` from --config [default: .]
    dir: Option<PathBuf>,
    /// The path the site will be deployed under, e.g. /repo/ for GitHub Pages: root-relative
    /// links under it are checked as the site's own, others are reported
    #[arg(long, value_name = "PATH")]
    base_path: Option<String>,
    /// The site will be served with COOP and COEP (as `serve --cross-origin-isolation`), so
    /// SharedArrayBuffer is allowed
    #[arg(long)]
    cross_origin_isolation: bool,
    /// The site will be served with clean URLs (as `serve --clean-urls`): a link to /about
    /// finds about.html
    #[arg(long)]
    clean_urls: bool,
    /// The site will be served with the SPA fallback (as `serve --spa-fallback`): a page link
    /// with no extension, such as /dashboard, gets the root index.html
    #[arg(long)]
    spa_fallback: bool,
    /// Take `root`, `cross_origin_isolation`, `clean_urls` and `spa_fallback` from this TOML config file
    /// (as `serve`'s); flags override it
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also report the 404s the site's pages met live, read from this access log folder (as
    /// `serve --log-dir`): each missing path with the page that asked for it (its Referer)
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// With --log-dir: the session to read, as `export-csv --session` names it [default: the newest]
    #[arg(long, value_name = "ID", requires = "log_dir")]
    session: Option<String>,
    /// Print the report as JSON instead of text
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: CheckArgs) -> ExitCode {
    let file = match args.config.as_deref().map(ConfigFile::read).transpose() {
        Ok(file) => file,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let draft = file.map(|file| file.draft).unwrap_or_default();
    let settings = CheckOptions::for_settings(&draft);
    let root = args
        .dir
        .or(draft.root)
        .unwrap_or_else(|| PathBuf::from("."));
    let options = CheckOptions {
        base_path: args.base_path,
        cross_origin_isolation: args.cross_origin_isolation || settings.cross_origin_isolation,
        clean_urls: args.clean_urls || settings.clean_urls,
        spa_fallback: args.spa_fallback || settings.spa_fallback,
        traffic: args.log_dir.map(|log_dir| Traffic {
            log_dir,
            session: args.session,
        }),
        ..settings
    };
    let report = match check_site(&root, &options) {
        Ok(report) => report,
        Err(err @ CheckError::BadBasePath { .. }) => {
            eprintln!("error: --base-path: {err}");
            return ExitCode::from(2);
        }
        Err(CheckError::Log(err)) => {
            eprintln!("error: --log-dir: {err}");
            return ExitCode::from(2);
        }
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => json + "\n",
            Err(err) => {
                eprintln!("error: cannot write the report as JSON: {err}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        human(&report)
    };
    // A closed stdout (`| head`) leaves the exit status to say what was found.
    let _ = io::stdout().lock().write_all(text.as_bytes());
    if report.count(Severity::Error) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The report for people: findings grouped by file, each `path:line: severity: message`
/// with its advice indented below, then the files left unread and a summary line.
fn human(report: &CheckReport) -> String {
    let mut out = String::new();
    let mut previous: Option<&str> = None;
    for finding in &report.findings {
        if previous.is_some_and(|file| file != finding.file) {
            out.push('\n');
        }
        previous = Some(&finding.file);
        let place = match finding.line {
            Some(line) => format!("{}:{line}", finding.file),
            None => finding.file.clone(),
        };
        out.push_str(&format!(
            "{place}: {}: {}\n    {}\n",
            finding.severity.label(),
            finding.message,
            finding.advice
        ));
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    for skipped in &report.skipped {
        out.push_str(&format!(
            "{skipped}: not checked: larger than the check reads\n"
        ));
    }
    if report.live_omitted > 0 {
        out.push_str(&format!(
            "{} more live 404s not listed (only the first {MAX_LIVE_PAIRS} paths and pages are)\n",
            report.live_omitted
        ));
    }
    let plural = |n: usize, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    out.push_str(&format!(
        "{}, {} in {} ({} checked)\n",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
        plural(report.files_with_findings(), "file"),
        plural(report.files_seen, "file"),
    ));
    out
}
