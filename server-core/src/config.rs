//! Server configuration: the permissive [`ConfigDraft`] that users and the UI edit, and the
//! validated, immutable [`ServerConfig`] that the server runs on.
//!
//! Only [`ServerConfig::try_from`] turns a draft into a config, so nothing downstream
//! re-validates. A connection takes an `Arc<ServerConfig>` snapshot when it is accepted and
//! keeps it for life; this module never reaches into a running server.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::HeaderValue;
use serde::{Deserialize, Serialize};

/// Address the server binds when none is given: loopback only. Default: `127.0.0.1`.
pub const DEFAULT_HOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Port the CLI uses when none is given. Default: `8080`.
pub const DEFAULT_PORT: u16 = 8080;
/// How long a client may take to send a request's header block. Default: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection stays open. Default: 5 s.
pub const DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// `Cache-Control` for served files: revalidate every time, so an edit is never stale.
pub const DEFAULT_CACHE_CONTROL: &str = "no-cache";
/// Connections served at once; further ones wait in the kernel's accept queue. Default: 4096.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4096;

/// A configuration as a user wrote it: every field optional, nothing checked yet.
///
/// Fields left out take the documented defaults of [`ServerConfig`]. Field names are
/// camelCase (`keepAlive`), as the UI sends them; a TOML file may also spell them in
/// snake_case (`keep_alive`). Unknown fields are refused, so a typo never passes silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ConfigDraft {
    /// Folder to serve. Required.
    pub root: Option<PathBuf>,
    /// Address to bind, e.g. `127.0.0.1` or `0.0.0.0`. Default: `127.0.0.1`.
    pub host: Option<String>,
    /// Port to bind; `0` picks a free one. Default: `8080`.
    pub port: Option<u32>,
    /// Keep connections open between requests. Default: on.
    #[serde(alias = "keep_alive")]
    pub keep_alive: Option<bool>,
    /// Milliseconds a client may take to send a request's headers. Default: 10,000.
    #[serde(alias = "header_read_timeout_ms")]
    pub header_read_timeout_ms: Option<u64>,
    /// Milliseconds an idle keep-alive connection stays open. Default: 5,000.
    #[serde(alias = "keep_alive_idle_timeout_ms")]
    pub keep_alive_idle_timeout_ms: Option<u64>,
    /// List folders that have no `index.html`. Default: on.
    #[serde(alias = "directory_listing")]
    pub directory_listing: Option<bool>,
    /// Serve and list dotfiles and dot-folders such as `.env` and `.git/`. Default: off.
    #[serde(alias = "show_dotfiles")]
    pub show_dotfiles: Option<bool>,
    /// Serve files whose symlinks lead outside the root. Default: off.
    #[serde(alias = "follow_symlinks")]
    pub follow_symlinks: Option<bool>,
    /// `Cache-Control` header for served files. Default: `no-cache`.
    #[serde(alias = "cache_control")]
    pub cache_control: Option<String>,
    /// Connections served at once, 1 to 1,000,000; more wait in the kernel's accept queue.
    /// Default: 4096.
    #[serde(alias = "max_connections")]
    pub max_connections: Option<u64>,
    /// Compress text responses for clients that accept gzip or Brotli. Default: on.
    pub compression: Option<bool>,
}

/// A validated configuration. Immutable; a change makes a new one with a higher `generation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Folder being served, absolute and canonical (symlinks resolved).
    pub root: PathBuf,
    /// Address the listener binds. Default: `127.0.0.1`.
    pub host: IpAddr,
    /// Port the listener binds; `0` means "any free port". Default: `8080`.
    pub port: u16,
    /// Keep connections open between requests. Default: on.
    pub keep_alive: bool,
    /// Time a client has to send a request's header block before it is cut off. Default: 10 s.
    pub header_read_timeout: Duration,
    /// Time an idle keep-alive connection stays open before it is closed. Default: 5 s.
    pub keep_alive_idle_timeout: Duration,
    /// List folders that have no `index.html`; otherwise they are 404. Default: on.
    pub directory_listing: bool,
    /// Serve and list dotfiles and dot-folders; otherwise they are 404 and unlisted. Default: off.
    pub show_dotfiles: bool,
    /// Serve files whose real path (symlinks resolved) lies outside the root. Default: off.
    pub follow_symlinks: bool,
    /// `Cache-Control` sent with files and listings. Default: `no-cache`.
    pub cache_control: HeaderValue,
    /// Connections served at once. Beyond it the server stops accepting, so new connections
    /// wait in the kernel's accept queue (and, when that is full, the kernel turns them away)
    /// instead of being accepted and starved. Default: 4096.
    pub max_connections: u32,
    /// Compress text responses (gzip, Brotli) when the client accepts it. Default: on.
    pub compression: bool,
    /// Counts applied configurations, starting at 1; connections report which one they run on.
    pub generation: u64,
}

/// Why a draft was refused. Names the field and says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The draft field at fault, as the user spells it (`root`, `port`, ...).
    pub field: &'static str,
    /// A sentence saying what is wrong and what to do instead.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl TryFrom<ConfigDraft> for ServerConfig {
    type Error = ConfigError;

    fn try_from(draft: ConfigDraft) -> Result<Self, ConfigError> {
        let root = draft.root.ok_or_else(|| ConfigError {
            field: "root",
            reason: "no folder given; choose the folder to serve".into(),
        })?;
        let root = canonical_root(&root)?;
        let host = match draft.host.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_HOST,
            Some("localhost") => DEFAULT_HOST,
            Some(text) => text.parse().map_err(|_| ConfigError {
                field: "host",
                reason: format!("{text:?} is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0"),
            })?,
        };
        let port = match draft.port {
            None => DEFAULT_PORT,
            Some(port) => u16::try_from(port).map_err(|_| ConfigError {
                field: "port",
                reason: format!("{port} is not a valid port; use 0-65535 (0 picks a free one)"),
            })?,
        };
        let header_read_timeout = timeout(
            "headerReadTimeoutMs",
            draft.header_read_timeout_ms,
            DEFAULT_HEADER_READ_TIMEOUT,
        )?;
        let keep_alive_idle_timeout = timeout(
            "keepAliveIdleTimeoutMs",
            draft.keep_alive_idle_timeout_ms,
            DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT,
        )?;
        let cache_control = match draft.cache_control.as_deref().map(str::trim) {
            None => HeaderValue::from_static(DEFAULT_CACHE_CONTROL),
            Some(text) => HeaderValue::from_str(text)
                .ok()
                .filter(|_| !text.is_empty())
                .ok_or_else(|| ConfigError {
                    field: "cacheControl",
                    reason: format!(
                        "{text:?} is not a valid header value; use e.g. \"no-cache\" or \"max-age=60\""
                    ),
                })?,
        };
        let max_connections = match draft.max_connections {
            None => DEFAULT_MAX_CONNECTIONS,
            Some(max) => u32::try_from(max)
                .ok()
                .filter(|max| (1..=1_000_000).contains(max))
                .ok_or_else(|| ConfigError {
                    field: "maxConnections",
                    reason: format!("{max} is out of range; use 1 to 1000000"),
                })?,
        };
        Ok(ServerConfig {
            root,
            host,
            port,
            keep_alive: draft.keep_alive.unwrap_or(true),
            header_read_timeout,
            keep_alive_idle_timeout,
            directory_listing: draft.directory_listing.unwrap_or(true),
            show_dotfiles: draft.show_dotfiles.unwrap_or(false),
            follow_symlinks: draft.follow_symlinks.unwrap_or(false),
            cache_control,
            max_connections,
            compression: draft.compression.unwrap_or(true),
            generation: 1,
        })
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

    /// The same config serving another folder, one generation later.
    ///
    /// # Errors
    /// [`ConfigError`] on field `root` if the folder does not exist or is not a directory.
    pub fn with_root(&self, root: &Path) -> Result<Self, ConfigError> {
        Ok(ServerConfig {
            root: canonical_root(root)?,
            generation: self.generation + 1,
            ..self.clone()
        })
    }
}

impl From<&ServerConfig> for ConfigDraft {
    /// The draft that validates back to `config` (but for the generation): a form's starting point.
    fn from(config: &ServerConfig) -> ConfigDraft {
        ConfigDraft {
            root: Some(config.root.clone()),
            host: Some(config.host.to_string()),
            port: Some(config.port.into()),
            keep_alive: Some(config.keep_alive),
            header_read_timeout_ms: Some(millis(config.header_read_timeout)),
            keep_alive_idle_timeout_ms: Some(millis(config.keep_alive_idle_timeout)),
            directory_listing: Some(config.directory_listing),
            show_dotfiles: Some(config.show_dotfiles),
            follow_symlinks: Some(config.follow_symlinks),
            cache_control: config.cache_control.to_str().ok().map(str::to_owned),
            max_connections: Some(config.max_connections.into()),
            compression: Some(config.compression),
        }
    }
}

/// One setting that differs between two configs, for reports such as
/// `port 8080 -> 8081, keep_alive on -> off`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The draft field, as in [`ConfigError::field`] (`keepAlive`).
    pub field: &'static str,
    /// The old value, as a person reads it (`on`, `10s`, `8080`).
    pub from: String,
    /// The new value.
    pub to: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} -> {}", snake_case(self.field), self.from, self.to)
    }
}

impl ServerConfig {
    /// The settings that differ from `self` to `next`, in field order; the generation is not a
    /// setting. Empty when `next` would change nothing.
    pub fn changes(&self, next: &ServerConfig) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut note = |field: &'static str, from: String, to: String| {
            if from != to {
                changes.push(Change { field, from, to });
            }
        };
        note(
            "root",
            self.root.display().to_string(),
            next.root.display().to_string(),
        );
        note("host", self.host.to_string(), next.host.to_string());
        note("port", self.port.to_string(), next.port.to_string());
        note(
            "keepAlive",
            on_off(self.keep_alive),
            on_off(next.keep_alive),
        );
        note(
            "headerReadTimeoutMs",
            seconds(self.header_read_timeout),
            seconds(next.header_read_timeout),
        );
        note(
            "keepAliveIdleTimeoutMs",
            seconds(self.keep_alive_idle_timeout),
            seconds(next.keep_alive_idle_timeout),
        );
        note(
            "maxConnections",
            self.max_connections.to_string(),
            next.max_connections.to_string(),
        );
        note(
            "directoryListing",
            on_off(self.directory_listing),
            on_off(next.directory_listing),
        );
        note(
            "showDotfiles",
            on_off(self.show_dotfiles),
            on_off(next.show_dotfiles),
        );
        note(
            "followSymlinks",
            on_off(self.follow_symlinks),
            on_off(next.follow_symlinks),
        );
        note(
            "cacheControl",
            String::from_utf8_lossy(self.cache_control.as_bytes()).into_owned(),
            String::from_utf8_lossy(next.cache_control.as_bytes()).into_owned(),
        );
        note(
            "compression",
            on_off(self.compression),
            on_off(next.compression),
        );
        changes
    }

    /// Whether `next` needs a new listener: another host or another requested port.
    pub fn needs_rebind(&self, next: &ServerConfig) -> bool {
        self.host != next.host || self.port != next.port
    }
}

/// `keepAliveIdleTimeoutMs` → `keep_alive_idle_timeout_ms`, as a TOML file and the CLI spell it.
pub fn snake_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.to_owned()
}

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Timeouts are at least 100 ms (shorter would cut off real clients) and at most a day.
fn timeout(
    field: &'static str,
    ms: Option<u64>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match ms {
        None => Ok(default),
        Some(ms) if (100..=86_400_000).contains(&ms) => Ok(Duration::from_millis(ms)),
        Some(ms) => Err(ConfigError {
            field,
            reason: format!("{ms} ms is out of range; use 100 to 86400000 (one day)"),
        }),
    }
}

fn canonical_root(root: &Path) -> Result<PathBuf, ConfigError> {
    let shown = root.display();
    let canonical = root.canonicalize().map_err(|err| ConfigError {
        field: "root",
        reason: format!("{shown} cannot be opened: {err}"),
    })?;
    if !canonical.is_dir() {
        return Err(ConfigError {
            field: "root",
            reason: format!(
                "{shown} is a file, not a folder; choose the folder that holds the site"
            ),
        });
    }
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(root: &Path) -> ConfigDraft {
        ConfigDraft {
            root: Some(root.to_path_buf()),
            ..ConfigDraft::default()
        }
    }

    #[test]
    fn defaults_bind_loopback_on_8080() {
        let dir = tempfile::tempdir().unwrap();
        let config = ServerConfig::try_from(draft(dir.path())).unwrap();
        assert_eq!(config.host, DEFAULT_HOST);
        assert_eq!(config.port, 8080);
        assert!(config.keep_alive);
        assert_eq!(config.generation, 1);
        assert_eq!(config.keep_alive_idle_timeout, Duration::from_secs(5));
        assert_eq!(config.header_read_timeout, Duration::from_secs(10));
        assert!(config.directory_listing && config.compression);
        assert!(!config.show_dotfiles && !config.follow_symlinks);
        assert_eq!(config.cache_control, "no-cache");
        assert!(config.root.is_absolute());
    }

    #[test]
    fn errors_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let port = ServerConfig::try_from(ConfigDraft {
            port: Some(70000),
            ..draft(dir.path())
        })
        .unwrap_err();
        assert_eq!(port.field, "port");
        assert!(
            port.to_string().contains("70000 is not a valid port"),
            "{port}"
        );

        let host = ServerConfig::try_from(ConfigDraft {
            host: Some("my laptop".into()),
            ..draft(dir.path())
        })
        .unwrap_err();
        assert_eq!(host.field, "host");

        let missing = ServerConfig::try_from(draft(&dir.path().join("nope"))).unwrap_err();
        assert_eq!(missing.field, "root");

        let file = dir.path().join("file.txt");
        std::fs::write(&file, "x").unwrap();
        let not_dir = ServerConfig::try_from(draft(&file)).unwrap_err();
        assert!(not_dir.reason.contains("not a folder"), "{not_dir}");

        let idle = ServerConfig::try_from(ConfigDraft {
            keep_alive_idle_timeout_ms: Some(5),
            ..draft(dir.path())
        })
        .unwrap_err();
        assert_eq!(idle.field, "keepAliveIdleTimeoutMs");

        let cache = ServerConfig::try_from(ConfigDraft {
            cache_control: Some("no-cache\r\nX-Evil: 1".into()),
            ..draft(dir.path())
        })
        .unwrap_err();
        assert_eq!(cache.field, "cacheControl");
    }

    #[test]
    fn with_root_bumps_the_generation() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let first = ServerConfig::for_root(a.path()).unwrap();
        let second = first.with_root(b.path()).unwrap();
        assert_eq!(second.generation, 2);
        assert_eq!(second.port, first.port);
        assert_eq!(second.root, b.path().canonicalize().unwrap());
    }
}
