//! The certificate an HTTPS listener presents, swappable while it serves: rustls asks
//! [`LiveCertificate`] for it at each handshake, so a reissued certificate is presented from
//! the next handshake on, without a restart; connections already open keep theirs.
//!
//! [`LiveCertificate::renew`] asks `tls` again for the certificate of the listener's folder and
//! host, and swaps it in when it is another: the LAN addresses changed (a new Wi-Fi, DHCP),
//! another site of the same folder issued a wider one, or the old one nears its expiry. The
//! accept loop calls it every [`RENEW_EVERY`].
//!
//! It owns no file and no socket: `tls` reads and writes the folder, `accept` owns the listener.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::lifecycle::tls::{self, Certificate, CertificateError};

/// How often a running HTTPS listener checks that its certificate still covers the machine's
/// addresses. Default: 10 s.
pub(crate) const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The certificate a listener presents now, and what it is asked again for.
pub(crate) struct LiveCertificate {
    dir: PathBuf,
    host: IpAddr,
    current: RwLock<Arc<Presented>>,
}

/// One certificate as presented: rustls's form, and the certificate for its details.
struct Presented {
    key: Arc<CertifiedKey>,
    certificate: Certificate,
}

impl fmt::Debug for LiveCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveCertificate")
            .field("dir", &self.dir)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for LiveCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.read().key))
    }
}

impl LiveCertificate {
    /// The certificate of `dir` for a listener on `host`, loaded or made off the runtime's
    /// threads.
    ///
    /// # Errors
    /// As `Certificate::load_or_create`.
    pub(crate) async fn load(
        dir: &Path,
        host: IpAddr,
    ) -> Result<LiveCertificate, CertificateError> {
        let presented = issue(dir, host).await?;
        Ok(LiveCertificate {
            dir: dir.to_path_buf(),
            host,
            current: RwLock::new(Arc::new(presented)),
        })
    }

    /// TLS 1.3 and 1.2 presenting this certificate, whichever it is at each handshake,
    /// offering HTTP/2 and HTTP/1.1 over ALPN.
    ///
    /// # Errors
    /// [`CertificateError::Tls`] if rustls refuses the protocol versions.
    pub(crate) fn server_config(
        self: &Arc<Self>,
    ) -> Result<Arc<rustls::ServerConfig>, CertificateError> {
        let resolver: Arc<dyn ResolvesServerCert> = Arc::clone(self) as _;
        tls::server_config_with(resolver)
    }

    /// Asks for the certificate again and presents the new one if it changed. True when it did.
    ///
    /// # Errors
    /// As `Certificate::load_or_create`; the current certificate is kept then.
    pub(crate) async fn renew(&self) -> Result<bool, CertificateError> {
        let next = issue(&self.dir, self.host).await?;
        if next.certificate.der() == self.read().certificate.der() {
            return Ok(false);
        }
        let fingerprint = next.certificate.fingerprint().to_owned();
        let names = next.certificate.names().to_vec();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        tracing::info!(%fingerprint, ?names, "presenting a reissued certificate");
        Ok(true)
    }

    /// The leaf's fingerprint, its file, the CA's fingerprint and its file.
    pub(crate) fn details(&self) -> (String, PathBuf, String, PathBuf) {
        let current = self.read();
        let certificate = &current.certificate;
        (
            certificate.fingerprint().to_owned(),
            certificate.cert_path(),
            certificate.ca_fingerprint().to_owned(),
            certificate.ca_cert_path().to_path_buf(),
        )
    }

    fn read(&self) -> Arc<Presented> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// `Certificate::load_or_create` for the addresses `host` is reached at, on a blocking thread.
async fn issue(dir: &Path, host: IpAddr) -> Result<Presented, CertificateError> {
    let folder = dir.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || {
        let hosts = tls::reachable_addresses(host);
        let certificate = Certificate::load_or_create(&folder, &hosts)?;
        let key = Arc::new(certificate.certified_key()?);
        Ok(Presented { key, certificate })
    })
    .await;
    match loaded {
        Ok(loaded) => loaded,
        Err(err) => match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(CertificateError::Write {
                path: dir.to_path_buf(),
                source: std::io::Error::other("the runtime is shutting down"),
            }),
        },
    }
}
