//! The validated list settings: custom header rules and live reload's ignore globs, each
//! compiled once into a glob set and matched as the root's file system compares names.

use globset::{Glob, GlobSet, GlobSetBuilder};
use http::{HeaderName, HeaderValue};

use super::error::ConfigError;
use super::settings::{CustomHeaderDraft, DEFAULT_RELOAD_IGNORE};
use crate::serve::names::NameMatching;

/// A rule's path glob, checked and compiled as `names` matches paths: it starts with `/`
/// (`examples[0]`) or `*` (`examples[1]`). Errors are the rule's `path` member's, by `refuse`.
pub(crate) fn path_glob(
    names: NameMatching,
    path: &str,
    examples: [&str; 2],
    refuse: impl Fn(&'static str, String) -> ConfigError,
) -> Result<Glob, ConfigError> {
    let path = path.trim();
    let [rooted, anywhere] = examples;
    if !path.starts_with(['/', '*']) {
        return Err(refuse(
            "path",
            format!("{path:?} must start with / (e.g. {rooted:?}) or * (e.g. {anywhere:?})"),
        ));
    }
    names.glob(path).map_err(|err| {
        refuse(
            "path",
            format!("{path:?} is not a valid glob: {}", err.kind()),
        )
    })
}

/// Custom response headers, in the order written, with their path globs compiled once.
#[derive(Debug, Clone, Default)]
pub struct HeaderRules {
    rules: Vec<HeaderRule>,
    globs: GlobSet,
    names: NameMatching,
}

/// One validated custom header rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    /// The glob as written.
    pub path: String,
    /// The header's name.
    pub name: HeaderName,
    /// The header's value.
    pub value: HeaderValue,
}

impl PartialEq for HeaderRules {
    fn eq(&self, other: &HeaderRules) -> bool {
        self.rules == other.rules
    }
}

impl Eq for HeaderRules {}

impl HeaderRules {
    /// Whether there are no rules (then nothing is ever matched).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in the order written.
    pub fn rules(&self) -> &[HeaderRule] {
        &self.rules
    }

    /// The rules whose glob matches `url_path` (decoded, starting with `/`), in order, each
    /// with its index in the setting. Case counts as the root's file system counts it, and
    /// NFC and NFD spellings match alike.
    pub fn matching(&self, url_path: &str) -> impl Iterator<Item = (usize, &HeaderRule)> {
        let hits = self.globs.matches(&*self.names.key(url_path));
        hits.into_iter().map(|index| (index, &self.rules[index]))
    }

    /// Checks and compiles the rules of setting `field`.
    pub(crate) fn new(
        field: &'static str,
        drafts: Vec<CustomHeaderDraft>,
        names: NameMatching,
    ) -> Result<HeaderRules, ConfigError> {
        let mut globs = GlobSetBuilder::new();
        let mut rules = Vec::with_capacity(drafts.len());
        for (index, draft) in drafts.into_iter().enumerate() {
            let refuse = |member: &'static str, reason: String| {
                ConfigError::item(field, index, Some(member), reason)
            };
            globs.add(path_glob(
                names,
                &draft.path,
                ["/assets/**", "**/*.wasm"],
                refuse,
            )?);
            let name = HeaderName::from_bytes(draft.name.trim().as_bytes()).map_err(|_| {
                refuse(
                    "name",
                    format!(
                        "{:?} is not a valid header name; use e.g. \"Cache-Control\"",
                        draft.name
                    ),
                )
            })?;
            if FRAMING_HEADERS.contains(&name.as_str()) {
                return Err(refuse(
                    "name",
                    format!("{name} is set by Wharf itself so that responses arrive intact"),
                ));
            }
            // A rule must not undo the CORS allow-list (issue 13, point 4): `*` or any fixed
            // origin would let every site, or one the user never listed, read the folder.
            if CORS_HEADERS.contains(&name.as_str()) {
                return Err(refuse(
                    "name",
                    format!(
                        "{name} is set by Wharf from cors and corsOrigins; list the origins there"
                    ),
                ));
            }
            let value = HeaderValue::from_str(draft.value.trim()).map_err(|_| {
                refuse(
                    "value",
                    format!(
                        "{:?} is not a valid header value (no line breaks or control characters)",
                        draft.value
                    ),
                )
            })?;
            rules.push(HeaderRule {
                path: draft.path.trim().to_owned(),
                name,
                value,
            });
        }
        let globs = globs.build().map_err(|err| {
            ConfigError::new(field, format!("the globs cannot be combined: {err}"))
        })?;
        Ok(HeaderRules {
            rules,
            globs,
            names,
        })
    }
}

/// Headers a rule may not set: they frame the message or belong to the connection, and
/// Wharf must set them itself for the response to arrive intact.
const FRAMING_HEADERS: [&str; 10] = [
    "connection",
    "content-encoding",
    "content-length",
    "content-range",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers that grant other origins access, which only the CORS settings may send.
const CORS_HEADERS: [&str; 2] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
];

/// Globs of paths (relative to the root) whose changes live reload ignores. Like
/// `.gitignore`, a glob matches at any depth (`node_modules/**` also ignores
/// `packages/app/node_modules/x.js`) unless it starts with `/`, which anchors it at the root.
#[derive(Debug, Clone)]
pub struct IgnoreGlobs {
    patterns: Vec<String>,
    anywhere: GlobSet,
    anchored: GlobSet,
    names: NameMatching,
}

impl PartialEq for IgnoreGlobs {
    fn eq(&self, other: &IgnoreGlobs) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for IgnoreGlobs {}

impl Default for IgnoreGlobs {
    /// [`DEFAULT_RELOAD_IGNORE`], matched as the OS's default file system compares names.
    fn default() -> IgnoreGlobs {
        IgnoreGlobs::defaults(NameMatching::default())
    }
}

impl IgnoreGlobs {
    pub(crate) fn defaults(names: NameMatching) -> IgnoreGlobs {
        let defaults = DEFAULT_RELOAD_IGNORE.map(str::to_owned).to_vec();
        // The defaults are constant globs that compile; the tests check it.
        IgnoreGlobs::new("reloadIgnore", defaults, names).unwrap_or(IgnoreGlobs {
            patterns: Vec::new(),
            anywhere: GlobSet::empty(),
            anchored: GlobSet::empty(),
            names,
        })
    }

    /// Checks and compiles the globs of setting `field`.
    pub(crate) fn new(
        field: &'static str,
        patterns: Vec<String>,
        names: NameMatching,
    ) -> Result<IgnoreGlobs, ConfigError> {
        let mut anywhere = GlobSetBuilder::new();
        let mut anchored = GlobSetBuilder::new();
        for (index, pattern) in patterns.iter().enumerate() {
            let (set, text) = match pattern.strip_prefix('/') {
                Some(rest) => (&mut anchored, rest),
                None => (&mut anywhere, pattern.as_str()),
            };
            set.add(names.glob(text).map_err(|err| {
                ConfigError::item(
                    field,
                    index,
                    None,
                    format!("{pattern:?} is not a valid glob: {}", err.kind()),
                )
            })?);
        }
        let build = |set: GlobSetBuilder| {
            set.build().map_err(|err| {
                ConfigError::new(field, format!("the globs cannot be combined: {err}"))
            })
        };
        Ok(IgnoreGlobs {
            patterns,
            anywhere: build(anywhere)?,
            anchored: build(anchored)?,
            names,
        })
    }

    /// The globs as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether a change of `relative` (`/`-separated, no leading `/`) is ignored. Case counts
    /// as the root's file system counts it, and NFC and NFD spellings match alike.
    pub fn is_ignored(&self, relative: &str) -> bool {
        let relative = &*self.names.key(relative);
        if self.anchored.is_match(relative) {
            return true;
        }
        // Every suffix that starts a path segment: `a/node_modules/x` is tried as itself,
        // `node_modules/x` and `x`.
        std::iter::once(relative)
            .chain(
                relative
                    .match_indices('/')
                    .map(|(at, _)| &relative[at + 1..]),
            )
            .any(|suffix| self.anywhere.is_match(suffix))
    }
}
