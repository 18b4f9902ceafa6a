//! Serves one accepted TCP connection, on the config snapshot taken when it was accepted:
//! the connection's tower service (see [`connection_service`]), and hyper's HTTP/1 loop
//! around it. A connection accepted on the HTTPS port goes through `https` first, and on to
//! `h2` if the client chose HTTP/2; the socket under both is `metered`'s, and each request's
//! access record is `record`'s.
//!
//! It enforces what hyper leaves to the caller: the header-read timeout, a bounded header
//! buffer (431 beyond it), and the keep-alive idle timeout, measured from the last byte
//! received or response finished. Both timeouts share the connection's one timer, checked
//! against its activity when it fires, so a request costs no timer of its own (hyper's
//! header timer was a boxed sleep and a timer-wheel entry per request, issue 17). A
//! keep-alive connection that goes quiet is parked: hyper's buffers are freed and only the
//! socket waits, so idle browser connections cost little. The connection closes gracefully — finishing the response in flight, never
//! cutting it — when it idles out, when the server stops, or when a newer config generation
//! is applied, so the client's next request arrives on a new connection with the new config.
//!
//! The service is a tower service (hyper-util's `TowerToHyperService` adapts it to hyper),
//! which also adds `nosniff` to every answer that does not say otherwise (in place: a tower-http
//! set-header layer around it cost a move of each response, issue 17). It is built once per
//! connection from its snapshot, so a request never reads the live config.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::header::{self, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
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
use crate::http::https::serve_tls;
use crate::http::linger::Close;
use crate::http::metered::Metered;
use crate::http::record::{record_failed_request, record_unfinished_head};
use crate::http::record::{PendingRecord, RequestStart, Tracked};
use crate::http::sendfile::Lane;
use crate::lifecycle::registry::{Activity, ConnectionState, Registration};
use crate::live_reload::{BoundPorts, ReloadFeed};
use crate::network::{ConnectionBuckets, NetworkNote};
use crate::observe::access::{micros, Outcome, ProxyRecord, Served};
use crate::observe::access_log::AccessLog;
use crate::observe::packed::ServerEnd;
use crate::observe::why::{Route, Why};
use crate::serve::service;

const CLOSE: HeaderValue = HeaderValue::from_static("close");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// hyper's read buffer limit: it answers 431 when a head is still incomplete at this size.
/// (Its default is ~400 KiB.) The exact limit is enforced in `service`.
pub(super) const READ_BUFFER_MAX: usize = 64 * 1024;
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
pub(super) struct Scope {
    pub(super) peer: SocketAddr,
    /// The connection's id in the connection table.
    pub(super) id: u64,
    pub(super) config: Arc<ServerConfig>,
    cache: Arc<FileCache>,
    /// For live-reload event streams, which end when the server stops or the config moves on.
    feed: ReloadFeed,
    pub(super) activity: Arc<Activity>,
    pub(super) log: Option<AccessLog>,
    /// How many responses hyper has taken every byte of but not yet written to the socket.
    /// They stay in flight (see [`Activity::done`]) until the socket is next flushed: until
    /// then the connection is still sending, so it is never parked, and it closes only
    /// through hyper's own shutdown, which writes hyper's buffer out first.
    unflushed: AtomicUsize,
    /// The access records of those responses, if requests are logged. They are recorded as
    /// completed when the socket is next flushed, or as aborted if the connection ends first.
    /// Kept boxed as each response's body held them: unboxing would move them.
    #[allow(clippy::vec_box)]
    unflushed_records: Mutex<Vec<Box<PendingRecord>>>,
    /// A newer config generation applies: the next response says `Connection: close`.
    retiring: AtomicBool,
    /// Live-reload event streams open on the connection. While there is one, the socket
    /// bounds how long sent bytes may stay unacknowledged (see `dead_client`).
    pub(super) event_streams: AtomicUsize,
    /// On a plain connection, its file bodies' frames sent with `sendfile` (see `sendfile`).
    pub(super) zero_copy: Option<Arc<Lane>>,
    /// Where requests are answered, when the log keeps their headers (a durable log): then
    /// each record keeps them (issue 19).
    pub(super) server_end: Option<ServerEnd>,
    /// A proxy target's side of a switched protocol (a WebSocket), once its 101 is sent:
    /// the connection then joins its socket to it (`proxy::tunnel`).
    upgrade: Mutex<Option<hyper::upgrade::OnUpgrade>>,
    /// When the TLS handshake ended, on the HTTPS port, in microseconds since the accept plus
    /// one (0: none): the first request's timeline shows it.
    pub(super) tls_done_us: AtomicU64,
    /// The token buckets of the network rules shared per connection (`per=connection`); only
    /// when its config applies network rules, so other connections allocate nothing for them.
    buckets: Option<ConnectionBuckets>,
}

impl Scope {
    /// A newer config generation was applied. Returns true if the connection should close
    /// now (gracefully: a response in flight finishes first), false if it must first answer
    /// the request it is receiving or, on a connection not used yet, is about to receive:
    /// its client sent that request expecting an answer, and a browser retries a request
    /// without one only on a reused connection. That answer then carries `Connection: close`.
    pub(super) fn retire(&self) -> bool {
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
    pub(super) fn taken(&self, record: Option<Box<PendingRecord>>) {
        if let Some(pending) = record {
            lock(&self.unflushed_records).push(pending);
        }
        self.unflushed.fetch_add(1, Ordering::Relaxed);
    }

    /// hyper flushed the socket: every response it had taken is now with the kernel.
    pub(super) fn flushed(&self) {
        let sent = self.unflushed.swap(0, Ordering::Relaxed);
        if sent == 0 {
            return;
        }
        for _ in 0..sent {
            self.activity.done();
        }
        if self.log.is_none() {
            // No records: `taken` never queues one.
            return;
        }
        // Drained in place, so the list keeps its memory for the next responses.
        for pending in lock(&self.unflushed_records).drain(..) {
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

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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
    // One `getsockname` per connection, and only when headers are kept.
    let server_end = log
        .as_ref()
        .filter(|log| log.keeps_headers())
        .map(|_| ServerEnd {
            addr: stream.local_addr().ok(),
            https: tls.is_some(),
        });
    let buckets = config.shaping().map(|_| ConnectionBuckets::default());
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
        buckets,
        retiring: AtomicBool::new(false),
        event_streams: AtomicUsize::new(0),
        zero_copy: tls.is_none().then(Arc::default),
        upgrade: Mutex::new(None),
        server_end,
        tls_done_us: AtomicU64::new(0),
    });
    // Small responses go out at once instead of waiting for Nagle's timer.
    let _ = stream.set_nodelay(true);
    let mut io = Metered {
        inner: stream,
        scope: Arc::clone(&context),
        unread: Bytes::new(),
        bounded: false,
        close: Close::AtOnce,
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
pub(super) enum Stretch {
    /// Closed: the client left, keep-alive ended, the server stopped or the config moved on.
    Closed,
    /// Quiet: hyper is gone, the socket is kept for the client's next request.
    Parked {
        /// The socket, with nothing unsent, and any bytes the client already sent that hyper
        /// read but did not use (pipelining) put back in front.
        socket: Metered,
    },
}

/// The connection's service: [`Answering`], which answers on the connection's config snapshot.
pub(super) fn connection_service(context: &Arc<Scope>) -> TowerToHyperService<Answering> {
    TowerToHyperService::new(Answering {
        context: Arc::clone(context),
    })
}

/// Answers each request of a connection on its config snapshot, and follows its response
/// for the access record and the connection's state.
#[derive(Clone)]
pub(super) struct Answering {
    context: Arc<Scope>,
}

/// The future of one answer, boxed: hyper can hand the socket back (`poll_without_shutdown`)
/// only with an Unpin future.
type Answer = Pin<Box<dyn Future<Output = Result<Response<Tracked>, Infallible>> + Send>>;

impl tower::Service<Request<Incoming>> for Answering {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Answer {
        let context = Arc::clone(&self.context);
        context.activity.started();
        Box::pin(answer(context, request))
    }
}

/// Answers one request on the connection of `context`, on its config snapshot.
async fn answer(
    context: Arc<Scope>,
    mut request: Request<Incoming>,
) -> Result<Response<Tracked>, Infallible> {
    if let Some(buckets) = &context.buckets {
        // Only then: an extension costs an allocation per request.
        request.extensions_mut().insert(buckets.clone());
    }
    let start = context
        .log
        .as_ref()
        .map(|log| RequestStart::of(&request, log, &context));
    // A bug in answering one request costs that request a 500, not the connection or the
    // server.
    // When the route's last lookup ended, for the record's timeline.
    let mut resolved = None;
    let (mut response, served, why, proxy) = match service::proxied(&context.config, &request) {
        None => {
            let answer = AssertUnwindSafe(service::respond_noting(
                &context.config,
                &context.cache,
                &context.feed,
                &request,
            ))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let what = panic_message(&*panic);
                let uri = request.uri();
                tracing::error!(peer = %context.peer, %uri, "request handling panicked: {what}");
                service::panicked()
            });
            resolved = answer.3;
            (answer.0, answer.1, answer.2, None)
        }
        // Boxed: rare, and large (issue 17).
        Some(rule) => {
            let (response, served, proxy) = Box::pin(proxied(&context, request, rule)).await;
            let route = match served {
                Served::Proxy => Route::Proxy,
                Served::Blocked => Route::Blocked,
                _ => Route::Malformed,
            };
            let why = Why {
                route,
                ..Why::default()
            };
            (response, served, why, proxy)
        }
    };
    // Every answer says `nosniff`, unless it says otherwise (a custom header rule may).
    let headers = response.headers_mut();
    headers.entry(X_CONTENT_TYPE_OPTIONS).or_insert(NOSNIFF);
    if context.retiring.load(Ordering::Relaxed) {
        headers.insert(header::CONNECTION, CLOSE);
    }
    if matches!(response.body(), Body::Events(_)) {
        context.activity.streaming.store(true, Ordering::Relaxed);
        // Given back when its `Tracked` body is dropped.
        context.event_streams.fetch_add(1, Ordering::Relaxed);
    }
    let network = response.extensions().get::<NetworkNote>().copied();
    let record = start.map(|start| {
        let mut record = PendingRecord::new(start, &response, served, network);
        record.resolved(resolved);
        record.proxy = proxy;
        record.why = why;
        record
    });
    let response = response.map(|body| body.zero_copy(context.zero_copy.as_ref()));
    Ok(response.map(|body| Tracked::new(body, context, record)))
}

/// Answers a request proxy rule `rule` takes. A 101 leaves the target's upgrade with the
/// connection, which joins it to the socket once hyper hands that back.
async fn proxied(
    context: &Scope,
    request: Request<Incoming>,
    rule: usize,
) -> (Response<Body>, Served, Option<ProxyRecord>) {
    let https = context.feed.https;
    let answer = service::respond_proxied(&context.config, request, rule, context.peer, https);
    let (response, served, note) = AssertUnwindSafe(answer)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let what = panic_message(&*panic);
            tracing::error!(peer = %context.peer, "proxying panicked: {what}");
            (service::internal_error(), Served::Status, None)
        });
    let Some(note) = note else {
        return (response, served, None);
    };
    if let Some(upgrade) = note.upgrade {
        *lock(&context.upgrade) = Some(upgrade);
    }
    let record = ProxyRecord {
        rule: u16::try_from(note.rule).unwrap_or(u16::MAX),
        upstream_status: note.upstream_status.map(|status| status.as_u16()),
        upstream_ttfb_us: note.ttfb.map(micros),
    };
    (response, served, Some(record))
}

/// What an HTTP/1 connection runs on: the plain socket, which can be parked, or a TLS
/// stream over it, which cannot (rustls holds its own buffers and may hold decrypted bytes
/// hyper has not read, so only the TLS stream itself may wait for the next request).
pub(super) trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Whether a quiet connection may drop hyper and keep only the socket.
    const PARKS: bool;

    /// The socket to park, with `read_buf` (bytes hyper read but did not use) in front.
    fn park(self, read_buf: Bytes) -> Stretch;
}

impl Transport for Metered {
    const PARKS: bool = true;

    fn park(mut self, read_buf: Bytes) -> Stretch {
        self.unread = unused_bytes(read_buf, std::mem::take(&mut self.unread));
        Stretch::Parked { socket: self }
    }
}

/// The bytes a parked socket hands out first: hyper's `read_buf`, read before the bytes still
/// in `unread`. Copied out, never kept as they are: even empty, `read_buf` holds hyper's whole
/// read buffer (8 KiB), which is what parking frees (issue 17).
fn unused_bytes(read_buf: Bytes, unread: Bytes) -> Bytes {
    if read_buf.is_empty() && unread.is_empty() {
        Bytes::new()
    } else {
        [read_buf, unread].concat().into()
    }
}

impl Transport for TlsStream<Metered> {
    const PARKS: bool = false;

    fn park(self, _read_buf: Bytes) -> Stretch {
        Stretch::Closed
    }
}

/// Runs one hyper connection until it closes or is parked.
pub(super) async fn serve_stretch<S: Transport>(
    io: S,
    context: &Arc<Scope>,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) -> Stretch {
    let (peer, config, activity) = (context.peer, &context.config, &context.activity);
    let mut builder = http1::Builder::new();
    builder
        // Enforced below, on the connection's own timer.
        .header_read_timeout(None)
        .max_buf_size(READ_BUFFER_MAX)
        .keep_alive(config.keep_alive);
    let mut connection = builder.serve_connection(TokioIo::new(io), connection_service(context));

    let idle_timeout = config.keep_alive_idle_timeout;
    let park_after = |activity: &Activity| {
        if S::PARKS {
            park_delay(activity).min(idle_timeout)
        } else {
            idle_timeout
        }
    };
    // hyper reads a request head from the moment it starts (now) or finishes a response
    // until the head is complete; a head not complete `header_timeout` after that times out.
    let (began, header_timeout) = (Instant::now(), config.header_read_timeout);
    let header_due = |now: Instant| match activity.head_wait_began(began) {
        Some(waiting) => waiting + header_timeout,
        // No head can time out before the response in flight is done.
        None => now + header_timeout,
    };
    let timer = tokio::time::sleep(park_after(activity).min(header_timeout));
    tokio::pin!(timer);
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
                // hyper stops after sending a 101 and hands the socket back: a proxied
                // WebSocket runs on it from here, on this connection's snapshot.
                let upgrade = lock(&context.upgrade).take();
                if let Some(upgrade) = upgrade {
                    let parts = connection.into_parts();
                    let (socket, read_buf) = (parts.io.into_inner(), parts.read_buf);
                    crate::proxy::tunnel(socket, read_buf, upgrade, shutdown).await;
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
            () = &mut timer => {
                let now = Instant::now();
                let mut next = header_due(now);
                if now >= next {
                    tracing::debug!(%peer, "request head timed out");
                    record_unfinished_head(context, 0, Outcome::TimedOut);
                    return Stretch::Closed;
                }
                // Without keep-alive each connection closes after its response anyway; a
                // fresh one (a browser's preconnect) is left to the header timeout.
                if stopping.is_none() && config.keep_alive {
                    let last = activity.last_active();
                    let park_after = park_after(activity);
                    if activity.between_requests() && now - last >= park_after {
                        // hyper closes an idle connection at once; anything else finishes first.
                        Pin::new(&mut connection).graceful_shutdown();
                        // An idle timeout shorter than the park delay is simply the idle timeout.
                        stopping = Some((park_after < idle_timeout).then_some(now));
                    } else {
                        next = next.min(last.max(now - park_after) + park_after);
                    }
                }
                timer.as_mut().reset(next);
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

    /// A parked socket keeps only the bytes hyper read but did not use, never hyper's read
    /// buffer, which parking is meant to free (issue 17).
    #[test]
    fn a_parked_socket_lets_go_of_hyper_s_read_buffer() {
        let mut hyper_buffer = bytes::BytesMut::with_capacity(8192);
        hyper_buffer.extend_from_slice(b"GET / HTTP/1.1\r\n\r\nGET /a");
        let read_buf = hyper_buffer.freeze().split_off(18);
        let held = read_buf.clone();
        let kept = unused_bytes(read_buf, Bytes::from_static(b" HTTP/1.1"));
        assert_eq!(kept, &b"GET /a HTTP/1.1"[..]);
        assert!(
            held.is_unique(),
            "the parked socket still holds hyper's buffer"
        );

        let read_buf = bytes::BytesMut::with_capacity(8192).freeze();
        let held = read_buf.clone();
        let kept = unused_bytes(read_buf, Bytes::new());
        assert!(kept.is_empty());
        assert!(
            held.is_unique(),
            "the parked socket still holds hyper's buffer"
        );
    }

    /// A request's future is boxed and moved whole for every request: answering a file from
    /// memory must not pay for the rare branches (a listing, a miss, a big file's read), which
    /// are boxed (issue 17).
    #[tokio::test]
    async fn a_request_future_stays_small() {
        let site = tempfile::tempdir().unwrap();
        let config = Arc::new(ServerConfig::for_root(site.path()).unwrap());
        let (_live, updates) = watch::channel(Arc::clone(&config));
        let feed = ReloadFeed {
            instance: 0,
            shutdown: CancellationToken::new(),
            updates,
            https: false,
            ports: Arc::default(),
            peer: std::net::Ipv4Addr::LOCALHOST.into(),
            registry: Arc::new(Registry::new(tokio::sync::broadcast::channel(1).0)),
            watch: Arc::default(),
        };
        let cache = Arc::new(FileCache::default());
        let request = Request::get("/index.html").body(()).unwrap();
        let answering = service::respond_noting(&config, &cache, &feed, &request);
        // About 500 bytes in a debug build; 1.7 KiB before the rare branches were boxed.
        let size = std::mem::size_of_val(&answering);
        assert!(size <= 1536, "a request's future takes {size} bytes");
    }
}
