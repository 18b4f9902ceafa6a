//! The commands that change the OS trust stores, as argument lists (nothing here runs them):
//! the macOS login keychain, the Windows current user's Root store, and the machine's store
//! on each OS behind an elevation (`pkexec`/`sudo`, `osascript`, UAC). Built on every OS, so
//! that each OS's commands are tested on any.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::Action;
use crate::lifecycle::ca::LocalCa;

/// How a command gets administrator rights on Linux and macOS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elevation {
    /// `sudo`, which asks in the terminal: for the CLI.
    Sudo,
    /// A graphical prompt: `pkexec` (polkit) on Linux, `osascript ... with administrator
    /// privileges` on macOS: for the app.
    Graphical,
}

/// Where the machine's trust store keeps extra CAs, and the command that rebuilds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemLayout {
    /// Linux: a folder of anchors and the command that rebuilds the bundle from it (mkcert's
    /// table: Debian `update-ca-certificates`, Fedora `update-ca-trust extract`, Arch
    /// `trust extract-compat`, openSUSE).
    Anchors {
        /// The folder, e.g. `/usr/local/share/ca-certificates`.
        dir: PathBuf,
        /// The file extension the tool reads, `crt` or `pem`.
        extension: &'static str,
        /// The rebuild command.
        refresh: Vec<&'static str>,
    },
    /// macOS: the System keychain.
    SystemKeychain,
    /// Windows: the local machine's Root store.
    LocalMachineRoot,
    /// No store Wharf knows.
    Unknown,
}

impl SystemLayout {
    /// This machine's layout.
    pub fn detect() -> SystemLayout {
        if cfg!(target_os = "macos") {
            return SystemLayout::SystemKeychain;
        }
        if cfg!(windows) {
            return SystemLayout::LocalMachineRoot;
        }
        let anchors: [(&str, &str, &[&str]); 4] = [
            (
                "/etc/pki/ca-trust/source/anchors",
                "pem",
                &["update-ca-trust", "extract"],
            ),
            (
                "/usr/local/share/ca-certificates",
                "crt",
                &["update-ca-certificates"],
            ),
            (
                "/etc/ca-certificates/trust-source/anchors",
                "crt",
                &["trust", "extract-compat"],
            ),
            (
                "/usr/share/pki/trust/anchors",
                "pem",
                &["update-ca-certificates"],
            ),
        ];
        anchors
            .into_iter()
            .find(|(dir, ..)| Path::new(dir).is_dir())
            .map_or(SystemLayout::Unknown, |(dir, extension, refresh)| {
                SystemLayout::Anchors {
                    dir: PathBuf::from(dir),
                    extension,
                    refresh: refresh.to_vec(),
                }
            })
    }

    /// Where it is, for a person.
    pub fn location(&self) -> String {
        match self {
            SystemLayout::Anchors { dir, .. } => dir.display().to_string(),
            SystemLayout::SystemKeychain => SYSTEM_KEYCHAIN.to_owned(),
            SystemLayout::LocalMachineRoot => "the local machine's Root store".to_owned(),
            SystemLayout::Unknown => "unknown".to_owned(),
        }
    }

    /// The file the CA is copied to (Linux only).
    pub fn installed_file(&self, ca: &LocalCa) -> Option<PathBuf> {
        match self {
            SystemLayout::Anchors { dir, extension, .. } => {
                Some(dir.join(format!("{}.{extension}", ca.nickname().replace(' ', "_"))))
            }
            _ => None,
        }
    }
}

const SYSTEM_KEYCHAIN: &str = "/Library/Keychains/System.keychain";

/// The commands that install or remove the CA in the machine's store through `elevation`;
/// `None` for [`SystemLayout::Unknown`] (and for [`Action::Check`]).
///
/// Linux: one elevated `sh -c` that copies the certificate into the anchors folder (or
/// deletes it) and rebuilds the bundle, the paths passed as arguments, never spliced into
/// the script. macOS: `security add-trusted-cert -d` into the System keychain (or
/// `remove-trusted-cert -d`). Windows: `certutil -addstore -f Root` (or `-delstore`) started
/// elevated through PowerShell's `Start-Process -Verb RunAs`, which shows the UAC prompt.
pub fn system_commands(
    action: Action,
    ca: &LocalCa,
    layout: &SystemLayout,
    elevation: Elevation,
) -> Option<Vec<Vec<OsString>>> {
    let ca_path = ca.cert_path.as_os_str();
    let command = match (layout, action) {
        (_, Action::Check) | (SystemLayout::Unknown, _) => return None,
        (SystemLayout::Anchors { refresh, .. }, _) => {
            let target = layout.installed_file(ca)?;
            let script = match action {
                Action::Install => {
                    format!("install -m 0644 -- \"$1\" \"$2\" && {}", refresh.join(" "))
                }
                _ => format!("rm -f -- \"$2\" && {}", refresh.join(" ")),
            };
            let mut argv = elevated(elevation, "pkexec");
            argv.extend([
                "sh".into(),
                "-c".into(),
                script.into(),
                "wharf".into(),
                ca_path.to_owned(),
                target.into_os_string(),
            ]);
            argv
        }
        (SystemLayout::SystemKeychain, _) => {
            let mut security: Vec<OsString> = vec!["security".into()];
            match action {
                Action::Install => security.extend([
                    "add-trusted-cert".into(),
                    "-d".into(),
                    "-r".into(),
                    "trustRoot".into(),
                    "-k".into(),
                    SYSTEM_KEYCHAIN.into(),
                ]),
                _ => security.extend(["remove-trusted-cert".into(), "-d".into()]),
            }
            security.push(ca_path.to_owned());
            match elevation {
                Elevation::Sudo => {
                    let mut argv: Vec<OsString> = vec!["sudo".into()];
                    argv.extend(security);
                    argv
                }
                Elevation::Graphical => {
                    let shell: Vec<String> = security
                        .iter()
                        .map(|arg| shell_quote(&arg.to_string_lossy()))
                        .collect();
                    let script = format!(
                        "do shell script \"{}\" with administrator privileges",
                        applescript_escape(&shell.join(" "))
                    );
                    vec!["osascript".into(), "-e".into(), script.into()]
                }
            }
        }
        (SystemLayout::LocalMachineRoot, _) => {
            let args = match action {
                Action::Install => vec![
                    "-addstore".to_owned(),
                    "-f".to_owned(),
                    "Root".to_owned(),
                    ca_path.to_string_lossy().into_owned(),
                ],
                _ => vec![
                    "-delstore".to_owned(),
                    "Root".to_owned(),
                    LocalCa::common_name().to_owned(),
                ],
            };
            let list: Vec<String> = args.iter().map(|arg| powershell_quote(arg)).collect();
            vec![
                "powershell".into(),
                "-NoProfile".into(),
                "-Command".into(),
                format!(
                    "Start-Process -FilePath certutil -ArgumentList {} -Verb RunAs -Wait",
                    list.join(",")
                )
                .into(),
            ]
        }
    };
    Some(vec![command])
}

fn elevated(elevation: Elevation, graphical: &str) -> Vec<OsString> {
    match elevation {
        Elevation::Sudo => vec!["sudo".into()],
        Elevation::Graphical => vec![graphical.into()],
    }
}

/// The login keychain's commands: for [`Action::Check`] the one check, else the changes.
/// `security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db CA`
/// installs (macOS asks for the password); `remove-trusted-cert` then `delete-certificate
/// -c` remove; `verify-cert -c CA` checks.
pub(super) fn login_keychain(
    action: Action,
    ca: &LocalCa,
    home: Option<&Path>,
) -> Vec<Vec<OsString>> {
    let keychain = home
        .map(|home| home.join("Library/Keychains/login.keychain-db"))
        .unwrap_or_else(|| PathBuf::from("login.keychain-db"))
        .into_os_string();
    let ca_path = ca.cert_path.clone().into_os_string();
    match action {
        Action::Install => vec![vec![
            "security".into(),
            "add-trusted-cert".into(),
            "-r".into(),
            "trustRoot".into(),
            "-k".into(),
            keychain,
            ca_path,
        ]],
        Action::Remove => vec![
            vec!["security".into(), "remove-trusted-cert".into(), ca_path],
            vec![
                "security".into(),
                "delete-certificate".into(),
                "-c".into(),
                LocalCa::common_name().into(),
                keychain,
            ],
        ],
        Action::Check => vec![vec![
            "security".into(),
            "verify-cert".into(),
            "-c".into(),
            ca_path,
        ]],
    }
}

/// The current user's Root store: `certutil -user -addstore Root CA` installs (Windows asks
/// first), `-delstore Root NAME` removes every Wharf CA, `-verifystore Root NAME` checks.
pub(super) fn current_user_root(action: Action, ca: &LocalCa) -> Vec<Vec<OsString>> {
    let mut argv: Vec<OsString> = vec!["certutil".into(), "-user".into()];
    match action {
        Action::Install => argv.extend([
            "-addstore".into(),
            "Root".into(),
            ca.cert_path.clone().into_os_string(),
        ]),
        Action::Remove => argv.extend([
            "-delstore".into(),
            "Root".into(),
            LocalCa::common_name().into(),
        ]),
        Action::Check => argv.extend([
            "-verifystore".into(),
            "Root".into(),
            LocalCa::common_name().into(),
        ]),
    }
    vec![argv]
}

/// `text` as one POSIX shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `text` inside an AppleScript string literal.
fn applescript_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `text` as one PowerShell single-quoted string.
fn powershell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(path: &str) -> LocalCa {
        LocalCa {
            der: Vec::new(),
            fingerprint: "0A:1B:2C:3D:4E:5F:60:71".to_owned(),
            cert_path: PathBuf::from(path),
        }
    }

    fn strings(commands: Option<Vec<Vec<OsString>>>) -> Vec<Vec<String>> {
        commands
            .unwrap()
            .into_iter()
            .map(|argv| {
                argv.into_iter()
                    .map(|arg| arg.into_string().unwrap())
                    .collect()
            })
            .collect()
    }

    // Unix only: these paths are joined by the OS that runs the command (`\` on Windows,
    // where this command is never built).
    #[cfg(unix)]
    #[test]
    fn linux_system_store_copies_and_rebuilds_with_paths_as_arguments() {
        let layout = SystemLayout::Anchors {
            dir: PathBuf::from("/usr/local/share/ca-certificates"),
            extension: "crt",
            refresh: vec!["update-ca-certificates"],
        };
        let ca = ca("/home/me/it's; rm -rf ~/ca.pem");
        let target =
            "/usr/local/share/ca-certificates/Wharf_local_certificate_authority_0A1B2C3D.crt";
        assert_eq!(
            strings(system_commands(
                Action::Install,
                &ca,
                &layout,
                Elevation::Graphical
            )),
            [[
                "pkexec",
                "sh",
                "-c",
                "install -m 0644 -- \"$1\" \"$2\" && update-ca-certificates",
                "wharf",
                "/home/me/it's; rm -rf ~/ca.pem",
                target
            ]]
        );
        assert_eq!(
            strings(system_commands(
                Action::Remove,
                &ca,
                &layout,
                Elevation::Sudo
            )),
            [[
                "sudo",
                "sh",
                "-c",
                "rm -f -- \"$2\" && update-ca-certificates",
                "wharf",
                "/home/me/it's; rm -rf ~/ca.pem",
                target
            ]]
        );
        assert!(system_commands(
            Action::Install,
            &ca,
            &SystemLayout::Unknown,
            Elevation::Sudo
        )
        .is_none());
    }

    #[test]
    fn macos_system_keychain_through_sudo_or_osascript() {
        let ca = ca("/Users/me/Library/Application Support/wharf/certs/ca.pem");
        assert_eq!(
            strings(system_commands(
                Action::Install,
                &ca,
                &SystemLayout::SystemKeychain,
                Elevation::Sudo
            )),
            [[
                "sudo",
                "security",
                "add-trusted-cert",
                "-d",
                "-r",
                "trustRoot",
                "-k",
                "/Library/Keychains/System.keychain",
                "/Users/me/Library/Application Support/wharf/certs/ca.pem"
            ]]
        );
        assert_eq!(
            strings(system_commands(Action::Remove, &ca, &SystemLayout::SystemKeychain, Elevation::Graphical)),
            [[
                "osascript",
                "-e",
                "do shell script \"'security' 'remove-trusted-cert' '-d' \
                 '/Users/me/Library/Application Support/wharf/certs/ca.pem'\" with administrator privileges"
            ]]
        );
    }

    #[test]
    fn windows_machine_root_through_uac() {
        let ca = ca(r"C:\Users\O'Brien\AppData\Local\wharf\certs\ca.pem");
        assert_eq!(
            strings(system_commands(
                Action::Install,
                &ca,
                &SystemLayout::LocalMachineRoot,
                Elevation::Sudo
            )),
            [[
                "powershell",
                "-NoProfile",
                "-Command",
                r"Start-Process -FilePath certutil -ArgumentList '-addstore','-f','Root','C:\Users\O''Brien\AppData\Local\wharf\certs\ca.pem' -Verb RunAs -Wait"
            ]]
        );
        assert_eq!(
            strings(Some(current_user_root(Action::Install, &ca))),
            [[
                "certutil",
                "-user",
                "-addstore",
                "Root",
                r"C:\Users\O'Brien\AppData\Local\wharf\certs\ca.pem"
            ]]
        );
        assert_eq!(
            strings(Some(current_user_root(Action::Remove, &ca))),
            [[
                "certutil",
                "-user",
                "-delstore",
                "Root",
                "Wharf local certificate authority"
            ]]
        );
    }

    // Unix only: these paths are joined by the OS that runs the command (`\` on Windows,
    // where this command is never built).
    #[cfg(unix)]
    #[test]
    fn login_keychain_user_level() {
        let ca = ca("/Users/me/ca.pem");
        assert_eq!(
            strings(Some(login_keychain(
                Action::Install,
                &ca,
                Some(Path::new("/Users/me"))
            ))),
            [[
                "security",
                "add-trusted-cert",
                "-r",
                "trustRoot",
                "-k",
                "/Users/me/Library/Keychains/login.keychain-db",
                "/Users/me/ca.pem"
            ]]
        );
        assert_eq!(
            strings(Some(login_keychain(
                Action::Remove,
                &ca,
                Some(Path::new("/Users/me"))
            )))
            .len(),
            2
        );
    }
}
