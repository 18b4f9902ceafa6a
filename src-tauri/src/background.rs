//! Running in the background: closing the window hides it while the sites keep serving (the
//! first time, a notice says so and how to quit), a launch with [`HIDDEN_ARG`] starts in the
//! tray, and start at login (tauri-plugin-autostart, which passes [`HIDDEN_ARG`]). The App
//! settings commands read and change these.
//!
//! What is saved is [`preferences`](crate::preferences)' business; whether Wharf starts at
//! login is the OS's login item itself (on Linux `~/.config/autostart/Wharf.desktop`), read
//! and written through the plugin, never copied into a file of ours.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tauri::{AppHandle, CloseRequestApi, Manager, Runtime, State, Window};
use tauri_plugin_autostart::ManagerExt;

use crate::commands::{CommandError, ErrorKind};
use crate::feeds::{SharedSites, StateFeed};
use crate::preferences::{self, AppSettings, AppSettingsChange, Preferences};

/// The launch argument that starts Wharf hidden in the tray; the login item passes it.
pub(crate) const HIDDEN_ARG: &str = "--hidden";

/// The notice shown once, when the window is first closed while closing keeps serving.
pub(crate) const CLOSE_NOTICE: &str = "Wharf is still serving your sites in the background. \
    To quit, choose Quit Wharf in the tray menu. To make closing the window quit, turn off \
    \"Keep serving when the window closes\" in App settings.";

/// The app's preferences and their file (`preferences.json` beside `sites.json`).
pub(crate) struct AppPreferences {
    path: PathBuf,
    current: Mutex<Preferences>,
}

impl AppPreferences {
    /// Loads `path` (the defaults when missing or unreadable).
    pub(crate) fn open(path: PathBuf) -> AppPreferences {
        let current = Mutex::new(preferences::load(&path));
        AppPreferences { path, current }
    }

    fn lock(&self) -> MutexGuard<'_, Preferences> {
        // A poisoned lock only means a save panicked; the value is still sound.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Saves `next` and makes it current; on error the current ones stay.
    fn replace(&self, current: &mut Preferences, next: Preferences) -> std::io::Result<()> {
        preferences::save(&self.path, &next)?;
        *current = next;
        Ok(())
    }
}

/// The plugin that makes the login item, passing [`HIDDEN_ARG`].
pub(crate) fn autostart_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new()
        .arg(HIDDEN_ARG)
        .build()
}

/// Whether this launch asked to start hidden in the tray.
pub(crate) fn launched_hidden() -> bool {
    std::env::args().skip(1).any(|arg| arg == HIDDEN_ARG)
}

/// Shows, unminimises and focuses the main window (the tray's Show Wharf, a second launch).
pub(crate) fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        for result in [window.unminimize(), window.show(), window.set_focus()] {
            if let Err(err) = result {
                tracing::warn!("cannot bring the window to the front: {err}");
            }
        }
    }
}

/// The window's close button: with "keep serving" on (the default) the window hides and the
/// sites keep serving; the first time, [`CLOSE_NOTICE`] goes to the banner, where it is seen
/// when the window is shown again. Off (or with no tray icon), the window closes and the app
/// quits as before.
pub(crate) fn on_close_requested<R: Runtime>(window: &Window<R>, api: &CloseRequestApi) {
    let Some(app_preferences) = window.try_state::<AppPreferences>() else {
        return;
    };
    let mut current = app_preferences.lock();
    // Without a tray icon a hidden window could not be shown again, nor the app quit.
    if !current.keep_serving_on_close || !crate::tray::is_installed(window.app_handle()) {
        return;
    }
    api.prevent_close();
    if let Err(err) = window.hide() {
        tracing::warn!("the window could not be hidden: {err}");
    }
    if current.close_notice_shown {
        return;
    }
    let shown = Preferences {
        close_notice_shown: true,
        ..*current
    };
    if let Err(err) = app_preferences.replace(&mut current, shown) {
        tracing::warn!("the preferences could not be saved: {err}");
    }
    let (Some(sites), Some(feed)) = (
        window.try_state::<SharedSites>(),
        window.try_state::<std::sync::Arc<StateFeed>>(),
    ) else {
        return;
    };
    let (sites, feed) = (sites.inner().clone(), feed.inner().clone());
    tauri::async_runtime::spawn(async move {
        let mut sites = sites.lock().await;
        sites.notify(CLOSE_NOTICE.to_owned());
        feed.publish(sites.state());
    });
}

fn settings<R: Runtime>(app: &AppHandle<R>, saved: &Preferences) -> AppSettings {
    AppSettings {
        keep_serving_on_close: saved.keep_serving_on_close,
        start_at_login: app.autolaunch().is_enabled().unwrap_or_else(|err| {
            tracing::warn!("whether Wharf starts at login is unknown: {err}");
            false
        }),
    }
}

/// The App settings.
#[tauri::command]
pub(crate) fn get_app_settings<R: Runtime>(
    app: AppHandle<R>,
    saved: State<'_, AppPreferences>,
) -> AppSettings {
    let current = *saved.lock();
    settings(&app, &current)
}

/// Changes the App settings: saves "keep serving", and adds or removes the login item.
#[tauri::command]
pub(crate) async fn set_app_settings<R: Runtime>(
    app: AppHandle<R>,
    saved: State<'_, AppPreferences>,
    change: AppSettingsChange,
) -> Result<AppSettings, CommandError> {
    let failed = |what: &str, err: &dyn std::fmt::Display| {
        CommandError::other(ErrorKind::SettingsFailed, format!("{what}: {err}"))
    };
    let mut current = saved.lock();
    let next = current.with(change);
    if next != *current {
        saved
            .replace(&mut current, next)
            .map_err(|err| failed("Wharf could not save its App settings", &err))?;
    }
    match change.start_at_login {
        Some(true) => app
            .autolaunch()
            .enable()
            .map_err(|err| failed("Wharf could not add itself to the login items", &err))?,
        Some(false) => app
            .autolaunch()
            .disable()
            .map_err(|err| failed("Wharf could not remove itself from the login items", &err))?,
        None => {}
    }
    Ok(settings(&app, &current))
}

/// Wires the background pieces at setup: the preferences (from `config_dir`), the tray
/// showing `state` and following `feed`, and a hidden start. Returns the tasks for the app
/// to own.
pub(crate) fn setup<R: Runtime>(
    app: &AppHandle<R>,
    config_dir: &std::path::Path,
    feed: &StateFeed,
    state: &crate::sites::AppState,
) -> Vec<tauri::async_runtime::JoinHandle<()>> {
    app.manage(AppPreferences::open(config_dir.join("preferences.json")));
    let mut tasks = Vec::new();
    // Tauri's mock runtime (the wiring test) has no GTK to make a tray with; the tray is
    // tested by its model's unit tests and in the real window (tests/e2e/tray.test.mjs).
    let in_tray = !cfg!(test)
        && match crate::tray::install(app, feed, state) {
            Ok(task) => {
                tasks.push(task);
                true
            }
            // The sites still serve and the window still works; only the tray is missing.
            Err(err) => {
                tracing::warn!("Wharf has no tray icon: {err}");
                false
            }
        };
    // Without a tray icon a hidden window could not be shown again.
    if in_tray && launched_hidden() {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.hide();
        }
    }
    tasks
}
