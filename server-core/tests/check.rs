//! The site check (`check_site`, issue 19): a site with one of each problem gets exactly those
//! findings, at their files and lines; a clean site gets none; the options (base path,
//! cross-origin isolation, size cap) change what is reported; and the walk stays inside the
//! folder and out of dot folders.

#![allow(clippy::unwrap_used)]

mod common;

use common::check_sites::{clean_site, problem_site, site, write, PROBLEMS};
use wharf_core::{check_site, CheckError, CheckOptions, CheckReport, FindingKind, Severity};

fn check(root: &std::path::Path, options: &CheckOptions) -> CheckReport {
    check_site(root, options).unwrap()
}

/// Each finding as (code, severity, file, line).
fn places(report: &CheckReport) -> Vec<(&'static str, &'static str, String, Option<u32>)> {
    report
        .findings
        .iter()
        .map(|f| (f.kind.code(), f.severity.label(), f.file.clone(), f.line))
        .collect()
}

#[test]
fn a_site_with_one_of_each_problem_gets_exactly_those_findings() {
    let dir = problem_site();
    let report = check(dir.path(), &CheckOptions::default());
    let want: Vec<_> = PROBLEMS
        .iter()
        .map(|(code, severity, file, line)| (*code, *severity, (*file).to_owned(), *line))
        .collect();
    assert_eq!(places(&report), want, "{report:#?}");
    for finding in &report.findings {
        assert!(!finding.message.is_empty() && !finding.message.contains('\n'));
        assert!(!finding.advice.is_empty(), "{finding:?}");
    }
    assert_eq!(report.count(Severity::Error), 6);
    assert_eq!(report.count(Severity::Warning), 3);
    assert_eq!(report.files_with_findings(), 7);
    assert!(report.skipped.is_empty());
    let module = &report.findings[5];
    assert!(module.message.contains("module script"), "{module:?}");
    let case = &report.findings[6];
    assert!(case.message.contains("img/logo.png"), "{case:?}");
}

#[test]
fn a_clean_site_gets_no_findings() {
    let dir = clean_site();
    let report = check(dir.path(), &CheckOptions::default());
    assert_eq!(report.findings, [], "{report:#?}");
    assert_eq!(report.files_seen, 9);
}

#[test]
fn links_under_the_base_path_are_the_sites_own() {
    let dir = site(&[
        (
            "index.html",
            b"<script src=\"/sub/app.js\"></script>\n<script src=\"/app.js\"></script>\n\
              <a href=\"/sub/missing.html\">x</a>\n",
        ),
        ("app.js", b""),
    ]);
    let options = CheckOptions {
        base_path: Some("/sub".into()),
        ..CheckOptions::default()
    };
    let report = check(dir.path(), &options);
    let kinds: Vec<_> = places(&report)
        .into_iter()
        .map(|(code, _, _, line)| (code, line))
        .collect();
    assert_eq!(
        kinds,
        [("absolute_path", Some(2)), ("broken_link", Some(3))],
        "{report:#?}"
    );
    assert!(report.findings[0].advice.contains("/sub/"));
    let bad = CheckOptions {
        base_path: Some("sub/".into()),
        ..CheckOptions::default()
    };
    assert!(matches!(
        check_site(dir.path(), &bad),
        Err(CheckError::BadBasePath { .. })
    ));
}

#[test]
fn cross_origin_isolation_allows_shared_memory() {
    let dir = problem_site();
    let options = CheckOptions {
        cross_origin_isolation: true,
        ..CheckOptions::default()
    };
    let report = check(dir.path(), &options);
    assert!(report
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::SharedMemory));
    assert_eq!(report.findings.len(), PROBLEMS.len() - 1);
}

#[test]
fn wrong_types_for_styles_and_fonts_are_reported_by_use() {
    let dir = site(&[
        (
            "index.html",
            b"<link rel=stylesheet href=\"theme.txt\">\n<link rel=preload as=font href=\"f.fnt\">\n\
              <script src=\"code.txt\"></script><img src=\"pic.unknownext\">\n",
        ),
        ("theme.txt", b""),
        ("f.fnt", b""),
        ("code.txt", b""),
        ("pic.unknownext", b""),
    ]);
    let report = check(dir.path(), &CheckOptions::default());
    assert_eq!(
        places(&report),
        [
            ("wrong_mime", "error", "index.html".to_owned(), Some(1)),
            ("wrong_mime", "warning", "index.html".to_owned(), Some(2)),
            ("wrong_mime", "error", "index.html".to_owned(), Some(3)),
        ],
        "{report:#?}"
    );
}

#[test]
fn files_over_the_size_cap_are_skipped_and_listed() {
    let dir = problem_site();
    let options = CheckOptions {
        max_read_bytes: 64,
        ..CheckOptions::default()
    };
    let report = check(dir.path(), &options);
    assert!(
        report.skipped.contains(&"index.html".to_owned()),
        "{report:#?}"
    );
    assert!(report.findings.iter().all(|f| f.file != "index.html"));
}

#[test]
fn a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    assert!(matches!(
        check_site(&missing, &CheckOptions::default()),
        Err(CheckError::RootNotADirectory { .. })
    ));
}

#[test]
fn dot_folders_are_one_finding_and_never_entered() {
    let dir = site(&[("index.html", b"<a href=\".hidden/x.html\">x</a>")]);
    for i in 0..20 {
        write(dir.path(), &format!(".git/objects/{i}.key"), b"");
    }
    write(dir.path(), ".hidden/x.html", b"<a href=\"gone.html\">");
    let report = check(dir.path(), &CheckOptions::default());
    let files: Vec<_> = report.findings.iter().map(|f| f.file.as_str()).collect();
    // The link into `.hidden/` is broken as far as the check knows: it never reads dot
    // folders (and Wharf hides them by default).
    assert_eq!(files, [".git", "index.html"], "{report:#?}");
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_only_inside_the_folder() {
    let outside = site(&[
        (".env", b"SECRET=1"),
        ("page.html", b"<a href=\"gone.html\">"),
    ]);
    let dir = site(&[
        (
            "index.html",
            b"<a href=\"in.html\">x</a> <a href=\"alias/page.html\">y</a>",
        ),
        ("real.html", b""),
        ("real/page.html", b""),
    ]);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("real.html"), dir.path().join("in.html")).unwrap();
    // A folder linked inside the root is walked as the folder it names.
    std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("alias")).unwrap();
    let report = check(dir.path(), &CheckOptions::default());
    assert_eq!(report.findings, [], "{report:#?}");
    // The outside folder's `.env` and broken link were never seen; the linked folder was.
    assert_eq!(report.files_seen, 5);
}

#[test]
fn a_base_element_and_clean_urls_change_how_links_resolve() {
    let dir = site(&[
        (
            "docs/page.html",
            b"<a href=\"index.html\">home</a>\n<base href=\"../\">\n<a href=\"about\">about</a>\n\
              <img srcset=\"data:image/png;base64,AA== 1x, logo.png 2x\">\n",
        ),
        ("index.html", b""),
        ("about.html", b""),
        ("logo.png", b""),
        (
            "ext.html",
            b"<base href=\"https://example.com/\"><a href=\"nowhere.html\">x</a>",
        ),
    ]);
    let report = check(dir.path(), &CheckOptions::default());
    assert_eq!(
        places(&report),
        [("broken_link", "error", "docs/page.html".to_owned(), Some(3))],
        "{report:#?}"
    );
    let clean = CheckOptions {
        clean_urls: true,
        ..CheckOptions::default()
    };
    assert_eq!(check(dir.path(), &clean).findings, []);
}

/// With the SPA fallback, a page link to a route with no extension is the app's own (the
/// root page answers it); without it, or for an asset, it is broken.
#[test]
fn spa_routes_are_the_root_page_s_with_the_spa_fallback() {
    let dir = site(&[(
        "index.html",
        b"<a href=\"/dashboard\">app</a>\n<a href=\"users/42\">user</a>\n\
              <script src=\"/missing.js\"></script>\n",
    )]);
    let broken = |options: &CheckOptions| -> Vec<(String, Option<u32>)> {
        check(dir.path(), options)
            .findings
            .into_iter()
            .filter(|finding| finding.kind == FindingKind::BrokenLink)
            .map(|finding| (finding.file, finding.line))
            .collect()
    };
    let index = || "index.html".to_owned();
    assert_eq!(
        broken(&CheckOptions::default()),
        [(index(), Some(1)), (index(), Some(2)), (index(), Some(3))]
    );
    let spa = CheckOptions {
        spa_fallback: true,
        ..CheckOptions::default()
    };
    assert_eq!(
        broken(&spa),
        [(index(), Some(3))],
        "the script is still missing"
    );
}

#[test]
fn options_for_settings_take_the_served_settings_and_their_defaults() {
    let mut settings = wharf_core::ConfigDraft::default();
    assert_eq!(
        CheckOptions::for_settings(&settings),
        CheckOptions::default()
    );
    settings.clean_urls = Some(true);
    settings.spa_fallback = Some(true);
    settings.cross_origin_isolation = Some(true);
    settings.cors = Some(true);
    assert_eq!(
        CheckOptions::for_settings(&settings),
        CheckOptions {
            clean_urls: true,
            spa_fallback: true,
            cross_origin_isolation: true,
            ..CheckOptions::default()
        }
    );
}

/// The 404s pages met live (issue 19): read from the access log's session, with the page
/// that asked; only pages of this machine, only the site's own answers, and a path that
/// resolves again (the file was added) drops out at the next check.
#[tokio::test]
async fn live_404s_from_the_log_name_the_page_that_asked() {
    use common::{draft, request, start_logged};

    let dir = site(&[
        ("index.html", b"<!doctype html><p>home</p>"),
        ("blog/index.html", b"<!doctype html><p>blog</p>"),
        ("about.html", b"<!doctype html><p>about</p>"),
    ]);
    let (server, log, logs) = start_logged(draft(dir.path())).await;
    let addr = server.local_addr();
    let page = format!("http://{addr}/blog/");
    let about = format!("http://{addr}/about.html?x=1");
    let misses: [(&str, Option<&str>); 8] = [
        ("/img/missing.png?v=2", Some(&page)),
        ("/img/missing.png?v=3", Some(&page)),
        ("/js/app.js", Some(&about)),
        ("/fixed-later.css", Some(&page)),
        ("/favicon.ico", Some(&page)),
        ("/no-referer.png", None),
        ("/from-elsewhere.png", Some("https://evil.example/")),
        (
            "/.well-known/appspecific/com.chrome.devtools.json",
            Some(&page),
        ),
    ];
    for (target, referer) in misses {
        let headers: Vec<(&str, &str)> = referer.map(|r| ("Referer", r)).into_iter().collect();
        let response = request(addr, "GET", target, &headers).await;
        assert_eq!(response.status, 404, "{target}");
    }
    log.sync();
    write(dir.path(), "fixed-later.css", b"body{}");
    let options = CheckOptions {
        traffic: Some(wharf_core::Traffic {
            log_dir: logs.path().to_owned(),
            session: None,
        }),
        ..CheckOptions::default()
    };
    let report = check(dir.path(), &options);
    assert!(report.live);
    let live: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::LiveNotFound)
        .map(|f| {
            (
                f.severity.label(),
                f.file.as_str(),
                f.line,
                f.message.as_str(),
            )
        })
        .collect();
    assert_eq!(live.len(), 3, "{live:#?}");
    // In the report's order: by file, then message.
    assert_eq!(
        live[0].1, "about.html",
        "the page's file, its query dropped"
    );
    assert_eq!(live[0].0, "error");
    assert!(live[0].3.starts_with("`/js/app.js` got 404"), "{live:?}");
    assert_eq!(live[1].0, "warning");
    assert_eq!(live[1].1, "blog/index.html");
    assert!(live[1].3.starts_with("`/favicon.ico` got 404"), "{live:?}");
    assert_eq!(live[2].0, "error");
    assert_eq!(live[2].1, "blog/index.html");
    assert_eq!(live[2].2, None);
    assert!(
        live[2].3.starts_with(&format!(
            "`/img/missing.png` got 404 when {page} asked for it (2 times, last at 20"
        )),
        "{live:?}"
    );
    // Without traffic, none; a log folder with no session is a clear error.
    assert!(!check(dir.path(), &CheckOptions::default()).live);
    let empty = tempfile::tempdir().unwrap();
    let err = check_site(
        dir.path(),
        &CheckOptions {
            traffic: Some(wharf_core::Traffic {
                log_dir: empty.path().to_owned(),
                session: None,
            }),
            ..CheckOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, CheckError::Log(_)), "{err}");
    assert!(err.to_string().starts_with("live traffic: "), "{err}");
    server.stop(std::time::Duration::from_secs(1)).await;
}
