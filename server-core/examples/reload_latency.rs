//! Live-reload latency: from a file saved to its event delivered on `/__wharf/reload`.
//!
//! An in-process server serves a temporary site; one client holds the event stream, as the
//! page's script does. Each iteration writes a file (alternately a stylesheet, which should
//! give `css`, and a page, which should give `reload`), starts the clock just before the
//! write, and stops it when the whole event has arrived. A wrong event kind is an error,
//! not a sample. The time includes the watcher's 30 ms debounce, which is most of it: the
//! browser's own reload comes after this.
//!
//! It prints p50/p99/max over `--iterations` and whether the p99 meets the target (100 ms).
//! Run it with `bench/reload-latency.sh` or
//! `cargo run --release -p wharf-core --example reload_latency -- --iterations 100`.

// A benchmark: a failed unwrap is a failed run.
#![allow(clippy::unwrap_used)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wharf_core::{ServerConfig, ServerHandle};

/// Reload-latency benchmark: see the module docs.
#[derive(Parser)]
struct Args {
    /// Saves measured.
    #[arg(long, default_value_t = 100)]
    iterations: usize,
    /// The p99 to meet, in milliseconds.
    #[arg(long, default_value_t = 100.0)]
    target_p99_ms: f64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>0</p>").unwrap();
    std::fs::write(dir.path().join("style.css"), "p{}").unwrap();
    let server = ServerHandle::start(ServerConfig::for_root(dir.path()).unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /__wharf/reload HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    next_event(&mut stream, &mut buf, Duration::from_secs(5))
        .await
        .unwrap();
    // Let the watch start: edit until an event comes, untimed.
    loop {
        std::fs::write(dir.path().join("warmup.txt"), "x").unwrap();
        if next_event(&mut stream, &mut buf, Duration::from_millis(500))
            .await
            .is_some()
        {
            break;
        }
    }
    let mut samples = Vec::with_capacity(args.iterations);
    for i in 0..args.iterations {
        // Let the previous batch settle, so each sample is one save.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let (file, text, expected) = if i % 2 == 0 {
            ("style.css", format!("p{{order:{i}}}"), "css")
        } else {
            ("index.html", format!("<p>{i}</p>"), "reload")
        };
        let started = Instant::now();
        std::fs::write(dir.path().join(file), text).unwrap();
        let Some(kind) = next_event(&mut stream, &mut buf, Duration::from_secs(5)).await else {
            eprintln!("error: no event for save {i} of {file}");
            return ExitCode::FAILURE;
        };
        let elapsed = started.elapsed();
        if kind != expected {
            eprintln!("error: save {i} of {file} gave {kind:?}, not {expected:?}");
            return ExitCode::FAILURE;
        }
        samples.push(elapsed);
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = ms(at(0.99));
    println!(
        "save -> event over {} saves: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; target p99 <= {} ms: {}",
        samples.len(),
        ms(at(0.5)),
        p99,
        ms(*samples.last().unwrap()),
        args.target_p99_ms,
        if p99 <= args.target_p99_ms { "met" } else { "missed" }
    );
    server.stop(Duration::from_secs(1)).await;
    ExitCode::SUCCESS
}

/// The kind of the next event on the stream, skipping comments.
async fn next_event(stream: &mut TcpStream, buf: &mut Vec<u8>, within: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let text = String::from_utf8_lossy(buf).into_owned();
        if let Some(start) = text.find("event: ") {
            if let Some(len) = text[start..].find("\n\n") {
                let kind = text[start + 7..].lines().next().unwrap_or("").to_owned();
                buf.drain(..start + len + 2);
                return Some(kind);
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
