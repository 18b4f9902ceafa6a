//! Serves one accepted TCP connection with hyper's HTTP/1 machinery, on the config snapshot
//! taken when it was accepted.
//!
//! It enforces what hyper leaves to the caller: the header-read timeout (hyper needs a timer),
//! a bounded header buffer (431 beyond it), and the keep-alive idle timeout, measured from the
//! last byte received or response finished. A keep-alive connection that goes quiet is
//! parked: hyper's buffers are freed and only the socket waits, so idle browser connections
//! cost little. The connection closes gracefully — finishing the response in flight, never
//! cutting it — when it idles out, when the server stops, or when a newer config generation
//! is applied, so the client's next request arrives on a new connection with the new config.

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
/// A keep-alive connection quiet for this long is parked: hyper's per-connection buffers (two
/// of 8 KiB, which hyper neither shrinks nor frees) are dropped, and the socket waits on its
/// own for the next request. A browser's idle connections are released almost at once, so a
/// burst of them never piles up buffers (which the allocator would then keep).
const PARK_AFTER_MIN: Duration = Duration::from_millis(25);
/// The longest a connection waits before parking, however slow its client's rhythm.
const PARK_AFTER_MAX: Duration = Duration::from_secs(1);
/// A connection parks only after this many times its own usual gap between requests, so a
/// busy connection (1,000 clients each asking every 30 ms) never pays for parking.
const PARK_GAP_FACTOR: u32 = 4;

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
    let mut io = Metered {
        inner: stream,
        activity: Arc::clone(&activity),
        unread: Bytes::new(),
    };
    loop {
        // Boxed so that, while parked, the task holds only the socket and a few pointers.
        let stretch = Box::pin(serve_stretch(
            io,
            peer,
            &config,
            &cache,
            &activity,
            &mut updates,
            &shutdown,
        ))
        .await;
        let Stretch::Parked { socket } = stretch else {
            return;
        };
        io = socket;
        if io.unread.is_empty()
            && !wait_while_parked(&io, &config, &activity, &mut updates, &shutdown).await
        {
            return;
        }
    }
}

/// How one hyper connection ended.
enum Stretch {
    /// Closed: the client left, keep-alive ended, the server stopped or the config moved on.
    Closed,
    /// Quiet: hyper is gone, the socket is kept for the client's next request.
    Parked {
        /// The socket, with nothing unsent, and any bytes the client already sent that hyper
        /// read but did not use (pipelining) put back in front.
        socket: Metered,
    },
}

/// Runs one hyper connection until it closes or is parked.
async fn serve_stretch(
    io: Metered,
    peer: SocketAddr,
    config: &Arc<ServerConfig>,
    cache: &Arc<FileCache>,
    activity: &Arc<Activity>,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) -> Stretch {
    let mut builder = http1::Builder::new();
    builder
        // hyper enforces header_read_timeout only when it has a timer.
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(READ_BUFFER_MAX)
        .keep_alive(config.keep_alive);
    let (snapshot, cache, service_activity) =
        (Arc::clone(config), Arc::clone(cache), Arc::clone(activity));
    let service = service_fn(move |request| {
        let (config, cache, activity) = (
            Arc::clone(&snapshot),
            Arc::clone(&cache),
            Arc::clone(&service_activity),
        );
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        // Boxed: hyper can hand the socket back (`poll_without_shutdown`) only with an Unpin future.
        Box::pin(async move {
            let response = service::respond(&config, &cache, request).await;
            Ok::<_, Infallible>(response.map(|body| Tracked { body, activity }))
        })
    });
    let mut connection = builder.serve_connection(TokioIo::new(io), service);

    let idle_timeout = config.keep_alive_idle_timeout;
    let quiet = tokio::time::sleep(activity.park_delay().min(idle_timeout));
    tokio::pin!(quiet);
    // Set once we ask hyper to stop: `Some(t)` to park (decided at t), `None` to close.
    let mut stopping: Option<Option<Instant>> = None;
    loop {
        tokio::select! {
            result = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => {
                if let Err(err) = result {
                    tracing::debug!(%peer, "connection ended with an error: {err}");
                    return Stretch::Closed;
                }
                let parts = connection.into_parts();
                let (mut socket, read_buf) = (parts.io.into_inner(), parts.read_buf);
                // Park only if we asked for it and nothing happened since: a request that
                // slipped in was answered with `Connection: close`, so the client expects a close.
                let park = matches!(stopping, Some(Some(decided)) if activity.last_active() <= decided);
                if !park {
                    use tokio::io::AsyncWriteExt;
                    let _ = socket.shutdown().await;
                    return Stretch::Closed;
                }
                // hyper read these before the bytes still waiting in `unread`.
                socket.unread = if socket.unread.is_empty() {
                    read_buf
                } else {
                    [read_buf, std::mem::take(&mut socket.unread)].concat().into()
                };
                return Stretch::Parked { socket };
            }
            // Without keep-alive each connection closes after its response anyway; a fresh one
            // (a browser's preconnect) is left to the header timeout.
            () = &mut quiet, if stopping.is_none() && config.keep_alive => {
                let last = activity.last_active();
                let park_after = activity.park_delay().min(idle_timeout);
                if activity.between_requests() && last.elapsed() >= park_after {
                    // hyper closes an idle connection at once; anything else finishes first.
                    Pin::new(&mut connection).graceful_shutdown();
                    let decided = Instant::now();
                    // An idle timeout shorter than the park delay is simply the idle timeout.
                    stopping = Some((park_after < idle_timeout).then_some(decided));
                } else {
                    quiet.as_mut().reset(last.max(Instant::now() - park_after) + park_after);
                }
            }
            () = shutdown.cancelled(), if !matches!(stopping, Some(None)) => {
                Pin::new(&mut connection).graceful_shutdown();
                stopping = Some(None);
            }
            changed = updates.changed(), if !matches!(stopping, Some(None)) => {
                if changed.is_err() || updates.borrow().generation != config.generation {
                    Pin::new(&mut connection).graceful_shutdown();
                    stopping = Some(None);
                }
            }
        }
    }
}

/// Waits, holding no HTTP state, until the parked client sends again. Returns false when the
/// connection should close instead: idle timeout, server stop, or a newer config generation.
async fn wait_while_parked(
    io: &Metered,
    config: &ServerConfig,
    activity: &Activity,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) -> bool {
    let deadline = activity.parked_deadline(config);
    loop {
        tokio::select! {
            ready = io.inner.readable() => return ready.is_ok(),
            () = tokio::time::sleep_until(deadline) => return false,
            () = shutdown.cancelled() => return false,
            changed = updates.changed() => {
                if changed.is_err() || updates.borrow().generation != config.generation {
                    return false;
                }
            }
        }
    }
}

/// What the idle and park timers need to know: responses still being sent, and when the
/// connection last received bytes or finished a response.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Responses finished (or abandoned) on this connection.
    responses: AtomicUsize,
    /// Milliseconds after `opened` of the last byte received.
    last_read_ms: AtomicU64,
    /// Milliseconds after `opened` of the last response finished.
    last_done_ms: AtomicU64,
    /// Milliseconds between the last response and the first byte of the request after it.
    last_gap_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            responses: AtomicUsize::new(0),
            last_read_ms: AtomicU64::new(0),
            last_done_ms: AtomicU64::new(0),
            last_gap_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    fn read(&self) {
        let now = self.now_ms();
        let done = self.last_done_ms.load(Ordering::Relaxed);
        let first_byte_of_next_request = self.responses.load(Ordering::Relaxed) > 0
            && self.last_read_ms.load(Ordering::Relaxed) <= done;
        if first_byte_of_next_request {
            self.last_gap_ms
                .store(now.saturating_sub(done), Ordering::Relaxed);
        }
        self.last_read_ms.fetch_max(now, Ordering::Relaxed);
    }

    /// How long this connection stays quiet before it is parked: a few times its own rhythm.
    fn park_delay(&self) -> Duration {
        let gap = Duration::from_millis(self.last_gap_ms.load(Ordering::Relaxed));
        (gap * PARK_GAP_FACTOR).clamp(PARK_AFTER_MIN, PARK_AFTER_MAX)
    }

    fn done(&self) {
        self.last_done_ms
            .fetch_max(self.now_ms(), Ordering::Relaxed);
        self.responses.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    fn last_active(&self) -> Instant {
        let ms = self
            .last_read_ms
            .load(Ordering::Relaxed)
            .max(self.last_done_ms.load(Ordering::Relaxed));
        self.opened + Duration::from_millis(ms)
    }

    /// Nothing in flight and no byte received since the last response: no request is half
    /// read, so hyper can be let go without restarting anyone's header timeout.
    fn between_requests(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && self.last_read_ms.load(Ordering::Relaxed)
                <= self.last_done_ms.load(Ordering::Relaxed)
            && (self.responses.load(Ordering::Relaxed) > 0
                || self.last_read_ms.load(Ordering::Relaxed) == 0)
    }

    /// When a parked connection closes: the idle timeout after its last activity, or, for a
    /// client that has not completed a single request, the header timeout from the start.
    fn parked_deadline(&self, config: &ServerConfig) -> Instant {
        if self.responses.load(Ordering::Relaxed) == 0 {
            self.opened
                + config
                    .header_read_timeout
                    .min(config.keep_alive_idle_timeout)
        } else {
            self.last_active() + config.keep_alive_idle_timeout
        }
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
        self.activity.done();
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

/// The socket, noting when bytes arrive so an active client is never idled out, with bytes
/// already read (by a hyper connection since parked) put back in front.
struct Metered {
    inner: TcpStream,
    activity: Arc<Activity>,
    unread: Bytes,
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
            this.activity.read();
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
