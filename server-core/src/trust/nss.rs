//! NSS databases (Chromium and Firefox on Linux) and `certutil`, as mkcert finds and changes
//! them: `certutil -V -u L` asks whether the CA is trusted for TLS servers, `-A -t C,,` adds
//! it as one, `-D` deletes it, by its nickname (`LocalCa::nickname`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{run, Action, Outcome, Store, StoreReport};
use crate::lifecycle::ca::LocalCa;

/// The NSS databases of `home`: Chromium's (made if missing), the Chromium snap's, and every
/// Firefox profile's (also the snap's), as (browser, folder, make if missing).
pub(super) fn databases(home: &Path) -> Vec<(&'static str, PathBuf, bool)> {
    let mut found = vec![("Chromium", home.join(".pki/nssdb"), true)];
    let snap = home.join("snap/chromium/current/.pki/nssdb");
    if snap.is_dir() {
        found.push(("Chromium", snap, false));
    }
    for profiles in [
        home.join(".mozilla/firefox"),
        home.join("snap/firefox/common/.mozilla/firefox"),
    ] {
        let Ok(entries) = std::fs::read_dir(&profiles) else {
            continue;
        };
        let mut dbs: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.join("cert9.db").is_file() || path.join("cert8.db").is_file())
            .collect();
        dbs.sort();
        found.extend(dbs.into_iter().map(|db| ("Firefox", db, false)));
    }
    found
}

/// `certutil`'s name for the database in `dir`: `sql:` for cert9.db (and for a new one),
/// `dbm:` for an old cert8.db.
pub(super) fn db_arg(dir: &Path) -> OsString {
    let prefix = if dir.join("cert8.db").is_file() && !dir.join("cert9.db").is_file() {
        "dbm:"
    } else {
        "sql:"
    };
    let mut arg = OsString::from(prefix);
    arg.push(dir.as_os_str());
    arg
}

/// `certutil`'s arguments for `action` on the database `db` (`sql:DIR`).
pub(super) fn certutil(action: Action, ca: &LocalCa, db: &OsString) -> Vec<OsString> {
    let nickname = OsString::from(ca.nickname());
    let mut argv: Vec<OsString> = vec!["certutil".into()];
    match action {
        Action::Check => argv.extend(["-V".into(), "-u".into(), "L".into()]),
        Action::Install => argv.extend(["-A".into(), "-t".into(), "C,,".into()]),
        Action::Remove => argv.push("-D".into()),
    }
    argv.extend(["-d".into(), db.clone(), "-n".into(), nickname]);
    if action == Action::Install {
        argv.extend(["-i".into(), ca.cert_path.clone().into_os_string()]);
    }
    argv
}

/// Applies `action` to the database in `dir`, making it first (empty password, as Chromium
/// does) if `create` and it is missing.
pub(super) fn apply(
    ca: &LocalCa,
    browser: &str,
    dir: &Path,
    create: bool,
    action: Action,
) -> StoreReport {
    let store = Store::Nss {
        browser: browser.to_owned(),
        path: dir.to_path_buf(),
    };
    let outcome = outcome(ca, dir, create, action);
    StoreReport { store, outcome }
}

fn outcome(ca: &LocalCa, dir: &Path, create: bool, action: Action) -> Outcome {
    let exists = dir.join("cert9.db").is_file() || dir.join("cert8.db").is_file();
    if !exists {
        if action != Action::Install || !create {
            // Nothing there to trust it, nor to remove it from.
            return match action {
                Action::Check => Outcome::NotTrusted,
                _ => Outcome::Unchanged,
            };
        }
        if let Err(err) = crate::files::private_fs::create_dir_all(dir) {
            return Outcome::Failed {
                reason: format!("cannot make {}: {err}", dir.display()),
            };
        }
        let mut make: Vec<OsString> = vec!["certutil".into(), "-N".into(), "-d".into()];
        make.extend([db_arg(dir), "--empty-password".into()]);
        if let Err(reason) = run(&make) {
            return Outcome::Failed { reason };
        }
    }
    let db = db_arg(dir);
    let trusted = run(&certutil(Action::Check, ca, &db)).is_ok();
    match (action, trusted) {
        (Action::Check, true) => Outcome::Trusted,
        (Action::Check, false) => Outcome::NotTrusted,
        (Action::Install, true) | (Action::Remove, false) => Outcome::Unchanged,
        (Action::Install, false) | (Action::Remove, true) => {
            match run(&certutil(action, ca, &db)) {
                Ok(()) => Outcome::Updated,
                Err(reason) => Outcome::Failed { reason },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca() -> LocalCa {
        LocalCa {
            der: Vec::new(),
            fingerprint: "AB:CD:EF:01:23:45:67:89:AA".to_owned(),
            cert_path: PathBuf::from("/data/wharf/certs/ca.pem"),
        }
    }

    #[test]
    fn certutil_commands_are_mkcerts() {
        let db = OsString::from("sql:/home/me/.pki/nssdb");
        let nickname = "Wharf local certificate authority ABCDEF01";
        let argv = |action| -> Vec<String> {
            certutil(action, &ca(), &db)
                .into_iter()
                .map(|arg| arg.into_string().unwrap())
                .collect()
        };
        assert_eq!(
            argv(Action::Install),
            [
                "certutil",
                "-A",
                "-t",
                "C,,",
                "-d",
                "sql:/home/me/.pki/nssdb",
                "-n",
                nickname,
                "-i",
                "/data/wharf/certs/ca.pem"
            ]
        );
        assert_eq!(
            argv(Action::Remove),
            [
                "certutil",
                "-D",
                "-d",
                "sql:/home/me/.pki/nssdb",
                "-n",
                nickname
            ]
        );
        assert_eq!(
            argv(Action::Check),
            [
                "certutil",
                "-V",
                "-u",
                "L",
                "-d",
                "sql:/home/me/.pki/nssdb",
                "-n",
                nickname
            ]
        );
    }

    #[test]
    fn firefox_profiles_with_a_database_are_found() {
        let home = tempfile::tempdir().unwrap();
        let profile = home.path().join(".mozilla/firefox/abc.default-release");
        std::fs::create_dir_all(&profile).unwrap();
        std::fs::write(profile.join("cert9.db"), "").unwrap();
        std::fs::create_dir_all(home.path().join(".mozilla/firefox/Crash Reports")).unwrap();
        let found = databases(home.path());
        assert_eq!(
            found,
            [
                ("Chromium", home.path().join(".pki/nssdb"), true),
                ("Firefox", profile, false)
            ]
        );
    }
}
