//! Sites for the site check (`wharf check`), built in a temporary folder because some of their
//! problems (`.env`, `.git/`) are awkward to commit as fixtures. [`problem_site`] has exactly
//! one of each problem, at the places [`PROBLEMS`] lists; [`clean_site`] has none.

use std::path::Path;

use tempfile::TempDir;

/// Each problem of [`problem_site`]: kind code, severity, file, line.
pub const PROBLEMS: [(&str, &str, &str, Option<u32>); 9] = [
    ("private_file", "error", ".env", None),
    ("private_file", "error", ".git", None),
    ("local_source_map", "error", "app.js.map", None),
    ("uncompressed", "warning", "data/big.json", None),
    ("broken_link", "error", "docs/index.html", Some(3)),
    ("wrong_mime", "error", "index.html", Some(4)),
    ("case_mismatch", "error", "index.html", Some(5)),
    ("absolute_path", "warning", "index.html", Some(6)),
    ("shared_memory", "warning", "js/main.js", Some(2)),
];

const INDEX: &str = "<!doctype html>\n\
<html><head><link rel=\"stylesheet\" href=\"css/site.css\">\n\
<script src=\"js/main.js\" defer></script>\n\
<script type=\"module\" src=\"app.ts\"></script>\n\
<img src=\"img/Logo.png\" alt=\"\">\n\
<img src=\"/img/logo.png\" srcset=\"img/a%20b.png 2x\" alt=\"\">\n\
</head><body><a href=\"docs/\">Docs</a> <a href=\"https://example.com/\">x</a>\n\
<a href=\"mailto:a@example.com\">mail</a> <a href=\"#top\">top</a> <a href=\"javascript:void(0)\">j</a>\n\
<form action=\"search?q=1\"></form><a href=\"docs/index.html#intro\">intro</a>\n\
</body></html>\n";

const CSS: &str =
    "@font-face { font-family: F; src: url(\"../fonts/f.woff2\") format(\"woff2\"); }\n\
@import url(\"print.css\") print;\n\
body { background: url(../img/a%20b.png) }\n";

/// A site with one of each problem the check finds (see [`PROBLEMS`]).
pub fn problem_site() -> TempDir {
    let big = format!("[{}0]", "1234567890,".repeat(12_000));
    site(&[
        ("index.html", INDEX.as_bytes()),
        ("css/site.css", CSS.as_bytes()),
        ("css/print.css", b"body { color: black }"),
        ("search", b"a page"),
        ("js/main.js", b"// workers\nconst memory = new SharedArrayBuffer(1024);\n"),
        ("app.ts", b"export const a: number = 1;\n"),
        ("app.js.map", br#"{"version":3,"sources":["/Users/ann/app/src/app.ts"],"mappings":""}"#),
        ("img/logo.png", b"png"),
        ("img/a b.png", b"png"),
        ("fonts/f.woff2", b"woff2"),
        (
            "docs/index.html",
            b"<!doctype html>\n<p><a href=\"../index.html\">home</a>\n<a href=\"gone.html\">gone</a>\n",
        ),
        ("data/big.json", big.as_bytes()),
        (".env", b"SECRET=1\n"),
        (".git/HEAD", b"ref: refs/heads/main\n"),
        (".git/config", b"[core]\n"),
        (".well-known/security.txt", b"Contact: mailto:a@example.com\n"),
    ])
}

/// A site the check finds nothing wrong with: relative links, a module script in `.mjs`,
/// a large JSON file with its `.br` sibling, a source map with relative sources.
pub fn clean_site() -> TempDir {
    let big = format!("[{}0]", "1234567890,".repeat(12_000));
    site(&[
        (
            "index.html",
            b"<!doctype html>\n<link rel=stylesheet href=\"site.css\">\n\
              <script type=module src=\"app.mjs\"></script>\n<a href=\"about/\">About</a>\n\
              <a href=\"https://example.com/\">out</a> <img src=\"logo.svg\" alt=\"\">\n",
        ),
        (
            "site.css",
            b"@font-face { src: url(f.woff2) }\nh1 { background: url('logo.svg') }\n",
        ),
        ("app.mjs", b"export const big = fetch('big.json');\n"),
        (
            "app.mjs.map",
            br#"{"version":3,"sources":["../src/app.ts"],"mappings":""}"#,
        ),
        ("logo.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        ("f.woff2", b"woff2"),
        (
            "about/index.html",
            b"<a href=\"../\">home</a> <a href=\"../index.html\">home</a>\n",
        ),
        ("big.json", big.as_bytes()),
        ("big.json.br", b"compressed"),
    ])
}

/// Writes `files` (relative paths with `/`) into a new temporary folder.
pub fn site(files: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        write(dir.path(), name, bytes);
    }
    dir
}

/// Writes one file under `root`, making its folders.
pub fn write(root: &Path, name: &str, bytes: &[u8]) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}
