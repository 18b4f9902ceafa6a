//! Proxy rules, checked and compiled once: which requests go to which target, and the path
//! they are forwarded with. It knows nothing of sockets (that is `forward`'s).

use std::borrow::Cow;

use http::uri::{Authority, Uri};
use regex::Regex;

use crate::config::{ConfigError, ProxyRuleDraft};

/// The proxy rules of a site, in the order written; the first matching one wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyRules {
    rules: Vec<ProxyRule>,
}

/// One checked proxy rule.
#[derive(Debug, Clone)]
pub struct ProxyRule {
    /// The path (prefix or `^regex`) as written.
    pub path: String,
    matcher: Matcher,
    /// The target as written, e.g. `http://localhost:3000`.
    pub target: String,
    /// Whether the target is spoken to over TLS (`https://`).
    pub(crate) https: bool,
    /// The target's host and port, e.g. `localhost:3000`.
    pub(crate) authority: Authority,
    /// The target's path without its trailing `/`, put in front of the forwarded path.
    base: String,
    /// Replaces the matched part of the path; `""` strips it. None: the path is kept.
    pub rewrite: Option<String>,
    /// Send the target's host as `Host` (true), or keep the browser's (false).
    pub change_origin: bool,
}

#[derive(Debug, Clone)]
enum Matcher {
    Prefix(String),
    Regex(Regex),
}

impl PartialEq for ProxyRule {
    fn eq(&self, other: &ProxyRule) -> bool {
        (&self.path, &self.target, &self.rewrite, self.change_origin)
            == (
                &other.path,
                &other.target,
                &other.rewrite,
                other.change_origin,
            )
    }
}

impl Eq for ProxyRule {}

impl ProxyRules {
    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in the order written.
    pub fn rules(&self) -> &[ProxyRule] {
        &self.rules
    }

    /// The index of the first rule matching `path` (the request's path as sent, still
    /// percent-encoded). `/__wharf/` is excluded by the caller (`serve::route::proxied`).
    pub(crate) fn matching(&self, path: &str) -> Option<usize> {
        self.rules
            .iter()
            .position(|rule| rule.matcher.matches(path))
    }

    /// Checks and compiles the rules of setting `field`.
    pub(crate) fn new(
        field: &'static str,
        drafts: Vec<ProxyRuleDraft>,
    ) -> Result<ProxyRules, ConfigError> {
        let rules = drafts
            .into_iter()
            .enumerate()
            .map(|(index, draft)| {
                ProxyRule::new(draft).map_err(|(member, reason)| {
                    ConfigError::item(field, index, Some(member), reason)
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ProxyRules { rules })
    }
}

impl ProxyRule {
    fn new(draft: ProxyRuleDraft) -> Result<ProxyRule, (&'static str, String)> {
        let path = draft.path.trim().to_owned();
        let matcher = if path.starts_with('^') {
            Matcher::Regex(Regex::new(&path).map_err(|err| {
                (
                    "path",
                    format!("{path:?} is not a valid regular expression: {err}"),
                )
            })?)
        } else if path.starts_with('/') {
            // `/__wharf/` is Wharf's own (live reload, the CA download): never proxied.
            if path
                .trim_start_matches('/')
                .starts_with(crate::live_reload::RESERVED_SEGMENT)
            {
                return Err((
                    "path",
                    format!("{path:?} is under /__wharf/, which Wharf keeps for itself; choose another path"),
                ));
            }
            Matcher::Prefix(path.trim_end_matches('/').to_owned())
        } else {
            return Err((
                "path",
                format!("{path:?} must start with / (a prefix, e.g. \"/api\") or ^ (a regular expression)"),
            ));
        };
        let target_text = draft.target.trim().to_owned();
        let bad_target = |why: &str| {
            (
                "target",
                format!("{target_text:?} {why}; use e.g. \"http://localhost:3000\""),
            )
        };
        let uri: Uri = target_text
            .parse()
            .map_err(|_| bad_target("is not a URL"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad_target("is not an http:// or https:// URL")),
        };
        let authority = uri
            .authority()
            .filter(|authority| !authority.host().is_empty())
            .cloned()
            .ok_or_else(|| bad_target("names no host"))?;
        if uri.query().is_some() {
            return Err(bad_target("has a query, which a target cannot have"));
        }
        let base = uri.path().trim_end_matches('/').to_owned();
        let rewrite = draft.rewrite.map(|rewrite| rewrite.trim().to_owned());
        if let Some(rewrite) = rewrite.as_deref() {
            if !rewrite.is_empty() && !rewrite.starts_with('/') && !path.starts_with('^') {
                return Err((
                    "rewrite",
                    format!("{rewrite:?} must start with / (or be empty, to strip the prefix)"),
                ));
            }
        }
        Ok(ProxyRule {
            path,
            matcher,
            target: target_text,
            https,
            authority,
            base,
            rewrite,
            change_origin: draft.change_origin.unwrap_or(true),
        })
    }

    /// The path and query the target is asked for: `path` rewritten, behind the target's
    /// own path, with the query as it came.
    pub(crate) fn upstream_path(&self, path: &str, query: Option<&str>) -> String {
        let rewritten: Cow<'_, str> = match (&self.matcher, &self.rewrite) {
            (_, None) => path.into(),
            (Matcher::Prefix(prefix), Some(with)) => {
                format!("{with}{}", &path[prefix.len().min(path.len())..]).into()
            }
            (Matcher::Regex(regex), Some(with)) => regex.replace(path, with.as_str()),
        };
        let mut out = self.base.clone();
        if !rewritten.starts_with('/') {
            out.push('/');
        }
        out.push_str(&rewritten);
        if let Some(query) = query {
            out.push('?');
            out.push_str(query);
        }
        out
    }
}

impl Matcher {
    fn matches(&self, path: &str) -> bool {
        match self {
            // At a segment boundary: `/api` matches `/api` and `/api/x`, never `/apix`.
            Matcher::Prefix(prefix) => path
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || prefix.is_empty()),
            Matcher::Regex(regex) => regex.is_match(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, target: &str, rewrite: Option<&str>) -> Result<ProxyRules, ConfigError> {
        ProxyRules::new(
            "proxy",
            vec![ProxyRuleDraft {
                path: path.into(),
                target: target.into(),
                rewrite: rewrite.map(str::to_owned),
                change_origin: None,
            }],
        )
    }

    #[test]
    fn prefixes_match_at_segment_boundaries() {
        let rules = rule("/api", "http://localhost:3000", None).unwrap();
        assert_eq!(rules.matching("/api"), Some(0));
        assert_eq!(rules.matching("/api/users"), Some(0));
        assert_eq!(rules.matching("/apix"), None);
        assert_eq!(rules.matching("/"), None);
        let all = rule("/", "http://localhost:3000", None).unwrap();
        assert_eq!(all.matching("/anything"), Some(0));
    }

    #[test]
    fn paths_are_rewritten_behind_the_target_path() {
        let strip = rule("/api", "http://h:1/v2/", Some("")).unwrap();
        let strip = &strip.rules()[0];
        assert_eq!(
            strip.upstream_path("/api/users", Some("a=1")),
            "/v2/users?a=1"
        );
        assert_eq!(strip.upstream_path("/api", None), "/v2/");
        let replace = rule("/api", "http://h:1", Some("/backend")).unwrap();
        assert_eq!(
            replace.rules()[0].upstream_path("/api/x", None),
            "/backend/x"
        );
        let keep = rule("/api", "http://h:1", None).unwrap();
        assert_eq!(keep.rules()[0].upstream_path("/api/x", None), "/api/x");
        let regex = rule("^/old/(.*)$", "http://h:1", Some("/new/$1")).unwrap();
        assert_eq!(regex.rules()[0].upstream_path("/old/a/b", None), "/new/a/b");
    }

    #[test]
    fn bad_rules_name_their_member() {
        let err = rule("api", "http://h:1", None).unwrap_err();
        assert_eq!((err.index, err.member), (Some(0), Some("path")));
        let err = rule("/__wharf/x", "http://h:1", None).unwrap_err();
        assert!(err.reason.contains("Wharf keeps for itself"), "{err}");
        let err = rule("^(", "http://h:1", None).unwrap_err();
        assert_eq!(err.member, Some("path"));
        for target in [
            "localhost:3000",
            "ftp://h",
            "https://",
            "http://",
            "http://h/?q",
        ] {
            let err = rule("/api", target, None).unwrap_err();
            assert_eq!(err.member, Some("target"), "{target}: {err}");
        }
        let err = rule("/api", "http://h:1", Some("x")).unwrap_err();
        assert_eq!(err.member, Some("rewrite"));
        assert_eq!(err.to_string().split(':').next(), Some("proxy[0].rewrite"));
    }
}
