//! Apply latency: how soon after [`ServerHandle::apply`] returns a new client is served on the
//! new config, while 1,000 idle keep-alive connections are open (and must all be closed).
//!
//! Each iteration, untimed: make sure `--idle` keep-alive connections are open and have each
//! completed one request (reopening the ones the previous apply closed). Timed: apply a draft
//! with a new marker in `Cache-Control`, connect a new client at once, `GET /small.txt`, and
//! stop the clock when the whole response has arrived carrying the new marker. A response
//! with an older marker is an error, not a slow sample. Then, untimed, wait until the server
//! has closed every connection of the old generation, and note how long after `apply()` that
//! was.
//!
//! It prints p50/p90/p99/max over `--iterations` and whether the p99 meets the target
//! (5 ms). Timings only inform: a miss does not fail the run, a stale response does. Both
//! ends of every connection live in this process, so it needs about 2 x `--idle` file
//! descriptors; it says so and stops if `ulimit -n` is lower.
//!
//! Run it with `bench/apply-latency.sh` or
//! `cargo run --release -p wharf-core --example apply_latency -- --iterations 200 --idle 1000`.

use std::error::Error;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};

/// Connections opened at once while refilling the idle pool.
const OPEN_AT_ONCE: usize = 100;
/// Longest wait for the previous apply's connections to close, or for one response.
const PATIENCE: Duration = Duration::from_secs(10);
/// File descriptors needed besides the connections: the listener, the runtime, stdio...
const FD_SPARE: u64 = 64;

/// Apply-latency benchmark: see the module docs.
#[derive(Parser)]
struct Args {
    /// Applies measured.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Idle keep-alive connections open at each apply.
    #[arg(long, default_value_t = 1000)]
    idle: usize,
    /// The p99 to meet, in milliseconds.
    #[arg(long, default_value_t = 5.0)]
    target_p99_ms: f64,
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn Error>> {
    let args = Args::parse();
    let needed = 2 * args.idle as u64 + FD_SPARE;
    match open_files_limit() {
        Some(limit) if limit < needed => {
            println!(
                "note: ulimit -n is {limit}, but {} idle connections need about {needed} file \
                 descriptors (both ends live in this process); raise it or pass a smaller --idle",
                args.idle
            );
            return Ok(ExitCode::FAILURE);
        }
        Some(limit) => println!("ulimit -n: {limit} (about {needed} needed)"),
        None => println!("ulimit -n: unknown; about {needed} file descriptors needed"),
    }

    let site = tempfile::tempdir()?;
    std::fs::write(
        site.path().join("small.txt"),
        "Wharf apply latency.\n".repeat(16),
    )?;
    let server = ServerHandle::start(ServerConfig::try_from(ConfigDraft {
        root: Some(site.path().to_path_buf()),
        port: Some(0),
        cache_control: Some(marker(0)),
        ..ConfigDraft::default()
    })?)
    .await?;
    let addr = server.local_addr();

    let mut idle: Vec<Option<std::net::TcpStream>> = (0..args.idle).map(|_| None).collect();
    let mut served = Vec::with_capacity(args.iterations);
    let mut apply_calls = Vec::with_capacity(args.iterations);
    let mut drained = Vec::with_capacity(args.iterations);
    let mut open_at_apply = usize::MAX;
    let mut stale = 0;
    for n in 1..=args.iterations as u64 {
        refill(&mut idle, addr).await?;
        open_at_apply = open_at_apply.min(server.connections().len());

        let draft = ConfigDraft {
            cache_control: Some(marker(n)),
            ..ConfigDraft::from(&*server.config())
        };
        let started = Instant::now();
        server.apply(draft).await?;
        let applied = Instant::now();
        let mut client = TcpStream::connect(addr).await?;
        let got = get(&mut client, "/small.txt").await?;
        let done = Instant::now();

        apply_calls.push(applied - started);
        served.push(done - applied);
        if got != marker(n) {
            stale += 1;
            println!("apply {n}: the new client got {got:?}, not {:?}", marker(n));
        }
        drained.push(wait_for_old_connections(&server, applied).await?);
    }
    server.stop(Duration::from_secs(5)).await;

    println!(
        "{} applies, {} idle keep-alive connections open at each (fewest seen by the server: {})",
        args.iterations, args.idle, open_at_apply
    );
    report("apply() call", &mut apply_calls);
    report("apply() returned -> new client served", &mut served);
    report("apply() returned -> old connections gone", &mut drained);
    let p99 = millis(percentile(&served, 0.99));
    let verdict = if p99 <= args.target_p99_ms {
        "PASS"
    } else {
        "MISS"
    };
    println!(
        "target: new client served within {} ms of apply() at p99: {verdict} ({p99:.3} ms)",
        args.target_p99_ms
    );
    println!("stale responses (old marker after apply): {stale}");
    Ok(if stale == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The `Cache-Control` value of apply `n`.
fn marker(n: u64) -> String {
    format!("no-cache, latency-apply={n}")
}

/// Waits until every connection the server holds is on the current generation; returns how
/// long after `applied` that was (to the millisecond it is polled at).
async fn wait_for_old_connections(server: &ServerHandle, applied: Instant) -> io::Result<Duration> {
    let current = server.config().generation();
    while server
        .connections()
        .iter()
        .any(|conn| conn.generation < current)
    {
        if applied.elapsed() > PATIENCE {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "old connections still open 10 s after an apply",
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(applied.elapsed())
}

/// Reopens every idle connection that is closed (or was never opened), each with one
/// completed request, `OPEN_AT_ONCE` at a time.
async fn refill(idle: &mut [Option<std::net::TcpStream>], addr: SocketAddr) -> io::Result<()> {
    let closed: Vec<usize> = (0..idle.len())
        .filter(|&i| !idle[i].as_ref().is_some_and(is_open))
        .collect();
    for batch in closed.chunks(OPEN_AT_ONCE) {
        let mut opening = JoinSet::new();
        for &slot in batch {
            idle[slot] = None;
            opening.spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                get(&mut stream, "/small.txt").await?;
                io::Result::Ok((slot, stream.into_std()?))
            });
        }
        while let Some(opened) = opening.join_next().await {
            let (slot, stream) = opened.map_err(io::Error::other)??;
            idle[slot] = Some(stream);
        }
    }
    Ok(())
}

/// Whether the server still holds this idle connection open. The stream is non-blocking (as
/// `into_std` leaves it), so an open, quiet connection reads `WouldBlock`.
fn is_open(stream: &std::net::TcpStream) -> bool {
    let mut byte = [0];
    matches!(
        (&*stream).read(&mut byte),
        Err(err) if err.kind() == io::ErrorKind::WouldBlock
    )
}

/// Sends `GET path` and reads the whole response; returns its `Cache-Control` value.
///
/// # Errors
/// Any I/O error, a close before the end, a status other than 200, or a stall.
async fn get(stream: &mut TcpStream, path: &str) -> io::Result<String> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    let exchange = async {
        loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&received[..end])
                    .map_err(|_| bad("head is not UTF-8".into()))?;
                if !head.starts_with("HTTP/1.1 200 ") {
                    return Err(bad(format!("unexpected response: {head}")));
                }
                let header = |name: &str| {
                    head.split("\r\n").find_map(|line| {
                        let (key, value) = line.split_once(':')?;
                        key.eq_ignore_ascii_case(name)
                            .then(|| value.trim().to_owned())
                    })
                };
                let length: usize = header("content-length")
                    .and_then(|value| value.parse().ok())
                    .ok_or_else(|| bad("no Content-Length".into()))?;
                if received.len() >= end + 4 + length {
                    return Ok(header("cache-control").unwrap_or_default());
                }
            }
            match stream.read(&mut buf).await? {
                0 => return Err(bad("closed before the end of the response".into())),
                n => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(PATIENCE, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "response stalled"))?
}

/// Prints p50/p90/p99/max of `samples` (sorted in place).
fn report(what: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    println!(
        "{what:<40} p50 {:7.3} ms  p90 {:7.3} ms  p99 {:7.3} ms  max {:7.3} ms",
        millis(percentile(samples, 0.50)),
        millis(percentile(samples, 0.90)),
        millis(percentile(samples, 0.99)),
        millis(samples.last().copied().unwrap_or_default()),
    );
}

/// Nearest-rank percentile of sorted `samples`.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    let rank = (p * samples.len() as f64).ceil() as usize;
    samples
        .get(rank.saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The soft limit on open files (`ulimit -n`), read from `/proc/self/limits` (Linux).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
