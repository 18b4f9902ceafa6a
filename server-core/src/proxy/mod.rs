//! The per-path proxy (issue 18): requests whose path matches a rule go to the developer's
//! own server (an API, a dev server) instead of the folder, ahead of files, clean URLs and
//! the SPA fallback; `/__wharf/` never does (see `serve::route::proxied`).
//!
//! - `rule`: the rules, checked and compiled once per generation, and the forwarded path;
//! - `client`: hyper-util's pooled client, with `localhost` as both `::1` and `127.0.0.1`;
//! - `forward`: one request there and its response back, streamed both ways;
//! - `page`: the 502/504 pages when the target is down or slow;
//! - `upgrade`: a WebSocket (any `101 Switching Protocols`) joined end to end.
//!
//! A proxied request is answered on its connection's config snapshot like any other, so a
//! transfer or a WebSocket that started before an apply carries on under its generation.
//! Targets are `http://` or `https://` (HTTP/1.1 to the target either way).

mod client;
mod forward;
mod page;
mod rule;
mod upgrade;

use std::time::Duration;

use http::StatusCode;

pub(crate) use forward::forward;
pub use rule::{ProxyRule, ProxyRules};
pub(crate) use upgrade::tunnel;

/// What the proxy did for one request, for the access record and the connection.
#[derive(Debug)]
pub(crate) struct ProxyNote {
    /// The index of the rule that matched.
    pub(crate) rule: usize,
    /// The target's status, if it answered.
    pub(crate) upstream_status: Option<StatusCode>,
    /// From sending the request to the target's response head.
    pub(crate) ttfb: Option<Duration>,
    /// The target's side of a switched protocol, once its 101 is in.
    pub(crate) upgrade: Option<hyper::upgrade::OnUpgrade>,
}
