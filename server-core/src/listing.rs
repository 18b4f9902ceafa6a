//! HTML listings of folders that have no `index.html`.
//!
//! Every name is HTML-escaped and every link percent-encoded, because file names are
//! chosen by whoever wrote into the folder. Folders come first, then files, by name.

use std::fmt::Write as _;
use std::path::Path;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Bytes that must be encoded in one path segment of a link.
pub const SEGMENT: &AsciiSet = &CONTROLS
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

/// One row of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file or folder name.
    pub name: String,
    /// Whether it is a folder.
    pub is_dir: bool,
    /// Size in bytes (0 for folders).
    pub size: u64,
}

/// Reads the visible entries of `dir`: dotfiles are left out unless `show_dotfiles`, names
/// that are not UTF-8 are left out because no URL could name them.
pub async fn read_entries(dir: &Path, show_dotfiles: bool) -> std::io::Result<Vec<Entry>> {
    let mut reader = tokio::fs::read_dir(dir).await?;
    let mut entries = Vec::new();
    while let Some(entry) = reader.next_entry().await? {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') && !show_dotfiles {
            continue;
        }
        // `metadata` follows symlinks, so a link to a folder lists as a folder.
        let Ok(meta) = tokio::fs::metadata(entry.path()).await else {
            continue;
        };
        entries.push(Entry {
            name,
            is_dir: meta.is_dir(),
            size: if meta.is_dir() { 0 } else { meta.len() },
        });
    }
    entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    Ok(entries)
}

/// Renders the listing page for the folder at URL path `segments`.
pub fn render(segments: &[String], entries: &[Entry]) -> String {
    let mut title = String::from("/");
    for segment in segments {
        title.push_str(segment);
        title.push('/');
    }
    let title = escape(&title);
    let mut html = String::with_capacity(512 + entries.len() * 96);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Index of {title}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:2em}}td{{padding:2px 1em 2px 0}}\
         td.size{{text-align:right;font-variant-numeric:tabular-nums}}</style></head>\
         <body><h1>Index of {title}</h1><table>"
    );
    if !segments.is_empty() {
        html.push_str("<tr><td><a href=\"../\">../</a></td><td></td></tr>");
    }
    for entry in entries {
        let href = utf8_percent_encode(&entry.name, SEGMENT);
        let name = escape(&entry.name);
        if entry.is_dir {
            let _ = write!(
                html,
                "<tr><td><a href=\"./{href}/\">{name}/</a></td><td class=\"size\">-</td></tr>"
            );
        } else {
            let size = human_size(entry.size);
            let _ = write!(
                html,
                "<tr><td><a href=\"./{href}\">{name}</a></td><td class=\"size\">{size}</td></tr>"
            );
        }
    }
    html.push_str("</table></body></html>\n");
    html
}

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// `1536` → `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped_and_encoded() {
        let entries = [Entry {
            name: "<img src=x onerror=alert(1)>\"'.html".into(),
            is_dir: false,
            size: 3,
        }];
        let html = render(&["a&b".into()], &entries);
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;.html"));
        assert!(html.contains("href=\"./%3Cimg%20src=x%20onerror=alert(1)%3E%22%27.html\""));
        assert!(html.contains("Index of /a&amp;b/"));
        assert!(html.contains("href=\"../\""));
    }

    #[test]
    fn sizes_read_like_a_human_wrote_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(10 * 1024 * 1024), "10.0 MiB");
    }
}
