//! The supervisor's accept loop: accepts on the HTTP and HTTPS listeners while there is room
//! under `max_connections`, gives each connection the config snapshot of its moment, swaps in
//! new listeners when an apply rebinds, and reaps finished connection tasks. `server.rs`
//! starts it and talks to it only through the `Rebind` channel and the shutdown token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::files::cache::FileCache;
use crate::files::watcher::SiteWatch;
use crate::http::connection::{self, Accepted};
use crate::lifecycle::events::ServerEvent;
use crate::lifecycle::live_cert::{LiveCertificate, RENEW_EVERY};
use crate::lifecycle::registry::{Activity, Registry};
use crate::live_reload::BoundPorts;
use crate::observe::access_log::AccessLog;

/// Pause after an accept error (e.g. too many open files) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// New listeners for the accept loop, with the config that goes with them.
pub(super) struct Rebind {
    /// The new HTTP listener; `None` keeps the current one.
    pub(super) http: Option<TcpListener>,
    /// The new HTTPS listener, `Some(None)` for none; `None` keeps the current one.
    pub(super) https: Option<Option<HttpsListener>>,
    pub(super) config: Arc<ServerConfig>,
    pub(super) done: oneshot::Sender<()>,
}

/// The HTTPS port's listener, the TLS settings its connections are accepted with, and the
/// certificate those present (renewed every `RENEW_EVERY`).
pub(super) struct HttpsListener {
    pub(super) listener: TcpListener,
    pub(super) acceptor: TlsAcceptor,
    pub(super) certificate: Arc<LiveCertificate>,
}

fn reaped(done: Result<(), tokio::task::JoinError>) {
    if let Err(err) = done {
        if err.is_panic() {
            tracing::error!("a connection task panicked; other connections are unaffected: {err}");
        }
    }
}

/// The address `listener` is bound to; port 0 if the OS cannot say (it always can once
/// bound, and the handle read it right after binding).
fn bound_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// The supervisor task's state.
pub(super) struct AcceptLoop {
    pub(super) listener: TcpListener,
    pub(super) https: Option<HttpsListener>,
    pub(super) config: watch::Receiver<Arc<ServerConfig>>,
    pub(super) published: watch::Sender<Arc<ServerConfig>>,
    pub(super) rebinds: mpsc::Receiver<Rebind>,
    pub(super) registry: Arc<Registry>,
    pub(super) cache: Arc<FileCache>,
    pub(super) watch: Arc<SiteWatch>,
    pub(super) shutdown: CancellationToken,
    pub(super) log: Option<AccessLog>,
    pub(super) instance: u64,
    pub(super) ports: Arc<BoundPorts>,
    pub(super) events: tokio::sync::broadcast::Sender<ServerEvent>,
}

impl AcceptLoop {
    /// Accepts until `shutdown`, snapshotting the config for each connection, and reaps
    /// finished connection tasks. Returns the connections still open so `stop` can drain them.
    pub(super) async fn run(mut self) -> JoinSet<()> {
        let mut connections = JoinSet::new();
        let mut renew =
            tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // At the limit, stop accepting: new clients wait in the kernel's accept queue
            // until a connection ends (the reaping branch below wakes the loop). The table
            // counts live connections; the JoinSet also holds ended ones not yet reaped.
            // Live-reload streams on HTTP/2 take slots too (see `Registry::occupied`).
            let room = self.registry.occupied() < self.config.borrow().max_connections as usize;
            tokio::select! {
                // New clients before reaping: when an apply closes a thousand idle
                // connections at once, the next browser request must not wait for all of
                // them to be reaped.
                biased;
                () = self.shutdown.cancelled() => break,
                Some(rebind) = self.rebinds.recv() => {
                    // The new listener is already bound; from here on only it accepts, with
                    // the new config. Clients already waiting in the old one's queue are
                    // accepted first (the kernel would reset them), then it closes; its
                    // connections carry on.
                    if let Some(listener) = rebind.http {
                        let old = std::mem::replace(&mut self.listener, listener);
                        while let Some(Ok((stream, peer))) = old.accept().now_or_never() {
                            self.spawn(&mut connections, stream, peer, None);
                        }
                    }
                    if let Some(https) = rebind.https {
                        if let Some(old) = std::mem::replace(&mut self.https, https) {
                            let HttpsListener { listener, acceptor, .. } = old;
                            while let Some(Ok((stream, peer))) = listener.accept().now_or_never() {
                                let tls = Some(acceptor.clone());
                                self.spawn(&mut connections, stream, peer, tls);
                            }
                        }
                    }
                    self.ports.set(
                        bound_addr(&self.listener),
                        self.https.as_ref().map(|https| bound_addr(&https.listener)),
                    );
                    self.published.send_replace(rebind.config);
                    let _ = rebind.done.send(());
                }
                accepted = self.listener.accept(), if room => match accepted {
                    Ok((stream, peer)) => self.spawn(&mut connections, stream, peer, None),
                    Err(err) => {
                        tracing::warn!("accept failed, retrying: {err}");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                accepted = accept_https(self.https.as_ref()), if room && self.https.is_some() => {
                    match accepted {
                        Ok((stream, peer, tls)) => {
                            self.spawn(&mut connections, stream, peer, Some(tls));
                        }
                        Err(err) => {
                            tracing::warn!("HTTPS accept failed, retrying: {err}");
                            tokio::time::sleep(ACCEPT_BACKOFF).await;
                        }
                    }
                }
                () = self.registry.slot_freed(), if !room => {}
                // A few file reads (a key generation when the addresses changed) on a
                // blocking thread; meanwhile new clients wait in the kernel's queue.
                _ = renew.tick(), if self.https.is_some() => self.renew_certificate().await,
                Some(done) = connections.join_next(), if !connections.is_empty() => {
                    reaped(done);
                    while let Some(done) = connections.try_join_next() {
                        reaped(done);
                    }
                }
            }
        }
        connections
    }

    /// Presents a reissued certificate if the addresses or the folder's certificate changed.
    async fn renew_certificate(&self) {
        let Some(https) = &self.https else {
            return;
        };
        match https.certificate.renew().await {
            Ok(false) => {}
            Ok(true) => {
                let (fingerprint, ..) = https.certificate.details();
                let _ = self
                    .events
                    .send(ServerEvent::CertificateRenewed { fingerprint });
            }
            Err(err) => {
                tracing::warn!("cannot renew the certificate, keeping the current one: {err}")
            }
        }
    }

    fn spawn(
        &mut self,
        connections: &mut JoinSet<()>,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        tls: Option<TlsAcceptor>,
    ) {
        // Snapshot once, right after accept; mark it seen so the connection only wakes for
        // generations newer than its own.
        let mut updates = self.config.clone();
        let config = updates.borrow_and_update().clone();
        let activity = Arc::new(Activity::new());
        let registration = self
            .registry
            .open(peer, config.generation, Arc::clone(&activity));
        let id = registration.id();
        let abort = connections.spawn(connection::serve(Accepted {
            stream,
            peer,
            config,
            updates,
            activity,
            registration,
            cache: Arc::clone(&self.cache),
            watch: Arc::clone(&self.watch),
            shutdown: self.shutdown.clone(),
            log: self.log.clone(),
            instance: self.instance,
            ports: Arc::clone(&self.ports),
            tls,
        }));
        self.registry.set_abort(id, abort);
    }
}

/// The next connection on the HTTPS listener, with the TLS settings to accept it with; never
/// ready when there is none.
async fn accept_https(
    https: Option<&HttpsListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr, TlsAcceptor)> {
    let Some(https) = https else {
        return std::future::pending().await;
    };
    let (stream, peer) = https.listener.accept().await?;
    Ok((stream, peer, https.acceptor.clone()))
}
