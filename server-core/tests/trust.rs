//! Trusted HTTPS (issue 16): site certificates issued by Wharf's local CA, reissued while the
//! server runs and presented from the next handshake on, the CA certificate (never its key)
//! downloadable from the site, and `trust`/`untrust` on a real, temporary NSS database through
//! `certutil`.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::get;
use common::tls::connect;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_core::{fingerprint, Certificate, LocalCa, ServerEvent};
use wharf_core::{ConfigDraft, ServerConfig, ServerHandle};

fn draft(root: &Path, certs: &Path) -> ConfigDraft {
    ConfigDraft {
        root: Some(root.to_path_buf()),
        port: Some(0),
        https_port: Some(0),
        cert_dir: Some(certs.to_path_buf()),
        ..ConfigDraft::default()
    }
}

async fn start(draft: ConfigDraft) -> ServerHandle {
    ServerHandle::start(ServerConfig::try_from(draft).unwrap())
        .await
        .unwrap()
}

/// The certificate the server presents to a new handshake (trusting only its CA, and
/// checked against what the server reports), after one request on it.
async fn presented(server: &ServerHandle) -> String {
    let mut tls = connect(server, &[b"http/1.1"], "localhost").await;
    let presented = fingerprint(&tls.get_ref().1.peer_certificates().unwrap()[0]);
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut bytes = Vec::new();
    tls.read_to_end(&mut bytes).await.unwrap();
    assert!(bytes.starts_with(b"HTTP/1.1 200"), "{bytes:?}");
    presented
}

#[tokio::test]
async fn a_reissued_certificate_is_presented_without_a_restart() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<p>hi</p>").unwrap();
    let data = tempfile::tempdir().unwrap();
    let certs = data.path().join("wharf/certs");
    let server = start(draft(site.path(), &certs)).await;
    let mut events = server.subscribe();
    let before = server.https().unwrap();
    assert_eq!(presented(&server).await, before.fingerprint);
    assert!(
        !server.renew_certificate().await.unwrap(),
        "nothing changed"
    );

    // Another server of the same folder issues a certificate for a LAN address (as the
    // app's sites share one folder), as happens when this machine's addresses change.
    let wider = Certificate::load_or_create(&certs, &["192.168.77.5".parse().unwrap()]).unwrap();
    assert!(wider.created());
    assert_eq!(wider.ca_fingerprint(), before.ca_fingerprint, "one CA");
    assert!(server.renew_certificate().await.unwrap());
    let after = server.https().unwrap();
    assert_eq!(after.fingerprint, wider.fingerprint());
    assert_eq!(after.ca_fingerprint, before.ca_fingerprint);
    assert_eq!(after.local_addr, before.local_addr, "the same listener");
    assert_eq!(
        presented(&server).await,
        wider.fingerprint(),
        "no restart needed"
    );

    // The server checks by itself every 10 s.
    let third = Certificate::load_or_create(&certs, &["10.9.8.7".parse().unwrap()]).unwrap();
    let renewed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if let ServerEvent::CertificateRenewed { fingerprint } = events.recv().await.unwrap() {
                return fingerprint;
            }
        }
    })
    .await
    .expect("renewed within 15 s");
    assert_eq!(renewed, third.fingerprint());
    assert_eq!(presented(&server).await, third.fingerprint());
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn site_certificates_chain_to_the_ca_for_local_names_only_and_at_most_397_days() {
    let data = tempfile::tempdir().unwrap();
    let certs = data.path().join("certs");
    let public = "8.8.8.8".parse().unwrap();
    let lan = "192.168.1.20".parse().unwrap();
    let leaf = Certificate::load_or_create(&certs, &[lan, public]).unwrap();
    // An address the CA's name constraints forbid is left out, or browsers would refuse all.
    assert_eq!(
        leaf.names(),
        ["localhost", "127.0.0.1", "::1", "192.168.1.20"]
    );

    let mut roots = rustls::RootCertStore::empty();
    roots.add(leaf.ca_der().clone()).unwrap();
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        roots.into(),
        wharf_core::tls_provider(),
    )
    .build()
    .unwrap();
    let at = |days: u64| {
        UnixTime::since_unix_epoch(Duration::from_secs(
            UnixTime::now().as_secs() + days * 86_400,
        ))
    };
    let verify = |name: &str, days| {
        verifier.verify_server_cert(
            leaf.der(),
            &[],
            &ServerName::try_from(name.to_owned()).unwrap(),
            &[],
            at(days),
        )
    };
    for name in ["localhost", "127.0.0.1", "::1", "192.168.1.20"] {
        verify(name, 0).unwrap();
    }
    verify("8.8.8.8", 0).unwrap_err();
    verify("example.com", 0).unwrap_err();
    verify("localhost", 395).unwrap();
    verify("localhost", 398).unwrap_err();

    // The CA's own certificate is not a site certificate, and the leaf is no CA.
    assert_ne!(leaf.der().as_ref(), leaf.ca_der().as_ref());
    let ca = LocalCa::load_or_create(&certs).unwrap();
    assert_eq!(ca.fingerprint, leaf.ca_fingerprint());
    assert_eq!(ca.der, leaf.ca_der().to_vec());
}

#[tokio::test]
async fn the_ca_certificate_downloads_from_the_site_and_never_its_key() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let certs = data.path().join("wharf/certs");
    let server = start(draft(site.path(), &certs)).await;
    let response = get(server.local_addr(), "/__wharf/ca.crt").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/x-x509-ca-cert")
    );
    let ca = CertificateDer::from_pem_file(certs.join("ca.pem")).unwrap();
    assert_eq!(response.body, ca.as_ref(), "the CA certificate in DER");
    assert_eq!(
        fingerprint(&response.body),
        server.https().unwrap().ca_fingerprint
    );
    let key = std::fs::read_to_string(certs.join("ca-key.pem")).unwrap();
    let key_der = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let secret = key_der.secret_der();
    assert!(
        !response
            .body
            .windows(secret.len())
            .any(|window| window == secret),
        "the key is never served"
    );
    // A site file cannot stand in for it, and a site without HTTPS has none to give.
    std::fs::create_dir(site.path().join("__wharf")).unwrap();
    std::fs::write(site.path().join("__wharf/ca.crt"), "fake").unwrap();
    assert_eq!(
        get(server.local_addr(), "/__wharf/ca.crt").await.body,
        ca.as_ref()
    );
    server.stop(Duration::from_secs(1)).await;

    let plain = common::start(site.path()).await;
    assert_eq!(get(plain.local_addr(), "/__wharf/ca.crt").await.status, 404);
}

// Linux, where scripts/deps.sh installs NSS's certutil (libnss3-tools); Windows has a
// `certutil` of its own, another tool, and macOS has none unless Homebrew's nss is added.
#[cfg(target_os = "linux")]
mod nss {
    use std::path::Path;
    use std::process::Command;

    use wharf_core::trust::{self, Outcome, TrustOptions};
    use wharf_core::LocalCa;

    /// Whether `certutil` runs; without it the NSS test cannot, which CI must not accept.
    fn certutil_present() -> bool {
        let present = Command::new("certutil").arg("-H").output().is_ok();
        if !present {
            assert!(
                std::env::var_os("CI").is_none(),
                "certutil is missing: scripts/deps.sh installs libnss3-tools"
            );
            eprintln!("skipped: certutil is missing (install libnss3-tools)");
        }
        present
    }

    fn listed(db: &Path) -> String {
        let output = Command::new("certutil")
            .arg("-L")
            .arg("-d")
            .arg(format!("sql:{}", db.display()))
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    #[test]
    fn trust_and_untrust_a_temporary_nss_database() {
        if !certutil_present() {
            return;
        }
        let data = tempfile::tempdir().unwrap();
        let db = data.path().join("home/.pki/nssdb");
        let options = TrustOptions {
            cert_dir: data.path().join("certs"),
            nss_dbs: Some(vec![db.clone()]),
            home: None,
        };
        let outcomes = |report: trust::TrustReport| -> Vec<Outcome> {
            report
                .stores
                .into_iter()
                .map(|store| store.outcome)
                .collect()
        };
        assert_eq!(
            outcomes(trust::status(&options).unwrap()),
            [Outcome::NotTrusted]
        );

        let report = trust::trust(&options).unwrap();
        assert!(!report.failed(), "{report}");
        let ca = LocalCa::load_or_create(&options.cert_dir).unwrap();
        assert_eq!(report.ca_fingerprint, ca.fingerprint);
        assert_eq!(outcomes(report), [Outcome::Updated]);
        let list = listed(&db);
        assert!(list.contains(&ca.nickname()), "{list}");
        assert!(
            list.contains("C,,"),
            "trusted to issue server certificates: {list}"
        );
        assert_eq!(
            outcomes(trust::status(&options).unwrap()),
            [Outcome::Trusted]
        );
        assert_eq!(
            outcomes(trust::trust(&options).unwrap()),
            [Outcome::Unchanged]
        );

        assert_eq!(
            outcomes(trust::untrust(&options).unwrap()),
            [Outcome::Updated]
        );
        let list = listed(&db);
        assert!(!list.contains(&ca.nickname()), "{list}");
        assert_eq!(
            outcomes(trust::status(&options).unwrap()),
            [Outcome::NotTrusted]
        );
        assert_eq!(
            outcomes(trust::untrust(&options).unwrap()),
            [Outcome::Unchanged]
        );
    }
}
