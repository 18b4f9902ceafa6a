//! Serves one accepted TCP connection with hyper's HTTP/1 machinery, on the config snapshot
//! taken when it was accepted. A connection accepted on the HTTPS port first completes a TLS
//! handshake (within the header-read timeout), then speaks HTTP/2 if the client chose `h2`
//! in ALPN and HTTP/1.1 otherwise.
//!
//! It enforces what hyper leaves to the caller: the header-read timeout (hyper needs a timer),
//! a bounded header buffer (431 beyond it), and the keep-alive idle timeout, measured from the
//! last byte received or response finished. A keep-alive connection that goes quiet is
//! parked: hyper's buffers are freed and only the socket waits, so idle browser connections
//! cost little. The connection closes gracefully — finishing the response in flight, never
//! cutting it — when it idles out, when the server stops, or when a newer config generation
//! is applied, so the client's next request arrives on a new connection with the new config.
//! An HTTP/2 connection is closed with GOAWAY instead, which lets its streams in flight finish
//! and tells the client which requests to send again. Its streams run inside the
//! connection's task, so cutting the connection cuts them and a stop waits for them.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::{FutureExt, StreamExt};
use http::{header, Request, Response, Version};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::files::cache::FileCache;
use crate::files::watcher::SiteWatch;
use crate::http::body::Body;
use crate::http::dead_client;
use crate::lifecycle::registry::{Activity, ConnectionState, Registration};
use crate::live_reload::{BoundPorts, ReloadFeed};
use crate::observe::access::{micros, unix_ms, AccessRecord, Outcome, Served};
use crate::observe::access_log::AccessLog;
use crate::serve::service;

const CLOSE: http::HeaderValue = http::HeaderValue::from_static("close");

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

/// A connection just accepted, with everything it needs for life.
pub(crate) struct Accepted {
    pub(crate) stream: TcpStream,
    pub(crate) peer: SocketAddr,
    /// The config snapshot taken at accept.
    pub(crate) config: Arc<ServerConfig>,
    /// Newer generations, to close gracefully when one is applied.
    pub(crate) updates: watch::Receiver<Arc<ServerConfig>>,
    pub(crate) activity: Arc<Activity>,
    /// Its row in the connection table, removed when this task ends however it ends.
    pub(crate) registration: Registration,
    pub(crate) cache: Arc<FileCache>,
    /// The server's site watch, which live-reload streams subscribe to.
    pub(crate) watch: Arc<SiteWatch>,
    pub(crate) shutdown: CancellationToken,
    /// Where its requests are recorded, if anywhere.
    pub(crate) log: Option<AccessLog>,
    /// The server's live-reload identity (see [`ReloadFeed::instance`]).
    pub(crate) instance: u64,
    /// The ports the server listens on now (see [`ReloadFeed::ports`]).
    pub(crate) ports: Arc<BoundPorts>,
    /// Set when it was accepted on the HTTPS port: the handshake to run first.
    pub(crate) tls: Option<TlsAcceptor>,
}

/// What every request on a connection needs, fixed for the connection's life.
struct Scope {
    peer: SocketAddr,
    /// The connection's id in the connection table.
    id: u64,
    config: Arc<ServerConfig>,
    cache: Arc<FileCache>,
    /// For live-reload event streams, which end when the server stops or the config moves on.
    feed: ReloadFeed,
    activity: Arc<Activity>,
    log: Option<AccessLog>,
    /// How many responses hyper has taken every byte of but not yet written to the socket.
    /// They stay in flight (see [`Activity::done`]) until the socket is next flushed: until
    /// then the connection is still sending, so it is never parked, and it closes only
    /// through hyper's own shutdown, which writes hyper's buffer out first.
    unflushed: AtomicUsize,
    /// The access records of those responses, if requests are logged. They are recorded as
    /// completed when the socket is next flushed, or as aborted if the connection ends first.
    unflushed_records: Mutex<Vec<PendingRecord>>,
    /// A newer config generation applies: the next response says `Connection: close`.
    retiring: AtomicBool,
    /// Live-reload event streams open on the connection. While there is one, the socket
    /// bounds how long sent bytes may stay unacknowledged (see `dead_client`).
    event_streams: AtomicUsize,
}

impl Scope {
    /// A newer config generation was applied. Returns true if the connection should close
    /// now (gracefully: a response in flight finishes first), false if it must first answer
    /// the request it is receiving or, on a connection not used yet, is about to receive:
    /// its client sent that request expecting an answer, and a browser retries a request
    /// without one only on a reused connection. That answer then carries `Connection: close`.
    fn retire(&self) -> bool {
        let activity = &self.activity;
        let used_and_idle = activity.responses.load(Ordering::Relaxed) > 0
            && activity.state() == ConnectionState::Idle;
        if used_and_idle || activity.state() == ConnectionState::Sending {
            return true;
        }
        self.retiring.store(true, Ordering::Relaxed);
        // A request that reached the service meanwhile may have missed the flag.
        activity.state() == ConnectionState::Sending
    }

    /// hyper took every byte of a response; it is sent once hyper flushes the socket.
    fn taken(&self, record: Option<Box<PendingRecord>>) {
        if let Some(pending) = record {
            lock(&self.unflushed_records).push(*pending);
        }
        self.unflushed.fetch_add(1, Ordering::Relaxed);
    }

    /// hyper flushed the socket: every response it had taken is now with the kernel.
    fn flushed(&self) {
        let sent = self.unflushed.swap(0, Ordering::Relaxed);
        if sent == 0 {
            return;
        }
        for _ in 0..sent {
            self.activity.done();
        }
        let done = std::mem::take(&mut *lock(&self.unflushed_records));
        for pending in done {
            pending.finish(self, true);
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        // The connection ended with responses still in hyper's buffer.
        let cut_short = std::mem::take(&mut *lock(&self.unflushed_records));
        for pending in cut_short {
            pending.finish(self, false);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves the connection until the client leaves, it idles out, the server stops, or the
/// config moves on.
pub(crate) async fn serve(accepted: Accepted) {
    let Accepted {
        stream,
        peer,
        config,
        mut updates,
        activity,
        registration,
        cache,
        watch,
        shutdown,
        log,
        instance,
        ports,
        tls,
    } = accepted;
    let _counted = log.as_ref().map(AccessLog::connection_opened);
    let context = Arc::new(Scope {
        peer,
        id: registration.id(),
        config,
        cache,
        feed: ReloadFeed {
            instance,
            shutdown: shutdown.clone(),
            updates: updates.clone(),
            https: tls.is_some(),
            ports,
            peer: peer.ip(),
            registry: Arc::clone(registration.registry()),
            watch,
        },
        activity,
        log,
        unflushed: AtomicUsize::new(0),
        unflushed_records: Mutex::new(Vec::new()),
        retiring: AtomicBool::new(false),
        event_streams: AtomicUsize::new(0),
    });
    // Small responses go out at once instead of waiting for Nagle's timer.
    let _ = stream.set_nodelay(true);
    let mut io = Metered {
        inner: stream,
        scope: Arc::clone(&context),
        unread: Bytes::new(),
        bounded: false,
    };
    if let Some(acceptor) = tls {
        // Boxed: TLS and HTTP/2 state is large, and unboxed it would make every plain
        // connection's task that large too, parked or not.
        return Box::pin(serve_tls(io, acceptor, &context, &mut updates, &shutdown)).await;
    }
    loop {
        // Boxed so that, while parked, the task holds only the socket and a few pointers.
        let stretch = Box::pin(serve_stretch(io, &context, &mut updates, &shutdown)).await;
        let Stretch::Parked { socket } = stretch else {
            return;
        };
        io = socket;
        if io.unread.is_empty() && !wait_while_parked(&io, &context, &mut updates, &shutdown).await
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

/// Answers one request on the connection of `context`, on its config snapshot.
fn answer(
    context: Arc<Scope>,
    request: Request<Incoming>,
) -> Pin<Box<impl std::future::Future<Output = Result<Response<Tracked>, Infallible>> + Send>> {
    context.activity.started();
    // Boxed: hyper can hand the socket back (`poll_without_shutdown`) only with an Unpin future.
    Box::pin(async move {
        let start = context.log.is_some().then(|| RequestStart::of(&request));
        let uri = request.uri().clone();
        // A bug in answering one request costs that request a 500, not the connection
        // or the server.
        let (mut response, served) = AssertUnwindSafe(service::respond_noting(
            &context.config,
            &context.cache,
            &context.feed,
            request,
        ))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let what = panic_message(&*panic);
            tracing::error!(peer = %context.peer, %uri, "request handling panicked: {what}");
            (service::internal_error(), Served::Status)
        });
        if context.retiring.load(Ordering::Relaxed) {
            response.headers_mut().insert(header::CONNECTION, CLOSE);
        }
        if matches!(response.body(), Body::Events(_)) {
            context.activity.streaming.store(true, Ordering::Relaxed);
            // Given back when its `Tracked` body is dropped.
            context.event_streams.fetch_add(1, Ordering::Relaxed);
        }
        let record = start.map(|start| {
            Box::new(PendingRecord {
                status: response.status().as_u16(),
                served,
                head_bytes: head_len(&response),
                socket_bytes_before: context.activity.bytes_sent.load(Ordering::Relaxed),
                start,
                ttfb: None,
                body_bytes: 0,
            })
        });
        Ok::<_, Infallible>(response.map(|body| Tracked {
            body,
            context,
            record,
            ended: false,
        }))
    })
}

/// What an HTTP/1 connection runs on: the plain socket, which can be parked, or a TLS
/// stream over it, which cannot (rustls holds its own buffers and may hold decrypted bytes
/// hyper has not read, so only the TLS stream itself may wait for the next request).
trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Whether a quiet connection may drop hyper and keep only the socket.
    const PARKS: bool;

    /// The socket to park, with `read_buf` (bytes hyper read but did not use) in front.
    fn park(self, read_buf: Bytes) -> Stretch;
}

impl Transport for Metered {
    const PARKS: bool = true;

    fn park(mut self, read_buf: Bytes) -> Stretch {
        // hyper read these before the bytes still waiting in `unread`.
        self.unread = if self.unread.is_empty() {
            read_buf
        } else {
            [read_buf, std::mem::take(&mut self.unread)].concat().into()
        };
        Stretch::Parked { socket: self }
    }
}

impl Transport for TlsStream<Metered> {
    const PARKS: bool = false;

    fn park(self, _read_buf: Bytes) -> Stretch {
        Stretch::Closed
    }
}

/// Runs one hyper connection until it closes or is parked.
async fn serve_stretch<S: Transport>(
    io: S,
    context: &Arc<Scope>,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) -> Stretch {
    let (peer, config, activity) = (context.peer, &context.config, &context.activity);
    let mut builder = http1::Builder::new();
    builder
        // hyper enforces header_read_timeout only when it has a timer.
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(READ_BUFFER_MAX)
        .keep_alive(config.keep_alive);
    let service_context = Arc::clone(context);
    let service = service_fn(move |request| answer(Arc::clone(&service_context), request));
    let mut connection = builder.serve_connection(TokioIo::new(io), service);

    let idle_timeout = config.keep_alive_idle_timeout;
    let park_after = |activity: &Activity| {
        if S::PARKS {
            park_delay(activity).min(idle_timeout)
        } else {
            idle_timeout
        }
    };
    let quiet = tokio::time::sleep(park_after(activity));
    tokio::pin!(quiet);
    // Set once we ask hyper to stop: `Some(t)` to park (decided at t), `None` to close.
    let mut stopping: Option<Option<Instant>> = None;
    loop {
        // Closing runs hyper to its own shutdown, which first writes out what hyper still
        // holds. `poll_without_shutdown` would hand back the socket without it: after
        // `graceful_shutdown`, hyper ends a response that closes the connection (HTTP/1.0, or
        // `Connection: close`) as soon as its body is taken, written out or not (issue 13).
        let closing = matches!(stopping, Some(None));
        tokio::select! {
            result = std::future::poll_fn(|cx| {
                if closing {
                    Pin::new(&mut connection).poll(cx)
                } else {
                    connection.poll_without_shutdown(cx)
                }
            }) => {
                if let Err(err) = result {
                    tracing::debug!(%peer, "connection ended with an error: {err}");
                    record_failed_request(context, &err);
                    return Stretch::Closed;
                }
                if closing {
                    return Stretch::Closed;
                }
                // hyper finished on its own, or parks as asked: nothing is left unwritten,
                // since a response counts as in flight until hyper has flushed it.
                let parts = connection.into_parts();
                let (mut socket, read_buf) = (parts.io.into_inner(), parts.read_buf);
                // Park only if we asked for it and nothing happened since: a request that
                // slipped in was answered with `Connection: close`, so the client expects a close.
                let park = matches!(stopping, Some(Some(decided)) if activity.last_active() <= decided);
                if !park {
                    let _ = socket.shutdown().await;
                    return Stretch::Closed;
                }
                return socket.park(read_buf);
            }
            // Without keep-alive each connection closes after its response anyway; a fresh one
            // (a browser's preconnect) is left to the header timeout.
            () = &mut quiet, if stopping.is_none() && config.keep_alive => {
                let last = activity.last_active();
                let park_after = park_after(activity);
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
                let newer = changed.is_err() || updates.borrow().generation != config.generation;
                // hyper closes an idle connection at once and lets a response in flight
                // finish first.
                if newer && context.retire() {
                    Pin::new(&mut connection).graceful_shutdown();
                    stopping = Some(None);
                }
            }
        }
    }
}

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
async fn serve_tls(
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

/// Serves HTTP/2 until the client leaves, the connection idles out, the server stops, or the
/// config moves on. The last three send GOAWAY: streams in flight finish, and the client
/// sends any later request again on a new connection.
async fn serve_h2(
    io: TlsStream<Metered>,
    context: &Arc<Scope>,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) {
    let (peer, config, activity) = (context.peer, &context.config, &context.activity);
    let tasks = StreamTasks::default();
    let mut builder = http2::Builder::new(tasks.clone());
    builder
        .timer(TokioTimer::new())
        .max_header_list_size(READ_BUFFER_MAX as u32)
        // Set, not left to hyper's default (200): RFC 9113 §6.5.2 advises no fewer than 100.
        // Live-reload streams among them are capped and counted separately (`live_reload`).
        .max_concurrent_streams(100);
    let service_context = Arc::clone(context);
    let service = service_fn(move |request| answer(Arc::clone(&service_context), request));
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut running = FuturesUnordered::new();

    // A connection that has answered nothing yet gets the header timeout, as on HTTP/1.
    let quiet_limit = |activity: &Activity| {
        if activity.responses.load(Ordering::Relaxed) == 0 {
            config
                .header_read_timeout
                .min(config.keep_alive_idle_timeout)
        } else {
            config.keep_alive_idle_timeout
        }
    };
    let quiet = tokio::time::sleep(quiet_limit(activity));
    tokio::pin!(quiet);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, "HTTP/2 connection ended with an error: {err}");
                }
                break;
            }
            () = std::future::poll_fn(|cx| tasks.poll_run(&mut running, cx)) => {}
            () = &mut quiet, if !closing => {
                let limit = quiet_limit(activity);
                let last = activity.last_active();
                if activity.in_flight.load(Ordering::Relaxed) == 0 && last.elapsed() >= limit {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                } else if activity.in_flight.load(Ordering::Relaxed) > 0 {
                    quiet.as_mut().reset(Instant::now() + limit);
                } else {
                    quiet.as_mut().reset(last + limit);
                }
            }
            () = shutdown.cancelled(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            changed = updates.changed(), if !closing => {
                if changed.is_err() || updates.borrow().generation != config.generation {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
    // Streams whose last frames were queued as the connection ended; they end at once.
    std::future::poll_fn(|cx| {
        let _ = tasks.poll_run(&mut running, cx);
        if running.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

type StreamTask = Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// hyper's executor for HTTP/2 streams: instead of spawning each stream as a task of its
/// own, it hands them to the connection's task, which polls them beside the connection.
#[derive(Clone, Default)]
struct StreamTasks {
    queued: Arc<Mutex<Vec<StreamTask>>>,
    waker: Arc<AtomicWaker>,
}

impl<F> hyper::rt::Executor<F> for StreamTasks
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        lock(&self.queued).push(Box::pin(stream));
        self.waker.wake();
    }
}

impl StreamTasks {
    /// Polls the streams handed over, adding new ones first. Never ready: the connection's
    /// end, not its streams', ends the loop.
    fn poll_run(
        &self,
        running: &mut FuturesUnordered<StreamTask>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        self.waker.register(cx.waker());
        running.extend(lock(&self.queued).drain(..));
        while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
        Poll::Pending
    }
}

/// Waits, holding no HTTP state, until the parked client sends again. Returns false when the
/// connection should close instead: idle timeout, server stop, or a newer config generation.
async fn wait_while_parked(
    io: &Metered,
    context: &Scope,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) -> bool {
    let (config, activity) = (&*context.config, &*context.activity);
    let deadline = parked_deadline(activity, config);
    loop {
        tokio::select! {
            ready = io.inner.readable() => return ready.is_ok(),
            () = tokio::time::sleep_until(deadline) => return false,
            () = shutdown.cancelled() => return false,
            changed = updates.changed() => {
                if (changed.is_err() || updates.borrow().generation != config.generation)
                    && context.retire()
                {
                    return false;
                }
            }
        }
    }
}

/// How long a connection stays quiet before it is parked: a few times its own rhythm.
fn park_delay(activity: &Activity) -> Duration {
    let gap = Duration::from_millis(activity.last_gap_ms.load(Ordering::Relaxed));
    (gap * PARK_GAP_FACTOR).clamp(PARK_AFTER_MIN, PARK_AFTER_MAX)
}

/// When a parked connection closes: the idle timeout after its last activity, or, for a
/// client that has not completed a single request, the header timeout from the start.
fn parked_deadline(activity: &Activity, config: &ServerConfig) -> Instant {
    if activity.responses.load(Ordering::Relaxed) == 0 {
        activity.opened
            + config
                .header_read_timeout
                .min(config.keep_alive_idle_timeout)
    } else {
        activity.last_active() + config.keep_alive_idle_timeout
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// What is known of a request once its head has been read.
struct RequestStart {
    at: Instant,
    start_ms: u64,
    method: String,
    target: String,
    version: &'static str,
    user_agent: Option<String>,
    referer: Option<String>,
}

impl RequestStart {
    /// Client-chosen text is capped as it is copied (see [`crate::observe::access::capped`]), so a record's
    /// size is bounded whatever the request carried.
    fn of<B>(request: &Request<B>) -> RequestStart {
        use crate::observe::access::{capped, capped_bytes, MAX_METHOD_BYTES, MAX_REFERER_BYTES};
        use crate::observe::access::{MAX_TARGET_BYTES, MAX_USER_AGENT_BYTES};
        let text = |name, cap| {
            request
                .headers()
                .get(name)
                .map(|value| capped_bytes(value.as_bytes(), cap))
        };
        let target = match request.uri().path_and_query() {
            Some(pq) => capped(pq.as_str(), MAX_TARGET_BYTES),
            None => capped(&request.uri().to_string(), MAX_TARGET_BYTES),
        };
        RequestStart {
            at: Instant::now(),
            start_ms: unix_ms(SystemTime::now()),
            method: capped(request.method().as_str(), MAX_METHOD_BYTES),
            target,
            version: version_name(request.version()),
            user_agent: text(header::USER_AGENT, MAX_USER_AGENT_BYTES),
            referer: text(header::REFERER, MAX_REFERER_BYTES),
        }
    }
}

/// A request's record while its response is being sent.
struct PendingRecord {
    start: RequestStart,
    status: u16,
    served: Served,
    /// About how long the response head is, as hyper will write it.
    head_bytes: u64,
    /// The socket's byte count when the response was handed to hyper.
    socket_bytes_before: u64,
    ttfb: Option<Duration>,
    /// Body bytes hyper has taken.
    body_bytes: u64,
}

impl PendingRecord {
    /// Records the request: `completed` when every byte reached the socket.
    fn finish(self, scope: &Scope, completed: bool) {
        let Some(log) = &scope.log else { return };
        let total = self.start.at.elapsed();
        let (outcome, body_bytes) = if completed {
            (Outcome::Completed, self.body_bytes)
        } else {
            let written = scope
                .activity
                .bytes_sent
                .load(Ordering::Relaxed)
                .saturating_sub(self.socket_bytes_before)
                .saturating_sub(self.head_bytes);
            let outcome = if scope.activity.cut.load(Ordering::Relaxed) {
                Outcome::Error
            } else {
                Outcome::ClientAborted
            };
            (outcome, written.min(self.body_bytes))
        };
        log.record(AccessRecord {
            id: 0,
            start_ms: self.start.start_ms,
            peer: scope.peer,
            method: self.start.method,
            target: self.start.target,
            version: self.start.version.to_owned(),
            status: self.status,
            body_bytes,
            completed,
            // An empty body goes out with the head.
            ttfb_us: Some(micros(self.ttfb.unwrap_or(total))),
            total_us: micros(total),
            outcome,
            user_agent: self.start.user_agent,
            referer: self.start.referer,
            connection: scope.id,
            generation: scope.config.generation,
            served: self.served,
        });
    }
}

/// About how many bytes hyper writes for `response`'s head: its status line, its headers,
/// and the `date` and `content-length` hyper adds.
fn head_len<B: http_body::Body>(response: &Response<B>) -> u64 {
    let headers: usize = response
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let date = if response.headers().contains_key(header::DATE) {
        0
    } else {
        37
    };
    let length = match response.body().size_hint().exact() {
        Some(len) if !response.headers().contains_key(header::CONTENT_LENGTH) => {
            18 + len.to_string().len()
        }
        _ => 0,
    };
    (17 + headers + date + length + 2) as u64
}

/// A response body that tells the connection when it has been sent (or abandoned): hyper
/// drops the body at the end of the response either way. It also follows the request's
/// access record: first byte, bytes taken, and whether the body ran to its end.
struct Tracked {
    body: Body,
    context: Arc<Scope>,
    record: Option<Box<PendingRecord>>,
    /// The body ran to its end.
    ended: bool,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if matches!(self.body, Body::Events(_)) {
            self.context.event_streams.fetch_sub(1, Ordering::Relaxed);
        }
        let ended = self.ended || http_body::Body::is_end_stream(&self.body);
        if ended {
            // Every byte is with hyper; it is sent once hyper flushes the socket.
            self.context.taken(self.record.take());
            return;
        }
        // hyper gave up on the body: the client left, or the connection was cut.
        self.context.activity.done();
        if let Some(pending) = self.record.take() {
            pending.finish(&self.context, false);
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        this.ended |= matches!(polled, Poll::Ready(None));
        if let (Some(pending), Poll::Ready(Some(Ok(frame)))) = (&mut this.record, &polled) {
            pending
                .ttfb
                .get_or_insert_with(|| pending.start.at.elapsed());
            if let Some(data) = frame.data_ref() {
                pending.body_bytes += data.len() as u64;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request hyper gave up on before it reached the service: a head that never finished
/// (timeout, client gone) or could not be parsed (hyper answered 400 or 431 itself). Only
/// recorded when the client had started sending it; a connection that never said anything
/// is not a request.
fn record_failed_request(context: &Scope, err: &hyper::Error) {
    let Some(log) = &context.log else { return };
    let activity = &context.activity;
    if activity.state() != ConnectionState::Reading {
        return;
    }
    let (status, outcome) = if err.is_timeout() {
        (0, Outcome::TimedOut)
    } else if err.is_parse_too_large() {
        (431, Outcome::Error)
    } else if err.is_parse() {
        (400, Outcome::Error)
    } else if err.is_incomplete_message() {
        (0, Outcome::ClientAborted)
    } else {
        (0, Outcome::Error)
    };
    let began = activity.request_began();
    log.record(AccessRecord {
        id: 0,
        start_ms: unix_ms(SystemTime::now() - began.elapsed()),
        peer: context.peer,
        method: String::new(),
        target: String::new(),
        version: String::new(),
        status,
        body_bytes: 0,
        completed: false,
        ttfb_us: None,
        total_us: micros(began.elapsed()),
        outcome,
        user_agent: None,
        referer: None,
        connection: context.id,
        generation: context.config.generation,
        served: Served::Status,
    });
}

fn version_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "",
    }
}

/// The socket, noting when bytes arrive so an active client is never idled out, with bytes
/// already read (by a hyper connection since parked) put back in front.
struct Metered {
    inner: TcpStream,
    /// Its counters, and told when hyper flushes, so responses it had buffered count as sent.
    scope: Arc<Scope>,
    unread: Bytes,
    /// The socket bounds how long sent bytes may stay unacknowledged (see `dead_client`).
    bounded: bool,
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
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
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
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
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
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::registry::Registry;

    /// Every connection's task is as large as its largest state, parked or not; TLS and
    /// HTTP/2 live behind a box so that plain connections do not pay for them.
    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        let site = tempfile::tempdir().unwrap();
        let config = Arc::new(ServerConfig::for_root(site.path()).unwrap());
        let (_live, updates) = watch::channel(Arc::clone(&config));
        let registry = Arc::new(Registry::new(tokio::sync::broadcast::channel(1).0));
        let activity = Arc::new(Activity::new());
        let task = serve(Accepted {
            stream,
            peer,
            config,
            updates,
            activity: Arc::clone(&activity),
            registration: registry.open(peer, 1, activity),
            cache: Arc::new(FileCache::default()),
            watch: Arc::default(),
            shutdown: CancellationToken::new(),
            log: None,
            instance: 0,
            ports: Arc::default(),
            tls: None,
        });
        // About 1 KiB in a debug build; unboxed, the TLS states made it 8 KiB.
        let size = std::mem::size_of_val(&task);
        assert!(size <= 2048, "the connection task takes {size} bytes");
        drop((task, client));
    }
}
