//! An HTTP/2 connection: hyper's HTTP/2 server with its streams run inside the connection's
//! task (see [`StreamTasks`]), so cutting the connection cuts them and a stop waits for them,
//! and GOAWAY when it idles out, the server stops or the config moves on. Its socket lingers
//! as it closes (see `linger`), so the end of the last response is never lost to a reset.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::StreamExt;
use hyper::server::conn::http2;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::http::connection::{connection_service, lock, Scope, READ_BUFFER_MAX};
use crate::http::linger::Close;
use crate::http::metered::Metered;
use crate::lifecycle::registry::Activity;

/// Serves HTTP/2 until the client leaves, the connection idles out, the server stops, or the
/// config moves on. The last three send GOAWAY: streams in flight finish, and the client
/// sends any later request again on a new connection.
pub(super) async fn serve_h2(
    mut io: TlsStream<Metered>,
    context: &Arc<Scope>,
    updates: &mut watch::Receiver<Arc<ServerConfig>>,
    shutdown: &CancellationToken,
) {
    let (peer, config, activity) = (context.peer, &context.config, &context.activity);
    // The client may be sending (WINDOW_UPDATE as it reads the last DATA frames) when the
    // connection ends: the socket lingers, so the end of a response is not lost to a reset.
    io.get_mut().0.close = Close::Lingering;
    let tasks = StreamTasks::default();
    let mut builder = http2::Builder::new(tasks.clone());
    builder
        .timer(TokioTimer::new())
        .max_header_list_size(READ_BUFFER_MAX as u32)
        // Set, not left to hyper's default (200): RFC 9113 §6.5.2 advises no fewer than 100.
        // Live-reload streams among them are capped and counted separately (`live_reload`).
        .max_concurrent_streams(100);
    let connection = builder.serve_connection(TokioIo::new(io), connection_service(context));
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
