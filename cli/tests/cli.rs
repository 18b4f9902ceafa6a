//! The `wharf` binary's fixed interface: first line, exit codes, signals, help, the HTTPS
//! second line, and `wharf export-csv` (its file, filters and refusals).

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use common::hostile_log::{export, fixture, header, parse_csv, LOST};
use common::tls::connect_to;
use common::{addr_from_first_line, check_sites, fixture_site, interrupt, parse, stop, wharf};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_core::fingerprint;
use wharf_core::{export_har, ExportFilter};

/// Spawns `wharf serve` and returns it with its first stdout line.
fn spawn_serve(args: &[&str]) -> (Child, String) {
    let mut child = wharf()
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wharf");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .expect("first line");
    (child, line)
}

fn http_get(addr: SocketAddr, path: &str) -> common::RawResponse {
    http_get_as(addr, path, &addr.to_string())
}

/// `GET path` with `Host: host`.
fn http_get_as(addr: SocketAddr, path: &str, host: &str) -> common::RawResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    parse(&bytes)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    stop(child);
    child.wait().unwrap()
}

/// SIGTERM on Unix; Ctrl-C on Windows. On Windows the folder is named as users write it,
/// without the `\\?\` prefix of its canonical form (issue 14).
#[test]
fn first_line_names_the_absolute_folder_and_url_then_sigterm_exits_0() {
    let site = fixture_site();
    let (mut child, line) = spawn_serve(&[site.to_str().unwrap(), "--port", "0"]);
    let abs = dunce::canonicalize(&site).unwrap();
    let prefix = format!("Serving {} at http://127.0.0.1:", abs.display());
    assert!(line.starts_with(&prefix), "{line:?}");
    assert!(line.ends_with("/\n"), "{line:?}");
    assert!(!line.contains(r"\\?\"), "{line:?}");
    let addr = addr_from_first_line(&line);
    assert_ne!(addr.port(), 0);
    let response = http_get(addr, "/");
    assert_eq!(response.status, 200);
    assert!(response.text().contains("Fixture home"));
    assert!(terminate(&mut child).success());
}

/// SIGINT on Unix; on Windows, Ctrl-C in wharf's console.
#[test]
fn sigint_exits_0_after_the_transfer_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..6_000_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &data).unwrap();
    let (mut child, line) = spawn_serve(&[dir.path().to_str().unwrap(), "--port", "0"]);
    let addr = addr_from_first_line(&line);
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET /big.bin HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    interrupt(&child);
    let mut body = vec![0u8; data.len()];
    stream.read_exact(&mut body).unwrap();
    assert!(body == data, "download finished byte-exact after SIGINT");
    assert!(child.wait().unwrap().success());
}

#[test]
fn port_in_use_is_one_line_and_exit_2() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = wharf()
        .args(["serve", fixture_site().to_str().unwrap(), "--port", &port])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("port {port}")), "{stderr}");
    assert!(stderr.contains("--port 0"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn dir_defaults_to_the_current_folder() {
    let site = fixture_site();
    let mut child = wharf()
        .args(["serve", "--port", "0"])
        .current_dir(&site)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with(&format!(
            "Serving {} at",
            dunce::canonicalize(&site).unwrap().display()
        )),
        "{line}"
    );
    assert!(terminate(&mut child).success());
}

#[test]
fn binding_all_interfaces_warns() {
    let (mut child, line) = spawn_serve(&[
        fixture_site().to_str().unwrap(),
        "--host",
        "0.0.0.0",
        "--port",
        "0",
    ]);
    assert!(line.contains(" at http://0.0.0.0:"), "{line}");
    assert!(terminate(&mut child).success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("warning:") && stderr.contains("network"),
        "{stderr}"
    );
}

#[test]
fn a_missing_folder_is_a_clear_error() {
    let output = wharf()
        .args(["serve", "/definitely/not/here", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: root: /definitely/not/here"),
        "{stderr}"
    );
}

#[test]
fn help_documents_every_flag_with_its_default() {
    let output = wharf().args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "[DIR]",
        "[default: .]",
        "--host",
        "[default: 127.0.0.1]",
        "--port",
        "[default: 8080]",
    ] {
        assert!(help.contains(needle), "missing {needle} in\n{help}");
    }
    let top = wharf().arg("--help").output().unwrap();
    assert!(String::from_utf8(top.stdout).unwrap().contains("serve"));
}

/// `--allowed-host` (issue 13, point 3): the name is served, others get the 403 that says
/// how to allow them, and a bad name is refused at startup naming the flag's entry.
#[test]
fn allowed_host_flags_add_names_to_the_allow_list() {
    let site = fixture_site();
    let (mut child, line) = spawn_serve(&[
        site.to_str().unwrap(),
        "--port",
        "0",
        "--allowed-host",
        "dev.test",
        "--allowed-host",
        ".team.test",
    ]);
    let addr = addr_from_first_line(&line);
    let get_as = |host: &str| http_get_as(addr, "/", host);
    assert_eq!(get_as("dev.test").status, 200);
    assert_eq!(get_as("a.team.test:8080").status, 200);
    let refused = get_as("evil.example");
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("--allowed-host evil.example"));
    assert!(terminate(&mut child).success());

    let output = wharf()
        .args(["serve", site.to_str().unwrap(), "--port", "0"])
        .args([
            "--allowed-host",
            "ok.test",
            "--allowed-host",
            "http://x.test",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("allowedHosts[1]: \"http://x.test\""),
        "{stderr}"
    );
}

/// `--proxy PATH=URL` (issue 18): the path goes to the target, ahead of files; a malformed
/// flag or a bad rule is refused at startup, naming the rule's member.
#[test]
fn proxy_flags_forward_a_path_and_bad_ones_name_the_field() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}", upstream.local_addr().unwrap());
    let answering = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut tcp, _) = upstream.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0];
        while !head.ends_with(b"\r\n\r\n") && tcp.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nupstream")
            .unwrap();
        String::from_utf8(head).unwrap()
    });
    let site = fixture_site();
    let rule = format!("/api={target}");
    let (mut child, line) = spawn_serve(&[site.to_str().unwrap(), "--port", "0", "--proxy", &rule]);
    let addr = addr_from_first_line(&line);
    assert_eq!(http_get(addr, "/api/users").text(), "upstream");
    assert!(answering
        .join()
        .unwrap()
        .starts_with("GET /api/users HTTP/1.1"));
    assert!(terminate(&mut child).success());

    for (flag, expected) in [
        ("/api", "is not `PATH=URL`"),
        (
            "/api=localhost:3000",
            "proxy[0].target: \"localhost:3000\" is not an http:// or https:// URL",
        ),
        (
            "api=http://localhost:3000",
            "proxy[0].path: \"api\" must start with /",
        ),
        (
            "/__wharf=http://localhost:3000",
            "proxy[0].path: \"/__wharf\" is under /__wharf/",
        ),
        (
            "/api=http://localhost:3000 strip",
            "\"strip\" is not rewrite=PREFIX or change-origin=true|false",
        ),
        (
            "/api=http://localhost:3000 change-origin=no",
            "change-origin=\"no\" is not true or false",
        ),
    ] {
        let output = wharf()
            .args([
                "serve",
                site.to_str().unwrap(),
                "--port",
                "0",
                "--proxy",
                flag,
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{flag}: {stderr}");
    }
}

// --- HTTPS ---

#[tokio::test]
async fn the_cli_prints_the_https_address_and_fingerprint_on_the_second_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>cli</p>").unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut command = wharf();
    command
        .args(["serve", dir.path().to_str().unwrap(), "--port", "0"])
        .args(["--https-port", "0", "--no-live-reload"]);
    if cfg!(windows) {
        // Windows asks the shell for %LOCALAPPDATA% (no variable redirects it), and a test
        // must not write to the user's own folders: the folder is given instead.
        command.args([
            "--cert-dir".as_ref(),
            data.path().join("wharf/certs").as_os_str(),
        ]);
    }
    let mut child = command
        // The default certificate folder is under the user's local data folder: on Linux
        // $XDG_DATA_HOME, on macOS ~/Library/Application Support.
        .env("XDG_DATA_HOME", data.path())
        .env("HOME", data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let root = dunce::canonicalize(dir.path()).unwrap();
    let http = addr_from_first_line(&first);
    assert_eq!(
        first,
        format!("Serving {} at http://{http}/\n", root.display())
    );

    let prefix = format!("Serving {} at https://", root.display());
    let rest = second
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{second:?}"));
    let (addr, rest) = rest.split_once("/ (certificate SHA-256 ").unwrap();
    let addr: SocketAddr = addr.parse().unwrap();
    let shown = rest.strip_suffix(")\n").unwrap();
    assert_ne!(addr.port(), http.port());

    let data_dir = if cfg!(target_os = "macos") {
        data.path().join("Library/Application Support")
    } else {
        data.path().to_path_buf()
    };
    let pem = data_dir.join("wharf/certs/cert.pem");
    let der = CertificateDer::from_pem_file(&pem).unwrap();
    assert_eq!(fingerprint(&der), shown);
    // Trusting only the local CA that signed it.
    let ca = data_dir.join("wharf/certs/ca.pem");
    let mut tls = connect_to(addr, &ca, shown, &[b"http/1.1"], "localhost").await;
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut bytes = Vec::new();
    tls.read_to_end(&mut bytes).await.unwrap();
    assert_eq!(parse(&bytes).text(), "<p>cli</p>");

    stop(&child);
    assert!(child.wait().unwrap().success());
}

// --- export-csv ---

/// `wharf export-csv ARGS`, run to its end.
fn export_csv(args: &[&str]) -> Output {
    wharf()
        .arg("export-csv")
        .args(args)
        .output()
        .expect("run wharf")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// What an export of the whole hostile session to `out` says on stderr, `exported` being
/// "N rows" or "N entries".
fn summary_line(exported: &str, fixture: &common::hostile_log::Fixture, out: &Path) -> String {
    format!(
        "exported {exported} from session {} to {} ({} earlier records were deleted by \
         retention; {LOST} records were lost: the log queue was full)\n",
        fixture.session_id,
        out.display(),
        fixture.dropped
    )
}

#[test]
fn export_csv_cli_writes_a_file_or_stdout_and_says_what_is_missing() {
    let fixture = fixture();
    let (summary, expected) = export(fixture.dir.path(), &ExportFilter::default());
    let log_dir = fixture.dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.csv");

    let output = export_csv(&["--log-dir", log_dir, "-o", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    let exported = format!("{} rows", summary.rows);
    assert_eq!(stderr(&output), summary_line(&exported, &fixture, &out));
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        1,
        "no temporary file is left behind"
    );

    let output = export_csv(&[
        "--log-dir",
        log_dir,
        "--session",
        &fixture.session_id,
        "-o",
        "-",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout, expected);
    assert!(
        stderr(&output).contains(" to stdout ("),
        "{}",
        stderr(&output)
    );
}

#[test]
fn export_csv_cli_filters_by_time_status_and_path() {
    let fixture = fixture();
    let log_dir = fixture.dir.path().to_str().unwrap();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--log-dir", log_dir, "-o", "-"];
        all.extend_from_slice(args);
        let output = export_csv(&all);
        assert!(output.status.success(), "{}", stderr(&output));
        let rows = parse_csv(&output.stdout);
        assert_eq!(rows[0], header());
        rows[1..]
            .iter()
            .map(|row| format!("{}{}", row[0], row[11]))
            .collect()
    };
    let retention = "retention_dropped".to_owned();
    assert_eq!(
        ids(&["--status", "4xx"]),
        [
            retention.clone(),
            "41completed".into(),
            "lost".into(),
            "45completed".into()
        ]
    );
    assert_eq!(
        ids(&["--status", "0,5XX"]),
        [
            retention.clone(),
            "lost".into(),
            "46timed_out".into(),
            "48client_aborted".into()
        ]
    );
    // As received, or with %XX decoded.
    assert_eq!(
        ids(&["--path-prefix", "/café/"]),
        [
            retention.clone(),
            "lost".into(),
            "44completed".into(),
            "45completed".into()
        ]
    );
    // --from inclusive, --to exclusive; lost records are kept within the range.
    assert_eq!(
        ids(&[
            "--from",
            "2026-11-21T03:00:43Z",
            "--to",
            "2026-11-21T04:00:45.000+01:00",
        ]),
        [
            retention,
            "43completed".into(),
            "lost".into(),
            "44completed".into()
        ]
    );
}

// --- export-har ---

/// `wharf export-har ARGS`, run to its end.
fn export_har_cli(args: &[&str]) -> Output {
    wharf()
        .arg("export-har")
        .args(args)
        .output()
        .expect("run wharf")
}

/// The same session and filters as `export-csv`, as the library's HAR, to a file or stdout;
/// arguments refused as `export-csv` refuses them.
#[test]
fn export_har_cli_writes_the_library_s_har_with_the_csv_filters() {
    let fixture = fixture();
    let log_dir = fixture.dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("session.har");
    let mut expected = Vec::new();
    let summary = export_har(fixture.dir.path(), &ExportFilter::default(), &mut expected).unwrap();

    let output = export_har_cli(&["--log-dir", log_dir, "-o", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read(&out).unwrap();
    assert_eq!(written, expected);
    let exported = format!("{} entries", summary.records);
    assert_eq!(stderr(&output), summary_line(&exported, &fixture, &out));
    let har: serde_json::Value = serde_json::from_slice(&written).unwrap();
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "Wharf");
    assert_eq!(
        log["entries"].as_array().unwrap().len() as u64,
        summary.records
    );
    assert!(log["comment"]
        .as_str()
        .unwrap()
        .contains(&format!("{LOST} records were lost")));

    let output = export_har_cli(&["--log-dir", log_dir, "--status", "4xx", "-o", "-"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let har: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        let status = entry["response"]["status"].as_u64().unwrap();
        assert!((400..500).contains(&status), "{entry}");
    }

    let output = export_har_cli(&["--log-dir", log_dir, "--status", "abc", "-o", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: --status: 'abc' is not a status or class; use e.g. 404 or 4xx\n"
    );
}

#[test]
fn export_csv_cli_refuses_bad_arguments_with_exit_2_and_one_line() {
    let fixture = fixture();
    let log_dir = fixture.dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.csv");
    let out = out.to_str().unwrap();
    let refused = |args: &[&str]| -> String {
        let mut all = vec!["--log-dir", log_dir, "-o", out];
        all.extend_from_slice(args);
        let output = export_csv(&all);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
        assert_eq!(
            std::fs::read_dir(work.path()).unwrap().count(),
            0,
            "{args:?} left a file behind"
        );
        let text = stderr(&output);
        assert_eq!(text.lines().count(), 1, "{text}");
        text
    };
    assert_eq!(
        refused(&["--status", "abc"]),
        "error: --status: 'abc' is not a status or class; use e.g. 404 or 4xx\n"
    );
    assert_eq!(
        refused(&["--from", "yesterday"]),
        "error: --from: 'yesterday' is not an RFC 3339 time; use e.g. 2026-11-21T03:00:00Z \
         or 2026-11-21T04:00:00+01:00\n"
    );
    assert!(refused(&["--to", "2026-11-21T03:00:00"]).starts_with("error: --to: "));
    assert!(refused(&[
        "--from",
        "2026-11-21T04:00:00Z",
        "--to",
        "2026-11-21T03:00:00Z"
    ])
    .starts_with("error: the time range is empty"));
    assert_eq!(
        refused(&["--session", "nope"]),
        format!(
            "error: no session 'nope' in {log_dir}; the newest is {}\n",
            fixture.session_id
        )
    );
    let missing = PathBuf::from(log_dir).join("missing");
    let output = export_csv(&["--log-dir", missing.to_str().unwrap(), "-o", out]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("error: cannot read the log directory"),
        "{}",
        stderr(&output)
    );
}

// --- check ---

/// `wharf check ARGS`, run to its end.
fn check(args: &[&str]) -> Output {
    wharf().arg("check").args(args).output().expect("run wharf")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn check_cli_prints_each_finding_at_its_place_and_exits_1_on_errors() {
    let site = check_sites::problem_site();
    let dir = site.path().to_str().unwrap();
    let output = check(&[dir]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    // Each finding's first line, in the report's order; its advice is indented below it.
    let heads: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| !line.is_empty() && !line.starts_with(' '))
        .collect();
    assert_eq!(heads.len(), check_sites::PROBLEMS.len() + 1, "{text}");
    for ((_, severity, file, line), head) in check_sites::PROBLEMS.iter().zip(&heads) {
        let place = line.map_or(file.to_string(), |line| format!("{file}:{line}"));
        assert!(
            head.starts_with(&format!("{place}: {severity}: ")),
            "{head} / {place}"
        );
    }
    for (i, line) in lines.iter().enumerate() {
        if heads.contains(line) && i + 1 < lines.len() - 1 {
            assert!(lines[i + 1].starts_with("    "), "no advice after {line}");
        }
    }
    assert!(
        text.ends_with("\n6 errors, 3 warnings in 7 files (13 files checked)\n"),
        "{text}"
    );

    // --json: the same findings, as data.
    let json = check(&[dir, "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["kind"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = check_sites::PROBLEMS.iter().map(|p| p.0).collect();
    assert_eq!(kinds, want);
    assert_eq!(report["findings"][4]["line"], 3);
    assert_eq!(report["findings"][4]["file"], "docs/index.html");
}

#[test]
fn check_cli_exits_0_on_warnings_only_and_takes_isolation_from_flag_or_config() {
    let clean = check_sites::clean_site();
    let output = check(&[clean.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        "0 errors, 0 warnings in 0 files (9 files checked)\n"
    );

    let shared = check_sites::site(&[("w.js", b"new SharedArrayBuffer(8)")]);
    let dir = shared.path().to_str().unwrap();
    let warned = check(&[dir]);
    assert_eq!(warned.status.code(), Some(0));
    assert!(stdout(&warned).starts_with("w.js:1: warning: uses SharedArrayBuffer"));
    let isolated = check(&[dir, "--cross-origin-isolation"]);
    assert_eq!(
        stdout(&isolated),
        "0 errors, 0 warnings in 0 files (1 file checked)\n"
    );
    let config = shared.path().join("wharf.toml");
    std::fs::write(&config, "cross_origin_isolation = true\n").unwrap();
    let from_config = check(&["--config", config.to_str().unwrap(), dir]);
    assert!(
        stdout(&from_config).starts_with("0 errors, 0 warnings"),
        "{}",
        stdout(&from_config)
    );
}

#[test]
fn check_cli_resolves_clean_urls_when_told_by_flag_or_config() {
    let site = check_sites::site(&[
        ("index.html", b"<a href=\"about\">About</a>"),
        ("about.html", b""),
    ]);
    let dir = site.path().to_str().unwrap();
    let broken = check(&[dir]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stdout(&broken).starts_with("index.html:1: error: `about` is broken"));
    assert_eq!(check(&[dir, "--clean-urls"]).status.code(), Some(0));
    let config = site.path().join("wharf.toml");
    std::fs::write(&config, "clean_urls = true\n").unwrap();
    let from_config = check(&["--config", config.to_str().unwrap(), dir]);
    assert_eq!(
        from_config.status.code(),
        Some(0),
        "{}",
        stdout(&from_config)
    );
}

#[test]
fn check_cli_refuses_bad_arguments_with_exit_2() {
    let site = check_sites::clean_site();
    let dir = site.path().to_str().unwrap();
    let bad_base = check(&[dir, "--base-path", "repo/"]);
    assert_eq!(bad_base.status.code(), Some(2));
    assert!(
        stderr(&bad_base).starts_with("error: --base-path: "),
        "{}",
        stderr(&bad_base)
    );
    let missing = site.path().join("missing");
    let no_dir = check(&[missing.to_str().unwrap()]);
    assert_eq!(no_dir.status.code(), Some(2));
    assert!(stderr(&no_dir).contains("is not a folder"));
    assert_eq!(check(&[dir, "--no-such-flag"]).status.code(), Some(2));
}
