//! The supervisor: owns the listener, the accept loop, every connection task and the live
//! config. [`ServerHandle`] is its only interface.
//!
//! Each accepted connection gets a snapshot of the config at that moment. Changing the config
//! sends a new snapshot on a `watch` channel: new connections take it, and older connections
//! finish their response in flight and close. Nothing here reads files or answers requests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::cache::FileCache;
use crate::config::{ConfigError, ServerConfig};
use crate::connection;
use crate::error::StartError;
use crate::listener;

/// Pause after an accept error (e.g. too many open files) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A running server. Dropping it stops the server at once; [`ServerHandle::stop`] stops it
/// gracefully.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    config: watch::Sender<Arc<ServerConfig>>,
    shutdown: CancellationToken,
    supervisor: Option<JoinHandle<JoinSet<()>>>,
}

/// What happened to the connections that were open when the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StopReport {
    /// Connections that finished on their own before the deadline.
    pub finished: usize,
    /// Connections still busy at the deadline, closed by force.
    pub cut: usize,
}

impl ServerHandle {
    /// Binds `config.host:config.port` and starts serving `config.root`.
    ///
    /// Must be called inside a tokio runtime; the server's tasks run on it.
    ///
    /// # Errors
    /// [`StartError`] if the address cannot be bound; nothing is left running.
    pub async fn start(config: ServerConfig) -> Result<ServerHandle, StartError> {
        let listener = listener::bind(config.host, config.port)?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: SocketAddr::new(config.host, config.port),
            source,
        })?;
        let (config_tx, config_rx) = watch::channel(Arc::new(config));
        let shutdown = CancellationToken::new();
        let supervisor = tokio::spawn(accept_loop(listener, config_rx, shutdown.clone()));
        tracing::info!(%local_addr, "listening");
        Ok(ServerHandle {
            local_addr,
            config: config_tx,
            shutdown,
            supervisor: Some(supervisor),
        })
    }

    /// The address actually bound (with the real port when `0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL of the site, e.g. `http://127.0.0.1:8080/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// The config that new connections get now.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config.borrow().clone()
    }

    /// Serves another folder on the same listener, as a new config generation.
    ///
    /// Connections accepted from now on serve `root`. Open connections finish the response
    /// in flight, then close, so the client's next request sees the new folder.
    ///
    /// # Errors
    /// [`ConfigError`] on field `root` if it is not a folder; the server is left untouched.
    pub fn set_root(&self, root: &Path) -> Result<Arc<ServerConfig>, ConfigError> {
        let next = Arc::new(self.config().with_root(root)?);
        self.config.send_replace(Arc::clone(&next));
        tracing::info!(generation = next.generation, root = %next.root.display(), "config applied");
        Ok(next)
    }

    /// Stops accepting, lets open connections finish for up to `deadline`, then closes the
    /// rest. Idle keep-alive connections close at once; responses in flight run to the end
    /// unless the deadline passes first.
    pub async fn stop(mut self, deadline: Duration) -> StopReport {
        self.shutdown.cancel();
        let Some(supervisor) = self.supervisor.take() else {
            return StopReport::default();
        };
        let mut connections = match supervisor.await {
            Ok(connections) => connections,
            Err(err) => {
                tracing::error!("accept loop failed: {err}");
                return StopReport::default();
            }
        };
        let mut report = StopReport::default();
        let drained = tokio::time::timeout(deadline, async {
            while connections.join_next().await.is_some() {
                report.finished += 1;
            }
        })
        .await;
        if drained.is_err() {
            report.cut = connections.len();
            connections.shutdown().await;
        }
        tracing::info!(finished = report.finished, cut = report.cut, "stopped");
        report
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        // Without `stop`, the supervisor ends and drops its JoinSet, which aborts every connection.
        self.shutdown.cancel();
    }
}

/// Accepts until `shutdown`, snapshotting the config for each connection, and reaps finished
/// connection tasks. Returns the connections still open so `stop` can drain them.
async fn accept_loop(
    listener: TcpListener,
    config: watch::Receiver<Arc<ServerConfig>>,
    shutdown: CancellationToken,
) -> JoinSet<()> {
    let mut connections = JoinSet::new();
    // One cache for the server's life: it is keyed by absolute path and never stale, so it
    // stays valid across config generations.
    let cache = Arc::new(FileCache::default());
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(done) = connections.join_next(), if !connections.is_empty() => {
                if let Err(err) = done {
                    if err.is_panic() {
                        tracing::error!("a connection task panicked; other connections are unaffected: {err}");
                    }
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Snapshot once, right after accept; mark it seen so the connection only
                    // wakes for generations newer than its own.
                    let mut updates = config.clone();
                    let snapshot = updates.borrow_and_update().clone();
                    connections.spawn(connection::serve(
                        stream,
                        peer,
                        snapshot,
                        Arc::clone(&cache),
                        updates,
                        shutdown.clone(),
                    ));
                }
                Err(err) => {
                    tracing::warn!("accept failed, retrying: {err}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }
    connections
}
