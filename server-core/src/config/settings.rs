//! THE settings table: every server setting, declared once. To add one, add a row here (and
//! its use where the server reads `config.name`); the draft, the validated config, its
//! accessor, the change report, the rebind rule, the CLI flag and the TypeScript type all
//! follow (`table.rs` says how).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use http::HeaderValue;
use serde::{Deserialize, Serialize};

use super::changes::Change;
use super::checks::{self, flag, Context};
use super::error::ConfigError;
use super::flags::{self, FlagInput, FlagSpec, NoFlag, Repeated, Single, Switch};
use super::rules::{HeaderRules, IgnoreGlobs};
use super::table::settings;
use super::validated::Rebind;
use super::value::Value;
use crate::http::guard::{AllowedHosts, CorsOrigins};
use crate::network::{NetworkRuleDraft, NetworkRules};
use crate::proxy::ProxyRules;

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
/// How long the proxy waits to connect to a rule's target before answering 502. Default: 5 s.
pub const DEFAULT_PROXY_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the proxy waits for a target's response head before answering 504. Default: 30 s.
pub const DEFAULT_PROXY_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);
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

settings! {
    /// Folder to serve, made absolute and canonical (symlinks resolved). Required.
    "root" "root" root: PathBuf => root: PathBuf,
        check checks::root, rebind None, cli NoFlag;
    /// Address to bind, e.g. `127.0.0.1` or `0.0.0.0`. Default: `127.0.0.1`.
    "host" "host" host: String => host: IpAddr,
        check checks::host, rebind Both, cli Single { long: "host", value_name: "HOST", parse: flags::ip,
            help: "Address to listen on. 0.0.0.0 shares the folder with every device on your \
                network [default: 127.0.0.1]" };
    /// Port to bind; `0` picks a free one. Default: `8080`.
    "port" "port" port: u32 => port: u16,
        check checks::port, rebind Http, cli Single { long: "port", value_name: "PORT", parse: flags::port,
            help: "Port to listen on. 0 picks a free port [default: 8080]" };
    /// Port to serve HTTPS on as well (HTTP/2 or HTTP/1.1 by ALPN), beside `port`; `0` picks
    /// a free one. Default: none (HTTPS off).
    "httpsPort" "https_port" https_port: u32 => https_port: Option<u16>,
        check checks::https_port, rebind Https, cli Single { long: "https-port", value_name: "PORT",
            parse: flags::port,
            help: "Also serve HTTPS (HTTP/2 and HTTP/1.1) on this port, with a self-signed \
                certificate. 0 picks a free port [default: off]" };
    /// Folder holding the HTTPS certificate, made there on first use and reused after.
    /// Required with `httpsPort`. Default: none (the CLI and the app pass their data folder).
    "certDir" "cert_dir" cert_dir: PathBuf => cert_dir: Option<PathBuf>,
        check checks::cert_dir, rebind Https, cli Single { long: "cert-dir", value_name: "DIR",
            parse: flags::path,
            help: "Folder for the HTTPS certificate, made on first use and reused after \
                [default: wharf/certs in the user's local data folder: $XDG_DATA_HOME or \
                ~/.local/share on Linux, ~/Library/Application Support on macOS, \
                %LOCALAPPDATA% on Windows]" };
    /// Keep connections open between requests. Default: on.
    "keepAlive" "keep_alive" keep_alive: bool => keep_alive: bool,
        check flag::<true>, rebind None, cli Switch { long: "no-keep-alive", sets: false,
            help: "Close every connection after one response (no keep-alive)." };
    /// Milliseconds a client may take to send a request's headers before it is cut off.
    /// Default: 10,000.
    "headerReadTimeoutMs" "header_read_timeout_ms"
        header_read_timeout_ms: u64 => header_read_timeout: Duration,
        check checks::header_read_timeout, rebind None, cli Single { long: "header-timeout",
            value_name: "SECS", parse: flags::seconds,
            help: "Seconds a client may take to send its request headers before it is cut off \
                [default: 10]" };
    /// Milliseconds an idle keep-alive connection stays open. Default: 5,000.
    "keepAliveIdleTimeoutMs" "keep_alive_idle_timeout_ms"
        keep_alive_idle_timeout_ms: u64 => keep_alive_idle_timeout: Duration,
        check checks::keep_alive_idle_timeout, rebind None, cli Single { long: "idle-timeout",
            value_name: "SECS", parse: flags::seconds,
            help: "Seconds an idle keep-alive connection stays open [default: 5]" };
    /// Connections served at once, 1 to 1,000,000. Beyond it the server stops accepting, so
    /// new connections wait in the kernel's accept queue instead of being accepted and
    /// starved. Default: 4096.
    "maxConnections" "max_connections" max_connections: u64 => max_connections: u32,
        check checks::max_connections, rebind None, cli Single { long: "max-connections",
            value_name: "N", parse: flags::count,
            help: "Connections served at once; more wait in the kernel's accept queue \
                [default: 4096]" };
    /// List folders that have no `index.html`; otherwise they are 404. Default: on.
    "directoryListing" "directory_listing" directory_listing: bool => directory_listing: bool,
        check flag::<true>, rebind None, cli Switch { long: "no-listing", sets: false,
            help: "Answer 404 for folders without index.html instead of listing them." };
    /// Serve and list dotfiles and dot-folders such as `.env` and `.git/`. Default: off.
    "showDotfiles" "show_dotfiles" show_dotfiles: bool => show_dotfiles: bool,
        check flag::<false>, rebind None, cli Switch { long: "show-dotfiles", sets: true,
            help: "Serve and list dotfiles and dot-folders such as .env and .git/ (hidden by \
                default)." };
    /// Serve files whose symlinks lead outside the root. Default: off.
    "followSymlinks" "follow_symlinks" follow_symlinks: bool => follow_symlinks: bool,
        check flag::<false>, rebind None, cli Switch { long: "follow-symlinks", sets: true,
            help: "Serve files whose symlinks lead outside the folder (refused by default)." };
    /// `Cache-Control` header sent with files and listings. Default: `no-cache`.
    "cacheControl" "cache_control" cache_control: String => cache_control: HeaderValue,
        check checks::cache_control, rebind None, cli Single { long: "cache-control",
            value_name: "VALUE", parse: flags::text,
            help: "Cache-Control header sent with files and listings [default: no-cache]" };
    /// Compress text responses for clients that accept gzip or Brotli. Default: on.
    "compression" "compression" compression: bool => compression: bool,
        check flag::<true>, rebind None, cli Switch { long: "no-compression", sets: false,
            help: "Never compress responses (by default text is sent gzip- or \
                Brotli-compressed when the client accepts it)." };
    /// Answer `Range` requests with the parts asked for (206), as `Accept-Ranges: bytes` says;
    /// off, every request gets the whole file, as from a server without ranges. Default: on.
    "byteRanges" "byte_ranges" byte_ranges: bool => byte_ranges: bool,
        check flag::<true>, rebind None, cli Switch { long: "no-byte-ranges", sets: false,
            help: "Ignore Range requests: always send whole files, to test a site or player \
                against servers without byte ranges." };
    /// Answer a missed page navigation (GET or HEAD, `Accept: text/html`, no extension in
    /// the last segment) with the root `index.html` and 200, for single-page apps. Default: off.
    "spaFallback" "spa_fallback" spa_fallback: bool => spa_fallback: bool,
        check flag::<false>, rebind None, cli Switch { long: "spa-fallback", sets: true,
            help: "Answer missed page navigations (no extension, Accept: text/html) with the \
                root index.html and 200, for single-page apps." };
    /// Serve `/about` from `about.html` when `/about` itself does not exist. Default: off.
    "cleanUrls" "clean_urls" clean_urls: bool => clean_urls: bool,
        check flag::<false>, rebind None, cli Switch { long: "clean-urls", sets: true,
            help: "Serve /about from about.html." };
    /// With `cleanUrls`: redirect `/about.html` to `/about` (301) and `/docs/index.html` to
    /// `/docs/`. Default: off.
    "dropHtmlExtension" "drop_html_extension" drop_html_extension: bool => drop_html_extension: bool,
        check flag::<false>, rebind None, cli Switch { long: "drop-html-extension", sets: true,
            help: "With --clean-urls: redirect /about.html to /about (301)." };
    /// Send a `Wharf-Why` header with each answer: the decisions of the access record's `why`
    /// as codes (`route=spa-fallback body=br-compressed`), for the browser's devtools.
    /// Default: off.
    "whyHeader" "why_header" why_header: bool => why_header: bool,
        check flag::<false>, rebind None, cli Switch { long: "why-header", sets: true,
            help: "Send a Wharf-Why header with each answer saying which rule answered and why, \
                as codes (for the browser's devtools)." };
    /// Let allowed origins (`corsOrigins` and the loopback ones) read the site with CORS, and
    /// answer their preflights (see [`crate::http::guard`]). Default: off.
    "cors" "cors" cors: bool => cors: bool,
        check flag::<false>, rebind None, cli Switch { long: "cors", sets: true,
            help: "Let pages on other origins read files with CORS: pages on localhost, \
                127.0.0.1 and [::1] (any port), and those given with --cors-origin. Answers \
                their preflights." };
    /// Send COOP `same-origin` and COEP `require-corp`, which `SharedArrayBuffer` needs.
    /// Default: off.
    "crossOriginIsolation" "cross_origin_isolation" cross_origin_isolation: bool => cross_origin_isolation: bool,
        check flag::<false>, rebind None, cli Switch { long: "cross-origin-isolation", sets: true,
            help: "Send COOP same-origin and COEP require-corp (what SharedArrayBuffer needs)." };
    /// Extra response headers for paths matching a glob, in order. Default: none.
    "customHeaders" "custom_headers" custom_headers: Vec<CustomHeaderDraft> => custom_headers: HeaderRules,
        check checks::custom_headers, rebind None, cli Repeated { long: "header",
            value_name: "GLOB NAME: VALUE", parse: flags::header_rule,
            help: "Add a response header for URL paths matching a glob, e.g. `--header \
                '/assets/** Cache-Control: max-age=31536000'`. Repeatable; replaces the file's \
                custom_headers." };
    /// Requests whose path matches a rule are forwarded to the rule's target (an `http://`
    /// or `https://` URL), ahead of files, clean URLs and the SPA fallback; `/__wharf/` never is. The first
    /// matching rule wins. Default: none.
    "proxy" "proxy" proxy: Vec<ProxyRuleDraft> => proxy: ProxyRules,
        check checks::proxy, rebind None, cli Repeated { long: "proxy",
            value_name: "PATH=URL [rewrite=PREFIX] [change-origin=false]", parse: flags::proxy_rule,
            help: "Forward requests whose path starts with PATH (or matches a ^regex) to URL, \
                e.g. `--proxy '/api=http://localhost:3000'`, ahead of files. `rewrite=` strips \
                PATH (`rewrite=/v2` replaces it); `change-origin=false` keeps the browser's \
                Host. Repeatable; replaces the file's proxy rules." };
    /// Milliseconds the proxy waits to connect to a target before answering 502.
    /// Default: 5,000.
    "proxyConnectTimeoutMs" "proxy_connect_timeout_ms"
        proxy_connect_timeout_ms: u64 => proxy_connect_timeout: Duration,
        check checks::proxy_connect_timeout, rebind None, cli Single {
            long: "proxy-connect-timeout", value_name: "SECS", parse: flags::seconds,
            help: "Seconds the proxy waits to connect to a target before answering 502 \
                [default: 5]" };
    /// Milliseconds the proxy waits for a target's response head before answering 504.
    /// Default: 30,000.
    "proxyFirstByteTimeoutMs" "proxy_first_byte_timeout_ms"
        proxy_first_byte_timeout_ms: u64 => proxy_first_byte_timeout: Duration,
        check checks::proxy_first_byte_timeout, rebind None, cli Single {
            long: "proxy-timeout", value_name: "SECS", parse: flags::seconds,
            help: "Seconds the proxy waits for a target's response before answering 504 \
                [default: 30]" };
    /// Network conditions and faults for paths matching a glob (bandwidth, latency, a status,
    /// a reset or stall after K bytes, a slow first byte, small writes); the first matching
    /// rule applies, never to `/__wharf/`. Default: none.
    "network" "network" network: Vec<NetworkRuleDraft> => network: NetworkRules,
        check checks::network, rebind None, cli Repeated { long: "network",
            value_name: "GLOB KEY=VALUE ...", parse: flags::network_rule,
            help: "Slow down or fail URL paths matching a glob, e.g. `--network '/videos/** \
                preset=slow-3g'` or `--network '/api/** status=503 p=0.1'`. Keys: preset \
                (slow-3g, slow-4g, fast-4g, offline), rate (bytes/s), per (rule or \
                connection), latency, jitter, ttfb (ms), status, reset-after, stall-after, \
                slice (bytes), p (probability, default 1). Repeatable; replaces the file's \
                network." };
    /// Apply the `network` rules; off, they are kept and do nothing, so one switch turns every
    /// throttle and fault off and on again. Default: on.
    "networkConditions" "network_conditions" network_conditions: bool => network_conditions: bool,
        check flag::<true>, rebind None, cli Switch { long: "no-network-conditions",
            sets: false, help: "Keep the network rules but apply none of them." };
    /// Reload pages when a file of the site changes (the `/__wharf/` endpoints and the
    /// script injected into HTML); CSS changes are swapped in place. Default: on.
    "liveReload" "live_reload" live_reload: bool => live_reload: bool,
        check flag::<true>, rebind None, cli Switch { long: "no-live-reload", sets: false,
            help: "Do not reload pages when files change (no script is added to HTML)." };
    /// Changes that never trigger a reload, as globs relative to the root. Default:
    /// [`DEFAULT_RELOAD_IGNORE`].
    "reloadIgnore" "reload_ignore" reload_ignore: Vec<String> => reload_ignore: IgnoreGlobs,
        check checks::reload_ignore, rebind None, cli Repeated { long: "reload-ignore",
            value_name: "GLOB", parse: flags::text,
            help: "A glob of changes that do not reload pages. Repeatable; replaces the \
                default list (.git/**, node_modules/**, target/**, *.swp, *~, .#*, 4913)." };
    /// Host names served beside `localhost`, `*.localhost`, IP literals and (while the server
    /// binds a non-loopback address) this computer's name and `NAME.local`: `name`, or `.name`
    /// / `*.name` for it and every name under it (see [`crate::http::guard`]). Default: none.
    "allowedHosts" "allowed_hosts" allowed_hosts: Vec<String> => allowed_hosts: AllowedHosts,
        check checks::allowed_hosts, rebind None, cli Repeated { long: "allowed-host",
            value_name: "NAME", parse: flags::text,
            help: "A host name to answer to beside localhost, *.localhost and IP addresses \
                (and this computer's name when --host is not loopback); .NAME allows NAME and \
                every name under it. Repeatable; replaces the file's allowed_hosts. Other \
                names get 403 (DNS rebinding)." };
    /// Origins CORS lets read the site beside the loopback ones, e.g.
    /// `https://app.example.test`. Default: none.
    "corsOrigins" "cors_origins" cors_origins: Vec<String> => cors_origins: CorsOrigins,
        check checks::cors_origins, rebind None, cli Repeated { long: "cors-origin",
            value_name: "ORIGIN", parse: flags::text,
            help: "An origin CORS lets read files, e.g. https://app.example.test. Repeatable; \
                replaces the file's cors_origins." };
}

/// One custom header rule as written: `{ path = "/assets/**", name = "Cache-Control",
/// value = "max-age=31536000" }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct CustomHeaderDraft {
    /// Glob over the URL path, e.g. `/assets/**` or `**/*.wasm`. `*` stays within a segment.
    pub path: String,
    /// Header name, e.g. `Cache-Control`.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// One proxy rule as written: `{ path = "/api", target = "http://localhost:3000" }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
// ts-rs runs without its serde feature: the camelCase serde sends is spelled out for it too.
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ProxyRuleDraft {
    /// A path prefix matched at segment boundaries (`/api` matches `/api` and `/api/users`,
    /// not `/apix`), or a regular expression over the path when it starts with `^`.
    pub path: String,
    /// Where matching requests go: an `http://` or `https://` URL, e.g.
    /// `http://localhost:3000`; a path in it (`http://localhost:3000/v2`) is put in front of
    /// the forwarded path. An `https://` target on this machine may show any certificate;
    /// elsewhere, one the OS trusts.
    pub target: String,
    /// Replaces the matched prefix (or, for a regex, the match; `$1` names a group) before
    /// forwarding; `""` strips it. Default: none (the path is forwarded as it came).
    #[cfg_attr(test, ts(optional))]
    pub rewrite: Option<String>,
    /// Send the target's host as `Host` (on), or keep the browser's (off). Default: on.
    /// `change_origin` in the TOML file, as its other names are snake_case.
    #[serde(alias = "change_origin")]
    #[cfg_attr(test, ts(optional))]
    pub change_origin: Option<bool>,
}
