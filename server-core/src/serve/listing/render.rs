//! The listing page: HTML with no JavaScript, rows sorted and filtered, every name escaped
//! and every link percent-encoded and relative. Dates (UTC, via the `time` crate) and sizes
//! are written here too.

use std::cmp::Ordering;
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use time::UtcDateTime;

use super::entries::Entry;
use super::query::{ListingQuery, SortKey};

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
pub(super) fn fold_case(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Whether `name` contains `needle` (already [`fold_case`]d), ignoring case, without
/// allocating.
pub(super) fn contains_folded(name: &str, needle: &str) -> bool {
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
pub(super) fn push_date(out: &mut String, time: SystemTime) {
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
