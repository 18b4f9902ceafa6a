//! Errors, one enum per phase. `Display` is a sentence for the user; `source()` keeps the cause.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::lifecycle::tls::CertificateError;

/// Why a server could not start.
#[derive(Debug)]
pub enum StartError {
    /// Another program is listening on the port.
    PortInUse {
        /// The port asked for.
        port: u16,
    },
    /// The OS refused the port (below 1024 without privileges).
    PermissionDenied {
        /// The port asked for.
        port: u16,
    },
    /// The host address does not belong to this machine.
    AddressUnavailable {
        /// The address asked for.
        host: IpAddr,
    },
    /// Any other failure to bind.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The configuration itself was refused.
    Config(ConfigError),
    /// The HTTPS port could not be bound; the inner error says why (in use, not allowed, ...).
    HttpsBind(Box<StartError>),
    /// No HTTPS certificate could be loaded or made in the certificate folder.
    Certificate {
        /// The certificate folder.
        dir: PathBuf,
        /// Why.
        source: CertificateError,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::PortInUse { port } => write!(
                f,
                "port {port} is already in use by another program; choose another port, or use port 0 to pick a free one"
            ),
            StartError::PermissionDenied { port } => write!(
                f,
                "not allowed to listen on port {port}; ports below 1024 need privileges, so choose a port above 1024 or use port 0"
            ),
            StartError::AddressUnavailable { host } => write!(
                f,
                "{host} is not an address of this machine; use 127.0.0.1, or 0.0.0.0 to share on the network"
            ),
            StartError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            StartError::Config(err) => err.fmt(f),
            StartError::HttpsBind(err) => write!(f, "HTTPS: {err}"),
            StartError::Certificate { dir, source } => {
                write!(f, "no HTTPS certificate in {}: {source}", dir.display())
            }
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind { source, .. } => Some(source),
            StartError::Config(err) => Some(err),
            StartError::HttpsBind(err) => Some(err),
            StartError::Certificate { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<ConfigError> for StartError {
    fn from(err: ConfigError) -> StartError {
        StartError::Config(err)
    }
}

impl StartError {
    /// The config field a user would change to fix it (`port`, `host`, ...).
    pub fn field(&self) -> &'static str {
        match self {
            StartError::AddressUnavailable { .. } => "host",
            StartError::Config(err) => err.field,
            StartError::HttpsBind(err) if err.field() == "port" => "httpsPort",
            StartError::HttpsBind(err) => err.field(),
            StartError::Certificate { .. } => "certDir",
            _ => "port",
        }
    }
}

/// Why a new config was not applied. The server goes on exactly as before.
#[derive(Debug)]
pub enum ApplyError {
    /// The draft was refused.
    Config(ConfigError),
    /// The new address could not be bound; the old listener keeps serving.
    Bind {
        /// Why the bind failed.
        error: StartError,
        /// Where the server still serves.
        serving: SocketAddr,
    },
}

impl ApplyError {
    /// The config field at fault, as in [`ConfigError::field`].
    pub fn field(&self) -> &'static str {
        match self {
            ApplyError::Config(err) => err.field,
            ApplyError::Bind { error, .. } => error.field(),
        }
    }
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Config(err) => err.fmt(f),
            ApplyError::Bind { error, serving } => write!(
                f,
                "{}: {error}; still serving on http://{serving}/",
                error.field()
            ),
        }
    }
}

impl std::error::Error for ApplyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApplyError::Config(err) => Some(err),
            ApplyError::Bind { error, .. } => Some(error),
        }
    }
}

impl From<ConfigError> for ApplyError {
    fn from(err: ConfigError) -> ApplyError {
        ApplyError::Config(err)
    }
}
