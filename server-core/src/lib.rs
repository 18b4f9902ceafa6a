//! Wharf's static file server.
//!
//! The path of one request, and the module that owns each step:
//!
//! 1. `lifecycle/`: the supervisor accepts the connection on a listener (HTTPS: after TLS)
//!    and takes a snapshot of the live config; the registry records the connection.
//! 2. `http/`: hyper reads the request on the metered socket and hands it to the
//!    connection's tower service; the guards refuse foreign `Host`s and cross-site loads
//!    before anything else.
//! 3. `serve/`: the service routes it (reserved `/__wharf/` paths go to `live_reload/`),
//!    resolves the URL inside the folder and answers from `files/`' cache, with
//!    preconditions, ranges and content coding; the body's bytes are counted as hyper takes
//!    them, for the access record.
//! 4. `observe/`: the finished exchange becomes an access record, handed to the access log's
//!    writer thread, which keeps the durable session log and the metrics.
//!
//! [`check_site`] looks at a folder without serving it: what would go wrong if it were
//! published as it is (`wharf check`).
//!
//! [`config`] holds the settings: the draft a user writes and the validated config a
//! connection serves with. Everything a caller needs is re-exported here; the modules
//! themselves are private to the crate.
//!
//! `wharf-core` serves a folder over HTTP/1.1 with hyper on tokio, and optionally over HTTPS
//! (HTTP/2 or HTTP/1.1, rustls) on a second port. It knows nothing about any user
//! interface: the `wharf` CLI and the desktop app both drive it through [`ServerHandle`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wharf_core::{ServerConfig, ServerHandle};
//!
//! let server = ServerHandle::start(ServerConfig::for_root("./site")?).await?;
//! println!("serving at {}", server.url());
//! server.stop(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod check;
pub mod config;
mod files;
mod http;
mod lifecycle;
mod live_reload;
pub mod network;
mod observe;
mod proxy;
mod serve;
pub mod trust;

pub use check::{
    check_site, CheckError, CheckOptions, CheckReport, Finding, FindingKind, Severity, Traffic,
    MAX_LIVE_PAIRS,
};
pub use config::{Change, ConfigDraft, ConfigError, ServerConfig};
pub use config::{ConfigFile, ConfigFileError};
pub use files::private_fs::replace_private;
pub use lifecycle::backlog::Admission;
pub use lifecycle::ca::LocalCa;
pub use lifecycle::error::{ApplyError, StartError};
pub use lifecycle::events::ServerEvent;
pub use lifecycle::registry::{ConnectionInfo, ConnectionState};
pub use lifecycle::server::{ApplyReport, HttpsInfo, ServerHandle, StopReport};
pub use lifecycle::tls::{fingerprint, provider as tls_provider, Certificate, CertificateError};
pub use live_reload::{DEAD_CLIENT_AFTER, KEEP_ALIVE, MAX_STREAMS_PER_PEER, SCRIPT_TAG};
pub use observe::access::{
    rfc3339_ms, unix_ms, AccessRecord, HeaderLine, Outcome, ProxyRecord, RecordedHeaders, Served,
    MAX_HEADERS, MAX_HEADER_NAME_BYTES, MAX_HEADER_SIDE_BYTES, MAX_HEADER_VALUE_BYTES,
    MAX_REFERER_BYTES, MAX_TARGET_BYTES, MAX_USER_AGENT_BYTES, TRUNCATION_MARK,
};
pub use observe::access_log::{AccessLog, LogBatch, LogSettings, LogStats};
pub use observe::export::{
    export_csv, export_har, parse_rfc3339_ms, ExportError, ExportFilter, ExportSummary,
    StatusFilter, COLUMNS,
};
pub use observe::metrics::MetricsSample;
pub use observe::session_log::{sessions, LogLine, Retention, SessionReader, SessionWriter};
pub use observe::timing::Timing;
pub use observe::why::{CacheControlFrom, Representation, Route, Validation, Why};

/// The request path without sockets, for the cargo-fuzz targets in `fuzz/` only: not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::files::cache::FileCache;
    pub use crate::http::body::Body;
    pub use crate::live_reload::{new_instance, BoundPorts, ReloadFeed};
    pub use crate::serve::service::{respond_noting, MAX_HEAD_BYTES, MAX_URI_LEN};
    pub use crate::serve::{conditional, range, resolve};
}
