//! Wharf's local certificate authority: made once with rcgen in the certificate folder, it
//! signs each site's certificate (`tls`), so a device that trusts it once (`trust`, or by
//! hand on a phone) trusts every certificate Wharf issues from then on.
//!
//! As mkcert's: a CA certificate (basic constraints `CA:TRUE` with no intermediate below it,
//! key usage `keyCertSign`, valid [`CA_VALIDITY_DAYS`]) and an ECDSA P-256 key, kept as
//! [`CA_CERT_FILE`] and [`CA_KEY_FILE`] (readable by the user alone) beside the site
//! certificate. Unlike mkcert's, it carries name constraints: it may only vouch for
//! `localhost` and the loopback, private and link-local address ranges ([`permits`]), so a
//! copy of its key cannot impersonate a public site. A folder or key that other users can
//! open is refused, as `tls` refuses its own.
//!
//! Only this module reads the CA's key, and nothing here writes it outside the folder.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::files::private_fs;
use crate::lifecycle::tls::{fingerprint, lock_folder, CertificateError};

/// The CA certificate's file in the certificate folder: what a device installs to trust Wharf.
pub(crate) const CA_CERT_FILE: &str = "ca.pem";
/// The CA's private key in the certificate folder; mode 0600 on Unix.
pub(crate) const CA_KEY_FILE: &str = "ca-key.pem";
/// The CA certificate's name under `/__wharf/`, where a phone downloads it.
pub(crate) const DOWNLOAD_NAME: &str = "ca.crt";
/// How long a new CA is valid. Default: 10 years (3,650 days), as mkcert's.
const CA_VALIDITY_DAYS: i64 = 3650;
/// The CA's subject. The issuer name of every certificate it signs must repeat it byte for
/// byte, and rcgen cannot read it back from the file, so it is a constant.
const CA_NAME: &str = "Wharf local certificate authority";

/// The address ranges the CA may vouch for, as (network, prefix length): loopback, the
/// private ranges (RFC 1918, RFC 4193), shared address space (RFC 6598, e.g. Tailscale) and
/// link-local.
const PERMITTED_RANGES: [(IpAddr, u8); 9] = [
    (IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 0)), 8),
    (IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 0)), 8),
    (IpAddr::V4(std::net::Ipv4Addr::new(172, 16, 0, 0)), 12),
    (IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 0, 0)), 16),
    (IpAddr::V4(std::net::Ipv4Addr::new(100, 64, 0, 0)), 10),
    (IpAddr::V4(std::net::Ipv4Addr::new(169, 254, 0, 0)), 16),
    (IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 128),
    (
        IpAddr::V6(std::net::Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0)),
        7,
    ),
    (
        IpAddr::V6(std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)),
        10,
    ),
];
/// The one host name the CA may vouch for (and its subdomains).
const PERMITTED_NAME: &str = "localhost";

/// Whether the CA's name constraints let it vouch for `ip`. An address outside them (a
/// public one) is left out of site certificates: a browser would refuse the whole certificate.
pub(crate) fn permits(ip: IpAddr) -> bool {
    PERMITTED_RANGES
        .iter()
        .any(|&(network, prefix)| in_range(ip, network, prefix))
}

fn in_range(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// The public half of Wharf's local certificate authority: what is installed in a trust store
/// or on a phone. Its key stays in the certificate folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCa {
    /// The CA certificate in DER.
    pub der: Vec<u8>,
    /// Its SHA-256 fingerprint (`AB:CD:...`), what a person compares before trusting it.
    pub fingerprint: String,
    /// Its PEM file in the certificate folder.
    pub cert_path: PathBuf,
}

impl LocalCa {
    /// The CA of the certificate folder `dir`, made there (with the folder) if there is none.
    ///
    /// # Errors
    /// [`CertificateError::FolderOpenToOthers`] or [`CertificateError::KeyOpenToOthers`] for
    /// a folder or CA key other users can open, or another [`CertificateError`] if a new CA
    /// cannot be made or written.
    pub fn load_or_create(dir: &Path) -> Result<LocalCa, CertificateError> {
        let _one_at_a_time = lock_folder(dir)?;
        let authority = Authority::load_or_create(dir)?;
        Ok(LocalCa {
            der: authority.der.to_vec(),
            fingerprint: authority.fingerprint,
            cert_path: authority.cert_path,
        })
    }

    /// A name for it that no other CA has: its common name and the start of its fingerprint,
    /// e.g. `Wharf local certificate authority 3F2A9C01`. Trust stores list it under this name.
    pub fn nickname(&self) -> String {
        let start: String = self.fingerprint.replace(':', "").chars().take(8).collect();
        format!("{CA_NAME} {start}")
    }

    /// The common name every Wharf CA has (`Wharf local certificate authority`).
    pub fn common_name() -> &'static str {
        CA_NAME
    }
}

/// The local certificate authority of one certificate folder.
pub(crate) struct Authority {
    der: CertificateDer<'static>,
    key: rcgen::KeyPair,
    fingerprint: String,
    cert_path: PathBuf,
}

impl Authority {
    /// The CA in `dir`, or a new one written there if there is none or it does not load.
    /// The caller holds the folder lock and has checked the folder's mode.
    ///
    /// # Errors
    /// [`CertificateError::KeyOpenToOthers`] for a CA key others can open (refused, never
    /// repaired), or another [`CertificateError`] if a new CA cannot be made or written.
    pub(crate) fn load_or_create(dir: &Path) -> Result<Authority, CertificateError> {
        let key_path = dir.join(CA_KEY_FILE);
        if let Ok(Some(mode)) = private_fs::open_to_others(&key_path) {
            return Err(CertificateError::KeyOpenToOthers {
                path: key_path,
                mode,
            });
        }
        if let Some(found) = Authority::load(dir) {
            return Ok(found);
        }
        let made = Authority::create(dir)?;
        let (dir, fingerprint) = (dir.display(), &made.fingerprint);
        tracing::info!(%dir, %fingerprint, "made a new local certificate authority");
        Ok(made)
    }

    /// The CA certificate in DER.
    pub(crate) fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The CA certificate's SHA-256 fingerprint, as `tls::fingerprint` writes it.
    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The CA certificate's PEM file.
    pub(crate) fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Signs `params` (a site certificate) for `key`'s public key.
    pub(crate) fn sign(
        &self,
        params: &rcgen::CertificateParams,
        key: &rcgen::KeyPair,
    ) -> Result<rcgen::Certificate, CertificateError> {
        let issuer = rcgen::Issuer::new(ca_params(), &self.key);
        params
            .signed_by(key, &issuer)
            .map_err(CertificateError::Generate)
    }

    fn load(dir: &Path) -> Option<Authority> {
        let cert_path = dir.join(CA_CERT_FILE);
        let der = CertificateDer::from_pem_file(&cert_path).ok()?;
        let pem = std::fs::read_to_string(dir.join(CA_KEY_FILE)).ok()?;
        let key = rcgen::KeyPair::from_pem(&pem).ok()?;
        // A key that is not the certificate's (a write cut halfway) makes a new CA.
        if !contains(&der, key.public_key_raw()) {
            return None;
        }
        Some(Authority {
            fingerprint: fingerprint(&der),
            der,
            key,
            cert_path,
        })
    }

    fn create(dir: &Path) -> Result<Authority, CertificateError> {
        let mut params = ca_params();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
        let key = rcgen::KeyPair::generate().map_err(CertificateError::Generate)?;
        let cert = params
            .self_signed(&key)
            .map_err(CertificateError::Generate)?;
        private_fs::create_dir_all(dir).map_err(|source| write_error(dir, source))?;
        // The key first, as `tls` does: a certificate found with an older key is refused.
        let key_path = dir.join(CA_KEY_FILE);
        private_fs::write_atomically(&key_path, key.serialize_pem().as_bytes())
            .map_err(|source| write_error(&key_path, source))?;
        let cert_path = dir.join(CA_CERT_FILE);
        private_fs::write_atomically(&cert_path, cert.pem().as_bytes())
            .map_err(|source| write_error(&cert_path, source))?;
        let der = cert.der().clone();
        Ok(Authority {
            fingerprint: fingerprint(&der),
            der,
            key,
            cert_path,
        })
    }
}

/// The CA's parameters but its dates: subject, constraints, key usages. The same every time,
/// so that certificates signed later name the CA exactly as its certificate does.
fn ca_params() -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    let mut subject = rcgen::DistinguishedName::new();
    subject.push(rcgen::DnType::CommonName, CA_NAME);
    subject.push(rcgen::DnType::OrganizationName, "Wharf");
    params.distinguished_name = subject;
    // No intermediate below it: it signs site certificates only (mkcert's MaxPathLenZero).
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let mut permitted = vec![rcgen::GeneralSubtree::DnsName(PERMITTED_NAME.to_owned())];
    permitted.extend(PERMITTED_RANGES.iter().map(|&(network, prefix)| {
        rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::from_addr_prefix(network, prefix))
    }));
    params.name_constraints = Some(rcgen::NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: Vec::new(),
    });
    params
}

/// Whether `haystack` contains `needle`: the CA certificate's DER holds its public key's bytes.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

fn write_error(path: &Path, source: io::Error) -> CertificateError {
    CertificateError::Write {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constraints_admit_local_ranges_only() {
        for ok in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.20",
            "100.100.1.1",
            "::1",
            "fd00::1",
        ] {
            assert!(permits(ok.parse().unwrap()), "{ok}");
        }
        for refused in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "192.169.0.1"] {
            assert!(!permits(refused.parse().unwrap()), "{refused}");
        }
    }

    #[test]
    fn the_ca_is_made_once_and_its_key_stays_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("certs");
        let made = Authority::load_or_create(&dir).unwrap();
        let again = Authority::load_or_create(&dir).unwrap();
        assert_eq!(made.fingerprint(), again.fingerprint());
        assert_eq!(made.der(), again.der());
        let key = std::fs::read_to_string(dir.join(CA_KEY_FILE)).unwrap();
        assert!(key.contains("PRIVATE KEY"));
        let cert = std::fs::read_to_string(dir.join(CA_CERT_FILE)).unwrap();
        assert!(
            !cert.contains("PRIVATE KEY"),
            "the certificate file holds no key"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.join(CA_KEY_FILE)), 0o600);
            assert_eq!(mode(&dir), 0o700);
            std::fs::set_permissions(
                dir.join(CA_KEY_FILE),
                std::fs::Permissions::from_mode(0o640),
            )
            .unwrap();
            let Err(err) = Authority::load_or_create(&dir) else {
                panic!("a CA key others can read was used");
            };
            assert!(
                matches!(err, CertificateError::KeyOpenToOthers { mode: 0o640, .. }),
                "{err}"
            );
        }
        // Only two files: the CA's key is written nowhere else.
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [CA_KEY_FILE, CA_CERT_FILE]);
    }
}
