//! The `wharf` binary's fixed interface: first line, exit codes, signals, help.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};

use common::{addr_from_first_line, fixture_site, interrupt, parse, stop, wharf};

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
