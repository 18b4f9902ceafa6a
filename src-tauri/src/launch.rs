//! What a launch of `wharf-desktop` asks for: the folders on its command line, and which
//! running Wharf it belongs to.
//!
//! `wharf-desktop ~/site` (or "Open with Wharf" from the file manager, whose `.desktop` entry
//! runs `wharf-desktop %F`) serves that folder. A second launch hands its arguments and its
//! working directory to the running instance (`tauri-plugin-single-instance`), so relative
//! paths are resolved against the launch's directory, not the running app's. Nothing here
//! knows about Tauri or checks the paths: `Sites::add_launched` says what is not a folder.

use std::ffi::OsString;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

/// The paths on a command line (`args` without the program's name), made absolute against
/// `cwd`. Arguments starting with `-` are options Wharf does not have and are skipped, up
/// to a `--`, after which every argument is a path.
pub fn folders<I, A>(args: I, cwd: &Path) -> Vec<PathBuf>
where
    I: IntoIterator<Item = A>,
    A: Into<OsString>,
{
    let mut options = true;
    let mut folders = Vec::new();
    for arg in args {
        let arg: OsString = arg.into();
        if options && arg == "--" {
            options = false;
        } else if options && arg.to_string_lossy().starts_with('-') {
            tracing::warn!("ignoring unknown option {}", arg.to_string_lossy());
        } else if !arg.is_empty() {
            folders.push(cwd.join(arg));
        }
    }
    folders
}

/// The D-Bus name (before the plugin's `.SingleInstance`) that makes one Wharf per config
/// folder on Linux: the app's identifier, plus a hash of `WHARF_CONFIG_DIR` when it is set.
/// Two Wharfs with different config folders keep different sites, so neither is the
/// other's second instance; the end-to-end tests rely on it to run apps side by side.
pub fn instance_id(identifier: &str, config_override: Option<&Path>) -> String {
    match config_override {
        None => identifier.to_owned(),
        Some(dir) => {
            // SipHash with fixed keys: the same folder gives the same name in every process
            // of this build, which is all a second launch needs.
            let mut hasher = DefaultHasher::new();
            dir.hash(&mut hasher);
            // A bus name's element may not start with a digit.
            format!("{identifier}.c{:016x}", hasher.finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_resolved_against_the_launch_directory_and_options_are_skipped() {
        let cwd = Path::new("/home/me/work");
        assert_eq!(
            folders(["site", "../other", "/abs/path", "-v", "--flag", ""], cwd),
            [
                PathBuf::from("/home/me/work/site"),
                PathBuf::from("/home/me/work/../other"),
                PathBuf::from("/abs/path"),
            ]
        );
        assert_eq!(
            folders(["--", "-dash folder", "--"], cwd),
            [cwd.join("-dash folder"), cwd.join("--")]
        );
        assert!(folders(Vec::<String>::new(), cwd).is_empty());
    }

    #[test]
    fn one_instance_per_config_folder() {
        assert_eq!(instance_id("dev.wharf.app", None), "dev.wharf.app");
        let a = instance_id("dev.wharf.app", Some(Path::new("/tmp/a")));
        assert_eq!(a, instance_id("dev.wharf.app", Some(Path::new("/tmp/a"))));
        assert_ne!(a, instance_id("dev.wharf.app", Some(Path::new("/tmp/b"))));
        let last = a.rsplit('.').next().unwrap();
        assert!(last.starts_with('c') && last.len() == 17, "{a}");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'));
    }
}
