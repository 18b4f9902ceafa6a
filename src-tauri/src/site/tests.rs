//! Tests of `site`, on real sockets and real folders.

use super::*;
use crate::error::ListItem;
use std::net::Ipv4Addr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wharf_core::config::CustomHeaderDraft;

pub(crate) fn site_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), text).unwrap();
    dir
}

/// `GET path` on a fresh connection, returning the whole response.
pub(crate) async fn fetch(url: &str, path: &str) -> String {
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

/// A download of `big.bin` held after its first bytes: the server is mid-body, blocked
/// on a full socket, until [`Download::finish`] reads the rest.
pub(crate) struct Download {
    stream: TcpStream,
    received: usize,
}

pub(crate) const BIG: usize = 32 * 1024 * 1024;

pub(crate) fn with_big_file(dir: &tempfile::TempDir) {
    std::fs::write(dir.path().join("big.bin"), vec![b'x'; BIG]).unwrap();
}

impl Download {
    pub(crate) async fn begin(url: &str) -> Download {
        let authority = url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = TcpStream::connect(authority).await.unwrap();
        let request = format!(
            "GET /big.bin HTTP/1.1\r\nHost: {authority}\r\nAccept-Encoding: identity\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut buffer = vec![0; 64 * 1024];
        let received = stream.read(&mut buffer).await.unwrap();
        assert!(received > 0);
        Download { stream, received }
    }

    /// Reads to the end of the body and returns the bytes received, head included.
    pub(crate) async fn finish(mut self) -> usize {
        let mut buffer = vec![0; 1024 * 1024];
        loop {
            match self.stream.read(&mut buffer).await.unwrap() {
                0 => return self.received,
                n => self.received += n,
            }
            if self.received >= BIG {
                // Keep-alive: the server keeps the connection; the body is all here.
                return self.received;
            }
        }
    }
}

fn welcome(dir: &tempfile::TempDir) -> Site {
    Site::new("welcome".into(), None, folders(dir.path(), None))
}

/// The folders of a test site serving from `welcome`, with no log on disk and its
/// certificate in `certs`.
pub(crate) fn folders(welcome: &Path, certs: Option<&Path>) -> SiteFolders {
    SiteFolders {
        welcome: welcome.canonicalize().unwrap(),
        log_dir: None,
        cert_dir: certs.map(Path::to_path_buf),
    }
}

fn folder(dir: &tempfile::TempDir) -> Site {
    let root = dir.path().canonicalize().unwrap();
    Site::new("s1".into(), Some(root), folders(dir.path(), None))
}

/// Waits until `done` holds, polling; for counters that settle asynchronously.
pub(crate) async fn eventually(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met within 5 s");
}

#[tokio::test]
async fn an_automatic_port_is_kept_across_stop_and_start_and_replaced_when_taken() {
    let dir = site_dir("welcome page");
    let mut site = welcome(&dir);
    site.start().await.unwrap();
    let status = site.status(&[]);
    assert!(status.running && status.is_welcome && status.port_automatic);
    assert_eq!(status.name, "Welcome");
    let url = status.url.unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(fetch(&url, "/").await.contains("welcome page"));
    let port = status.settings.port();
    assert_ne!(port, 0, "the form shows the port in use");

    site.stop().finish().await;
    assert!(!site.status(&[]).running);
    assert!(matches!(site.url(), Err(SiteError::NotRunning)));
    assert_eq!(site.status(&[]).settings.port(), port, "remembered");
    site.start().await.unwrap();
    assert_eq!(site.url().unwrap(), url, "same port after restart");

    site.stop().finish().await;
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port as u16)).unwrap();
    site.start().await.unwrap();
    let moved = site.url().unwrap();
    assert_ne!(moved, url, "another free port");
    assert!(fetch(&moved, "/").await.contains("welcome page"));
    drop(squatter);
    assert!(site.record().running);
    assert_eq!(site.record().settings.port(), 0, "saved as automatic");
}

#[tokio::test]
async fn a_fixed_port_in_use_leaves_the_site_stopped_with_the_reason() {
    let dir = site_dir("page");
    let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = squatter.local_addr().unwrap().port();
    let mut site = folder(&dir);
    let settings = SiteDraft {
        server: ConfigDraft {
            port: Some(port.into()),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let applied = site.apply(settings).await.unwrap();
    assert!(!applied.applied);
    let err = site.start().await.unwrap_err();
    assert!(matches!(
        err,
        SiteError::Start(StartError::PortInUse { .. })
    ));
    assert_eq!(err.field(), Some("port"));
    let status = site.status(&[]);
    assert!(!status.running);
    assert_eq!(status.error.as_deref(), Some(err.to_string().as_str()));
    assert!(
        site.record().running,
        "still wanted: retried at the next launch"
    );

    drop(squatter);
    site.start().await.unwrap();
    assert_eq!(site.url().unwrap(), format!("http://127.0.0.1:{port}/"));
    assert_eq!(site.status(&[]).error, None);
}

#[tokio::test]
async fn settings_apply_to_new_connections_while_a_transfer_continues() {
    let dir = site_dir("page");
    with_big_file(&dir);
    let mut site = folder(&dir);
    site.start().await.unwrap();
    let url = site.url().unwrap();
    let download = Download::begin(&url).await;
    eventually(|| site.status(&[]).open_connections == 1).await;

    let settings = SiteDraft {
        server: ConfigDraft {
            cache_control: Some("max-age=60".into()),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let applied = site.apply(settings.clone()).await.unwrap();
    assert!(applied.applied);
    assert_eq!(applied.generation, 2);
    assert_eq!(applied.changes.len(), 1, "{:?}", applied.changes);
    assert_eq!(applied.changes[0].field, "cacheControl");
    assert_eq!(applied.continuing, [(1, 1)]);
    let status = site.status(&[]);
    assert_eq!(
        status.url.as_deref(),
        Some(url.as_str()),
        "automatic port kept"
    );
    assert_eq!(status.continuing, [(1, 1)], "live");
    assert_eq!(
        status.settings.server.cache_control.as_deref(),
        Some("max-age=60")
    );
    assert!(fetch(&url, "/").await.contains("max-age=60"));

    assert!(download.finish().await > BIG, "the transfer was not cut");
    eventually(|| site.status(&[]).continuing.is_empty()).await;

    // Pinning the port in use keeps the listener; nothing but the port choice changes.
    let pinned = SiteDraft {
        server: ConfigDraft {
            port: Some(site.status(&[]).settings.port()),
            ..settings.server
        },
        ..settings
    };
    let applied = site.apply(pinned.clone()).await.unwrap();
    assert!(applied.changes.is_empty(), "{:?}", applied.changes);
    assert!(!site.status(&[]).port_automatic);
    assert_eq!(site.url().unwrap(), url);
}

/// One count of transfers in flight, the core's: a page's live-reload stream is "sending"
/// forever, yet it ends as soon as a generation applies, so it is no transfer that
/// continues. Read before the stream's connection task has run again (one thread).
#[tokio::test]
async fn a_live_reload_stream_is_no_transfer_in_flight_after_an_apply() {
    let dir = site_dir("<html><body>page</body></html>");
    let mut site = folder(&dir);
    site.start().await.unwrap();
    let url = site.url().unwrap();
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).await.unwrap();
    let request = format!(
        "GET /__wharf/reload HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    while !String::from_utf8_lossy(&received).contains("hello") {
        let mut chunk = [0; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the stream opens");
        received.extend_from_slice(&chunk[..n]);
    }
    let status = site.status(&[]);
    assert_eq!(status.open_connections, 1);
    assert_eq!(
        site.connections().0[0].state,
        wharf_core::ConnectionState::Sending
    );

    let settings = SiteDraft {
        server: ConfigDraft {
            keep_alive: Some(false),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let applied = site.apply(settings).await.unwrap();
    assert_eq!(applied.generation, 2);
    assert_eq!(applied.continuing, []);
    let status = site.status(&[]);
    assert_eq!(status.open_connections, 1, "the stream has not ended yet");
    assert_eq!(status.continuing, [], "a live-reload stream is no transfer");
    site.stop().finish().await;
}

#[tokio::test]
async fn refused_settings_change_nothing() {
    let dir = site_dir("page");
    let mut site = folder(&dir);
    site.start().await.unwrap();
    let before = site.status(&[]);
    let bad = SiteDraft {
        server: ConfigDraft {
            keep_alive_idle_timeout_ms: Some(0),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let err = site.apply(bad.clone()).await.unwrap_err();
    assert_eq!(err.field(), Some("keepAliveIdleTimeoutMs"), "{err}");
    assert_eq!(site.status(&[]), before);

    let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let taken = SiteDraft {
        server: ConfigDraft {
            port: Some(squatter.local_addr().unwrap().port().into()),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let err = site.apply(taken).await.unwrap_err();
    assert!(
        matches!(err, SiteError::Apply(ApplyError::Bind { .. })),
        "{err}"
    );
    assert_eq!(err.field(), Some("port"));
    assert_eq!(site.status(&[]), before);

    site.stop().finish().await;
    let err = site.apply(bad).await.unwrap_err();
    assert_eq!(
        err.field(),
        Some("keepAliveIdleTimeoutMs"),
        "inline while stopped too"
    );
}

#[test]
fn default_settings_are_the_cores_defaults() {
    let dir = site_dir("page");
    let ours = SiteDraft::default().core_draft(
        dir.path(),
        false,
        SiteDraft::default().chosen_ports(),
        None,
    );
    let core = ConfigDraft {
        root: Some(dir.path().to_path_buf()),
        port: Some(0),
        ..ConfigDraft::default()
    };
    assert_eq!(
        ServerConfig::try_from(ours).unwrap(),
        ServerConfig::try_from(core).unwrap()
    );
}

/// `GET path` with `Accept: text/html`, as a browser navigates.
async fn navigate(url: &str, path: &str) -> String {
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    navigate_as(url, path, authority).await
}

/// [`navigate`] with `Host: host`.
async fn navigate_as(url: &str, path: &str, host: &str) -> String {
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).to_ascii_lowercase()
}

#[tokio::test]
async fn routing_header_and_reload_settings_reach_the_server() {
    let dir = site_dir("<html><body>home</body></html>");
    std::fs::write(dir.path().join("about.html"), "about page").unwrap();
    let mut site = folder(&dir);
    site.start().await.unwrap();
    let url = site.url().unwrap();
    let home = navigate(&url, "/").await;
    assert!(
        home.contains("/__wharf/reload.js"),
        "live reload is on by default"
    );
    assert!(!home.contains("access-control-allow-origin"));
    assert!(navigate(&url, "/about").await.starts_with("http/1.1 404"));

    let settings = SiteDraft {
        server: ConfigDraft {
            spa_fallback: Some(true),
            clean_urls: Some(true),
            drop_html_extension: Some(true),
            cors: Some(true),
            cross_origin_isolation: Some(true),
            custom_headers: Some(vec![CustomHeaderDraft {
                path: "/**".into(),
                name: "X-Wharf-Test".into(),
                value: "yes".into(),
            }]),
            live_reload: Some(false),
            reload_ignore: Some(vec!["*.tmp".into()]),
            allowed_hosts: Some(vec!["dev.test".into()]),
            cors_origins: Some(vec!["https://app.example.test".into()]),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    assert!(navigate_as(&url, "/", "dev.test")
        .await
        .starts_with("http/1.1 403"));
    let applied = site.apply(settings.clone()).await.unwrap();
    let changed: Vec<_> = applied.changes.iter().map(|change| change.field).collect();
    assert_eq!(
        changed,
        [
            "spaFallback",
            "cleanUrls",
            "dropHtmlExtension",
            "cors",
            "crossOriginIsolation",
            "customHeaders",
            "liveReload",
            "reloadIgnore",
            "allowedHosts",
            "corsOrigins"
        ]
    );
    let shown = site.status(&[]).settings;
    // What the window shows: the settings applied, every other one at its default, the
    // automatic port as the one in use.
    let ports = Ports {
        http: shown.port(),
        https: 0,
    };
    assert_eq!(shown, settings.shown(ports));
    assert_eq!(site.record().settings, settings);

    let home = navigate(&url, "/").await;
    assert!(!home.contains("/__wharf/reload.js"), "{home}");
    assert!(home.contains("vary: origin"), "{home}");
    assert!(navigate_as(&url, "/", "dev.test")
        .await
        .starts_with("http/1.1 200"));
    assert!(home.contains("cross-origin-opener-policy: same-origin"));
    assert!(home.contains("x-wharf-test: yes"));
    assert!(navigate(&url, "/about").await.contains("about page"));
    assert!(navigate(&url, "/about.html")
        .await
        .starts_with("http/1.1 301"));
    let fallback = navigate(&url, "/app/route").await;
    assert!(fallback.starts_with("http/1.1 200") && fallback.contains("home"));
}

#[tokio::test]
async fn a_refused_list_item_is_named_by_index_and_member() {
    let dir = site_dir("page");
    let mut site = folder(&dir);
    site.start().await.unwrap();
    let before = site.status(&[]);
    let row = |path: &str, name: &str| CustomHeaderDraft {
        path: path.into(),
        name: name.into(),
        value: "1".into(),
    };
    let headers = SiteDraft {
        server: ConfigDraft {
            custom_headers: Some(vec![row("/**", "X-Fine"), row("/a/*", "Bad Name")]),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let err = site.apply(headers).await.unwrap_err();
    assert_eq!(err.field(), Some("customHeaders"));
    assert_eq!(
        err.list_item(),
        Some(ListItem {
            index: 1,
            member: Some("name")
        }),
        "{err}"
    );
    assert_eq!(site.status(&[]), before);

    let globs = SiteDraft {
        server: ConfigDraft {
            reload_ignore: Some(vec!["ok/**".into(), "a[".into()]),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let err = site.apply(globs).await.unwrap_err();
    assert_eq!(err.field(), Some("reloadIgnore"));
    assert_eq!(
        err.list_item(),
        Some(ListItem {
            index: 1,
            member: None
        })
    );

    let hosts = SiteDraft {
        server: ConfigDraft {
            allowed_hosts: Some(vec!["ok.test".into(), "http://x.test".into()]),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let err = site.apply(hosts).await.unwrap_err();
    assert_eq!(err.field(), Some("allowedHosts"));
    assert_eq!(
        err.list_item(),
        Some(ListItem {
            index: 1,
            member: None
        })
    );

    let drop_alone = SiteDraft {
        server: ConfigDraft {
            drop_html_extension: Some(true),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let err = site.apply(drop_alone).await.unwrap_err();
    assert_eq!(err.field(), Some("dropHtmlExtension"));
    assert_eq!(err.list_item(), None);
    assert_eq!(site.status(&[]), before);
}

#[tokio::test]
async fn settings_saved_while_stopped_apply_at_the_next_start() {
    let dir = site_dir("page");
    let mut site = folder(&dir);
    let settings = SiteDraft {
        server: ConfigDraft {
            directory_listing: Some(false),
            ..ConfigDraft::default()
        },
        ..SiteDraft::default()
    };
    let applied = site.apply(settings.clone()).await.unwrap();
    assert!(!applied.applied);
    assert_eq!(applied.generation, 2);
    assert_eq!(applied.changes[0].field, "directoryListing");
    assert_eq!(site.record().settings, settings);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    site.start().await.unwrap();
    assert_eq!(site.status(&[]).generation, 2);
    assert!(fetch(&site.url().unwrap(), "/sub/")
        .await
        .starts_with("HTTP/1.1 404"));
}

#[tokio::test]
async fn another_folder_is_served_on_the_same_port_and_a_bad_one_is_refused() {
    let welcome_dir = site_dir("welcome page");
    let mine = site_dir("my site");
    let mut site = welcome(&welcome_dir);
    site.start().await.unwrap();
    let url = site.url().unwrap();
    let before = site.status(&[]);
    let err = site
        .set_root(Path::new("/no/such/folder"))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("root"));
    assert_eq!(site.status(&[]), before);

    site.set_root(mine.path()).await.unwrap();
    let status = site.status(&[]);
    assert!(!status.is_welcome);
    assert_eq!(status.url.as_deref(), Some(url.as_str()));
    assert_eq!(
        status.name,
        mine.path().file_name().unwrap().to_string_lossy()
    );
    assert!(fetch(&url, "/").await.contains("my site"));

    site.stop().finish().await;
    site.set_root(welcome_dir.path()).await.unwrap();
    assert!(!site.status(&[]).running, "a stopped site stays stopped");
}

#[tokio::test]
async fn the_lan_toggle_keeps_the_port_and_lets_a_transfer_finish() {
    let dir = site_dir("page");
    with_big_file(&dir);
    let mut site = folder(&dir);
    site.start().await.unwrap();
    let url = site.url().unwrap();
    let download = Download::begin(&url).await;

    let address = Ipv4Addr::new(192, 168, 1, 20);
    site.set_lan(true).await.unwrap();
    let status = site.status(&[address]);
    assert!(status.lan && status.running);
    assert_eq!(status.url.as_deref(), Some(url.as_str()), "same port");
    let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
    assert_eq!(status.lan_urls, [format!("http://192.168.1.20:{port}/")]);
    assert!(status.generation > 1);
    assert!(site.record().lan);
    assert!(fetch(&url, "/").await.contains("page"));
    assert!(download.finish().await > BIG, "the transfer was not cut");

    site.set_lan(false).await.unwrap();
    let status = site.status(&[address]);
    assert!(!status.lan && status.lan_urls.is_empty());
    assert_eq!(status.url.as_deref(), Some(url.as_str()));
    assert!(fetch(&url, "/").await.contains("page"));

    site.stop().finish().await;
    site.set_lan(true).await.unwrap();
    site.start().await.unwrap();
    assert_eq!(site.url().unwrap(), url);
    assert_eq!(site.status(&[address]).lan_urls.len(), 1);
}

#[tokio::test]
async fn one_log_session_across_stops_and_starts() {
    let dir = site_dir("page");
    let logs = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let mut site = Site::new(
        "s1".into(),
        Some(root.clone()),
        SiteFolders {
            welcome: root,
            log_dir: Some(logs.path().join("s1")),
            cert_dir: None,
        },
    );
    assert!(
        site.status(&[]).access_log.is_none(),
        "created at first start"
    );
    site.start().await.unwrap();
    fetch(&site.url().unwrap(), "/").await;
    site.stop().finish().await;
    site.start().await.unwrap();
    fetch(&site.url().unwrap(), "/").await;

    let log = site.log().unwrap().clone();
    tokio::task::spawn_blocking(move || log.sync())
        .await
        .unwrap();
    let stats = site.status(&[]).access_log.unwrap();
    assert_eq!((stats.logged, stats.lost), (2, 0));
    let sessions = wharf_core::sessions(&logs.path().join("s1")).unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(Some(&sessions[0].manifest.id), stats.session.as_ref());
}

/// A TLS client that trusts only Wharf's local CA in `certs/ca.pem`, offering `alpn`.
fn tls_client(certs: &Path, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_file(certs.join("ca.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

/// A TLS connection to `url` (`https://127.0.0.1:PORT/`) verified against `certs` alone.
async fn tls_connect(
    url: &str,
    certs: &Path,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let authority = url.trim_start_matches("https://").trim_end_matches('/');
    let tcp = TcpStream::connect(authority).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    tls_client(certs, alpn).connect(name, tcp).await.unwrap()
}

/// `GET path` over HTTPS/1.1, returning the whole response and the SHA-256 of the
/// certificate the server presented, as `AB:CD:...`.
async fn fetch_tls(url: &str, path: &str, certs: &Path) -> (String, String) {
    use sha2::Digest;
    let mut stream = tls_connect(url, certs, &[b"http/1.1"]).await;
    let presented = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    let digest = sha2::Sha256::digest(presented.as_ref());
    let fingerprint: Vec<String> = digest.iter().map(|byte| format!("{byte:02X}")).collect();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    // A server may end TLS without close_notify once the response is sent.
    let _ = stream.read_to_end(&mut response).await;
    (
        String::from_utf8_lossy(&response).into_owned(),
        fingerprint.join(":"),
    )
}

fn https_site(id: &str, dir: &tempfile::TempDir, certs: &Path) -> Site {
    let root = dir.path().canonicalize().unwrap();
    Site::new(id.into(), Some(root), folders(dir.path(), Some(certs)))
}

fn https_on() -> SiteDraft {
    SiteDraft {
        https: true,
        ..SiteDraft::default()
    }
}

#[tokio::test]
async fn https_serves_beside_http_with_one_certificate_for_every_site_and_every_start() {
    let data = tempfile::tempdir().unwrap();
    let certs = data.path().join("certs");
    let (dir_a, dir_b) = (site_dir("page a"), site_dir("page b"));
    let mut a = https_site("a", &dir_a, &certs);
    assert!(!a.apply(https_on()).await.unwrap().applied);
    a.start().await.unwrap();
    let status = a.status(&[]);
    let https = status.https.clone().expect("serving HTTPS");
    assert!(status.settings.https && status.https_port_automatic);
    let port = status.settings.https_port();
    assert_eq!(https.url, format!("https://127.0.0.1:{port}/"));
    assert_ne!(status.settings.port(), port, "two ports side by side");
    assert!(https.lan_urls.is_empty(), "not shared");
    assert!(fetch(&a.url().unwrap(), "/").await.contains("page a"));
    let (response, presented) = fetch_tls(&https.url, "/", &certs).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("page a"));
    assert_eq!(https.fingerprint, presented, "the certificate presented");
    let h2 = tls_connect(&https.url, &certs, &[b"h2", b"http/1.1"]).await;
    assert_eq!(
        h2.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "HTTP/2 by ALPN"
    );

    let mut b = https_site("b", &dir_b, &certs);
    b.apply(https_on()).await.unwrap();
    b.start().await.unwrap();
    let b_https = b.status(&[]).https.unwrap();
    assert_ne!(b_https.url, https.url);
    assert_eq!(b_https.fingerprint, https.fingerprint, "one certificate");
    assert!(fetch_tls(&b_https.url, "/", &certs)
        .await
        .0
        .contains("page b"));

    a.stop().finish().await;
    assert!(a.status(&[]).https.is_none());
    assert_eq!(a.status(&[]).settings.https_port(), port, "remembered");
    a.start().await.unwrap();
    let again = a.status(&[]).https.unwrap();
    assert_eq!(again, https, "same port and certificate after a restart");
    assert_eq!(a.record().last_https_port, u16::try_from(port).ok());
    assert_eq!(a.record().settings.https_port(), 0, "saved as automatic");

    // Sharing on the network hands both listeners over, on the same ports. The
    // certificate may be remade to name this machine's addresses: trust the file anew.
    a.set_lan(true).await.unwrap();
    let address = Ipv4Addr::new(192, 168, 1, 20);
    let shared = a.status(&[address]).https.unwrap();
    assert_eq!(shared.url, https.url);
    assert_eq!(shared.lan_urls, [format!("https://192.168.1.20:{port}/")]);
    let (response, presented) = fetch_tls(&shared.url, "/", &certs).await;
    assert!(response.contains("page a"));
    assert_eq!(shared.fingerprint, presented);

    let off = SiteDraft {
        https: false,
        ..SiteDraft::default()
    };
    let applied = a.apply(off).await.unwrap();
    assert!(applied
        .changes
        .iter()
        .any(|change| change.field == "httpsPort"));
    assert!(a.status(&[]).https.is_none());
    assert!(fetch(&a.url().unwrap(), "/").await.contains("page a"));
}

#[tokio::test]
async fn an_https_port_in_use_is_named_and_http_keeps_serving() {
    let data = tempfile::tempdir().unwrap();
    let certs = data.path().join("certs");
    let dir = site_dir("page");
    let mut site = https_site("s1", &dir, &certs);
    site.start().await.unwrap();
    let url = site.url().unwrap();
    let before = site.status(&[]);
    let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let taken = u32::from(squatter.local_addr().unwrap().port());
    let pinned = SiteDraft {
        server: ConfigDraft {
            https_port: Some(taken),
            ..https_on().server
        },
        ..https_on()
    };

    let err = site.apply(pinned.clone()).await.unwrap_err();
    assert_eq!(err.field(), Some("httpsPort"), "{err}");
    assert!(
        matches!(&err, SiteError::Apply(ApplyError::Bind { error, .. }) if is_port_in_use(error))
    );
    assert_eq!(site.status(&[]), before, "nothing changed");
    assert!(fetch(&url, "/").await.contains("page"), "HTTP goes on");

    site.stop().finish().await;
    site.apply(pinned).await.unwrap();
    let err = site.start().await.unwrap_err();
    assert_eq!(err.field(), Some("httpsPort"), "{err}");
    let status = site.status(&[]);
    assert!(!status.running);
    assert_eq!(status.error.as_deref(), Some(err.to_string().as_str()));

    // Automatic: a remembered HTTPS port taken meanwhile gives way to a free one.
    site.apply(https_on()).await.unwrap();
    site.start().await.unwrap();
    let port = site.status(&[]).settings.https_port();
    site.stop().finish().await;
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port as u16)).unwrap();
    site.start().await.unwrap();
    let moved = site.status(&[]).https.unwrap();
    assert_ne!(moved.url, format!("https://127.0.0.1:{port}/"));
    assert!(fetch_tls(&moved.url, "/", &certs).await.0.contains("page"));
    drop(squatter);
}

#[tokio::test]
async fn https_without_a_certificate_folder_is_refused_on_cert_dir() {
    let dir = site_dir("page");
    let mut site = folder(&dir);
    let err = site.apply(https_on()).await.unwrap_err();
    assert_eq!(err.field(), Some("certDir"), "{err}");
    assert!(!site.record().settings.https);
}
