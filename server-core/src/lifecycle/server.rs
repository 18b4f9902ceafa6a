//! The supervisor: owns the listener, the accept loop, every connection task and the live
//! config. [`ServerHandle`] is its only interface.
//!
//! Each accepted connection gets a snapshot of the config at that moment and keeps it for
//! life. [`ServerHandle::apply`] publishes a new snapshot on a `watch` channel: connections
//! accepted afterwards take it, idle older connections close at once, and busy ones finish
//! the response in flight and then close, so the client's next request arrives on a new
//! connection with the new config. A new address is bound before the old listener is let go;
//! if the bind fails nothing changes. Nothing here reads files or answers requests.
//!
//! With HTTPS on, a second listener accepts beside the first, on the same host, with the same
//! config generations, connection table, limit and log; its connections start with a TLS
//! handshake. Its certificate is loaded (or made) before the port is bound, and a change of
//! HTTPS port, host or certificate folder binds first like a port change.
//!
//! It owns the server's one site watch (`files::watcher::SiteWatch`) for the server's life and
//! points it at the root a generation serves: the listing cache (through the file cache)
//! and live reload's streams (through each connection) subscribe to it.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::config::{Change, ConfigDraft, ServerConfig};
use crate::files::cache::FileCache;
use crate::files::watcher::SiteWatch;
use crate::lifecycle::accept::{AcceptLoop, HttpsListener, Rebind};
use crate::lifecycle::backlog::{self, Admission};
use crate::lifecycle::error::{ApplyError, StartError};
use crate::lifecycle::events::{ServerEvent, EVENT_BUFFER};
use crate::lifecycle::listener;
use crate::lifecycle::live_cert::LiveCertificate;
use crate::lifecycle::registry::{ConnectionInfo, Registry};
use crate::lifecycle::tls::CertificateError;
use crate::live_reload::{self, BoundPorts};
use crate::observe::access_log::AccessLog;

/// A running server. Dropping it stops the server at once; [`ServerHandle::stop`] stops it
/// gracefully.
pub struct ServerHandle {
    /// Where the listeners are bound now: the accept loop's record, shared with live reload.
    ports: Arc<BoundPorts>,
    /// The certificate HTTPS presents, while it is on; its address is in `ports`. The accept
    /// loop holds it too, and renews it.
    certificate: Mutex<Option<Arc<LiveCertificate>>>,
    config: watch::Sender<Arc<ServerConfig>>,
    /// Serialises applies, so each one sees the generation before it.
    applying: tokio::sync::Mutex<()>,
    rebinds: mpsc::Sender<Rebind>,
    registry: Arc<Registry>,
    events: broadcast::Sender<ServerEvent>,
    /// The machine's listen-overflow count when the server started.
    overflows_at_start: Option<u64>,
    log: Option<AccessLog>,
    /// The server's file cache, which holds the listing cache.
    cache: Arc<FileCache>,
    /// The server's one watch on its folder, for its whole life: the listing cache and live
    /// reload subscribe to it; applies point it at the new root.
    watch: Arc<SiteWatch>,
    shutdown: CancellationToken,
    supervisor: Option<JoinHandle<JoinSet<()>>>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr())
            .field("generation", &self.config().generation)
            .finish_non_exhaustive()
    }
}

/// Where the server answers HTTPS, and with which certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpsInfo {
    /// The address HTTPS connections are accepted on (with the real port when `0` was asked
    /// for).
    pub local_addr: SocketAddr,
    /// The base URL, e.g. `https://127.0.0.1:8443/`.
    pub url: String,
    /// The site certificate's SHA-256 fingerprint as browsers show it (`AB:CD:...`). It
    /// changes when the certificate is reissued.
    pub fingerprint: String,
    /// The site certificate's PEM file.
    pub cert_path: PathBuf,
    /// The fingerprint of Wharf's local certificate authority, which signs the site
    /// certificate: what a person compares on a device before trusting the CA. It stays the
    /// same across reissued certificates.
    pub ca_fingerprint: String,
    /// The CA certificate's PEM file, to install on a device that should trust Wharf (also
    /// served, in DER, at `/__wharf/ca.crt`).
    pub ca_cert_path: PathBuf,
}

impl HttpsInfo {
    fn new(local_addr: SocketAddr, certificate: &LiveCertificate) -> HttpsInfo {
        let (fingerprint, cert_path, ca_fingerprint, ca_cert_path) = certificate.details();
        HttpsInfo {
            local_addr,
            url: format!("https://{local_addr}/"),
            fingerprint,
            cert_path,
            ca_fingerprint,
            ca_cert_path,
        }
    }
}

/// What happened to the connections that were open when the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StopReport {
    /// Connections that finished on their own before the deadline.
    pub finished: usize,
    /// Connections still busy at the deadline, closed by force.
    pub cut: usize,
}

/// What [`ServerHandle::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// The generation new connections get now: the new one, or the current one when nothing
    /// changed.
    pub generation: u64,
    /// What changed; empty when the draft matched the running config (nothing was applied).
    pub changes: Vec<Change>,
    /// The new listening address, when the host or port changed.
    pub rebound: Option<SocketAddr>,
    /// The new HTTPS listener, when HTTPS was turned on or its host, port or certificate
    /// folder changed. (Turning it off shows in `changes` as `httpsPort ... -> off`.)
    pub https_rebound: Option<HttpsInfo>,
    /// Older connections still finishing a request, per generation, oldest first. Each
    /// closes once its response is sent.
    pub continuing: Vec<(u64, usize)>,
}

impl ApplyReport {
    /// Whether a new generation was applied.
    pub fn applied(&self) -> bool {
        !self.changes.is_empty()
    }
}

impl fmt::Display for ApplyReport {
    /// `generation 3 applied: port 8080 -> 8081, keep_alive on -> off; 2 transfers continue on generation 2`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.applied() {
            return write!(
                f,
                "nothing to apply: the config is unchanged (generation {})",
                self.generation
            );
        }
        write!(f, "generation {} applied: ", self.generation)?;
        for (i, change) in self.changes.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(f, "{separator}{change}")?;
        }
        if self.continuing.is_empty() {
            return write!(f, "; no transfers in flight");
        }
        for (i, (generation, count)) in self.continuing.iter().enumerate() {
            if i == 0 {
                let verb = if *count == 1 {
                    "transfer continues"
                } else {
                    "transfers continue"
                };
                write!(f, "; {count} {verb} on generation {generation}")?;
            } else {
                write!(f, ", {count} on generation {generation}")?;
            }
        }
        Ok(())
    }
}

/// Loads or makes the certificate, then binds the HTTPS port, when `config` has HTTPS on.
///
/// # Errors
/// [`StartError::Certificate`] or [`StartError::HttpsBind`]; nothing is left bound.
async fn bind_https(
    config: &ServerConfig,
) -> Result<Option<(HttpsListener, HttpsInfo)>, StartError> {
    let (Some(port), Some(dir)) = (config.https_port, config.cert_dir.clone()) else {
        // Validation makes cert_dir present whenever https_port is.
        return Ok(None);
    };
    let refuse = |source| StartError::Certificate {
        dir: dir.clone(),
        source,
    };
    let certificate = Arc::new(
        LiveCertificate::load(&dir, config.host)
            .await
            .map_err(refuse)?,
    );
    let acceptor = TlsAcceptor::from(certificate.server_config().map_err(refuse)?);
    let listener =
        listener::bind(config.host, port).map_err(|err| StartError::HttpsBind(Box::new(err)))?;
    let local_addr = listener.local_addr().map_err(|source| {
        StartError::HttpsBind(Box::new(StartError::Bind {
            addr: SocketAddr::new(config.host, port),
            source,
        }))
    })?;
    let info = HttpsInfo::new(local_addr, &certificate);
    let listener = HttpsListener {
        listener,
        acceptor,
        certificate,
    };
    Ok(Some((listener, info)))
}

impl ServerHandle {
    /// Binds `config.host:config.port` and starts serving `config.root`.
    ///
    /// Must be called inside a tokio runtime; the server's tasks run on it.
    ///
    /// # Errors
    /// [`StartError`] if the address cannot be bound; nothing is left running.
    pub async fn start(config: ServerConfig) -> Result<ServerHandle, StartError> {
        ServerHandle::start_logged(config, None).await
    }

    /// [`ServerHandle::start`], recording every request in `log`: its durable session, its
    /// live subscribers and its metrics.
    ///
    /// # Errors
    /// As [`ServerHandle::start`].
    pub async fn start_logged(
        config: ServerConfig,
        log: Option<AccessLog>,
    ) -> Result<ServerHandle, StartError> {
        if let Some(log) = &log {
            log.generation_applied(config.generation);
        }
        let listener = listener::bind(config.host, config.port)?;
        let local_addr = local_addr(&listener, &config)?;
        let (https, https_info) = bind_https(&config).await?.unzip();
        let certificate = https.as_ref().map(|https| Arc::clone(&https.certificate));
        let ports = Arc::new(BoundPorts::default());
        ports.set(
            local_addr,
            https_info.as_ref().map(|https| https.local_addr),
        );
        let (config_tx, config_rx) = watch::channel(Arc::new(config));
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let registry = Arc::new(Registry::new(events.clone()));
        let (rebinds, rebind_rx) = mpsc::channel(1);
        let shutdown = CancellationToken::new();
        // One cache for the server's life: it is keyed by absolute path and never stale, so
        // it stays valid across config generations.
        let watch = Arc::new(SiteWatch::default());
        let cache = Arc::new(FileCache::new(Arc::clone(&watch)));
        if config_rx.borrow().live_reload {
            // Watch from the start, so the first save after a page loads is seen.
            watch.watch(&config_rx.borrow().root);
        }
        let supervisor = tokio::spawn(
            AcceptLoop {
                listener,
                https,
                config: config_rx,
                published: config_tx.clone(),
                rebinds: rebind_rx,
                registry: Arc::clone(&registry),
                cache: Arc::clone(&cache),
                watch: Arc::clone(&watch),
                shutdown: shutdown.clone(),
                log: log.clone(),
                instance: live_reload::new_instance(),
                ports: Arc::clone(&ports),
                events: events.clone(),
            }
            .run(),
        );
        tracing::info!(%local_addr, "listening");
        if let Some(https) = &https_info {
            let (addr, fingerprint) = (https.local_addr, &https.fingerprint);
            tracing::info!(%addr, %fingerprint, "listening for HTTPS");
        }
        Ok(ServerHandle {
            ports,
            certificate: Mutex::new(certificate),
            config: config_tx,
            applying: tokio::sync::Mutex::new(()),
            rebinds,
            registry,
            events,
            overflows_at_start: backlog::listen_overflows(),
            log,
            cache,
            watch,
            shutdown,
            supervisor: Some(supervisor),
        })
    }

    /// The address new connections are accepted on (with the real port when `0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        // Recorded before the handle exists, and replaced, never cleared.
        self.ports
            .addr(false)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The base URL of the site, e.g. `http://127.0.0.1:8080/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr())
    }

    /// Where HTTPS is served, and the certificate's fingerprint; `None` while HTTPS is off.
    pub fn https(&self) -> Option<HttpsInfo> {
        let local_addr = self.ports.addr(true)?;
        let certificate = self
            .certificate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        Some(HttpsInfo::new(local_addr, &certificate))
    }

    /// Checks now, as the server does every 10 seconds while HTTPS is on, that the
    /// certificate still covers the addresses the site is reached at and is not near its
    /// expiry, and presents a reissued one from the next handshake on if not (or if another
    /// server of the same certificate folder issued a newer one). True when it changed;
    /// false, too, while HTTPS is off.
    ///
    /// # Errors
    /// [`CertificateError`] if a new certificate is needed and cannot be made; the current
    /// one is still presented.
    pub async fn renew_certificate(&self) -> Result<bool, CertificateError> {
        let certificate = self
            .certificate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match certificate {
            Some(certificate) => certificate.renew().await,
            None => Ok(false),
        }
    }

    /// The site's HTTPS base URL, e.g. `https://127.0.0.1:8443/`; `None` while HTTPS is off.
    pub fn https_url(&self) -> Option<String> {
        self.https().map(|https| https.url)
    }

    /// The config that new connections get now.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config.borrow().clone()
    }

    /// Makes `draft` the config of every connection accepted from now on, as a new generation.
    ///
    /// Open connections keep the config they were accepted with: idle ones close at once,
    /// busy ones finish the response in flight (never cut, never slowed) and then close. A
    /// new host or port is bound first, and only then does the old listener stop accepting.
    /// A draft that changes nothing applies nothing.
    ///
    /// # Errors
    /// [`ApplyError`] if the draft is invalid or its address cannot be bound. The server then
    /// goes on exactly as before.
    pub async fn apply(&self, draft: ConfigDraft) -> Result<ApplyReport, ApplyError> {
        let _one_at_a_time = self.applying.lock().await;
        let current = self.config();
        let mut next = ServerConfig::try_from(draft)?;
        next.generation = current.generation + 1;
        let changes = current.changes(&next);
        if changes.is_empty() {
            return Ok(ApplyReport {
                generation: current.generation,
                changes,
                rebound: None,
                https_rebound: None,
                continuing: Vec::new(),
            });
        }
        let next = Arc::new(next);
        let (rebound, https_rebound) =
            if current.needs_rebind(&next) || current.needs_https_rebind(&next) {
                self.rebind(&current, &next).await?
            } else {
                self.config.send_replace(Arc::clone(&next));
                (None, None)
            };
        if let Some(log) = &self.log {
            log.generation_applied(next.generation);
        }
        if next.live_reload {
            self.watch.watch(&next.root);
        }
        let continuing = self.registry.busy_before(next.generation);
        let report = ApplyReport {
            generation: next.generation,
            changes,
            rebound,
            https_rebound,
            continuing,
        };
        tracing::info!("{report}");
        let _ = self.events.send(ServerEvent::Applied {
            generation: report.generation,
            changes: report.changes.clone(),
            continuing: report.continuing.clone(),
        });
        Ok(report)
    }

    /// Binds what `next` needs that `current` does not have (HTTP, HTTPS or both), then hands
    /// the new listeners and `next` to the accept loop together. Returns the new HTTP address
    /// and the new HTTPS listener's details, for those that changed.
    ///
    /// # Errors
    /// [`ApplyError::Bind`] when a bind (or the certificate) fails; nothing has changed then.
    async fn rebind(
        &self,
        current: &ServerConfig,
        next: &Arc<ServerConfig>,
    ) -> Result<(Option<SocketAddr>, Option<HttpsInfo>), ApplyError> {
        let from = self.local_addr();
        let https_from = self.ports.addr(true);
        let failed = |error| ApplyError::Bind {
            error,
            serving: from,
        };
        let http = if current.needs_rebind(next) {
            let listener = listener::bind(next.host, next.port).map_err(failed)?;
            Some((local_addr(&listener, next).map_err(failed)?, listener))
        } else {
            None
        };
        let https = if current.needs_https_rebind(next) {
            Some(bind_https(next).await.map_err(failed)?)
        } else {
            None
        };
        let (to, http) = http.unzip();
        let (https, https_info) = match https {
            Some(Some((listener, info))) => {
                let certificate = Arc::clone(&listener.certificate);
                (Some(Some(listener)), Some(Some((info, certificate))))
            }
            Some(None) => (Some(None), Some(None)),
            None => (None, None),
        };
        let (done, switched) = oneshot::channel();
        let rebind = Rebind {
            http,
            https,
            config: Arc::clone(next),
            done,
        };
        if self.rebinds.send(rebind).await.is_err() || switched.await.is_err() {
            return Err(failed(StartError::Bind {
                addr: to.unwrap_or(from),
                source: std::io::Error::other("the server is stopping"),
            }));
        }
        // The accept loop has recorded the new addresses in `ports`.
        if let Some(to) = to {
            let _ = self.events.send(ServerEvent::ListenerRebound { from, to });
            tracing::info!(%from, %to, "listener rebound");
        }
        let https_rebound = https_info.and_then(|info| {
            let (info, certificate) = info.unzip();
            *self
                .certificate
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = certificate;
            let (from, to) = (https_from, info.as_ref().map(|new| new.local_addr));
            let _ = self.events.send(ServerEvent::HttpsRebound { from, to });
            tracing::info!(?from, ?to, "HTTPS listener rebound");
            info
        });
        Ok((to, https_rebound))
    }

    /// Serves another folder, everything else unchanged: [`ServerHandle::apply`] with only
    /// `root` changed.
    ///
    /// # Errors
    /// [`ApplyError`] on field `root` if it is not a folder; the server is left untouched.
    pub async fn set_root(&self, root: &Path) -> Result<ApplyReport, ApplyError> {
        let draft = ConfigDraft {
            root: Some(root.to_path_buf()),
            ..ConfigDraft::from(&*self.config())
        };
        self.apply(draft).await
    }

    /// The open connections, oldest first.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.registry.snapshot()
    }

    /// Older connections still finishing a request, per generation, oldest first, as
    /// [`ApplyReport::continuing`] counts them: each closes once its response is sent.
    /// Live-reload event streams are no transfer: they end as soon as a generation applies.
    pub fn continuing(&self) -> Vec<(u64, usize)> {
        self.registry.busy_before(self.config().generation)
    }

    /// Cuts connection `id` at once, whatever it is doing. False if it is already gone.
    pub fn close_connection(&self, id: u64) -> bool {
        self.registry.close(id)
    }

    /// How full the server is: connections served, the limit, and what waits in the kernel.
    pub fn admission(&self) -> Admission {
        let queue = backlog::accept_queue(self.local_addr());
        let queue = match self.https() {
            Some(https) => queue
                .zip(backlog::accept_queue(https.local_addr))
                .map(|(http, https)| http + https),
            None => queue,
        };
        let turned_away = backlog::listen_overflows()
            .zip(self.overflows_at_start)
            .map(|(now, start)| now.saturating_sub(start));
        Admission {
            open: self.registry.occupied(),
            limit: self.config().max_connections,
            waiting: queue,
            queue_capacity: backlog::queue_capacity(),
            turned_away,
        }
    }

    /// How many bytes the server's file and listing caches hold now; each stays within its
    /// cap ([`crate::files::cache::MAX_CACHED_TOTAL`], [`crate::files::listing_cache::MAX_LISTING_TOTAL`]).
    pub fn cache_usage(&self) -> crate::files::cache::CacheUsage {
        self.cache.usage()
    }

    /// The access log this server records into, if any.
    pub fn access_log(&self) -> Option<&AccessLog> {
        self.log.as_ref()
    }

    /// Lifecycle events from now on: configs applied, listener rebound, connections opened
    /// and closed. A subscriber that falls behind misses the oldest and is told how many.
    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.events.subscribe()
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
            self.registry.cut_all();
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

fn local_addr(listener: &TcpListener, config: &ServerConfig) -> Result<SocketAddr, StartError> {
    listener.local_addr().map_err(|source| StartError::Bind {
        addr: SocketAddr::new(config.host, config.port),
        source,
    })
}
