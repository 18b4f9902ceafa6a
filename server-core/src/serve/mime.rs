//! Content types for served files, from `mime_guess`'s maintained table, with
//! `; charset=utf-8` on text types so editors' UTF-8 files render right without a BOM.

use std::path::Path;

use http::HeaderValue;

/// The `Content-Type` for a file, judged by its extension. Unknown: `application/octet-stream`.
pub(crate) fn content_type(path: &Path) -> HeaderValue {
    let ext = path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    let essence: &str = match ext.as_deref() {
        // Overrides where the table's answer is outdated or missing for web work.
        Some("js" | "mjs" | "cjs") => "text/javascript",
        Some("webmanifest") => "application/manifest+json",
        Some("map") => "application/json",
        Some("wasm") => "application/wasm",
        Some("md" | "markdown") => "text/markdown",
        Some("avif") => "image/avif",
        Some("woff") => "font/woff",
        Some("woff2") => "font/woff2",
        Some("ttf") => "font/ttf",
        Some("otf") => "font/otf",
        Some(ext) => {
            return mime_guess::from_ext(ext)
                .first_raw()
                .map_or(OCTET_STREAM, with_charset)
        }
        None => return OCTET_STREAM,
    };
    with_charset(essence)
}

const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

fn with_charset(essence: &'static str) -> HeaderValue {
    let texty = essence.starts_with("text/")
        || matches!(
            essence,
            "application/javascript"
                | "application/json"
                | "application/manifest+json"
                | "application/xml"
                | "image/svg+xml"
        );
    if texty {
        HeaderValue::from_str(&format!("{essence}; charset=utf-8")).unwrap_or(OCTET_STREAM)
    } else {
        HeaderValue::from_static(essence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_types_are_right() {
        let cases = [
            ("a.html", "text/html; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.mjs", "text/javascript; charset=utf-8"),
            ("a.json", "application/json; charset=utf-8"),
            ("a.map", "application/json; charset=utf-8"),
            ("a.wasm", "application/wasm"),
            ("a.svg", "image/svg+xml; charset=utf-8"),
            ("a.webmanifest", "application/manifest+json; charset=utf-8"),
            ("a.xml", "text/xml; charset=utf-8"),
            ("a.txt", "text/plain; charset=utf-8"),
            ("a.md", "text/markdown; charset=utf-8"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("a.avif", "image/avif"),
            ("a.ico", "image/x-icon"),
            ("a.woff", "font/woff"),
            ("a.woff2", "font/woff2"),
            ("a.ttf", "font/ttf"),
            ("a.mp4", "video/mp4"),
            ("a.webm", "video/webm"),
            ("a.mp3", "audio/mpeg"),
            ("a.pdf", "application/pdf"),
            ("a.zip", "application/zip"),
            ("A.HTML", "text/html; charset=utf-8"),
            ("a.unknownext", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
        ];
        for (name, want) in cases {
            assert_eq!(content_type(Path::new(name)), want, "{name}");
        }
    }
}
