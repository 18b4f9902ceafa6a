//! Generates `allow-<command>` permissions for Wharf's own commands, so the
//! capability in `capabilities/main.json` can grant exactly the ones the UI uses.

/// The commands of the window's contract (`ui/src/api/types.ts`), in the order it lists them.
const COMMANDS: &[&str] = &[
    "subscribe_state",
    "add_site",
    "remove_site",
    "start_site",
    "stop_site",
    "set_site_root",
    "apply_settings",
    "set_lan",
    "lan_qr",
    "open_in_browser",
    "watch_site",
    "close_connection",
    "pick_folder",
    "export_csv",
    "export_har",
    "reveal_export",
    "get_app_settings",
    "set_app_settings",
    "trust_ca",
    "trust_ca_system",
    "check_site",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed; see the message above");
}
