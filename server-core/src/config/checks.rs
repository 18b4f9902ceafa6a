//! The check of each setting: one function from what a user wrote (`Option<draft type>`)
//! to what the server runs on, or a [`ConfigError`] naming the field. The table in
//! `settings.rs` says which check each setting uses; rules between settings are in
//! `validated.rs`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::HeaderValue;

use super::error::ConfigError;
use super::rules::{HeaderRules, IgnoreGlobs};
use super::settings::{
    CustomHeaderDraft, ProxyRuleDraft, DEFAULT_CACHE_CONTROL, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_HOST, DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_PORT,
    DEFAULT_PROXY_CONNECT_TIMEOUT, DEFAULT_PROXY_FIRST_BYTE_TIMEOUT,
};
use crate::http::guard::{AllowedHosts, CorsOrigins};
use crate::network::{NetworkRuleDraft, NetworkRules};
use crate::proxy::ProxyRules;
use crate::serve::names::NameMatching;

/// What a check knows beside its own value: the field it checks (for its errors) and how the
/// root's file system compares names (known once `root` is checked, which comes first).
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub(crate) field: &'static str,
    pub(crate) names: NameMatching,
}

impl Context {
    fn refuse(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError::new(self.field, reason)
    }
}

/// An on/off setting; `ON` is its default.
pub(crate) fn flag<const ON: bool>(
    value: Option<bool>,
    _: &mut Context,
) -> Result<bool, ConfigError> {
    Ok(value.unwrap_or(ON))
}

/// The folder to serve, absolute and canonical. Also learns how its file system compares
/// names, for the globs checked after it (issue 14, point 2).
pub(crate) fn root(value: Option<PathBuf>, cx: &mut Context) -> Result<PathBuf, ConfigError> {
    let root = value.ok_or_else(|| cx.refuse("no folder given; choose the folder to serve"))?;
    let shown = root.display();
    // dunce: without the `\\?\` prefix Windows's canonical form has, which users would see
    // in every message naming the root (issue 14). The cache and the listing spell the real
    // paths they compare with it the same way.
    let canonical = dunce::canonicalize(&root)
        .map_err(|err| cx.refuse(format!("{shown} cannot be opened: {err}")))?;
    if !canonical.is_dir() {
        return Err(cx.refuse(format!(
            "{shown} is a file, not a folder; choose the folder that holds the site"
        )));
    }
    cx.names = NameMatching::probe(&canonical);
    Ok(canonical)
}

pub(crate) fn host(value: Option<String>, cx: &mut Context) -> Result<IpAddr, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("localhost") => Ok(DEFAULT_HOST),
        Some(text) => text.parse().map_err(|_| {
            cx.refuse(format!(
                "{text:?} is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0"
            ))
        }),
    }
}

pub(crate) fn port(value: Option<u32>, cx: &mut Context) -> Result<u16, ConfigError> {
    match value {
        None => Ok(DEFAULT_PORT),
        Some(port) => u16::try_from(port).map_err(|_| {
            cx.refuse(format!(
                "{port} is not a valid port; use 0-65535 (0 picks a free one)"
            ))
        }),
    }
}

/// Off unless given; that it differs from `port` is checked in `validated.rs`.
pub(crate) fn https_port(value: Option<u32>, cx: &mut Context) -> Result<Option<u16>, ConfigError> {
    value
        .map(|https| {
            u16::try_from(https).map_err(|_| {
                cx.refuse(format!(
                    "{https} is not a valid port (0-65535); choose another (0 picks a free one)"
                ))
            })
        })
        .transpose()
}

/// The certificate folder made absolute. It need not exist yet: it is made on first use.
pub(crate) fn cert_dir(
    value: Option<PathBuf>,
    cx: &mut Context,
) -> Result<Option<PathBuf>, ConfigError> {
    let Some(dir) = value else {
        return Ok(None);
    };
    if dir.as_os_str().is_empty() {
        return Err(cx.refuse("is empty; choose a folder for the HTTPS certificate"));
    }
    let absolute = std::path::absolute(&dir)
        .map_err(|err| cx.refuse(format!("{} cannot be used: {err}", dir.display())))?;
    if absolute.is_file() {
        return Err(cx.refuse(format!(
            "{} is a file, not a folder; choose a folder for the HTTPS certificate",
            dir.display()
        )));
    }
    Ok(Some(absolute))
}

pub(crate) fn header_read_timeout(
    value: Option<u64>,
    cx: &mut Context,
) -> Result<Duration, ConfigError> {
    timeout(value, DEFAULT_HEADER_READ_TIMEOUT, cx)
}

pub(crate) fn keep_alive_idle_timeout(
    value: Option<u64>,
    cx: &mut Context,
) -> Result<Duration, ConfigError> {
    timeout(value, DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT, cx)
}

pub(crate) fn proxy(
    value: Option<Vec<ProxyRuleDraft>>,
    cx: &mut Context,
) -> Result<ProxyRules, ConfigError> {
    ProxyRules::new(cx.field, value.unwrap_or_default())
}

pub(crate) fn proxy_connect_timeout(
    value: Option<u64>,
    cx: &mut Context,
) -> Result<Duration, ConfigError> {
    timeout(value, DEFAULT_PROXY_CONNECT_TIMEOUT, cx)
}

pub(crate) fn proxy_first_byte_timeout(
    value: Option<u64>,
    cx: &mut Context,
) -> Result<Duration, ConfigError> {
    timeout(value, DEFAULT_PROXY_FIRST_BYTE_TIMEOUT, cx)
}

/// Timeouts are at least 100 ms (shorter would cut off real clients) and at most a day.
fn timeout(ms: Option<u64>, default: Duration, cx: &Context) -> Result<Duration, ConfigError> {
    match ms {
        None => Ok(default),
        Some(ms) if (100..=86_400_000).contains(&ms) => Ok(Duration::from_millis(ms)),
        // In seconds, as the CLI's flags and the window take them.
        Some(ms) => Err(cx.refuse(format!(
            "{} s is out of range; use 0.1 s to 86,400 s (one day)",
            ms as f64 / 1000.0
        ))),
    }
}

pub(crate) fn max_connections(value: Option<u64>, cx: &mut Context) -> Result<u32, ConfigError> {
    match value {
        None => Ok(DEFAULT_MAX_CONNECTIONS),
        Some(max) => u32::try_from(max)
            .ok()
            .filter(|max| (1..=1_000_000).contains(max))
            .ok_or_else(|| cx.refuse(format!("{max} is out of range; use 1 to 1,000,000"))),
    }
}

pub(crate) fn cache_control(
    value: Option<String>,
    cx: &mut Context,
) -> Result<HeaderValue, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(HeaderValue::from_static(DEFAULT_CACHE_CONTROL)),
        Some(text) => HeaderValue::from_str(text)
            .ok()
            .filter(|_| !text.is_empty())
            .ok_or_else(|| {
                cx.refuse(format!(
                    "{text:?} is not a valid header value; use e.g. \"no-cache\" or \"max-age=60\""
                ))
            }),
    }
}

pub(crate) fn custom_headers(
    value: Option<Vec<CustomHeaderDraft>>,
    cx: &mut Context,
) -> Result<HeaderRules, ConfigError> {
    HeaderRules::new(cx.field, value.unwrap_or_default(), cx.names)
}

pub(crate) fn network(
    value: Option<Vec<NetworkRuleDraft>>,
    cx: &mut Context,
) -> Result<NetworkRules, ConfigError> {
    NetworkRules::new(cx.field, value.unwrap_or_default(), cx.names)
}

pub(crate) fn reload_ignore(
    value: Option<Vec<String>>,
    cx: &mut Context,
) -> Result<IgnoreGlobs, ConfigError> {
    match value {
        None => Ok(IgnoreGlobs::defaults(cx.names)),
        Some(patterns) => IgnoreGlobs::new(cx.field, patterns, cx.names),
    }
}

pub(crate) fn allowed_hosts(
    value: Option<Vec<String>>,
    _: &mut Context,
) -> Result<AllowedHosts, ConfigError> {
    AllowedHosts::new(value.unwrap_or_default())
}

pub(crate) fn cors_origins(
    value: Option<Vec<String>>,
    _: &mut Context,
) -> Result<CorsOrigins, ConfigError> {
    CorsOrigins::new(value.unwrap_or_default())
}
