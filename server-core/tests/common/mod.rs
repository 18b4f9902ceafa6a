//! Shared helpers for the integration tests: a real server on 127.0.0.1:0 and a raw HTTP/1.1
//! client that sends exactly the bytes it is given, so tests control every header and path.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use wharf_core::{sessions, AccessLog, AccessRecord, LogLine, SessionReader};
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};

pub mod check_sites;
pub mod hostile_log;
pub mod tls;

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The fixture site in the repository's `tests/fixtures/site`.
pub fn fixture_site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/site")
}

/// A file just outside the fixture site that must never be served.
pub fn fixture_secret() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/secret.txt")
}

pub const SECRET_MARKER: &str = "WHARF-SECRET-7f3a";

/// Writes `bytes` to `path` and dates the file an hour back, as a file edited long ago (the
/// cache keeps such files; recent ones are re-read on every request).
pub fn write_aged(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

pub async fn start(root: &Path) -> ServerHandle {
    ServerHandle::start(ServerConfig::for_root(root).expect("fixture root is a folder"))
        .await
        .expect("binding 127.0.0.1:0 works")
}

/// A draft serving `root` on a free port, every other setting at its default.
pub fn draft(root: &Path) -> ConfigDraft {
    ConfigDraft {
        root: Some(root.to_path_buf()),
        port: Some(0),
        ..ConfigDraft::default()
    }
}

/// Starts a server from `draft`, which must be valid.
pub async fn start_draft(draft: ConfigDraft) -> ServerHandle {
    ServerHandle::start(ServerConfig::try_from(draft).expect("a valid draft"))
        .await
        .expect("binding 127.0.0.1:0 works")
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as the site's file has it: without the live-reload script tag that HTML
    /// pages get by default.
    pub fn page(&self) -> String {
        self.text().replacen(wharf_core::SCRIPT_TAG, "", 1)
    }
}

/// Sends `request` as-is on a new connection, reads until the server closes, and parses one
/// response. Callers include `Connection: close`.
pub async fn send_raw(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write request");
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .expect("server answered within 10 s")
        .expect("read response");
    parse(&bytes)
}

/// `GET path` with a Host header and `Connection: close`.
pub async fn get(addr: SocketAddr, path: &str) -> RawResponse {
    request(addr, "GET", path, &[]).await
}

pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> RawResponse {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    send_raw(addr, text.as_bytes()).await
}

pub fn parse(bytes: &[u8]) -> RawResponse {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(bytes)));
    let head = std::str::from_utf8(&bytes[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    RawResponse {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

/// `len` bytes of xorshift noise from `seed`: incompressible, and different per seed, so a
/// body that arrives from the wrong file or out of order is caught by its hash.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A TLS client that trusts exactly the certificate in the PEM file `pem`.
pub fn pinned(pem: &Path, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pem).unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(wharf_core::tls_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(std::sync::Arc::new(config))
}

/// TLS over `tcp` to the server name `name`, trusting only the certificate in `pem`.
pub async fn tls_connect_to(
    tcp: TcpStream,
    pem: &Path,
    alpn: &[&[u8]],
    name: &str,
) -> TlsStream<TcpStream> {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    pinned(pem, alpn).connect(name, tcp).await.unwrap()
}

/// [`tls_connect_to`] `localhost`.
pub async fn tls_connect(tcp: TcpStream, pem: &Path, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    tls_connect_to(tcp, pem, alpn, "localhost").await
}

/// A server from `draft` (which must be valid) whose requests go to a durable access log in
/// a folder of its own: the server, the log, and the folder (see [`logged`]).
pub async fn start_logged(draft: ConfigDraft) -> (ServerHandle, AccessLog, tempfile::TempDir) {
    let logs = tempfile::tempdir().unwrap();
    let log = AccessLog::start(wharf_core::LogSettings {
        dir: Some(logs.path().to_path_buf()),
        ..wharf_core::LogSettings::default()
    })
    .unwrap();
    let config = ServerConfig::try_from(draft).expect("a valid draft");
    let server = ServerHandle::start_logged(config, Some(log.clone()))
        .await
        .expect("binding 127.0.0.1:0 works");
    (server, log, logs)
}

/// The record of `target` in the session log `log` writes into `logs`, once it is there
/// (within 10 s).
pub async fn logged(log: &AccessLog, logs: &Path, target: &str) -> AccessRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        log.sync();
        let found = sessions(logs).unwrap().first().and_then(|session| {
            SessionReader::open(session)
                .unwrap()
                .find_map(|line| match line {
                    Ok(LogLine::Request(record)) if record.target == target => Some(record),
                    _ => None,
                })
        });
        if let Some(record) = found {
            return record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{target} was never logged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The CSV export of the newest session in `logs`, whole, as text.
pub fn exported_csv(logs: &Path) -> String {
    let mut csv = Vec::new();
    wharf_core::export_csv(logs, &Default::default(), &mut csv).unwrap();
    String::from_utf8(csv).unwrap()
}
