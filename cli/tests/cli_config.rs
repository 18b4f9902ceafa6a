//! `wharf serve --config FILE`: the file is watched (on every OS) and re-read on SIGHUP (on
//! Unix; Windows has no signals, so there its watch is what re-reads it); each change prints
//! one line and applies to new connections, while a slow download finishes on its old config.
//! A bad file is reported with its line and changes nothing.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[cfg(unix)]
use common::signal;
use common::{addr_from_first_line, parse, stop, wharf};
use sha2::{Digest, Sha256};

const BIG: usize = 24 << 20;

/// The lines a stream prints, as they come, so a test can wait for one with a timeout.
fn lines<R: Read + Send + 'static>(stream: R) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn next(lines: &mpsc::Receiver<String>, what: &str) -> String {
    lines
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("no {what} line within 10 s"))
}

struct Serve {
    child: Child,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
    addr: SocketAddr,
}

fn serve(config: &Path) -> Serve {
    let mut child = wharf()
        .args(["serve", "--config", config.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines::<ChildStdout>(child.stdout.take().unwrap());
    let err = lines::<ChildStderr>(child.stderr.take().unwrap());
    let addr = addr_from_first_line(&next(&out, "first"));
    Serve {
        child,
        out,
        err,
        addr,
    }
}

fn read_head(stream: &mut TcpStream) -> common::RawResponse {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    parse(&head)
}

fn get(addr: SocketAddr, path: &str) -> common::RawResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let head = read_head(&mut stream);
    let length: usize = head.header("content-length").unwrap().parse().unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    common::RawResponse { body, ..head }
}

#[test]
fn editing_the_config_applies_to_new_connections_while_a_slow_download_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("public");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("index.html"), "hello").unwrap();
    let big: Vec<u8> = (0..BIG).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(site.join("big.bin"), &big).unwrap();
    let config = dir.path().join("wharf.toml");
    std::fs::write(
        &config,
        "root = \"public\"\nport = 0\ncache_control = \"no-cache, gen=1\"\n",
    )
    .unwrap();
    let mut wharf = serve(&config);
    let addr = wharf.addr;

    // A slow download: the client reads a little, then stops reading.
    let mut download = TcpStream::connect(addr).unwrap();
    write!(download, "GET /big.bin HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let head = read_head(&mut download);
    assert_eq!(head.header("cache-control"), Some("no-cache, gen=1"));
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 64 * 1024];
    download.read_exact(&mut chunk).unwrap();
    hasher.update(&chunk);

    std::fs::write(
        &config,
        "root = \"public\"\nport = 0\nkeep_alive = false\ncache_control = \"no-cache, gen=2\"\n",
    )
    .unwrap();
    assert_eq!(
        next(&wharf.out, "applied"),
        "generation 2 applied: keep_alive on -> off, cache_control no-cache, gen=1 -> no-cache, gen=2; \
         1 transfer continues on generation 1"
    );
    let fresh = get(addr, "/");
    assert_eq!(fresh.header("cache-control"), Some("no-cache, gen=2"));
    assert_eq!(fresh.header("connection"), Some("close"));

    // The download finishes, byte-exact, on generation 1.
    let mut rest = Vec::new();
    download.read_to_end(&mut rest).unwrap();
    hasher.update(&rest);
    assert_eq!(64 * 1024 + rest.len(), BIG, "complete, then closed");
    assert_eq!(hasher.finalize().to_vec(), Sha256::digest(&big).to_vec());

    // A bad edit is reported with its line; the server keeps generation 2.
    std::fs::write(
        &config,
        "root = \"public\"\nkeep_alive = false\nport = 70000\n",
    )
    .unwrap();
    let error = next(&wharf.err, "error");
    assert!(
        error.starts_with("config not applied, keeping generation 2: ")
            && error.ends_with(
                "wharf.toml:3: port: 70000 is not a valid port; use 0-65535 (0 picks a free one)"
            ),
        "{error}"
    );
    assert_eq!(
        get(addr, "/").header("cache-control"),
        Some("no-cache, gen=2")
    );

    // SIGHUP re-reads the file too.
    #[cfg(unix)]
    {
        signal(&wharf.child, "HUP");
        assert!(next(&wharf.err, "error").ends_with(
            "wharf.toml:3: port: 70000 is not a valid port; use 0-65535 (0 picks a free one)"
        ));
    }

    stop(&wharf.child);
    assert!(wharf.child.wait().unwrap().success());
}

#[test]
fn sighup_rereads_the_file_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "hello").unwrap();
    let config = dir.path().join("wharf.toml");
    // No root: the file's own folder is served. The flag --port 0 overrides the file's port.
    std::fs::write(&config, "port = 1\ncache_control = \"max-age=1\"\n").unwrap();
    let mut child = wharf()
        .args(["serve", "--config", config.to_str().unwrap(), "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let first = next(&out, "first");
    let root = dunce::canonicalize(dir.path()).unwrap();
    assert!(
        first.starts_with(&format!("Serving {} at http://127.0.0.1:", root.display())),
        "{first}"
    );
    let addr = addr_from_first_line(&first);
    assert_eq!(get(addr, "/").header("cache-control"), Some("max-age=1"));

    // Re-read: SIGHUP on Unix; on Windows, which has no signals, the same file saved again.
    #[cfg(unix)]
    signal(&child, "HUP");
    #[cfg(windows)]
    std::fs::write(&config, "port = 1\ncache_control = \"max-age=1\"\n").unwrap();
    assert_eq!(
        next(&out, "re-read"),
        "nothing to apply: the config is unchanged (generation 1)"
    );
    stop(&child);
    assert!(child.wait().unwrap().success());
}

/// `wharf serve DIR --port 0 FLAGS --log-dir LOGS`: the child, its stdout and stderr lines,
/// and the address of its first line.
fn serve_logged(
    dir: &Path,
    logs: &Path,
    flags: &[&str],
) -> (
    Child,
    mpsc::Receiver<String>,
    mpsc::Receiver<String>,
    SocketAddr,
) {
    let mut child = wharf()
        .args(["serve", dir.to_str().unwrap(), "--port", "0"])
        .args(flags)
        .arg("--log-dir")
        .arg(logs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let addr = addr_from_first_line(&next(&out, "first"));
    (child, out, err, addr)
}

/// Sends `REQUEST_LINE HTTP/1.1` with `headers` (each ending in CRLF) on a connection of its
/// own, and reads the whole answer.
fn exchange(addr: SocketAddr, request_line: &str, headers: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{request_line} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    response
}

#[test]
fn access_log_lines_on_stdout_and_a_durable_log_that_loses_nothing() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "hello").unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (mut child, out, err, addr) =
        serve_logged(site.path(), logs.path(), &["--access-log", "combined"]);
    exchange(addr, "GET /?q=%22x%22", "User-Agent: say \"hi\"\r\n");

    let line = next(&out, "access log");
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    // The page's 5 bytes and the live-reload script tag (live reload is on by default).
    let bytes = 5 + wharf_core::SCRIPT_TAG.len();
    assert!(
        line.ends_with(&format!(
            "] \"GET /?q=%22x%22 HTTP/1.1\" 200 {bytes} \"-\" \"say \\\"hi\\\"\""
        )),
        "{line}"
    );

    stop(&child);
    assert!(child.wait().unwrap().success());
    let summary = std::iter::from_fn(|| err.recv_timeout(Duration::from_secs(5)).ok())
        .find(|line| line.starts_with("access log:"))
        .expect("a summary on stderr");
    assert!(
        summary.starts_with("access log: 1 requests recorded in "),
        "{summary}"
    );
    assert!(summary.ends_with(", 0 lost"), "{summary}");
    if cfg!(target_os = "linux") {
        let cost = err
            .recv_timeout(Duration::from_secs(5))
            .expect("the writer's cost on stderr");
        let micros: f64 = cost
            .strip_prefix("access log: the writer used ")
            .and_then(|rest| rest.strip_suffix(" µs of CPU per request"))
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("{cost}"));
        assert!(micros > 0.0, "{cost}");
    }

    let exported = wharf()
        .args(["export-csv", "--log-dir"])
        .arg(logs.path())
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert!(exported.status.success());
    let csv = String::from_utf8(exported.stdout).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.contains(&format!(
            ",\"GET\",\"/?q=%22x%22\",\"HTTP/1.1\",200,{bytes},true,"
        )),
        "{csv}"
    );
}

/// `--explain` prints why under each request (implying `--access-log common`), and
/// `wharf check --log-dir` reports the 404 a page met, with the page that asked.
#[test]
fn explain_says_why_under_each_line_and_check_reads_the_live_404s() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<p>home</p>").unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (mut child, out, _err, addr) = serve_logged(site.path(), logs.path(), &["--explain"]);
    let referer = format!("Referer: http://{addr}/\r\n");
    let response = exchange(addr, "GET /img/logo.png", &referer);
    assert!(response.starts_with(b"HTTP/1.1 404"));

    let line = next(&out, "access log");
    assert!(
        line.contains("] \"GET /img/logo.png HTTP/1.1\" 404 "),
        "{line}"
    );
    assert_eq!(
        next(&out, "why"),
        "    No file has this path, and the site has no 404.html: Wharf answered 404."
    );
    stop(&child);
    assert!(child.wait().unwrap().success());

    let checked = wharf()
        .args(["check", site.path().to_str().unwrap(), "--log-dir"])
        .arg(logs.path())
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(1));
    let text = String::from_utf8(checked.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "index.html: error: `/img/logo.png` got 404 when http://{addr}/ asked for it (once, last at "
        )),
        "{text}"
    );
    let bad = wharf()
        .args(["check", site.path().to_str().unwrap(), "--log-dir"])
        .arg(site.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(
        said.starts_with("error: --log-dir: ") && said.contains("holds no session"),
        "{said}"
    );
}
