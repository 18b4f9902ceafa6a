//! `sites.json`: the sites and recent folders, kept between app runs.
//!
//! This module owns the file's format and its safety: a save writes a temporary file and
//! renames it over the old one, so a crash never leaves half a file; a file that cannot be
//! read is set aside as `sites.json.corrupt-<unix-seconds>` (never overwritten) and the
//! caller gets a notice for the window. It knows nothing about running servers.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::draft::SiteDraft;

/// The format version this app reads and writes.
pub const VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSites {
    /// Always [`VERSION`].
    pub version: u32,
    /// The sites, in the list's order.
    pub sites: Vec<StoredSite>,
    /// Folders served before, newest first.
    #[serde(default)]
    pub recents: Vec<PathBuf>,
}

/// One site, as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSite {
    /// Stable id; also names the site's access-log folder.
    pub id: String,
    /// The folder served; `null` for the built-in welcome site.
    pub root: Option<PathBuf>,
    /// Shared on the network.
    #[serde(default)]
    pub lan: bool,
    /// Running at quit: started again at launch.
    #[serde(default)]
    pub running: bool,
    /// The settings as chosen (`port` 0: automatic).
    #[serde(default)]
    pub settings: SiteDraft,
    /// The automatic port last bound, tried first at the next start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_port: Option<u16>,
    /// The automatic HTTPS port last bound, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_https_port: Option<u16>,
}

/// What [`load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The saved sites; `None` on first launch or when the file was unreadable.
    pub sites: Option<StoredSites>,
    /// A sentence for the window's banner when the file was unreadable.
    pub notice: Option<String>,
}

/// Reads `path`. A missing file is a first launch; an unreadable one is renamed aside and
/// reported in [`Loaded::notice`].
pub fn load(path: &Path) -> Loaded {
    let reason = match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice::<StoredSites>(&bytes) {
            Ok(sites) if sites.version == VERSION => {
                return Loaded {
                    sites: Some(sites),
                    notice: None,
                }
            }
            Ok(sites) => format!("version {} is not one this Wharf reads", sites.version),
            Err(err) => err.to_string(),
        },
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Loaded::default(),
        Err(err) => err.to_string(),
    };
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{seconds}"));
    let aside = PathBuf::from(aside);
    let notice = match std::fs::rename(path, &aside) {
        Ok(()) => format!(
            "Wharf's settings file was unreadable ({reason}); it was saved as {} and defaults \
             are in use.",
            aside.display()
        ),
        Err(err) => format!(
            "Wharf's settings file was unreadable ({reason}); it could not be set aside \
             ({err}) and defaults are in use."
        ),
    };
    tracing::warn!("{notice}");
    Loaded {
        sites: None,
        notice: Some(notice),
    }
}

/// Writes `value` (the sites, or another of the app's files, e.g. the preferences) to `path`
/// as JSON, atomically and privately ([`wharf_core::replace_private`]).
///
/// # Errors
/// What the file system reports; the previous file is then left as it was.
pub fn save<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    wharf_core::replace_private(path, |file| file.write_all(&json))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::config::{CustomHeaderDraft, DEFAULT_RELOAD_IGNORE};
    use wharf_core::ConfigDraft;

    fn example() -> StoredSites {
        StoredSites {
            version: VERSION,
            sites: vec![
                StoredSite {
                    id: "welcome".into(),
                    root: None,
                    lan: false,
                    running: true,
                    settings: SiteDraft {
                        https: true,
                        ..SiteDraft::default()
                    },
                    last_port: Some(43_127),
                    last_https_port: Some(43_128),
                },
                StoredSite {
                    id: "s1".into(),
                    root: Some("/home/me/café site".into()),
                    lan: true,
                    running: false,
                    settings: SiteDraft {
                        https: false,
                        server: ConfigDraft {
                            port: Some(8080),
                            keep_alive: Some(false),
                            clean_urls: Some(true),
                            custom_headers: Some(vec![CustomHeaderDraft {
                                path: "/assets/**".into(),
                                name: "Cache-Control".into(),
                                value: "max-age=60".into(),
                            }]),
                            reload_ignore: Some(vec!["dist/**".into()]),
                            https_port: Some(8443),
                            ..ConfigDraft::default()
                        },
                    },
                    last_port: None,
                    last_https_port: None,
                },
            ],
            recents: vec!["/home/me/café site".into()],
        }
    }

    #[test]
    fn saves_and_loads_back_with_no_temporary_file_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config").join("sites.json");
        assert!(load(&path).sites.is_none(), "first launch");
        save(&path, &example()).unwrap();
        save(&path, &example()).unwrap();
        let loaded = load(&path);
        assert_eq!(loaded.sites, Some(example()));
        assert!(loaded.notice.is_none());
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["sites.json"]);

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["sites"][0]["root"], serde_json::Value::Null);
        assert_eq!(json["sites"][1]["settings"]["keepAlive"], false);
        assert_eq!(
            json["sites"][1]["settings"]["customHeaders"][0]["path"],
            "/assets/**"
        );
        assert_eq!(json["sites"][1]["settings"]["reloadIgnore"][0], "dist/**");
        assert_eq!(json["sites"][0]["settings"]["https"], true);
        assert_eq!(json["sites"][0]["lastHttpsPort"], 43_128);
        assert_eq!(json["sites"][1]["settings"]["httpsPort"], 8443);
        assert!(json["sites"][1].get("lastHttpsPort").is_none());
        assert_eq!(json["recents"][0], "/home/me/café site");
    }

    #[test]
    fn missing_fields_take_their_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sites.json");
        std::fs::write(
            &path,
            r#"{"version":1,"sites":[{"id":"a","root":"/x","settings":{"port":9000}}]}"#,
        )
        .unwrap();
        let sites = load(&path).sites.unwrap();
        let site = &sites.sites[0];
        assert!(!site.lan && !site.running);
        assert_eq!(site.settings.port(), 9000);
        // Left out, a setting takes the core's default (the form shows it filled in).
        let filled = site.settings.server.clone().with_defaults();
        assert_eq!(filled.keep_alive, Some(true));
        assert!(sites.recents.is_empty());
        // A file saved before the development-loop settings existed.
        assert_eq!(
            site.settings,
            SiteDraft {
                server: ConfigDraft {
                    port: Some(9000),
                    ..ConfigDraft::default()
                },
                ..SiteDraft::default()
            }
        );
        assert_eq!(filled.live_reload, Some(true));
        assert_eq!(filled.reload_ignore.unwrap(), DEFAULT_RELOAD_IGNORE);
        assert_eq!(filled.custom_headers, Some(Vec::new()));
        assert_eq!(
            (filled.spa_fallback, filled.clean_urls),
            (Some(false), Some(false))
        );
        assert_eq!(filled.drop_html_extension, Some(false));
        assert_eq!(
            (filled.cors, filled.cross_origin_isolation),
            (Some(false), Some(false))
        );
        // A file saved before HTTPS existed: off, automatic port, nothing remembered.
        assert!(!site.settings.https);
        assert_eq!(site.settings.https_port(), 0);
        assert_eq!(site.last_https_port, None);
    }

    #[test]
    fn an_unreadable_file_is_set_aside_with_a_notice() {
        for contents in [
            &b"{\"version\":1,\"sites\":[{"[..],
            br#"{"version":7,"sites":[]}"#,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sites.json");
            std::fs::write(&path, contents).unwrap();
            let loaded = load(&path);
            assert!(loaded.sites.is_none());
            let notice = loaded.notice.unwrap();
            assert!(!path.exists());
            let aside: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect();
            assert_eq!(aside.len(), 1);
            let name = aside[0].file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.starts_with("sites.json.corrupt-"), "{name}");
            assert_eq!(std::fs::read(&aside[0]).unwrap(), contents);
            assert!(
                notice.starts_with("Wharf's settings file was unreadable (")
                    && notice.ends_with(&format!(
                        "); it was saved as {} and defaults are in use.",
                        aside[0].display()
                    )),
                "{notice}"
            );
        }
    }
}
