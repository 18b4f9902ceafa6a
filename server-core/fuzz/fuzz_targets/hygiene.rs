//! Request-head hygiene: raw bytes go through hyper's HTTP/1 parser, as on a connection,
//! into Wharf's service, over an in-memory duplex stream. What is checked is what Wharf
//! decides about each head hyper accepts, and what goes back on the wire.
//!
//! The byte 0xFE followed by a count `n` stands for `n * 300` copies of the byte before it,
//! so a small input can carry a URI past 8 KiB or a head past 64 KiB.
//!
//! Invariants, for every request hyper parses:
//! - a `Transfer-Encoding` (Wharf takes no request bodies) is a 4xx that closes the
//!   connection: its end cannot be trusted (RFC 9112 §6.1, §6.3);
//! - an HTTP/1.1 request without exactly one `Host` is a 400 (RFC 9112 §3.2);
//! - a head over `MAX_HEAD_BYTES` or a target over `MAX_URI_LEN` is a 4xx;
//! - a method other than GET, HEAD and OPTIONS is never a 2xx or 3xx;
//! - nothing is a 5xx; a HEAD response has no body;
//! - nothing on the wire carries a file from outside the root or a hidden file.
#![no_main]

use std::convert::Infallible;
use std::sync::Arc;

use http::header::{CONNECTION, HOST, TRANSFER_ENCODING};
use http::{Method, Request, Version};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_core::fuzzing::{MAX_HEAD_BYTES, MAX_URI_LEN};
use wharf_fuzz::Site;

/// As `connection::READ_BUFFER_MAX`: hyper's own head limit on a Wharf connection.
const READ_BUFFER_MAX: usize = 64 * 1024;

fn expand(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut bytes = data.iter().copied();
    while let Some(b) = bytes.next() {
        match (b, out.last().copied()) {
            (0xFE, Some(prev)) => {
                let n = usize::from(bytes.next().unwrap_or(1)) * 300;
                out.extend(std::iter::repeat_n(prev, n));
            }
            _ => out.push(b),
        }
    }
    out
}

/// Checks Wharf's answer to one parsed request.
async fn answer(
    request: Request<Incoming>,
) -> Result<http::Response<wharf_core::fuzzing::Body>, Infallible> {
    let site = Site::get();
    let config = Arc::clone(site.config(0b0_0010));
    let method = request.method().clone();
    let chunked = request.headers().contains_key(TRANSFER_ENCODING);
    let hosts = request.headers().get_all(HOST).iter().count();
    let head: usize = request.uri().to_string().len()
        + request
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len())
            .sum::<usize>();
    let target_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    let mut shown = format!(
        "{method} {} {:?} {:?}",
        request.uri(),
        request.version(),
        request.headers()
    );
    if let Some((cut, _)) = shown.char_indices().nth(400) {
        shown.truncate(cut);
        shown.push_str("...");
    }
    let http11 = request.version() == Version::HTTP_11;

    let response = site.serve(&config, request).await;
    let status = response.status();
    assert!(!status.is_server_error(), "{status} for {shown}");
    if chunked {
        assert!(
            status.is_client_error(),
            "{status} for a request with Transfer-Encoding: {shown}"
        );
        let close = response
            .headers()
            .get(CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        assert!(
            close,
            "a request with Transfer-Encoding left the connection open: {shown}"
        );
    }
    if http11 && hosts != 1 && !chunked && head <= MAX_HEAD_BYTES {
        assert_eq!(
            status.as_u16(),
            400,
            "HTTP/1.1 with {hosts} Host fields: {shown}"
        );
    }
    if head > MAX_HEAD_BYTES + 64 || target_len > MAX_URI_LEN {
        assert!(
            status.is_client_error(),
            "{status} for a head of {head} bytes, a target of {target_len}: {shown}"
        );
    }
    if ![Method::GET, Method::HEAD, Method::OPTIONS].contains(&method) {
        assert!(status.is_client_error(), "{status} for method {shown}");
    }
    if method == Method::HEAD {
        // hyper would drop it anyway; Wharf must not even produce one.
        assert_eq!(
            hyper::body::Body::size_hint(response.body()).exact(),
            Some(0),
            "{shown}"
        );
    }
    Ok(response)
}

fuzz_target!(|data: &[u8]| {
    let input = expand(data);
    let site = Site::get();
    let wire = site.block_on(async {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let connection = http1::Builder::new()
            .max_buf_size(READ_BUFFER_MAX)
            // The input ends with the client shutting its write side; without half-close,
            // hyper would take that EOF as the end of the connection and answer nothing.
            .half_close(true)
            .serve_connection(TokioIo::new(server), service_fn(answer));
        let (mut from_server, mut to_server) = tokio::io::split(client);
        let send = async {
            // The server may close before reading everything: that is not an error here.
            let _ = to_server.write_all(&input).await;
            let _ = to_server.shutdown().await;
        };
        let mut wire = Vec::new();
        let receive = from_server.read_to_end(&mut wire);
        let ((), received, _) = tokio::join!(send, receive, connection);
        received.expect("reading the in-memory stream");
        wire
    });
    site.assert_no_leak(&wire, false, &input);
});
