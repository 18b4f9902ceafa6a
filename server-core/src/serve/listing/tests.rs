use std::time::Duration;

use proptest::prelude::*;

use super::entries::*;
use super::query::*;
use super::render::*;
use percent_encoding::{percent_decode, utf8_percent_encode};
use std::time::{SystemTime, UNIX_EPOCH};

fn file(name: &str, size: u64, secs: u64) -> Entry {
    Entry {
        name: name.into(),
        is_dir: false,
        size,
        modified: Some(UNIX_EPOCH + Duration::from_secs(secs)),
    }
}

fn folder(name: &str, secs: u64) -> Entry {
    Entry {
        is_dir: true,
        size: 0,
        ..file(name, 0, secs)
    }
}

fn query(raw: &str) -> ListingQuery {
    ListingQuery::parse(Some(raw))
}

/// The entry hrefs in page order, without `./` (folders keep their `/`).
fn row_links(html: &str) -> Vec<&str> {
    html.split("<a href=\"./")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect()
}

fn mixed() -> Vec<Entry> {
    vec![
        file("b.txt", 300, 20),
        folder("zeta", 10),
        file("A.txt", 100, 30),
        folder("alpha", 30),
        file("c.txt", 200, 10),
        folder("Mid", 20),
    ]
}

#[test]
fn hostile_names_are_escaped_and_encoded() {
    let entries = [
        file("<img src=x onerror=alert(1)>\"'.html", 3, 0),
        file("a&lt;b", 1, 0),
        file("100%#?.txt", 1, 0),
        file("line\nbreak", 1, 0),
        folder("<b>dir", 0),
    ];
    let html = render(&["a&b".into(), "<i>".into()], &entries, &query(""));
    assert!(!html.contains("<img") && !html.contains("<b>") && !html.contains("<i>"));
    assert!(html.contains(">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;.html</a>"));
    assert!(html.contains("href=\"./%3Cimg%20src=x%20onerror=alert(1)%3E%22%27.html\""));
    assert!(
        html.contains("href=\"./a&amp;lt;b\">a&amp;lt;b</a>"),
        "{html}"
    );
    assert!(html.contains("href=\"./100%25%23%3F.txt\""));
    assert!(html.contains("href=\"./line%0Abreak\""));
    assert!(html.contains("href=\"./%3Cb%3Edir/\">&lt;b&gt;dir/</a>"));
    assert!(html.contains("<h1>Index of /a&amp;b/&lt;i&gt;/</h1>"));
}

#[test]
fn bidi_and_control_characters_are_shown_written_out() {
    let controls = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\n', '\u{7F}', '\u{85}',
    ];
    let names: Vec<String> = controls.iter().map(|c| format!("a{c}b.txt")).collect();
    let entries: Vec<Entry> = names.iter().map(|name| file(name, 1, 0)).collect();
    let html = render(
        &["dir\u{202E}gpj.exe".into()],
        &entries,
        &query("q=%E2%80%AE"),
    );
    for c in controls {
        let shown = format!(
            "a<span class=\"ctl\">&lt;U+{:04X}&gt;</span>b.txt",
            u32::from(c)
        );
        let unfiltered = render(&[], &entries, &query(""));
        assert!(unfiltered.contains(&shown), "{c:?} not shown as {shown}");
        let href = format!(
            "href=\"./a{}b.txt\"",
            utf8_percent_encode(&c.to_string(), SEGMENT)
        );
        assert!(
            unfiltered.contains(&href),
            "{href}: the link keeps the name"
        );
        assert!(!unfiltered.contains(c) || c == '\n', "{c:?} appears raw");
    }
    assert!(html.contains("<title>Index of /dir&lt;U+202E&gt;gpj.exe/</title>"));
    assert!(
        html.contains("<h1>Index of /dir<span class=\"ctl\">&lt;U+202E&gt;</span>gpj.exe/</h1>")
    );
    assert!(html.contains("matching &quot;<span class=\"ctl\">&lt;U+202E&gt;</span>&quot;"));
    // The filter form sends the filter back as it was typed.
    assert!(html.contains("value=\"\u{202E}\""));
}

#[test]
fn every_link_is_relative() {
    let entries = [
        file("/evil.example", 1, 0),
        file("javascript:alert(1)", 1, 0),
        folder("\\\\host", 0),
    ];
    for raw in ["", "sort=size&q=e"] {
        let html = render(&["sub".into()], &entries, &query(raw));
        for href in html.split("href=\"").skip(1) {
            assert!(
                href.starts_with("./") || href.starts_with("../") || href.starts_with('?'),
                "{href}"
            );
            assert!(!href.starts_with(".//"), "{href}");
        }
    }
    let html = render(&["sub".into()], &entries, &query(""));
    assert!(html.contains("href=\"./%2Fevil.example\""));
    assert!(html.contains("href=\"./javascript:alert(1)\""));
    assert!(html.contains("href=\"./%5C%5Chost/\""));
}

#[test]
fn hostile_filter_is_escaped_everywhere() {
    let q = query("q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E%26'");
    assert_eq!(q.filter.as_deref(), Some("\"><script>alert(1)</script>&'"));
    let html = render(&[], &[file("x", 1, 0)], &q);
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;\""));
    assert!(html.contains(
        "showing 0 matching &quot;&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;&quot;"
    ));
    assert!(html.contains(
        "href=\"?sort=size&amp;order=asc&amp;q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E%26%27\""
    ));
    assert!(html.contains("No names match."));
}

#[test]
fn folders_come_first_for_every_sort_and_order() {
    for sort in ["name", "size", "date"] {
        for order in ["asc", "desc"] {
            let html = render(&[], &mixed(), &query(&format!("sort={sort}&order={order}")));
            let links = row_links(&html);
            assert_eq!(links.len(), 6);
            assert!(
                links[..3].iter().all(|l| l.ends_with('/')),
                "{sort} {order}"
            );
            assert!(
                links[3..].iter().all(|l| !l.ends_with('/')),
                "{sort} {order}"
            );
        }
    }
}

#[test]
fn each_sort_key_and_order() {
    let cases = [
        ("", ["alpha/", "Mid/", "zeta/", "A.txt", "b.txt", "c.txt"]),
        (
            "order=desc",
            ["zeta/", "Mid/", "alpha/", "c.txt", "b.txt", "A.txt"],
        ),
        // Folders have no size: name order among them, in either direction.
        (
            "sort=size",
            ["alpha/", "Mid/", "zeta/", "A.txt", "c.txt", "b.txt"],
        ),
        (
            "sort=size&order=desc",
            ["alpha/", "Mid/", "zeta/", "b.txt", "c.txt", "A.txt"],
        ),
        (
            "sort=date",
            ["zeta/", "Mid/", "alpha/", "c.txt", "b.txt", "A.txt"],
        ),
        (
            "sort=date&order=desc",
            ["alpha/", "Mid/", "zeta/", "A.txt", "b.txt", "c.txt"],
        ),
    ];
    for (raw, expected) in cases {
        assert_eq!(
            row_links(&render(&[], &mixed(), &query(raw))),
            expected,
            "{raw}"
        );
    }
}

#[test]
fn name_sort_ignores_case_then_breaks_ties_exactly() {
    let entries = [
        file("b", 0, 0),
        file("a", 0, 0),
        file("B", 0, 0),
        file("A", 0, 0),
        file("Éa", 0, 0),
        file("éb", 0, 0),
    ];
    let html = render(&[], &entries, &query(""));
    assert_eq!(row_links(&html), ["A", "a", "B", "b", "%C3%89a", "%C3%A9b"]);
}

#[test]
fn unknown_dates_sort_as_oldest() {
    let mut undated = file("undated", 0, 0);
    undated.modified = None;
    let html = render(&[], &[file("dated", 0, 5), undated], &query("sort=date"));
    assert_eq!(row_links(&html), ["undated", "dated"]);
    assert!(html.contains("<td class=\"n\">-</td></tr>"));
}

#[test]
fn column_headers_are_links_that_keep_the_filter() {
    let html = render(&[], &mixed(), &query("sort=size&order=asc&q=a+b"));
    assert!(html.contains(
        "<th class=\"n\" aria-sort=\"ascending\"><a href=\"?sort=size&amp;order=desc&amp;q=a%20b\">Size ▲</a></th>"
    ), "{html}");
    assert!(html.contains("<a href=\"?sort=name&amp;order=asc&amp;q=a%20b\">Name</a>"));
    assert!(html.contains("<a href=\"?sort=date&amp;order=asc&amp;q=a%20b\">Modified</a>"));
    assert!(html.contains("<input type=\"hidden\" name=\"sort\" value=\"size\">"));
    assert!(!html.contains("name=\"order\""));
    assert!(html.contains("<a href=\"?sort=size&amp;order=asc\">Clear</a>"));
    let plain = render(&[], &mixed(), &query(""));
    assert!(plain.contains("<form method=\"get\""));
    assert!(!plain.contains("type=\"hidden\"") && !plain.contains("Clear"));
    assert!(!plain.contains("<script"));
}

#[test]
fn filter_matches_a_substring_ignoring_case() {
    let entries = [
        file("README.md", 0, 0),
        file("unread.txt", 0, 0),
        file("notes.txt", 0, 0),
        folder("Readings", 0),
        file("CAFÉ.txt", 0, 0),
    ];
    let html = render(&[], &entries, &query("q=rEaD"));
    assert_eq!(row_links(&html), ["Readings/", "README.md", "unread.txt"]);
    assert!(html.contains("1 folder, 4 files — showing 3 matching &quot;rEaD&quot;"));
    let html = render(&[], &entries, &query("q=caf%C3%A9"));
    assert_eq!(row_links(&html), ["CAF%C3%89.txt"]);
    assert!(contains_folded("İstanbul", &fold_case("i̇st")));
    assert!(!contains_folded("ab", "abc"));
}

#[test]
fn header_counts_entries_and_parent_link_is_absent_at_the_root() {
    let root = render(&[], &mixed(), &query(""));
    assert!(root.contains("<h1>Index of /</h1>"));
    assert!(root.contains("3 folders, 3 files</p>"));
    assert!(!root.contains("href=\"../\""));
    assert!(!root.contains("showing"));
    let sub = render(&["docs".into()], &[file("one", 1, 0)], &query(""));
    assert!(sub.contains("<h1>Index of /docs/</h1>"));
    assert!(sub.contains("0 folders, 1 file</p>"));
    assert!(sub.contains("<a href=\"../\">../</a>"));
    assert!(sub.contains("color-scheme:light dark"));
    assert!(sub.contains("font-variant-numeric:tabular-nums"));
}

#[test]
fn query_parsing_is_total() {
    let default = ListingQuery::default();
    for raw in [
        "",
        "&&&",
        "=",
        "==",
        "sort",
        "sort=",
        "sort=SIZE",
        "sort=size=1",
        "order=up",
        "%zz",
        "%73ort=size",
        "q",
        "q=",
        "x=1&y",
    ] {
        assert_eq!(query(raw), default, "{raw}");
    }
    assert_eq!(ListingQuery::parse(None), default);
    assert_eq!(
        query("sort=date&order=desc&sort=bogus&q=a+b%2Bc&foo=bar"),
        ListingQuery {
            sort: SortKey::Date,
            descending: true,
            filter: Some("a b+c".into()),
        }
    );
    assert_eq!(query("sort=size&sort=name&order=desc&order=asc"), default);
    assert_eq!(query("q=a%zz%").filter.as_deref(), Some("a%zz%"));
    assert_eq!(query("q=%FF").filter.as_deref(), Some("\u{FFFD}"));
    assert_eq!(query("q=x&q=").filter, None);
}

#[test]
fn sizes_read_like_a_human_wrote_them() {
    assert_eq!(human_size(0), "0 B");
    assert_eq!(human_size(1023), "1023 B");
    assert_eq!(human_size(1024), "1.0 KiB");
    assert_eq!(human_size(1536), "1.5 KiB");
    assert_eq!(human_size(10 * 1024 * 1024), "10.0 MiB");
    assert_eq!(human_size(1024 * 1024 - 1), "1.0 MiB");
    assert_eq!(human_size(1023 * 1024 + 900), "1023.9 KiB");
    assert_eq!(human_size(u64::MAX), "16.0 EiB");
}

#[test]
fn dates_are_utc_minutes() {
    let date = |time: SystemTime| {
        let mut out = String::new();
        push_date(&mut out, time);
        out
    };
    let after = |secs| date(UNIX_EPOCH + Duration::from_secs(secs));
    let before = |secs| date(UNIX_EPOCH - Duration::from_secs(secs));
    assert_eq!(after(0), "1970-01-01 00:00");
    assert_eq!(after(951_782_400), "2000-02-29 00:00");
    assert_eq!(after(1_709_210_096), "2024-02-29 12:34");
    assert_eq!(after(253_402_300_799), "9999-12-31 23:59");
    assert_eq!(before(1), "1969-12-31 23:59");
    assert_eq!(
        date(UNIX_EPOCH - Duration::from_millis(60_500)),
        "1969-12-31 23:58"
    );
    // Windows's clock starts in 1601; a file there cannot be dated earlier.
    if cfg!(windows) {
        assert_eq!(before(11_644_473_600), "1601-01-01 00:00");
    } else {
        assert_eq!(before(62_135_596_800), "0001-01-01 00:00");
    }
}

#[test]
fn ten_thousand_entries_render_every_name() {
    let entries: Vec<Entry> = (0..10_000)
        .rev()
        .map(|i| {
            let name = format!("file-{i:05}.txt");
            if i % 10 == 0 {
                folder(&name, i)
            } else {
                file(&name, i * 37, i)
            }
        })
        .collect();
    let html = render(&["big".into()], &entries, &query(""));
    assert!(html.contains("1000 folders, 9000 files"));
    let links = row_links(&html);
    assert_eq!(links.len(), 10_000);
    let mut expected: Vec<String> = (0..10_000)
        .filter(|i| i % 10 == 0)
        .map(|i| format!("file-{i:05}.txt/"))
        .collect();
    expected.extend(
        (0..10_000)
            .filter(|i| i % 10 != 0)
            .map(|i| format!("file-{i:05}.txt")),
    );
    assert_eq!(links, expected);
}

#[tokio::test]
async fn read_entries_skips_dotfiles_and_follows_links() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("a.txt"), "hello").unwrap();
    std::fs::write(root.join(".env"), "secret").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("sub"), root.join("link-to-sub")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("link-to-a")).unwrap();
        std::os::unix::fs::symlink(root.join("gone"), root.join("dangling")).unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::os::unix::fs::symlink(root.join(".git"), root.join("link-to-git")).unwrap();
        std::os::unix::fs::symlink(".env", root.join("link-to-env")).unwrap();
    }
    // Linux file systems take any bytes; APFS refuses names that are not UTF-8.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff.txt");
        std::fs::write(root.join(name), "x").unwrap();
    }

    let root = &dunce::canonicalize(root).unwrap();
    let mut entries = read_entries(root, root, false).await.unwrap();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    #[cfg(unix)]
    assert_eq!(names, ["a.txt", "link-to-a", "link-to-sub", "sub"]);
    #[cfg(not(unix))]
    assert_eq!(names, ["a.txt", "sub"]);
    let by_name = |name: &str| entries.iter().find(|e| e.name == name).unwrap();
    assert!(!by_name("a.txt").is_dir);
    assert_eq!(by_name("a.txt").size, 5);
    assert!(by_name("a.txt").modified.is_some());
    assert!(by_name("sub").is_dir);
    assert_eq!(by_name("sub").size, 0);
    #[cfg(unix)]
    {
        assert!(by_name("link-to-sub").is_dir);
        assert_eq!(by_name("link-to-a").size, 5);
    }

    let with_dotfiles = read_entries(root, root, true).await.unwrap();
    assert!(with_dotfiles.iter().any(|e| e.name == ".env"));
    #[cfg(unix)]
    for name in ["link-to-git", "link-to-env"] {
        assert!(with_dotfiles.iter().any(|e| e.name == name), "{name}");
    }
    assert!(read_entries(&root.join("missing"), root, false)
        .await
        .is_err());
}

proptest! {
    #[test]
    fn escaped_text_has_no_markup(name in any::<String>()) {
        let escaped = escape(&name);
        prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
    }

    /// The only markup characters in a page come from the template: a page for any name
    /// has exactly as many as the page for a harmless one.
    #[test]
    fn names_add_no_markup(
        name in prop_oneof![any::<String>(), "[<>&\"'%#?/\\\\\n =a-z;]{1,24}"],
        is_dir in any::<bool>(),
    ) {
        let page = |name: &str| {
            let entry = Entry { name: name.into(), is_dir, size: 1, modified: None };
            render(&[name.into()], &[entry], &ListingQuery::default())
        };
        let (hostile, plain) = (page(&name), page("x"));
        // The frames around written-out controls are the template's too.
        let hostile = hostile.replace("<span class=\"ctl\">", "").replace("</span>", "");
        for markup in ['<', '>', '"', '\''] {
            prop_assert_eq!(hostile.matches(markup).count(), plain.matches(markup).count());
        }
        let href: String = utf8_percent_encode(&name, SEGMENT).collect();
        prop_assert_eq!(percent_decode(href.as_bytes()).decode_utf8().unwrap(), name.as_str());
    }

    #[test]
    fn filters_add_no_markup(
        raw in prop_oneof![any::<String>(), "[<>&\"'%#?+=a-z]{0,24}"],
    ) {
        let parsed = ListingQuery::parse(Some(&format!("sort=date&order=desc&q={raw}")));
        let filter = parsed.filter.clone().unwrap_or_default();
        let page = |filter: &str| {
            let query = ListingQuery { filter: Some(filter.into()), ..parsed.clone() };
            render(&[], &[], &query)
        };
        let (hostile, plain) = (page(&filter), page("x"));
        // A control character (`q=%00`) is written out in the template's own frame.
        let hostile = hostile.replace("<span class=\"ctl\">", "").replace("</span>", "");
        for markup in ['<', '>', '"', '\''] {
            prop_assert_eq!(hostile.matches(markup).count(), plain.matches(markup).count());
        }
    }
}
