//! Wharf's desktop shell: a Tauri v2 window around wharf-core.
//!
//! At launch it loads the sites from `sites.json` (or starts with the built-in welcome site)
//! and starts those that were running at quit; then the window drives them through the
//! commands in [`commands`] and watches them through the channels in [`feeds`]. Folders
//! dropped on the window or given on the command line (see [`instance`]) become sites. The
//! tray and closing to it are in [`tray`] and `background`. At exit every server gets a moment
//! to finish its transfers. This file only wires; the logic is in the Tauri-free modules
//! `site`, `sites`, `store`, `preferences`, `lan`, `launch`, `export` and `trust`.
//!
//! `WHARF_CONFIG_DIR` and `WHARF_DATA_DIR` replace the app's config and data folders (tests
//! use them); with `WHARF_DATA_DIR` set, the welcome site's files go there too.
//! `WHARF_TEST_EXPORT_PATH` (tests only) replaces the Export buttons' save dialog with that
//! file, with the export's extension (see [`export::SaveTarget`]); `WHARF_TEST_NSS_DB` (tests only) is the one trust store
//! the Trust button changes (see [`trust::CaTrust`]). The data folder (Tauri's local one: on
//! Windows `%LOCALAPPDATA%`, not the roaming profile, as the logs grow and the certificate
//! names this machine's addresses) holds the access logs (`access-log/<site>/`) and the one
//! HTTPS certificate every site presents (`certs/`, with the local CA that issues it).

mod background;
mod commands;
pub mod draft;
pub mod error;
pub mod export;
mod feeds;
mod instance;
pub mod lan;
pub mod launch;
pub mod preferences;
pub mod site;
pub mod sites;
pub mod store;
pub mod tray;
pub mod trust;
mod welcome;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, DragDropEvent, Manager, RunEvent, Runtime, WindowEvent};
use tokio::sync::mpsc;

use crate::export::SaveTarget;
use crate::feeds::{SharedSites, SiteWatch, StateFeed};
use crate::sites::{Folders, Sites};

/// Builds and runs the app until it quits (the tray's Quit, or closing the window when it
/// does not keep serving: see [`background`]).
pub fn run() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WHARF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let context = tauri::generate_context!();
    let builder = instance::plugins(tauri::Builder::default(), &context.config().identifier);
    match app(builder).build(context) {
        Ok(app) => app.run(on_run_event),
        Err(err) => {
            eprintln!("error: Wharf could not start: {err}");
            std::process::exit(1);
        }
    }
}

/// The app's plugins, state, window events and commands, on any runtime (the smoke test
/// uses Tauri's mock one).
fn app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_shell::init())
        .plugin(background::autostart_plugin())
        .setup(|app| setup(app.handle()))
        .on_window_event(|window, event| {
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                if let Some(dropped) = window.try_state::<Dropped>() {
                    // The receiver lives as long as the app; a send fails only at exit.
                    let _ = dropped.0.send(paths.clone());
                }
            }
            if let WindowEvent::CloseRequested { api, .. } = event {
                background::on_close_requested(window, api);
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::subscribe_state,
            commands::add_site,
            commands::remove_site,
            commands::start_site,
            commands::stop_site,
            commands::set_site_root,
            commands::apply_settings,
            commands::set_lan,
            commands::lan_qr,
            commands::open_in_browser,
            commands::watch_site,
            commands::close_connection,
            commands::pick_folder,
            commands::export_csv,
            commands::export_har,
            commands::reveal_export,
            background::get_app_settings,
            background::set_app_settings,
            commands::trust_ca,
            commands::trust_ca_system,
            commands::check_site,
        ])
}

/// Folders dropped on the window, on their way to [`add_dropped`].
struct Dropped(mpsc::UnboundedSender<Vec<PathBuf>>);

/// The app's own long-lived tasks (the state pusher, the drop handler), aborted at exit.
struct Background(Mutex<Vec<JoinHandle<()>>>);

impl Background {
    fn stop(&self) {
        for task in self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }
}

fn setup<R: Runtime>(app: &AppHandle<R>) -> Result<(), Box<dyn std::error::Error>> {
    let data_override = env_dir("WHARF_DATA_DIR");
    let config_dir = match env_dir("WHARF_CONFIG_DIR") {
        Some(dir) => dir,
        None => app.path().app_config_dir()?,
    };
    let data_dir = match &data_override {
        Some(dir) => dir.clone(),
        None => app.path().app_local_data_dir()?,
    };
    let welcome_parent = match &data_override {
        Some(dir) => dir.clone(),
        None => app.path().app_cache_dir()?,
    };
    let certs = data_dir.join("certs");
    app.manage(trust::CaTrust::from_env(certs.clone()));
    let folders = Folders {
        store: config_dir.join("sites.json"),
        logs: Some(data_dir.join("access-log")),
        certs: Some(certs),
        welcome: welcome::install(&welcome_parent)?,
    };
    let sites = tauri::async_runtime::block_on(Sites::open(folders));
    let changes = sites.changes();
    let state = sites.state();
    let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
    let feed = Arc::new(StateFeed::default());
    let (dropped, drops) = mpsc::unbounded_channel();
    let mut tasks = background::setup(app, &config_dir, &feed, &state);
    tasks.extend([
        tauri::async_runtime::spawn(feeds::push_state_changes(
            Arc::clone(&sites),
            Arc::clone(&feed),
            changes,
        )),
        tauri::async_runtime::spawn(add_dropped(Arc::clone(&sites), Arc::clone(&feed), drops)),
    ]);
    tasks.extend(instance::tasks(app, Arc::clone(&sites), Arc::clone(&feed)));
    app.manage(sites);
    app.manage(SaveTarget::from_env());
    app.manage(feed);
    app.manage(SiteWatch::default());
    app.manage(Dropped(dropped));
    app.manage(Background(Mutex::new(tasks)));
    Ok(())
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// Adds dropped folders as sites, one drop at a time, and shows the result.
async fn add_dropped(
    sites: SharedSites,
    feed: Arc<StateFeed>,
    mut drops: mpsc::UnboundedReceiver<Vec<PathBuf>>,
) {
    while let Some(paths) = drops.recv().await {
        let mut sites = sites.lock().await;
        sites.add_dropped(&paths).await;
        feed.publish(sites.state());
    }
}

fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: RunEvent) {
    if let RunEvent::Exit = event {
        shut_down(app);
    }
}

/// Ends the feeds, then stops every server, letting transfers finish for a moment, and
/// flushes the access logs. What is saved is left alone, so the sites running now start again at the next launch.
fn shut_down<R: Runtime>(app: &AppHandle<R>) {
    if let Some(watch) = app.try_state::<SiteWatch>() {
        watch.stop();
    }
    if let Some(background) = app.try_state::<Background>() {
        background.stop();
    }
    let Some(sites) = app.try_state::<SharedSites>() else {
        return;
    };
    let sites = Arc::clone(&sites);
    tauri::async_runtime::block_on(async move {
        let mut draining = tokio::task::JoinSet::new();
        for stopping in sites.lock().await.shut_down() {
            draining.spawn(stopping.finish());
        }
        while draining.join_next().await.is_some() {}
        // The last requests reach the session files before the process ends.
        for log in sites.lock().await.logs() {
            log.sync();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    fn invoke<W: AsRef<tauri::Webview<tauri::test::MockRuntime>>>(
        webview: &W,
        command: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        get_ipc_response(
            webview,
            InvokeRequest {
                cmd: command.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<serde_json::Value>().unwrap())
    }

    /// The wiring: setup with the env overrides, commands reachable through the capability,
    /// errors as `{ kind, message, field }`, and a command outside the contract refused.
    #[test]
    fn commands_are_wired_through_the_capability() {
        let config = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let folder = crate::site::tests::site_dir("dropped in");
        std::env::set_var("WHARF_CONFIG_DIR", config.path());
        std::env::set_var("WHARF_DATA_DIR", data.path());
        let chosen = data.path().join("chosen.csv");
        std::env::set_var(SaveTarget::TEST_ENV, &chosen);
        let nss_db = tempfile::tempdir().unwrap();
        std::env::set_var(trust::CaTrust::TEST_ENV, nss_db.path());

        let mut app = app(mock_builder())
            .build(tauri::generate_context!())
            .unwrap();
        // Runs setup, which creates the "main" window from tauri.conf.json; the mock event
        // loop itself does nothing.
        #[allow(deprecated)]
        app.run_iteration(|_, _| {});
        let webview = app.get_webview_window("main").unwrap();
        assert!(config.path().join("sites.json").exists(), "welcome saved");

        let site = invoke(
            &webview,
            "add_site",
            serde_json::json!({ "root": folder.path() }),
        )
        .unwrap();
        assert_eq!(site["running"], true);
        assert!(site["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"));
        assert_eq!(site["settings"]["keepAlive"], true);
        assert!(data
            .path()
            .join("access-log")
            .join(site["id"].as_str().unwrap())
            .is_dir());

        let refused = invoke(
            &webview,
            "apply_settings",
            serde_json::json!({
                "id": site["id"],
                "settings": { "maxConnections": 0 }
            }),
        )
        .unwrap_err();
        assert_eq!(refused["kind"], "invalidConfig");
        assert_eq!(refused["field"], "maxConnections");
        // The reason alone too, so the window names the field by its label.
        assert_eq!(refused["reason"], "0 is out of range; use 1 to 1,000,000");

        assert_eq!(site["settings"]["liveReload"], true);
        assert_eq!(site["settings"]["reloadIgnore"][0], ".git/**");
        assert_eq!(site["settings"]["customHeaders"], serde_json::json!([]));
        let row = invoke(
            &webview,
            "apply_settings",
            serde_json::json!({
                "id": site["id"],
                "settings": { "customHeaders": [
                    { "path": "/**", "name": "X-Ok", "value": "1" },
                    { "path": "/**", "name": "X-Ok", "value": "line\nbreak" }
                ] }
            }),
        )
        .unwrap_err();
        assert_eq!(
            (&row["field"], &row["index"], &row["member"]),
            (&"customHeaders".into(), &1.into(), &"value".into()),
            "{row}"
        );

        assert_eq!(site["https"], serde_json::Value::Null, "off by default");
        assert_eq!(site["settings"]["https"], false);
        let secure = invoke(
            &webview,
            "apply_settings",
            serde_json::json!({ "id": site["id"], "settings": { "https": true } }),
        )
        .unwrap();
        let https = &secure["site"]["https"];
        assert!(https["url"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:"));
        assert_eq!(https["fingerprint"].as_str().unwrap().len(), 32 * 3 - 1);
        assert_eq!(https["lanUrls"], serde_json::json!([]));
        assert_eq!(secure["site"]["httpsPortAutomatic"], true);
        assert!(
            data.path().join("certs").join("cert.pem").is_file(),
            "the certificate is kept in the data folder"
        );

        let missing = invoke(
            &webview,
            "set_site_root",
            serde_json::json!({ "id": "nope", "root": "/" }),
        )
        .unwrap_err();
        assert_eq!(missing["kind"], "noSuchSite");

        // The window says what to export, never where: a path it sends is not a parameter,
        // and the file is the one the save dialog (here its test stand-in) answered.
        let planted = data.path().join("planted.csv");
        let exported = invoke(
            &webview,
            "export_csv",
            serde_json::json!({ "id": site["id"], "filter": {}, "path": planted }),
        )
        .unwrap();
        assert_eq!(exported["id"], 1);
        assert_eq!(exported["path"], chosen.display().to_string());
        assert!(chosen.is_file() && !planted.exists());
        // HAR: the same contract, to the chosen file with HAR's extension (as the dialog's
        // filter would have it).
        let exported = invoke(
            &webview,
            "export_har",
            serde_json::json!({ "id": site["id"], "filter": {}, "path": planted }),
        )
        .unwrap();
        assert_eq!(exported["id"], 2);
        let chosen_har = chosen.with_extension("har");
        assert_eq!(exported["path"], chosen_har.display().to_string());
        let har: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&chosen_har).unwrap()).unwrap();
        assert_eq!(har["log"]["version"], "1.2");
        assert!(!planted.exists());

        let unknown = invoke(&webview, "reveal_export", serde_json::json!({ "id": 3 }));
        assert_eq!(unknown.unwrap_err()["kind"], "openFailed");
        let by_path = invoke(
            &webview,
            "reveal_export",
            serde_json::json!({ "path": "/etc/passwd" }),
        );
        assert!(by_path.is_err(), "a path is no export id");
        let old = invoke(&webview, "reveal_path", serde_json::json!({ "path": "/" }));
        assert!(old.unwrap_err().to_string().contains("reveal_path"));
        // The dialogs are the app's: the window may not open one itself.
        for command in ["plugin:dialog|save", "plugin:dialog|open"] {
            let denied = invoke(&webview, command, serde_json::json!({ "options": {} }));
            assert!(
                denied.unwrap_err().to_string().contains("not allowed"),
                "{command}"
            );
        }

        // Trust: the app's CA, in the one NSS database the test names; the window names
        // no folder, and the system store is off limits under the test variable.
        let trusted = invoke(
            &webview,
            "trust_ca",
            serde_json::json!({ "action": "trust", "certDir": planted }),
        )
        .unwrap();
        assert_eq!(
            trusted["stores"][0]["store"]["path"],
            serde_json::json!(nss_db.path())
        );
        if cfg!(target_os = "linux") {
            // certutil (libnss3-tools) is Linux's: elsewhere the store reports it missing.
            assert_eq!(
                trusted["stores"][0]["outcome"]["kind"], "updated",
                "{trusted}"
            );
        }
        assert_eq!(trusted["caFingerprint"], https["caFingerprint"]);
        assert!(!planted.exists());
        let system = invoke(
            &webview,
            "trust_ca_system",
            serde_json::json!({ "action": "trust" }),
        )
        .unwrap();
        assert_eq!(system["stores"][0]["outcome"]["kind"], "failed");

        // The site check: of the site's own folder (a path the window sends is no
        // parameter), with the settings the site is served with, in serde's field names.
        std::fs::write(folder.path().join(".env"), "TOKEN=1").unwrap();
        std::fs::write(folder.path().join("about.html"), "about").unwrap();
        std::fs::write(
            folder.path().join("index.html"),
            "<a href=\"about\">About</a>",
        )
        .unwrap();
        let check = |base_path: serde_json::Value| {
            let args = serde_json::json!({ "id": site["id"], "basePath": base_path, "root": "/" });
            invoke(&webview, "check_site", args)
        };
        let report = check(serde_json::Value::Null).unwrap();
        assert_eq!(report["files_seen"], 3, "{report}");
        let places: Vec<_> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| serde_json::json!([f["kind"], f["file"], f["line"]]))
            .collect();
        assert_eq!(
            places,
            [
                serde_json::json!(["private_file", ".env", null]),
                serde_json::json!(["broken_link", "index.html", 1]),
            ],
            "{report}"
        );
        let settings = serde_json::json!({ "id": site["id"], "settings": { "cleanUrls": true } });
        invoke(&webview, "apply_settings", settings).unwrap();
        let report = check(serde_json::Value::Null).unwrap();
        assert_eq!(report["findings"].as_array().unwrap().len(), 1, "{report}");
        let bad_base = check("repo".into()).unwrap_err();
        assert_eq!(bad_base["kind"], "checkFailed", "{bad_base}");
        let missing = invoke(&webview, "check_site", serde_json::json!({ "id": "nope" }));
        assert_eq!(missing.unwrap_err()["kind"], "noSuchSite");

        let removed = invoke(&webview, "start_server", serde_json::json!({})).unwrap_err();
        assert!(removed.to_string().contains("start_server"), "{removed}");
        invoke(
            &webview,
            "remove_site",
            serde_json::json!({ "id": site["id"] }),
        )
        .unwrap();

        // The App settings: saved beside sites.json; the notice flag is not the window's.
        let settings = invoke(&webview, "get_app_settings", serde_json::json!({})).unwrap();
        assert_eq!(settings["keepServingOnClose"], true);
        let change = serde_json::json!({ "change": { "keepServingOnClose": false } });
        let changed = invoke(&webview, "set_app_settings", change).unwrap();
        assert_eq!(changed["keepServingOnClose"], false);
        let saved = std::fs::read(config.path().join("preferences.json")).unwrap();
        let saved: serde_json::Value = serde_json::from_slice(&saved).unwrap();
        assert_eq!(saved["keepServingOnClose"], false);
        let change = serde_json::json!({ "change": { "closeNoticeShown": true } });
        assert!(invoke(&webview, "set_app_settings", change).is_err());
        shut_down(app.handle());
    }
}
