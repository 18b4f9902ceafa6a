//! What the window shows of a site: its status (state, addresses, ports, connections,
//! HTTPS certificate) and its local URL, read from the running server, never stored.

use std::net::Ipv4Addr;

use serde::Serialize;
use wharf_core::{AccessLog, HttpsInfo, LogStats, ServerHandle};

use super::Site;
use crate::draft::{Ports, SiteDraft};
use crate::error::SiteError;

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
    /// The site certificate's SHA-256 fingerprint as browsers show it (`AB:CD:...`); it
    /// changes when the certificate is reissued.
    pub fingerprint: String,
    /// The SHA-256 fingerprint of Wharf's local certificate authority, which signs the site's
    /// certificate: what a phone checks by eye on the CA certificate it downloads
    /// (`/__wharf/ca.crt`) before trusting it. It stays the same across reissues.
    pub ca_fingerprint: String,
}

impl Site {
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
                ca_fingerprint: https.ca_fingerprint,
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
}

fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}
