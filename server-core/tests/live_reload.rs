//! Live reload over real sockets: the script in HTML (and nowhere else), the event stream
//! (css vs reload, ignore globs, the reserved prefix), and that open streams never hold up
//! a stop or an apply.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{draft, request, start_draft as start, write_aged};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wharf_core::ConfigDraft;
use wharf_core::SCRIPT_TAG;

fn page() -> String {
    format!(
        "<!DOCTYPE html><html><head><link rel=stylesheet href=style.css></head>\
         <body><p>{}</p></body></html>\n",
        "live reload ".repeat(100)
    )
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_aged(&dir.path().join("index.html"), page().as_bytes());
    write_aged(&dir.path().join("style.css"), b"body { color: red }");
    write_aged(&dir.path().join("data.json"), b"{\"a\": 1}");
    dir
}

fn injected() -> String {
    page().replace("</body>", &format!("{SCRIPT_TAG}</body>"))
}

#[tokio::test]
async fn html_gets_the_script_with_a_right_length_and_its_own_etag() {
    let dir = site();
    let server = start(draft(dir.path())).await;
    let addr = server.local_addr();
    let get = request(addr, "GET", "/", &[]).await;
    assert_eq!(get.status, 200);
    assert_eq!(get.text(), injected());
    assert_eq!(
        get.header("content-length").unwrap(),
        get.body.len().to_string()
    );
    let etag = get.header("etag").unwrap().to_owned();
    assert!(etag.ends_with("-lr\""), "{etag}");
    assert_eq!(get.header("accept-ranges"), None);
    let head = request(addr, "HEAD", "/index.html", &[]).await;
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert!(head.body.is_empty());

    // Revalidation with the injected tag: 304, no body.
    let again = request(addr, "GET", "/", &[("If-None-Match", &etag)]).await;
    assert_eq!((again.status, again.body.len()), (304, 0));

    // A range is of the file on disk, under the file's own validator.
    let range = request(addr, "GET", "/", &[("Range", "bytes=0-14")]).await;
    assert_eq!(
        (range.status, range.text().as_str()),
        (206, "<!DOCTYPE html>")
    );
    assert!(!range.header("etag").unwrap().contains("-lr"));
    let tail = request(addr, "GET", "/", &[("Range", "bytes=-30")]).await;
    assert!(!tail.text().contains("script"));

    // Other types are untouched.
    for path in ["/style.css", "/data.json"] {
        let response = request(addr, "GET", path, &[]).await;
        assert!(!response.text().contains("__wharf"), "{path}");
        assert!(!response.header("etag").unwrap().contains("-lr"), "{path}");
    }
}

#[tokio::test]
async fn compressed_pages_carry_the_script_and_their_own_length() {
    let dir = site();
    // A stale precompressed sibling without the script: it must not be sent.
    write_aged(&dir.path().join("index.html.gz"), &gzip(page().as_bytes()));
    let server = start(draft(dir.path())).await;
    let addr = server.local_addr();

    let gz = request(addr, "GET", "/", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gz.header("content-length").unwrap(),
        gz.body.len().to_string()
    );
    assert!(gz.header("etag").unwrap().ends_with("-lr-gzipc\""));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, injected());

    let br = request(addr, "GET", "/", &[("Accept-Encoding", "br, gzip")]).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(
        br.header("content-length").unwrap(),
        br.body.len().to_string()
    );
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut decoded).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), injected());

    let head = request(addr, "HEAD", "/", &[("Accept-Encoding", "br")]).await;
    assert_eq!(head.header("content-length"), br.header("content-length"));

    // Off: the file as it is, and the precompressed sibling is used again.
    let off = start(ConfigDraft {
        live_reload: Some(false),
        ..draft(dir.path())
    })
    .await;
    let plain = request(off.local_addr(), "GET", "/", &[]).await;
    assert_eq!(plain.text(), page());
    let sibling = request(off.local_addr(), "GET", "/", &[("Accept-Encoding", "gzip")]).await;
    assert!(sibling.header("etag").unwrap().ends_with("-gzipp\""));
    assert_eq!(
        request(off.local_addr(), "GET", "/__wharf/reload.js", &[])
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn listings_get_the_script_so_added_files_show_up() {
    let dir = site();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    write_aged(&dir.path().join("assets/logo.svg"), b"<svg/>");
    let server = start(draft(dir.path())).await;
    let listing = request(server.local_addr(), "GET", "/assets/", &[]).await;
    assert_eq!(listing.status, 200);
    assert!(listing.text().contains("logo.svg"));
    assert!(listing.text().contains(SCRIPT_TAG), "{}", listing.text());
    assert_eq!(
        listing.header("content-length").unwrap(),
        listing.body.len().to_string()
    );

    // The page the script reloads lists a file added since.
    write_aged(&dir.path().join("assets/new.png"), b"png");
    let reloaded = request(server.local_addr(), "GET", "/assets/", &[]).await;
    assert!(reloaded.text().contains("new.png"));

    let off = start(ConfigDraft {
        live_reload: Some(false),
        ..draft(dir.path())
    })
    .await;
    let plain = request(off.local_addr(), "GET", "/assets/", &[]).await;
    assert!(plain.text().contains("logo.svg"));
    assert!(!plain.text().contains("__wharf"));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn the_prefix_is_never_shadowed_by_the_site() {
    let dir = site();
    std::fs::create_dir(dir.path().join("__wharf")).unwrap();
    write_aged(&dir.path().join("__wharf/reload.js"), b"SITE FILE");
    write_aged(&dir.path().join("__wharf/other.txt"), b"SITE FILE");
    let server = start(draft(dir.path())).await;
    let addr = server.local_addr();
    let script = request(addr, "GET", "/__wharf/reload.js", &[]).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script
        .text()
        .contains("new EventSource(\"/__wharf/reload\")"));
    for path in [
        "/__wharf/other.txt",
        "/%5F%5Fwharf/other.txt",
        "/x/../__wharf/other.txt",
        "/__wharf/",
        "/__wharf",
    ] {
        let response = request(addr, "GET", path, &[]).await;
        assert_eq!(response.status, 404, "{path}");
        assert!(!response.text().contains("SITE FILE"), "{path}");
    }
}

/// A raw event-stream client.
struct Events {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Events {
    async fn open(addr: SocketAddr) -> Events {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET /__wharf/reload HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut events = Events {
            stream,
            buf: Vec::new(),
        };
        let (kind, _) = events.next(Duration::from_secs(5)).await.expect("a hello");
        assert_eq!(kind, "hello");
        events
    }

    /// The next event (kind, data) within `within`; comments are skipped.
    async fn next(&mut self, within: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(event) = self.take_event() {
                return Some(event);
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk))
                .await
                .ok()?
                .unwrap();
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn take_event(&mut self) -> Option<(String, String)> {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        let start = text.find("event: ")?;
        let end = start + text[start..].find("\n\n")?;
        let block = &text[start..end];
        let kind = block
            .lines()
            .next()?
            .trim_start_matches("event: ")
            .to_owned();
        let data = block
            .lines()
            .find_map(|line| line.strip_prefix("data: "))
            .unwrap_or("")
            .to_owned();
        self.buf.drain(..end + 2);
        Some((kind, data))
    }

    /// Whether the stream ends (the last chunk, or the connection closing) within `within`.
    async fn ends(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if String::from_utf8_lossy(&self.buf).contains("\r\n0\r\n\r\n") {
                return true;
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// Writes `path` until the stream reports an event (the watch may still be starting), and
/// returns that event.
async fn edit_until_event(events: &mut Events, path: &Path, text: &str) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut writes = 0;
    loop {
        std::fs::write(path, text).unwrap();
        writes += 1;
        if let Some(event) = events.next(Duration::from_millis(500)).await {
            if writes > 1 {
                // On a busy machine an earlier write's batch can come late: the same event
                // again, which must not be taken for the next edit's.
                while let Some(late) = events.next(Duration::from_millis(300)).await {
                    assert_eq!(late, event, "a late event for {}", path.display());
                }
            }
            return event;
        }
        assert!(Instant::now() < deadline, "no event for {}", path.display());
    }
}

#[tokio::test]
async fn edits_send_css_or_reload_and_ignored_files_send_nothing() {
    let dir = site();
    let server = start(draft(dir.path())).await;
    let addr = server.local_addr();
    let head = request(addr, "HEAD", "/__wharf/reload", &[]).await;
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(head.header("content-encoding"), None);
    let mut events = Events::open(addr).await;

    let (kind, data) = edit_until_event(&mut events, &dir.path().join("style.css"), "p{}").await;
    assert_eq!(
        (kind.as_str(), data.as_str()),
        ("css", r#"{"paths":["style.css"]}"#)
    );
    let (kind, data) = edit_until_event(&mut events, &dir.path().join("index.html"), "<p>").await;
    assert_eq!(
        (kind.as_str(), data.as_str()),
        ("reload", r#"{"paths":["index.html"]}"#)
    );

    // Ignored by default: dependencies, version control, editors' temporary files.
    std::fs::create_dir_all(dir.path().join("node_modules/pkg")).unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    // Let the folders' own creation pass first (a new folder reloads).
    while events.next(Duration::from_millis(300)).await.is_some() {}
    std::fs::write(dir.path().join("node_modules/pkg/x.js"), "1").unwrap();
    std::fs::write(dir.path().join(".git/index"), "1").unwrap();
    std::fs::write(dir.path().join(".index.html.swp"), "1").unwrap();
    std::fs::write(dir.path().join("index.html~"), "1").unwrap();
    std::fs::write(dir.path().join("4913"), "1").unwrap();
    assert_eq!(events.next(Duration::from_millis(300)).await, None);
    let (kind, _) = edit_until_event(&mut events, &dir.path().join("a.css"), "a{}").await;
    assert_eq!(kind, "css", "the ignored files were not part of this batch");
}

#[tokio::test]
async fn ignore_globs_are_configurable() {
    let dir = site();
    let server = start(ConfigDraft {
        reload_ignore: Some(vec!["*.log".into(), "/build/**".into()]),
        ..draft(dir.path())
    })
    .await;
    let mut events = Events::open(server.local_addr()).await;
    let (kind, data) = edit_until_event(&mut events, &dir.path().join("note.txt"), "1").await;
    assert_eq!(
        (kind.as_str(), data.as_str()),
        ("reload", r#"{"paths":["note.txt"]}"#)
    );
    std::fs::write(dir.path().join("server.log"), "1").unwrap();
    assert_eq!(events.next(Duration::from_millis(300)).await, None);
}

#[tokio::test]
async fn open_streams_never_hold_up_stop() {
    let dir = site();
    let server = start(draft(dir.path())).await;
    let mut a = Events::open(server.local_addr()).await;
    let mut b = Events::open(server.local_addr()).await;
    let started = Instant::now();
    let report = server.stop(Duration::from_secs(10)).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((report.finished, report.cut), (2, 0));
    assert!(a.ends(Duration::from_secs(1)).await && b.ends(Duration::from_secs(1)).await);
}

#[tokio::test]
async fn an_apply_ends_old_streams_and_new_ones_name_the_new_generation() {
    let dir = site();
    let server = start(draft(dir.path())).await;
    let addr = server.local_addr();
    let mut old = Events::open(addr).await;
    let report = server
        .apply(ConfigDraft {
            cors: Some(true),
            ..draft(dir.path())
        })
        .await
        .unwrap();
    assert_eq!(report.generation, 2);
    assert_eq!(
        report.continuing,
        Vec::new(),
        "an event stream is no transfer that continues"
    );
    assert!(
        old.ends(Duration::from_secs(2)).await,
        "the old stream ended"
    );

    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /__wharf/reload HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut fresh = Events {
        stream,
        buf: Vec::new(),
    };
    let (kind, data) = fresh.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(kind, "hello");
    assert!(data.ends_with("-2\"}"), "{data}");

    // A new port: the stream says where the server went before it ends.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    server
        .apply(ConfigDraft {
            port: Some(port.into()),
            cors: Some(true),
            ..draft(dir.path())
        })
        .await
        .unwrap();
    let (kind, data) = fresh.next(Duration::from_secs(2)).await.unwrap();
    assert_eq!(
        (kind.as_str(), data),
        ("moved", format!("{{\"port\":{port}}}"))
    );
    assert!(fresh.ends(Duration::from_secs(2)).await);

    // Back to "any free port": the stream names the port really bound, not the config's 0.
    let moved_to = server.local_addr();
    let mut last = Events::open(moved_to).await;
    server
        .apply(ConfigDraft {
            cors: Some(true),
            ..draft(dir.path())
        })
        .await
        .unwrap();
    let bound = server.local_addr().port();
    assert_ne!(bound, port);
    let (kind, data) = last.next(Duration::from_secs(2)).await.unwrap();
    assert_eq!(
        (kind.as_str(), data),
        ("moved", format!("{{\"port\":{bound}}}"))
    );
    let report = server.stop(Duration::from_secs(10)).await;
    assert_eq!(report.cut, 0);
}
