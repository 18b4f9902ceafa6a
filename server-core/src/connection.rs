//! Serves one accepted TCP connection with hyper's HTTP/1 machinery, on the config snapshot
//! taken when it was accepted.
//!
//! It enforces what hyper leaves to the caller: the header-read timeout (hyper needs a timer),
//! a bounded header buffer (431 beyond it), and the keep-alive idle timeout, measured from the
//! last byte received or response finished. The connection closes gracefully — finishing the
//! response in flight, never cutting it — when it idles out, when the server stops, or when a
//! newer config generation is applied, so the client's next request arrives on a new
//! connection that runs on the new config.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::body::Body;
use crate::cache::FileCache;
use crate::config::ServerConfig;
use crate::service;

/// hyper's read buffer limit: it answers 431 when a head is still incomplete at this size.
/// (Its default is ~400 KiB.) The exact limit is enforced in `service`.
const READ_BUFFER_MAX: usize = 64 * 1024;

/// Serves `stream` until the client leaves, it idles out, the server stops, or the config
/// moves on.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    cache: Arc<FileCache>,
    mut updates: watch::Receiver<Arc<ServerConfig>>,
    shutdown: CancellationToken,
) {
    // Small responses go out at once instead of waiting for Nagle's timer.
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let mut builder = http1::Builder::new();
    builder
        // hyper enforces header_read_timeout only when it has a timer.
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(READ_BUFFER_MAX)
        .keep_alive(config.keep_alive);
    let snapshot = Arc::clone(&config);
    let service_activity = Arc::clone(&activity);
    let service = service_fn(move |request| {
        let (config, cache, activity) = (
            Arc::clone(&snapshot),
            Arc::clone(&cache),
            Arc::clone(&service_activity),
        );
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        async move {
            let response = service::respond(&config, &cache, request).await;
            Ok::<_, Infallible>(response.map(|body| Tracked { body, activity }))
        }
    });
    let io = TokioIo::new(Metered {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);

    let idle_timeout = config.keep_alive_idle_timeout;
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, "connection ended with an error: {err}");
                }
                return;
            }
            () = &mut idle, if !draining => {
                let quiet_since = activity.last_active();
                if activity.in_flight.load(Ordering::Relaxed) == 0 && quiet_since.elapsed() >= idle_timeout {
                    connection.as_mut().graceful_shutdown();
                    draining = true;
                } else {
                    idle.as_mut().reset(quiet_since.max(Instant::now() - idle_timeout) + idle_timeout);
                }
            }
            () = shutdown.cancelled(), if !draining => {
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
            changed = updates.changed(), if !draining => {
                let superseded = changed.is_err() || updates.borrow().generation != config.generation;
                if superseded {
                    connection.as_mut().graceful_shutdown();
                    draining = true;
                }
            }
        }
    }
}

/// What the idle timer needs to know: responses still being sent, and when the connection
/// last did anything.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` of the last byte received or response finished.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last_active(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A response body that tells the connection when it has been sent (or abandoned): hyper
/// drops the body at the end of the response either way.
struct Tracked {
    body: Body,
    activity: Arc<Activity>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.activity.touch();
        self.activity.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting when bytes arrive so an active client is never idled out.
struct Metered {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Metered {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
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
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
