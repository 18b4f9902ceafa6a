//! One site: its folder, its settings, its LAN flag, its access log and, while running, its
//! server.
//!
//! Plain Rust on top of wharf-core, with no Tauri in it, so it is tested with real sockets and
//! no window. It owns the rules a user sees per site: an automatic port (HTTP or HTTPS) is kept
//! while it stays free, new settings go through `ServerHandle::apply` (so transfers in flight
//! continue), and the LAN toggle rebinds on 0.0.0.0 or 127.0.0.1. With HTTPS on, every site
//! serves the one certificate kept in the app's certificate folder, so a phone checks a single
//! fingerprint. It saves nothing itself: `sites.rs` persists what [`Site::record`] returns.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinSet;
use wharf_core::{AccessLog, LogSettings, LogStats};
use wharf_core::{
    Admission, ApplyError, Change, ConfigDraft, ConnectionInfo, HttpsInfo, ServerConfig,
    ServerHandle, StartError, StopReport,
};

use crate::draft::{Ports, SiteDraft};
use crate::error::{is_port_in_use, SiteError};
use crate::store::StoredSite;

/// How long Stop lets transfers in flight finish before closing them.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// How long transfers on a server replaced by the LAN toggle may run on (see
/// [`Site::set_lan`]); idle connections close at once.
const HANDOVER_GRACE: Duration = Duration::from_secs(600);
/// How long the new listener waits for the replaced one to let go of the port.
const HANDOVER_BIND_WAIT: Duration = Duration::from_secs(2);

/// One site as the window shows it. Mirrors `Site` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteStatus {
    /// The site's id, stable across app runs.
    pub id: String,
    /// The folder's name, or "Welcome" for the built-in welcome site.
    pub name: String,
    /// The folder served.
    pub root: String,
    /// Whether it is the built-in welcome site.
    pub is_welcome: bool,
    /// Whether the server is accepting connections.
    pub running: bool,
    /// `http://127.0.0.1:PORT/` while running.
    pub url: Option<String>,
    /// Shared on the local network (bound to 0.0.0.0).
    pub lan: bool,
    /// `http://<address>:PORT/` per LAN IPv4 address, while running with `lan` on.
    pub lan_urls: Vec<String>,
    /// Where HTTPS is served and the certificate's fingerprint, while serving HTTPS.
    pub https: Option<HttpsStatus>,
    /// The applied settings; `port` and `httpsPort` are the ports in use once started.
    pub settings: SiteDraft,
    /// Whether the port is left automatic.
    pub port_automatic: bool,
    /// Whether the HTTPS port is left automatic.
    pub https_port_automatic: bool,
    /// The config generation new connections get.
    pub generation: u64,
    /// Older generations still finishing transfers: `(generation, connections)`, oldest first.
    pub continuing: Vec<(u64, usize)>,
    /// Connections open now.
    pub open_connections: usize,
    /// Why the site is not running as asked, in a sentence.
    pub error: Option<String>,
    /// The site's access log, once it has started in this app run.
    pub access_log: Option<LogStats>,
}

/// A site's HTTPS as the window shows it. Mirrors `Site["https"]` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpsStatus {
    /// `https://127.0.0.1:PORT/`.
    pub url: String,
    /// `https://<address>:PORT/` per LAN IPv4 address, with `lan` on.
    pub lan_urls: Vec<String>,
    /// The certificate's SHA-256 fingerprint as browsers show it (`AB:CD:...`), for a phone
    /// to check by eye.
    pub fingerprint: String,
}

/// What [`Site::apply`] did. `sites.rs` adds the site's status for the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The generation new connections get now (or at the next start).
    pub generation: u64,
    /// What changed; empty when nothing did.
    pub changes: Vec<Change>,
    /// `(generation, connections)` still finishing on older generations at the moment of apply.
    pub continuing: Vec<(u64, usize)>,
    /// Whether the site was running (false: saved, applies at the next start).
    pub applied: bool,
}

/// A server taken out of its site, still finishing its transfers. Awaited without holding
/// the sites' lock, so a 3-second drain never blocks the window.
#[must_use = "the server stops at once when this is dropped; call finish"]
pub struct Stopping(Option<ServerHandle>);

impl Stopping {
    /// Lets transfers in flight finish for up to [`STOP_GRACE`], then closes the rest.
    pub async fn finish(self) -> StopReport {
        match self.0 {
            Some(server) => server.stop(STOP_GRACE).await,
            None => StopReport::default(),
        }
    }
}

/// Where a site keeps its files.
#[derive(Debug, Clone)]
pub struct SiteFolders {
    /// The built-in welcome site's files, served by a site without a folder of its own.
    pub welcome: PathBuf,
    /// The site's access-log sessions; `None` keeps them in memory only (tests).
    pub log_dir: Option<PathBuf>,
    /// The app's certificate folder, shared by every site so that all present one
    /// certificate; `None` refuses HTTPS (field `certDir`).
    pub cert_dir: Option<PathBuf>,
}

/// One site: its config and, while running, its server.
pub struct Site {
    id: String,
    /// `None` for the built-in welcome site.
    root: Option<PathBuf>,
    welcome_root: PathBuf,
    /// As chosen: `port` 0 is automatic.
    settings: SiteDraft,
    /// The automatic port last bound, tried first at the next start.
    last_port: Option<u16>,
    /// The automatic HTTPS port last bound, likewise.
    last_https_port: Option<u16>,
    lan: bool,
    /// Running as the user asked: saved, so a site running at quit starts again.
    wanted: bool,
    /// The generation of the config the site runs (or will start) with.
    generation: u64,
    server: Option<ServerHandle>,
    /// Every request of this app run, across stops and starts: one durable session.
    log: Option<AccessLog>,
    /// Where the log's sessions go; `None` keeps them in memory only (tests).
    log_dir: Option<PathBuf>,
    /// The app's certificate folder, shared by every site; `None` refuses HTTPS.
    cert_dir: Option<PathBuf>,
    error: Option<String>,
    /// Servers replaced by a LAN toggle, finishing their transfers. Aborted with the site.
    handed_over: JoinSet<StopReport>,
    /// Woken on every event of the running server (see [`Site::report_changes_to`]).
    changed: Arc<Notify>,
    /// Forwards the running server's events to `changed`.
    follower: Option<Follower>,
}

/// A task that wakes a [`Notify`] on every event of one server (a config applied, a
/// listener rebound, a connection opened or closed), until the server is gone or this is
/// dropped.
struct Follower(tokio::task::JoinHandle<()>);

impl Follower {
    fn of(server: &ServerHandle, changed: Arc<Notify>) -> Follower {
        let mut events = server.subscribe();
        Follower(tokio::spawn(async move {
            loop {
                match events.recv().await {
                    // Behind is changed too: the state is read afresh anyway.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => changed.notify_one(),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }))
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("id", &self.id)
            .field("root", &self.root())
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Site {
    /// A stopped site with default settings, serving `root` (`None`: the welcome site).
    pub fn new(id: String, root: Option<PathBuf>, folders: SiteFolders) -> Site {
        Site::from_record(
            StoredSite {
                id,
                root,
                lan: false,
                running: false,
                settings: SiteDraft::default(),
                last_port: None,
                last_https_port: None,
            },
            folders,
        )
    }

    /// The stopped site a saved record describes.
    pub fn from_record(record: StoredSite, folders: SiteFolders) -> Site {
        Site {
            id: record.id,
            root: record.root,
            welcome_root: folders.welcome,
            settings: record.settings,
            last_port: record.last_port,
            last_https_port: record.last_https_port,
            lan: record.lan,
            wanted: record.running,
            generation: 1,
            server: None,
            log: None,
            log_dir: folders.log_dir,
            cert_dir: folders.cert_dir,
            error: None,
            handed_over: JoinSet::new(),
            changed: Arc::default(),
            follower: None,
        }
    }

    /// Wakes `changed` whenever the running server reports an event: a config applied, a
    /// listener rebound, a connection opened or closed. Changes made through this type's
    /// methods are not reported; their caller knows of them.
    pub fn report_changes_to(&mut self, changed: Arc<Notify>) {
        self.changed = changed;
    }

    /// Follows the running server's events, instead of the previous server's.
    fn follow(&mut self) {
        self.follower = self
            .server
            .as_ref()
            .map(|server| Follower::of(server, Arc::clone(&self.changed)));
    }

    /// Takes the running server out, no longer following it.
    fn take_server(&mut self) -> Option<ServerHandle> {
        self.follower = None;
        self.server.take()
    }

    /// What is saved of the site.
    pub fn record(&self) -> StoredSite {
        StoredSite {
            id: self.id.clone(),
            root: self.root.clone(),
            lan: self.lan,
            running: self.wanted,
            settings: self.settings.clone(),
            last_port: self.last_port,
            last_https_port: self.last_https_port,
        }
    }

    /// The site's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The folder served.
    pub fn root(&self) -> &Path {
        self.root.as_deref().unwrap_or(&self.welcome_root)
    }

    /// Whether it is the built-in welcome site.
    pub fn is_welcome(&self) -> bool {
        self.root.is_none()
    }

    /// Whether it is shared on the network (or will be, once started).
    pub fn lan(&self) -> bool {
        self.lan
    }

    /// Whether the user wants it running (it was running at quit, or Start was pressed).
    pub fn wanted(&self) -> bool {
        self.wanted
    }

    /// The site's access log, once it has started in this app run.
    pub fn log(&self) -> Option<&AccessLog> {
        self.log.as_ref()
    }

    /// Where the site's log sessions are kept.
    pub fn log_dir(&self) -> Option<&Path> {
        self.log_dir.as_deref()
    }

    /// The state the window shows; `lan_addresses` are the machine's, for `lanUrls`.
    pub fn status(&self, lan_addresses: &[Ipv4Addr]) -> SiteStatus {
        let connections = self
            .server
            .as_ref()
            .map(ServerHandle::connections)
            .unwrap_or_default();
        // The core's count, the one an apply reports: live-reload streams are no transfer.
        let continuing = self
            .server
            .as_ref()
            .map(ServerHandle::continuing)
            .unwrap_or_default();
        let port = self.port_in_use();
        let lan_urls = match port {
            Some(port) if self.lan => lan_addresses
                .iter()
                .map(|address| format!("http://{address}:{port}/"))
                .collect(),
            _ => Vec::new(),
        };
        let shown_port = port.or(self.last_port.filter(|_| self.settings.port_is_automatic()));
        let https = self.https_info();
        let https_port = https.as_ref().map(|https| https.local_addr.port());
        let shown_https_port = https_port.or(self
            .last_https_port
            .filter(|_| self.settings.https_port_is_automatic()));
        SiteStatus {
            id: self.id.clone(),
            name: self.name(),
            root: self.root().display().to_string(),
            is_welcome: self.is_welcome(),
            running: self.server.is_some(),
            url: port.map(local_url),
            lan: self.lan,
            lan_urls,
            https: https.map(|https| HttpsStatus {
                url: format!("https://127.0.0.1:{}/", https.local_addr.port()),
                lan_urls: lan_addresses
                    .iter()
                    .filter(|_| self.lan)
                    .map(|address| format!("https://{address}:{}/", https.local_addr.port()))
                    .collect(),
                fingerprint: https.fingerprint,
            }),
            settings: self.settings.shown(Ports {
                http: shown_port.map_or(self.settings.port(), u32::from),
                https: shown_https_port.map_or(self.settings.https_port(), u32::from),
            }),
            port_automatic: self.settings.port_is_automatic(),
            https_port_automatic: self.settings.https_port_is_automatic(),
            generation: self.generation,
            continuing,
            open_connections: connections.len(),
            error: self.error.clone(),
            access_log: self.log.as_ref().map(AccessLog::stats),
        }
    }

    pub(crate) fn name(&self) -> String {
        match &self.root {
            None => "Welcome".to_owned(),
            Some(root) => root.file_name().map_or_else(
                || root.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            ),
        }
    }

    /// The port new connections arrive on, while running.
    fn port_in_use(&self) -> Option<u16> {
        self.server
            .as_ref()
            .map(|server| server.local_addr().port())
    }

    /// Where HTTPS is served, while running with HTTPS on.
    fn https_info(&self) -> Option<HttpsInfo> {
        self.server.as_ref().and_then(ServerHandle::https)
    }

    /// The site's local address while running, e.g. `http://127.0.0.1:43127/`.
    ///
    /// # Errors
    /// [`SiteError::NotRunning`] when stopped.
    pub fn url(&self) -> Result<String, SiteError> {
        self.port_in_use()
            .map(local_url)
            .ok_or(SiteError::NotRunning)
    }

    /// The open connections and the admission counters; empty while stopped.
    pub fn connections(&self) -> (Vec<ConnectionInfo>, Option<Admission>) {
        match &self.server {
            Some(server) => (server.connections(), Some(server.admission())),
            None => (Vec::new(), None),
        }
    }

    /// Cuts connection `id`. False if it is already gone (or the site is stopped).
    pub fn close_connection(&self, id: u64) -> bool {
        self.server
            .as_ref()
            .is_some_and(|server| server.close_connection(id))
    }

    /// Starts serving, on the port it had before when it is automatic (another free one if
    /// that one has been taken meanwhile). The access log is created at the first start.
    ///
    /// # Errors
    /// [`SiteError::Start`] if the port cannot be bound, or [`SiteError::Config`] if the
    /// folder or settings are refused; the site stays stopped and shows the error.
    pub async fn start(&mut self) -> Result<(), SiteError> {
        self.reap_handed_over();
        self.wanted = true;
        if self.server.is_some() {
            return Ok(());
        }
        let result = self.bind().await;
        self.error = result.as_ref().err().map(ToString::to_string);
        result
    }

    async fn bind(&mut self) -> Result<(), SiteError> {
        let mut ports = self.remembered_ports(&self.settings, None, None);
        let log = self.open_log();
        // A remembered automatic port taken meanwhile gives way to another free one.
        let started = loop {
            let draft = self.draft(&self.settings, self.root(), self.lan, ports);
            // The site's generation carries on across stops and starts.
            let config = ServerConfig::try_from(draft)
                .map_err(SiteError::Config)?
                .following(self.generation.saturating_sub(1));
            match ServerHandle::start_logged(config, log.clone()).await {
                Err(StartError::PortInUse { .. })
                    if self.settings.port_is_automatic() && ports.http != 0 =>
                {
                    ports.http = 0;
                }
                Err(StartError::HttpsBind(err))
                    if matches!(*err, StartError::PortInUse { .. })
                        && self.settings.https
                        && self.settings.https_port_is_automatic()
                        && ports.https != 0 =>
                {
                    ports.https = 0;
                }
                other => break other,
            }
        };
        let server = started.map_err(SiteError::Start)?;
        self.server = Some(server);
        self.follow();
        self.remember_ports();
        Ok(())
    }

    /// The ports to ask for with `settings`: each chosen one, else the automatic one in use
    /// (`http_in_use`, `https_in_use`: the ports the running server asked for, so its
    /// listeners stay), else the one remembered, else 0. A remembered port never collides
    /// with one chosen by hand: it gives way to a free one.
    fn remembered_ports(
        &self,
        settings: &SiteDraft,
        http_in_use: Option<u16>,
        https_in_use: Option<u16>,
    ) -> Ports {
        let pick = |chosen: u32, in_use: Option<u16>, remembered: Option<u16>| match chosen {
            0 => in_use.or(remembered).map_or(0, u32::from),
            chosen => chosen,
        };
        let mut ports = Ports {
            http: pick(settings.port(), http_in_use, self.last_port),
            https: pick(settings.https_port(), https_in_use, self.last_https_port),
        };
        if settings.https && ports.http == ports.https && ports.http != 0 {
            if settings.https_port_is_automatic() {
                ports.https = 0;
            } else if settings.port_is_automatic() {
                ports.http = 0;
            }
        }
        ports
    }

    /// `settings`' draft for this site's certificate folder.
    fn draft(&self, settings: &SiteDraft, root: &Path, lan: bool, ports: Ports) -> ConfigDraft {
        settings.core_draft(root, lan, ports, self.cert_dir.as_deref())
    }

    /// Keeps the automatic ports the server listens on, to ask for them again at the next
    /// start.
    fn remember_ports(&mut self) {
        let Some(server) = &self.server else {
            return;
        };
        if self.settings.port_is_automatic() {
            self.last_port = Some(server.local_addr().port());
        }
        if self.settings.https_port_is_automatic() {
            if let Some(https) = server.https() {
                self.last_https_port = Some(https.local_addr.port());
            }
        }
    }

    /// The site's access log, created on first use: one session per app run.
    fn open_log(&mut self) -> Option<AccessLog> {
        if self.log.is_none() {
            let settings = LogSettings {
                dir: self.log_dir.clone(),
                ..LogSettings::default()
            };
            match AccessLog::start(settings) {
                Ok(log) => self.log = Some(log),
                // The site still serves; the window shows no log counters.
                Err(err) => tracing::error!(site = %self.id, "cannot create the access log: {err}"),
            }
        }
        self.log.clone()
    }

    /// Stops accepting at once; the returned [`Stopping`] lets transfers finish.
    pub fn stop(&mut self) -> Stopping {
        self.reap_handed_over();
        self.wanted = false;
        self.error = None;
        Stopping(self.take_server())
    }

    /// Stops for the app's exit, keeping `wanted` so the site starts again next time.
    pub fn shut_down(&mut self) -> Stopping {
        Stopping(self.take_server())
    }

    /// Makes `settings` the site's settings. On a running site they go through
    /// `ServerHandle::apply`: new connections get a new generation, transfers in flight
    /// finish on theirs. An automatic port keeps the port in use. On a stopped site they are
    /// checked and kept for the next start.
    ///
    /// # Errors
    /// [`SiteError::Apply`] or [`SiteError::Config`] naming the field at fault; nothing
    /// changes, and a running server goes on exactly as before.
    pub async fn apply(&mut self, settings: SiteDraft) -> Result<Applied, SiteError> {
        let Some(server) = &self.server else {
            let next = self.draft(&settings, self.root(), self.lan, settings.chosen_ports());
            let next = ServerConfig::try_from(next).map_err(SiteError::Config)?;
            let current = self.draft(
                &self.settings,
                self.root(),
                self.lan,
                self.settings.chosen_ports(),
            );
            let changes = ServerConfig::try_from(current)
                .map(|current| current.changes(&next))
                .unwrap_or_default();
            if !changes.is_empty() {
                self.generation += 1;
            }
            self.settings = settings;
            return Ok(Applied {
                generation: self.generation,
                changes,
                continuing: Vec::new(),
                applied: false,
            });
        };
        // Automatic, or pinned to the port already in use: the listener stays. Asking the
        // core for the bound port by number would make it bind that port a second time.
        let running = server.config();
        let mut asked = settings.clone();
        if asked.port() == u32::from(server.local_addr().port()) {
            asked.server.port = Some(0);
        }
        let https_bound = server.https().map(|https| https.local_addr.port());
        if https_bound.is_some_and(|bound| asked.https_port() == u32::from(bound)) {
            asked.server.https_port = Some(0);
        }
        let mut ports = self.remembered_ports(&asked, Some(*running.port()), *running.https_port());
        let report = loop {
            let draft = self.draft(&settings, self.root(), self.lan, ports);
            match server.apply(draft).await {
                // HTTPS turned on, and its remembered automatic port is taken meanwhile.
                Err(ApplyError::Bind {
                    error: StartError::HttpsBind(err),
                    ..
                }) if matches!(*err, StartError::PortInUse { .. })
                    && settings.https_port_is_automatic()
                    && ports.https != 0 =>
                {
                    ports.https = 0;
                }
                other => break other.map_err(SiteError::Apply)?,
            }
        };
        self.generation = report.generation;
        self.settings = settings;
        self.remember_ports();
        Ok(Applied {
            generation: report.generation,
            changes: report.changes,
            continuing: report.continuing,
            applied: true,
        })
    }

    /// Serves another folder, on the same port. A stopped site stays stopped.
    ///
    /// # Errors
    /// [`SiteError::Apply`] or [`SiteError::Config`] on field `root` if it is not a folder;
    /// nothing changes.
    pub async fn set_root(&mut self, root: &Path) -> Result<PathBuf, SiteError> {
        let canonical = match &self.server {
            Some(server) => {
                let report = server.set_root(root).await.map_err(SiteError::Apply)?;
                self.generation = report.generation;
                server.config().root().clone()
            }
            None => {
                let draft =
                    self.draft(&self.settings, root, self.lan, self.settings.chosen_ports());
                let config = ServerConfig::try_from(draft).map_err(SiteError::Config)?;
                self.generation += 1;
                config.root().clone()
            }
        };
        self.root = Some(canonical.clone());
        Ok(canonical)
    }

    /// Shares the site on the network (every address, 0.0.0.0) or only on this computer
    /// (127.0.0.1), on the same port, through an apply so transfers in flight continue.
    ///
    /// The OS will not let a listener on 0.0.0.0:P coexist with one on 127.0.0.1:P (Linux
    /// refuses either order), so the core's bind-new-first apply fails on the site's own
    /// port. The site then hands over: the old server stops accepting and finishes its
    /// transfers in the background, and a new one binds the same port on the new address.
    /// Clients still queued in the old listener's backlog at that moment are reset.
    ///
    /// # Errors
    /// [`SiteError::Apply`] if the new address is refused (the server goes on), or
    /// [`SiteError::Start`] if the handover could not bind (the site is then stopped).
    pub async fn set_lan(&mut self, lan: bool) -> Result<(), SiteError> {
        self.reap_handed_over();
        let Some(server) = &self.server else {
            self.lan = lan;
            return Ok(());
        };
        if lan == self.lan {
            return Ok(());
        }
        let bound = server.local_addr().port();
        let https_bound = server.https().map(|https| https.local_addr.port());
        let ports = Ports {
            http: u32::from(bound),
            https: https_bound.map_or_else(
                || self.remembered_ports(&self.settings, None, None).https,
                u32::from,
            ),
        };
        let draft = self.draft(&self.settings, self.root(), lan, ports);
        match server.apply(draft.clone()).await {
            Ok(report) => self.generation = report.generation,
            Err(ApplyError::Bind { error, .. }) if holds_port(&error, bound, https_bound) => {
                self.hand_over(draft).await?;
            }
            Err(err) => return Err(SiteError::Apply(err)),
        }
        self.lan = lan;
        Ok(())
    }

    async fn hand_over(&mut self, draft: ConfigDraft) -> Result<(), SiteError> {
        let config = ServerConfig::try_from(draft)
            .map_err(SiteError::Config)?
            .following(self.generation);
        if let Some(old) = self.server.take() {
            self.handed_over.spawn(old.stop(HANDOVER_GRACE));
        }
        let deadline = tokio::time::Instant::now() + HANDOVER_BIND_WAIT;
        let started = loop {
            // The old listener closes as soon as its accept loop has seen the stop.
            match ServerHandle::start_logged(config.clone(), self.log.clone()).await {
                Err(err) if is_port_in_use(&err) && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                other => break other,
            }
        };
        match started {
            Ok(server) => {
                self.generation = server.config().generation();
                self.server = Some(server);
                self.follow();
                Ok(())
            }
            Err(err) => {
                self.error = Some(err.to_string());
                Err(SiteError::Start(err))
            }
        }
    }

    fn reap_handed_over(&mut self) {
        while self.handed_over.try_join_next().is_some() {}
    }
}

/// Whether `err` is the server's own port (`bound`, or `https_bound` for HTTPS) refusing a
/// second listener on another address.
fn holds_port(err: &StartError, bound: u16, https_bound: Option<u16>) -> bool {
    match err {
        StartError::PortInUse { port } => *port == bound,
        StartError::HttpsBind(err) => {
            matches!(**err, StartError::PortInUse { port } if Some(port) == https_bound)
        }
        _ => false,
    }
}

fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ListItem;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use wharf_core::config::CustomHeaderDraft;

    pub(crate) fn site_dir(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), text).unwrap();
        dir
    }

    /// `GET path` on a fresh connection, returning the whole response.
    pub(crate) async fn fetch(url: &str, path: &str) -> String {
        let authority = url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = TcpStream::connect(authority).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        String::from_utf8_lossy(&response).into_owned()
    }

    /// A download of `big.bin` held after its first bytes: the server is mid-body, blocked
    /// on a full socket, until [`Download::finish`] reads the rest.
    pub(crate) struct Download {
        stream: TcpStream,
        received: usize,
    }

    pub(crate) const BIG: usize = 32 * 1024 * 1024;

    pub(crate) fn with_big_file(dir: &tempfile::TempDir) {
        std::fs::write(dir.path().join("big.bin"), vec![b'x'; BIG]).unwrap();
    }

    impl Download {
        pub(crate) async fn begin(url: &str) -> Download {
            let authority = url.trim_start_matches("http://").trim_end_matches('/');
            let mut stream = TcpStream::connect(authority).await.unwrap();
            let request = format!(
                "GET /big.bin HTTP/1.1\r\nHost: {authority}\r\nAccept-Encoding: identity\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut buffer = vec![0; 64 * 1024];
            let received = stream.read(&mut buffer).await.unwrap();
            assert!(received > 0);
            Download { stream, received }
        }

        /// Reads to the end of the body and returns the bytes received, head included.
        pub(crate) async fn finish(mut self) -> usize {
            let mut buffer = vec![0; 1024 * 1024];
            loop {
                match self.stream.read(&mut buffer).await.unwrap() {
                    0 => return self.received,
                    n => self.received += n,
                }
                if self.received >= BIG {
                    // Keep-alive: the server keeps the connection; the body is all here.
                    return self.received;
                }
            }
        }
    }

    fn welcome(dir: &tempfile::TempDir) -> Site {
        Site::new("welcome".into(), None, folders(dir.path(), None))
    }

    /// The folders of a test site serving from `welcome`, with no log on disk and its
    /// certificate in `certs`.
    pub(crate) fn folders(welcome: &Path, certs: Option<&Path>) -> SiteFolders {
        SiteFolders {
            welcome: welcome.canonicalize().unwrap(),
            log_dir: None,
            cert_dir: certs.map(Path::to_path_buf),
        }
    }

    fn folder(dir: &tempfile::TempDir) -> Site {
        let root = dir.path().canonicalize().unwrap();
        Site::new("s1".into(), Some(root), folders(dir.path(), None))
    }

    /// Waits until `done` holds, polling; for counters that settle asynchronously.
    pub(crate) async fn eventually(mut done: impl FnMut() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not met within 5 s");
    }

    #[tokio::test]
    async fn an_automatic_port_is_kept_across_stop_and_start_and_replaced_when_taken() {
        let dir = site_dir("welcome page");
        let mut site = welcome(&dir);
        site.start().await.unwrap();
        let status = site.status(&[]);
        assert!(status.running && status.is_welcome && status.port_automatic);
        assert_eq!(status.name, "Welcome");
        let url = status.url.unwrap();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(fetch(&url, "/").await.contains("welcome page"));
        let port = status.settings.port();
        assert_ne!(port, 0, "the form shows the port in use");

        site.stop().finish().await;
        assert!(!site.status(&[]).running);
        assert!(matches!(site.url(), Err(SiteError::NotRunning)));
        assert_eq!(site.status(&[]).settings.port(), port, "remembered");
        site.start().await.unwrap();
        assert_eq!(site.url().unwrap(), url, "same port after restart");

        site.stop().finish().await;
        let squatter = std::net::TcpListener::bind(("127.0.0.1", port as u16)).unwrap();
        site.start().await.unwrap();
        let moved = site.url().unwrap();
        assert_ne!(moved, url, "another free port");
        assert!(fetch(&moved, "/").await.contains("welcome page"));
        drop(squatter);
        assert!(site.record().running);
        assert_eq!(site.record().settings.port(), 0, "saved as automatic");
    }

    #[tokio::test]
    async fn a_fixed_port_in_use_leaves_the_site_stopped_with_the_reason() {
        let dir = site_dir("page");
        let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = squatter.local_addr().unwrap().port();
        let mut site = folder(&dir);
        let settings = SiteDraft {
            server: ConfigDraft {
                port: Some(port.into()),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let applied = site.apply(settings).await.unwrap();
        assert!(!applied.applied);
        let err = site.start().await.unwrap_err();
        assert!(matches!(
            err,
            SiteError::Start(StartError::PortInUse { .. })
        ));
        assert_eq!(err.field(), Some("port"));
        let status = site.status(&[]);
        assert!(!status.running);
        assert_eq!(status.error.as_deref(), Some(err.to_string().as_str()));
        assert!(
            site.record().running,
            "still wanted: retried at the next launch"
        );

        drop(squatter);
        site.start().await.unwrap();
        assert_eq!(site.url().unwrap(), format!("http://127.0.0.1:{port}/"));
        assert_eq!(site.status(&[]).error, None);
    }

    #[tokio::test]
    async fn settings_apply_to_new_connections_while_a_transfer_continues() {
        let dir = site_dir("page");
        with_big_file(&dir);
        let mut site = folder(&dir);
        site.start().await.unwrap();
        let url = site.url().unwrap();
        let download = Download::begin(&url).await;
        eventually(|| site.status(&[]).open_connections == 1).await;

        let settings = SiteDraft {
            server: ConfigDraft {
                cache_control: Some("max-age=60".into()),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let applied = site.apply(settings.clone()).await.unwrap();
        assert!(applied.applied);
        assert_eq!(applied.generation, 2);
        assert_eq!(applied.changes.len(), 1, "{:?}", applied.changes);
        assert_eq!(applied.changes[0].field, "cacheControl");
        assert_eq!(applied.continuing, [(1, 1)]);
        let status = site.status(&[]);
        assert_eq!(
            status.url.as_deref(),
            Some(url.as_str()),
            "automatic port kept"
        );
        assert_eq!(status.continuing, [(1, 1)], "live");
        assert_eq!(
            status.settings.server.cache_control.as_deref(),
            Some("max-age=60")
        );
        assert!(fetch(&url, "/").await.contains("max-age=60"));

        assert!(download.finish().await > BIG, "the transfer was not cut");
        eventually(|| site.status(&[]).continuing.is_empty()).await;

        // Pinning the port in use keeps the listener; nothing but the port choice changes.
        let pinned = SiteDraft {
            server: ConfigDraft {
                port: Some(site.status(&[]).settings.port()),
                ..settings.server
            },
            ..settings
        };
        let applied = site.apply(pinned.clone()).await.unwrap();
        assert!(applied.changes.is_empty(), "{:?}", applied.changes);
        assert!(!site.status(&[]).port_automatic);
        assert_eq!(site.url().unwrap(), url);
    }

    /// One count of transfers in flight, the core's: a page's live-reload stream is "sending"
    /// forever, yet it ends as soon as a generation applies, so it is no transfer that
    /// continues. Read before the stream's connection task has run again (one thread).
    #[tokio::test]
    async fn a_live_reload_stream_is_no_transfer_in_flight_after_an_apply() {
        let dir = site_dir("<html><body>page</body></html>");
        let mut site = folder(&dir);
        site.start().await.unwrap();
        let url = site.url().unwrap();
        let authority = url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = TcpStream::connect(authority).await.unwrap();
        let request = format!(
            "GET /__wharf/reload HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut received = Vec::new();
        while !String::from_utf8_lossy(&received).contains("hello") {
            let mut chunk = [0; 1024];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the stream opens");
            received.extend_from_slice(&chunk[..n]);
        }
        let status = site.status(&[]);
        assert_eq!(status.open_connections, 1);
        assert_eq!(
            site.connections().0[0].state,
            wharf_core::ConnectionState::Sending
        );

        let settings = SiteDraft {
            server: ConfigDraft {
                keep_alive: Some(false),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let applied = site.apply(settings).await.unwrap();
        assert_eq!(applied.generation, 2);
        assert_eq!(applied.continuing, []);
        let status = site.status(&[]);
        assert_eq!(status.open_connections, 1, "the stream has not ended yet");
        assert_eq!(status.continuing, [], "a live-reload stream is no transfer");
        site.stop().finish().await;
    }

    #[tokio::test]
    async fn refused_settings_change_nothing() {
        let dir = site_dir("page");
        let mut site = folder(&dir);
        site.start().await.unwrap();
        let before = site.status(&[]);
        let bad = SiteDraft {
            server: ConfigDraft {
                keep_alive_idle_timeout_ms: Some(0),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let err = site.apply(bad.clone()).await.unwrap_err();
        assert_eq!(err.field(), Some("keepAliveIdleTimeoutMs"), "{err}");
        assert_eq!(site.status(&[]), before);

        let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let taken = SiteDraft {
            server: ConfigDraft {
                port: Some(squatter.local_addr().unwrap().port().into()),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let err = site.apply(taken).await.unwrap_err();
        assert!(
            matches!(err, SiteError::Apply(ApplyError::Bind { .. })),
            "{err}"
        );
        assert_eq!(err.field(), Some("port"));
        assert_eq!(site.status(&[]), before);

        site.stop().finish().await;
        let err = site.apply(bad).await.unwrap_err();
        assert_eq!(
            err.field(),
            Some("keepAliveIdleTimeoutMs"),
            "inline while stopped too"
        );
    }

    #[test]
    fn default_settings_are_the_cores_defaults() {
        let dir = site_dir("page");
        let ours = SiteDraft::default().core_draft(
            dir.path(),
            false,
            SiteDraft::default().chosen_ports(),
            None,
        );
        let core = ConfigDraft {
            root: Some(dir.path().to_path_buf()),
            port: Some(0),
            ..ConfigDraft::default()
        };
        assert_eq!(
            ServerConfig::try_from(ours).unwrap(),
            ServerConfig::try_from(core).unwrap()
        );
    }

    /// `GET path` with `Accept: text/html`, as a browser navigates.
    async fn navigate(url: &str, path: &str) -> String {
        let authority = url.trim_start_matches("http://").trim_end_matches('/');
        navigate_as(url, path, authority).await
    }

    /// [`navigate`] with `Host: host`.
    async fn navigate_as(url: &str, path: &str, host: &str) -> String {
        let authority = url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = TcpStream::connect(authority).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n\
             Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        String::from_utf8_lossy(&response).to_ascii_lowercase()
    }

    #[tokio::test]
    async fn routing_header_and_reload_settings_reach_the_server() {
        let dir = site_dir("<html><body>home</body></html>");
        std::fs::write(dir.path().join("about.html"), "about page").unwrap();
        let mut site = folder(&dir);
        site.start().await.unwrap();
        let url = site.url().unwrap();
        let home = navigate(&url, "/").await;
        assert!(
            home.contains("/__wharf/reload.js"),
            "live reload is on by default"
        );
        assert!(!home.contains("access-control-allow-origin"));
        assert!(navigate(&url, "/about").await.starts_with("http/1.1 404"));

        let settings = SiteDraft {
            server: ConfigDraft {
                spa_fallback: Some(true),
                clean_urls: Some(true),
                drop_html_extension: Some(true),
                cors: Some(true),
                cross_origin_isolation: Some(true),
                custom_headers: Some(vec![CustomHeaderDraft {
                    path: "/**".into(),
                    name: "X-Wharf-Test".into(),
                    value: "yes".into(),
                }]),
                live_reload: Some(false),
                reload_ignore: Some(vec!["*.tmp".into()]),
                allowed_hosts: Some(vec!["dev.test".into()]),
                cors_origins: Some(vec!["https://app.example.test".into()]),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        assert!(navigate_as(&url, "/", "dev.test")
            .await
            .starts_with("http/1.1 403"));
        let applied = site.apply(settings.clone()).await.unwrap();
        let changed: Vec<_> = applied.changes.iter().map(|change| change.field).collect();
        assert_eq!(
            changed,
            [
                "spaFallback",
                "cleanUrls",
                "dropHtmlExtension",
                "cors",
                "crossOriginIsolation",
                "customHeaders",
                "liveReload",
                "reloadIgnore",
                "allowedHosts",
                "corsOrigins"
            ]
        );
        let shown = site.status(&[]).settings;
        // What the window shows: the settings applied, every other one at its default, the
        // automatic port as the one in use.
        let ports = Ports {
            http: shown.port(),
            https: 0,
        };
        assert_eq!(shown, settings.shown(ports));
        assert_eq!(site.record().settings, settings);

        let home = navigate(&url, "/").await;
        assert!(!home.contains("/__wharf/reload.js"), "{home}");
        assert!(home.contains("vary: origin"), "{home}");
        assert!(navigate_as(&url, "/", "dev.test")
            .await
            .starts_with("http/1.1 200"));
        assert!(home.contains("cross-origin-opener-policy: same-origin"));
        assert!(home.contains("x-wharf-test: yes"));
        assert!(navigate(&url, "/about").await.contains("about page"));
        assert!(navigate(&url, "/about.html")
            .await
            .starts_with("http/1.1 301"));
        let fallback = navigate(&url, "/app/route").await;
        assert!(fallback.starts_with("http/1.1 200") && fallback.contains("home"));
    }

    #[tokio::test]
    async fn a_refused_list_item_is_named_by_index_and_member() {
        let dir = site_dir("page");
        let mut site = folder(&dir);
        site.start().await.unwrap();
        let before = site.status(&[]);
        let row = |path: &str, name: &str| CustomHeaderDraft {
            path: path.into(),
            name: name.into(),
            value: "1".into(),
        };
        let headers = SiteDraft {
            server: ConfigDraft {
                custom_headers: Some(vec![row("/**", "X-Fine"), row("/a/*", "Bad Name")]),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let err = site.apply(headers).await.unwrap_err();
        assert_eq!(err.field(), Some("customHeaders"));
        assert_eq!(
            err.list_item(),
            Some(ListItem {
                index: 1,
                member: Some("name")
            }),
            "{err}"
        );
        assert_eq!(site.status(&[]), before);

        let globs = SiteDraft {
            server: ConfigDraft {
                reload_ignore: Some(vec!["ok/**".into(), "a[".into()]),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let err = site.apply(globs).await.unwrap_err();
        assert_eq!(err.field(), Some("reloadIgnore"));
        assert_eq!(
            err.list_item(),
            Some(ListItem {
                index: 1,
                member: None
            })
        );

        let hosts = SiteDraft {
            server: ConfigDraft {
                allowed_hosts: Some(vec!["ok.test".into(), "http://x.test".into()]),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let err = site.apply(hosts).await.unwrap_err();
        assert_eq!(err.field(), Some("allowedHosts"));
        assert_eq!(
            err.list_item(),
            Some(ListItem {
                index: 1,
                member: None
            })
        );

        let drop_alone = SiteDraft {
            server: ConfigDraft {
                drop_html_extension: Some(true),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let err = site.apply(drop_alone).await.unwrap_err();
        assert_eq!(err.field(), Some("dropHtmlExtension"));
        assert_eq!(err.list_item(), None);
        assert_eq!(site.status(&[]), before);
    }

    #[tokio::test]
    async fn settings_saved_while_stopped_apply_at_the_next_start() {
        let dir = site_dir("page");
        let mut site = folder(&dir);
        let settings = SiteDraft {
            server: ConfigDraft {
                directory_listing: Some(false),
                ..ConfigDraft::default()
            },
            ..SiteDraft::default()
        };
        let applied = site.apply(settings.clone()).await.unwrap();
        assert!(!applied.applied);
        assert_eq!(applied.generation, 2);
        assert_eq!(applied.changes[0].field, "directoryListing");
        assert_eq!(site.record().settings, settings);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        site.start().await.unwrap();
        assert_eq!(site.status(&[]).generation, 2);
        assert!(fetch(&site.url().unwrap(), "/sub/")
            .await
            .starts_with("HTTP/1.1 404"));
    }

    #[tokio::test]
    async fn another_folder_is_served_on_the_same_port_and_a_bad_one_is_refused() {
        let welcome_dir = site_dir("welcome page");
        let mine = site_dir("my site");
        let mut site = welcome(&welcome_dir);
        site.start().await.unwrap();
        let url = site.url().unwrap();
        let before = site.status(&[]);
        let err = site
            .set_root(Path::new("/no/such/folder"))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("root"));
        assert_eq!(site.status(&[]), before);

        site.set_root(mine.path()).await.unwrap();
        let status = site.status(&[]);
        assert!(!status.is_welcome);
        assert_eq!(status.url.as_deref(), Some(url.as_str()));
        assert_eq!(
            status.name,
            mine.path().file_name().unwrap().to_string_lossy()
        );
        assert!(fetch(&url, "/").await.contains("my site"));

        site.stop().finish().await;
        site.set_root(welcome_dir.path()).await.unwrap();
        assert!(!site.status(&[]).running, "a stopped site stays stopped");
    }

    #[tokio::test]
    async fn the_lan_toggle_keeps_the_port_and_lets_a_transfer_finish() {
        let dir = site_dir("page");
        with_big_file(&dir);
        let mut site = folder(&dir);
        site.start().await.unwrap();
        let url = site.url().unwrap();
        let download = Download::begin(&url).await;

        let address = Ipv4Addr::new(192, 168, 1, 20);
        site.set_lan(true).await.unwrap();
        let status = site.status(&[address]);
        assert!(status.lan && status.running);
        assert_eq!(status.url.as_deref(), Some(url.as_str()), "same port");
        let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
        assert_eq!(status.lan_urls, [format!("http://192.168.1.20:{port}/")]);
        assert!(status.generation > 1);
        assert!(site.record().lan);
        assert!(fetch(&url, "/").await.contains("page"));
        assert!(download.finish().await > BIG, "the transfer was not cut");

        site.set_lan(false).await.unwrap();
        let status = site.status(&[address]);
        assert!(!status.lan && status.lan_urls.is_empty());
        assert_eq!(status.url.as_deref(), Some(url.as_str()));
        assert!(fetch(&url, "/").await.contains("page"));

        site.stop().finish().await;
        site.set_lan(true).await.unwrap();
        site.start().await.unwrap();
        assert_eq!(site.url().unwrap(), url);
        assert_eq!(site.status(&[address]).lan_urls.len(), 1);
    }

    #[tokio::test]
    async fn one_log_session_across_stops_and_starts() {
        let dir = site_dir("page");
        let logs = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let mut site = Site::new(
            "s1".into(),
            Some(root.clone()),
            SiteFolders {
                welcome: root,
                log_dir: Some(logs.path().join("s1")),
                cert_dir: None,
            },
        );
        assert!(
            site.status(&[]).access_log.is_none(),
            "created at first start"
        );
        site.start().await.unwrap();
        fetch(&site.url().unwrap(), "/").await;
        site.stop().finish().await;
        site.start().await.unwrap();
        fetch(&site.url().unwrap(), "/").await;

        let log = site.log().unwrap().clone();
        tokio::task::spawn_blocking(move || log.sync())
            .await
            .unwrap();
        let stats = site.status(&[]).access_log.unwrap();
        assert_eq!((stats.logged, stats.lost), (2, 0));
        let sessions = wharf_core::sessions(&logs.path().join("s1")).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(Some(&sessions[0].manifest.id), stats.session.as_ref());
    }

    /// A TLS client that trusts only the certificate in `certs/cert.pem`, offering `alpn`.
    fn tls_client(certs: &Path, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
        use rustls::pki_types::pem::PemObject;
        let der = rustls::pki_types::CertificateDer::from_pem_file(certs.join("cert.pem")).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
    }

    /// A TLS connection to `url` (`https://127.0.0.1:PORT/`) verified against `certs` alone.
    async fn tls_connect(
        url: &str,
        certs: &Path,
        alpn: &[&[u8]],
    ) -> tokio_rustls::client::TlsStream<TcpStream> {
        let authority = url.trim_start_matches("https://").trim_end_matches('/');
        let tcp = TcpStream::connect(authority).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        tls_client(certs, alpn).connect(name, tcp).await.unwrap()
    }

    /// `GET path` over HTTPS/1.1, returning the whole response and the SHA-256 of the
    /// certificate the server presented, as `AB:CD:...`.
    async fn fetch_tls(url: &str, path: &str, certs: &Path) -> (String, String) {
        use sha2::Digest;
        let mut stream = tls_connect(url, certs, &[b"http/1.1"]).await;
        let presented = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
        let digest = sha2::Sha256::digest(presented.as_ref());
        let fingerprint: Vec<String> = digest.iter().map(|byte| format!("{byte:02X}")).collect();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        // A server may end TLS without close_notify once the response is sent.
        let _ = stream.read_to_end(&mut response).await;
        (
            String::from_utf8_lossy(&response).into_owned(),
            fingerprint.join(":"),
        )
    }

    fn https_site(id: &str, dir: &tempfile::TempDir, certs: &Path) -> Site {
        let root = dir.path().canonicalize().unwrap();
        Site::new(id.into(), Some(root), folders(dir.path(), Some(certs)))
    }

    fn https_on() -> SiteDraft {
        SiteDraft {
            https: true,
            ..SiteDraft::default()
        }
    }

    #[tokio::test]
    async fn https_serves_beside_http_with_one_certificate_for_every_site_and_every_start() {
        let data = tempfile::tempdir().unwrap();
        let certs = data.path().join("certs");
        let (dir_a, dir_b) = (site_dir("page a"), site_dir("page b"));
        let mut a = https_site("a", &dir_a, &certs);
        assert!(!a.apply(https_on()).await.unwrap().applied);
        a.start().await.unwrap();
        let status = a.status(&[]);
        let https = status.https.clone().expect("serving HTTPS");
        assert!(status.settings.https && status.https_port_automatic);
        let port = status.settings.https_port();
        assert_eq!(https.url, format!("https://127.0.0.1:{port}/"));
        assert_ne!(status.settings.port(), port, "two ports side by side");
        assert!(https.lan_urls.is_empty(), "not shared");
        assert!(fetch(&a.url().unwrap(), "/").await.contains("page a"));
        let (response, presented) = fetch_tls(&https.url, "/", &certs).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("page a"));
        assert_eq!(https.fingerprint, presented, "the certificate presented");
        let h2 = tls_connect(&https.url, &certs, &[b"h2", b"http/1.1"]).await;
        assert_eq!(
            h2.get_ref().1.alpn_protocol(),
            Some(&b"h2"[..]),
            "HTTP/2 by ALPN"
        );

        let mut b = https_site("b", &dir_b, &certs);
        b.apply(https_on()).await.unwrap();
        b.start().await.unwrap();
        let b_https = b.status(&[]).https.unwrap();
        assert_ne!(b_https.url, https.url);
        assert_eq!(b_https.fingerprint, https.fingerprint, "one certificate");
        assert!(fetch_tls(&b_https.url, "/", &certs)
            .await
            .0
            .contains("page b"));

        a.stop().finish().await;
        assert!(a.status(&[]).https.is_none());
        assert_eq!(a.status(&[]).settings.https_port(), port, "remembered");
        a.start().await.unwrap();
        let again = a.status(&[]).https.unwrap();
        assert_eq!(again, https, "same port and certificate after a restart");
        assert_eq!(a.record().last_https_port, u16::try_from(port).ok());
        assert_eq!(a.record().settings.https_port(), 0, "saved as automatic");

        // Sharing on the network hands both listeners over, on the same ports. The
        // certificate may be remade to name this machine's addresses: trust the file anew.
        a.set_lan(true).await.unwrap();
        let address = Ipv4Addr::new(192, 168, 1, 20);
        let shared = a.status(&[address]).https.unwrap();
        assert_eq!(shared.url, https.url);
        assert_eq!(shared.lan_urls, [format!("https://192.168.1.20:{port}/")]);
        let (response, presented) = fetch_tls(&shared.url, "/", &certs).await;
        assert!(response.contains("page a"));
        assert_eq!(shared.fingerprint, presented);

        let off = SiteDraft {
            https: false,
            ..SiteDraft::default()
        };
        let applied = a.apply(off).await.unwrap();
        assert!(applied
            .changes
            .iter()
            .any(|change| change.field == "httpsPort"));
        assert!(a.status(&[]).https.is_none());
        assert!(fetch(&a.url().unwrap(), "/").await.contains("page a"));
    }

    #[tokio::test]
    async fn an_https_port_in_use_is_named_and_http_keeps_serving() {
        let data = tempfile::tempdir().unwrap();
        let certs = data.path().join("certs");
        let dir = site_dir("page");
        let mut site = https_site("s1", &dir, &certs);
        site.start().await.unwrap();
        let url = site.url().unwrap();
        let before = site.status(&[]);
        let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let taken = u32::from(squatter.local_addr().unwrap().port());
        let pinned = SiteDraft {
            server: ConfigDraft {
                https_port: Some(taken),
                ..https_on().server
            },
            ..https_on()
        };

        let err = site.apply(pinned.clone()).await.unwrap_err();
        assert_eq!(err.field(), Some("httpsPort"), "{err}");
        assert!(
            matches!(&err, SiteError::Apply(ApplyError::Bind { error, .. }) if is_port_in_use(error))
        );
        assert_eq!(site.status(&[]), before, "nothing changed");
        assert!(fetch(&url, "/").await.contains("page"), "HTTP goes on");

        site.stop().finish().await;
        site.apply(pinned).await.unwrap();
        let err = site.start().await.unwrap_err();
        assert_eq!(err.field(), Some("httpsPort"), "{err}");
        let status = site.status(&[]);
        assert!(!status.running);
        assert_eq!(status.error.as_deref(), Some(err.to_string().as_str()));

        // Automatic: a remembered HTTPS port taken meanwhile gives way to a free one.
        site.apply(https_on()).await.unwrap();
        site.start().await.unwrap();
        let port = site.status(&[]).settings.https_port();
        site.stop().finish().await;
        let squatter = std::net::TcpListener::bind(("127.0.0.1", port as u16)).unwrap();
        site.start().await.unwrap();
        let moved = site.status(&[]).https.unwrap();
        assert_ne!(moved.url, format!("https://127.0.0.1:{port}/"));
        assert!(fetch_tls(&moved.url, "/", &certs).await.0.contains("page"));
        drop(squatter);
    }

    #[tokio::test]
    async fn https_without_a_certificate_folder_is_refused_on_cert_dir() {
        let dir = site_dir("page");
        let mut site = folder(&dir);
        let err = site.apply(https_on()).await.unwrap_err();
        assert_eq!(err.field(), Some("certDir"), "{err}");
        assert!(!site.record().settings.https);
    }
}
