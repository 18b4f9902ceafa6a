//! `wharf`: the headless command line on top of wharf-core, for terminals, CI and benchmarks.

mod args;
mod check;
mod export;
mod serve;
mod signals;
mod tail;
mod trust;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::args::ServeArgs;

/// mimalloc: faster small allocations on the request path than glibc's malloc. Its v2 line
/// (the crate's `v2` feature), because v2 returns freed pages to the OS after 10 ms where v3
/// waits 1 s and then only on later allocator activity: hyper's buffers, freed when a quiet
/// connection parks, would otherwise stay resident (issue 17: 6-7 KiB instead of 8+ per idle
/// connection, peak RSS with 1,000 busy connections 25 MB instead of 32, same CPU per request).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    about = "Preview a local site with a fast static file server."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a folder over HTTP until interrupted.
    #[command(
        after_help = "On SIGINT or SIGTERM (on Windows: Ctrl-C, Ctrl-Break or the console \
        closing), wharf stops accepting connections, lets transfers in flight finish for up \
        to 10 seconds, and exits with status 0.\n\
        With --config FILE, settings come from the TOML file and flags override them. The \
        file is re-read when it changes and on SIGHUP (Unix); each change applies to new \
        connections while transfers in flight finish on the config they started with.\n\
        Exit status 2: the port is in use, or an argument is invalid.\n\
        Set WHARF_LOG=debug for diagnostics on stderr."
    )]
    // Boxed: its settings (one flag per row of the settings table) make it far larger than
    // the other commands (clippy's large_enum_variant, on Windows's wider paths).
    Serve(Box<ServeArgs>),
    /// Export one session of the access log (`serve --log-dir`) as a CSV file.
    #[command(
        after_help = "Columns: id, start, peer, method, target, version, status, body_bytes, \
        completed, ttfb_us, total_us, outcome, user_agent, referer, connection, generation, \
        served, note, proxy_rule, upstream_status, upstream_ttfb_us, network_rule, \
        network_effect (see the README). Cells starting with = + - @ are prefixed with ' so \
        spreadsheets show them as text. Records deleted by retention or lost to a full log \
        queue are stated as rows with outcome retention_dropped or lost.\n\
        Exit status 2: an argument is invalid, or the session does not exist."
    )]
    ExportCsv(export::ExportArgs),
    /// Export one session of the access log (`serve --log-dir`) as a HAR 1.2 file, for a
    /// browser's DevTools (Network panel, Import HAR).
    #[command(
        after_help = "One entry per request, with its headers as the server saw and sent them \
        (at most 64 headers and 8 KiB a side; cuts are said in the entry's comment), the \
        connection id (_connectionId), and the server's address and port (serverIPAddress, \
        connection). Timings before the request reached the server are -1; wait is the time \
        to the first byte. The filters are export-csv's. \
        Records deleted by retention or lost to a full log queue are stated in the log's \
        comment.\n\
        Exit status 2: an argument is invalid, or the session does not exist."
    )]
    ExportHar(export::ExportArgs),
    /// Check a folder for what would go wrong if it were published as it is: broken links,
    /// case mismatches, wrong content types, private files, and more.
    #[command(
        after_help = "Each finding is printed as path:line: error|warning: message, with what \
        to do about it below, grouped by file; then a summary line. --json prints the report \
        as JSON instead (kind, severity, file, line, message, advice per finding).\n\
        Exit status 0: no errors (warnings allowed). 1: at least one error. 2: an argument is \
        invalid, or the folder does not exist."
    )]
    Check(check::CheckArgs),
    /// Trust Wharf's local certificate authority in this user's browsers and OS, so that
    /// `serve --https-port` loads without a certificate warning.
    #[command(
        after_help = "Linux: the NSS databases of Chromium (~/.pki/nssdb, made if missing) and of \
        every Firefox profile, through certutil (libnss3-tools). macOS: the login keychain \
        (asks for your password). Windows: the current user's Root store (asks to confirm). \
        --system trusts it machine-wide instead, with an administrator's password.\n\
        On a phone: open http://<this computer>:<port>/__wharf/ca.crt, install it, and \
        compare its SHA-256 fingerprint with the one printed here.\n\
        Exit status 1: a store could not be updated (each is listed). 2: the certificate \
        folder cannot be used."
    )]
    Trust(trust::TrustArgs),
    /// Stop trusting Wharf's local certificate authority (the stores `wharf trust` changes).
    Untrust(trust::TrustArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WHARF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve::run(*args)),
        Command::ExportCsv(args) => export::run(args, export::Format::Csv),
        Command::ExportHar(args) => export::run(args, export::Format::Har),
        Command::Check(args) => check::run(args),
        Command::Trust(args) => trust::run(args, wharf_core::trust::Action::Install),
        Command::Untrust(args) => trust::run(args, wharf_core::trust::Action::Remove),
    }
}

/// One worker thread per CPU this process may use. With a single CPU (e.g. under `taskset`)
/// the current-thread scheduler does the same work without work-stealing's overhead.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if cpus == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    }
}
