//! `wharf serve`'s flags. Each one is optional so that, with `--config`, only the flags
//! actually given override the file.

use std::net::IpAddr;
use std::path::PathBuf;

use wharf_core::config::CustomHeaderDraft;
use wharf_core::ConfigDraft;

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Folder to serve; overrides `root` from --config [default: .]
    pub(crate) dir: Option<PathBuf>,
    /// TOML config file (same fields as the flags, e.g. `port = 8080`, `keep_alive = false`).
    /// Flags override it. Re-read when it changes and on SIGHUP (Unix).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Keep a durable access log of every request in this folder (one session per run; the
    /// oldest sessions are deleted beyond 20). Read it with `wharf export-csv`.
    #[arg(long, value_name = "DIR")]
    pub(crate) log_dir: Option<PathBuf>,
    /// With --log-dir: megabytes one session's log may hold; beyond it the oldest records
    /// are deleted (and an export says how many) [default: 256]
    #[arg(long, value_name = "MB", requires = "log_dir", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) log_max_mb: Option<u64>,
    /// With --log-dir: sessions kept; the oldest are deleted first [default: 20]
    #[arg(long, value_name = "N", requires = "log_dir", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) log_sessions: Option<u64>,
    /// Print every request on stdout as it is served.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) access_log: Option<crate::tail::Format>,
    /// Address to listen on. 0.0.0.0 shares the folder with every device on your network
    /// [default: 127.0.0.1]
    #[arg(long)]
    host: Option<IpAddr>,
    /// Port to listen on. 0 picks a free port [default: 8080]
    #[arg(long)]
    port: Option<u16>,
    /// Also serve HTTPS (HTTP/2 and HTTP/1.1) on this port, with a self-signed certificate.
    /// 0 picks a free port [default: off]
    #[arg(long, value_name = "PORT")]
    https_port: Option<u16>,
    /// Folder for the HTTPS certificate, made on first use and reused after
    /// [default: wharf/certs in the user's local data folder: $XDG_DATA_HOME or ~/.local/share
    /// on Linux, ~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows]
    #[arg(long, value_name = "DIR")]
    cert_dir: Option<PathBuf>,
    /// Seconds a client may take to send its request headers before it is cut off [default: 10]
    #[arg(long, value_name = "SECS")]
    header_timeout: Option<f64>,
    /// Seconds an idle keep-alive connection stays open [default: 5]
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<f64>,
    /// Connections served at once; more wait in the kernel's accept queue [default: 4096]
    #[arg(long, value_name = "N")]
    max_connections: Option<u64>,
    /// Close every connection after one response (no keep-alive).
    #[arg(long)]
    no_keep_alive: bool,
    /// Answer 404 for folders without index.html instead of listing them.
    #[arg(long)]
    no_listing: bool,
    /// Serve and list dotfiles and dot-folders such as .env and .git/ (hidden by default).
    #[arg(long)]
    show_dotfiles: bool,
    /// Serve files whose symlinks lead outside the folder (refused by default).
    #[arg(long)]
    follow_symlinks: bool,
    /// Cache-Control header sent with files and listings [default: no-cache]
    #[arg(long, value_name = "VALUE")]
    cache_control: Option<String>,
    /// Never compress responses (by default text is sent gzip- or Brotli-compressed when the
    /// client accepts it).
    #[arg(long)]
    no_compression: bool,
    /// Answer missed page navigations (no extension, Accept: text/html) with the root
    /// index.html and 200, for single-page apps.
    #[arg(long)]
    spa_fallback: bool,
    /// Serve /about from about.html.
    #[arg(long)]
    clean_urls: bool,
    /// With --clean-urls: redirect /about.html to /about (301).
    #[arg(long)]
    drop_html_extension: bool,
    /// Let pages on other origins read files with CORS: pages on localhost, 127.0.0.1 and [::1]
    /// (any port), and those given with --cors-origin. Answers their preflights.
    #[arg(long)]
    cors: bool,
    /// An origin CORS lets read files, e.g. https://app.example.test. Repeatable; replaces the
    /// file's cors_origins.
    #[arg(long, value_name = "ORIGIN")]
    cors_origin: Vec<String>,
    /// A host name to answer to beside localhost, *.localhost and IP addresses (and this
    /// computer's name when --host is not loopback); .NAME allows NAME and every name under
    /// it. Repeatable; replaces the file's allowed_hosts. Other names get 403 (DNS rebinding).
    #[arg(long, value_name = "NAME")]
    allowed_host: Vec<String>,
    /// Send COOP same-origin and COEP require-corp (what SharedArrayBuffer needs).
    #[arg(long)]
    cross_origin_isolation: bool,
    /// Add a response header for URL paths matching a glob, e.g.
    /// `--header '/assets/** Cache-Control: max-age=31536000'`. Repeatable; replaces the
    /// file's custom_headers.
    #[arg(long = "header", value_name = "GLOB NAME: VALUE", value_parser = parse_header_rule)]
    headers: Vec<CustomHeaderDraft>,
    /// Do not reload pages when files change (no script is added to HTML).
    #[arg(long)]
    no_live_reload: bool,
    /// A glob of changes that do not reload pages. Repeatable; replaces the default list
    /// (.git/**, node_modules/**, target/**, *.swp, *~, .#*, 4913).
    #[arg(long, value_name = "GLOB")]
    reload_ignore: Vec<String>,
}

impl ServeArgs {
    /// `base` (the config file's draft, or an empty one) with every flag given written over it.
    pub(crate) fn over(&self, base: ConfigDraft) -> ConfigDraft {
        let given = |flag: bool, value: bool| flag.then_some(value);
        let mut draft = base;
        if let Some(dir) = &self.dir {
            draft.root = Some(dir.clone());
        }
        draft.root.get_or_insert_with(|| PathBuf::from("."));
        draft.host = self.host.map(|host| host.to_string()).or(draft.host);
        draft.port = self.port.map(u32::from).or(draft.port);
        draft.https_port = self.https_port.map(u32::from).or(draft.https_port);
        draft.cert_dir = self.cert_dir.clone().or(draft.cert_dir);
        if draft.https_port.is_some() && draft.cert_dir.is_none() {
            draft.cert_dir = default_cert_dir();
        }
        draft.header_read_timeout_ms = self
            .header_timeout
            .map(seconds_to_ms)
            .or(draft.header_read_timeout_ms);
        draft.keep_alive_idle_timeout_ms = self
            .idle_timeout
            .map(seconds_to_ms)
            .or(draft.keep_alive_idle_timeout_ms);
        draft.max_connections = self.max_connections.or(draft.max_connections);
        draft.keep_alive = given(self.no_keep_alive, false).or(draft.keep_alive);
        draft.directory_listing = given(self.no_listing, false).or(draft.directory_listing);
        draft.show_dotfiles = given(self.show_dotfiles, true).or(draft.show_dotfiles);
        draft.follow_symlinks = given(self.follow_symlinks, true).or(draft.follow_symlinks);
        draft.cache_control = self.cache_control.clone().or(draft.cache_control);
        draft.compression = given(self.no_compression, false).or(draft.compression);
        draft.spa_fallback = given(self.spa_fallback, true).or(draft.spa_fallback);
        draft.clean_urls = given(self.clean_urls, true).or(draft.clean_urls);
        draft.drop_html_extension =
            given(self.drop_html_extension, true).or(draft.drop_html_extension);
        draft.cors = given(self.cors, true).or(draft.cors);
        draft.cross_origin_isolation =
            given(self.cross_origin_isolation, true).or(draft.cross_origin_isolation);
        if !self.headers.is_empty() {
            draft.custom_headers = Some(self.headers.clone());
        }
        draft.live_reload = given(self.no_live_reload, false).or(draft.live_reload);
        if !self.reload_ignore.is_empty() {
            draft.reload_ignore = Some(self.reload_ignore.clone());
        }
        if !self.allowed_host.is_empty() {
            draft.allowed_hosts = Some(self.allowed_host.clone());
        }
        if !self.cors_origin.is_empty() {
            draft.cors_origins = Some(self.cors_origin.clone());
        }
        draft
    }
}

/// `wharf/certs` in the OS's local data folder (`dirs::data_local_dir`): `$XDG_DATA_HOME` or
/// `~/.local/share` on Linux, `~/Library/Application Support` on macOS, `%LOCALAPPDATA%` on
/// Windows (local, not roaming: the certificate names this machine's addresses). `None` when
/// the OS names no such folder (validation then asks for `--cert-dir`).
fn default_cert_dir() -> Option<PathBuf> {
    dirs::data_local_dir().map(|data| data.join("wharf").join("certs"))
}

/// Seconds from the command line to the config's milliseconds; out-of-range values are left
/// for config validation to explain.
fn seconds_to_ms(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs * 1000.0).round() as u64
    } else {
        0
    }
}

/// `GLOB NAME: VALUE` (the glob ends at the first space). Names and values are checked with
/// the rest of the config, so the error names the rule.
fn parse_header_rule(text: &str) -> Result<CustomHeaderDraft, String> {
    let shape = || {
        format!("{text:?} is not `GLOB NAME: VALUE`, e.g. '/assets/** Cache-Control: max-age=60'")
    };
    let (path, header) = text.trim().split_once(' ').ok_or_else(shape)?;
    let (name, value) = header.split_once(':').ok_or_else(shape)?;
    Ok(CustomHeaderDraft {
        path: path.to_owned(),
        name: name.trim().to_owned(),
        value: value.trim().to_owned(),
    })
}
