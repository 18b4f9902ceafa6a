//! The HTTPS port's first steps: the TLS handshake (within the header-read timeout), the
//! answer to plain HTTP sent to it, and the protocol the client chose in ALPN: HTTP/2 (`h2`)
//! or HTTP/1.1 (`connection`'s loop, over the TLS stream). It holds no certificate: the
//! acceptor comes from `lifecycle::tls`.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::http::connection::{serve_stretch, Scope};
use crate::http::h2::serve_h2;
use crate::http::metered::Metered;

/// The first byte of a TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;
/// The answer to plain HTTP on the HTTPS port.
const HTTPS_ONLY: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
    Content-Type: text/plain; charset=utf-8\r\n\
    Content-Length: 54\r\n\
    Connection: close\r\n\r\n\
    This port speaks HTTPS: use https:// in the address.\r\n";
/// How much of a plain-HTTP request is read and dropped after the 400, so that closing does
/// not reset the connection before the client reads the answer.
const HTTPS_ONLY_DRAIN: usize = 64 * 1024;

/// Runs the TLS handshake, then HTTP/2 or HTTP/1.1 as the client chose in ALPN. A client
/// that has not completed the handshake within the header-read timeout is cut off; plain
/// HTTP gets a 400 that says to use `https://`.
pub(super) async fn serve_tls(
    io: Metered,
    acceptor: TlsAcceptor,
    context: &Arc<Scope>,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) {
    let peer = context.peer;
    let handshake = async {
        let mut first = [0u8; 1];
        match io.inner.peek(&mut first).await {
            Ok(1) if first[0] == TLS_HANDSHAKE => {}
            Ok(1) => {
                refuse_plain_http(io).await;
                return None;
            }
            _ => return None,
        }
        match acceptor.accept(io).await {
            Ok(stream) => Some(stream),
            Err(err) => {
                tracing::debug!(%peer, "TLS handshake failed: {err}");
                None
            }
        }
    };
    let stream = tokio::select! {
        done = tokio::time::timeout(context.config.header_read_timeout, handshake) => match done {
            Ok(Some(stream)) => stream,
            Ok(None) => return,
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        () = shutdown.cancelled() => return,
    };
    let done_us = crate::observe::access::micros(context.activity.opened.elapsed());
    context.tls_done_us.store(
        done_us.saturating_add(1),
        std::sync::atomic::Ordering::Relaxed,
    );
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        serve_h2(stream, context, updates, shutdown).await;
    } else {
        serve_stretch(stream, context, updates, shutdown).await;
    }
}

/// Answers plain HTTP on the HTTPS port with [`HTTPS_ONLY`], then reads what the client sent
/// until it closes (a lingering close, as nginx does).
async fn refuse_plain_http(mut io: Metered) {
    if io.write_all(HTTPS_ONLY).await.is_err() || io.shutdown().await.is_err() {
        return;
    }
    let mut drained = 0;
    let mut buffer = [0u8; 4096];
    while drained < HTTPS_ONLY_DRAIN {
        match io.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}
