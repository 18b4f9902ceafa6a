//! One Wharf at a time, opened where it was left: the single-instance and window-state
//! plugins, and the folders launches ask for.
//!
//! A second `wharf-desktop` hands its arguments to the running one and exits
//! (`tauri-plugin-single-instance`: a D-Bus name on Linux, a named mutex on Windows, a socket
//! on macOS); the running one comes to the front and serves the folders it was given
//! ([`launch::folders`], then `Sites::add_launched`), as it does for the folders of its own
//! launch. The window's size, position and maximized state are saved next to `sites.json`
//! (`tauri-plugin-window-state`), at exit and soon after each change, and restored at the
//! next launch; whether it is shown is not, so that starting hidden stays the app's
//! decision. Wired by `lib.rs::run` only: the tests build the app without these plugins, so
//! they never meet a Wharf the developer is running.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tauri::async_runtime::JoinHandle;
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Builder, Manager, Runtime, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};
use tokio::sync::{mpsc, Notify};

use crate::feeds::{SharedSites, StateFeed};
use crate::launch;

/// The window-state file's name, in the config folder.
const WINDOW_STATE_FILE: &str = "window-state.json";
/// What is kept of the window: not whether it is shown, which is the app's decision.
const WINDOW_FLAGS: StateFlags = StateFlags::SIZE
    .union(StateFlags::POSITION)
    .union(StateFlags::MAXIMIZED);
/// How long the window must stay put before its place is saved.
const SAVE_WINDOW_AFTER: Duration = Duration::from_millis(500);

/// The folders of this launch and of every later one, until [`tasks`] takes them.
struct Launches(Mutex<Option<mpsc::UnboundedReceiver<Vec<PathBuf>>>>);

/// Adds the single-instance plugin, first as its docs ask, since a second launch must hand
/// over before anything else starts, then the window-state plugin; and queues the folders on
/// this launch's command line. `identifier` is the app's, from `tauri.conf.json`.
pub(crate) fn plugins<R: Runtime>(builder: Builder<R>, identifier: &str) -> Builder<R> {
    let (launches, queue) = mpsc::unbounded_channel();
    let config_override = crate::env_dir("WHARF_CONFIG_DIR");
    let cwd = std::env::current_dir().unwrap_or_default();
    let own = launch::folders(std::env::args_os().skip(1), &cwd);
    if !own.is_empty() {
        // The receiver is in the app's state below, so this cannot fail.
        let _ = launches.send(own);
    }
    let single_instance = tauri_plugin_single_instance::Builder::new()
        .dbus_id(launch::instance_id(identifier, config_override.as_deref()))
        .callback(move |app, args, cwd| {
            crate::background::show_window(app);
            let folders = launch::folders(args.into_iter().skip(1), Path::new(&cwd));
            if !folders.is_empty() && launches.send(folders).is_err() {
                tracing::warn!("a launch's folders arrived while Wharf was quitting");
            }
        })
        .build();
    builder
        .plugin(single_instance)
        .plugin(window_state(config_override.as_deref()))
        .manage(Launches(Mutex::new(Some(queue))))
}

/// Saves the window where `sites.json` is: the plugin joins its file name to the app's config
/// folder, and joining an absolute path replaces the folder, which is how `WHARF_CONFIG_DIR`
/// moves it too.
fn window_state<R: Runtime>(config_override: Option<&Path>) -> TauriPlugin<R> {
    let builder = tauri_plugin_window_state::Builder::new().with_state_flags(WINDOW_FLAGS);
    let file = match config_override {
        None => Some(WINDOW_STATE_FILE.to_owned()),
        Some(dir) => dir
            .join(WINDOW_STATE_FILE)
            .to_str()
            .map(str::to_owned)
            .or_else(|| {
                tracing::warn!(
                    "WHARF_CONFIG_DIR is not UTF-8: the window is saved in the app's config folder"
                );
                None
            }),
    };
    let builder = match file {
        Some(file) => builder.with_filename(file),
        None => builder,
    };
    builder.build()
}

/// Starts serving the launches' folders and saving the window's place as it changes; none
/// when the app was built without [`plugins`].
pub(crate) fn tasks<R: Runtime>(
    app: &AppHandle<R>,
    sites: SharedSites,
    feed: Arc<StateFeed>,
) -> Vec<JoinHandle<()>> {
    let Some(queue) = app.try_state::<Launches>().and_then(|launches| {
        launches
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }) else {
        return Vec::new();
    };
    let mut tasks = vec![tauri::async_runtime::spawn(add_launched(
        sites, feed, queue,
    ))];
    tasks.extend(save_window_on_change(app));
    tasks
}

/// Saves the window's place half a second after it last moved or was resized. The plugin
/// saves only at a clean exit, which a session ended by a signal (a logout, a test driver)
/// never reaches.
fn save_window_on_change<R: Runtime>(app: &AppHandle<R>) -> Option<JoinHandle<()>> {
    let window = app.get_webview_window("main")?;
    let changed = Arc::new(Notify::new());
    let notify = Arc::clone(&changed);
    window.on_window_event(move |event| {
        if matches!(event, WindowEvent::Resized(_) | WindowEvent::Moved(_)) {
            notify.notify_one();
        }
    });
    let app = app.clone();
    Some(tauri::async_runtime::spawn(async move {
        loop {
            changed.notified().await;
            // A drag sends many events; the last one wins.
            while tokio::time::timeout(SAVE_WINDOW_AFTER, changed.notified())
                .await
                .is_ok()
            {}
            if let Err(err) = app.save_window_state(WINDOW_FLAGS) {
                tracing::warn!("cannot save the window's place: {err}");
            }
        }
    }))
}

/// Adds each launch's folders as sites, one launch at a time, and shows the result.
async fn add_launched(
    sites: SharedSites,
    feed: Arc<StateFeed>,
    mut queue: mpsc::UnboundedReceiver<Vec<PathBuf>>,
) {
    while let Some(folders) = queue.recv().await {
        let mut sites = sites.lock().await;
        sites.add_launched(&folders).await;
        feed.publish(sites.state());
    }
}
