//! A network rule as written (TOML, JSON, or the CLI's `GLOB KEY=VALUE ...`), and as checked:
//! its glob compiled, its preset resolved, its numbers in range. Errors name the rule's
//! member as the user wrote it (`rate`, `reset-after`, ...), like custom headers' do.

use std::time::Duration;

use async_speed_limit::Limiter;
use globset::{GlobSet, GlobSetBuilder};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::preset;
use crate::config::{path_glob, ConfigError};
use crate::serve::names::NameMatching;

/// One network rule as written: `{ path = "/api/**", status = 503, p = 0.1 }`. Every member
/// but `path` is optional; the names are the CLI's keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    test,
    derive(ts_rs::TS),
    ts(optional_fields = nullable, rename_all = "kebab-case")
)]
#[serde(rename_all = "kebab-case", default, deny_unknown_fields)]
pub struct NetworkRuleDraft {
    /// Glob over the URL path, e.g. `/videos/**`. `*` stays within a segment.
    pub path: String,
    /// `slow-3g`, `slow-4g`, `fast-4g` (Chrome DevTools' numbers) or `offline` (a reset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Download bandwidth in bytes per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
    /// Who shares `rate`: `rule` (all its connections together, the default) or `connection`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
    /// Milliseconds added before the first byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<u32>,
    /// Up to this many milliseconds more or less than `latency`, at random.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<u32>,
    /// Fault: answer with this status instead (429 and 503 carry `Retry-After: 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Fault: reset the connection after this many body bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_after: Option<u32>,
    /// Fault: send nothing more after this many body bytes, until the connection ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall_after: Option<u32>,
    /// Fault: hold the response head this many milliseconds (a slow first byte).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttfb: Option<u32>,
    /// Fault: send the body in writes of at most this many bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<u32>,
    /// Probability (0 to 1) that the faults happen to a request. Default: 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
}

// `p` is a probability checked to be a number in 0..=1, never NaN, so equality is total.
impl Eq for NetworkRuleDraft {}

/// The CLI's keys, in order, for messages.
const KEYS: &str =
    "preset, rate, per, latency, jitter, status, reset-after, stall-after, ttfb, slice, p";

/// Parses the CLI's `GLOB KEY=VALUE ...`, e.g. `/api/** status=503 p=0.1`.
///
/// # Errors
/// A sentence naming the word or key that is not right.
pub fn parse_flag(text: &str) -> Result<NetworkRuleDraft, String> {
    let mut words = text.split_whitespace();
    let path = words.next().ok_or_else(|| {
        format!("{text:?} is not `GLOB KEY=VALUE ...`, e.g. '/api/** status=503'")
    })?;
    let mut draft = NetworkRuleDraft {
        path: path.to_owned(),
        ..NetworkRuleDraft::default()
    };
    for word in words {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| format!("{word:?} is not KEY=VALUE (keys: {KEYS})"))?;
        fn num<T: std::str::FromStr>(key: &str, value: &str) -> Result<Option<T>, String> {
            value
                .parse()
                .map(Some)
                .map_err(|_| format!("{key}={value:?} is not a number in range"))
        }
        match key {
            "preset" => draft.preset = Some(value.to_owned()),
            "rate" => draft.rate = num(key, value)?,
            "per" => draft.per = Some(value.to_owned()),
            "latency" => draft.latency = num(key, value)?,
            "jitter" => draft.jitter = num(key, value)?,
            "status" => draft.status = num(key, value)?,
            "reset-after" => draft.reset_after = num(key, value)?,
            "stall-after" => draft.stall_after = num(key, value)?,
            "ttfb" => draft.ttfb = num(key, value)?,
            "slice" => draft.slice = num(key, value)?,
            "p" => draft.p = num(key, value)?,
            _ => return Err(format!("{key:?} is not a network rule key (keys: {KEYS})")),
        }
    }
    Ok(draft)
}

impl NetworkRuleDraft {
    /// The rule as the CLI writes it: `/api/** status=503 p=0.1`.
    pub(crate) fn to_flag(&self) -> String {
        let mut text = self.path.clone();
        let mut add = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                text.push_str(&format!(" {key}={value}"));
            }
        };
        add("preset", self.preset.clone());
        add("rate", self.rate.map(|v| v.to_string()));
        add("per", self.per.clone());
        add("latency", self.latency.map(|v| v.to_string()));
        add("jitter", self.jitter.map(|v| v.to_string()));
        add("status", self.status.map(|v| v.to_string()));
        add("reset-after", self.reset_after.map(|v| v.to_string()));
        add("stall-after", self.stall_after.map(|v| v.to_string()));
        add("ttfb", self.ttfb.map(|v| v.to_string()));
        add("slice", self.slice.map(|v| v.to_string()));
        add("p", self.p.map(|v| v.to_string()));
        text
    }
}

/// One checked network rule.
#[derive(Debug, Clone)]
pub struct NetworkRule {
    /// The rule as written.
    pub draft: NetworkRuleDraft,
    /// Bandwidth in bytes per second, and whether each connection gets its own.
    pub(crate) rate: Option<(u32, bool)>,
    /// The rule's shared token bucket (`per=rule`). A new generation makes a new one; a
    /// transfer in flight keeps pacing on the one it started with.
    pub(crate) shared: Option<Limiter>,
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) status: Option<StatusCode>,
    pub(crate) reset_after: Option<u64>,
    pub(crate) stall_after: Option<u64>,
    pub(crate) ttfb: Option<Duration>,
    pub(crate) slice: Option<usize>,
    pub(crate) p: f64,
}

/// The network rules of a site, in order, their globs compiled once; the first that matches
/// a path applies.
#[derive(Debug, Clone, Default)]
pub struct NetworkRules {
    rules: Vec<NetworkRule>,
    globs: GlobSet,
    names: NameMatching,
}

impl PartialEq for NetworkRules {
    fn eq(&self, other: &NetworkRules) -> bool {
        self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.draft == b.draft)
    }
}

impl Eq for NetworkRules {}

impl NetworkRules {
    /// Whether there are no rules (then nothing is ever shaped).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in the order written.
    pub fn rules(&self) -> &[NetworkRule] {
        &self.rules
    }

    /// The first rule whose glob matches `url_path` (decoded, starting with `/`), and its index.
    pub(crate) fn matching(&self, url_path: &str) -> Option<(usize, &NetworkRule)> {
        let hits = self.globs.matches(&*self.names.key(url_path));
        hits.into_iter()
            .min()
            .map(|index| (index, &self.rules[index]))
    }

    /// Checks and compiles the rules of setting `field`.
    pub(crate) fn new(
        field: &'static str,
        drafts: Vec<NetworkRuleDraft>,
        names: NameMatching,
    ) -> Result<NetworkRules, ConfigError> {
        let mut globs = GlobSetBuilder::new();
        let mut rules = Vec::with_capacity(drafts.len());
        for (index, draft) in drafts.into_iter().enumerate() {
            let refuse = |member: &'static str, reason: String| {
                ConfigError::item(field, index, Some(member), reason)
            };
            globs.add(path_glob(
                names,
                &draft.path,
                ["/api/**", "**/*.mp4"],
                refuse,
            )?);
            let preset = match &draft.preset {
                None => None,
                Some(name) => Some(preset::preset(name).ok_or_else(|| {
                    refuse(
                        "preset",
                        format!("{name:?} is not a preset; use one of {}", preset::names()),
                    )
                })?),
            };
            let per_connection = match draft.per.as_deref().map(str::trim) {
                None | Some("rule") => false,
                Some("connection") => true,
                Some(other) => {
                    return Err(refuse(
                        "per",
                        format!("{other:?} is neither \"rule\" nor \"connection\""),
                    ))
                }
            };
            if draft.rate == Some(0) {
                return Err(refuse(
                    "rate",
                    "0 bytes per second would never send; use reset-after or stall-after".into(),
                ));
            }
            let rate = draft
                .rate
                .or(preset.and_then(|preset| preset.rate))
                .map(|rate| (rate, per_connection));
            let status = match draft.status {
                None => None,
                Some(code) => Some(
                    StatusCode::from_u16(code)
                        .ok()
                        .filter(|status| !status.is_informational())
                        .ok_or_else(|| {
                            refuse("status", format!("{code} is not a status from 200 to 999"))
                        })?,
                ),
            };
            let p = draft.p.unwrap_or(1.0);
            if !(0.0..=1.0).contains(&p) {
                return Err(refuse("p", format!("{p} is not a probability from 0 to 1")));
            }
            if draft.slice == Some(0) {
                return Err(refuse("slice", "a write needs at least 1 byte".into()));
            }
            let millis = |ms: Option<u32>| Duration::from_millis(ms.map_or(0, u64::from));
            let latency = match draft.latency {
                Some(_) => millis(draft.latency),
                None => Duration::from_micros(preset.map_or(0, |preset| preset.latency_us)),
            };
            let offline = preset.is_some_and(|preset| preset.offline);
            rules.push(NetworkRule {
                shared: rate
                    .filter(|&(_, per_connection)| !per_connection)
                    .map(|(rate, _)| Limiter::new(f64::from(rate))),
                rate,
                latency,
                jitter: millis(draft.jitter),
                status,
                reset_after: draft.reset_after.map(u64::from).or(offline.then_some(0)),
                stall_after: draft.stall_after.map(u64::from),
                ttfb: draft.ttfb.map(|ms| millis(Some(ms))),
                slice: draft.slice.map(|slice| slice as usize),
                p,
                draft,
            });
        }
        let globs = globs.build().map_err(|err| {
            ConfigError::new(field, format!("the globs cannot be combined: {err}"))
        })?;
        Ok(NetworkRules {
            rules,
            globs,
            names,
        })
    }
}
