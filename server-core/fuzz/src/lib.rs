//! Shared fixtures of Wharf's fuzz targets (issue 13, point 9).
//!
//! [`Site`] is a small real folder built once per process: plain files, nested folders, a
//! dotfile, a dot-folder, and symlinks that lead out of the root or to hidden files. Files
//! that must never be served hold random markers, so a response that carries one has leaked
//! it, whatever the request said (the fuzzer cannot guess a marker and echo it back).
//! Requests are answered by the real service (`wharf_core::fuzzing::respond_noting`) on one
//! current-thread runtime, with the real file cache.
//!
//! Known findings that another change fixes can be skipped while that change is pending:
//! `WHARF_FUZZ_SKIP=dot-symlink,csv-separator` (see `bench/fuzz.sh`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wharf_core::fuzzing::{new_instance, respond_noting, Body, BoundPorts, FileCache, ReloadFeed};
use wharf_core::{ConfigDraft, ServerConfig};

/// Whether the known finding `name` is to be skipped (listed in `WHARF_FUZZ_SKIP`).
pub fn skipped(name: &str) -> bool {
    static SKIP: OnceLock<Vec<String>> = OnceLock::new();
    SKIP.get_or_init(|| {
        std::env::var("WHARF_FUZZ_SKIP")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|s| s == name)
}

/// The site options a fuzz input may turn on, one bit each.
pub const OPTIONS: usize = 5;

/// The served folder, its secrets, and everything `respond` needs.
pub struct Site {
    /// The folder served (canonical).
    pub root: PathBuf,
    /// In files outside the root, and in the name of a file there.
    pub outside_marker: String,
    /// In dotfiles and files of dot-folders that nothing links to.
    pub dot_marker: String,
    /// In a dotfile and a dot-folder that symlinks inside the root point to.
    pub linked_dot_marker: String,
    /// One config per combination of [`OPTIONS`] bits.
    configs: Vec<Arc<ServerConfig>>,
    cache: Arc<FileCache>,
    feed: ReloadFeed,
    _updates: watch::Sender<Arc<ServerConfig>>,
    runtime: tokio::runtime::Runtime,
}

/// A fresh random marker: hex, unguessable by the fuzzer, unlike any file name or page text.
fn marker(kind: &str) -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(kind.as_bytes());
    format!("WHARFSECRET{kind}{:016x}", hasher.finish())
}

fn write(path: &Path, contents: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("fixture folder");
    }
    std::fs::write(path, contents).expect("fixture file");
}

fn link(target: &str, at: &Path) {
    std::os::unix::fs::symlink(target, at).expect("fixture symlink");
}

impl Site {
    /// The site of this process, built on first use.
    pub fn get() -> &'static Site {
        static SITE: OnceLock<Site> = OnceLock::new();
        SITE.get_or_init(Site::build)
    }

    fn build() -> Site {
        let outside_marker = marker("OUT");
        let dot_marker = marker("DOT");
        let linked_dot_marker = marker("LINKDOT");
        // One folder per process; bench/fuzz.sh points TMPDIR at a scratch folder it removes.
        let base = std::env::temp_dir().join(format!("wharf-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("site");
        let outside = base.join("outside");
        write(&outside.join("secret.txt"), &outside_marker);
        write(&outside.join(format!("{outside_marker}.txt")), "name");
        write(
            &outside.join("index.html"),
            &format!("<body>{outside_marker}</body>"),
        );
        write(&root.join("index.html"), "<html><body>home</body></html>");
        write(&root.join("a.txt"), "plain a");
        write(&root.join("about.html"), "<html><body>about</body></html>");
        write(&root.join("404.html"), "<html><body>not here</body></html>");
        write(&root.join("space name.txt"), "space");
        write(&root.join("café.txt"), "accent");
        write(
            &root.join("docs/index.html"),
            "<html><body>docs</body></html>",
        );
        write(&root.join("docs/page.html"), "<p>page</p>");
        write(&root.join("docs/deep/more/file.txt"), "deep");
        write(&root.join("empty.txt"), "");
        write(&root.join(".env"), &dot_marker);
        write(&root.join(format!(".{dot_marker}")), "hidden name");
        write(&root.join(".git/config"), &dot_marker);
        write(&root.join(".git/index.html"), &dot_marker);
        write(&root.join("docs/.hidden.html"), &dot_marker);
        write(&root.join("docs/.well-known/a.txt"), &dot_marker);
        write(&root.join(".linked"), &linked_dot_marker);
        write(&root.join(".linked-dir/index.html"), &linked_dot_marker);
        write(&root.join(".linked-dir/b.txt"), &linked_dot_marker);
        link("../outside/secret.txt", &root.join("out.txt"));
        link("../outside", &root.join("out-dir"));
        link("../../outside/index.html", &root.join("docs/out.html"));
        link(
            &outside.join("secret.txt").to_string_lossy(),
            &root.join("abs-out.txt"),
        );
        link("a.txt", &root.join("in.txt"));
        link("docs", &root.join("docs-link"));
        link(".linked", &root.join("dot-link.txt"));
        link(".linked-dir", &root.join("dot-dir"));
        // Modified before 1970, which no HTTP-date can say.
        write(&root.join("old.txt"), "old");
        std::fs::File::options()
            .write(true)
            .open(root.join("old.txt"))
            .and_then(|file| file.set_modified(UNIX_EPOCH - Duration::from_secs(86_400 * 365)))
            .expect("fixture mtime");
        link("missing", &root.join("dangling"));
        link("loop-b", &root.join("loop-a"));
        link("loop-a", &root.join("loop-b"));

        let configs: Vec<Arc<ServerConfig>> = (0..1usize << OPTIONS)
            .map(|bits| {
                let on = |bit: usize| Some(bits & (1 << bit) != 0);
                let draft = ConfigDraft {
                    root: Some(root.clone()),
                    port: Some(0),
                    show_dotfiles: on(0),
                    directory_listing: on(1),
                    clean_urls: on(2),
                    spa_fallback: on(3),
                    // Only valid with clean URLs.
                    drop_html_extension: Some(bits & 0b1_0100 == 0b1_0100),
                    follow_symlinks: Some(false),
                    live_reload: Some(true),
                    ..ConfigDraft::default()
                };
                Arc::new(ServerConfig::try_from(draft).expect("fixture config"))
            })
            .collect();
        let root = configs[0].root().clone();
        let (updates, updates_rx) = watch::channel(Arc::clone(&configs[0]));
        let shutdown = CancellationToken::new();
        // Cancelled up front: a live-reload stream then sends its hello and ends, so a
        // response body never waits for a file change.
        shutdown.cancel();
        let feed = ReloadFeed::detached(
            new_instance(),
            shutdown,
            updates_rx,
            false,
            Arc::new(BoundPorts::default()),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Site {
            root,
            outside_marker,
            dot_marker,
            linked_dot_marker,
            configs,
            cache: Arc::new(FileCache::default()),
            feed,
            _updates: updates,
            runtime,
        }
    }

    /// The config for the low [`OPTIONS`] bits of `bits`. Bit 0 shows dotfiles.
    pub fn config(&self, bits: u8) -> &Arc<ServerConfig> {
        &self.configs[usize::from(bits) & ((1 << OPTIONS) - 1)]
    }

    /// Runs `future` on the site's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Wharf's answer to `request` under `config`, body read whole.
    pub async fn respond<B>(
        &self,
        config: &Arc<ServerConfig>,
        request: Request<B>,
    ) -> Response<Bytes> {
        let response =
            respond_noting(config, &self.cache, &self.feed, &request)
                .await
                .0;
        let (parts, body) = response.into_parts();
        Response::from_parts(parts, read_body(body).await)
    }

    /// Wharf's service as hyper calls it, for a connection under `config`.
    pub async fn serve<B>(
        &self,
        config: &Arc<ServerConfig>,
        request: Request<B>,
    ) -> Response<Body> {
        respond_noting(config, &self.cache, &self.feed, &request)
            .await
            .0
    }

    /// Panics if `bytes` (a response's head or body) holds a secret it must never show:
    /// a file from outside the root always, a hidden file's when dotfiles are hidden.
    ///
    /// `request` is what the client sent. libFuzzer learns the markers from these very
    /// comparisons and can then send one, to have it echoed in a redirect or a listing's
    /// title; a marker the request holds, however encoded or split, proves nothing.
    pub fn assert_no_leak(&self, bytes: &[u8], dotfiles_shown: bool, request: &[u8]) {
        let letters = echoable(request);
        let holds = |marker: &str| {
            !letters.contains(&marker.to_ascii_lowercase())
                && bytes
                    .windows(marker.len())
                    .any(|window| window == marker.as_bytes())
        };
        let context = String::from_utf8_lossy(request);
        assert!(
            !holds(&self.outside_marker),
            "a file outside the root was served for {context:?}"
        );
        if !dotfiles_shown {
            assert!(
                !holds(&self.dot_marker),
                "a hidden file was served for {context:?}"
            );
            // Point 2 of issue 13: a symlink inside the root must not reach a hidden file.
            if !skipped("dot-symlink") {
                assert!(
                    !holds(&self.linked_dot_marker),
                    "a hidden file was served through a symlink for {context:?}"
                );
            }
        }
    }
}

/// The letters and digits of `request`, lower-cased, after percent-decoding it until it no
/// longer changes.
fn echoable(request: &[u8]) -> String {
    let mut text = request.to_vec();
    loop {
        let decoded: Vec<u8> = percent_encoding::percent_decode(&text).collect();
        if decoded == text {
            break;
        }
        text = decoded;
    }
    text.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// The whole of a response body. Bodies here are small files, pages, or a live-reload stream
/// that ends after its hello (the feed is shut down).
pub async fn read_body(body: Body) -> Bytes {
    match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => panic!("reading a response body failed: {err}"),
    }
}
