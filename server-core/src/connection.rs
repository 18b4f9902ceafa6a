//! Serves one accepted TCP connection with hyper's HTTP/1 machinery, on the config snapshot
//! taken when it was accepted.
//!
//! The connection closes gracefully (finishing the response in flight, never cutting it) when
//! the server stops or when a newer config generation is applied, so that the client's next
//! request arrives on a new connection that runs on the new config.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::service;

/// Serves `stream` until the client leaves, the server stops, or the config moves on.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    mut updates: watch::Receiver<Arc<ServerConfig>>,
    shutdown: CancellationToken,
) {
    // Small responses go out at once instead of waiting for Nagle's timer.
    let _ = stream.set_nodelay(true);
    let mut builder = http1::Builder::new();
    builder
        // hyper enforces header_read_timeout only when it has a timer.
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(config.keep_alive);
    let snapshot = Arc::clone(&config);
    let service = service_fn(move |request| {
        let config = Arc::clone(&snapshot);
        async move { Ok::<_, Infallible>(service::respond(&config, request).await) }
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);

    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, "connection ended with an error: {err}");
                }
                return;
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
