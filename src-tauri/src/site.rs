//! One site: its folder, its settings, its LAN flag, its access log and, while running, its
//! server.
//!
//! Plain Rust on top of wharf-core, with no Tauri in it, so it is tested with real sockets and
//! no window. It owns the rules a user sees per site: an automatic port (HTTP or HTTPS) is kept
//! while it stays free, new settings go through `ServerHandle::apply` (so transfers in flight
//! continue), and the LAN toggle rebinds on 0.0.0.0 or 127.0.0.1. With HTTPS on, every site
//! serves the one certificate kept in the app's certificate folder, so a phone checks a single
//! fingerprint. It saves nothing itself: `sites.rs` persists what [`Site::record`] returns.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, Notify};
use tokio::task::JoinSet;
use wharf_core::{AccessLog, LogSettings};
use wharf_core::{
    Admission, ApplyError, Change, ConfigDraft, ConnectionInfo, ServerConfig, ServerHandle,
    StartError, StopReport,
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

mod status;
pub use status::{HttpsStatus, SiteStatus};

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

#[cfg(test)]
pub(crate) mod tests;
