//! The links of an HTML file, with each one's byte offset and what the page loads it as.
//!
//! A small tag and attribute scanner rather than a parser crate: the check needs only start
//! tags, their attribute values and where each value starts, to report the link's own line.
//! html5ever (in the tree through Tauri) gives a tokenizer line per token, not per attribute,
//! and would bring its atom tables into the server; lol_html's `source_location` is per
//! element too, and would bring cssparser and selectors. Comments, `<!…>`, end tags and the
//! text of `<script>` and `<textarea>`/`<title>` are skipped; `<style>` text and `style`
//! attributes go to the CSS scanner. Character references other than `&amp;` are left as
//! they are (they are rare in URLs, and the query, where `&amp;` lives, is not checked).

use super::css;
use super::links::{Link, Role};
use super::text::{find, find_ignoring_case};

/// Every checked link of `html`, in document order.
pub(super) fn links(html: &str) -> Vec<Link> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = find(bytes, at, b"<") {
        at = found + 1;
        let rest = &bytes[found..];
        if rest.starts_with(b"<!--") {
            at = find(bytes, found + 4, b"-->").map_or(bytes.len(), |end| end + 3);
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") || rest.starts_with(b"</") {
            at = find(bytes, found, b">").map_or(bytes.len(), |end| end + 1);
        } else if rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
            let tag = start_tag(html, found + 1);
            at = tag.end;
            tag_links(&tag, &mut out);
            if let Some(raw) = raw_text_of(&tag.name) {
                let close = find_ignoring_case(bytes, at, raw).unwrap_or(bytes.len());
                if tag.name == "style" {
                    css::links(&html[at..close], at, &mut out);
                }
                at = close;
            }
        }
    }
    out
}

/// One start tag: its lower-cased name, its attributes (lower-cased name, value, the value's
/// byte offset) and where it ends.
struct StartTag<'a> {
    name: String,
    attributes: Vec<(String, &'a str, usize)>,
    end: usize,
}

impl StartTag<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(attr, _, _)| attr == name)
            .map(|(_, value, _)| *value)
    }
}

/// Scans the start tag whose name begins at `at`.
fn start_tag(html: &str, mut at: usize) -> StartTag<'_> {
    let bytes = html.as_bytes();
    let word_end = |from: usize| {
        (from..bytes.len())
            .find(|&i| bytes[i].is_ascii_whitespace() || matches!(bytes[i], b'>' | b'/' | b'='))
            .unwrap_or(bytes.len())
    };
    let name_end = word_end(at);
    let name = html[at..name_end].to_ascii_lowercase();
    at = name_end;
    let mut attributes = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() || bytes[at] == b'>' {
            break;
        }
        let attr_end = word_end(at).max(at + 1);
        let attr = html[at..attr_end].to_ascii_lowercase();
        at = attr_end;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes.get(at) != Some(&b'=') {
            attributes.push((attr, "", at));
            continue;
        }
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let (start, end, next) = match bytes.get(at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let end = find(bytes, at + 1, &[quote]).unwrap_or(bytes.len());
                (at + 1, end, (end + 1).min(bytes.len()))
            }
            _ => {
                let end = (at..bytes.len())
                    .find(|&i| bytes[i].is_ascii_whitespace() || bytes[i] == b'>')
                    .unwrap_or(bytes.len());
                (at, end, end)
            }
        };
        attributes.push((attr, &html[start..end], start));
        at = next;
    }
    StartTag {
        name,
        attributes,
        end: (at + 1).min(bytes.len()),
    }
}

/// The end tag that closes an element whose text is not markup.
fn raw_text_of(name: &str) -> Option<&'static [u8]> {
    match name {
        "script" => Some(b"</script"),
        "style" => Some(b"</style"),
        "textarea" => Some(b"</textarea"),
        "title" => Some(b"</title"),
        _ => None,
    }
}

/// The links one start tag carries, with the role each is loaded in.
fn tag_links(tag: &StartTag<'_>, out: &mut Vec<Link>) {
    for (attr, value, offset) in &tag.attributes {
        if attr == "style" {
            css::links(value, *offset, out);
            continue;
        }
        if attr == "srcset" && matches!(tag.name.as_str(), "img" | "source") {
            srcset(value, *offset, out);
            continue;
        }
        let Some(role) = role_of(tag, attr) else {
            continue;
        };
        out.push(Link {
            url: value.replace("&amp;", "&"),
            offset: *offset,
            role,
        });
    }
}

/// What a URL attribute of this tag is loaded as, or `None` if the attribute is not a URL
/// the check follows.
fn role_of(tag: &StartTag<'_>, attr: &str) -> Option<Role> {
    let role = match (tag.name.as_str(), attr) {
        ("a" | "area" | "iframe" | "frame", "href" | "src") => Role::Page,
        ("form", "action") => Role::Page,
        ("script", "src") => match tag.get("type").map(str::trim) {
            Some(kind) if kind.eq_ignore_ascii_case("module") => Role::ModuleScript,
            None | Some("") => Role::Script,
            Some(kind) if is_javascript_type(kind) => Role::Script,
            // A data block (`application/json`, a template): not fetched.
            Some(_) => return None,
        },
        ("link", "href") => link_role(tag)?,
        ("base", "href") => Role::Base,
        ("img" | "source" | "video" | "audio" | "track" | "embed" | "input", "src") => Role::Other,
        ("video", "poster") | ("object", "data") => Role::Other,
        _ => return None,
    };
    Some(role)
}

/// A `<link>`'s role from its `rel` (and `as`, for preloads).
fn link_role(tag: &StartTag<'_>) -> Option<Role> {
    let rel = tag.get("rel").unwrap_or("").to_ascii_lowercase();
    let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
    if rels.contains(&"stylesheet") {
        return Some(Role::Style);
    }
    if rels.contains(&"modulepreload") {
        return Some(Role::ModuleScript);
    }
    if rels.contains(&"preload") {
        return Some(
            match tag.get("as").map(str::to_ascii_lowercase).as_deref() {
                Some("script") => Role::Script,
                Some("style") => Role::Style,
                Some("font") => Role::Font,
                _ => Role::Other,
            },
        );
    }
    // dns-prefetch and preconnect name origins, not files.
    if rels
        .iter()
        .any(|r| matches!(*r, "dns-prefetch" | "preconnect"))
    {
        return None;
    }
    Some(Role::Other)
}

/// The JavaScript MIME types a classic `<script type>` may name (HTML's list, abridged).
fn is_javascript_type(kind: &str) -> bool {
    let kind = kind.to_ascii_lowercase();
    matches!(
        kind.as_str(),
        "text/javascript" | "application/javascript" | "text/ecmascript" | "application/ecmascript"
    )
}

/// `srcset="a.png 1x, b.png 2x"`: each candidate's URL, at its own offset, split as HTML's
/// srcset parsing does: a URL runs to whitespace (so `data:` URLs keep their commas), a
/// trailing comma ends it, and descriptors run to the next comma outside parentheses.
fn srcset(value: &str, offset: usize, out: &mut Vec<Link>) {
    let bytes = value.as_bytes();
    let mut at = 0;
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b',') {
            at += 1;
        }
        if at >= bytes.len() {
            return;
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let url = value[start..at].trim_end_matches(',');
        out.push(Link {
            url: url.replace("&amp;", "&"),
            offset: offset + start,
            role: Role::Other,
        });
        if value[start..at].ends_with(',') {
            continue;
        }
        let mut depth = 0usize;
        while at < bytes.len() && !(bytes[at] == b',' && depth == 0) {
            match bytes[at] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(html: &str) -> Vec<(String, usize, Role)> {
        links(html)
            .into_iter()
            .map(|link| (link.url, link.offset, link.role))
            .collect()
    }

    #[test]
    fn attributes_are_found_at_their_offsets_with_their_roles() {
        let html = "<!-- <a href=x> --><A HREF='p.html'>\n<script type=module src=m.js></script>\
                    <link rel=stylesheet href=\"s.css\">\
                    <img srcset=\"a.png 1x,b.png 2x, data:image/png;base64,AA== 3x\">";
        let got = urls(html);
        let offset = |needle: &str| html.find(needle).unwrap();
        assert_eq!(
            got,
            [
                ("p.html".to_owned(), offset("p.html"), Role::Page),
                ("m.js".to_owned(), offset("m.js"), Role::ModuleScript),
                ("s.css".to_owned(), offset("s.css"), Role::Style),
                ("a.png".to_owned(), offset("a.png"), Role::Other),
                ("b.png".to_owned(), offset("b.png"), Role::Other),
                (
                    "data:image/png;base64,AA==".to_owned(),
                    offset("data:"),
                    Role::Other
                ),
            ]
        );
    }

    #[test]
    fn script_text_is_not_markup_but_style_text_is_css() {
        let html = "<script>let s = '<a href=\"no.html\">';</script>\
                    <style>body { background: url(bg.png) }</style><p style=\"x: url('i.svg')\">";
        let got: Vec<String> = urls(html).into_iter().map(|(url, ..)| url).collect();
        assert_eq!(got, ["bg.png", "i.svg"]);
    }

    #[test]
    fn data_blocks_and_origin_hints_are_not_links() {
        let html = "<script type=application/json src=d.json></script>\
                    <link rel=preconnect href=https://x><link rel=preload as=font href=f.woff2>";
        let got = urls(html);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, Role::Font);
    }
}
