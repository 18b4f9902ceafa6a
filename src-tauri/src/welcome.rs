//! The welcome site shipped inside the app, served when no folder has been chosen yet.
//!
//! Its files are compiled into the binary and written to the app's cache folder at launch,
//! so the server serves real files like any other site.

use std::io;
use std::path::{Path, PathBuf};

const FILES: [(&str, &str); 2] = [
    ("index.html", include_str!("../welcome/index.html")),
    ("style.css", include_str!("../welcome/style.css")),
];

/// Writes the welcome site under `cache_dir` and returns its folder.
pub(crate) fn install(cache_dir: &Path) -> io::Result<PathBuf> {
    let dir = cache_dir.join("welcome-site");
    std::fs::create_dir_all(&dir)?;
    for (name, contents) in FILES {
        std::fs::write(dir.join(name), contents)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_an_index_page() {
        let cache = tempfile::tempdir().unwrap();
        let dir = install(cache.path()).unwrap();
        let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(index.contains("Welcome to Wharf"));
        // Installing again (the next launch) overwrites cleanly.
        install(cache.path()).unwrap();
    }
}
