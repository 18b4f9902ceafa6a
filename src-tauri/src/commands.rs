//! The commands the window may call. Each one parses its arguments, calls [`Site`], and maps
//! the error to `{ kind, message }`; the logic lives in `site.rs`.

use std::path::PathBuf;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use tokio::sync::Mutex;

use crate::site::{ServerStatus, Site, SiteError};
use crate::status_feed::StatusFeed;

/// The app's one site, shared by all commands.
pub(crate) type SiteState = Mutex<Site>;

/// An error as the UI receives it: it branches on `kind` and shows `message`.
#[derive(Debug, Serialize)]
pub(crate) struct CommandError {
    kind: &'static str,
    message: String,
}

impl From<SiteError> for CommandError {
    fn from(err: SiteError) -> CommandError {
        let kind = match &err {
            SiteError::Start(wharf_core::StartError::PortInUse { .. }) => "portInUse",
            SiteError::Start(_) => "startFailed",
            SiteError::Config(_) => "invalidConfig",
            SiteError::NotRunning => "notRunning",
        };
        CommandError {
            kind,
            message: err.to_string(),
        }
    }
}

/// Sends the status now and after every change, until the window goes away.
#[tauri::command]
pub(crate) async fn subscribe_status(
    site: State<'_, SiteState>,
    feed: State<'_, StatusFeed>,
    channel: Channel<ServerStatus>,
) -> Result<(), CommandError> {
    feed.subscribe(channel, site.lock().await.status());
    Ok(())
}

/// Starts serving (on the previous port when possible).
#[tauri::command]
pub(crate) async fn start_server(
    site: State<'_, SiteState>,
    feed: State<'_, StatusFeed>,
) -> Result<ServerStatus, CommandError> {
    let mut site = site.lock().await;
    site.start().await?;
    Ok(published(&feed, site.status()))
}

/// Stops serving; transfers in flight get a moment to finish.
#[tauri::command]
pub(crate) async fn stop_server(
    site: State<'_, SiteState>,
    feed: State<'_, StatusFeed>,
) -> Result<ServerStatus, CommandError> {
    let mut site = site.lock().await;
    site.stop().await;
    Ok(published(&feed, site.status()))
}

/// Serves `path` on the same port. Takes a plain path so tests never need the native dialog.
#[tauri::command]
pub(crate) async fn set_root(
    site: State<'_, SiteState>,
    feed: State<'_, StatusFeed>,
    path: PathBuf,
) -> Result<ServerStatus, CommandError> {
    let mut site = site.lock().await;
    site.set_root(&path).await?;
    Ok(published(&feed, site.status()))
}

fn published(feed: &StatusFeed, status: ServerStatus) -> ServerStatus {
    feed.publish(&status);
    status
}

/// Opens the site in the default browser. Only the site's own URL can be opened, so the
/// window needs no shell permission at all.
#[tauri::command]
pub(crate) async fn open_in_browser(
    app: tauri::AppHandle,
    site: State<'_, SiteState>,
) -> Result<(), CommandError> {
    use tauri_plugin_shell::ShellExt;
    let url = site.lock().await.url()?;
    // `Shell::open` is deprecated in favour of tauri-plugin-opener; the brief asks for the shell
    // plugin, and this call is its documented way to open a URL.
    #[allow(deprecated)]
    app.shell().open(url, None).map_err(|err| CommandError {
        kind: "openFailed",
        message: format!("could not open a browser: {err}"),
    })
}
