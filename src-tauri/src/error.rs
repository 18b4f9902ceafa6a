//! Why a site operation failed: one enum for everything the window can ask of the sites.
//!
//! Variants keep the core's own errors (`ConfigError`, `StartError`, `ApplyError`,
//! `ExportError`) so their sentences and fields reach the window unchanged; `commands.rs`
//! turns them into `{ kind, message, field, index, member }`. Nothing here knows about Tauri.

use std::fmt;
use std::path::PathBuf;

use wharf_core::{ApplyError, CertificateError, CheckError, ConfigError, ExportError, StartError};

/// Why a site operation failed.
#[derive(Debug)]
pub enum SiteError {
    /// A setting or folder was refused; nothing changed.
    Config(ConfigError),
    /// The server could not start (port in use, ...); the site stays stopped.
    Start(StartError),
    /// A running server refused new settings; it goes on exactly as before.
    Apply(ApplyError),
    /// The operation needs a running site.
    NotRunning,
    /// No site has this id (it was removed, or never existed).
    NoSuchSite {
        /// The id asked for.
        id: String,
    },
    /// The site is not shared on the network.
    LanOff,
    /// Shared on the network, but this computer has no network address to share it on.
    NoLanAddress,
    /// The QR code could not be drawn.
    Qr {
        /// What the encoder said.
        reason: String,
    },
    /// The export was refused or failed while reading the log.
    Export(ExportError),
    /// The CSV file could not be written.
    ExportFile {
        /// The file asked for.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Only files this app run exported can be revealed.
    NotExported {
        /// The export id asked for.
        id: u64,
    },
    /// The browser or file manager could not be opened.
    Open {
        /// What the OS said.
        reason: String,
    },
    /// The site check could not run (the folder is gone, or the base path is not a path).
    Check(CheckError),
}

/// The item of a list setting at fault (`customHeaders`, `reloadIgnore`), so the window can
/// mark the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Position in the list sent, from 0.
    pub index: usize,
    /// The item's member at fault (`path`, `name`, `value`), when the item has members.
    pub member: Option<&'static str>,
}

impl SiteError {
    /// The settings field at fault, for an inline error (`port`, `root`, `keepAliveIdleTimeoutMs`).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            SiteError::Config(err) => Some(err.field),
            SiteError::Start(err) => Some(err.field()),
            SiteError::Apply(err) => Some(err.field()),
            _ => None,
        }
    }

    /// The refused setting, when a setting was refused.
    pub fn config(&self) -> Option<&ConfigError> {
        match self {
            SiteError::Config(err)
            | SiteError::Start(StartError::Config(err))
            | SiteError::Apply(ApplyError::Config(err)) => Some(err),
            _ => None,
        }
    }

    /// The list item at fault when a list setting was refused, as `ConfigError` carries it.
    pub fn list_item(&self) -> Option<ListItem> {
        let err = self.config()?;
        Some(ListItem {
            index: err.index?,
            member: err.member,
        })
    }
}

/// Whether a port, HTTP or HTTPS, is taken by another program.
pub fn is_port_in_use(err: &StartError) -> bool {
    match err {
        StartError::PortInUse { .. } => true,
        StartError::HttpsBind(err) => is_port_in_use(err),
        _ => false,
    }
}

/// What went wrong with the certificate, in the app's words: the core suggests choosing
/// another folder, which the app does not offer (every site shares `<data>/certs`).
fn certificate_trouble(
    f: &mut fmt::Formatter<'_>,
    dir: &std::path::Path,
    source: &CertificateError,
) -> fmt::Result {
    match source {
        CertificateError::Write { path, source } => write!(
            f,
            "HTTPS could not start: Wharf cannot write its certificate to {} ({source}); \
             make sure {} can be written, or turn HTTPS off",
            path.display(),
            dir.display()
        ),
        // Names the folder or key and the command that fixes it.
        CertificateError::FolderOpenToOthers { .. } | CertificateError::KeyOpenToOthers { .. } => {
            write!(f, "HTTPS could not start: {source}")
        }
        other => write!(
            f,
            "HTTPS could not start: the certificate in {} cannot be made or used ({other}); \
             turn HTTPS off, or delete the folder's files so that Wharf makes a new one",
            dir.display()
        ),
    }
}

impl fmt::Display for SiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SiteError::Start(StartError::Certificate { dir, source }) => {
                certificate_trouble(f, dir, source)
            }
            SiteError::Apply(ApplyError::Bind {
                error: StartError::Certificate { dir, source },
                serving,
            }) => {
                certificate_trouble(f, dir, source)?;
                write!(f, "; the site still serves on http://{serving}/")
            }
            SiteError::Config(err) => err.fmt(f),
            SiteError::Start(err) => err.fmt(f),
            SiteError::Apply(err) => err.fmt(f),
            SiteError::NotRunning => f.write_str("the site is stopped; press Start first"),
            SiteError::NoSuchSite { id } => write!(f, "there is no site {id:?}; it was removed"),
            SiteError::LanOff => f.write_str(
                "the site is not shared on the network; turn on \"Share on network\" first",
            ),
            SiteError::NoLanAddress => f.write_str(
                "this computer has no network address to share on; connect to a network first",
            ),
            SiteError::Qr { reason } => write!(f, "cannot draw the QR code: {reason}"),
            SiteError::Export(err) => err.fmt(f),
            SiteError::ExportFile { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            SiteError::NotExported { id } => write!(
                f,
                "export #{id} was not written by Wharf since it started, so nothing is opened"
            ),
            SiteError::Open { reason } => write!(f, "could not open it: {reason}"),
            SiteError::Check(err) => write!(f, "cannot check the site: {err}"),
        }
    }
}

impl std::error::Error for SiteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SiteError::Config(err) => Some(err),
            SiteError::Start(err) => Some(err),
            SiteError::Apply(err) => Some(err),
            SiteError::Export(err) => Some(err),
            SiteError::Check(err) => Some(err),
            SiteError::ExportFile { source, .. } => Some(source),
            _ => None,
        }
    }
}
