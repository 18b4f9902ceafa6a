//! Helpers for the CLI's integration tests: the `wharf` binary, how to stop it, and its first
//! line. Only tests of the package that owns a binary can name it (`CARGO_BIN_EXE_wharf`), so
//! these live here.
//!
//! Everything else (servers, the raw HTTP client, TLS, the fixture site, the hostile session
//! log) is server-core's own test helpers, included as they are with `#[path]` rather than
//! copied: one definition, compiled into both crates' tests. (A helper crate would do too, but
//! it would be a workspace member that exists only to hold test code.)

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::SocketAddr;

#[path = "../../../server-core/tests/common/mod.rs"]
mod shared;
pub use shared::*;

/// The address in the CLI's first line, `Serving <folder> at http://<addr>/`.
pub fn addr_from_first_line(line: &str) -> SocketAddr {
    line.trim_end()
        .rsplit(" at http://")
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// The `wharf` binary, to be stopped with [`stop`] or [`interrupt`]. On Windows it gets a
/// console of its own (without a window), so a Ctrl-C sent to it reaches it alone and not
/// the test that started it.
pub fn wharf() -> std::process::Command {
    #[allow(unused_mut)]
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wharf"));
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        command.creation_flags(CREATE_NO_WINDOW);
    }
    command
}

/// Asks a [`wharf`] child to stop as a service manager or script would: SIGTERM on Unix; on
/// Windows, which has no signals, Ctrl-C in its console.
pub fn stop(child: &std::process::Child) {
    #[cfg(unix)]
    signal(child, "TERM");
    #[cfg(windows)]
    ctrl_c(child);
}

/// Presses Ctrl-C for a [`wharf`] child, as a user at its terminal would: SIGINT on Unix, the
/// console's Ctrl-C event on Windows.
pub fn interrupt(child: &std::process::Child) {
    #[cfg(unix)]
    signal(child, "INT");
    #[cfg(windows)]
    ctrl_c(child);
}

/// Sends signal `name` (`TERM`, `HUP`, ...) to `child`.
#[cfg(unix)]
pub fn signal(child: &std::process::Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Sends Ctrl-C to the console of `child` with `ctrl-c.exe` (tests/windows/ctrl-c.c: the
/// workspace forbids the unsafe code that calling Win32 from Rust takes), which
/// scripts/test-windows.sh puts beside the test executables.
#[cfg(windows)]
fn ctrl_c(child: &std::process::Child) {
    let helper = std::env::current_exe()
        .unwrap()
        .with_file_name("ctrl-c.exe");
    assert!(
        helper.is_file(),
        "{} is missing: scripts/test-windows.sh builds it from tests/windows/ctrl-c.c",
        helper.display()
    );
    let status = std::process::Command::new(&helper)
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "ctrl-c.exe could not reach the console of {}",
        child.id()
    );
}
