//! The "Trust Wharf's certificate authority" panel: the app's CA (in its own certificate
//! folder, `<data>/certs`) installed in, removed from, or looked up in the trust stores,
//! through `wharf_core::trust`, whose per-store report the window shows as it is.
//!
//! The window never names a folder or a store: [`CaTrust`] is made once at launch from the
//! app's certificate folder, and the commands only say what to do ([`TrustAction`]). The
//! user's stores and the system store are separate calls, the second elevated through the
//! OS's graphical password prompt. `WHARF_TEST_NSS_DB` (tests only) replaces the user's
//! stores with that one NSS database folder, so no test touches the real user's browsers.
//! Nothing here knows about Tauri; it blocks while the stores' tools run, so callers run it on
//! a blocking thread.

use std::path::PathBuf;

use serde::Deserialize;
use wharf_core::trust::{self, Action, Elevation, TrustOptions, TrustReport};
use wharf_core::CertificateError;

/// What to do with the CA in a store. Mirrors `TrustAction` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrustAction {
    /// Trust it.
    Trust,
    /// Stop trusting it.
    Untrust,
    /// Say whether it is trusted.
    Status,
}

impl From<TrustAction> for Action {
    fn from(action: TrustAction) -> Action {
        match action {
            TrustAction::Trust => Action::Install,
            TrustAction::Untrust => Action::Remove,
            TrustAction::Status => Action::Check,
        }
    }
}

/// The app's CA and the stores it may change: fixed at launch, never from the window.
#[derive(Debug, Clone)]
pub struct CaTrust {
    options: TrustOptions,
}

impl CaTrust {
    /// Tests only: the NSS database folder that replaces the user's trust stores.
    pub const TEST_ENV: &'static str = "WHARF_TEST_NSS_DB";

    /// The CA of `cert_dir` (the app's `<data>/certs`) and the user's own stores, or the one
    /// NSS database named by [`CaTrust::TEST_ENV`].
    pub fn from_env(cert_dir: PathBuf) -> CaTrust {
        let test_db = std::env::var_os(Self::TEST_ENV)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        CaTrust::new(cert_dir, test_db)
    }

    /// The CA of `cert_dir`, in the user's stores, or only in the NSS database `nss_db`.
    pub fn new(cert_dir: PathBuf, nss_db: Option<PathBuf>) -> CaTrust {
        CaTrust {
            options: TrustOptions {
                cert_dir,
                nss_dbs: nss_db.map(|db| vec![db]),
                home: None,
            },
        }
    }

    /// Trusts, untrusts or looks up the CA (made if there is none yet) in the user's stores.
    ///
    /// # Errors
    /// [`CertificateError`] when the CA cannot be read or made; a store that fails is in the
    /// report.
    pub fn user(&self, action: TrustAction) -> Result<TrustReport, CertificateError> {
        match action {
            TrustAction::Trust => trust::trust(&self.options),
            TrustAction::Untrust => trust::untrust(&self.options),
            TrustAction::Status => trust::status(&self.options),
        }
    }

    /// The same in the machine's store, for every user: the OS asks for an administrator's
    /// password in its own window first. With the test database set, refused (no test may
    /// change the machine).
    ///
    /// # Errors
    /// As [`CaTrust::user`].
    pub fn system(&self, action: TrustAction) -> Result<TrustReport, CertificateError> {
        if self.options.nss_dbs.is_some() && action != TrustAction::Status {
            let mut report = trust::status(&self.options)?;
            for store in &mut report.stores {
                store.outcome = trust::Outcome::Failed {
                    reason: format!("the system store is off limits under {}", Self::TEST_ENV),
                };
            }
            return Ok(report);
        }
        trust::system(&self.options, action.into(), Elevation::Graphical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    fn listed(db: &std::path::Path) -> String {
        let out = std::process::Command::new("certutil")
            .arg("-L")
            .arg("-d")
            .arg(format!("sql:{}", db.display()))
            .output()
            .expect("certutil (libnss3-tools) runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Trust, status, untrust on a temporary NSS database (NSS's `certutil` is Linux's; on
    /// Windows the name is another tool): the report names it, and
    /// `certutil -L` lists the CA exactly while it is trusted.
    #[test]
    #[cfg(target_os = "linux")]
    fn trusts_and_untrusts_the_apps_ca_in_the_named_database_only() {
        use wharf_core::trust::{Outcome, Store};
        let certs = tempfile::tempdir().unwrap();
        let db = tempfile::tempdir().unwrap();
        let ca = CaTrust::new(certs.path().join("certs"), Some(db.path().to_path_buf()));
        let nss = Store::Nss {
            browser: "NSS".to_owned(),
            path: db.path().to_path_buf(),
        };

        let status = ca.user(TrustAction::Status).unwrap();
        assert_eq!(status.stores.len(), 1);
        assert_eq!(status.stores[0].outcome, Outcome::NotTrusted);
        assert_eq!(
            status.ca_cert_path,
            certs.path().join("certs/ca.pem"),
            "the app's own CA"
        );

        let trusted = ca.user(TrustAction::Trust).unwrap();
        assert_eq!(trusted.stores[0].store, nss);
        assert_eq!(trusted.stores[0].outcome, Outcome::Updated, "{trusted}");
        assert!(listed(db.path()).contains("Wharf"), "{}", listed(db.path()));
        assert_eq!(
            ca.user(TrustAction::Status).unwrap().stores[0].outcome,
            Outcome::Trusted
        );
        assert_eq!(trusted.ca_fingerprint, status.ca_fingerprint, "one CA");

        let untrusted = ca.user(TrustAction::Untrust).unwrap();
        assert_eq!(untrusted.stores[0].outcome, Outcome::Updated, "{untrusted}");
        assert!(!listed(db.path()).contains("Wharf"));
    }

    /// Under the test database, the elevated step changes nothing on the machine.
    #[test]
    fn the_system_store_is_off_limits_to_tests() {
        let certs = tempfile::tempdir().unwrap();
        let db = tempfile::tempdir().unwrap();
        let ca = CaTrust::new(certs.path().join("certs"), Some(db.path().to_path_buf()));
        let report = ca.system(TrustAction::Trust).unwrap();
        assert!(report.failed(), "{report}");
        assert!(report.to_string().contains(CaTrust::TEST_ENV));
    }

    #[test]
    fn the_window_says_what_not_where() {
        let action: TrustAction = serde_json::from_str("\"untrust\"").unwrap();
        assert_eq!(Action::from(action), Action::Remove);
        assert!(serde_json::from_str::<TrustAction>("\"/etc/ssl\"").is_err());
    }
}
