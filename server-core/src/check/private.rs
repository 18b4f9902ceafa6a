//! Files a deploy of the folder would publish but should not: environment files (`.env*`),
//! version-control folders (one finding per folder; their contents are never read), private
//! keys (`*.pem`, `*.key`, SSH's `id_rsa` and kin, not their `.pub` halves), and source maps
//! whose `sources` or `sourceRoot` give away paths on the author's machine.

use std::path::Path;

use serde::Deserialize;

use super::finding::{Finding, FindingKind, Severity};
use super::inventory::Inventory;

/// The findings of private files and local source maps.
pub(super) fn check(inventory: &mut Inventory) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut maps = Vec::new();
    for (name, entry) in inventory.entries() {
        let leaf = name.rsplit('/').next().unwrap_or(name);
        if let Some((what, advice)) = private(leaf, entry.is_dir) {
            findings.push(Finding {
                kind: FindingKind::PrivateFile,
                severity: Severity::Error,
                file: name.to_owned(),
                line: None,
                message: format!("{what} would be published with the site"),
                advice: advice.to_owned(),
            });
        } else if !entry.is_dir && has_extension(leaf, "map") {
            maps.push(name.to_owned());
        }
    }
    for map in maps {
        let Some(text) = inventory.read_text(&map) else {
            continue;
        };
        if let Some(local) = local_source(&text) {
            findings.push(Finding {
                kind: FindingKind::LocalSourceMap,
                severity: Severity::Error,
                file: map,
                line: None,
                message: format!("source map names a path on your machine: `{local}`"),
                advice: "Build with relative source paths (e.g. Vite/Rollup \
                    `sourcemapPathTransform`, webpack `devtoolModuleFilenameTemplate`), or leave \
                    source maps out of the published folder."
                    .to_owned(),
            });
        }
    }
    findings
}

/// What the entry `leaf` is and what to do, if it must not be published.
fn private(leaf: &str, is_dir: bool) -> Option<(String, &'static str)> {
    let lower = leaf.to_ascii_lowercase();
    if matches!(lower.as_str(), ".git" | ".hg" | ".svn") {
        let what = if is_dir { "folder" } else { "file" };
        return Some((
            format!("the version-control {what} `{leaf}` (its whole history)"),
            "Publish a build folder that holds no repository, or exclude it from the deploy.",
        ));
    }
    if is_dir {
        return None;
    }
    if lower == ".env" || lower.starts_with(".env.") {
        return Some((
            format!("the environment file `{leaf}` (usually secrets)"),
            "Move it out of the published folder; keep secrets on the server or in CI.",
        ));
    }
    let ssh_key = ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .any(|key| lower.starts_with(key))
        && !lower.ends_with(".pub");
    if ssh_key || has_extension(&lower, "pem") || has_extension(&lower, "key") {
        return Some((
            format!("the key file `{leaf}`"),
            "Move it out of the published folder, and replace the key if it was ever published.",
        ));
    }
    None
}

fn has_extension(name: &str, extension: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case(extension))
}

/// A source map's fields that name paths.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceMap {
    #[serde(default)]
    source_root: Option<String>,
    #[serde(default)]
    sources: Vec<Option<String>>,
}

/// The first path of a source map that names the author's machine.
fn local_source(text: &str) -> Option<String> {
    let map: SourceMap = serde_json::from_str(text).ok()?;
    map.source_root
        .into_iter()
        .chain(map.sources.into_iter().flatten())
        .find(|path| is_local_path(path))
}

/// `/Users/…`, `/home/…`, `/root/…`, `file://…`, `C:\…` or `C:/…`, `\\server\…`.
fn is_local_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let drive = lower.as_bytes();
    let windows_drive = drive.len() >= 3
        && drive[0].is_ascii_alphabetic()
        && drive[1] == b':'
        && matches!(drive[2], b'\\' | b'/');
    ["/users/", "/home/", "/root/", "file:", "\\\\"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
        || windows_drive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_names_are_recognised() {
        for (leaf, is_dir) in [
            (".git", true),
            (".git", false),
            (".env", false),
            (".env.local", false),
            ("server.pem", false),
            ("tls.KEY", false),
            ("id_rsa", false),
            ("id_ed25519", false),
        ] {
            assert!(private(leaf, is_dir).is_some(), "{leaf}");
        }
        for (leaf, is_dir) in [
            (".well-known", true),
            ("id_rsa.pub", false),
            ("keyboard.js", false),
            ("environment.js", false),
            (".env", true),
        ] {
            assert!(private(leaf, is_dir).is_none(), "{leaf}");
        }
    }

    #[test]
    fn local_source_paths_are_recognised() {
        let local = r#"{"version":3,"sources":["../src/a.ts","/Users/ann/app/src/b.ts"]}"#;
        assert_eq!(
            local_source(local).as_deref(),
            Some("/Users/ann/app/src/b.ts")
        );
        let windows = r#"{"version":3,"sourceRoot":"C:\\work\\app","sources":["a.ts"]}"#;
        assert!(local_source(windows).is_some());
        let clean = r#"{"version":3,"sourceRoot":"","sources":["webpack:///./src/a.ts"]}"#;
        assert_eq!(local_source(clean), None);
    }
}
