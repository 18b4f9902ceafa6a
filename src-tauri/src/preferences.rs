//! `preferences.json`: the app's own settings (not a site's), beside `sites.json`.
//!
//! This module owns the file's format and the change the window may make to it. It saves
//! like [`store`](crate::store) does (atomically, privately); a file that cannot be read
//! gives the defaults (it holds three switches, so nothing is set aside). It knows nothing
//! about windows or the login items: the caller applies a change to them.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::store;

/// The app's own settings as saved. (Whether Wharf starts at login is not saved here: the
/// login item is that fact, and [`AppSettings`] reads it from the OS.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Preferences {
    /// Closing the window hides it and the sites keep serving; off, closing quits.
    /// Default: on.
    pub keep_serving_on_close: bool,
    /// The notice that closing keeps serving was shown once. Default: not yet.
    pub close_notice_shown: bool,
}

impl Default for Preferences {
    fn default() -> Preferences {
        Preferences {
            keep_serving_on_close: true,
            close_notice_shown: false,
        }
    }
}

/// The App settings as the window shows them. Mirrors `AppSettings` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSettings {
    /// See [`Preferences::keep_serving_on_close`].
    pub keep_serving_on_close: bool,
    /// Wharf starts at login, hidden in the tray, with the sites that were running.
    /// Default: off (opt-in).
    pub start_at_login: bool,
}

/// What the window may change in the App settings; a missing field stays as it is.
/// Mirrors `AppSettingsChange` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSettingsChange {
    /// See [`AppSettings::keep_serving_on_close`].
    pub keep_serving_on_close: Option<bool>,
    /// See [`AppSettings::start_at_login`].
    pub start_at_login: Option<bool>,
}

impl Preferences {
    /// These preferences with `change` made (the notice flag is the app's, not the window's).
    pub fn with(self, change: AppSettingsChange) -> Preferences {
        Preferences {
            keep_serving_on_close: change
                .keep_serving_on_close
                .unwrap_or(self.keep_serving_on_close),
            close_notice_shown: self.close_notice_shown,
        }
    }
}

/// Reads `path`; the defaults when it is missing or unreadable (logged).
pub fn load(path: &Path) -> Preferences {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
            tracing::warn!("{} is unreadable ({err}); defaults in use", path.display());
            Preferences::default()
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Preferences::default(),
        Err(err) => {
            tracing::warn!("{} is unreadable ({err}); defaults in use", path.display());
            Preferences::default()
        }
    }
}

/// Writes `preferences` to `path` as [`store::save`] does: atomically and privately.
///
/// # Errors
/// What the file system reports; the previous file is then left as it was.
pub fn save(path: &Path, preferences: &Preferences) -> io::Result<()> {
    store::save(path, preferences)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_unreadable_file_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preferences.json");
        assert_eq!(load(&path), Preferences::default());
        assert!(Preferences::default().keep_serving_on_close);
        assert!(!Preferences::default().close_notice_shown);
        std::fs::write(&path, b"{ not json").unwrap();
        assert_eq!(load(&path), Preferences::default());
    }

    #[test]
    fn saved_preferences_load_back_and_missing_fields_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("preferences.json");
        let chosen = Preferences {
            keep_serving_on_close: false,
            close_notice_shown: true,
        };
        save(&path, &chosen).unwrap();
        assert_eq!(load(&path), chosen);
        std::fs::write(&path, br#"{ "closeNoticeShown": true }"#).unwrap();
        let partial = load(&path);
        assert!(partial.close_notice_shown && partial.keep_serving_on_close);
    }

    #[test]
    fn a_change_sets_only_what_it_names() {
        let shown = Preferences {
            close_notice_shown: true,
            ..Preferences::default()
        };
        let change: AppSettingsChange =
            serde_json::from_str(r#"{ "startAtLogin": true }"#).unwrap();
        assert_eq!(
            shown.with(change),
            shown,
            "the login item is not saved here"
        );
        let off = shown.with(AppSettingsChange {
            keep_serving_on_close: Some(false),
            ..AppSettingsChange::default()
        });
        assert!(!off.keep_serving_on_close);
        assert!(off.close_notice_shown, "the window cannot reset it");
        let unknown = serde_json::from_str::<AppSettingsChange>(r#"{ "closeNoticeShown": false }"#);
        assert!(
            unknown.is_err(),
            "the notice flag is not the window's to set"
        );
    }
}
