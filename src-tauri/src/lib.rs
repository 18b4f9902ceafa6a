//! Wharf's desktop shell: a Tauri v2 window around wharf-core.
//!
//! At launch it serves the built-in welcome site on 127.0.0.1 and a free port, then hands
//! control to the window through the commands in [`commands`].

mod commands;
pub mod site;
mod status_feed;
mod welcome;

use tauri::Manager;

/// Builds and runs the app until its window closes.
pub fn run() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WHARF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_shell::init())
        .setup(|app| {
            let welcome = welcome::install(&app.path().app_cache_dir()?)?;
            let logs = app.path().app_data_dir()?.join("access-log");
            let site =
                tauri::async_runtime::block_on(site::Site::start_welcome(&welcome, Some(logs)))?;
            app.manage(commands::SiteState::new(site));
            app.manage(status_feed::StatusFeed::default());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::subscribe_status,
            commands::start_server,
            commands::stop_server,
            commands::set_root,
            commands::open_in_browser,
        ])
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(err) => {
            eprintln!("error: Wharf could not start: {err}");
            std::process::exit(1);
        }
    }
}
