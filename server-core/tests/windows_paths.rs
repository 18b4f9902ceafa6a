//! The request-path rules that depend on the OS (issue 14, point 2), on a real server over
//! 127.0.0.1 with real files. Built for Linux and for `x86_64-pc-windows-gnu` (run under Wine
//! by `scripts/test-windows.sh`): `#[cfg(windows)]` tests cover what only Windows gives a
//! meaning (backslashes, drives, UNC, devices, streams, trailing dots and spaces, 8.3 short
//! names, a case-insensitive file system); `#[cfg(unix)]` tests check that the same names are
//! plain files where the OS allows them; the rest must behave alike everywhere.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{get, start_draft, write_aged, RawResponse, SECRET_MARKER};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use wharf_core::config::CustomHeaderDraft;
use wharf_core::{ConfigDraft, ServerConfig};

/// A site with a dot-folder and a dotfile holding the secret, a long file name (which has an
/// 8.3 short name on Windows), and a secret file just outside the root.
struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("assets")).unwrap();
    write_aged(&root.join("index.html"), b"<p>home</p>");
    write_aged(&root.join("file.txt"), b"plain file");
    write_aged(&root.join("assets/app.js"), b"let app;");
    write_aged(&root.join("a long file name.txt"), b"long name");
    write_aged(&root.join(".git/config"), SECRET_MARKER.as_bytes());
    write_aged(&root.join(".env"), SECRET_MARKER.as_bytes());
    let outside = dir.path().join("outside.txt");
    write_aged(&outside, SECRET_MARKER.as_bytes());
    Site {
        root,
        outside,
        _dir: dir,
    }
}

fn rule(path: &str, value: &str) -> CustomHeaderDraft {
    CustomHeaderDraft {
        path: path.into(),
        name: "x-rule".into(),
        value: value.into(),
    }
}

/// Serves `root` with a header rule on `/assets/**` and one on `/index.html`.
fn draft_with_rules(root: &Path) -> ConfigDraft {
    ConfigDraft {
        custom_headers: Some(vec![
            rule("/assets/**", "assets"),
            rule("/index.html", "index"),
        ]),
        ..common::draft(root)
    }
}

fn assert_no_leak(path: &str, response: &RawResponse) {
    assert!(
        !response.text().contains(SECRET_MARKER),
        "{path} leaked the secret ({})",
        response.status
    );
}

/// Stops `server` before its site's folder is removed. Under Wine, a server dropped without
/// `stop` while its temporary folder is deleted can hang the test (`ServerHandle`'s drop never
/// returns); a stopped one never did.
async fn stop(server: wharf_core::ServerHandle) {
    server.stop(std::time::Duration::from_secs(1)).await;
}

/// A path segment percent-encoded in full, so the request carries exactly these bytes.
fn encoded(segment: &str) -> String {
    utf8_percent_encode(segment, NON_ALPHANUMERIC).to_string()
}

/// Backslashes, drive letters, UNC and absolute paths never leave the root: 400 on Windows,
/// where each means more than a name, and a plain miss (404) elsewhere.
#[tokio::test]
async fn backslashes_drives_and_unc_paths_never_escape_the_root() {
    let site = site();
    let server = start_draft(common::draft(&site.root)).await;
    let addr = server.local_addr();
    let outside = site.outside.canonicalize().unwrap();
    // `\\?\C:\users\...` on Windows: the same file as `C:\users\...`.
    let outside = outside.to_str().unwrap().trim_start_matches(r"\\?\");
    let mut paths: Vec<String> = [
        "/a%5Cb",
        "/..%5C..%5Coutside.txt",
        "/..%5Coutside.txt",
        "/assets%5C..%5C..%5Coutside.txt",
        "/%5C..%5Coutside.txt",
        "/C:/Windows/win.ini",
        "/C:%5CWindows%5Cwin.ini",
        "/C:x",
        "/C:",
        "/c%3a/windows/system.ini",
        "//server/share",
        "//server/share/outside.txt",
        "/%5C%5Cserver%5Cshare",
        "/%5C%5C127.0.0.1%5Cc$%5Cwindows",
        "/%5C%5C%3F%5CC:%5CWindows",
        "/%5C%5C.%5Cpipe%5Cx",
        "/%5C%5C.%5CCON",
        "/%5C%5C%3F%5CGLOBALROOT%5CDevice",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    paths.push(format!("/{}", encoded(outside)));
    paths.push(format!("/{}", outside.replace('\\', "/")));
    paths.push(format!("/..%5C{}", encoded("outside.txt")));
    for path in &paths {
        let response = get(addr, path).await;
        assert_no_leak(path, &response);
        if cfg!(windows) {
            // `//server/share` is `/server/share` to the resolver (empty segments drop), a
            // plain miss; every other form holds a `\` or a `:`.
            let expected = if path.starts_with("//") { 404 } else { 400 };
            assert_eq!(response.status, expected, "{path}");
        } else {
            assert_eq!(response.status, 404, "{path}");
        }
    }
    assert_eq!(get(addr, "/file.txt").await.text(), "plain file");
    stop(server).await;
}

/// Device names, in any case, with any extension, and with superscript digits (`COM¹`), are
/// answered 400 at once on Windows: opening one would reach a device (and `CON` would hang).
#[cfg(windows)]
#[tokio::test]
async fn device_names_are_refused_in_any_case() {
    let site = site();
    let server = start_draft(common::draft(&site.root)).await;
    let addr = server.local_addr();
    let mut names: Vec<String> = [
        "CON",
        "con",
        "Con",
        "NUL",
        "nul",
        "PRN",
        "AUX",
        "COM1",
        "com1",
        "COM9",
        "LPT1",
        "lpt1",
        "LPT9",
        "CON.txt",
        "con.TXT",
        "nul.tar.gz",
        "Aux.html",
        "CON .txt",
        "CONIN$",
        "conout$",
    ]
    .iter()
    .map(|name| name.to_string())
    .collect();
    for digit in ['¹', '²', '³'] {
        for port in ["COM", "com", "LPT", "Lpt"] {
            names.push(format!("{port}{digit}"));
            names.push(format!("{port}{digit}.txt"));
        }
    }
    for name in &names {
        for path in [
            format!("/{}", encoded(name)),
            format!("/assets/{}", encoded(name)),
        ] {
            let response =
                tokio::time::timeout(std::time::Duration::from_secs(5), get(addr, &path))
                    .await
                    .unwrap_or_else(|_| panic!("{path} ({name}) hung"));
            assert_eq!(response.status, 400, "{path} ({name})");
        }
    }
    // Names that only look like devices are plain files.
    for name in [
        "CONSOLE.txt",
        "com10.txt",
        "my con.txt",
        "LPT.txt",
        "COM⁴.txt",
    ] {
        write_aged(&site.root.join(name), name.as_bytes());
        let response = get(addr, &format!("/{}", encoded(name))).await;
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.text(), name);
    }
    stop(server).await;
}

/// `name:stream` names an NTFS alternate data stream: `index.html::$DATA` is the file's own
/// body under another name (so another type and other header rules), `file.txt:secret` a
/// hidden stream. Both are 400 on Windows, whether or not the stream exists.
#[cfg(windows)]
#[tokio::test]
async fn alternate_data_streams_are_refused() {
    let site = site();
    // Wine keeps no streams on a Unix file system, so this write may fail there; on NTFS it
    // makes a real hidden stream.
    let stream_written = std::fs::write(site.root.join("file.txt:secret"), SECRET_MARKER).is_ok();
    eprintln!("stream file.txt:secret written: {stream_written}");
    let server = start_draft(draft_with_rules(&site.root)).await;
    let addr = server.local_addr();
    for path in [
        "/index.html::$DATA",
        "/index.html%3A%3A$DATA",
        "/file.txt:secret",
        "/file.txt%3Asecret",
        "/file.txt:secret:$DATA",
        "/assets:stream/app.js",
        "/.git::$INDEX_ALLOCATION/config",
        "/.env::$DATA",
    ] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 400, "{path}");
        assert_no_leak(path, &response);
    }
    assert_eq!(get(addr, "/file.txt").await.text(), "plain file");
    stop(server).await;
}

/// Win32 drops trailing dots and spaces, so `index.html.` would open `index.html` under a name
/// no header glob or dotfile check was written for: each such name is 400 on Windows.
#[cfg(windows)]
#[tokio::test]
async fn trailing_dots_and_spaces_are_refused() {
    let site = site();
    let server = start_draft(draft_with_rules(&site.root)).await;
    let addr = server.local_addr();
    for path in [
        "/index.html.",
        "/index.html%20",
        "/index.html.%20.",
        "/index.html...",
        "/file.txt%20%20",
        "/.env.",
        "/.env%20",
        "/.git./config",
        "/.git%20/config",
        "/assets./app.js",
        "/assets%20/app.js",
        "/assets/app.js.",
    ] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 400, "{path}");
        assert_no_leak(path, &response);
    }
    let page = get(addr, "/index.html").await;
    assert_eq!((page.status, page.header("x-rule")), (200, Some("index")));
    stop(server).await;
}

/// The 8.3 short name Windows (or Wine, whose mangled names look like `_GIT~IBP`, not
/// `GIT~1`) gave `path`'s last component, as `dir /a /x` lists it from `FindFirstFileW`;
/// `None` where the volume makes no short names. Not `GetShortPathNameW`: the workspace forbids
/// `unsafe`, and Wine's `cmd` answers `%~sI` with the long name.
#[cfg(windows)]
fn short_name(path: &Path) -> Option<String> {
    use std::os::windows::process::CommandExt;
    let long = path.file_name().unwrap().to_str().unwrap();
    let output = std::process::Command::new("cmd")
        .raw_arg(format!(
            "/d /c dir /a /x \"{}\"",
            path.parent().unwrap().display()
        ))
        .output()
        .unwrap();
    assert!(output.status.success(), "dir /x failed");
    let text = String::from_utf8_lossy(&output.stdout);
    // `12/3/2026  1:10 PM  <DIR>   _GIT~IBP     .git`: the short name precedes the long one.
    let line = text
        .lines()
        .find(|line| line.ends_with(&format!(" {long}")))
        .unwrap_or_else(|| panic!("{long} not in {text}"));
    let before = line[..line.len() - long.len()].trim_end();
    let short = before.rsplit(' ').next().unwrap();
    short.contains('~').then(|| short.to_owned())
}

/// An 8.3 short name reaches the long-named file: for `.git` that is a dot-folder under a name
/// without a dot, which the real-path check hides (404, as `/.git/config` is); for a normal
/// long name it is the file itself, served.
#[cfg(windows)]
#[tokio::test]
async fn short_names_reach_dotfiles_only_as_dotfiles() {
    let site = site();
    let names =
        [".git", ".env", "a long file name.txt"].map(|name| short_name(&site.root.join(name)));
    eprintln!("short names of .git, .env, a long file name.txt: {names:?}");
    let [Some(git), Some(env), Some(long)] = names else {
        // Short names are a per-volume setting; without them there is nothing to reach.
        eprintln!("this volume makes no 8.3 short names: nothing to test");
        return;
    };
    assert!(
        !git.starts_with('.') && !env.starts_with('.'),
        "{git} {env}"
    );
    // The file system resolves them (else the test proves nothing).
    assert_eq!(
        std::fs::read_to_string(site.root.join(&git).join("config")).unwrap(),
        SECRET_MARKER
    );

    let server = start_draft(common::draft(&site.root)).await;
    let addr = server.local_addr();
    for path in [
        format!("/{}/config", encoded(&git)),
        format!("/{}/", encoded(&git)),
        format!("/{}", encoded(&git)),
        format!("/{}/CONFIG", encoded(&git.to_lowercase())),
        format!("/{}", encoded(&env)),
    ] {
        let response = get(addr, &path).await;
        assert_eq!(response.status, 404, "{path}");
        assert_no_leak(&path, &response);
    }
    let response = get(addr, &format!("/{}", encoded(&long))).await;
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "long name")
    );
    stop(server).await;

    // With dotfiles shown the short name is the folder it names.
    let server = start_draft(ConfigDraft {
        show_dotfiles: Some(true),
        ..common::draft(&site.root)
    })
    .await;
    let response = get(server.local_addr(), &format!("/{}/config", encoded(&git))).await;
    assert_eq!(response.text(), SECRET_MARKER);
    stop(server).await;
}

/// Names Windows refuses but Unix allows are ordinary files there and are served: no file the
/// OS lets a user create is refused where it is harmless (issue 13, point 2).
#[cfg(unix)]
#[tokio::test]
async fn names_only_windows_refuses_are_served_on_unix() {
    let site = site();
    let names = [
        "notes 10:30.txt",
        "aux.txt",
        "AUX",
        "nul",
        "COM1",
        "com¹.log",
        "LPT³",
        "CON.txt",
        "trailing.",
        "trailing ",
        "index.html::$DATA",
        "file.txt:secret",
        "C:",
        "a\\b",
        "x\\..\\..\\y",
        "pipe|star*?.txt",
    ];
    for name in names {
        write_aged(&site.root.join(name), name.as_bytes());
    }
    std::fs::create_dir(site.root.join("C:x")).unwrap();
    write_aged(&site.root.join("C:x/Windows"), b"not a drive");
    let server = start_draft(common::draft(&site.root)).await;
    let addr = server.local_addr();
    for name in names {
        let response = get(addr, &format!("/{}", encoded(name))).await;
        assert_eq!(response.status, 200, "{name:?}");
        assert_eq!(response.text(), name);
    }
    assert_eq!(get(addr, "/C:x/Windows").await.text(), "not a drive");
    // A trailing-dot name is its own file, never the dotless one or a dotfile.
    assert_eq!(get(addr, "/file.txt.").await.status, 404);
    assert_eq!(get(addr, "/.env.").await.status, 404);
    stop(server).await;
}

/// Where the file system ignores case (Windows and macOS by default, probed per root), the
/// header and reload-ignore globs ignore it too, so `/INDEX.HTML` and `/Assets/App.JS` — served
/// because the OS resolves them — get the rules of `/index.html` and `/assets/**`. Both
/// spellings answer the same bytes and ETag, before and after the file changes, and the
/// dotfile rule holds in any case.
#[cfg(windows)]
#[tokio::test]
async fn case_insensitive_file_system_matches_globs_in_any_case() {
    let site = site();
    std::fs::create_dir(site.root.join("café")).unwrap();
    write_aged(&site.root.join("café/menu.html"), b"<p>menu</p>");
    let mut rules = draft_with_rules(&site.root);
    rules
        .custom_headers
        .as_mut()
        .unwrap()
        .push(rule("/café/*.html", "café"));
    let config = ServerConfig::try_from(ConfigDraft {
        reload_ignore: Some(vec![
            "node_modules/**".into(),
            "/dist/*.js".into(),
            "Ébauches/**".into(),
        ]),
        ..rules
    })
    .unwrap();
    for path in [
        "Node_Modules/x.js",
        "a/NODE_MODULES/y.css",
        "DIST/app.JS",
        "ébauches/x.css",
        "ÉBAUCHES/y.js",
    ] {
        assert!(config.reload_ignore().is_ignored(path), "{path}");
    }
    assert!(!config.reload_ignore().is_ignored("dist/sub/app.js"));
    let server = wharf_core::ServerHandle::start(config).await.unwrap();
    let addr = server.local_addr();

    for (path, rule) in [
        ("/index.html", "index"),
        ("/INDEX.HTML", "index"),
        ("/Index.Html", "index"),
        ("/assets/app.js", "assets"),
        ("/ASSETS/APP.JS", "assets"),
        ("/Assets/App.JS", "assets"),
        // Beyond ASCII too: NTFS (and Wine) fold `É` to `é`; globset alone folds only ASCII.
        ("/caf%C3%A9/menu.html", "café"),
        ("/CAF%C3%89/MENU.HTML", "café"),
    ] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("x-rule"), Some(rule), "{path}");
    }
    for path in ["/.GIT/config", "/.Git/CONFIG", "/.ENV", "/.eNv"] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 404, "{path}");
        assert_no_leak(path, &response);
    }
    same_answer_in_every_spelling(
        addr,
        &site.root,
        ["/index.html", "/INDEX.HTML", "/iNdEx.HtMl"],
    )
    .await;
    stop(server).await;
}

/// Every spelling of one file answers its current bytes with one ETag, and a validator from
/// one spelling is honoured by the others; after the file changes, all of them see the change.
#[cfg(windows)]
async fn same_answer_in_every_spelling(addr: std::net::SocketAddr, root: &Path, paths: [&str; 3]) {
    for round in ["<p>home</p>", "<p>changed home page</p>"] {
        write_aged(&root.join("index.html"), round.as_bytes());
        let mut etags = Vec::new();
        for path in paths {
            let response = get(addr, path).await;
            assert_eq!(response.page(), round, "{path}");
            etags.push(response.header("etag").unwrap().to_owned());
        }
        assert!(etags.iter().all(|etag| *etag == etags[0]), "{etags:?}");
        for path in paths {
            let response =
                common::request(addr, "GET", path, &[("If-None-Match", &etags[0])]).await;
            assert_eq!(response.status, 304, "{path}");
        }
    }
}

/// On a case-sensitive file system (Linux by default) `Assets/app.js` and `assets/app.js` are
/// two files, and each gets only the rules written for its own spelling.
#[cfg(unix)]
#[tokio::test]
async fn case_sensitive_file_system_keeps_spellings_apart() {
    let site = site();
    std::fs::create_dir(site.root.join("ASSETS")).unwrap();
    write_aged(&site.root.join("ASSETS/app.js"), b"other file");
    let config = ServerConfig::try_from(ConfigDraft {
        reload_ignore: Some(vec!["node_modules/**".into()]),
        ..draft_with_rules(&site.root)
    })
    .unwrap();
    assert!(config.reload_ignore().is_ignored("node_modules/x.js"));
    assert!(!config.reload_ignore().is_ignored("Node_Modules/x.js"));
    let server = wharf_core::ServerHandle::start(config).await.unwrap();
    let addr = server.local_addr();
    let lower = get(addr, "/assets/app.js").await;
    assert_eq!(
        (lower.text().as_str(), lower.header("x-rule")),
        ("let app;", Some("assets"))
    );
    let upper = get(addr, "/ASSETS/app.js").await;
    assert_eq!(
        (upper.text().as_str(), upper.header("x-rule")),
        ("other file", None)
    );
    assert_eq!(get(addr, "/INDEX.HTML").await.status, 404);
    stop(server).await;
}

/// macOS stores names decomposed (NFD) and browsers send them composed (NFC): a header rule
/// `/café/*.html` and a reload-ignore glob `café/**` must match `cafe\u{301}/x.html` however
/// each side is spelled, and a dot-name stays hidden in either form. The files here are stored
/// as NFD, as HFS+ does.
#[tokio::test]
async fn decomposed_names_match_composed_globs() {
    let site = site();
    let nfd = "cafe\u{301}";
    let nfc = "caf\u{e9}";
    std::fs::create_dir(site.root.join(nfd)).unwrap();
    write_aged(&site.root.join(nfd).join("x.html"), b"<p>nfd</p>");
    std::fs::create_dir(site.root.join(format!(".{nfd}"))).unwrap();
    write_aged(
        &site.root.join(format!(".{nfd}")).join("x.html"),
        SECRET_MARKER.as_bytes(),
    );
    let named = |path: String, name: &str| CustomHeaderDraft {
        path,
        name: name.into(),
        value: "yes".into(),
    };
    let config = ServerConfig::try_from(ConfigDraft {
        custom_headers: Some(vec![
            named(format!("/{nfc}/*.html"), "x-composed-rule"),
            named(format!("/{nfd}/x.*"), "x-decomposed-rule"),
        ]),
        reload_ignore: Some(vec![format!("{nfc}/**"), format!("/{nfd}.md")]),
        ..common::draft(&site.root)
    })
    .unwrap();
    for path in [
        format!("{nfd}/x.html"),
        format!("{nfc}/x.html"),
        format!("{nfc}.md"),
    ] {
        assert!(config.reload_ignore().is_ignored(&path), "{path:?}");
    }
    assert!(!config.reload_ignore().is_ignored("cafe/x.html"));
    let server = wharf_core::ServerHandle::start(config).await.unwrap();
    let addr = server.local_addr();
    // As stored (the listing links it so): served.
    let stored = get(addr, &format!("/{}/x.html", encoded(nfd))).await;
    assert_eq!((stored.status, stored.page().as_str()), (200, "<p>nfd</p>"));
    // Linux and Wine keep NFC and NFD names apart (404); macOS resolves either (200).
    let composed = get(addr, &format!("/{}/x.html", encoded(nfc))).await;
    assert!(matches!(composed.status, 200 | 404), "{}", composed.status);
    // The rules apply to either answer, whichever form each was written in.
    for response in [&stored, &composed] {
        assert_eq!(response.header("x-composed-rule"), Some("yes"));
        assert_eq!(response.header("x-decomposed-rule"), Some("yes"));
    }
    for path in [
        format!("/.{}/x.html", encoded(nfd)),
        format!("/.{}/x.html", encoded(nfc)),
    ] {
        let response = get(addr, &path).await;
        assert_eq!(response.status, 404, "{path}");
        assert_no_leak(&path, &response);
    }
    stop(server).await;
}
