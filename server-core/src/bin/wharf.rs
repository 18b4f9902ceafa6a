//! `wharf`: the headless command line on top of wharf-core, for terminals, CI and benchmarks.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle, StartError};

/// How long transfers may run on after SIGINT/SIGTERM before they are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

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
        after_help = "On SIGINT or SIGTERM, wharf stops accepting connections, lets \
        transfers in flight finish for up to 10 seconds, and exits with status 0.\n\
        Exit status 2: the port is in use, or an argument is invalid.\n\
        Set WHARF_LOG=debug for diagnostics on stderr."
    )]
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Folder to serve.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Address to listen on. 0.0.0.0 shares the folder with every device on your network.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on. 0 picks a free port.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Seconds a client may take to send its request headers before it is cut off.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    header_timeout: f64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    idle_timeout: f64,
    /// Close every connection after one response (no keep-alive).
    #[arg(long)]
    no_keep_alive: bool,
    /// Answer 404 for folders without index.html instead of listing them.
    #[arg(long)]
    no_listing: bool,
    /// Serve and list dotfiles and dot-folders such as .env and .git/ (hidden by default).
    #[arg(long)]
    show_dotfiles: bool,
    /// Serve files whose symlinks lead outside the folder (refused by default).
    #[arg(long)]
    follow_symlinks: bool,
    /// Cache-Control header sent with files and listings.
    #[arg(long, value_name = "VALUE", default_value = "no-cache")]
    cache_control: String,
    /// Never compress responses (by default text is sent gzip- or Brotli-compressed when the
    /// client accepts it).
    #[arg(long)]
    no_compression: bool,
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
        Command::Serve(args) => runtime.block_on(serve(args)),
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

async fn serve(args: ServeArgs) -> ExitCode {
    let draft = ConfigDraft {
        root: Some(args.dir),
        host: Some(args.host.to_string()),
        port: Some(args.port.into()),
        keep_alive: Some(!args.no_keep_alive),
        header_read_timeout_ms: Some(seconds_to_ms(args.header_timeout)),
        keep_alive_idle_timeout_ms: Some(seconds_to_ms(args.idle_timeout)),
        directory_listing: Some(!args.no_listing),
        show_dotfiles: Some(args.show_dotfiles),
        follow_symlinks: Some(args.follow_symlinks),
        cache_control: Some(args.cache_control),
        compression: Some(!args.no_compression),
    };
    let config = match ServerConfig::try_from(draft) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let mut signals = match ShutdownSignals::install() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("error: cannot listen for SIGINT/SIGTERM: {err}");
            return ExitCode::FAILURE;
        }
    };
    let root = config.root.clone();
    let server = match ServerHandle::start(config).await {
        Ok(server) => server,
        Err(StartError::PortInUse { port }) => {
            eprintln!("error: port {port} is already in use; choose another with --port, or use --port 0 to pick a free one");
            return ExitCode::from(2);
        }
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    // Scripts wait for this exact first line; flush so they see it at once even through a pipe.
    let _ = writeln!(stdout, "Serving {} at {}", root.display(), server.url());
    let _ = stdout.flush();
    drop(stdout);
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {}: every device on your network can now read {}",
            args.host,
            root.display()
        );
    }

    signals.recv().await;
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
    ExitCode::SUCCESS
}

/// Seconds from the command line to the config's milliseconds; out-of-range values are left
/// for config validation to explain.
fn seconds_to_ms(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs * 1000.0).round() as u64
    } else {
        0
    }
}

/// SIGINT and SIGTERM, registered before the first line is printed: a script that signals as
/// soon as it reads that line must get a clean stop, not the default kill.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<ShutdownSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
