//! Generates `allow-<command>` permissions for Wharf's own commands, so the
//! capability in `capabilities/main.json` can grant exactly the ones the UI uses.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "subscribe_status",
        "start_server",
        "stop_server",
        "set_root",
        "open_in_browser",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed; see the message above");
}
