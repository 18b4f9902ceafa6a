//! The commands the window may call: the contract in `ui/src/api/types.ts`. Each one parses
//! its arguments, calls [`Sites`](crate::sites::Sites), pushes the new state, and maps the
//! error to `{ kind, message, field, index, member }`; the logic lives in `sites.rs` and
//! `site.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State, Window};
use wharf_core::trust::TrustReport;
use wharf_core::{ApplyError, CheckOptions, CheckReport, StartError};

use crate::draft::SiteDraft;
use crate::error::{is_port_in_use, SiteError};
use crate::export::{self, ExportFilter, ExportFormat, Exported, SaveTarget};
use crate::feeds::{self, SharedSites, SiteFeed, SiteWatch, StateFeed};
use crate::lan::QrCode;
use crate::site::SiteStatus;
use crate::sites::{AppState, ApplyOutcome, CheckSource, ExportSource};
use crate::trust::{CaTrust, TrustAction};

/// What the window branches on. Mirrors `CommandError["kind"]` in `ui/src/api/types.ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ErrorKind {
    InvalidConfig,
    PortInUse,
    StartFailed,
    NotRunning,
    NoSuchSite,
    LanOff,
    ExportFailed,
    OpenFailed,
    SettingsFailed,
    TrustFailed,
    CheckFailed,
}

/// An error as the window receives it: it branches on `kind`, shows `message`, and puts it
/// next to the settings field `field` when there is one; for a list setting, `index` and
/// `member` name the item (row) and its cell at fault.
#[derive(Debug, Serialize)]
pub(crate) struct CommandError {
    kind: ErrorKind,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<String>,
    /// A refused setting's reason without its place, so the window can name the field by the
    /// label it shows (`Max connections: 0 is out of range; use 1 to 1,000,000`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl CommandError {
    /// An error that is no site's (e.g. the App settings'): `kind` and a sentence.
    pub(crate) fn other(kind: ErrorKind, message: String) -> CommandError {
        CommandError {
            kind,
            message,
            field: None,
            index: None,
            member: None,
            reason: None,
        }
    }
}

impl From<SiteError> for CommandError {
    fn from(err: SiteError) -> CommandError {
        use ErrorKind::*;
        let kind = match &err {
            SiteError::Config(_)
            | SiteError::Start(StartError::Config(_))
            | SiteError::Apply(ApplyError::Config(_)) => InvalidConfig,
            // The HTTP port or the HTTPS one (field `httpsPort`).
            SiteError::Start(error) | SiteError::Apply(ApplyError::Bind { error, .. })
                if is_port_in_use(error) =>
            {
                PortInUse
            }
            SiteError::Start(_) | SiteError::Apply(_) => StartFailed,
            SiteError::NotRunning => NotRunning,
            SiteError::NoSuchSite { .. } => NoSuchSite,
            SiteError::LanOff | SiteError::NoLanAddress | SiteError::Qr { .. } => LanOff,
            SiteError::Export(_) | SiteError::ExportFile { .. } => ExportFailed,
            SiteError::NotExported { .. } | SiteError::Open { .. } => OpenFailed,
            SiteError::Check(_) => CheckFailed,
        };
        let item = err.list_item().filter(|_| kind == InvalidConfig);
        CommandError {
            kind,
            message: err.to_string(),
            field: err
                .field()
                .filter(|_| matches!(kind, InvalidConfig | PortInUse)),
            index: item.as_ref().map(|item| item.index),
            member: item.and_then(|item| item.member.map(str::to_owned)),
            reason: err
                .config()
                .filter(|_| kind == InvalidConfig)
                .map(|err| err.reason.clone()),
        }
    }
}

/// The CA could not be read or made: nothing was trusted.
impl From<wharf_core::CertificateError> for CommandError {
    fn from(err: wharf_core::CertificateError) -> CommandError {
        CommandError::trust_failed(err.to_string())
    }
}

impl CommandError {
    fn trust_failed(message: String) -> CommandError {
        CommandError {
            kind: ErrorKind::TrustFailed,
            message,
            field: None,
            index: None,
            member: None,
            reason: None,
        }
    }
}

type Feed<'a> = State<'a, Arc<StateFeed>>;

/// Sends the app state now and after every change, until the window goes away.
#[tauri::command]
pub(crate) async fn subscribe_state(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    channel: Channel<AppState>,
) -> Result<(), CommandError> {
    feed.subscribe(channel, sites.lock().await.state());
    Ok(())
}

/// Adds a folder as a site and starts it. Takes a plain path, so tests never need the dialog.
#[tauri::command]
pub(crate) async fn add_site(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    root: PathBuf,
) -> Result<SiteStatus, CommandError> {
    let mut sites = sites.lock().await;
    let site = sites.add(&root).await;
    feed.publish(sites.state());
    Ok(site?)
}

/// Removes a site, stopping it first; its logs stay on disk.
#[tauri::command]
pub(crate) async fn remove_site(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    id: String,
) -> Result<(), CommandError> {
    let stopping = {
        let mut sites = sites.lock().await;
        let stopping = sites.remove(&id);
        feed.publish(sites.state());
        stopping?
    };
    stopping.finish().await;
    Ok(())
}

/// Starts a site, on its previous port when possible.
#[tauri::command]
pub(crate) async fn start_site(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    id: String,
) -> Result<SiteStatus, CommandError> {
    let mut sites = sites.lock().await;
    let site = sites.start(&id).await;
    feed.publish(sites.state());
    Ok(site?)
}

/// Stops a site; its transfers get 3 s to finish (the sites stay usable meanwhile).
#[tauri::command]
pub(crate) async fn stop_site(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    id: String,
) -> Result<SiteStatus, CommandError> {
    let (site, stopping) = {
        let mut sites = sites.lock().await;
        let stopped = sites.stop(&id);
        feed.publish(sites.state());
        stopped?
    };
    stopping.finish().await;
    Ok(site)
}

/// Serves another folder from a site, on the same port.
#[tauri::command]
pub(crate) async fn set_site_root(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    id: String,
    root: PathBuf,
) -> Result<SiteStatus, CommandError> {
    let mut sites = sites.lock().await;
    let site = sites.set_root(&id, &root).await;
    feed.publish(sites.state());
    Ok(site?)
}

/// Applies the settings form: to new connections at once on a running site, at the next
/// start on a stopped one.
#[tauri::command]
pub(crate) async fn apply_settings(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    id: String,
    settings: SiteDraft,
) -> Result<ApplyOutcome, CommandError> {
    let mut sites = sites.lock().await;
    let outcome = sites.apply(&id, settings).await;
    feed.publish(sites.state());
    Ok(outcome?)
}

/// Shares a site on the network (0.0.0.0), or only on this computer (127.0.0.1).
#[tauri::command]
pub(crate) async fn set_lan(
    sites: State<'_, SharedSites>,
    feed: Feed<'_>,
    id: String,
    enabled: bool,
) -> Result<SiteStatus, CommandError> {
    let mut sites = sites.lock().await;
    let site = sites.set_lan(&id, enabled).await;
    feed.publish(sites.state());
    Ok(site?)
}

/// The QR code of a shared site's first network address.
#[tauri::command]
pub(crate) async fn lan_qr(
    sites: State<'_, SharedSites>,
    id: String,
) -> Result<QrCode, CommandError> {
    Ok(sites.lock().await.lan_qr(&id)?)
}

/// Opens a site in the default browser. Only a site's own URL can be opened, so the window
/// needs no shell permission.
#[tauri::command]
pub(crate) async fn open_in_browser<R: Runtime>(
    app: AppHandle<R>,
    sites: State<'_, SharedSites>,
    id: String,
) -> Result<(), CommandError> {
    let url = sites.lock().await.url(&id)?;
    Ok(open(&app, url)?)
}

/// Streams a site's log, metrics and connections to `channel`, replacing the previous watch.
#[tauri::command]
pub(crate) async fn watch_site(
    sites: State<'_, SharedSites>,
    watch: State<'_, SiteWatch>,
    id: String,
    channel: Channel<SiteFeed>,
) -> Result<(), CommandError> {
    sites.lock().await.status(&id)?;
    let sink = move |message: SiteFeed| channel.send(message).is_ok();
    let task = tauri::async_runtime::spawn(feeds::watch(sites.inner().clone(), id, sink));
    watch.replace(task);
    Ok(())
}

/// Cuts one connection of a site; false if it is already gone.
#[tauri::command]
pub(crate) async fn close_connection(
    sites: State<'_, SharedSites>,
    id: String,
    connection: u64,
) -> Result<bool, CommandError> {
    Ok(sites.lock().await.close_connection(&id, connection)?)
}

/// Asks where to save (the app's own save dialog; the window never names a path) and
/// writes a site's current log session there, filtered, as CSV. `None` when cancelled.
#[tauri::command]
pub(crate) async fn export_csv<R: Runtime>(
    window: Window<R>,
    sites: State<'_, SharedSites>,
    target: State<'_, SaveTarget>,
    id: String,
    filter: ExportFilter,
) -> Result<Option<Exported>, CommandError> {
    export_as(&window, &sites, &target, &id, filter, ExportFormat::Csv).await
}

/// [`export_csv`], as HAR 1.2 (issue 19): the same save dialog, filters and answer.
#[tauri::command]
pub(crate) async fn export_har<R: Runtime>(
    window: Window<R>,
    sites: State<'_, SharedSites>,
    target: State<'_, SaveTarget>,
    id: String,
    filter: ExportFilter,
) -> Result<Option<Exported>, CommandError> {
    export_as(&window, &sites, &target, &id, filter, ExportFormat::Har).await
}

/// The export commands' one body: the dialog, then the export as `format`.
async fn export_as<R: Runtime>(
    window: &Window<R>,
    sites: &SharedSites,
    target: &SaveTarget,
    id: &str,
    filter: ExportFilter,
    format: ExportFormat,
) -> Result<Option<Exported>, CommandError> {
    let ExportSource {
        site_name,
        log,
        dir,
    } = sites.lock().await.export_source(id)?;
    let now_ms = wharf_core::unix_ms(std::time::SystemTime::now());
    let name = export::export_file_name(&site_name, now_ms, format);
    let Some(path) = choose_export_path(window, target, name, format).await else {
        return Ok(None);
    };
    let csv = export::export_site(log, dir, path, filter, format).await?;
    let id = sites.lock().await.exported(csv.path.clone());
    Ok(Some(Exported { id, csv }))
}

/// Opens, in the file manager, the folder of the CSV that export `id` wrote in this app run.
#[tauri::command]
pub(crate) async fn reveal_export<R: Runtime>(
    app: AppHandle<R>,
    sites: State<'_, SharedSites>,
    id: u64,
) -> Result<(), CommandError> {
    let folder = sites.lock().await.folder_of_export(id)?;
    Ok(open(&app, folder.display().to_string())?)
}

/// Checks site `id`'s folder as it would be published (`wharf check`), with the settings the
/// site is served with and `base_path`, the path it will be deployed under (`None`: the
/// root). The window names the site, never a folder. The walk runs on a blocking thread.
#[tauri::command]
pub(crate) async fn check_site(
    sites: State<'_, SharedSites>,
    id: String,
    base_path: Option<String>,
) -> Result<CheckReport, CommandError> {
    let CheckSource { root, options, log } = sites.lock().await.check_source(&id)?;
    let options = CheckOptions {
        base_path,
        ..options
    };
    let check = move || {
        if let Some(log) = log {
            // Every request until now is on disk, so a 404 just seen is in the report.
            log.sync();
        }
        wharf_core::check_site(&root, &options)
    };
    match tauri::async_runtime::spawn_blocking(check).await {
        Ok(report) => Ok(report.map_err(SiteError::Check)?),
        Err(err) => Err(CommandError::other(
            ErrorKind::CheckFailed,
            format!("the check stopped: {err}"),
        )),
    }
}

/// Trusts, untrusts or looks up Wharf's CA in the user's own trust stores. The CA is the
/// app's (`<data>/certs`): the window says what to do, never where.
#[tauri::command]
pub(crate) async fn trust_ca(
    ca: State<'_, CaTrust>,
    action: TrustAction,
) -> Result<TrustReport, CommandError> {
    let ca = CaTrust::clone(&ca);
    blocking_trust(move || ca.user(action)).await
}

/// The same in the machine's store, for every user; the OS asks for an administrator's
/// password first (`Elevation::Graphical`).
#[tauri::command]
pub(crate) async fn trust_ca_system(
    ca: State<'_, CaTrust>,
    action: TrustAction,
) -> Result<TrustReport, CommandError> {
    let ca = CaTrust::clone(&ca);
    blocking_trust(move || ca.system(action)).await
}

/// Runs a trust step on a blocking thread: the stores' tools (and their prompts) take time.
async fn blocking_trust(
    step: impl FnOnce() -> Result<TrustReport, wharf_core::CertificateError> + Send + 'static,
) -> Result<TrustReport, CommandError> {
    match tauri::async_runtime::spawn_blocking(step).await {
        Ok(report) => Ok(report?),
        Err(err) => Err(CommandError::trust_failed(format!(
            "the trust step stopped: {err}"
        ))),
    }
}

/// The folder the user chooses in the native folder picker over `window`, titled `title`;
/// `None` when cancelled. The app opens it, so the window needs no dialog permission; what
/// it gets back is a folder to serve, which it could also type or drop.
#[tauri::command]
pub(crate) async fn pick_folder<R: Runtime>(
    window: Window<R>,
    title: String,
) -> Result<Option<PathBuf>, CommandError> {
    use tauri_plugin_dialog::DialogExt;
    let (chosen, answer) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(&window)
        .set_title(title)
        .pick_folder(move |path| {
            let _ = chosen.send(path);
        });
    Ok(answer
        .await
        .ok()
        .flatten()
        .and_then(|path| path.into_path().ok()))
}

/// The file the user chooses in a save dialog over `window`, suggesting `file_name`; `None`
/// when cancelled. [`SaveTarget::Fixed`] (tests) answers without a dialog.
async fn choose_export_path<R: Runtime>(
    window: &Window<R>,
    target: &SaveTarget,
    file_name: String,
    format: ExportFormat,
) -> Option<PathBuf> {
    use tauri_plugin_dialog::DialogExt;
    if let SaveTarget::Fixed(path) = target {
        // As a dialog with this format's filter would answer: the name, with its extension.
        return Some(path.with_extension(format.extension()));
    }
    let (chosen, answer) = tokio::sync::oneshot::channel();
    // The callback form: the dialog runs on the main thread while this task waits without
    // blocking a runtime thread.
    window
        .dialog()
        .file()
        .set_parent(window)
        .set_title(format.dialog_title())
        .set_file_name(file_name)
        .add_filter(format.extension().to_uppercase(), &[format.extension()])
        .save_file(move |path| {
            let _ = chosen.send(path);
        });
    answer.await.ok().flatten()?.into_path().ok()
}

/// Opens a URL or folder with the system's default program.
fn open<R: Runtime>(app: &AppHandle<R>, target: String) -> Result<(), SiteError> {
    use tauri_plugin_shell::ShellExt;
    // `Shell::open` is deprecated in favour of tauri-plugin-opener; the project uses the shell
    // plugin, and this call is its documented way to open a URL or a folder.
    #[allow(deprecated)]
    app.shell()
        .open(target, None)
        .map_err(|err| SiteError::Open {
            reason: err.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use wharf_core::ConfigError;

    fn json(err: SiteError) -> serde_json::Value {
        serde_json::to_value(CommandError::from(err)).unwrap()
    }

    #[test]
    fn errors_carry_a_kind_a_sentence_and_the_field_at_fault() {
        let in_use = json(SiteError::Start(StartError::PortInUse { port: 8080 }));
        assert_eq!(in_use["kind"], "portInUse");
        assert_eq!(in_use["field"], "port");
        assert!(in_use["message"]
            .as_str()
            .unwrap()
            .starts_with("port 8080 is already in use"));

        let serving: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let apply = json(SiteError::Apply(ApplyError::Bind {
            error: StartError::PortInUse { port: 8080 },
            serving,
        }));
        assert_eq!(
            (&apply["kind"], &apply["field"]),
            (&"portInUse".into(), &"port".into())
        );

        let invalid = json(SiteError::Apply(ApplyError::Config(ConfigError::new(
            "keepAliveIdleTimeoutMs",
            "too long",
        ))));
        assert_eq!(invalid["kind"], "invalidConfig");
        assert_eq!(invalid["field"], "keepAliveIdleTimeoutMs");

        let denied = json(SiteError::Start(StartError::PermissionDenied { port: 80 }));
        assert_eq!(denied["kind"], "startFailed");
        assert!(
            denied.get("field").is_none(),
            "only for invalidConfig and portInUse"
        );

        let header = json(SiteError::Apply(ApplyError::Config(ConfigError::item(
            "customHeaders",
            2,
            Some("name"),
            "\"a b\" is not a valid header name",
        ))));
        assert_eq!(header["field"], "customHeaders");
        assert_eq!(
            (&header["index"], &header["member"]),
            (&2.into(), &"name".into())
        );
        assert!(header["message"]
            .as_str()
            .unwrap()
            .starts_with("customHeaders[2].name: "));
        let glob = json(SiteError::Config(ConfigError::item(
            "reloadIgnore",
            0,
            None,
            "\"a[\" is not a valid glob: unclosed character class",
        )));
        assert_eq!(
            (&glob["field"], &glob["index"]),
            (&"reloadIgnore".into(), &0.into())
        );
        assert!(glob.get("member").is_none(), "globs have no members");
        assert!(
            invalid.get("index").is_none(),
            "only list settings name an item"
        );

        // The HTTPS port: the same kind, on its own field.
        let https_in_use = || StartError::HttpsBind(Box::new(StartError::PortInUse { port: 8443 }));
        let https = json(SiteError::Start(https_in_use()));
        assert_eq!(
            (&https["kind"], &https["field"]),
            (&"portInUse".into(), &"httpsPort".into())
        );
        let https = json(SiteError::Apply(ApplyError::Bind {
            error: https_in_use(),
            serving,
        }));
        assert_eq!(
            (&https["kind"], &https["field"]),
            (&"portInUse".into(), &"httpsPort".into())
        );
        assert!(https["message"]
            .as_str()
            .unwrap()
            .contains("port 8443 is already in use"));
        let https_denied = json(SiteError::Start(StartError::HttpsBind(Box::new(
            StartError::PermissionDenied { port: 443 },
        ))));
        assert_eq!(https_denied["kind"], "startFailed");

        let certificate = || StartError::Certificate {
            dir: "/data/certs".into(),
            source: wharf_core::CertificateError::Write {
                path: "/data/certs/key.pem".into(),
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            },
        };
        let cert = json(SiteError::Start(certificate()));
        assert_eq!(cert["kind"], "startFailed");
        assert!(cert.get("field").is_none(), "no form field to fix");
        let message = cert["message"].as_str().unwrap();
        assert!(
            message.starts_with("HTTPS could not start: Wharf cannot write its certificate to /data/certs/key.pem (")
                && message.ends_with("turn HTTPS off"),
            "{message}"
        );
        let cert = json(SiteError::Apply(ApplyError::Bind {
            error: certificate(),
            serving,
        }));
        assert_eq!(cert["kind"], "startFailed");
        assert!(cert["message"]
            .as_str()
            .unwrap()
            .ends_with("; the site still serves on http://127.0.0.1:9000/"));
        let open = json(SiteError::Start(StartError::Certificate {
            dir: "/data/certs".into(),
            source: wharf_core::CertificateError::KeyOpenToOthers {
                path: "/data/certs/key.pem".into(),
                mode: 0o644,
            },
        }));
        assert_eq!(open["kind"], "startFailed");
        let message = open["message"].as_str().unwrap();
        assert!(
            message.starts_with("HTTPS could not start: other users can open the private key /data/certs/key.pem (mode 0644)")
                && message.contains("`chmod 600 /data/certs/key.pem`"),
            "{message}"
        );
        let no_folder = json(SiteError::Config(ConfigError::new(
            "certDir",
            "HTTPS needs a folder to keep its certificate in",
        )));
        assert_eq!(
            (&no_folder["kind"], &no_folder["field"]),
            (&"invalidConfig".into(), &"certDir".into())
        );

        let stopped = json(SiteError::NotRunning);
        assert_eq!(stopped["kind"], "notRunning");
        assert_eq!(stopped.as_object().unwrap().len(), 2, "no field key at all");
        assert_eq!(json(SiteError::NoLanAddress)["kind"], "lanOff");
        assert_eq!(json(SiteError::NotExported { id: 7 })["kind"], "openFailed");
        assert_eq!(
            json(SiteError::NoSuchSite { id: "x".into() })["kind"],
            "noSuchSite"
        );
    }
}
