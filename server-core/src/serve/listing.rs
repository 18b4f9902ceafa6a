//! HTML listings of folders that have no `index.html`.
//!
//! This module reads a folder's entries ([`read_entries`]), parses the listing's query string
//! ([`ListingQuery::parse`]) and renders the page ([`render`]): folders first, sorted by name,
//! size or date, optionally filtered by name, with no JavaScript at all (sorting is plain
//! links, filtering a plain GET form). File names are chosen by whoever wrote into the folder
//! and the query string by whoever sent the request, so every name and echoed value is
//! HTML-escaped and every link is percent-encoded and relative (`./name`, `?sort=…`). Bidi
//! and control characters in shown names are written out (`<U+202E>`), so a name cannot
//! disguise itself; its link still names the file exactly.
//! It does not decide what may be served: that is `resolve`'s job, and a listed name may
//! still be refused there.

use std::cmp::Ordering;
use std::fmt::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use time::UtcDateTime;

use crate::serve::resolve::DotDepth;

/// Bytes that must be encoded in one path segment of a link.
pub(crate) const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'^')
    .add(b'|');

/// Bytes encoded in a query value written into a link: everything but RFC 3986 unreserved,
/// so the value can hold no `&`, `#` or HTML-significant byte.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const STYLE: &str = ":root{color-scheme:light dark}\
body{font:15px/1.45 system-ui,sans-serif;max-width:64em;margin:2em auto;padding:0 1em}\
h1{font-size:1.3em;font-weight:600;overflow-wrap:anywhere}\
.meta{opacity:.7}form{margin:1em 0}\
table{border-collapse:collapse;width:100%}\
th,td{padding:.3em 1em .3em 0;text-align:left;vertical-align:top}\
th{border-bottom:1px solid rgba(128,128,128,.4)}th a{color:inherit}\
td:first-child{overflow-wrap:anywhere}\
.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\
a{text-decoration:none}a:hover{text-decoration:underline}\
tbody tr:hover{background:rgba(128,128,128,.12)}\
.ctl{font:.8em ui-monospace,monospace;padding:0 .2em;border:1px solid currentColor;\
border-radius:.25em;opacity:.75}";

/// One row of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The file or folder name.
    pub name: String,
    /// Whether it is a folder (symlinks are followed).
    pub is_dir: bool,
    /// Size in bytes; 0 for folders, and ignored for them when sorting.
    pub size: u64,
    /// Last modification time, if the platform reports one.
    pub modified: Option<SystemTime>,
}

/// Reads the visible entries of `dir`, in no particular order ([`render`] sorts).
///
/// Dotfiles are left out unless `show_dotfiles`, and so are symlinks that lead into a dot-named
/// file or folder below `root` (the served folder, canonical), which `service` would answer as
/// hidden; names that are not UTF-8 are left out because no URL could name them; dangling
/// symlinks, and entries that vanish while being read, are left out because they could not be
/// served. A symlink is followed, so a link to a folder lists as a folder with the target's
/// size and date.
///
/// The whole folder is read in one blocking task (one thread hop, not one per entry).
///
/// # Errors
/// When `dir` cannot be opened or read. Dropping the future does not stop the read: it runs
/// to the end and its result is discarded.
pub(crate) async fn read_entries(
    dir: &Path,
    root: &Path,
    show_dotfiles: bool,
) -> std::io::Result<Vec<Entry>> {
    let (dir, root) = (dir.to_path_buf(), root.to_path_buf());
    tokio::task::spawn_blocking(move || read_entries_blocking(&dir, &root, show_dotfiles))
        .await
        .map_err(std::io::Error::other)?
}

fn read_entries_blocking(
    dir: &Path,
    root: &Path,
    show_dotfiles: bool,
) -> std::io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') && !show_dotfiles {
            continue;
        }
        // The type usually comes with the directory entry (d_type), no stat needed. Only
        // symlinks are followed; for anything else the entry's own (lstat) metadata is
        // the target's.
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let meta = if file_type.is_symlink() {
            if !show_dotfiles && leads_into_dots(&entry.path(), root) {
                continue;
            }
            std::fs::metadata(entry.path())
        } else {
            entry.metadata()
        };
        let Ok(meta) = meta else {
            continue;
        };
        let is_dir = meta.is_dir();
        entries.push(Entry {
            name,
            is_dir,
            size: if is_dir { 0 } else { meta.len() },
            modified: meta.modified().ok(),
        });
    }
    Ok(entries)
}

/// Whether the symlink at `link` resolves inside `root` through a dot-named component.
fn leads_into_dots(link: &Path, root: &Path) -> bool {
    dunce::canonicalize(link)
        .is_ok_and(|real| real.starts_with(root) && DotDepth::of(&real).below(root))
}

/// The column a listing is sorted by. Folders always come before files, whatever the key
/// and order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum SortKey {
    /// `sort=name`: case-insensitive, ties broken by the exact name. The default.
    #[default]
    Name,
    /// `sort=size`: by size in bytes; folders have no size and stay in name order.
    Size,
    /// `sort=date`: by modification time; unknown times sort as the oldest.
    Date,
}

impl SortKey {
    fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Date => "date",
        }
    }
}

/// How to present a listing, taken from the request's query string.
/// Default: by name, ascending, unfiltered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct ListingQuery {
    /// The sort column (`sort=name|size|date`). Default: [`SortKey::Name`].
    pub sort: SortKey,
    /// Reverse the order within folders and within files (`order=desc`). Default: `false`.
    pub descending: bool,
    /// Show only names that contain this text, ignoring case (`q=`). Default: `None`.
    pub filter: Option<String>,
}

impl ListingQuery {
    /// Parses a query string (the part after `?`). Never fails: unknown parameters, unknown
    /// values and malformed pairs are ignored, and the last valid value of a parameter wins.
    /// `q` is percent-decoded with `+` as a space (invalid UTF-8 becomes U+FFFD); an empty
    /// `q` means no filter.
    ///
    /// ```ignore
    /// use wharf_core::listing::{ListingQuery, SortKey};
    ///
    /// let query = ListingQuery::parse(Some("sort=size&order=desc&q=read+me&x=%zz"));
    /// assert_eq!(query.sort, SortKey::Size);
    /// assert!(query.descending);
    /// assert_eq!(query.filter.as_deref(), Some("read me"));
    /// assert_eq!(ListingQuery::parse(None), ListingQuery::default());
    /// ```
    pub(crate) fn parse(query: Option<&str>) -> ListingQuery {
        let mut parsed = ListingQuery::default();
        for pair in query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value) {
                ("sort", "name") => parsed.sort = SortKey::Name,
                ("sort", "size") => parsed.sort = SortKey::Size,
                ("sort", "date") => parsed.sort = SortKey::Date,
                ("order", "asc") => parsed.descending = false,
                ("order", "desc") => parsed.descending = true,
                ("q", value) => {
                    let value = decode_form_value(value);
                    parsed.filter = (!value.is_empty()).then_some(value);
                }
                _ => {}
            }
        }
        parsed
    }
}

/// `application/x-www-form-urlencoded` value decoding, which is what a GET form sends.
fn decode_form_value(value: &str) -> String {
    let bytes: Vec<u8> = value
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&bytes).decode_utf8_lossy().into_owned()
}

/// Renders the listing page for the folder at URL path `segments` (decoded, as in
/// [`SitePath`](crate::serve::resolve::SitePath)).
///
/// `entries` may be in any order and is left untouched: the rows that pass `query.filter`
/// are sorted by reference. Links are relative to the folder's own URL, which ends in `/`.
/// The header counts every entry; with a filter it also says how many are shown.
pub(crate) fn render(segments: &[String], entries: &[Entry], query: &ListingQuery) -> String {
    let needle = query.filter.as_deref().map(fold_case);
    let mut rows: Vec<&Entry> = entries
        .iter()
        .filter(|entry| {
            needle
                .as_deref()
                .is_none_or(|needle| contains_folded(&entry.name, needle))
        })
        .collect();
    rows.sort_unstable_by(|a, b| compare(a, b, query));
    let folders = entries.iter().filter(|entry| entry.is_dir).count();
    let files = entries.len() - folders;

    // Escaping and encoding can make a row longer; this is a guess that fits most names.
    let capacity = 2048
        + rows
            .iter()
            .map(|entry| 2 * entry.name.len() + 128)
            .sum::<usize>();
    let mut html = String::with_capacity(capacity);
    html.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Index of ",
    );
    push_title(&mut html, segments, false);
    html.push_str("</title><style>");
    html.push_str(STYLE);
    html.push_str("</style></head>\n<body><h1>Index of ");
    push_title(&mut html, segments, true);
    html.push_str("</h1>\n<p class=\"meta\">");
    push_count(&mut html, folders, "folder", "folders");
    html.push_str(", ");
    push_count(&mut html, files, "file", "files");
    if let Some(filter) = &query.filter {
        html.push_str(" — showing ");
        push_number(&mut html, rows.len() as u64);
        html.push_str(" matching &quot;");
        push_visible(&mut html, filter, true);
        html.push_str("&quot;");
    }
    html.push_str("</p>\n");
    push_filter_form(&mut html, query);
    html.push_str("<table>\n<thead><tr>");
    push_column_header(&mut html, query, SortKey::Name, "Name", "<th");
    push_column_header(&mut html, query, SortKey::Size, "Size", "<th class=\"n\"");
    push_column_header(
        &mut html,
        query,
        SortKey::Date,
        "Modified",
        "<th class=\"n\"",
    );
    html.push_str("</tr></thead>\n<tbody>\n");
    if !segments.is_empty() {
        html.push_str(
            "<tr><td><a href=\"../\">../</a></td><td class=\"n\"></td><td class=\"n\"></td></tr>\n",
        );
    }
    if rows.is_empty() && query.filter.is_some() {
        html.push_str("<tr><td colspan=\"3\" class=\"meta\">No names match.</td></tr>\n");
    }
    for entry in rows {
        push_row(&mut html, entry);
    }
    html.push_str("</tbody></table>\n</body></html>\n");
    html
}

fn push_title(html: &mut String, segments: &[String], markup: bool) {
    html.push('/');
    for segment in segments {
        push_visible(html, segment, markup);
        html.push('/');
    }
}

fn push_count(html: &mut String, count: usize, one: &str, many: &str) {
    push_number(html, count as u64);
    html.push(' ');
    html.push_str(if count == 1 { one } else { many });
}

/// A GET form needs no script; it keeps a non-default sort in hidden inputs.
fn push_filter_form(html: &mut String, query: &ListingQuery) {
    html.push_str(
        "<form method=\"get\" role=\"search\"><input type=\"search\" name=\"q\" \
         placeholder=\"Filter by name\" aria-label=\"Filter by name\" value=\"",
    );
    if let Some(filter) = &query.filter {
        escape_into(html, filter);
    }
    html.push_str("\">");
    if query.sort != SortKey::Name {
        html.push_str("<input type=\"hidden\" name=\"sort\" value=\"");
        html.push_str(query.sort.as_str());
        html.push_str("\">");
    }
    if query.descending {
        html.push_str("<input type=\"hidden\" name=\"order\" value=\"desc\">");
    }
    html.push_str(" <button>Filter</button>");
    if query.filter.is_some() {
        html.push_str(" <a href=\"");
        push_sort_href(html, query.sort, query.descending, None);
        html.push_str("\">Clear</a>");
    }
    html.push_str("</form>\n");
}

/// A column header is a link to this column's sort: the current column flips its order,
/// another column starts ascending. The filter is kept.
fn push_column_header(
    html: &mut String,
    query: &ListingQuery,
    key: SortKey,
    label: &str,
    open_th: &str,
) {
    let current = query.sort == key;
    html.push_str(open_th);
    if current {
        html.push_str(if query.descending {
            " aria-sort=\"descending\""
        } else {
            " aria-sort=\"ascending\""
        });
    }
    html.push_str("><a href=\"");
    push_sort_href(
        html,
        key,
        current && !query.descending,
        query.filter.as_deref(),
    );
    html.push_str("\">");
    html.push_str(label);
    if current {
        html.push_str(if query.descending { " ▼" } else { " ▲" });
    }
    html.push_str("</a></th>");
}

/// `?sort=…&order=…[&q=…]`, already HTML-escaped: a query-only reference stays on this folder.
fn push_sort_href(html: &mut String, key: SortKey, descending: bool, filter: Option<&str>) {
    html.push_str("?sort=");
    html.push_str(key.as_str());
    html.push_str(if descending {
        "&amp;order=desc"
    } else {
        "&amp;order=asc"
    });
    if let Some(filter) = filter {
        html.push_str("&amp;q=");
        html.extend(utf8_percent_encode(filter, QUERY_VALUE));
    }
}

fn push_row(html: &mut String, entry: &Entry) {
    // `./` keeps the link relative even for names like `a:b` (a scheme) or `//x` (which
    // cannot reach here unencoded anyway: `/` is in SEGMENT).
    html.push_str("<tr><td><a href=\"./");
    for chunk in utf8_percent_encode(&entry.name, SEGMENT) {
        // SEGMENT leaves `&` as is; in an attribute it must be `&amp;` or `a&lt;b` breaks.
        escape_into(html, chunk);
    }
    if entry.is_dir {
        html.push('/');
    }
    html.push_str("\">");
    push_visible(html, &entry.name, true);
    if entry.is_dir {
        html.push('/');
    }
    html.push_str("</a></td><td class=\"n\">");
    if entry.is_dir {
        html.push('-');
    } else {
        push_human_size(html, entry.size);
    }
    html.push_str("</td><td class=\"n\">");
    match entry.modified {
        Some(time) => push_date(html, time),
        None => html.push('-'),
    }
    html.push_str("</td></tr>\n");
}

fn compare(a: &Entry, b: &Entry, query: &ListingQuery) -> Ordering {
    // Folders first in every sort: `descending` reverses each group, not the page.
    b.is_dir.cmp(&a.is_dir).then_with(|| {
        let primary = match query.sort {
            SortKey::Name => compare_names(&a.name, &b.name),
            SortKey::Size if a.is_dir => Ordering::Equal,
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Date => a.modified.cmp(&b.modified),
        };
        let primary = if query.descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| compare_names(&a.name, &b.name))
    })
}

/// Case-insensitive, then exact, so the order is total and does not depend on read order.
fn compare_names(a: &str, b: &str) -> Ordering {
    // The ASCII path gives the same order as the Unicode one, several times faster; it
    // dominates sorting a large folder.
    let folded = if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|byte| byte.to_ascii_lowercase())
            .cmp(b.bytes().map(|byte| byte.to_ascii_lowercase()))
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .cmp(b.chars().flat_map(char::to_lowercase))
    };
    folded.then_with(|| a.cmp(b))
}

/// Lower-cases char by char, the same way [`contains_folded`] reads the haystack.
fn fold_case(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Whether `name` contains `needle` (already [`fold_case`]d), ignoring case, without
/// allocating.
fn contains_folded(name: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if name.is_ascii() && needle.is_ascii() {
        let needle = needle.as_bytes();
        return name
            .as_bytes()
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle));
    }
    name.char_indices().any(|(start, _)| {
        let mut folded = name[start..].chars().flat_map(char::to_lowercase);
        needle.chars().all(|c| folded.next() == Some(c))
    })
}

/// Whether `c` reorders or hides the text around it when shown raw: Unicode's explicit
/// bidirectional formatting characters (embeddings and overrides U+202A–U+202E, isolates
/// U+2066–U+2069, the marks U+200E, U+200F and U+061C), and control characters. A file named
/// `evil\u{202E}txt.exe` reads as `evilexe.txt` if the U+202E is shown raw.
fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    ) || c.is_control()
}

/// Appends a name for people to read: HTML-escaped, with every [`is_deceptive`] character
/// written out as `<U+202E>`, in a framed span when `markup` (element content) and as plain
/// text otherwise (`<title>`, where tags are not read).
fn push_visible(out: &mut String, text: &str, markup: bool) {
    // Every such character is a C0 control, DEL or not ASCII: most names skip the scan.
    if text.bytes().all(|byte| (b' '..0x7f).contains(&byte)) {
        return escape_into(out, text);
    }
    let mut rest = text;
    while let Some((at, c)) = rest.char_indices().find(|&(_, c)| is_deceptive(c)) {
        escape_into(out, &rest[..at]);
        if markup {
            out.push_str("<span class=\"ctl\">");
        }
        let _ = write!(out, "&lt;U+{:04X}&gt;", u32::from(c));
        if markup {
            out.push_str("</span>");
        }
        rest = &rest[at + c.len_utf8()..];
    }
    escape_into(out, rest);
}

/// Escapes text for HTML element content and double- or single-quoted attributes.
#[cfg(test)]
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` escaped. Runs without a special byte are copied in one piece, so a name
/// with nothing to escape costs one `push_str`.
fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some((at, entity)) = rest
        .bytes()
        .enumerate()
        .find_map(|(at, byte)| entity(byte).map(|entity| (at, entity)))
    {
        // `at` is an ASCII byte, so both slices fall on char boundaries.
        out.push_str(&rest[..at]);
        out.push_str(entity);
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

fn entity(byte: u8) -> Option<&'static str> {
    match byte {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#39;"),
        _ => None,
    }
}

/// `1536` → `1.5 KiB`; below 1 KiB, exact bytes (`1023 B`).
#[cfg(test)]
pub(crate) fn human_size(bytes: u64) -> String {
    let mut out = String::new();
    push_human_size(&mut out, bytes);
    out
}

fn push_human_size(out: &mut String, bytes: u64) {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        push_number(out, bytes);
        out.push_str(" B");
        return;
    }
    // Integer tenths, rounded half up; a value that rounds to 1024.0 moves up a unit.
    let mut divisor: u128 = 1;
    for (index, unit) in UNITS.iter().enumerate() {
        divisor *= 1024;
        let tenths = (u128::from(bytes) * 10 + divisor / 2) / divisor;
        if tenths < 10_240 || index == UNITS.len() - 1 {
            push_number(out, (tenths / 10) as u64);
            out.push('.');
            push_number(out, (tenths % 10) as u64);
            out.push(' ');
            out.push_str(unit);
            return;
        }
    }
}

fn push_number(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Decimal digits of `n`, zero-padded to at least `width`.
fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(digits);
}

/// `YYYY-MM-DD HH:MM`, UTC. Times beyond the years -9999 to 9999 are shown as the nearer end.
fn push_date(out: &mut String, time: SystemTime) {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            // Round towards the past, so 0.5 s before the epoch is still 1969.
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            -whole - i64::from(before.subsec_nanos() > 0)
        }
    };
    let utc = UtcDateTime::from_unix_timestamp(secs).unwrap_or(if secs < 0 {
        UtcDateTime::MIN
    } else {
        UtcDateTime::MAX
    });
    let (year, month, day) = utc.to_calendar_date();
    if year < 0 {
        out.push('-');
    }
    push_padded(out, u64::from(year.unsigned_abs()), 4);
    out.push('-');
    push_padded(out, u64::from(u8::from(month)), 2);
    out.push('-');
    push_padded(out, u64::from(day), 2);
    out.push(' ');
    push_padded(out, u64::from(utc.hour()), 2);
    out.push(':');
    push_padded(out, u64::from(utc.minute()), 2);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

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
        assert!(html
            .contains("<h1>Index of /dir<span class=\"ctl\">&lt;U+202E&gt;</span>gpj.exe/</h1>"));
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
        assert!(
            html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;\"")
        );
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
            for markup in ['<', '>', '"', '\''] {
                prop_assert_eq!(hostile.matches(markup).count(), plain.matches(markup).count());
            }
        }
    }
}

/// The module's documented example, run as a test (the items are private to the crate, so a
/// doctest cannot reach them).
#[cfg(test)]
mod doc_example {
    #[test]
    fn listing_query() {
        use crate::serve::listing::{ListingQuery, SortKey};

        let query = ListingQuery::parse(Some("sort=size&order=desc&q=read+me&x=%zz"));
        assert_eq!(query.sort, SortKey::Size);
        assert!(query.descending);
        assert_eq!(query.filter.as_deref(), Some("read me"));
        assert_eq!(ListingQuery::parse(None), ListingQuery::default());
    }
}
