//! `wharf serve`: start the server, print where it is, then apply config file changes until
//! a stop signal.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use wharf_core::Retention;
use wharf_core::{AccessLog, LogSettings};
use wharf_core::{ApplyError, ConfigDraft, ConfigFile, ServerConfig, ServerHandle, StartError};

use crate::args::ServeArgs;
use crate::signals::{Signal, Signals};
use crate::tail;

/// How long transfers may run on after SIGINT/SIGTERM before they are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Editors write a file in several steps; changes this close together are read once.
const SETTLE: Duration = Duration::from_millis(50);
/// What to do when the config file cannot be watched.
#[cfg(unix)]
const UNWATCHED: &str = "send SIGHUP to re-read it";
#[cfg(not(unix))]
const UNWATCHED: &str = "restart wharf to apply its changes";

/// Serves until a stop signal: the exit code says how it went (2 for a bad setting).
pub(crate) async fn run(args: ServeArgs) -> ExitCode {
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

async fn serve(args: ServeArgs) -> Result<(), ExitCode> {
    let config = configure(&args)?;
    let mut signals = Signals::install().map_err(|err| {
        eprintln!("error: cannot listen for signals: {err}");
        ExitCode::FAILURE
    })?;
    let (changed_tx, mut changed) = mpsc::channel(1);
    // Kept alive for as long as we serve.
    let _file_watch = watch_config(&args, changed_tx);
    let log = start_log(&args).map_err(|err| {
        eprintln!("error: --log-dir: cannot create the access log: {err}");
        ExitCode::from(2)
    })?;
    let server = start(config, log.clone()).await?;
    // Scripts wait for this exact first line.
    print_serving(&server);
    print_serving_https(&server);
    warn_if_shared(&server);
    let printer = match (&log, args.printed_format()) {
        (Some(log), Some(format)) => {
            let printing = tail::Printing {
                format,
                explain: args.explain,
            };
            Some(tokio::spawn(tail::print(log.subscribe(), printing)))
        }
        _ => None,
    };
    let loss_watch = log.clone().map(|log| tokio::spawn(warn_of_losses(log)));
    apply_until_stopped(&args, &server, &mut signals, &mut changed).await;
    stop(server).await;
    if let Some(watch) = loss_watch {
        watch.abort();
    }
    if let Some(log) = log {
        finish_log(log, printer).await;
    }
    Ok(())
}

/// The config to start with: the file's draft (if any) with the flags written over it.
fn configure(args: &ServeArgs) -> Result<ServerConfig, ExitCode> {
    let file = args
        .config
        .as_deref()
        .map(ConfigFile::read)
        .transpose()
        .map_err(|err| {
            eprintln!("error: {err}");
            ExitCode::from(2)
        })?;
    let base = file
        .as_ref()
        .map_or_else(ConfigDraft::default, |file| file.draft.clone());
    ServerConfig::try_from(args.over(base)).map_err(|err| {
        eprintln!("error: {}", located(file.as_ref(), err));
        ExitCode::from(2)
    })
}

/// Watches the config file, if there is one and it can be watched (else says what to do).
fn watch_config(args: &ServeArgs, changed: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    match watch(args.config.as_deref()?, changed) {
        Ok(watcher) => Some(watcher),
        Err(err) => {
            eprintln!("warning: cannot watch the config file ({err}); {UNWATCHED}");
            None
        }
    }
}

/// Starts the server, or says why it cannot.
async fn start(config: ServerConfig, log: Option<AccessLog>) -> Result<ServerHandle, ExitCode> {
    ServerHandle::start_logged(config, log).await.map_err(|err| {
        match err {
            StartError::PortInUse { port } => eprintln!("error: port {port} is already in use; choose another with --port, or use --port 0 to pick a free one"),
            err => eprintln!("error: {err}"),
        }
        ExitCode::from(2)
    })
}

/// Applies the config file's changes (on a change, or on SIGHUP) until a stop signal.
async fn apply_until_stopped(
    args: &ServeArgs,
    server: &ServerHandle,
    signals: &mut Signals,
    changed: &mut mpsc::Receiver<()>,
) {
    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Signal::Stop => return,
                #[cfg(unix)]
                Signal::Reload if args.config.is_some() => reload(args, server).await,
                #[cfg(unix)]
                Signal::Reload => eprintln!("SIGHUP ignored: there is no --config file to re-read"),
            },
            Some(()) = changed.recv() => {
                // Let the editor finish writing, then read once.
                tokio::time::sleep(SETTLE).await;
                while changed.try_recv().is_ok() {}
                reload(args, server).await;
            }
        }
    }
}

/// Stops the server, giving transfers in flight [`SHUTDOWN_GRACE`].
async fn stop(server: ServerHandle) {
    eprintln!(
        "shutting down; transfers in flight get up to {} s",
        SHUTDOWN_GRACE.as_secs()
    );
    let report = server.stop(SHUTDOWN_GRACE).await;
    if report.cut > 0 {
        eprintln!(
            "{} connection(s) were still busy and were closed",
            report.cut
        );
    }
}

/// The access log, when a log folder or a live format was asked for.
fn start_log(args: &ServeArgs) -> std::io::Result<Option<AccessLog>> {
    if args.log_dir.is_none() && args.printed_format().is_none() {
        return Ok(None);
    }
    let mut retention = Retention::default();
    if let Some(mb) = args.log_max_mb {
        retention.max_session_bytes = mb.saturating_mul(1 << 20);
        retention.segment_bytes = retention
            .segment_bytes
            .min(retention.max_session_bytes / 4)
            .max(1);
    }
    if let Some(sessions) = args.log_sessions {
        retention.max_sessions = usize::try_from(sessions).unwrap_or(usize::MAX);
    }
    AccessLog::start(LogSettings {
        dir: args.log_dir.clone(),
        retention,
        ..LogSettings::default()
    })
    .map(Some)
}

/// Says on stderr, as it happens, when records were lost because the log's queue was full.
async fn warn_of_losses(log: AccessLog) {
    let mut reported = 0;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        let lost = log.stats().lost;
        if lost > reported {
            eprintln!(
                "access log: {} records lost (the log's queue was full); the log says where",
                lost - reported
            );
            reported = lost;
        }
    }
}

/// Writes out the last records, lets the printer finish, and says what the log holds.
async fn finish_log(log: AccessLog, printer: Option<tokio::task::JoinHandle<()>>) {
    let synced = log.clone();
    let _ = tokio::task::spawn_blocking(move || synced.sync()).await;
    let stats = log.stats();
    let writer_cpu = log.writer_cpu();
    drop(log);
    if let Some(printer) = printer {
        // The printer ends once the writer has handed out its last batch and gone.
        let _ = tokio::time::timeout(Duration::from_secs(2), printer).await;
    }
    if let Some(folder) = &stats.folder {
        eprintln!(
            "access log: {} requests recorded in {}, {} lost",
            stats.logged,
            folder.display(),
            stats.lost
        );
        // The writer's own cost per request, off the request path: the benchmarks print it.
        if let Some(cpu) = writer_cpu.filter(|_| stats.logged > 0) {
            let per_request = cpu.as_secs_f64() * 1e6 / stats.logged as f64;
            eprintln!("access log: the writer used {per_request:.2} µs of CPU per request");
        }
    }
}

/// A validation error, pointing at the config file's line when the field came from there.
fn located(file: Option<&ConfigFile>, err: wharf_core::ConfigError) -> String {
    match file
        .map(|file| file.locate(err.clone()))
        .filter(|located| located.line.is_some())
    {
        Some(located) => located.to_string(),
        None => err.to_string(),
    }
}

/// Re-reads the config file and applies it; a bad file changes nothing.
async fn reload(args: &ServeArgs, server: &ServerHandle) {
    let Some(path) = &args.config else { return };
    let file = match ConfigFile::read(path) {
        Ok(file) => file,
        Err(err) => {
            eprintln!(
                "config not applied, keeping generation {}: {err}",
                server.config().generation()
            );
            return;
        }
    };
    let generation = server.config().generation();
    match server.apply(args.over(file.draft.clone())).await {
        Ok(report) => {
            say(&report.to_string());
            if report.rebound.is_some() {
                print_serving(server);
                warn_if_shared(server);
            }
            if report.https_rebound.is_some() {
                print_serving_https(server);
            }
        }
        Err(ApplyError::Config(err)) => {
            eprintln!(
                "config not applied, keeping generation {generation}: {}",
                file.locate(err)
            );
        }
        Err(err) => eprintln!("config not applied, keeping generation {generation}: {err}"),
    }
}

fn print_serving(server: &ServerHandle) {
    say(&format!(
        "Serving {} at {}",
        server.config().root().display(),
        server.url()
    ));
}

/// `Serving <root> at https://<addr>/ (certificate SHA-256 <fingerprint>)`, with HTTPS on.
fn print_serving_https(server: &ServerHandle) {
    if let Some(https) = server.https() {
        say(&format!(
            "Serving {} at {} (certificate SHA-256 {})",
            server.config().root().display(),
            https.url,
            https.fingerprint
        ));
    }
}

/// One line on stdout, flushed at once so a script reading through a pipe sees it.
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

fn warn_if_shared(server: &ServerHandle) {
    let config = server.config();
    if !config.host().is_loopback() {
        eprintln!(
            "warning: listening on {}: every device on your network can now read {}",
            config.host(),
            config.root().display()
        );
    }
}

/// Watches the config file's folder (editors often replace a file rather than write it) and
/// signals `changed` when the file is touched.
fn watch(file: &Path, changed: mpsc::Sender<()>) -> notify::Result<notify::RecommendedWatcher> {
    let file = std::path::absolute(file)?;
    let folder = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = file.file_name().map(ToOwned::to_owned);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let ours = match &event {
            Ok(event) => {
                !event.kind.is_access()
                    && event
                        .paths
                        .iter()
                        .any(|path| path.file_name() == name.as_deref())
            }
            // An error may hide a change: read the file again to be sure.
            Err(_) => true,
        };
        if ours {
            // Full means a reload is already pending, which will read the latest file.
            let _ = changed.try_send(());
        }
    })?;
    watcher.watch(&folder, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}
