//! Wharf's static file server.
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

pub mod access;
pub mod access_log;
pub mod backlog;
pub mod body;
pub mod cache;
pub mod conditional;
pub mod config;
mod connection;
mod dead_client;
pub mod encoding;
pub mod error;
pub mod events;
pub mod export;
pub mod guard;
pub mod listener;
pub mod listing;
pub mod live_reload;
pub mod metrics;
pub mod mime;
pub mod names;
pub mod private_fs;
pub mod range;
mod registry;
pub mod resolve;
mod server;
pub mod service;
pub mod session_log;
pub mod tls;
pub mod watcher;

pub use backlog::Admission;
pub use config::{Change, ConfigDraft, ConfigError, ServerConfig};
pub use config::{ConfigFile, ConfigFileError};
pub use error::{ApplyError, StartError};
pub use events::ServerEvent;
pub use export::{export_csv, ExportError, ExportFilter, ExportSummary, StatusFilter};
pub use registry::{ConnectionInfo, ConnectionState};
pub use server::{ApplyReport, HttpsInfo, ServerHandle, StopReport};
pub use tls::{Certificate, CertificateError};
