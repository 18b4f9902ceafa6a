//! The tray icon and its menu: each site with its status (Start/Stop, Open in browser, Copy
//! URL), then Show Wharf and Quit. The icon says whether any site is serving.
//!
//! [`TrayMenu::of`] builds the menu's model from the [`AppState`] without Tauri (unit-tested
//! here); [`install`] puts the icon in the tray and rebuilds its menu each time the
//! [`StateFeed`] publishes a state whose model differs (a connection opening changes the
//! state, not the menu). A chosen item is a [`TrayAction`], named by its menu item id; it
//! runs the window's own commands, so the tray does nothing the window could not. Quit is
//! the app's exit, where `shut_down` lets transfers finish.

use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

use crate::commands::{CommandError, ErrorKind};
use crate::feeds::{SharedSites, StateFeed};
use crate::sites::AppState;

/// The tray icon's id.
const TRAY_ID: &str = "wharf";

/// What a tray menu item does; its menu item id is [`TrayAction::id`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    /// Start site `id`.
    Start(String),
    /// Stop site `id`; its transfers finish first, as with the window's Stop.
    Stop(String),
    /// Open site `id` in the default browser.
    Open(String),
    /// Copy site `id`'s URL to the clipboard.
    CopyUrl(String),
    /// Show and focus the window.
    Show,
    /// Stop every site gracefully and quit.
    Quit,
}

impl TrayAction {
    /// The menu item id: `start:<site>`, `stop:<site>`, `open:<site>`, `copy:<site>`,
    /// `show`, `quit`. Site ids are plain (letters, digits, `-`), so `:` separates.
    pub fn id(&self) -> String {
        match self {
            TrayAction::Start(site) => format!("start:{site}"),
            TrayAction::Stop(site) => format!("stop:{site}"),
            TrayAction::Open(site) => format!("open:{site}"),
            TrayAction::CopyUrl(site) => format!("copy:{site}"),
            TrayAction::Show => "show".to_owned(),
            TrayAction::Quit => "quit".to_owned(),
        }
    }

    /// The action of menu item `id`; `None` for an id the tray never made.
    pub fn parse(id: &str) -> Option<TrayAction> {
        let site = |site: &str| (!site.is_empty()).then(|| site.to_owned());
        match id.split_once(':') {
            Some(("start", rest)) => site(rest).map(TrayAction::Start),
            Some(("stop", rest)) => site(rest).map(TrayAction::Stop),
            Some(("open", rest)) => site(rest).map(TrayAction::Open),
            Some(("copy", rest)) => site(rest).map(TrayAction::CopyUrl),
            Some(_) => None,
            None => match id {
                "show" => Some(TrayAction::Show),
                "quit" => Some(TrayAction::Quit),
                _ => None,
            },
        }
    }
}

/// One menu item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    /// What the item says.
    pub label: String,
    /// What it does.
    pub action: TrayAction,
    /// Greyed out when false (Open and Copy URL of a stopped site).
    pub enabled: bool,
}

/// One site's submenu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraySite {
    /// The site's name and status, e.g. `site — serving at http://127.0.0.1:8080`.
    pub title: String,
    /// Start or Stop, Open in browser, Copy URL.
    pub items: Vec<TrayItem>,
}

/// The tray's model: the icon variant, the tooltip and the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayMenu {
    /// Some site is serving: the icon with the green dot.
    pub serving: bool,
    /// E.g. `Wharf — 2 of 3 sites serving`.
    pub tooltip: String,
    /// A submenu per site, in the list's order.
    pub sites: Vec<TraySite>,
    /// After the sites: Show Wharf, Quit.
    pub app_items: Vec<TrayItem>,
}

impl TrayMenu {
    /// The tray for `state`.
    pub fn of(state: &AppState) -> TrayMenu {
        let sites: Vec<TraySite> = state
            .sites
            .iter()
            .map(|site| {
                let url = site.url.as_deref().filter(|_| site.running);
                let status = match (url, &site.error) {
                    (Some(url), _) => format!("serving at {url}"),
                    (None, Some(_)) => "stopped, failed to start".to_owned(),
                    (None, None) => "stopped".to_owned(),
                };
                let id = &site.id;
                let toggle = if site.running {
                    item("Stop", TrayAction::Stop(id.clone()), true)
                } else {
                    item("Start", TrayAction::Start(id.clone()), true)
                };
                TraySite {
                    title: format!("{} — {status}", site.name),
                    items: vec![
                        toggle,
                        item(
                            "Open in browser",
                            TrayAction::Open(id.clone()),
                            url.is_some(),
                        ),
                        item("Copy URL", TrayAction::CopyUrl(id.clone()), url.is_some()),
                    ],
                }
            })
            .collect();
        let serving = state.sites.iter().filter(|site| site.running).count();
        let tooltip = match (serving, state.sites.len()) {
            (0, _) => "Wharf — no site serving".to_owned(),
            (1, 1) => "Wharf — 1 site serving".to_owned(),
            (serving, all) => format!("Wharf — {serving} of {all} sites serving"),
        };
        TrayMenu {
            serving: serving > 0,
            tooltip,
            sites,
            app_items: vec![
                item("Show Wharf", TrayAction::Show, true),
                item("Quit Wharf", TrayAction::Quit, true),
            ],
        }
    }
}

fn item(label: &str, action: TrayAction, enabled: bool) -> TrayItem {
    TrayItem {
        label: label.to_owned(),
        action,
        enabled,
    }
}

fn icon(serving: bool) -> Image<'static> {
    if serving {
        tauri::include_image!("icons/tray-serving.png")
    } else {
        tauri::include_image!("icons/tray-idle.png")
    }
}

/// Puts the icon in the tray, showing `state`, and keeps it in step with `feed`. The
/// returned task runs until aborted (at exit).
///
/// # Errors
/// The tray could not be made (e.g. no tray library on Linux); the app runs without it.
pub(crate) fn install<R: Runtime>(
    app: &AppHandle<R>,
    feed: &StateFeed,
    state: &AppState,
) -> tauri::Result<tauri::async_runtime::JoinHandle<()>> {
    let mut shown = TrayMenu::of(state);
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(shown.serving))
        .tooltip(&shown.tooltip)
        .menu(&menu(app, &shown)?)
        .on_menu_event(|app, event: MenuEvent| choose(app, event.id().as_ref()))
        .build(app)?;
    let mut published = feed.published();
    Ok(tauri::async_runtime::spawn(async move {
        while published.changed().await.is_ok() {
            let Some(menu) = published.borrow_and_update().as_ref().map(TrayMenu::of) else {
                continue;
            };
            if menu != shown {
                if let Err(err) = show(&tray, &menu) {
                    tracing::warn!("the tray menu could not be updated: {err}");
                }
                shown = menu;
            }
        }
    }))
}

/// Whether the icon is in the tray ([`install`] succeeded).
pub(crate) fn is_installed<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.tray_by_id(TRAY_ID).is_some()
}

fn show<R: Runtime>(tray: &TrayIcon<R>, model: &TrayMenu) -> tauri::Result<()> {
    tray.set_menu(Some(menu(tray.app_handle(), model)?))?;
    tray.set_icon(Some(icon(model.serving)))?;
    tray.set_tooltip(Some(&model.tooltip))
}

fn menu<R: Runtime>(app: &AppHandle<R>, model: &TrayMenu) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for site in &model.sites {
        let submenu = Submenu::new(app, &site.title, true)?;
        for entry in &site.items {
            submenu.append(&menu_item(app, entry)?)?;
        }
        menu.append(&submenu)?;
    }
    if !model.sites.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    for entry in &model.app_items {
        menu.append(&menu_item(app, entry)?)?;
    }
    Ok(menu)
}

fn menu_item<R: Runtime>(app: &AppHandle<R>, entry: &TrayItem) -> tauri::Result<MenuItem<R>> {
    MenuItem::with_id(
        app,
        entry.action.id(),
        &entry.label,
        entry.enabled,
        None::<&str>,
    )
}

/// Runs the action of menu item `id` (unknown ids are ignored).
fn choose<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let Some(action) = TrayAction::parse(id) else {
        return;
    };
    match action {
        TrayAction::Show => crate::background::show_window(app),
        // The app's exit: `shut_down` (lib.rs) stops every site and lets transfers finish.
        TrayAction::Quit => app.exit(0),
        site_action => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(err) = run(&app, site_action).await {
                    tracing::warn!("tray: {err:?}");
                }
            });
        }
    }
}

/// A site's action, through the window's commands.
async fn run<R: Runtime>(app: &AppHandle<R>, action: TrayAction) -> Result<(), CommandError> {
    use crate::commands;
    match action {
        TrayAction::Start(id) => commands::start_site(app.state(), app.state(), id)
            .await
            .map(drop),
        TrayAction::Stop(id) => commands::stop_site(app.state(), app.state(), id)
            .await
            .map(drop),
        TrayAction::Open(id) => commands::open_in_browser(app.clone(), app.state(), id).await,
        TrayAction::CopyUrl(id) => {
            let url = app.state::<SharedSites>().lock().await.url(&id)?;
            copy(&url).map_err(|err| CommandError::other(ErrorKind::OpenFailed, err.to_string()))
        }
        TrayAction::Show | TrayAction::Quit => Ok(()),
    }
}

/// Puts `text` on the clipboard. The clipboard is kept for the app's run: on X11 its owner
/// serves the text to other apps, so a dropped one could take the copy with it.
fn copy(text: &str) -> Result<(), arboard::Error> {
    static CLIPBOARD: std::sync::Mutex<Option<arboard::Clipboard>> = std::sync::Mutex::new(None);
    let mut kept = CLIPBOARD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let clipboard = match &mut *kept {
        Some(clipboard) => clipboard,
        empty => empty.insert(arboard::Clipboard::new()?),
    };
    clipboard.set_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::tests::site_dir;
    use crate::sites::{Folders, Sites};

    #[test]
    fn every_action_round_trips_through_its_menu_id() {
        for action in [
            TrayAction::Start("a-1".into()),
            TrayAction::Stop("a-1".into()),
            TrayAction::Open("b".into()),
            TrayAction::CopyUrl("b".into()),
            TrayAction::Show,
            TrayAction::Quit,
        ] {
            assert_eq!(TrayAction::parse(&action.id()), Some(action));
        }
        for unknown in ["", "start:", "quit:now", "delete:a", "Quit"] {
            assert_eq!(TrayAction::parse(unknown), None, "{unknown:?}");
        }
    }

    /// The model from real sites: one serving, one stopped; the icon follows serving.
    #[tokio::test]
    async fn the_menu_lists_each_site_with_its_status_and_actions() {
        let config = tempfile::tempdir().unwrap();
        let served = site_dir("served");
        let stopped = site_dir("stopped");
        let welcome_dir = site_dir("welcome");
        let mut sites = Sites::open(Folders {
            store: config.path().join("sites.json"),
            logs: None,
            certs: None,
            welcome: welcome_dir.path().to_owned(),
        })
        .await;
        let first = sites.add(served.path()).await.unwrap();
        let second = sites.add(stopped.path()).await.unwrap();
        let (_, stopping) = sites.stop(&second.id).unwrap();
        stopping.finish().await;
        let state = sites.state();
        let welcome = state.sites.len() - 2;

        let menu = TrayMenu::of(&state);
        assert!(menu.serving);
        let url = first.url.clone().unwrap();
        let serving = &menu.sites[welcome];
        assert_eq!(serving.title, format!("{} — serving at {url}", first.name));
        assert_eq!(
            serving.items,
            vec![
                item("Stop", TrayAction::Stop(first.id.clone()), true),
                item("Open in browser", TrayAction::Open(first.id.clone()), true),
                item("Copy URL", TrayAction::CopyUrl(first.id.clone()), true),
            ]
        );
        let idle = &menu.sites[welcome + 1];
        assert_eq!(idle.title, format!("{} — stopped", second.name));
        assert_eq!(
            idle.items[0],
            item("Start", TrayAction::Start(second.id.clone()), true)
        );
        assert!(!idle.items[1].enabled && !idle.items[2].enabled);
        assert_eq!(
            menu.app_items.iter().map(|i| &i.action).collect::<Vec<_>>(),
            [&TrayAction::Show, &TrayAction::Quit]
        );

        for stopping in sites.shut_down() {
            stopping.finish().await;
        }
        let none = TrayMenu::of(&sites.state());
        assert!(!none.serving);
        assert_eq!(none.tooltip, "Wharf — no site serving");
        assert_ne!(none, menu, "a stop changes the menu");
    }

    #[test]
    fn no_sites_leaves_show_and_quit() {
        let menu = TrayMenu::of(&AppState {
            sites: Vec::new(),
            recents: Vec::new(),
            notices: Vec::new(),
            opened: None,
        });
        assert!(!menu.serving && menu.sites.is_empty());
        assert_eq!(menu.app_items.len(), 2);
    }
}
