//! The site the window controls: which folder, which port, running or not.
//!
//! Plain Rust on top of wharf-core, with no Tauri in it, so it is tested without a window.
//! The commands in `commands.rs` only translate to and from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use wharf_core::access_log::{AccessLog, LogSettings, LogStats};
use wharf_core::{ApplyError, ConfigError, ServerConfig, ServerHandle, StartError};

/// How long Stop lets transfers in flight finish before closing them.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What the window shows about the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    /// Whether the server is accepting connections.
    pub running: bool,
    /// The site's address while running, e.g. `http://127.0.0.1:43127/`.
    pub url: Option<String>,
    /// The folder being served (or that will be, once started).
    pub root: String,
    /// Whether that folder is the built-in welcome site.
    pub is_welcome: bool,
    /// The config generation new connections get.
    pub generation: u64,
    /// The access log's session and counters, when requests are being logged to disk.
    pub access_log: Option<LogStats>,
}

/// Why a site operation failed.
#[derive(Debug)]
pub enum SiteError {
    /// The server could not start (port in use, ...).
    Start(StartError),
    /// The chosen folder was refused.
    Config(ConfigError),
    /// The operation needs a running server.
    NotRunning,
}

impl std::fmt::Display for SiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SiteError::Start(err) => err.fmt(f),
            SiteError::Config(err) => err.fmt(f),
            SiteError::NotRunning => f.write_str("the server is stopped; press Start first"),
        }
    }
}

impl std::error::Error for SiteError {}

/// One site: its config and, while running, its server.
#[derive(Debug)]
pub struct Site {
    config: Arc<ServerConfig>,
    server: Option<ServerHandle>,
    welcome_root: PathBuf,
    /// Every request of this app run, whichever folder or port: one durable session.
    log: Option<AccessLog>,
    /// The port was picked by the OS, so another free one is fine if it is taken later.
    port_is_automatic: bool,
}

impl Site {
    /// Starts serving the welcome site on 127.0.0.1 and a free port, logging every request
    /// in a new session under `log_dir` (when given).
    ///
    /// # Errors
    /// [`SiteError`] if the welcome folder is unusable or nothing can be bound. A log that
    /// cannot be created is reported in the log and leaves the site running without one.
    pub async fn start_welcome(
        welcome_root: &Path,
        log_dir: Option<PathBuf>,
    ) -> Result<Site, SiteError> {
        let config = ServerConfig::for_root(welcome_root).map_err(SiteError::Config)?;
        let log = log_dir.and_then(|dir| {
            AccessLog::start(LogSettings {
                dir: Some(dir.clone()),
                ..LogSettings::default()
            })
            .map_err(|err| {
                tracing::error!(dir = %dir.display(), "cannot create the access log: {err}");
            })
            .ok()
        });
        let mut site = Site {
            log,
            welcome_root: config.root.clone(),
            config: Arc::new(config),
            server: None,
            port_is_automatic: true,
        };
        site.start().await?;
        Ok(site)
    }

    /// The state the window shows.
    pub fn status(&self) -> ServerStatus {
        ServerStatus {
            running: self.server.is_some(),
            url: self.server.as_ref().map(ServerHandle::url),
            root: self.config.root.display().to_string(),
            is_welcome: self.config.root == self.welcome_root,
            generation: self.config.generation,
            access_log: self.log.as_ref().map(AccessLog::stats),
        }
    }

    /// The site's address while running.
    ///
    /// # Errors
    /// [`SiteError::NotRunning`] when stopped.
    pub fn url(&self) -> Result<String, SiteError> {
        self.server
            .as_ref()
            .map(ServerHandle::url)
            .ok_or(SiteError::NotRunning)
    }

    /// Starts the server on the port it had before, so bookmarks and open tabs keep working.
    /// An automatic port that has been taken meanwhile is replaced by another free one.
    ///
    /// # Errors
    /// [`SiteError::Start`] if the port cannot be bound; the site stays stopped.
    pub async fn start(&mut self) -> Result<(), SiteError> {
        if self.server.is_some() {
            return Ok(());
        }
        let config = ServerConfig::clone(&self.config);
        let log = self.log.clone();
        let server = match ServerHandle::start_logged(config.clone(), log.clone()).await {
            Err(StartError::PortInUse { .. }) if self.port_is_automatic => {
                ServerHandle::start_logged(ServerConfig { port: 0, ..config }, log).await
            }
            other => other,
        }
        .map_err(SiteError::Start)?;
        // Remember the real port, so Stop then Start comes back on the same address.
        self.config = Arc::new(ServerConfig {
            port: server.local_addr().port(),
            ..ServerConfig::clone(&server.config())
        });
        self.server = Some(server);
        Ok(())
    }

    /// Stops the server, letting transfers in flight finish for a moment.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop(STOP_GRACE).await;
        }
    }

    /// Serves `root` instead, on the same port. A stopped site starts, since choosing a
    /// folder means "show me this".
    ///
    /// # Errors
    /// [`SiteError::Config`] if `root` is not a folder (nothing changes), or
    /// [`SiteError::Start`] if a stopped site cannot start.
    pub async fn set_root(&mut self, root: &Path) -> Result<(), SiteError> {
        match &self.server {
            Some(server) => {
                server.set_root(root).await.map_err(|err| match err {
                    ApplyError::Config(err) => SiteError::Config(err),
                    ApplyError::Bind { error, .. } => SiteError::Start(error),
                })?;
                self.config = Arc::new(ServerConfig {
                    port: self.config.port,
                    ..ServerConfig::clone(&server.config())
                });
                Ok(())
            }
            None => {
                self.config = Arc::new(self.config.with_root(root).map_err(SiteError::Config)?);
                self.start().await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_dir(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), text).unwrap();
        dir
    }

    async fn fetch(url: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let authority = url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
        let request = format!("GET / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn welcome_then_folder_on_the_same_port_then_stop_and_start() {
        let welcome = site_dir("welcome page");
        let mine = site_dir("my site");
        let mut site = Site::start_welcome(welcome.path(), None).await.unwrap();
        let status = site.status();
        assert!(status.running && status.is_welcome);
        let url = status.url.unwrap();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(fetch(&url).await.contains("welcome page"));

        site.set_root(mine.path()).await.unwrap();
        assert_eq!(
            site.status().url.as_deref(),
            Some(url.as_str()),
            "same port"
        );
        assert!(!site.status().is_welcome);
        assert!(fetch(&url).await.contains("my site"));

        site.stop().await;
        assert!(!site.status().running);
        assert!(matches!(site.url(), Err(SiteError::NotRunning)));
        site.start().await.unwrap();
        assert_eq!(
            site.status().url.as_deref(),
            Some(url.as_str()),
            "same port after restart"
        );
        assert!(fetch(&url).await.contains("my site"));
    }

    #[tokio::test]
    async fn a_bad_folder_leaves_the_site_untouched() {
        let welcome = site_dir("welcome page");
        let mut site = Site::start_welcome(welcome.path(), None).await.unwrap();
        let before = site.status();
        let err = site
            .set_root(Path::new("/no/such/folder"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with("root: /no/such/folder"),
            "{err}"
        );
        assert_eq!(site.status(), before);
    }

    #[tokio::test]
    async fn choosing_a_folder_while_stopped_starts_serving_it() {
        let welcome = site_dir("welcome page");
        let mine = site_dir("my site");
        let mut site = Site::start_welcome(welcome.path(), None).await.unwrap();
        site.stop().await;
        site.set_root(mine.path()).await.unwrap();
        let url = site.url().unwrap();
        assert!(fetch(&url).await.contains("my site"));
    }

    #[tokio::test]
    async fn every_request_of_the_app_run_goes_to_one_log_session() {
        let welcome = site_dir("welcome page");
        let mine = site_dir("my site");
        let logs = tempfile::tempdir().unwrap();
        let mut site = Site::start_welcome(welcome.path(), Some(logs.path().to_path_buf()))
            .await
            .unwrap();
        let url = site.url().unwrap();
        fetch(&url).await;
        site.set_root(mine.path()).await.unwrap();
        fetch(&url).await;
        site.stop().await;
        site.start().await.unwrap();
        fetch(&site.url().unwrap()).await;

        let log = site.log.clone().unwrap();
        tokio::task::spawn_blocking(move || log.sync())
            .await
            .unwrap();
        let stats = site.status().access_log.unwrap();
        assert_eq!((stats.logged, stats.lost), (3, 0));
        let sessions = wharf_core::session_log::sessions(logs.path()).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(Some(&sessions[0].manifest.id), stats.session.as_ref());
    }
}
