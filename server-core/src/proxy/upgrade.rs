//! A switched protocol (a WebSocket, Vite's HMR socket) joined end to end: once the
//! browser's connection has sent the target's `101`, the browser's socket (with any bytes
//! hyper already read from it in front) and the target's upgraded connection are copied
//! into each other until either side closes, or the server stops.
//!
//! The browser's side is taken from hyper by the connection itself (`poll_without_shutdown`
//! hands the socket back after a 101), which keeps the connection's parking intact; so the
//! tunnel runs in the connection's task, under its config snapshot: an apply does not cut it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

/// Copies between `browser` (after `unread`, the bytes hyper read past the request head) and
/// the target's side of `upgrade`, until either closes or `shutdown` is cancelled.
pub(crate) async fn tunnel<S>(
    browser: S,
    unread: Bytes,
    upgrade: OnUpgrade,
    shutdown: &CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let upstream = match upgrade.await {
        Ok(upgraded) => upgraded,
        Err(err) => {
            tracing::debug!("the target's upgrade failed: {err}");
            return;
        }
    };
    let mut upstream = TokioIo::new(upstream);
    let mut browser = Rewound {
        unread,
        inner: browser,
    };
    tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut browser, &mut upstream) => {
            if let Err(err) = copied {
                tracing::debug!("a proxied upgrade ended: {err}");
            }
        }
        () = shutdown.cancelled() => {}
    }
}

/// A socket that hands out `unread` before what it reads next.
struct Rewound<S> {
    unread: Bytes,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewound<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.unread.is_empty() {
            let n = self.unread.len().min(buf.remaining());
            buf.put_slice(&self.unread[..n]);
            self.unread.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewound<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
