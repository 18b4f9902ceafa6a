//! Live reload: the reserved `/__wharf/` prefix, its event stream and client script, and the
//! script tag added to HTML pages.
//!
//! `/__wharf/reload` is a Server-Sent Events stream. It opens with a `hello` naming the
//! server and its config generation, then sends `css` when every changed file of a batch is
//! a stylesheet and `reload` otherwise, each with the changed paths, and a comment every
//! [`KEEP_ALIVE`] so proxies and browsers keep it open. It never holds up a stop or an
//! apply: it ends when the server stops or a newer generation applies (telling the page the
//! new port when that changed), and the browser reconnects to the new generation.
//! `/__wharf/reload.js` is the client. No file of the site can shadow the prefix.
//!
//! Streams are bounded (issue 13): at most [`MAX_STREAMS`] per server and
//! [`MAX_STREAMS_PER_PEER`] per client address, and never more than half the connection
//! limit, so ordinary requests always keep the other half. Each counts against the
//! connection limit (see `registry`), and one on HTTP/2 opens only while a quarter of that
//! limit is free. Beyond a cap a stream is refused — 429 for the address's
//! share, 503 for the server's — with `Retry-After`; the client script tries again later. The
//! comment every [`KEEP_ALIVE`] is also the heartbeat that finds a client gone: one that
//! closed fails it at once, and one gone without a word never acknowledges it, so its
//! connection is dropped [`DEAD_CLIENT_AFTER`] later (see `dead_client`). Either way the
//! stream ends and gives its place back.
//!
//! This module decides what a change means for a page (ignored, CSS, reload), per
//! connection and from that connection's config; it does not watch files: each stream
//! subscribes to the server's site watch (`files::watcher`, owned by the supervisor), and it
//! does not choose representations (`serve::file`). Its event stream is a `body::EventStream`,
//! the body type's own holder for any stream of chunks, so `http::body` does not depend on it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::files::watcher::{Changes, SiteWatch};
use crate::http::body::{Body, EventStream};
use crate::lifecycle::registry::{Registry, StreamLimits, StreamRefusal, StreamSlot};

/// The first path segment reserved for Wharf: `/__wharf/...` never reaches the site's files.
pub(crate) const RESERVED_SEGMENT: &str = "__wharf";
/// The tag added to HTML pages.
pub const SCRIPT_TAG: &str = "<script src=\"/__wharf/reload.js\" defer></script>";
/// How often an idle event stream sends a comment, so nothing in between closes it.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long bytes sent on a connection carrying an event stream may stay unacknowledged
/// before the connection is dropped as dead: two heartbeats. On Linux, a client gone without
/// a word (asleep, off the network) is let go within a [`KEEP_ALIVE`] and this, instead of
/// when TCP gives up retransmitting (about 15 minutes); other OSes still wait for TCP.
pub const DEAD_CLIENT_AFTER: Duration = Duration::from_secs(2 * KEEP_ALIVE.as_secs());
/// How long the browser waits before reconnecting a stream that ended, in milliseconds.
const RETRY_MS: u32 = 300;
/// Event streams open at once per server, at most; fewer when the connection limit is under
/// twice this (see [`stream_limits`]). The client script holds one stream per browser and
/// site (one tab holds it for all), so this is hundreds of browsers.
pub(crate) const MAX_STREAMS: usize = 256;
/// Event streams open at once from one client address, at most: a few browsers and
/// devices behind one address (the developer's own machine is one address for all its
/// browsers).
pub const MAX_STREAMS_PER_PEER: usize = 16;
/// What a refused stream is told to wait, in seconds.
const REFUSED_RETRY_AFTER: HeaderValue = HeaderValue::from_static("5");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
const JAVASCRIPT: HeaderValue = HeaderValue::from_static("text/javascript; charset=utf-8");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// The client script; `__WHARF_SERVER__` is replaced by the server's id.
const CLIENT: &str = include_str!("live_reload.js");

/// What an event stream needs from the server beyond the connection's config: who the
/// server is, when it stops, and when a newer generation applies.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub struct ReloadFeed {
    /// Random per server start, so a page can tell a restarted server from the one it
    /// was loaded from.
    pub instance: u64,
    /// Cancelled when the server stops.
    pub shutdown: CancellationToken,
    /// The live config, to notice a newer generation.
    pub updates: watch::Receiver<Arc<ServerConfig>>,
    /// The page came over HTTPS: when the HTTPS port changes, `moved` names the new one.
    pub https: bool,
    /// The ports the server listens on now.
    pub ports: Arc<BoundPorts>,
    /// The client's address, whose streams are counted.
    pub(crate) peer: IpAddr,
    /// Where streams are counted against the caps and the connection limit.
    pub(crate) registry: Arc<Registry>,
    /// The server's site watch (the supervisor's), whose batches of changes streams relay.
    pub(crate) watch: Arc<SiteWatch>,
}

/// The caps on live-reload event streams for a server with `max_connections`: per server
/// [`MAX_STREAMS`] and per address [`MAX_STREAMS_PER_PEER`], each at most half the connection
/// limit, so streams never take the slots ordinary requests need. A stream on HTTP/2 takes a
/// slot of its own, and opens only while three quarters of the limit or fewer are in use, so
/// connections that carry streams never fill the limit either.
pub(crate) fn stream_limits(max_connections: u32) -> StreamLimits {
    let max_connections = max_connections as usize;
    let per_server = MAX_STREAMS.min(max_connections / 2);
    StreamLimits {
        per_server,
        per_peer: MAX_STREAMS_PER_PEER.min(per_server),
        http2_slots: max_connections - max_connections / 4,
    }
}

/// The addresses the server listens on right now: the one record of them, written by the
/// accept loop when it switches listeners, before a new generation is published. The
/// server's handle reads its addresses from here, and a page is told the port it must move
/// to (the config says `0` for "any free port").
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub struct BoundPorts {
    /// HTTP, then HTTPS (`None` while it is off). Both change together.
    addrs: Mutex<(Option<SocketAddr>, Option<SocketAddr>)>,
}

impl BoundPorts {
    /// Records the listeners' addresses.
    pub(crate) fn set(&self, http: SocketAddr, https: Option<SocketAddr>) {
        *self.addrs.lock().unwrap_or_else(PoisonError::into_inner) = (Some(http), https);
    }

    /// The HTTPS address (`https`) or the HTTP one; `None` when that listener is off (or
    /// none was recorded yet).
    pub(crate) fn addr(&self, https: bool) -> Option<SocketAddr> {
        let (http_addr, https_addr) = *self.addrs.lock().unwrap_or_else(PoisonError::into_inner);
        if https {
            https_addr
        } else {
            http_addr
        }
    }

    /// The HTTPS port (`https`) or the HTTP one; `None` when that listener is off.
    fn get(&self, https: bool) -> Option<u16> {
        self.addr(https).map(|addr| addr.port())
    }
}

/// A random id for a server starting now (see [`ReloadFeed::instance`]).
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub fn new_instance() -> u64 {
    RandomState::new().build_hasher().finish()
}

impl ReloadFeed {
    /// A feed for answering requests outside a running server, with
    /// [`crate::serve::service::respond_noting`] (the fuzz targets do): its streams count against
    /// caps of its own, as if every request came from `127.0.0.1`.
    #[cfg(feature = "fuzzing")]
    pub fn detached(
        instance: u64,
        shutdown: CancellationToken,
        updates: watch::Receiver<Arc<ServerConfig>>,
        https: bool,
        ports: Arc<BoundPorts>,
    ) -> ReloadFeed {
        ReloadFeed {
            instance,
            shutdown,
            updates,
            https,
            ports,
            peer: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            registry: Arc::new(Registry::new(broadcast::channel(1).0)),
            watch: Arc::default(),
        }
    }

    /// `<instance>-<generation>`: changes when the server restarts or its config changes.
    fn server_id(&self, config: &ServerConfig) -> String {
        format!("{:x}-{}", self.instance, config.generation)
    }
}

/// Whether a `Content-Type` is HTML, which gets the script.
pub(crate) fn is_html(content_type: &HeaderValue) -> bool {
    content_type.as_bytes().starts_with(b"text/html")
}

/// `html` with [`SCRIPT_TAG`] before its last `</body>` (any case), or at its end.
pub(crate) fn inject(html: &[u8]) -> Bytes {
    const CLOSE: &[u8] = b"</body";
    let at = html
        .windows(CLOSE.len())
        .rposition(|window| window.eq_ignore_ascii_case(CLOSE))
        .unwrap_or(html.len());
    let mut out = BytesMut::with_capacity(html.len() + SCRIPT_TAG.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(SCRIPT_TAG.as_bytes());
    out.extend_from_slice(&html[at..]);
    out.freeze()
}

/// Answers a request under `/__wharf/`; `rest` is the path after the reserved segment, and
/// `http2` says whether it came on an HTTP/2 connection. 404 for anything else, and for
/// everything when live reload is off; 429 or 503 for an event stream beyond its caps.
pub(crate) fn respond(
    config: &Arc<ServerConfig>,
    feed: &ReloadFeed,
    rest: &[String],
    http2: bool,
) -> Option<Response<Body>> {
    if !config.live_reload {
        return None;
    }
    let mut response = match rest {
        [name] if name == "reload" => {
            let limits = stream_limits(config.max_connections);
            let slot = match feed.registry.open_stream(feed.peer, http2, limits) {
                Ok(slot) => slot,
                Err(refusal) => return Some(refused(refusal)),
            };
            feed.watch.watch(&config.root);
            let stream = events(config, feed, slot);
            let mut response = Response::new(Body::Events(stream));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, EVENT_STREAM);
            headers.insert(header::CACHE_CONTROL, NO_STORE);
            response
        }
        [name] if name == "reload.js" => {
            let script = CLIENT.replace("__WHARF_SERVER__", &feed.server_id(config));
            let mut response = Response::new(Body::from(script));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, JAVASCRIPT);
            // The script names the server the page came from, so it is never reused.
            headers.insert(header::CACHE_CONTROL, NO_CACHE);
            response
        }
        _ => return None,
    };
    *response.status_mut() = StatusCode::OK;
    Some(response)
}

/// The answer to a stream beyond its caps: plain text a person can read, and when to try again.
fn refused(refusal: StreamRefusal) -> Response<Body> {
    let (status, text) = match refusal {
        StreamRefusal::PerPeer => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many live-reload streams from this address (at most {MAX_STREAMS_PER_PEER}); try again later.\n"),
        ),
        StreamRefusal::PerServer => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many live-reload streams on this server; try again later.\n".to_owned(),
        ),
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, TEXT);
    headers.insert(header::RETRY_AFTER, REFUSED_RETRY_AFTER);
    headers.insert(header::CACHE_CONTROL, NO_STORE);
    response
}

/// The event a batch of changes means for a page served by `config`, if any: nothing when
/// the batch is about another root or only about ignored or hidden files.
pub(crate) fn event_for(config: &ServerConfig, changes: &Changes) -> Option<Bytes> {
    if changes.root != config.root {
        return None;
    }
    if changes.root_replaced {
        return Some(event("reload", &changes.paths));
    }
    let shown: Vec<String> = changes
        .paths
        .iter()
        .filter(|path| !config.reload_ignore.is_ignored(path))
        // A hidden file is never served, so it cannot change a page.
        .filter(|path| config.show_dotfiles || !path.split('/').any(|s| s.starts_with('.')))
        .map(|path| {
            // `style.css.br` is the stylesheet too, and so is its source map for a page
            // (Sass and PostCSS write `style.css.map` with every `style.css`).
            let plain = path
                .strip_suffix(".br")
                .or_else(|| path.strip_suffix(".gz"))
                .or_else(|| {
                    path.strip_suffix(".map")
                        .filter(|css| css.ends_with(".css"))
                });
            plain.unwrap_or(path).to_owned()
        })
        .collect();
    if shown.is_empty() {
        return None;
    }
    let kind = if shown.iter().all(|path| path.ends_with(".css")) {
        "css"
    } else {
        "reload"
    };
    Some(event(kind, &shown))
}

fn event(kind: &str, paths: &[String]) -> Bytes {
    let data = serde_json::json!({ "paths": paths });
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

struct StreamState {
    config: Arc<ServerConfig>,
    watch: Arc<SiteWatch>,
    changes: broadcast::Receiver<Arc<Changes>>,
    shutdown: CancellationToken,
    updates: watch::Receiver<Arc<ServerConfig>>,
    https: bool,
    ports: Arc<BoundPorts>,
    /// The port the page connected to.
    port: Option<u16>,
    hello: Option<Bytes>,
    ended: bool,
    /// The stream's place in the count, given back when the stream is dropped.
    _slot: StreamSlot,
}

/// The body of `/__wharf/reload`: events until the server stops or the generation moves on.
fn events(config: &Arc<ServerConfig>, feed: &ReloadFeed, slot: StreamSlot) -> EventStream {
    let hello = format!(
        "retry: {RETRY_MS}\nevent: hello\ndata: {}\n\n",
        serde_json::json!({ "server": feed.server_id(config) })
    );
    let state = StreamState {
        config: Arc::clone(config),
        watch: Arc::clone(&feed.watch),
        changes: feed.watch.changes(),
        shutdown: feed.shutdown.clone(),
        updates: feed.updates.clone(),
        https: feed.https,
        ports: Arc::clone(&feed.ports),
        port: feed.ports.get(feed.https),
        hello: Some(Bytes::from(hello)),
        ended: false,
        _slot: slot,
    };
    EventStream::new(futures_util::stream::unfold(state, next_event))
}

async fn next_event(mut state: StreamState) -> Option<(Bytes, StreamState)> {
    if state.ended {
        return None;
    }
    if let Some(hello) = state.hello.take() {
        return Some((hello, state));
    }
    loop {
        tokio::select! {
            biased;
            () = state.shutdown.cancelled() => return None,
            changed = state.updates.changed() => {
                let next = match changed {
                    Ok(()) => state.updates.borrow_and_update().clone(),
                    Err(_) => return None,
                };
                if next.generation == state.config.generation {
                    continue;
                }
                // Retired: end, so the browser reconnects to the new generation; a page whose
                // port went away is told where the server went (the port really bound, even
                // when the config asked for any free one).
                state.ended = true;
                let to = state.ports.get(state.https);
                if let Some(to) = to.filter(|&to| Some(to) != state.port) {
                    let moved = serde_json::json!({ "port": to });
                    return Some((Bytes::from(format!("event: moved\ndata: {moved}\n\n")), state));
                }
                return None;
            }
            batch = state.changes.recv() => match batch {
                Ok(changes) => {
                    if let Some(event) = event_for(&state.config, &changes) {
                        return Some((event, state));
                    }
                }
                // Some batches were missed: reloading is always correct.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((event("reload", &[]), state));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            () = tokio::time::sleep(KEEP_ALIVE) => {
                // Cheap, and re-arms the watch should a listing on an older generation have
                // moved it to that generation's root.
                state.watch.watch(&state.config.root);
                return Some((Bytes::from_static(b": keep-alive\n\n"), state));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigDraft, ServerConfig};

    #[test]
    fn the_tag_goes_before_the_last_closing_body() {
        let page = b"<html><body><p>x</p></BODY>\n</html>\n";
        let out = inject(page);
        let text = std::str::from_utf8(&out).unwrap();
        assert_eq!(
            text,
            format!("<html><body><p>x</p>{SCRIPT_TAG}</BODY>\n</html>\n")
        );
        assert_eq!(out.len(), page.len() + SCRIPT_TAG.len());
        let fragment = inject(b"<p>no body</p>");
        assert!(fragment.ends_with(SCRIPT_TAG.as_bytes()));
    }

    fn config(dir: &std::path::Path, ignore: Option<Vec<String>>) -> ServerConfig {
        ServerConfig::try_from(ConfigDraft {
            root: Some(dir.to_path_buf()),
            reload_ignore: ignore,
            ..ConfigDraft::default()
        })
        .unwrap()
    }

    fn changes(config: &ServerConfig, paths: &[&str]) -> Changes {
        Changes {
            root: config.root.clone(),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            root_replaced: false,
        }
    }

    fn kind(event: Option<Bytes>) -> Option<String> {
        let event = event?;
        let text = std::str::from_utf8(&event).unwrap();
        Some(
            text.lines()
                .next()
                .unwrap()
                .trim_start_matches("event: ")
                .to_owned(),
        )
    }

    #[test]
    fn css_only_batches_swap_and_others_reload() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), None);
        let event_of = |paths: &[&str]| kind(event_for(&config, &changes(&config, paths)));
        assert_eq!(event_of(&["a.css", "b/c.css"]).as_deref(), Some("css"));
        assert_eq!(event_of(&["a.css", "a.css.br"]).as_deref(), Some("css"));
        assert_eq!(event_of(&["a.css", "a.css.map"]).as_deref(), Some("css"));
        assert_eq!(event_of(&["app.js.map"]).as_deref(), Some("reload"));
        assert_eq!(
            event_of(&["a.css", "index.html"]).as_deref(),
            Some("reload")
        );
        assert_eq!(event_of(&["app.js"]).as_deref(), Some("reload"));
        assert_eq!(
            event_of(&[".git/index", "x/node_modules/y.js", "a.swp"]),
            None
        );
        assert_eq!(event_of(&["notes.txt~", ".#index.html", "4913"]), None);
        assert_eq!(event_of(&["target/debug/x"]), None);
        assert_eq!(event_of(&[".env"]), None, "hidden files are not served");
        assert_eq!(
            event_of(&[".git/index", "site.css"]).as_deref(),
            Some("css")
        );
        let elsewhere = Changes {
            root: "/elsewhere".into(),
            ..changes(&config, &["a.html"])
        };
        assert_eq!(event_for(&config, &elsewhere), None);
    }

    #[test]
    fn ignore_globs_can_be_anchored_and_replace_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), Some(vec!["/dist/**".into(), "*.map".into()]));
        let event_of = |paths: &[&str]| kind(event_for(&config, &changes(&config, paths)));
        assert_eq!(event_of(&["dist/app.js"]), None);
        assert_eq!(event_of(&["src/dist/app.js"]).as_deref(), Some("reload"));
        assert_eq!(event_of(&["deep/app.js.map"]), None);
        assert_eq!(
            event_of(&["node_modules/x.js"]).as_deref(),
            Some("reload"),
            "the defaults were replaced"
        );
    }
}
