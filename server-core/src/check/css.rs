//! The links of a stylesheet: `url(…)` and `@import`, each with its byte offset, and what it
//! is loaded as (a stylesheet for `@import`, a font inside `@font-face`). A scanner of its
//! own, like `html`'s: only these two forms matter, comments and strings aside.

use super::links::{Link, Role};
use super::text::find;

/// Appends the links of `css`, whose first byte is at `base` in its file, to `out`.
pub(super) fn links(css: &str, base: usize, out: &mut Vec<Link>) {
    let bytes = css.as_bytes();
    let mut depth = 0usize;
    // The brace depth an `@font-face` block's body opens at, while inside it.
    let mut font_face: Option<usize> = None;
    let mut pending_font_face = false;
    let mut importing = false;
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        match bytes[at] {
            b'/' if rest.starts_with(b"/*") => {
                at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            quote @ (b'"' | b'\'') => {
                let end = find(bytes, at + 1, &[quote]).unwrap_or(bytes.len());
                if importing {
                    push(out, &css[at + 1..end], base + at + 1, Role::Style);
                    importing = false;
                }
                at = end + 1;
                continue;
            }
            b'{' => {
                depth += 1;
                if pending_font_face {
                    font_face = Some(depth);
                    pending_font_face = false;
                }
            }
            b'}' => {
                if font_face == Some(depth) {
                    font_face = None;
                }
                depth = depth.saturating_sub(1);
            }
            b';' => importing = false,
            b'@' if starts_with_ignoring_case(rest, b"@import") => {
                importing = true;
                at += b"@import".len();
                continue;
            }
            b'@' if starts_with_ignoring_case(rest, b"@font-face") => pending_font_face = true,
            b'u' | b'U' if starts_with_ignoring_case(rest, b"url(") => {
                let (start, end, next) = url_value(bytes, at + 4);
                let role = if importing {
                    Role::Style
                } else if font_face.is_some() {
                    Role::Font
                } else {
                    Role::Other
                };
                importing = false;
                push(out, &css[start..end], base + start, role);
                at = next;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
}

/// The value of a `url(` whose text starts at `at`: its bounds and where scanning resumes.
fn url_value(bytes: &[u8], mut at: usize) -> (usize, usize, usize) {
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    let close = |from: usize| find(bytes, from, b")").unwrap_or(bytes.len());
    match bytes.get(at) {
        Some(&quote @ (b'"' | b'\'')) => {
            let end = find(bytes, at + 1, &[quote]).unwrap_or(bytes.len());
            (at + 1, end, close(end) + 1)
        }
        _ => {
            let end = close(at);
            let mut trimmed = end;
            while trimmed > at && bytes[trimmed - 1].is_ascii_whitespace() {
                trimmed -= 1;
            }
            (at, trimmed, end + 1)
        }
    }
}

fn push(out: &mut Vec<Link>, url: &str, offset: usize, role: Role) {
    out.push(Link {
        url: url.to_owned(),
        offset,
        role,
    });
}

fn starts_with_ignoring_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_imports_and_fonts_are_found_with_offsets() {
        let css = "@import \"a.css\";\n@import url(b.css) screen;\n/* url(no.png) */\
                   @font-face { src: url('f.woff2') format('woff2'); }\n\
                   .x { background: URL( bg.png ) }";
        let mut out = Vec::new();
        links(css, 10, &mut out);
        let got: Vec<(&str, usize, Role)> = out
            .iter()
            .map(|link| (link.url.as_str(), link.offset, link.role))
            .collect();
        let at = |needle: &str| 10 + css.find(needle).unwrap();
        assert_eq!(
            got,
            [
                ("a.css", at("a.css"), Role::Style),
                ("b.css", at("b.css"), Role::Style),
                ("f.woff2", at("f.woff2"), Role::Font),
                ("bg.png", at("bg.png"), Role::Other),
            ]
        );
    }
}
