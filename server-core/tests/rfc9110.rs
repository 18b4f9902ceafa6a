//! Validators, preconditions, ranges and content codings on a real socket (RFC 9110 §8.8,
//! §13, §14, §12.5.3).

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;

use common::{get, request, start, write_aged};

/// A site with a binary file, a text file, and a text file with precompressed siblings, all
/// dated a minute ago (so the cache keeps them).
fn site() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 256) as u8).collect();
    write_aged(&dir.path().join("data.bin"), &data);
    write_aged(
        &dir.path().join("page.html"),
        "<p>hello hello hello</p>\n".repeat(100).as_bytes(),
    );
    write_aged(
        &dir.path().join("app.js"),
        "console.log('original');\n".repeat(100).as_bytes(),
    );
    write_aged(&dir.path().join("app.js.br"), b"PRECOMPRESSED-BR");
    write_aged(&dir.path().join("app.js.gz"), b"PRECOMPRESSED-GZ");
    (dir, data)
}

#[tokio::test]
async fn single_suffix_and_open_ranges_are_206() {
    let (dir, data) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    for (spec, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=-500", 9500, 9999),
        ("bytes=9000-", 9000, 9999),
        ("bytes=100-100", 100, 100),
    ] {
        let response = request(addr, "GET", "/data.bin", &[("Range", spec)]).await;
        assert_eq!(response.status, 206, "{spec}");
        assert_eq!(
            response.header("content-range"),
            Some(format!("bytes {start}-{end}/10000").as_str()),
            "{spec}"
        );
        assert_eq!(response.body, &data[start..=end], "{spec}");
        assert_eq!(response.header("accept-ranges"), Some("bytes"));
    }
}

#[tokio::test]
async fn unsatisfiable_is_416_and_unknown_units_are_ignored() {
    let (dir, data) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let response = request(addr, "GET", "/data.bin", &[("Range", "bytes=20000-")]).await;
    assert_eq!(response.status, 416);
    assert_eq!(response.header("content-range"), Some("bytes */10000"));
    for ignored in ["items=0-5", "bytes=5-1", "bytes=abc", "bytes=+5-9"] {
        let response = request(addr, "GET", "/data.bin", &[("Range", ignored)]).await;
        assert_eq!(response.status, 200, "{ignored}");
        assert_eq!(response.body, data, "{ignored}");
    }
}

#[tokio::test]
async fn several_ranges_are_multipart_and_never_amplified() {
    let (dir, data) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let response = request(
        addr,
        "GET",
        "/data.bin",
        &[("Range", "bytes=0-9,5000-5009")],
    )
    .await;
    assert_eq!(response.status, 206);
    let content_type = response.header("content-type").unwrap().to_owned();
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap();
    let text = String::from_utf8_lossy(&response.body).into_owned();
    assert_eq!(
        text.matches(&format!("--{boundary}")).count(),
        3,
        "two parts and the closing"
    );
    assert!(text.contains("Content-Range: bytes 0-9/10000"));
    assert!(text.contains("Content-Range: bytes 5000-5009/10000"));
    assert_eq!(
        response
            .header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        response.body.len()
    );
    assert!(response.body.windows(10).any(|w| w == &data[5000..5010]));

    // 200 overlapping ranges must not cost more than the file itself.
    let many = format!("bytes={}", vec!["0-9999"; 200].join(","));
    let response = request(addr, "GET", "/data.bin", &[("Range", many.as_str())]).await;
    assert!(
        response.body.len() <= data.len(),
        "amplified to {} bytes",
        response.body.len()
    );
}

#[tokio::test]
async fn if_range_honours_the_range_only_when_the_file_is_unchanged() {
    let (dir, data) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let first = get(addr, "/data.bin").await;
    let etag = first.header("etag").unwrap().to_owned();
    let date = first.header("last-modified").unwrap().to_owned();
    for validator in [etag.as_str(), date.as_str()] {
        let ok = request(
            addr,
            "GET",
            "/data.bin",
            &[("Range", "bytes=0-9"), ("If-Range", validator)],
        )
        .await;
        assert_eq!(ok.status, 206, "{validator}");
    }
    let stale = request(
        addr,
        "GET",
        "/data.bin",
        &[("Range", "bytes=0-9"), ("If-Range", "\"old\"")],
    )
    .await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body, data);
}

#[tokio::test]
async fn preconditions_follow_rfc_9110_order() {
    let (dir, _) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let first = get(addr, "/data.bin").await;
    let etag = first.header("etag").unwrap().to_owned();
    let date = first.header("last-modified").unwrap().to_owned();
    let long_ago = "Sun, 06 Nov 1994 08:49:37 GMT";

    let cases: [(&[(&str, &str)], u16); 7] = [
        (&[("If-None-Match", etag.as_str())], 304),
        (&[("If-None-Match", "\"nope\", *")], 304),
        (&[("If-Modified-Since", date.as_str())], 304),
        (
            &[
                ("If-None-Match", "\"nope\""),
                ("If-Modified-Since", date.as_str()),
            ],
            200,
        ),
        (&[("If-Match", "\"nope\"")], 412),
        (&[("If-Unmodified-Since", long_ago)], 412),
        (
            &[
                ("If-Match", etag.as_str()),
                ("If-None-Match", etag.as_str()),
            ],
            304,
        ),
    ];
    for (headers, want) in cases {
        let response = request(addr, "GET", "/data.bin", headers).await;
        assert_eq!(response.status, want, "{headers:?}");
        if want == 304 {
            assert_eq!(
                response.header("etag"),
                Some(etag.as_str()),
                "304 carries the ETag"
            );
            assert!(response.body.is_empty());
        }
    }
}

#[tokio::test]
async fn text_is_compressed_with_vary_and_ranges_never_are() {
    let (dir, _) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let plain = get(addr, "/page.html").await;
    assert_eq!(plain.header("vary"), Some("accept-encoding"));
    assert_eq!(plain.header("content-encoding"), None);

    let gz = request(addr, "GET", "/page.html", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("vary"), Some("accept-encoding"));
    assert!(gz.body.len() < plain.body.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain.body);
    assert_ne!(
        gz.header("etag"),
        plain.header("etag"),
        "each representation has its own ETag"
    );

    let br = request(
        addr,
        "GET",
        "/page.html",
        &[("Accept-Encoding", "gzip, br")],
    )
    .await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut decoded).unwrap();
    assert_eq!(decoded, plain.body);

    let range = request(
        addr,
        "GET",
        "/page.html",
        &[("Accept-Encoding", "gzip, br"), ("Range", "bytes=0-9")],
    )
    .await;
    assert_eq!(range.status, 206);
    assert_eq!(range.header("content-encoding"), None);
    assert_eq!(range.body, &plain.body[..10]);

    let binary = request(addr, "GET", "/data.bin", &[("Accept-Encoding", "gzip, br")]).await;
    assert_eq!(
        binary.header("content-encoding"),
        None,
        "octet-stream is never compressed"
    );
}

#[tokio::test]
async fn precompressed_siblings_are_preferred_when_accepted() {
    let (dir, _) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let br = request(addr, "GET", "/app.js", &[("Accept-Encoding", "br, gzip")]).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.body, b"PRECOMPRESSED-BR");
    assert_eq!(
        br.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let gz = request(addr, "GET", "/app.js", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.body, b"PRECOMPRESSED-GZ");
    let plain = get(addr, "/app.js").await;
    assert!(String::from_utf8_lossy(&plain.body).contains("original"));
}

#[tokio::test]
async fn head_of_a_range_and_of_a_compressed_response_has_no_body() {
    let (dir, _) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let head = request(addr, "HEAD", "/page.html", &[("Accept-Encoding", "gzip")]).await;
    let get = request(addr, "GET", "/page.html", &[("Accept-Encoding", "gzip")]).await;
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert_eq!(head.header("content-encoding"), Some("gzip"));
}

/// Safari and WebKit probe media with `bytes=0-1`, then stream with `bytes=0-`; both must be
/// 206 with an exact Content-Range, or the player treats the video as unseekable.
#[tokio::test]
async fn safari_media_probe_sequence_gets_206s() {
    let (dir, data) = site();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let probe = request(addr, "GET", "/data.bin", &[("Range", "bytes=0-1")]).await;
    assert_eq!(probe.status, 206);
    assert_eq!(probe.header("content-range"), Some("bytes 0-1/10000"));
    assert_eq!(probe.header("content-length"), Some("2"));
    let stream = request(addr, "GET", "/data.bin", &[("Range", "bytes=0-")]).await;
    assert_eq!(stream.status, 206);
    assert_eq!(stream.header("content-range"), Some("bytes 0-9999/10000"));
    assert_eq!(stream.body, data);
    let seek = request(addr, "GET", "/data.bin", &[("Range", "bytes=7000-")]).await;
    assert_eq!(seek.status, 206);
    assert_eq!(seek.body, &data[7000..]);
}

#[cfg(unix)]
#[tokio::test]
async fn a_precompressed_sibling_is_never_followed_out_of_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    write_aged(
        &site.join("app.js"),
        "console.log('original');\n".repeat(100).as_bytes(),
    );
    // Newer than app.js, so only the root check can refuse it.
    std::fs::write(dir.path().join("outside.br"), common::SECRET_MARKER).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.br"), site.join("app.js.br")).unwrap();
    let server = start(&site).await;
    let response = request(
        server.local_addr(),
        "GET",
        "/app.js",
        &[("Accept-Encoding", "br")],
    )
    .await;
    assert_eq!(response.status, 200);
    assert!(
        !response.text().contains(common::SECRET_MARKER),
        "served a sibling from outside the root"
    );
}

/// A file dated before 1970 (a restored archive, a bad clock) is served without
/// `Last-Modified`, which no HTTP-date can express, and its ETag still validates. Found by the
/// `resolve` fuzz target: formatting the date panicked, and the request got a 500.
#[tokio::test]
async fn files_dated_before_1970_are_served_without_last_modified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.txt");
    std::fs::write(&path, b"from the past").unwrap();
    let before_1970 = std::time::UNIX_EPOCH - std::time::Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(before_1970)
        .unwrap();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let first = get(addr, "/old.txt").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, b"from the past");
    assert_eq!(first.header("last-modified"), None);
    let etag = first.header("etag").unwrap().to_owned();
    let again = request(addr, "GET", "/old.txt", &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    let since = request(
        addr,
        "GET",
        "/old.txt",
        &[("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
    )
    .await;
    assert_eq!(since.status, 304, "older than any date a client can send");
}
