//! [`SiteDraft`]: a site's settings as the form edits them and `sites.json` keeps them — the
//! core's own [`ConfigDraft`] (no mirror of it) and the one switch the core does not have,
//! `https`. Its fields sit side by side in JSON (`{ "https": true, "port": 0, ... }`), so a
//! file written before this type existed loads as it is.
//!
//! The app's rules on top of the core's draft live here too: `root`, `host` and `certDir` are
//! the site's (its folder, the LAN toggle, the app's certificate folder) whatever the draft
//! says, and a port left out or 0 is automatic: picked at the first start and kept while it
//! stays free (`site.rs`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use serde::{Deserialize, Serialize};
use wharf_core::ConfigDraft;

/// A site's settings as chosen. Fields left out take the core's defaults, but ports, which
/// are automatic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteDraft {
    /// Also serve HTTPS, beside HTTP, with a certificate from Wharf's local CA, on `httpsPort`
    /// (automatic when left out or 0). Default: off.
    #[serde(default)]
    pub https: bool,
    /// Every server setting, as the core reads it.
    #[serde(flatten)]
    pub server: ConfigDraft,
}

/// The ports asked of the core: a chosen one, a remembered automatic one, or 0 for any free
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ports {
    pub(crate) http: u32,
    pub(crate) https: u32,
}

impl SiteDraft {
    /// The HTTP port as chosen; 0 is automatic.
    pub fn port(&self) -> u32 {
        self.server.port.unwrap_or(0)
    }

    /// The HTTPS port as chosen; 0 is automatic.
    pub fn https_port(&self) -> u32 {
        self.server.https_port.unwrap_or(0)
    }

    /// Whether the port is left automatic.
    pub fn port_is_automatic(&self) -> bool {
        self.port() == 0
    }

    /// Whether the HTTPS port is left automatic.
    pub fn https_port_is_automatic(&self) -> bool {
        self.https_port() == 0
    }

    /// The ports as chosen (0: automatic), e.g. to check them.
    pub(crate) fn chosen_ports(&self) -> Ports {
        Ports {
            http: self.port(),
            https: self.https_port(),
        }
    }

    /// The core's draft for these settings, serving `root` on `ports` (on every address of
    /// the machine when `lan`), keeping the certificate in `cert_dir`.
    pub(crate) fn core_draft(
        &self,
        root: &Path,
        lan: bool,
        ports: Ports,
        cert_dir: Option<&Path>,
    ) -> ConfigDraft {
        ConfigDraft {
            root: Some(root.to_path_buf()),
            host: Some(host(lan).to_string()),
            port: Some(ports.http),
            https_port: self.https.then_some(ports.https),
            // Always the same folder, so turning HTTPS on changes `httpsPort` alone.
            cert_dir: cert_dir.map(Path::to_path_buf),
            ..self.server.clone()
        }
    }

    /// These settings as the form shows them: every setting filled in with the core's
    /// default, the ports with `http` and `https` (those in use, or the chosen ones).
    pub(crate) fn shown(&self, ports: Ports) -> SiteDraft {
        SiteDraft {
            https: self.https,
            server: ConfigDraft {
                root: None,
                host: None,
                cert_dir: None,
                port: Some(ports.http),
                https_port: Some(ports.https),
                ..self.server.clone().with_defaults()
            },
        }
    }
}

fn host(lan: bool) -> IpAddr {
    if lan {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site saved by the app before `SiteDraft` (one `SiteSettings` field per setting,
    /// `https` beside them, automatic ports as 0) loads unchanged.
    #[test]
    fn settings_saved_in_the_old_format_load() {
        let saved = r#"{
            "port": 0, "https": true, "httpsPort": 0, "keepAlive": false,
            "headerReadTimeoutMs": 10000, "keepAliveIdleTimeoutMs": 5000,
            "maxConnections": 4096, "directoryListing": true, "showDotfiles": false,
            "followSymlinks": false, "cacheControl": "no-cache", "compression": true,
            "spaFallback": false, "cleanUrls": true, "dropHtmlExtension": false, "cors": false,
            "crossOriginIsolation": false,
            "customHeaders": [{ "path": "/a/**", "name": "X-A", "value": "1" }],
            "liveReload": true, "reloadIgnore": ["dist/**"], "allowedHosts": [],
            "corsOrigins": []
        }"#;
        let draft: SiteDraft = serde_json::from_str(saved).unwrap();
        assert!(draft.https && draft.port_is_automatic() && draft.https_port_is_automatic());
        assert_eq!(draft.server.keep_alive, Some(false));
        assert_eq!(draft.server.clean_urls, Some(true));
        assert_eq!(draft.server.custom_headers.as_ref().unwrap()[0].name, "X-A");
        assert_eq!(draft.server.reload_ignore, Some(vec!["dist/**".to_owned()]));
        // Written back, it reads the same.
        let again: SiteDraft =
            serde_json::from_str(&serde_json::to_string(&draft).unwrap()).unwrap();
        assert_eq!(again, draft);
    }
}
