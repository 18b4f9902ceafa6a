//! The site list: every site of the app, their ids, the recent folders, the banner's notices,
//! and `sites.json` kept in step with all of it.
//!
//! Each operation finds a site by id, calls [`Site`], and saves on success, so the file always
//! says what the window shows. Nothing here knows about Tauri; the commands hold this behind
//! one async lock, and long waits (a stopping server's drain, an export) are handed back as
//! values to await after the lock is released.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::Notify;
use wharf_core::AccessLog;
use wharf_core::{Admission, Change, CheckOptions, ConnectionInfo, ServerConfig, Traffic};

use crate::draft::SiteDraft;
use crate::error::SiteError;
use crate::lan::{self, QrCode};
use crate::site::{Site, SiteFolders, SiteStatus, Stopping};
use crate::store::{self, StoredSite, StoredSites};

/// Recent folders kept.
const MAX_RECENTS: usize = 10;
/// The welcome site's id.
const WELCOME_ID: &str = "welcome";

/// Everything the site list needs; pushed on every change. Mirrors `AppState` in
/// `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppState {
    /// Every site, in the list's order.
    pub sites: Vec<SiteStatus>,
    /// Folders served before, newest first, at most 10.
    pub recents: Vec<String>,
    /// Messages for the banner from this app run, oldest first.
    pub notices: Vec<String>,
    /// The site a launch last asked for (see [`Sites::add_launched`]); the window selects it
    /// when `count` grows.
    pub opened: Option<Opened>,
}

/// A site opened from outside the window. Mirrors `Opened` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Opened {
    /// The site's id.
    pub id: String,
    /// Sites opened so far in this app run, this one included.
    pub count: u64,
}

/// What `apply_settings` did. Mirrors `ApplyOutcome` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyOutcome {
    /// The site after the apply.
    pub site: SiteStatus,
    /// The generation new connections get now.
    pub generation: u64,
    /// Empty when nothing changed.
    pub changes: Vec<Change>,
    /// `(generation, connections)` still finishing on older generations at the moment of apply.
    pub continuing: Vec<(u64, usize)>,
    /// Whether the site was running (false: saved, applies at the next start).
    pub applied: bool,
}

/// Where the sites keep their files.
#[derive(Debug, Clone)]
pub struct Folders {
    /// `sites.json`.
    pub store: PathBuf,
    /// Per-site access-log folders go in here (`<id>/`); `None` keeps logs in memory.
    pub logs: Option<PathBuf>,
    /// The HTTPS certificate of every site (`<data>/certs`); `None` refuses HTTPS.
    pub certs: Option<PathBuf>,
    /// The built-in welcome site's files.
    pub welcome: PathBuf,
}

/// A live view of one site for `watch_site`.
pub struct Live {
    /// Open connections, oldest first; empty while stopped.
    pub connections: Vec<ConnectionInfo>,
    /// Admission counters while running.
    pub admission: Option<Admission>,
    /// The site's access log, once it has started in this app run.
    pub log: Option<AccessLog>,
}

/// What an export of one site reads, from [`Sites::export_source`].
#[derive(Debug)]
pub struct ExportSource {
    /// The site's name, for the file's default name.
    pub site_name: String,
    /// Its log in this app run, to flush first.
    pub log: Option<AccessLog>,
    /// Its log folder.
    pub dir: PathBuf,
}

/// What a check of one site reads, from [`Sites::check_source`].
#[derive(Debug)]
pub struct CheckSource {
    /// The site's folder.
    pub root: PathBuf,
    /// As the site is served, with its log's session as live traffic.
    pub options: CheckOptions,
    /// Its log in this app run, to flush first.
    pub log: Option<AccessLog>,
}

/// Every site of the app.
#[derive(Debug)]
pub struct Sites {
    sites: Vec<Site>,
    recents: Vec<PathBuf>,
    notices: Vec<String>,
    opened: Option<Opened>,
    folders: Folders,
    /// CSV files exported this app run, export `n` at index `n - 1`: the only files
    /// `reveal_export` shows.
    exported: Vec<PathBuf>,
    /// Woken by every site's server events (see [`Sites::changes`]).
    changed: Arc<Notify>,
}

impl Sites {
    /// Loads `sites.json` (or starts afresh with the welcome site) and starts every site that
    /// was running at quit. A site that cannot start shows why; the others are unaffected.
    pub async fn open(folders: Folders) -> Sites {
        let loaded = store::load(&folders.store);
        let mut sites = Sites {
            sites: Vec::new(),
            recents: Vec::new(),
            notices: loaded.notice.into_iter().collect(),
            opened: None,
            folders,
            exported: Vec::new(),
            changed: Arc::default(),
        };
        if let Some(stored) = loaded.sites {
            sites.recents = stored.recents;
            sites.recents.truncate(MAX_RECENTS);
            for mut record in stored.sites {
                if !is_valid_id(&record.id) || sites.find(&record.id).is_some() {
                    record.id = sites.new_id();
                }
                let folders = sites.site_folders(&record.id);
                sites.push(Site::from_record(record, folders));
            }
        }
        if sites.sites.is_empty() {
            let id = if sites.find(WELCOME_ID).is_none() {
                WELCOME_ID.to_owned()
            } else {
                sites.new_id()
            };
            let folders = sites.site_folders(&id);
            let welcome = StoredSite {
                id,
                root: None,
                lan: false,
                running: true,
                settings: SiteDraft::default(),
                last_port: None,
                last_https_port: None,
            };
            sites.push(Site::from_record(welcome, folders));
        }
        for site in sites.sites.iter_mut().filter(|site| site.wanted()) {
            if let Err(err) = site.start().await {
                tracing::warn!(site = site.id(), "cannot start: {err}");
            }
        }
        sites.save();
        sites
    }

    /// Woken whenever a running server reports something the window shows and no method
    /// here changed: a connection opened or closed (so the transfers still continuing after
    /// an apply count down), a config applied, a listener rebound. One permit is kept, so a
    /// burst of events wakes a waiter once.
    pub fn changes(&self) -> Arc<Notify> {
        Arc::clone(&self.changed)
    }

    /// Adds `site` at the end of the list, reporting its server's events to `changes`.
    fn push(&mut self, mut site: Site) {
        site.report_changes_to(Arc::clone(&self.changed));
        self.sites.push(site);
    }

    /// The state the window shows.
    pub fn state(&self) -> AppState {
        let addresses = self.lan_addresses();
        AppState {
            sites: self
                .sites
                .iter()
                .map(|site| site.status(&addresses))
                .collect(),
            recents: self
                .recents
                .iter()
                .map(|root| root.display().to_string())
                .collect(),
            notices: self.notices.clone(),
            opened: self.opened.clone(),
        }
    }

    /// Asks the OS only when some site is shared.
    fn lan_addresses(&self) -> Vec<Ipv4Addr> {
        if self.sites.iter().any(Site::lan) {
            lan::ipv4_addresses()
        } else {
            Vec::new()
        }
    }

    /// The state of site `id`.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`].
    pub fn status(&self, id: &str) -> Result<SiteStatus, SiteError> {
        Ok(self.get(id)?.status(&self.lan_addresses()))
    }

    /// Adds `root` as a site and starts it on 127.0.0.1 and an automatic port; a folder that
    /// already is a site is started and returned instead of added twice. Either way it goes
    /// to the top of the recent folders.
    ///
    /// # Errors
    /// [`SiteError::Config`] on field `root` when it is not a folder. A site that is added
    /// but cannot start shows why in its `error`.
    pub async fn add(&mut self, root: &Path) -> Result<SiteStatus, SiteError> {
        let root = ServerConfig::for_root(root)
            .map_err(SiteError::Config)?
            .root()
            .clone();
        self.remember(&root);
        let index = match self
            .sites
            .iter()
            .position(|site| !site.is_welcome() && site.root() == root)
        {
            Some(index) => index,
            None => {
                let id = self.new_id();
                let folders = self.site_folders(&id);
                self.push(Site::new(id, Some(root), folders));
                self.sites.len() - 1
            }
        };
        let site = &mut self.sites[index];
        if let Err(err) = site.start().await {
            tracing::warn!(site = site.id(), "cannot start: {err}");
        }
        let id = site.id().to_owned();
        self.save();
        self.status(&id)
    }

    /// Adds each dropped folder as a site (a dropped file adds its folder). Paths that
    /// cannot be served become notices.
    pub async fn add_dropped(&mut self, paths: &[PathBuf]) {
        for path in paths {
            let folder = if path.is_dir() {
                path.as_path()
            } else {
                path.parent().unwrap_or(path)
            };
            self.add_or_notice(path, folder).await;
        }
    }

    /// Adds each folder Wharf was launched with (`wharf-desktop ~/site`, "Open with Wharf")
    /// as a site, or starts the site that already serves it, and asks the window to select
    /// the last one. Anything but a folder becomes a notice: unlike a drop, a file does not
    /// stand for its folder, as a mistyped name would then serve the folder it was typed in.
    pub async fn add_launched(&mut self, paths: &[PathBuf]) {
        for path in paths {
            if let Some(site) = self.add_or_notice(path, path).await {
                let count = self.opened.as_ref().map_or(0, |opened| opened.count) + 1;
                self.opened = Some(Opened { id: site.id, count });
            }
        }
    }

    /// [`Sites::add`]s `folder`; on failure a notice says that `path` was not added.
    async fn add_or_notice(&mut self, path: &Path, folder: &Path) -> Option<SiteStatus> {
        self.add(folder)
            .await
            .inspect_err(|err| {
                self.notices
                    .push(format!("{} was not added: {err}", path.display()));
            })
            .ok()
    }

    /// Removes site `id`, stopping it; its logs stay on disk.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`].
    pub fn remove(&mut self, id: &str) -> Result<Stopping, SiteError> {
        let index = self
            .find(id)
            .ok_or_else(|| SiteError::NoSuchSite { id: id.to_owned() })?;
        let mut site = self.sites.remove(index);
        let stopping = site.stop();
        self.save();
        Ok(stopping)
    }

    /// Starts site `id` (on its previous port when possible).
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`], or the site's start error.
    pub async fn start(&mut self, id: &str) -> Result<SiteStatus, SiteError> {
        let result = self.get_mut(id)?.start().await;
        self.save();
        result?;
        self.status(id)
    }

    /// Stops site `id`: it accepts nothing more at once; the returned [`Stopping`] lets its
    /// transfers finish.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`].
    pub fn stop(&mut self, id: &str) -> Result<(SiteStatus, Stopping), SiteError> {
        let stopping = self.get_mut(id)?.stop();
        self.save();
        Ok((self.status(id)?, stopping))
    }

    /// Serves `root` from site `id`, on the same port.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`], or field `root` when it is not a folder.
    pub async fn set_root(&mut self, id: &str, root: &Path) -> Result<SiteStatus, SiteError> {
        let root = self.get_mut(id)?.set_root(root).await?;
        self.remember(&root);
        self.save();
        self.status(id)
    }

    /// Makes `settings` site `id`'s settings (see [`Site::apply`]).
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`], or the field at fault; nothing is then saved.
    pub async fn apply(
        &mut self,
        id: &str,
        settings: SiteDraft,
    ) -> Result<ApplyOutcome, SiteError> {
        let applied = self.get_mut(id)?.apply(settings).await?;
        self.save();
        Ok(ApplyOutcome {
            site: self.status(id)?,
            generation: applied.generation,
            changes: applied.changes,
            continuing: applied.continuing,
            applied: applied.applied,
        })
    }

    /// Shares site `id` on the network, or stops sharing it.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`], or why the new address could not be bound.
    pub async fn set_lan(&mut self, id: &str, enabled: bool) -> Result<SiteStatus, SiteError> {
        let result = self.get_mut(id)?.set_lan(enabled).await;
        self.save();
        result?;
        self.status(id)
    }

    /// The QR code of site `id`'s first LAN address.
    ///
    /// # Errors
    /// [`SiteError::NotRunning`], [`SiteError::LanOff`], or [`SiteError::NoLanAddress`].
    pub fn lan_qr(&self, id: &str) -> Result<QrCode, SiteError> {
        let site = self.status(id)?;
        if !site.running {
            return Err(SiteError::NotRunning);
        }
        if !site.lan {
            return Err(SiteError::LanOff);
        }
        let url = site.lan_urls.first().ok_or(SiteError::NoLanAddress)?;
        lan::qr_code(url).map_err(|reason| SiteError::Qr { reason })
    }

    /// Site `id`'s local address.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`] or [`SiteError::NotRunning`].
    pub fn url(&self, id: &str) -> Result<String, SiteError> {
        self.get(id)?.url()
    }

    /// Cuts connection `connection` of site `id`; false if it is already gone.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`].
    pub fn close_connection(&self, id: &str, connection: u64) -> Result<bool, SiteError> {
        Ok(self.get(id)?.close_connection(connection))
    }

    /// Site `id`'s connections and log, for its live feed; `None` once it is removed.
    pub fn live(&self, id: &str) -> Option<Live> {
        let site = self.get(id).ok()?;
        let (connections, admission) = site.connections();
        Some(Live {
            connections,
            admission,
            log: site.log().cloned(),
        })
    }

    /// What an export of site `id` reads: its name (for the file's default name), its log
    /// (to flush first) and its log folder.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`], or [`SiteError::Export`] when the site keeps no log on disk.
    pub fn export_source(&self, id: &str) -> Result<ExportSource, SiteError> {
        let site = self.get(id)?;
        let dir = site.log_dir().ok_or_else(|| {
            SiteError::Export(wharf_core::ExportError::NoSessions {
                dir: PathBuf::new(),
            })
        })?;
        Ok(ExportSource {
            site_name: site.name(),
            log: site.log().cloned(),
            dir: dir.to_owned(),
        })
    }

    /// What a site check of site `id` reads: its folder, the options its saved settings
    /// serve it with (clean URLs, SPA fallback, cross-origin isolation), and this app run's
    /// session of its access log for the 404s its pages met live (with the log, to flush
    /// first). A site that has kept no log this run has no live traffic to read.
    ///
    /// # Errors
    /// [`SiteError::NoSuchSite`].
    pub fn check_source(&self, id: &str) -> Result<CheckSource, SiteError> {
        let site = self.get(id)?;
        let mut options = CheckOptions::for_settings(&site.record().settings.server);
        let log = site.log().cloned();
        let session = log.as_ref().and_then(|log| log.stats().session);
        if let (Some(log_dir), Some(session)) = (site.log_dir(), session) {
            options.traffic = Some(Traffic {
                log_dir: log_dir.to_owned(),
                session: Some(session),
            });
        }
        Ok(CheckSource {
            root: site.root().to_owned(),
            options,
            log,
        })
    }

    /// Notes a CSV written this app run, so it may be revealed; returns its export id.
    pub fn exported(&mut self, path: PathBuf) -> u64 {
        self.exported.push(path);
        self.exported.len() as u64
    }

    /// The folder holding the CSV of export `id`, written this app run.
    ///
    /// # Errors
    /// [`SiteError::NotExported`] for any other id.
    pub fn folder_of_export(&self, id: u64) -> Result<PathBuf, SiteError> {
        let path = usize::try_from(id)
            .ok()
            .and_then(|id| id.checked_sub(1))
            .and_then(|index| self.exported.get(index))
            .ok_or(SiteError::NotExported { id })?;
        Ok(path.parent().unwrap_or(path).to_owned())
    }

    /// Every site's access log, to flush at exit.
    pub fn logs(&self) -> Vec<AccessLog> {
        self.sites.iter().filter_map(Site::log).cloned().collect()
    }

    /// Takes every server out for the app's exit, leaving what is saved as it is, so the
    /// sites running now start again at the next launch.
    pub fn shut_down(&mut self) -> Vec<Stopping> {
        self.sites.iter_mut().map(Site::shut_down).collect()
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.sites.iter().position(|site| site.id() == id)
    }

    fn get(&self, id: &str) -> Result<&Site, SiteError> {
        self.sites
            .iter()
            .find(|site| site.id() == id)
            .ok_or_else(|| SiteError::NoSuchSite { id: id.to_owned() })
    }

    fn get_mut(&mut self, id: &str) -> Result<&mut Site, SiteError> {
        self.sites
            .iter_mut()
            .find(|site| site.id() == id)
            .ok_or_else(|| SiteError::NoSuchSite { id: id.to_owned() })
    }

    fn site_folders(&self, id: &str) -> SiteFolders {
        SiteFolders {
            welcome: self.folders.welcome.clone(),
            log_dir: self.folders.logs.as_ref().map(|logs| logs.join(id)),
            cert_dir: self.folders.certs.clone(),
        }
    }

    /// A new id: `s` and the time in base 36, unique in the list. Ids name log folders, so
    /// they stay plain ASCII.
    fn new_id(&self) -> String {
        let mut stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        loop {
            let id = format!("s{}", base36(stamp));
            if self.find(&id).is_none() {
                return id;
            }
            stamp += 1;
        }
    }

    fn remember(&mut self, root: &Path) {
        self.recents.retain(|recent| recent != root);
        self.recents.insert(0, root.to_owned());
        self.recents.truncate(MAX_RECENTS);
    }

    /// Writes `sites.json`; a failure becomes a notice (once per distinct reason).
    fn save(&mut self) {
        let stored = StoredSites {
            version: store::VERSION,
            sites: self.sites.iter().map(Site::record).collect(),
            recents: self.recents.clone(),
        };
        if let Err(err) = store::save(&self.folders.store, &stored) {
            let notice = format!(
                "Wharf could not save its settings to {}: {err}",
                self.folders.store.display()
            );
            tracing::error!("{notice}");
            self.notify(notice);
        }
    }

    /// Adds `notice` for the window's banner, unless it is there already.
    pub fn notify(&mut self, notice: String) {
        if !self.notices.contains(&notice) {
            self.notices.push(notice);
        }
    }
}

/// Ids loaded from the file name folders on disk, so only plain ones are accepted.
fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn base36(mut value: u128) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = Vec::new();
    loop {
        digits.push(DIGITS[(value % 36) as usize]);
        value /= 36;
        if value == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests;
