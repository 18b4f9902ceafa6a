//! Who may read the site through a browser: the `Host` allow-list against DNS rebinding, the
//! refusal of cross-site `no-cors` loads, and the CORS origin allow-list (issue 13, points 3
//! and 4).
//!
//! The service asks [`refusal`] before it does anything else with a request, `/__wharf/`
//! paths included, and asks [`add_cors`] for the CORS headers of every answer. This module
//! only reads the request's head and the config snapshot: it never touches files, and it
//! holds no state but the machine's host name, read once.
//!
//! - **Host.** A page on `evil.example` whose name is rebound to 127.0.0.1 sends
//!   `Host: evil.example`; only names the user meant are served. Allowed: `localhost`,
//!   `*.localhost`, IP literals (an IP origin cannot be rebound), the machine's name and
//!   `NAME.local` while the server binds a non-loopback address, and [`AllowedHosts`]. This is
//!   what Vite's `server.allowedHosts` and webpack-dev-server's `allowedHosts: 'auto'` do.
//!   A request with no `Host` at all (HTTP/1.0) passes: every browser sends one, so only a
//!   tool without a browser's same-origin policy omits it, and such a tool can connect to the
//!   server directly anyway.
//! - **Cross-site loads.** `Sec-Fetch-Site: cross-site` with `Sec-Fetch-Mode: no-cors` is a
//!   `<script src>` or `<img>` from another site, which CORS does not govern: refused unless
//!   CORS is on and the page's origin is allowed (webpack-dev-server's fix for
//!   CVE-2025-30359). `/__wharf/` is never loaded cross-site.
//! - **CORS.** With CORS on, `Access-Control-Allow-Origin` echoes an allowed origin (never
//!   `*`), with `Vary: Origin`, and never on `/__wharf/`. Allowed: `http(s)://` `localhost`,
//!   `*.localhost`, `127.0.0.0/8` and `[::1]` on any port, and [`CorsOrigins`].
//!
//!   Hand-written rather than tower-http's `CorsLayer`, which cannot give today's answers:
//!   it answers a preflight itself with 200 (Wharf answers 204 with `Allow`, as for any
//!   OPTIONS), grants the configured methods whatever method the preflight asks for (Wharf
//!   grants nothing to a preflight for a method it does not serve), sends its own `Vary` list,
//!   and cannot leave `/__wharf/` out, since its origin predicate never sees the path.
//!
//! Browsers send `Sec-Fetch-*` only to potentially trustworthy URLs (HTTPS, localhost,
//! loopback), so over plain HTTP on a LAN address the cross-site check has nothing to read;
//! the `Host` check holds there too. The machine's name is read at the first request that
//! needs it, so a renamed computer is picked up at the next start.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::OnceLock;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::Authority;
use http::{Method, Request, Response, StatusCode};

use crate::config::{ConfigError, ServerConfig};
use crate::http::body::Body;
use crate::live_reload::RESERVED_SEGMENT;
use crate::serve::resolve::SitePath;

const PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const CLOSE: HeaderValue = HeaderValue::from_static("close");
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
const SEC_FETCH_MODE: HeaderName = HeaderName::from_static("sec-fetch-mode");
const VARY_ORIGIN: HeaderValue = HeaderValue::from_static("origin");
const METHODS: HeaderValue = HeaderValue::from_static("GET, HEAD, OPTIONS");
const PREFLIGHT_MAX_AGE: HeaderValue = HeaderValue::from_static("86400");
const VARY_REQUEST_HEADERS: HeaderValue =
    HeaderValue::from_static("access-control-request-headers");
/// Longest host name quoted back in a refusal page.
const SHOWN_HOST_MAX: usize = 255;

/// Host names the user allows beside the built-in ones: `name` for that name, `.name` or
/// `*.name` for it and every name under it. Case-insensitive; a trailing dot is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    /// The entries as written.
    entries: Vec<String>,
    /// `(name, with subdomains)`, lowercase, without a trailing dot.
    rules: Vec<(String, bool)>,
}

impl AllowedHosts {
    /// Validates `entries`.
    ///
    /// # Errors
    /// [`ConfigError`] on item `index` of `allowedHosts` for an entry that is not a host
    /// name (a scheme, port, path or `*` alone).
    pub fn new(entries: Vec<String>) -> Result<AllowedHosts, ConfigError> {
        let mut rules = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let refuse = |why: &str| {
                ConfigError::item("allowedHosts", index, None, format!("{entry:?} {why}"))
            };
            let text = entry.trim();
            let (name, subdomains) =
                match text.strip_prefix("*.").or_else(|| text.strip_prefix('.')) {
                    Some(rest) => (rest, true),
                    None => (text, false),
                };
            let name = normalise(name);
            if text.contains("://") || text.contains(['/', ':', '@']) {
                return Err(refuse(
                    "is not a host name; give the name alone, without scheme or port (e.g. \"myapp.test\")",
                ));
            }
            let label_ok = |label: &str| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            if name.is_empty() || !name.split('.').all(label_ok) {
                return Err(refuse(
                    "is not a host name; use e.g. \"myapp.test\", or \".myapp.test\" for it and every name under it",
                ));
            }
            rules.push((name, subdomains));
        }
        Ok(AllowedHosts { entries, rules })
    }

    /// The entries as written.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    fn allows(&self, name: &str) -> bool {
        self.rules
            .iter()
            .any(|(rule, subdomains)| name == rule || (*subdomains && is_under(name, rule)))
    }
}

/// Origins the user allows to read the site with CORS, beside the loopback ones: exact origins
/// such as `https://app.example.test` or `http://192.168.1.20:3000`. Case-insensitive; a
/// scheme's default port may be written or left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins {
    /// The entries as written.
    entries: Vec<String>,
    /// Each as `scheme://host[:port]`, lowercase, without the scheme's default port.
    origins: Vec<String>,
}

impl CorsOrigins {
    /// Validates `entries`.
    ///
    /// # Errors
    /// [`ConfigError`] on item `index` of `corsOrigins` for an entry that is not an
    /// `http` or `https` origin (a path, a query, `*`, or no scheme).
    pub fn new(entries: Vec<String>) -> Result<CorsOrigins, ConfigError> {
        let mut origins = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let origin = Origin::parse_entry(entry.trim()).ok_or_else(|| {
                ConfigError::item(
                    "corsOrigins",
                    index,
                    None,
                    format!(
                        "{entry:?} is not an origin; use scheme, name and port only, \
                     e.g. \"https://app.example.test\" or \"http://192.168.1.20:3000\""
                    ),
                )
            })?;
            origins.push(origin.to_string());
        }
        Ok(CorsOrigins { entries, origins })
    }

    /// The entries as written.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    fn allows(&self, origin: &Origin) -> bool {
        origin.is_loopback() || self.origins.contains(&origin.to_string())
    }
}

/// The answer to a request this module refuses: 403 for a foreign `Host` or a cross-site
/// `no-cors` load. `None` lets the service answer it.
pub(crate) fn refusal<B>(config: &ServerConfig, request: &Request<B>) -> Option<Response<Body>> {
    if let Some(host) = foreign_host(config, request) {
        let sent = host_name(&host).unwrap_or(&host);
        let shown = shown(sent);
        let name = shown_name(&normalise(sent));
        return Some(forbidden(format!(
            "403 Forbidden: this server does not answer to the name \"{shown}\".\n\n\
             Wharf serves only names it was told about, so that a web page elsewhere cannot read \
             this folder by pointing its own name at this computer (DNS rebinding).\n\n\
             If you opened this address yourself, allow the name:\n\
             - wharf on the command line: --allowed-host {name}\n\
             - the Wharf app: the site's Settings, \"Allowed hosts\"\n"
        )));
    }
    if is_cross_site_load(config, request) {
        return Some(forbidden(
            "403 Forbidden: Wharf does not let pages of other sites load its files \
             (Sec-Fetch-Site: cross-site, Sec-Fetch-Mode: no-cors).\n\n\
             To let your own site load them, turn CORS on and add its origin:\n\
             - wharf on the command line: --cors --cors-origin https://app.example.test\n\
             - the Wharf app: the site's Settings, \"CORS\" and \"CORS origins\"\n\
             Pages on localhost, 127.0.0.1 and [::1] are allowed once CORS is on.\n"
                .to_owned(),
        ));
    }
    None
}

/// With CORS on and outside `/__wharf/`: `Vary: Origin`, and for an allowed `Origin` its echo,
/// plus, for a preflight of a method Wharf serves, the methods, headers and lifetime.
pub(crate) fn add_cors(
    config: &ServerConfig,
    request: &HeaderMap,
    method: &Method,
    out: &mut HeaderMap,
) {
    if !config.cors {
        return;
    }
    out.append(header::VARY, VARY_ORIGIN);
    let Some(origin) = request.get(header::ORIGIN) else {
        return;
    };
    let allowed = origin
        .to_str()
        .ok()
        .and_then(Origin::parse)
        .is_some_and(|parsed| config.cors_origins.allows(&parsed));
    if !allowed {
        return;
    }
    if method == Method::OPTIONS {
        let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_METHOD) else {
            out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            return;
        };
        if !matches!(asked.as_bytes(), b"GET" | b"HEAD" | b"OPTIONS") {
            return;
        }
        out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, METHODS);
        if let Some(headers) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, headers.clone());
            out.append(header::VARY, VARY_REQUEST_HEADERS);
        }
        out.insert(header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE);
    }
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
}

/// Whether `path` (as received) is one of Wharf's own endpoints, whose answers are never the
/// site's: no CORS, no custom headers, no cross-site loads.
pub(crate) fn is_wharf_path(path: &str) -> bool {
    SitePath::parse(path, true).is_ok_and(|site| {
        site.segments
            .first()
            .is_some_and(|first| first == RESERVED_SEGMENT)
    })
}

/// The first `Host` (or HTTP/2 `:authority`) value that names a host this server does not
/// answer to, as received.
fn foreign_host<B>(config: &ServerConfig, request: &Request<B>) -> Option<String> {
    // On HTTP/2 hyper puts `:authority` in the URI; on HTTP/1 an absolute-form target's
    // authority overrides `Host` (RFC 9112 §3.2.2). Every value given must be allowed.
    let authority = request.uri().authority().map(Authority::as_str);
    let hosts = request
        .headers()
        .get_all(header::HOST)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()));
    authority
        .map(std::borrow::Cow::Borrowed)
        .into_iter()
        .chain(hosts)
        .find(|value| !is_allowed_host(config, value))
        .map(std::borrow::Cow::into_owned)
}

fn is_allowed_host(config: &ServerConfig, value: &str) -> bool {
    let Some(name) = host_name(value) else {
        return false;
    };
    if name.starts_with('[') {
        // `host_name` only returns a bracketed name that is an IPv6 literal.
        return true;
    }
    // The common cases first, without allocating: this runs on every request.
    let bare = name.strip_suffix('.').unwrap_or(name);
    if is_localhost(bare) || bare.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = normalise(name);
    if !config.host.is_loopback() && machine_names().contains(&name) {
        return true;
    }
    config.allowed_hosts.allows(&name)
}

/// The host of a `Host` value (`name`, `name:port`, `[v6]:port`), or `None` if it is not one
/// (RFC 9110 §7.2: no user info, a bracketed host is an IPv6 literal, a port is digits).
fn host_name(value: &str) -> Option<&str> {
    let (host, port) = match value.strip_prefix('[') {
        Some(inner) => {
            let end = inner.find(']')?;
            inner[..end].parse::<Ipv6Addr>().ok()?;
            let (host, rest) = value.split_at(end + 2);
            match rest {
                "" => (host, None),
                _ => (host, Some(rest.strip_prefix(':')?)),
            }
        }
        None => match value.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        },
    };
    let host_ok = host.starts_with('[')
        || (!host.is_empty()
            && host.bytes().all(|b| {
                b.is_ascii_graphic()
                    && !matches!(b, b'@' | b'/' | b'\\' | b'?' | b'#' | b'[' | b']')
            }));
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    (host_ok && port_ok).then_some(host)
}

fn is_cross_site_load<B>(config: &ServerConfig, request: &Request<B>) -> bool {
    let headers = request.headers();
    let is = |name: &HeaderName, value: &str| {
        headers
            .get(name)
            .is_some_and(|got| got.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
    };
    if !(is(&SEC_FETCH_SITE, "cross-site") && is(&SEC_FETCH_MODE, "no-cors")) {
        return false;
    }
    if !config.cors || is_wharf_path(request.uri().path()) {
        return true;
    }
    // A `<script src>` sends no `Origin`, but its `Referer` carries the page's origin under
    // the default policy; the browser sets both, so neither can name another page.
    let page = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok())
        .and_then(Origin::parse);
    !page.is_some_and(|origin| config.cors_origins.allows(&origin))
}

/// `scheme://host[:port]`, lowercase, without the scheme's default port.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: &'static str,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// An `http` or `https` origin, or the origin of such a URL when `text` has a path
    /// (as `Referer` does). `None` for anything else, `null` included.
    fn parse(text: &str) -> Option<Origin> {
        let uri: http::Uri = text.parse().ok()?;
        let scheme = match uri.scheme_str()?.to_ascii_lowercase().as_str() {
            "http" => "http",
            "https" => "https",
            _ => return None,
        };
        let authority = uri.authority()?;
        let host = host_name(authority.as_str())?;
        let default_port = if scheme == "http" { 80 } else { 443 };
        Some(Origin {
            scheme,
            host: normalise(host),
            port: authority.port_u16().filter(|port| *port != default_port),
        })
    }

    /// An entry of `corsOrigins`: an origin and nothing more (a lone `/` is tolerated).
    fn parse_entry(text: &str) -> Option<Origin> {
        let uri: http::Uri = text.parse().ok()?;
        let bare = uri.query().is_none() && matches!(uri.path(), "" | "/");
        Origin::parse(text).filter(|_| bare)
    }

    fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        is_localhost(host) || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// `localhost` and every name under it, which resolve to loopback (RFC 6761 §6.3); any case.
fn is_localhost(name: &str) -> bool {
    let name = name.as_bytes();
    name.eq_ignore_ascii_case(b"localhost")
        || (name.len() > b".localhost".len()
            && name[name.len() - b".localhost".len()..].eq_ignore_ascii_case(b".localhost"))
}

fn is_under(name: &str, parent: &str) -> bool {
    name.len() > parent.len()
        && name.ends_with(parent)
        && name.as_bytes()[name.len() - parent.len() - 1] == b'.'
}

/// Lowercase, without a trailing dot (`Example.TEST.` is `example.test`).
fn normalise(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// This computer's name and its mDNS name (`studio`, `studio.local`), lowercase; read once,
/// since asking the OS on every request would cost a system call.
fn machine_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let name = normalise(&gethostname::gethostname().to_string_lossy());
        if name.is_empty() {
            return Vec::new();
        }
        // `studio.local` from `studio`, and `studio` from `studio.local` (macOS may report either).
        let short = name.strip_suffix(".local").unwrap_or(&name).to_owned();
        let mut names = vec![short.clone(), format!("{short}.local")];
        if !names.contains(&name) {
            names.push(name);
        }
        names
    })
}

/// `value` as safe text for a page: at most [`SHOWN_HOST_MAX`] characters, with anything but
/// printable ASCII escaped.
fn shown(value: &str) -> String {
    let mut text: String = value
        .chars()
        .take(SHOWN_HOST_MAX)
        .flat_map(char::escape_default)
        .collect();
    if value.chars().count() > SHOWN_HOST_MAX {
        text.push_str("...");
    }
    text
}

/// The name to suggest for `--allowed-host`: itself when it is a plain host name.
fn shown_name(name: &str) -> String {
    if AllowedHosts::new(vec![name.to_owned()]).is_ok() {
        name.to_owned()
    } else {
        "NAME".to_owned()
    }
}

/// A plain-text 403 that no cache keeps (and, like every answer, `nosniff`: no browser
/// sniffs it into HTML). The connection closes: the client has nothing more to ask on it, and a body it sent is never read.
fn forbidden(text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::FORBIDDEN;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, PLAIN);
    headers.insert(header::CACHE_CONTROL, NO_STORE);
    headers.insert(header::CONNECTION, CLOSE);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_found_in_host_values() {
        assert_eq!(host_name("localhost:8080"), Some("localhost"));
        assert_eq!(host_name("[::1]:8080"), Some("[::1]"));
        assert_eq!(host_name("[::1]"), Some("[::1]"));
        assert_eq!(host_name("Example.TEST."), Some("Example.TEST."));
        assert_eq!(host_name("[evil.example]"), None);
        assert_eq!(host_name("user@localhost"), None);
        assert_eq!(host_name("a b"), None);
        assert_eq!(host_name(""), None);
        assert_eq!(host_name("localhost:"), None);
        assert_eq!(host_name("localhost:80x"), None);
        assert_eq!(host_name("[::1]x"), None);
        assert_eq!(host_name("[::1"), None);
        assert_eq!(host_name("a/b"), None);
        assert!(is_localhost("App.LocalHost") && !is_localhost("evillocalhost"));
    }

    #[test]
    fn allowed_hosts_match_names_and_subdomains() {
        let hosts = AllowedHosts::new(vec![
            "MyApp.test.".into(),
            ".team.test".into(),
            "*.wild.test".into(),
        ])
        .unwrap();
        assert!(hosts.allows("myapp.test"));
        assert!(!hosts.allows("x.myapp.test"));
        assert!(hosts.allows("team.test") && hosts.allows("a.b.team.test"));
        assert!(hosts.allows("wild.test") && hosts.allows("a.wild.test"));
        assert!(!hosts.allows("evilteam.test"));
        for bad in [
            "",
            "*",
            "http://x.test",
            "x.test:80",
            "x..test",
            "x/y",
            "*.",
            "a b",
        ] {
            let err = AllowedHosts::new(vec!["ok.test".into(), bad.into()]).unwrap_err();
            assert_eq!(err.field, "allowedHosts");
            assert!(err.to_string().starts_with("allowedHosts[1]: "), "{err}");
        }
    }

    #[test]
    fn origins_are_compared_normalised() {
        let origins = CorsOrigins::new(vec![
            "HTTPS://App.Example.test:443".into(),
            "http://192.168.1.20:3000/".into(),
        ])
        .unwrap();
        let allows = |text: &str| origins.allows(&Origin::parse(text).unwrap());
        assert!(allows("https://app.example.test"));
        assert!(allows("http://192.168.1.20:3000"));
        assert!(!allows("http://app.example.test"));
        assert!(!allows("https://app.example.test:8443"));
        assert!(allows("http://localhost:5173") && allows("https://a.localhost"));
        assert!(allows("http://127.0.0.1:1") && allows("http://[::1]:3000"));
        assert!(!allows("http://localhost.evil.example"));
        assert_eq!(Origin::parse("null"), None);
        for bad in [
            "*",
            "app.example.test",
            "https://x.test/path",
            "ftp://x.test",
            "https://x.test?q",
        ] {
            let err = CorsOrigins::new(vec![bad.into()]).unwrap_err();
            assert!(err.to_string().starts_with("corsOrigins[0]: "), "{err}");
        }
    }

    #[test]
    fn refusal_pages_show_hostile_names_as_text() {
        assert_eq!(shown("a\u{202e}b\n<x>"), "a\\u{202e}b\\n<x>");
        assert_eq!(shown_name("evil.example"), "evil.example");
        assert_eq!(shown_name("<script>"), "NAME");
    }
}
