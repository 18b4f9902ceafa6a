//! What the site check reports: one [`Finding`] per problem, with its kind's stable code,
//! severity, place (file and line) and advice, and the [`CheckReport`] that holds them in a
//! deterministic order. It finds nothing itself.

use serde::{Serialize, Serializer};

/// How bad a finding is. An error breaks something for visitors (`wharf check` exits 1);
/// a warning may, depending on where and how the site is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Broken for visitors, or a leak: fix it before publishing.
    Error,
    /// Breaks on some hosts or setups; the advice says which.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as the CLI prints it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What a finding is about. Its [`code`](FindingKind::code) is stable: scripts may match it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// A link to a file or folder that does not exist (or a folder without `index.html`).
    BrokenLink,
    /// A link whose path matches a file only when case is ignored.
    CaseMismatch,
    /// A linked script, stylesheet, font or WebAssembly module Wharf would serve with a
    /// content type the browser refuses or distrusts (including `application/octet-stream`).
    WrongMime,
    /// A file that should never be published: `.env*`, a VCS folder, a private key.
    PrivateFile,
    /// A source map whose `sources` or `sourceRoot` name paths on the author's machine.
    LocalSourceMap,
    /// A root-relative link (`/assets/x.js`) that breaks when the site lives under a subpath.
    AbsolutePath,
    /// `SharedArrayBuffer` or shared WebAssembly memory without cross-origin isolation.
    SharedMemory,
    /// A large text asset with no precompressed `.br`/`.gz` sibling.
    Uncompressed,
    /// A request a page made that got 404, seen in the access log (with its `Referer`).
    LiveNotFound,
}

impl FindingKind {
    /// The stable snake_case code, e.g. `broken_link`; also the kind's JSON form.
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::BrokenLink => "broken_link",
            FindingKind::CaseMismatch => "case_mismatch",
            FindingKind::WrongMime => "wrong_mime",
            FindingKind::PrivateFile => "private_file",
            FindingKind::LocalSourceMap => "local_source_map",
            FindingKind::AbsolutePath => "absolute_path",
            FindingKind::SharedMemory => "shared_memory",
            FindingKind::Uncompressed => "uncompressed",
            FindingKind::LiveNotFound => "live_not_found",
        }
    }
}

impl Serialize for FindingKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// One problem, where it is, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind of problem this is.
    pub kind: FindingKind,
    /// Error or warning.
    pub severity: Severity,
    /// The file it is in (or about), relative to the checked folder, with `/` separators.
    pub file: String,
    /// The 1-based line of the link or use in `file`, when there is one.
    pub line: Option<u32>,
    /// One line saying what is wrong.
    pub message: String,
    /// What to do about it.
    pub advice: String,
}

/// Everything `check_site` found, sorted by file, line, then kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The findings, sorted by file, line (a finding about the whole file first), then kind.
    pub findings: Vec<Finding>,
    /// How many files the walk saw (dot folders' contents are not counted: they are not read).
    pub files_seen: usize,
    /// Files not read because they are larger than `CheckOptions::max_read_bytes`, so their
    /// links and uses are unchecked.
    pub skipped: Vec<String>,
    /// Whether live traffic was read (`CheckOptions::traffic`), so no `live_not_found`
    /// finding means no page met a 404.
    pub live: bool,
    /// Live 404s left out: (path, page) pairs beyond the first `traffic::MAX_PAIRS`.
    pub live_omitted: u64,
}

impl CheckReport {
    /// Sorts the findings into their documented order and drops exact duplicates.
    pub(super) fn new(mut findings: Vec<Finding>, files_seen: usize, skipped: Vec<String>) -> Self {
        findings.sort_by(|a, b| {
            (&a.file, a.line, a.kind, &a.message).cmp(&(&b.file, b.line, b.kind, &b.message))
        });
        findings.dedup();
        CheckReport {
            findings,
            files_seen,
            skipped,
            live: false,
            live_omitted: 0,
        }
    }

    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .count()
    }

    /// How many distinct files have findings.
    pub fn files_with_findings(&self) -> usize {
        let mut files: Vec<&str> = self.findings.iter().map(|f| f.file.as_str()).collect();
        files.dedup();
        files.len()
    }
}
