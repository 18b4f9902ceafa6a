//! What the settings table does not say per setting: the rules between settings, which
//! listener a change rebinds, and the generation that the server (only) numbers.

use std::path::PathBuf;

use super::error::ConfigError;
use super::settings::{ConfigDraft, ServerConfig};
use crate::network::NetworkRules;

/// Which listener a change of a setting needs bound anew.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rebind {
    /// Neither: the next connection simply gets the new config.
    None,
    /// The HTTP listener.
    Http,
    /// The HTTPS listener, while HTTPS is on.
    Https,
    /// Both.
    Both,
}

impl Rebind {
    pub(crate) fn http(self) -> bool {
        matches!(self, Rebind::Http | Rebind::Both)
    }

    pub(crate) fn https(self) -> bool {
        matches!(self, Rebind::Https | Rebind::Both)
    }
}

impl ServerConfig {
    /// A config serving `root` on `127.0.0.1:0` with every other field at its default.
    ///
    /// # Errors
    /// [`ConfigError`] on field `root` if the folder does not exist or is not a directory.
    pub fn for_root(root: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        ServerConfig::try_from(ConfigDraft {
            root: Some(root.into()),
            port: Some(0),
            ..ConfigDraft::default()
        })
    }

    /// The network rules to apply: `None` when there are none or `networkConditions` is off.
    pub(crate) fn shaping(&self) -> Option<&NetworkRules> {
        (self.network_conditions && !self.network.is_empty()).then_some(&self.network)
    }

    /// Counts applied configurations, starting at 1; connections report which one they run on.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// This config as the one after generation `previous`: how a server that replaces another
    /// (the desktop app's LAN toggle) or starts again carries the count on. Only the core
    /// numbers generations; callers say which one came before.
    pub fn following(mut self, previous: u64) -> ServerConfig {
        self.generation = previous.saturating_add(1);
        self
    }

    /// Whether `next` needs another HTTPS listener (or none): HTTPS turned on or off, or, with
    /// HTTPS on, another host, requested HTTPS port or certificate folder.
    pub fn needs_https_rebind(&self, next: &ServerConfig) -> bool {
        self.https_port != next.https_port
            || (next.https_port.is_some() && self.https_bound_differs(next))
    }

    /// The rules between settings, checked once every field has passed its own check.
    pub(crate) fn consistent(&self) -> Result<(), ConfigError> {
        if let Some(https) = self.https_port {
            if https != 0 && https == self.port {
                return Err(ConfigError::new(
                    "httpsPort",
                    format!(
                        "{https} is already the HTTP port; choose another (0 picks a free one)"
                    ),
                ));
            }
            if self.cert_dir.is_none() {
                return Err(ConfigError::new(
                    "certDir",
                    "HTTPS needs a folder to keep its certificate in; choose one, \
                     e.g. a `wharf/certs` folder in your user's local data folder",
                ));
            }
        }
        if self.drop_html_extension && !self.clean_urls {
            return Err(ConfigError::new(
                "dropHtmlExtension",
                "needs cleanUrls on; without it /about would not find about.html",
            ));
        }
        Ok(())
    }
}
