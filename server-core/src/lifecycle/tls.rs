//! HTTPS: the site certificate Wharf's local certificate authority (`ca`) issues, and the TLS
//! settings it serves with.
//!
//! The certificate is made with rcgen (an ECDSA P-256 key), signed by the CA of the same
//! folder, kept as two PEM files in a folder of the user's data ([`CERT_FILE`], and
//! [`KEY_FILE`] readable by the user alone), and reused for as long as it chains to that CA
//! and is valid for every name wanted: `localhost`, `127.0.0.1`, `::1` and the addresses the
//! site is shared on that the CA may vouch for. A missing name, an expiry within
//! [`RENEW_BEFORE`], a new CA, or files that cannot be read or do not belong together make a
//! new one. A folder or key that other users can open is refused with the command that fixes
//! it. The CA's SHA-256 fingerprint stays the same across certificates, so it is what a phone
//! on the network checks by eye before trusting it.
//!
//! This module neither listens nor serves: `live_cert` presents the certificate made here,
//! `server` binds the HTTPS port, and `connection` runs the handshake.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::RootCertStore;
use sha2::{Digest, Sha256};

use crate::files::private_fs;
use crate::lifecycle::ca::{self, Authority};

/// The certificate's file in the certificate folder.
pub(crate) const CERT_FILE: &str = "cert.pem";
/// The private key's file in the certificate folder; mode 0600 on Unix.
pub(crate) const KEY_FILE: &str = "key.pem";
/// A certificate that expires sooner than this is replaced. Default: 30 days.
pub(crate) const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a new certificate is valid. Apple's platforms refuse TLS server certificates
/// valid for more than 825 days, and publicly trusted ones for more than 398. Default: 397 days.
const VALIDITY_DAYS: i64 = 397;
/// Protocols offered in ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Two servers starting at once in one process make one certificate, not two.
static FOLDER_LOCK: Mutex<()> = Mutex::new(());

/// A certificate and its key, loaded from or written to a certificate folder.
pub struct Certificate {
    dir: PathBuf,
    der: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    fingerprint: String,
    /// The names it is valid for, as [`wanted_names`] made them.
    names: Vec<String>,
    /// The CA that signed it.
    ca_der: CertificateDer<'static>,
    ca_fingerprint: String,
    ca_cert_path: PathBuf,
    created: bool,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("Certificate")
            .field("dir", &self.dir)
            .field("fingerprint", &self.fingerprint)
            .field("ca_fingerprint", &self.ca_fingerprint)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// Why no certificate could be had.
#[derive(Debug)]
pub enum CertificateError {
    /// The folder or a file in it could not be created or written.
    Write {
        /// The folder or file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// rcgen could not make the certificate.
    Generate(rcgen::Error),
    /// rustls refused the certificate or its key.
    Tls(rustls::Error),
    /// Other users can open the certificate folder, so the key in it may not be secret;
    /// Wharf does not use it (as OpenSSH refuses such a key).
    FolderOpenToOthers {
        /// The folder.
        dir: PathBuf,
        /// Its Unix mode, e.g. `0o755`.
        mode: u32,
    },
    /// Other users can read or write the private key; Wharf does not use it.
    KeyOpenToOthers {
        /// The key file.
        path: PathBuf,
        /// Its Unix mode, e.g. `0o644`.
        mode: u32,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateError::Write { path, source } => write!(
                f,
                "cannot write {}: {source}; choose a certificate folder you can write to",
                path.display()
            ),
            CertificateError::Generate(err) => write!(f, "cannot make a certificate: {err}"),
            CertificateError::Tls(err) => write!(f, "the certificate cannot be used: {err}"),
            CertificateError::FolderOpenToOthers { dir, mode } => write!(
                f,
                "other users can open the certificate folder {dir} (mode {mode:04o}), so its \
                 private key may not be secret; run `chmod 700 {dir}` if only you use it",
                dir = dir.display()
            ),
            CertificateError::KeyOpenToOthers { path, mode } => write!(
                f,
                "other users can open the private key {path} (mode {mode:04o}), so it may not \
                 be secret; delete it so that Wharf makes a new certificate, or run \
                 `chmod 600 {path}` to keep it",
                path = path.display()
            ),
        }
    }
}

impl std::error::Error for CertificateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CertificateError::Write { source, .. } => Some(source),
            CertificateError::Generate(err) => Some(err),
            CertificateError::Tls(err) => Some(err),
            CertificateError::FolderOpenToOthers { .. }
            | CertificateError::KeyOpenToOthers { .. } => None,
        }
    }
}

impl Certificate {
    /// The certificate in `dir`, if it chains to the folder's CA and is valid for
    /// [`wanted_names`]`(hosts)` beyond [`RENEW_BEFORE`]; otherwise a new one signed by that
    /// CA, written there (the folder, and the CA the first time, are made if needed).
    ///
    /// Blocks on file I/O and, when it makes one, on key generation (a few milliseconds).
    ///
    /// An existing folder or key that other users can read or write is refused, never used
    /// nor repaired: Wharf makes them 0700 and 0600, so a wider mode means someone changed it,
    /// and the key may already have been read.
    ///
    /// # Errors
    /// [`CertificateError::FolderOpenToOthers`] or [`CertificateError::KeyOpenToOthers`] as
    /// above, or another [`CertificateError`] if a new certificate is needed and cannot be
    /// made or written.
    pub fn load_or_create(dir: &Path, hosts: &[IpAddr]) -> Result<Certificate, CertificateError> {
        let _one_at_a_time = lock_folder(dir)?;
        let path = dir.join(KEY_FILE);
        if let Ok(Some(mode)) = private_fs::open_to_others(&path) {
            return Err(CertificateError::KeyOpenToOthers { path, mode });
        }
        let authority = Authority::load_or_create(dir)?;
        let names = wanted_names(hosts);
        if let Some(found) =
            Certificate::load(dir, &authority, &names).filter(|found| found.is_valid_for(&names))
        {
            return Ok(found);
        }
        let made = Certificate::create(dir, &names, &authority)?;
        let (dir, fingerprint) = (dir.display(), &made.fingerprint);
        tracing::info!(%dir, %fingerprint, ?names, "made a new certificate");
        Ok(made)
    }

    /// The SHA-256 fingerprint of the certificate, as browsers show it: 32 uppercase hex
    /// pairs separated by colons (`AB:CD:...`).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The certificate in DER, e.g. to pin it as a client's only trust root.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The certificate's PEM file.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    /// The names it is valid for: `localhost`, the loopback addresses, then the others.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The SHA-256 fingerprint of the CA that signed it, as [`Certificate::fingerprint`]
    /// writes it: what a person compares on a device before trusting the CA.
    pub fn ca_fingerprint(&self) -> &str {
        &self.ca_fingerprint
    }

    /// The CA certificate in DER, e.g. a client's one trust root.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// The CA certificate's PEM file: what a device installs to trust every certificate Wharf
    /// issues (never the key, which stays beside it).
    pub fn ca_cert_path(&self) -> &Path {
        &self.ca_cert_path
    }

    /// The certificate and its key as rustls presents them.
    ///
    /// # Errors
    /// [`CertificateError::Tls`] if rustls refuses the key, or the key is not the
    /// certificate's.
    pub(crate) fn certified_key(&self) -> Result<rustls::sign::CertifiedKey, CertificateError> {
        rustls::sign::CertifiedKey::from_der(
            vec![self.der.clone()],
            self.key.clone_key(),
            &provider(),
        )
        .map_err(CertificateError::Tls)
    }

    /// Whether [`Certificate::load_or_create`] made it (rather than reusing the one it found).
    pub fn created(&self) -> bool {
        self.created
    }

    /// TLS 1.3 and 1.2 with this certificate, offering HTTP/2 and HTTP/1.1 over ALPN.
    ///
    /// # Errors
    /// [`CertificateError::Tls`] if rustls refuses the key, or the key is not the
    /// certificate's.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, CertificateError> {
        let config = builder()?
            .with_single_cert(vec![self.der.clone()], self.key.clone_key())
            .map_err(CertificateError::Tls)?;
        Ok(with_alpn(config))
    }

    /// The certificate and key in `dir`, if both read and belong together. (Whether it is
    /// `authority`'s and valid for `names` is [`Certificate::is_valid_for`]'s question.)
    fn load(dir: &Path, authority: &Authority, names: &[String]) -> Option<Certificate> {
        let der = CertificateDer::from_pem_file(dir.join(CERT_FILE)).ok()?;
        let key = PrivateKeyDer::from_pem_file(dir.join(KEY_FILE)).ok()?;
        let found = Certificate {
            dir: dir.to_path_buf(),
            fingerprint: fingerprint(&der),
            der,
            key,
            names: names.to_vec(),
            ca_der: authority.der().clone(),
            ca_fingerprint: authority.fingerprint().to_owned(),
            ca_cert_path: authority.cert_path().to_path_buf(),
            created: false,
        };
        // Refuses a key that is not the certificate's (say, a write cut halfway).
        found.server_config().ok()?;
        Some(found)
    }

    /// Whether a client that trusts exactly its CA accepts it for every one of `names`, now
    /// and [`RENEW_BEFORE`] from now.
    fn is_valid_for(&self, names: &[String]) -> bool {
        let mut roots = RootCertStore::empty();
        if roots.add(self.ca_der.clone()).is_err() {
            return false;
        }
        let Ok(verifier) =
            WebPkiServerVerifier::builder_with_provider(roots.into(), provider()).build()
        else {
            return false;
        };
        let now = UnixTime::now();
        let later = UnixTime::since_unix_epoch(Duration::from_secs(
            now.as_secs().saturating_add(RENEW_BEFORE.as_secs()),
        ));
        names.iter().all(|name| {
            let Ok(name) = ServerName::try_from(name.as_str()) else {
                return false;
            };
            [now, later].into_iter().all(|at| {
                verifier
                    .verify_server_cert(&self.der, &[], &name, &[], at)
                    .is_ok()
            })
        })
    }

    fn create(
        dir: &Path,
        names: &[String],
        authority: &Authority,
    ) -> Result<Certificate, CertificateError> {
        let mut params =
            rcgen::CertificateParams::new(names.to_vec()).map_err(CertificateError::Generate)?;
        let mut subject = rcgen::DistinguishedName::new();
        subject.push(rcgen::DnType::CommonName, "Wharf development certificate");
        subject.push(rcgen::DnType::OrganizationName, "Wharf");
        params.distinguished_name = subject;
        let now = time::OffsetDateTime::now_utc();
        // A day back, for a phone whose clock runs a little behind.
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(VALIDITY_DAYS);
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        let key_pair = rcgen::KeyPair::generate().map_err(CertificateError::Generate)?;
        let cert = authority.sign(&params, &key_pair)?;

        make_private_dir(dir)?;
        // The key first: a reader that finds the new certificate with the old key refuses the
        // pair and makes its own.
        write_atomically(&dir.join(KEY_FILE), key_pair.serialize_pem().as_bytes())?;
        write_atomically(&dir.join(CERT_FILE), cert.pem().as_bytes())?;
        let der = cert.der().clone();
        Ok(Certificate {
            dir: dir.to_path_buf(),
            fingerprint: fingerprint(&der),
            der,
            key: PrivateKeyDer::Pkcs8(key_pair.serialize_der().into()),
            names: names.to_vec(),
            ca_der: authority.der().clone(),
            ca_fingerprint: authority.fingerprint().to_owned(),
            ca_cert_path: authority.cert_path().to_path_buf(),
            created: true,
        })
    }
}

/// Holds the certificate folders' lock, once `dir` is known not to be open to other users.
///
/// # Errors
/// [`CertificateError::FolderOpenToOthers`].
pub(crate) fn lock_folder(dir: &Path) -> Result<MutexGuard<'static, ()>, CertificateError> {
    let guard = FOLDER_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    // A missing folder is made later; an unreadable one fails there.
    if let Ok(Some(mode)) = private_fs::open_to_others(dir) {
        let dir = dir.to_path_buf();
        return Err(CertificateError::FolderOpenToOthers { dir, mode });
    }
    Ok(guard)
}

/// The names a certificate for `hosts` must be valid for: `localhost`, `127.0.0.1`, `::1`,
/// then each of `hosts` that is not already there or unspecified (`0.0.0.0`), sorted. An
/// address the CA may not vouch for (a public one, see `ca::permits`) is left out.
pub(crate) fn wanted_names(hosts: &[IpAddr]) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let mut extra: Vec<IpAddr> = hosts
        .iter()
        .copied()
        .filter(|host| !host.is_loopback() && !host.is_unspecified() && ca::permits(*host))
        .collect();
    extra.sort_unstable();
    extra.dedup();
    names.extend(extra.iter().map(IpAddr::to_string));
    names
}

/// The addresses a server bound on `host` is reached at from other devices: `host` itself,
/// or, for `0.0.0.0` and `::`, every interface's address but loopback and link-local.
pub(crate) fn reachable_addresses(host: IpAddr) -> Vec<IpAddr> {
    if host.is_loopback() {
        return Vec::new();
    }
    if !host.is_unspecified() {
        return vec![host];
    }
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(err) => {
            tracing::warn!("cannot list the network interfaces for the certificate: {err}");
            return Vec::new();
        }
    };
    interfaces
        .into_iter()
        .map(|interface| interface.ip())
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local(),
            // Link-local IPv6 needs a zone, which no URL a phone types carries.
            IpAddr::V6(v6) => !v6.is_loopback() && (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect()
}

/// TLS 1.3 and 1.2 presenting what `resolver` chooses, offering HTTP/2 and HTTP/1.1 over ALPN.
///
/// # Errors
/// [`CertificateError::Tls`] if rustls refuses the protocol versions.
pub(crate) fn server_config_with(
    resolver: Arc<dyn rustls::server::ResolvesServerCert>,
) -> Result<Arc<rustls::ServerConfig>, CertificateError> {
    Ok(with_alpn(builder()?.with_cert_resolver(resolver)))
}

/// rustls's builder with Wharf's provider and protocol versions, no client certificates.
fn builder() -> Result<
    rustls::ConfigBuilder<rustls::ServerConfig, rustls::server::WantsServerCert>,
    CertificateError,
> {
    Ok(rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(CertificateError::Tls)?
        .with_no_client_auth())
}

fn with_alpn(mut config: rustls::ServerConfig) -> Arc<rustls::ServerConfig> {
    config.alpn_protocols = ALPN.iter().map(|protocol| protocol.to_vec()).collect();
    Arc::new(config)
}

/// SHA-256 of `der` as uppercase hex pairs separated by colons.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let pairs: Vec<String> = digest.iter().map(|byte| format!("{byte:02X}")).collect();
    pairs.join(":")
}

/// rustls's ring provider, named explicitly so that no process-wide default is needed.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn make_private_dir(dir: &Path) -> Result<(), CertificateError> {
    private_fs::create_dir_all(dir).map_err(|source| CertificateError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CertificateError> {
    private_fs::write_atomically(path, bytes).map_err(|source| CertificateError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_uppercase_pairs() {
        let text = fingerprint(b"wharf");
        assert_eq!(text.len(), 32 * 3 - 1);
        assert!(text
            .split(':')
            .all(|pair| pair.len() == 2 && pair.chars().all(|c| c.is_ascii_hexdigit())));
        assert_eq!(text, text.to_ascii_uppercase());
    }

    #[test]
    fn names_start_with_loopback_and_skip_the_unspecified() {
        let lan: IpAddr = "192.168.1.20".parse().unwrap();
        let names = wanted_names(&[lan, "0.0.0.0".parse().unwrap(), lan, "::1".parse().unwrap()]);
        assert_eq!(names, ["localhost", "127.0.0.1", "::1", "192.168.1.20"]);
    }

    #[test]
    fn a_certificate_is_made_reused_and_remade_for_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("wharf/certs");
        let first = Certificate::load_or_create(&certs, &[]).unwrap();
        assert!(first.created());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(certs.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = Certificate::load_or_create(&certs, &[]).unwrap();
        assert!(!again.created());
        assert_eq!(again.fingerprint(), first.fingerprint());

        let lan: IpAddr = "10.1.2.3".parse().unwrap();
        let wider = Certificate::load_or_create(&certs, &[lan]).unwrap();
        assert!(wider.created());
        assert_ne!(wider.fingerprint(), first.fingerprint());
        // It still covers loopback, so a loopback site reuses it.
        let loopback = Certificate::load_or_create(&certs, &[]).unwrap();
        assert_eq!(loopback.fingerprint(), wider.fingerprint());

        // Damaged files are replaced.
        std::fs::write(certs.join(CERT_FILE), "not a certificate").unwrap();
        let repaired = Certificate::load_or_create(&certs, &[]).unwrap();
        assert!(repaired.created());
        repaired.server_config().unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_or_key_open_to_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let chmod = |path: &Path, mode| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        let tmp = tempfile::tempdir().unwrap();
        let certs = tmp.path().join("new/certs");
        let made = Certificate::load_or_create(&certs, &[]).unwrap();
        let key = certs.join(KEY_FILE);
        assert_eq!(
            (mode(&tmp.path().join("new")), mode(&certs)),
            (0o700, 0o700)
        );
        assert_eq!((mode(&key), mode(&certs.join(CERT_FILE))), (0o600, 0o600));
        let pem = std::fs::read(&key).unwrap();

        chmod(&key, 0o644);
        let err = Certificate::load_or_create(&certs, &[]).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, CertificateError::KeyOpenToOthers { mode: 0o644, .. }),
            "{message}"
        );
        assert!(
            message.contains(&format!("`chmod 600 {}`", key.display())) && message.contains("0644"),
            "{message}"
        );
        assert_eq!(std::fs::read(&key).unwrap(), pem, "refused, not replaced");
        assert_eq!(mode(&key), 0o644, "nor repaired");

        chmod(&key, 0o600);
        chmod(&certs, 0o750);
        let message = Certificate::load_or_create(&certs, &[])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&format!("`chmod 700 {}`", certs.display())),
            "{message}"
        );

        chmod(&certs, 0o700);
        let again = Certificate::load_or_create(&certs, &[]).unwrap();
        assert_eq!(again.fingerprint(), made.fingerprint());
    }

    #[cfg(unix)]
    #[test]
    fn a_key_is_never_written_through_a_planted_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let certs = tmp.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        std::fs::set_permissions(&certs, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let outside = tmp.path().join("stolen.pem");
        std::fs::write(&outside, "").unwrap();
        let temporary = format!("{KEY_FILE}.{}.tmp", std::process::id());
        std::os::unix::fs::symlink(&outside, certs.join(temporary)).unwrap();
        let made = Certificate::load_or_create(&certs, &[]).unwrap();
        assert!(made.created());
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            "",
            "not written through"
        );
        assert!(std::fs::read_to_string(certs.join(KEY_FILE))
            .unwrap()
            .contains("PRIVATE KEY"));
    }
}
