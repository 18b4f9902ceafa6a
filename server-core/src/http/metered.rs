//! The socket under hyper (and under TLS on the HTTPS port): it tells the connection's
//! activity when bytes arrive and leave, tells the connection when hyper flushes (so responses
//! hyper had buffered count as sent), bounds unacknowledged bytes while an event stream is
//! open (see `dead_client`), and puts back in front the bytes a parked hyper connection had
//! read but not used. On a plain connection it sends the file bytes behind `sendfile`'s
//! placeholders (see there). Its shutdown is `linger`'s: at once, or lingering for HTTP/2.

use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::http::connection::Scope;
use crate::http::dead_client;
use crate::http::linger::Close;
use crate::http::sendfile;

/// The socket, noting when bytes arrive so an active client is never idled out, with bytes
/// already read (by a hyper connection since parked) put back in front.
pub(super) struct Metered {
    pub(super) inner: TcpStream,
    /// Its counters, and told when hyper flushes, so responses it had buffered count as sent.
    pub(super) scope: Arc<Scope>,
    /// Bytes already read, to hand out before reading the socket again.
    pub(super) unread: Bytes,
    /// The socket bounds how long sent bytes may stay unacknowledged (see `dead_client`).
    pub(super) bounded: bool,
    /// How the socket closes when hyper shuts it down (see `linger`).
    pub(super) close: Close,
}

impl Metered {
    /// Bounds the socket while the connection carries an event stream, and lifts the bound
    /// once it carries none. Called before every write, so the bound holds from a stream's
    /// first byte.
    fn follow_event_streams(&mut self) {
        let streaming = self.scope.event_streams.load(Ordering::Relaxed) > 0;
        if streaming == self.bounded {
            return;
        }
        self.bounded = streaming;
        if let Err(err) = dead_client::bound(&self.inner, streaming) {
            tracing::debug!(peer = %self.scope.peer, "cannot bound unacknowledged bytes: {err}");
        }
    }
}

impl AsyncRead for Metered {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.unread.is_empty() {
            let n = this.unread.len().min(buf.remaining());
            buf.put_slice(&this.unread.split_to(n));
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.scope.activity.read();
        }
        result
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.follow_event_streams();
        let lane = this.scope.zero_copy.as_deref();
        let result = sendfile::poll_write_vectored(&this.inner, lane, cx, &[io::IoSlice::new(buf)])
            .unwrap_or_else(|| Pin::new(&mut this.inner).poll_write(cx, buf));
        if let Poll::Ready(Ok(n)) = result {
            this.scope.activity.wrote(n);
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.follow_event_streams();
        let lane = this.scope.zero_copy.as_deref();
        let result = sendfile::poll_write_vectored(&this.inner, lane, cx, bufs)
            .unwrap_or_else(|| Pin::new(&mut this.inner).poll_write_vectored(cx, bufs));
        if let Poll::Ready(Ok(n)) = result {
            this.scope.activity.wrote(n);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        // hyper flushes the socket only once its own buffer is empty.
        if let Poll::Ready(Ok(())) = result {
            this.scope.flushed();
        }
        result
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let quiet = this.scope.config.keep_alive_idle_timeout;
        this.close.poll_shutdown(&mut this.inner, quiet, cx)
    }
}
