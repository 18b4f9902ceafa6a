//! Trusting Wharf's local certificate authority on this machine, as mkcert and `caddy trust`
//! do: [`trust`] installs the CA's certificate (never its key) in the user's own trust
//! stores, where no administrator is needed, [`untrust`] removes it, [`status`] says where it
//! is trusted, and [`system`] installs or removes it machine-wide as a separate, elevated
//! step. Each store's outcome is reported as data ([`TrustReport`]), never only printed.
//!
//! The user's stores, per OS:
//! - Linux: the NSS databases Chromium (`~/.pki/nssdb`, made if missing, and the snap's) and
//!   every Firefox profile (`~/.mozilla/firefox/*`, and the snap's) read, through `certutil`
//!   (Debian's `libnss3-tools`) — `nss`;
//! - macOS: the login keychain (`security add-trusted-cert`, which asks for the password);
//! - Windows: the current user's Root store (`certutil -user -addstore Root`, which asks).
//!
//! Every store is changed by running the OS's own tool; the commands are built as argument
//! lists in `commands`, so that each OS's are tested on any OS. This module owns no file: the
//! CA is `lifecycle::ca`'s, and the stores are the tools'.

mod commands;
mod nss;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

pub use commands::{system_commands, Elevation, SystemLayout};

use crate::lifecycle::ca::LocalCa;
use crate::lifecycle::tls::CertificateError;

/// Where [`trust`], [`untrust`] and [`status`] look.
#[derive(Debug, Clone, Default)]
pub struct TrustOptions {
    /// The certificate folder, as `wharf serve --cert-dir` and the app use; its CA is made
    /// there if there is none yet.
    pub cert_dir: PathBuf,
    /// Only these NSS databases (folders, made if missing), instead of the OS's stores: for
    /// tests, and for a browser run with its own profile.
    pub nss_dbs: Option<Vec<PathBuf>>,
    /// The home folder whose stores are changed. Default: the user's (`$HOME`, `%USERPROFILE%`).
    pub home: Option<PathBuf>,
}

/// One trust store, as a person would name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Store {
    /// An NSS database (Chromium's or a Firefox profile's on Linux).
    Nss {
        /// Whose: `Chromium`, `Firefox` or `NSS` (a database named by the caller).
        browser: String,
        /// The database's folder.
        path: PathBuf,
    },
    /// macOS: the user's login keychain.
    LoginKeychain,
    /// Windows: the current user's Trusted Root Certification Authorities store.
    CurrentUserRoot,
    /// The machine's store, shared by every user and most programs (elevated).
    System {
        /// Where it is, e.g. `/usr/local/share/ca-certificates` or `System.keychain`.
        location: String,
    },
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::Nss { browser, path } => write!(f, "{browser} ({})", path.display()),
            Store::LoginKeychain => f.write_str("the login keychain"),
            Store::CurrentUserRoot => f.write_str("the current user's Root store"),
            Store::System { location } => write!(f, "the system store ({location})"),
        }
    }
}

/// What happened to one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Outcome {
    /// The store was changed: the CA is now trusted there (or, for untrust, no longer).
    Updated,
    /// Nothing to do: the CA was already trusted there (or, for untrust, absent).
    Unchanged,
    /// The CA is trusted there ([`status`]).
    Trusted,
    /// The CA is not trusted there ([`status`]).
    NotTrusted,
    /// The store could not be changed or read.
    Failed {
        /// Why, as a sentence: the command and what it said, or the tool to install.
        reason: String,
    },
}

/// One store and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreReport {
    /// The store.
    pub store: Store,
    /// What happened.
    pub outcome: Outcome,
}

/// What [`trust`], [`untrust`], [`status`] or [`system`] did, store by store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustReport {
    /// The CA's fingerprint (`AB:CD:...`).
    pub ca_fingerprint: String,
    /// The CA certificate's PEM file.
    pub ca_cert_path: PathBuf,
    /// Each store, in the order they were tried; empty when none was found.
    pub stores: Vec<StoreReport>,
}

impl TrustReport {
    /// Whether any store failed.
    pub fn failed(&self) -> bool {
        self.stores
            .iter()
            .any(|store| matches!(store.outcome, Outcome::Failed { .. }))
    }
}

impl fmt::Display for TrustReport {
    /// One line per store, e.g. `updated: Chromium (/home/me/.pki/nssdb)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stores.is_empty() {
            return writeln!(f, "no trust store found");
        }
        for report in &self.stores {
            match &report.outcome {
                Outcome::Updated => writeln!(f, "updated: {}", report.store)?,
                Outcome::Unchanged => writeln!(f, "unchanged: {}", report.store)?,
                Outcome::Trusted => writeln!(f, "trusted: {}", report.store)?,
                Outcome::NotTrusted => writeln!(f, "not trusted: {}", report.store)?,
                Outcome::Failed { reason } => writeln!(f, "failed: {}: {reason}", report.store)?,
            }
        }
        Ok(())
    }
}

/// Install the CA, remove it, or ask whether it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Trust the CA.
    Install,
    /// Stop trusting it.
    Remove,
    /// Say whether it is trusted.
    Check,
}

/// Installs the CA of `options.cert_dir` (made if needed) in the user's trust stores.
///
/// Blocks while the stores' tools run; macOS and Windows show a prompt first.
///
/// # Errors
/// [`CertificateError`] if the CA cannot be had (see `LocalCa::load_or_create`); a store that
/// cannot be changed is reported in the [`TrustReport`] instead.
pub fn trust(options: &TrustOptions) -> Result<TrustReport, CertificateError> {
    user_stores(options, Action::Install)
}

/// Removes the CA of `options.cert_dir` from the user's trust stores.
///
/// # Errors
/// As [`trust`].
pub fn untrust(options: &TrustOptions) -> Result<TrustReport, CertificateError> {
    user_stores(options, Action::Remove)
}

/// Whether each of the user's trust stores trusts the CA of `options.cert_dir`.
///
/// # Errors
/// As [`trust`].
pub fn status(options: &TrustOptions) -> Result<TrustReport, CertificateError> {
    user_stores(options, Action::Check)
}

/// Installs ([`Action::Install`]) or removes ([`Action::Remove`]) the CA in the machine's
/// store, through `elevation` (on Linux and macOS; Windows always asks through UAC). Blocks
/// until the password prompt is answered and the commands end. [`Action::Check`] reports
/// whether the CA's file is in the system store's folder (Linux) or fails elsewhere.
///
/// # Errors
/// As [`trust`].
pub fn system(
    options: &TrustOptions,
    action: Action,
    elevation: Elevation,
) -> Result<TrustReport, CertificateError> {
    let ca = LocalCa::load_or_create(&options.cert_dir)?;
    let layout = SystemLayout::detect();
    let store = Store::System {
        location: layout.location(),
    };
    let outcome = match action {
        Action::Check => match layout.installed_file(&ca) {
            Some(path) if path.exists() => Outcome::Trusted,
            Some(_) => Outcome::NotTrusted,
            None => Outcome::Failed {
                reason: "checking the system store is not supported on this OS".to_owned(),
            },
        },
        Action::Install | Action::Remove => {
            match system_commands(action, &ca, &layout, elevation) {
                Some(commands) => run_all(&commands),
                None => Outcome::Failed {
                    reason: "no system trust store known on this OS (no update-ca-certificates, \
                         update-ca-trust or trust found)"
                        .to_owned(),
                },
            }
        }
    };
    Ok(report(&ca, vec![StoreReport { store, outcome }]))
}

fn user_stores(options: &TrustOptions, action: Action) -> Result<TrustReport, CertificateError> {
    let ca = LocalCa::load_or_create(&options.cert_dir)?;
    let home = options.home.clone().or_else(home_dir);
    let mut stores = Vec::new();
    if let Some(dbs) = &options.nss_dbs {
        for db in dbs {
            stores.push(nss::apply(&ca, "NSS", db, true, action));
        }
        return Ok(report(&ca, stores));
    }
    if cfg!(target_os = "macos") {
        stores.push(StoreReport {
            store: Store::LoginKeychain,
            outcome: run_check(
                &commands::login_keychain(action, &ca, home.as_deref()),
                action,
            ),
        });
    } else if cfg!(windows) {
        stores.push(StoreReport {
            store: Store::CurrentUserRoot,
            outcome: run_check(&commands::current_user_root(action, &ca), action),
        });
    } else if let Some(home) = &home {
        for (browser, db, create) in nss::databases(home) {
            stores.push(nss::apply(&ca, browser, &db, create, action));
        }
    }
    Ok(report(&ca, stores))
}

fn report(ca: &LocalCa, stores: Vec<StoreReport>) -> TrustReport {
    TrustReport {
        ca_fingerprint: ca.fingerprint.clone(),
        ca_cert_path: ca.cert_path.clone(),
        stores,
    }
}

/// The user's home folder, from the environment as the stores' tools read it.
fn home_dir() -> Option<PathBuf> {
    let name = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(name)
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
}

/// Runs `commands` (install or remove) or the one check command, as `action` says.
fn run_check(commands: &[Vec<OsString>], action: Action) -> Outcome {
    match action {
        Action::Check => match commands.first().map(|check| run(check)) {
            Some(Ok(())) => Outcome::Trusted,
            Some(Err(_)) => Outcome::NotTrusted,
            None => Outcome::Failed {
                reason: "no way to check this store".to_owned(),
            },
        },
        Action::Install | Action::Remove => run_all(commands),
    }
}

/// Runs each command in turn; the first that fails is the outcome.
fn run_all(commands: &[Vec<OsString>]) -> Outcome {
    for command in commands {
        if let Err(reason) = run(command) {
            return Outcome::Failed { reason };
        }
    }
    Outcome::Updated
}

/// Runs `argv`; `Err` says which command failed and what it wrote, or that it is missing.
fn run(argv: &[OsString]) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".to_owned());
    };
    let shown = shown(argv);
    let output = Command::new(program).args(args).output().map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            format!(
                "`{}` is not installed{}",
                program.to_string_lossy(),
                install_hint(program)
            )
        } else {
            format!("cannot run `{shown}`: {err}")
        }
    })?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let said = if said.trim().is_empty() {
        String::from_utf8_lossy(&output.stdout)
    } else {
        said
    };
    Err(format!(
        "`{shown}` failed ({}): {}",
        output.status,
        said.trim()
    ))
}

/// `argv` as a person would type it (for messages only: nothing runs it through a shell).
fn shown(argv: &[OsString]) -> String {
    argv.iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn install_hint(program: &OsString) -> &'static str {
    if Path::new(program)
        .file_name()
        .is_some_and(|name| name == "certutil")
        && !cfg!(windows)
    {
        "; install it: `libnss3-tools` (Debian, Ubuntu), `nss-tools` (Fedora), `nss` (Arch)"
    } else {
        ""
    }
}
