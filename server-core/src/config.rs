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

use globset::{GlobSet, GlobSetBuilder};
use http::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::http::guard::{AllowedHosts, CorsOrigins};
use crate::serve::names::NameMatching;

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
/// Changes live reload ignores: version control, dependencies, build output and editors'
/// temporary files (Vim's `*.swp` and its `4913` probe, Emacs's `*~` and `.#*` locks).
pub const DEFAULT_RELOAD_IGNORE: [&str; 7] = [
    ".git/**",
    "node_modules/**",
    "target/**",
    "*.swp",
    "*~",
    ".#*",
    "4913",
];

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
    /// Port to serve HTTPS on as well, beside `port`; `0` picks a free one. Default: none
    /// (HTTPS off).
    #[serde(alias = "https_port")]
    pub https_port: Option<u32>,
    /// Folder holding the HTTPS certificate, made there on first use and reused after.
    /// Required with `httpsPort`. Default: none (the CLI and the app pass their data folder).
    #[serde(alias = "cert_dir")]
    pub cert_dir: Option<PathBuf>,
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
    /// Answer a missed page navigation (GET or HEAD, `Accept: text/html`, no extension in
    /// the last segment) with the root `index.html` and 200, for single-page apps. Default: off.
    #[serde(alias = "spa_fallback")]
    pub spa_fallback: Option<bool>,
    /// Serve `/about` from `about.html` when `/about` itself does not exist. Default: off.
    #[serde(alias = "clean_urls")]
    pub clean_urls: Option<bool>,
    /// With `cleanUrls`: redirect `/about.html` to `/about` (301) and `/docs/index.html` to
    /// `/docs/`. Default: off.
    #[serde(alias = "drop_html_extension")]
    pub drop_html_extension: Option<bool>,
    /// Let allowed origins (`corsOrigins` and the loopback ones) read the site with CORS, and
    /// answer their preflights. Default: off.
    pub cors: Option<bool>,
    /// Send COOP `same-origin` and COEP `require-corp`, which `SharedArrayBuffer` needs.
    /// Default: off.
    #[serde(alias = "cross_origin_isolation")]
    pub cross_origin_isolation: Option<bool>,
    /// Extra response headers for paths matching a glob. Default: none.
    #[serde(alias = "custom_headers")]
    pub custom_headers: Option<Vec<CustomHeaderDraft>>,
    /// Reload pages when a file of the site changes; CSS changes are swapped in place.
    /// Default: on.
    #[serde(alias = "live_reload")]
    pub live_reload: Option<bool>,
    /// Changes that never trigger a reload, as globs relative to the root. Default:
    /// [`DEFAULT_RELOAD_IGNORE`].
    #[serde(alias = "reload_ignore")]
    pub reload_ignore: Option<Vec<String>>,
    /// Host names served beside `localhost`, `*.localhost`, IP literals and (while the server
    /// binds a non-loopback address) this computer's name and `NAME.local`: `name`, or `.name`
    /// / `*.name` for it and every name under it. Default: none.
    #[serde(alias = "allowed_hosts")]
    pub allowed_hosts: Option<Vec<String>>,
    /// Origins CORS lets read the site beside the loopback ones, e.g.
    /// `https://app.example.test`. Default: none.
    #[serde(alias = "cors_origins")]
    pub cors_origins: Option<Vec<String>>,
}

/// One custom header rule as written: `{ path = "/assets/**", name = "Cache-Control",
/// value = "max-age=31536000" }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct CustomHeaderDraft {
    /// Glob over the URL path, e.g. `/assets/**` or `**/*.wasm`. `*` stays within a segment.
    pub path: String,
    /// Header name, e.g. `Cache-Control`.
    pub name: String,
    /// Header value.
    pub value: String,
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
    /// Port of a second listener that speaks HTTPS (HTTP/2 or HTTP/1.1 by ALPN) on the same
    /// host; `Some(0)` means "any free port". Default: `None` (HTTPS off).
    pub https_port: Option<u16>,
    /// Folder of the HTTPS certificate (see [`crate::lifecycle::tls::Certificate::load_or_create`]),
    /// absolute. Always set when `https_port` is. Default: `None`.
    pub cert_dir: Option<PathBuf>,
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
    /// Answer missed page navigations with the root `index.html` (200). Default: off.
    pub spa_fallback: bool,
    /// Serve `/about` from `about.html`. Default: off.
    pub clean_urls: bool,
    /// Redirect `/about.html` to `/about`; only with `clean_urls`. Default: off.
    pub drop_html_extension: bool,
    /// Echo an allowed `Origin` in `Access-Control-Allow-Origin` and answer its preflights
    /// (see [`crate::http::guard`]). Default: off.
    pub cors: bool,
    /// COOP `same-origin` and COEP `require-corp` on every response. Default: off.
    pub cross_origin_isolation: bool,
    /// Extra headers by path glob. Default: none.
    pub custom_headers: HeaderRules,
    /// Live reload: the `/__wharf/` endpoints and the script injected into HTML. Default: on.
    pub live_reload: bool,
    /// Changes live reload ignores. Default: [`DEFAULT_RELOAD_IGNORE`].
    pub reload_ignore: IgnoreGlobs,
    /// Host names served beside the built-in ones (see [`crate::http::guard`]). Default: none.
    pub allowed_hosts: AllowedHosts,
    /// Origins CORS allows beside the loopback ones. Default: none.
    pub cors_origins: CorsOrigins,
    /// Counts applied configurations, starting at 1; connections report which one they run on.
    pub generation: u64,
}

/// Custom response headers, in the order written, with their path globs compiled once.
#[derive(Debug, Clone, Default)]
pub struct HeaderRules {
    rules: Vec<HeaderRule>,
    globs: GlobSet,
    names: NameMatching,
}

/// One validated custom header rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    /// The glob as written.
    pub path: String,
    /// The header's name.
    pub name: HeaderName,
    /// The header's value.
    pub value: HeaderValue,
}

impl PartialEq for HeaderRules {
    fn eq(&self, other: &HeaderRules) -> bool {
        self.rules == other.rules
    }
}

impl Eq for HeaderRules {}

impl HeaderRules {
    /// Whether there are no rules (then nothing is ever matched).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in the order written.
    pub fn rules(&self) -> &[HeaderRule] {
        &self.rules
    }

    /// The rules whose glob matches `url_path` (decoded, starting with `/`), in order. Case
    /// counts as the root's file system counts it, and NFC and NFD spellings match alike.
    pub fn matching(&self, url_path: &str) -> impl Iterator<Item = &HeaderRule> {
        let hits = self.globs.matches(&*self.names.key(url_path));
        hits.into_iter().map(|index| &self.rules[index])
    }
}

/// Globs of paths (relative to the root) whose changes live reload ignores. Like
/// `.gitignore`, a glob matches at any depth (`node_modules/**` also ignores
/// `packages/app/node_modules/x.js`) unless it starts with `/`, which anchors it at the root.
#[derive(Debug, Clone)]
pub struct IgnoreGlobs {
    patterns: Vec<String>,
    anywhere: GlobSet,
    anchored: GlobSet,
    names: NameMatching,
}

impl PartialEq for IgnoreGlobs {
    fn eq(&self, other: &IgnoreGlobs) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for IgnoreGlobs {}

impl Default for IgnoreGlobs {
    /// [`DEFAULT_RELOAD_IGNORE`], matched as the OS's default file system compares names.
    fn default() -> IgnoreGlobs {
        IgnoreGlobs::defaults(NameMatching::default())
    }
}

impl IgnoreGlobs {
    fn defaults(names: NameMatching) -> IgnoreGlobs {
        let defaults = DEFAULT_RELOAD_IGNORE.map(str::to_owned).to_vec();
        // The defaults are constant globs that compile; the tests check it.
        IgnoreGlobs::new(defaults, names).unwrap_or(IgnoreGlobs {
            patterns: Vec::new(),
            anywhere: GlobSet::empty(),
            anchored: GlobSet::empty(),
            names,
        })
    }

    fn new(patterns: Vec<String>, names: NameMatching) -> Result<IgnoreGlobs, ConfigError> {
        let mut anywhere = GlobSetBuilder::new();
        let mut anchored = GlobSetBuilder::new();
        for (index, pattern) in patterns.iter().enumerate() {
            let (set, text) = match pattern.strip_prefix('/') {
                Some(rest) => (&mut anchored, rest),
                None => (&mut anywhere, pattern.as_str()),
            };
            set.add(names.glob(text).map_err(|err| ConfigError {
                field: "reloadIgnore",
                reason: format!("[{index}]: {pattern:?} is not a valid glob: {}", err.kind()),
            })?);
        }
        let build = |set: GlobSetBuilder| {
            set.build().map_err(|err| ConfigError {
                field: "reloadIgnore",
                reason: format!("the globs cannot be combined: {err}"),
            })
        };
        Ok(IgnoreGlobs {
            patterns,
            anywhere: build(anywhere)?,
            anchored: build(anchored)?,
            names,
        })
    }

    /// The globs as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether a change of `relative` (`/`-separated, no leading `/`) is ignored. Case counts
    /// as the root's file system counts it, and NFC and NFD spellings match alike.
    pub fn is_ignored(&self, relative: &str) -> bool {
        let relative = &*self.names.key(relative);
        if self.anchored.is_match(relative) {
            return true;
        }
        // Every suffix that starts a path segment: `a/node_modules/x` is tried as itself,
        // `node_modules/x` and `x`.
        std::iter::once(relative)
            .chain(
                relative
                    .match_indices('/')
                    .map(|(at, _)| &relative[at + 1..]),
            )
            .any(|suffix| self.anywhere.is_match(suffix))
    }
}

/// Why a draft was refused. Names the field and says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The draft field at fault, as the user spells it (`root`, `port`, ...).
    pub field: &'static str,
    /// A sentence saying what is wrong and what to do instead. For list fields it starts
    /// with the item's index (and member) in brackets, `[2].name: ...`, and the error reads
    /// `customHeaders[2].name: ...`.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.starts_with('[') {
            write!(f, "{}{}", self.field, self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
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
        let https_port = match draft.https_port {
            None => None,
            Some(https) => {
                let refuse = |reason: &str| ConfigError {
                    field: "httpsPort",
                    reason: format!("{https} {reason}; choose another (0 picks a free one)"),
                };
                match u16::try_from(https) {
                    Err(_) => return Err(refuse("is not a valid port (0-65535)")),
                    Ok(https) if https != 0 && https == port => {
                        return Err(refuse("is already the HTTP port"));
                    }
                    Ok(https) => Some(https),
                }
            }
        };
        let cert_dir = draft.cert_dir.map(|dir| cert_folder(&dir)).transpose()?;
        if https_port.is_some() && cert_dir.is_none() {
            return Err(ConfigError {
                field: "certDir",
                reason: "HTTPS needs a folder to keep its certificate in; choose one, \
                    e.g. a `wharf/certs` folder in your user's local data folder"
                    .into(),
            });
        }
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
        let clean_urls = draft.clean_urls.unwrap_or(false);
        let drop_html_extension = draft.drop_html_extension.unwrap_or(false);
        if drop_html_extension && !clean_urls {
            return Err(ConfigError {
                field: "dropHtmlExtension",
                reason: "needs cleanUrls on; without it /about would not find about.html".into(),
            });
        }
        // The globs compare names as the root's file system does (issue 14, point 2).
        let names = NameMatching::probe(&root);
        let custom_headers = header_rules(draft.custom_headers.unwrap_or_default(), names)?;
        let reload_ignore = match draft.reload_ignore {
            None => IgnoreGlobs::defaults(names),
            Some(patterns) => IgnoreGlobs::new(patterns, names)?,
        };
        Ok(ServerConfig {
            root,
            host,
            port,
            https_port,
            cert_dir,
            keep_alive: draft.keep_alive.unwrap_or(true),
            header_read_timeout,
            keep_alive_idle_timeout,
            directory_listing: draft.directory_listing.unwrap_or(true),
            show_dotfiles: draft.show_dotfiles.unwrap_or(false),
            follow_symlinks: draft.follow_symlinks.unwrap_or(false),
            cache_control,
            max_connections,
            compression: draft.compression.unwrap_or(true),
            spa_fallback: draft.spa_fallback.unwrap_or(false),
            clean_urls,
            drop_html_extension,
            cors: draft.cors.unwrap_or(false),
            cross_origin_isolation: draft.cross_origin_isolation.unwrap_or(false),
            custom_headers,
            live_reload: draft.live_reload.unwrap_or(true),
            reload_ignore,
            allowed_hosts: AllowedHosts::new(draft.allowed_hosts.unwrap_or_default())?,
            cors_origins: CorsOrigins::new(draft.cors_origins.unwrap_or_default())?,
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
}

impl From<&ServerConfig> for ConfigDraft {
    /// The draft that validates back to `config` (but for the generation): a form's starting point.
    fn from(config: &ServerConfig) -> ConfigDraft {
        ConfigDraft {
            root: Some(config.root.clone()),
            host: Some(config.host.to_string()),
            port: Some(config.port.into()),
            https_port: config.https_port.map(u32::from),
            cert_dir: config.cert_dir.clone(),
            keep_alive: Some(config.keep_alive),
            header_read_timeout_ms: Some(millis(config.header_read_timeout)),
            keep_alive_idle_timeout_ms: Some(millis(config.keep_alive_idle_timeout)),
            directory_listing: Some(config.directory_listing),
            show_dotfiles: Some(config.show_dotfiles),
            follow_symlinks: Some(config.follow_symlinks),
            cache_control: config.cache_control.to_str().ok().map(str::to_owned),
            max_connections: Some(config.max_connections.into()),
            compression: Some(config.compression),
            spa_fallback: Some(config.spa_fallback),
            clean_urls: Some(config.clean_urls),
            drop_html_extension: Some(config.drop_html_extension),
            cors: Some(config.cors),
            cross_origin_isolation: Some(config.cross_origin_isolation),
            custom_headers: Some(
                config
                    .custom_headers
                    .rules()
                    .iter()
                    .map(|rule| CustomHeaderDraft {
                        path: rule.path.clone(),
                        name: rule.name.to_string(),
                        value: String::from_utf8_lossy(rule.value.as_bytes()).into_owned(),
                    })
                    .collect(),
            ),
            live_reload: Some(config.live_reload),
            reload_ignore: Some(config.reload_ignore.patterns().to_vec()),
            allowed_hosts: Some(config.allowed_hosts.entries().to_vec()),
            cors_origins: Some(config.cors_origins.entries().to_vec()),
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
        let https = |port: Option<u16>| port.map_or_else(|| "off".to_owned(), |p| p.to_string());
        note("httpsPort", https(self.https_port), https(next.https_port));
        let folder = |dir: &Option<PathBuf>| {
            dir.as_ref()
                .map_or_else(|| "none".to_owned(), |dir| dir.display().to_string())
        };
        note("certDir", folder(&self.cert_dir), folder(&next.cert_dir));
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
        note(
            "spaFallback",
            on_off(self.spa_fallback),
            on_off(next.spa_fallback),
        );
        note(
            "cleanUrls",
            on_off(self.clean_urls),
            on_off(next.clean_urls),
        );
        note(
            "dropHtmlExtension",
            on_off(self.drop_html_extension),
            on_off(next.drop_html_extension),
        );
        note("cors", on_off(self.cors), on_off(next.cors));
        note(
            "crossOriginIsolation",
            on_off(self.cross_origin_isolation),
            on_off(next.cross_origin_isolation),
        );
        note(
            "customHeaders",
            rules_text(&self.custom_headers),
            rules_text(&next.custom_headers),
        );
        note(
            "liveReload",
            on_off(self.live_reload),
            on_off(next.live_reload),
        );
        note(
            "reloadIgnore",
            self.reload_ignore.patterns().join(" "),
            next.reload_ignore.patterns().join(" "),
        );
        note(
            "allowedHosts",
            list_text(self.allowed_hosts.entries()),
            list_text(next.allowed_hosts.entries()),
        );
        note(
            "corsOrigins",
            list_text(self.cors_origins.entries()),
            list_text(next.cors_origins.entries()),
        );
        changes
    }

    /// Whether `next` needs a new listener: another host or another requested port.
    pub fn needs_rebind(&self, next: &ServerConfig) -> bool {
        self.host != next.host || self.port != next.port
    }

    /// Whether `next` needs another HTTPS listener (or none): HTTPS turned on or off, or, with
    /// HTTPS on, another host, requested HTTPS port or certificate folder.
    pub fn needs_https_rebind(&self, next: &ServerConfig) -> bool {
        self.https_port != next.https_port
            || (next.https_port.is_some()
                && (self.host != next.host || self.cert_dir != next.cert_dir))
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

/// `a b c`, or `none`.
fn list_text(entries: &[String]) -> String {
    if entries.is_empty() {
        return "none".into();
    }
    entries.join(" ")
}

/// `/assets/** Cache-Control: max-age=60; ...`, or `none`.
fn rules_text(rules: &HeaderRules) -> String {
    if rules.is_empty() {
        return "none".into();
    }
    let text: Vec<String> = rules
        .rules()
        .iter()
        .map(|rule| {
            let value = String::from_utf8_lossy(rule.value.as_bytes());
            format!("{} {}: {value}", rule.path, rule.name)
        })
        .collect();
    text.join("; ")
}

/// Headers a rule may not set: they frame the message or belong to the connection, and
/// Wharf must set them itself for the response to arrive intact.
const FRAMING_HEADERS: [&str; 10] = [
    "connection",
    "content-encoding",
    "content-length",
    "content-range",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers that grant other origins access, which only the CORS settings may send.
const CORS_HEADERS: [&str; 2] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
];

fn header_rules(
    drafts: Vec<CustomHeaderDraft>,
    names: NameMatching,
) -> Result<HeaderRules, ConfigError> {
    let mut globs = GlobSetBuilder::new();
    let mut rules = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.into_iter().enumerate() {
        let refuse = |member: &str, reason: String| ConfigError {
            field: "customHeaders",
            reason: format!("[{index}].{member}: {reason}"),
        };
        let path = draft.path.trim();
        if !path.starts_with(['/', '*']) {
            return Err(refuse(
                "path",
                format!(
                    "{path:?} must start with / (e.g. \"/assets/**\") or * (e.g. \"**/*.wasm\")"
                ),
            ));
        }
        globs.add(names.glob(path).map_err(|err| {
            refuse(
                "path",
                format!("{path:?} is not a valid glob: {}", err.kind()),
            )
        })?);
        let name = HeaderName::from_bytes(draft.name.trim().as_bytes()).map_err(|_| {
            refuse(
                "name",
                format!(
                    "{:?} is not a valid header name; use e.g. \"Cache-Control\"",
                    draft.name
                ),
            )
        })?;
        if FRAMING_HEADERS.contains(&name.as_str()) {
            return Err(refuse(
                "name",
                format!("{name} is set by Wharf itself so that responses arrive intact"),
            ));
        }
        // A rule must not undo the CORS allow-list (issue 13, point 4): `*` or any fixed
        // origin would let every site, or one the user never listed, read the folder.
        if CORS_HEADERS.contains(&name.as_str()) {
            return Err(refuse(
                "name",
                format!("{name} is set by Wharf from cors and corsOrigins; list the origins there"),
            ));
        }
        let value = HeaderValue::from_str(draft.value.trim()).map_err(|_| {
            refuse(
                "value",
                format!(
                    "{:?} is not a valid header value (no line breaks or control characters)",
                    draft.value
                ),
            )
        })?;
        rules.push(HeaderRule {
            path: path.to_owned(),
            name,
            value,
        });
    }
    let globs = globs.build().map_err(|err| ConfigError {
        field: "customHeaders",
        reason: format!("the globs cannot be combined: {err}"),
    })?;
    Ok(HeaderRules {
        rules,
        globs,
        names,
    })
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

/// The certificate folder made absolute. It need not exist yet: it is made on first use.
fn cert_folder(dir: &Path) -> Result<PathBuf, ConfigError> {
    let refuse = |reason: String| ConfigError {
        field: "certDir",
        reason,
    };
    if dir.as_os_str().is_empty() {
        return Err(refuse(
            "is empty; choose a folder for the HTTPS certificate".into(),
        ));
    }
    let absolute = std::path::absolute(dir)
        .map_err(|err| refuse(format!("{} cannot be used: {err}", dir.display())))?;
    if absolute.is_file() {
        return Err(refuse(format!(
            "{} is a file, not a folder; choose a folder for the HTTPS certificate",
            dir.display()
        )));
    }
    Ok(absolute)
}

fn canonical_root(root: &Path) -> Result<PathBuf, ConfigError> {
    let shown = root.display();
    // dunce: without the `\\?\` prefix Windows's canonical form has, which users would see
    // in every message naming the root (issue 14). The cache and the listing spell the real
    // paths they compare with it the same way.
    let canonical = dunce::canonicalize(root).map_err(|err| ConfigError {
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
        assert!(config.live_reload && config.custom_headers.is_empty());
        assert!(!config.spa_fallback && !config.clean_urls && !config.drop_html_extension);
        assert!(!config.cors && !config.cross_origin_isolation);
        assert_eq!(
            (config.https_port, config.cert_dir.as_deref()),
            (None, None)
        );
        // The default ignore globs compile (IgnoreGlobs::default would be empty otherwise).
        assert_eq!(config.reload_ignore.patterns(), DEFAULT_RELOAD_IGNORE);
        assert!(config.reload_ignore.is_ignored("a/node_modules/b.js"));
        // The draft of a config validates back to it.
        let again = ServerConfig::try_from(ConfigDraft::from(&config)).unwrap();
        assert_eq!(again, config);
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
    fn https_needs_a_port_of_its_own_and_a_certificate_folder() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        let https = |port: u32, cert_dir: Option<&Path>| {
            ServerConfig::try_from(ConfigDraft {
                port: Some(8080),
                https_port: Some(port),
                cert_dir: cert_dir.map(Path::to_path_buf),
                ..draft(dir.path())
            })
        };
        let on = https(8443, Some(&certs)).unwrap();
        assert_eq!(on.https_port, Some(8443));
        assert_eq!(on.cert_dir.as_deref(), Some(certs.as_path()));
        assert_eq!(https(0, Some(&certs)).unwrap().https_port, Some(0));
        let again = ServerConfig::try_from(ConfigDraft::from(&on)).unwrap();
        assert_eq!(again, on);

        let missing = https(8443, None).unwrap_err();
        assert_eq!(missing.field, "certDir");
        assert!(missing.reason.contains("certificate"), "{missing}");
        let same = https(8080, Some(&certs)).unwrap_err();
        assert_eq!(same.field, "httpsPort");
        assert!(same.reason.contains("already the HTTP port"), "{same}");
        let big = https(70000, Some(&certs)).unwrap_err();
        assert_eq!(big.field, "httpsPort");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(https(8443, Some(&file)).unwrap_err().field, "certDir");

        let off = ServerConfig::try_from(ConfigDraft {
            port: Some(8080),
            ..draft(dir.path())
        })
        .unwrap();
        assert!(off.needs_https_rebind(&on) && on.needs_https_rebind(&off));
        assert!(!off.needs_rebind(&on));
        let changes = off.changes(&on);
        assert_eq!(changes[0].to_string(), "https_port off -> 8443");
        assert_eq!(changes[1].field, "certDir");
    }
}
