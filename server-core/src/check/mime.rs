//! Whether the content type Wharf serves a linked file with (`serve::mime`, the one table)
//! suits what the page loads it as. Browsers refuse a module script whose type is not
//! JavaScript, and, under `X-Content-Type-Options: nosniff` (which Wharf sends on every
//! answer, as most hosts do), a classic script or a stylesheet with the wrong type; a
//! WebAssembly module must be `application/wasm` for `instantiateStreaming`. Fonts load with
//! any type, but browsers warn and some CDNs and proxies mangle `application/octet-stream`.

use std::path::Path;

use super::finding::Severity;
use super::links::Role;
use crate::serve::mime::content_type;

/// A mismatch between a linked file's content type and its use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mismatch {
    /// Error where browsers refuse the file, warning where they only complain.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub message: String,
    /// What to do.
    pub advice: String,
}

/// Judges the site file `file`, loaded as `role`; `None` when its type suits.
pub(super) fn judge(role: Role, file: &str) -> Option<Mismatch> {
    let essence = served_type(file);
    let unknown = essence == "application/octet-stream";
    let extension = Path::new(file)
        .extension()
        .map(|ext| ext.to_string_lossy().to_ascii_lowercase());
    let (severity, used_as, wanted) = match role {
        Role::Script | Role::ModuleScript if !is_javascript(&essence) => {
            let used_as = if role == Role::ModuleScript {
                "a module script"
            } else {
                "a script"
            };
            (
                Severity::Error,
                used_as,
                "a JavaScript type (text/javascript)",
            )
        }
        Role::Style if essence != "text/css" => (Severity::Error, "a stylesheet", "text/css"),
        Role::Font if !is_font(&essence) => (Severity::Warning, "a font", "a font/* type"),
        _ if extension.as_deref() == Some("wasm") && essence != "application/wasm" => {
            (Severity::Error, "WebAssembly", "application/wasm")
        }
        _ => return None,
    };
    let served = if unknown {
        format!("`{essence}` (Wharf does not know its extension)")
    } else {
        format!("`{essence}`")
    };
    let advice = match role {
        Role::ModuleScript => "Browsers refuse module scripts that are not served as JavaScript: \
            build it to a .js or .mjs file and link that."
            .to_owned(),
        Role::Script => "Browsers refuse scripts of another type under \
            `X-Content-Type-Options: nosniff`, which Wharf and most hosts send: build it to a \
            .js file and link that."
            .to_owned(),
        Role::Style => "Browsers refuse stylesheets not served as text/css: build it to a .css \
            file and link that."
            .to_owned(),
        _ => format!(
            "Give the file the extension of its format (.woff2, .woff, .ttf, .otf, .wasm) so \
             Wharf and static hosts serve it as {wanted}."
        ),
    };
    Some(Mismatch {
        severity,
        message: format!("`{file}` is loaded as {used_as} but would be served as {served}"),
        advice,
    })
}

/// The media type Wharf serves the site file `file` with, without parameters
/// (`text/css`, not `text/css; charset=utf-8`).
pub(super) fn served_type(file: &str) -> String {
    let header = content_type(Path::new(file));
    let text = header.to_str().unwrap_or("");
    text.split(';').next().unwrap_or(text).trim().to_owned()
}

/// Whether a media type is JavaScript's (`text/javascript` and its aliases).
pub(super) fn is_javascript(essence: &str) -> bool {
    essence.ends_with("/javascript") || essence.ends_with("/ecmascript")
}

fn is_font(essence: &str) -> bool {
    essence.starts_with("font/")
        || essence.starts_with("application/font-")
        || essence.starts_with("application/x-font-")
        || essence == "application/vnd.ms-fontobject"
        || essence == "image/svg+xml"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_judged_by_use() {
        assert_eq!(judge(Role::ModuleScript, "a.mjs"), None);
        assert_eq!(judge(Role::Script, "a.js"), None);
        assert_eq!(judge(Role::Style, "a.css"), None);
        assert_eq!(judge(Role::Font, "a.woff2"), None);
        assert_eq!(judge(Role::Other, "a.unknownext"), None);
        assert_eq!(
            judge(Role::ModuleScript, "a.ts").unwrap().severity,
            Severity::Error
        );
        assert_eq!(
            judge(Role::Style, "a.txt").unwrap().severity,
            Severity::Error
        );
        let font = judge(Role::Font, "a.fnt").unwrap();
        assert_eq!(font.severity, Severity::Warning);
        assert!(font.message.contains("does not know"), "{}", font.message);
    }
}
