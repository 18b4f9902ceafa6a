//! How each validated type reads back: the draft that gives it again (for a form's starting
//! point) and the text a change report shows (`on`, `10s`, `8080`, `none`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::HeaderValue;

use super::rules::{HeaderRules, IgnoreGlobs};
use super::settings::{CustomHeaderDraft, ProxyRuleDraft};
use crate::http::guard::{AllowedHosts, CorsOrigins};
use crate::network::{NetworkRuleDraft, NetworkRules};
use crate::proxy::ProxyRules;

/// A validated setting's type, read back.
pub(crate) trait Value {
    /// What a user writes for it.
    type Draft;
    /// The draft that validates back to this value.
    fn to_draft(&self) -> Option<Self::Draft>;
    /// The value as a person reads it in `port 8080 -> 8081`.
    fn show(&self) -> String;
}

impl Value for bool {
    type Draft = bool;
    fn to_draft(&self) -> Option<bool> {
        Some(*self)
    }
    fn show(&self) -> String {
        if *self { "on" } else { "off" }.to_owned()
    }
}

impl Value for PathBuf {
    type Draft = PathBuf;
    fn to_draft(&self) -> Option<PathBuf> {
        Some(self.clone())
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}

/// A folder that may be unset (`none`).
impl Value for Option<PathBuf> {
    type Draft = PathBuf;
    fn to_draft(&self) -> Option<PathBuf> {
        self.clone()
    }
    fn show(&self) -> String {
        self.as_ref()
            .map_or_else(|| "none".to_owned(), |dir| dir.display().to_string())
    }
}

impl Value for IpAddr {
    type Draft = String;
    fn to_draft(&self) -> Option<String> {
        Some(self.to_string())
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl Value for u16 {
    type Draft = u32;
    fn to_draft(&self) -> Option<u32> {
        Some((*self).into())
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

/// A second port that may be `off`.
impl Value for Option<u16> {
    type Draft = u32;
    fn to_draft(&self) -> Option<u32> {
        self.map(u32::from)
    }
    fn show(&self) -> String {
        self.map_or_else(|| "off".to_owned(), |port| port.to_string())
    }
}

impl Value for u32 {
    type Draft = u64;
    fn to_draft(&self) -> Option<u64> {
        Some((*self).into())
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

/// Written in milliseconds, shown in seconds.
impl Value for Duration {
    type Draft = u64;
    fn to_draft(&self) -> Option<u64> {
        Some(u64::try_from(self.as_millis()).unwrap_or(u64::MAX))
    }
    fn show(&self) -> String {
        format!("{}s", self.as_secs_f64())
    }
}

impl Value for HeaderValue {
    type Draft = String;
    fn to_draft(&self) -> Option<String> {
        self.to_str().ok().map(str::to_owned)
    }
    fn show(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }
}

impl Value for HeaderRules {
    type Draft = Vec<CustomHeaderDraft>;
    fn to_draft(&self) -> Option<Vec<CustomHeaderDraft>> {
        let drafts = self.rules().iter().map(|rule| CustomHeaderDraft {
            path: rule.path.clone(),
            name: rule.name.to_string(),
            value: String::from_utf8_lossy(rule.value.as_bytes()).into_owned(),
        });
        Some(drafts.collect())
    }
    /// `/assets/** Cache-Control: max-age=60; ...`, or `none`.
    fn show(&self) -> String {
        let text: Vec<String> = self
            .rules()
            .iter()
            .map(|rule| {
                let value = String::from_utf8_lossy(rule.value.as_bytes());
                format!("{} {}: {value}", rule.path, rule.name)
            })
            .collect();
        list_text(&text, "; ")
    }
}

impl Value for NetworkRules {
    type Draft = Vec<NetworkRuleDraft>;
    fn to_draft(&self) -> Option<Vec<NetworkRuleDraft>> {
        Some(self.rules().iter().map(|rule| rule.draft.clone()).collect())
    }
    /// `/api/** status=503 p=0.1; ...`, or `none`.
    fn show(&self) -> String {
        let text: Vec<String> = self
            .rules()
            .iter()
            .map(|rule| rule.draft.to_flag())
            .collect();
        list_text(&text, "; ")
    }
}

impl Value for IgnoreGlobs {
    type Draft = Vec<String>;
    fn to_draft(&self) -> Option<Vec<String>> {
        Some(self.patterns().to_vec())
    }
    /// The globs, space-separated (empty when there are none).
    fn show(&self) -> String {
        self.patterns().join(" ")
    }
}

impl Value for AllowedHosts {
    type Draft = Vec<String>;
    fn to_draft(&self) -> Option<Vec<String>> {
        Some(self.entries().to_vec())
    }
    fn show(&self) -> String {
        list_text(self.entries(), " ")
    }
}

impl Value for CorsOrigins {
    type Draft = Vec<String>;
    fn to_draft(&self) -> Option<Vec<String>> {
        Some(self.entries().to_vec())
    }
    fn show(&self) -> String {
        list_text(self.entries(), " ")
    }
}

/// `a b c`, or `none`.
impl Value for ProxyRules {
    type Draft = Vec<ProxyRuleDraft>;
    fn to_draft(&self) -> Option<Vec<ProxyRuleDraft>> {
        let drafts = self.rules().iter().map(|rule| ProxyRuleDraft {
            path: rule.path.clone(),
            target: rule.target.clone(),
            rewrite: rule.rewrite.clone(),
            change_origin: Some(rule.change_origin),
        });
        Some(drafts.collect())
    }
    /// `/api=http://localhost:3000; ...`, or `none`.
    fn show(&self) -> String {
        let text: Vec<String> = self
            .rules()
            .iter()
            .map(|rule| format!("{}={}", rule.path, rule.target))
            .collect();
        list_text(&text, "; ")
    }
}

fn list_text(entries: &[String], separator: &str) -> String {
    if entries.is_empty() {
        return "none".into();
    }
    entries.join(separator)
}
