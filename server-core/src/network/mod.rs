//! Network conditions and faults per path (issue 18): a site's rules slow, delay or fail the
//! answers to the paths they match, whatever answered (a file, a listing, or a proxied
//! upstream), and never Wharf's own `/__wharf/` endpoints.
//!
//! [`shape`] is the one hook: the service hands it the answer and it returns the answer as the
//! rule would have it, after holding the head for the rule's latency (with its jitter) and any
//! slow-first-byte fault. `rule` checks the setting, `preset` holds DevTools' numbers, `body`
//! paces and faults the bytes. This module reads only the config snapshot it is given, so a
//! transfer in flight keeps the rule (and the shared token bucket) it started with.

mod body;
mod preset;
mod rule;

use std::sync::{Arc, Mutex, PoisonError};

use async_speed_limit::Limiter;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use crate::http::body::Body;
use body::Shape;
pub(crate) use body::Shaped;
pub use rule::parse_flag;
pub use rule::{NetworkRule, NetworkRuleDraft, NetworkRules};

/// What a network rule did to an answer, for its access record: carried in the response's
/// extensions from [`shape`] to the connection, which makes the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NetworkNote {
    /// Index of the rule in the `network` setting.
    pub rule: u32,
    /// What it did: [`NetworkNote::THROTTLE`], [`NetworkNote::LATENCY`] and the faults.
    pub effects: u8,
}

impl NetworkNote {
    /// Paced through a token bucket.
    pub const THROTTLE: u8 = 1;
    /// Held for the rule's latency (and jitter).
    pub const LATENCY: u8 = 2;
    /// Answered with the fault's status instead.
    pub const STATUS: u8 = 4;
    /// Reset after K body bytes.
    pub const RESET: u8 = 8;
    /// Stalled after K body bytes.
    pub const STALL: u8 = 16;
    /// Head held for the fault's slow first byte.
    pub const TTFB: u8 = 32;
    /// Body sent in small writes.
    pub const SLICE: u8 = 64;
    /// Each effect's bit and name (the CSV's `network_effect`), also generated for the UI.
    pub(crate) const NAMES: [(u8, &'static str); 7] = [
        (NetworkNote::THROTTLE, "throttle"),
        (NetworkNote::LATENCY, "latency"),
        (NetworkNote::STATUS, "status"),
        (NetworkNote::RESET, "reset"),
        (NetworkNote::STALL, "stall"),
        (NetworkNote::TTFB, "ttfb"),
        (NetworkNote::SLICE, "slice"),
    ];

    /// The effects' names joined by `+`, e.g. `throttle+reset`; empty for none.
    pub fn effect_names(&self) -> String {
        let names: Vec<&str> = NetworkNote::NAMES
            .iter()
            .filter(|(bit, _)| self.effects & bit != 0)
            .map(|&(_, name)| name)
            .collect();
        names.join("+")
    }
}

/// The token buckets of one connection's `per=connection` rules, by rule index: made on the
/// connection's first answer under each rule, and dropped with the connection. The
/// connection puts them in its requests' extensions while the site has network rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionBuckets(Arc<Mutex<Vec<(usize, Limiter)>>>);

impl ConnectionBuckets {
    /// The bucket of rule `index`, made at `rate` bytes per second on first use.
    fn bucket(&self, index: usize, rate: u32) -> Limiter {
        let mut buckets = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, limiter)) = buckets.iter().find(|(rule, _)| *rule == index) {
            return limiter.clone();
        }
        let limiter = Limiter::new(f64::from(rate));
        buckets.push((index, limiter.clone()));
        limiter
    }
}

/// `Retry-After` sent with a 429 or 503 fault: the client may try again in a second.
const RETRY_AFTER: HeaderValue = HeaderValue::from_static("1");

/// `response` as the first rule matching `path` (decoded) would have it: delayed, replaced by
/// a fault's status, its body paced or faulted. Unchanged when no rule matches.
pub(crate) async fn shape(
    rules: &NetworkRules,
    path: &str,
    response: Response<Body>,
    buckets: Option<&ConnectionBuckets>,
    status_page: impl FnOnce(StatusCode) -> Response<Body>,
) -> Response<Body> {
    let Some((index, rule)) = rules.matching(path) else {
        return response;
    };
    let faulted = rule.p >= 1.0 || (rule.p > 0.0 && fastrand::f64() < rule.p);
    let mut delay = rule.latency;
    if !rule.jitter.is_zero() {
        let jitter = rule.jitter.as_micros() as u64;
        let offset = fastrand::u64(0..=2 * jitter);
        delay = (delay + std::time::Duration::from_micros(offset))
            .saturating_sub(std::time::Duration::from_micros(jitter));
    }
    if faulted {
        delay += rule.ttfb.unwrap_or_default();
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = match rule.status.filter(|_| faulted) {
        Some(status) => {
            let mut page = status_page(status);
            if matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ) {
                page.headers_mut().insert(header::RETRY_AFTER, RETRY_AFTER);
            }
            page
        }
        None => response,
    };
    let limiter = rule
        .rate
        .map(|(rate, per_connection)| match (&rule.shared, buckets) {
            (Some(shared), _) if !per_connection => shared.clone(),
            (_, Some(buckets)) => buckets.bucket(index, rate),
            // Answered outside a connection (the fuzz targets): a bucket of its own.
            _ => Limiter::new(f64::from(rate)),
        });
    let shape = Shape {
        limiter,
        slice: rule.slice.filter(|_| faulted),
        reset_after: rule.reset_after.filter(|_| faulted),
        stall_after: rule.stall_after.filter(|_| faulted),
    };
    let effects = [
        (shape.limiter.is_some(), NetworkNote::THROTTLE),
        (
            !rule.latency.is_zero() || !rule.jitter.is_zero(),
            NetworkNote::LATENCY,
        ),
        (faulted && rule.status.is_some(), NetworkNote::STATUS),
        (shape.reset_after.is_some(), NetworkNote::RESET),
        (shape.stall_after.is_some(), NetworkNote::STALL),
        (faulted && rule.ttfb.is_some(), NetworkNote::TTFB),
        (shape.slice.is_some(), NetworkNote::SLICE),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |effects, (_, bit)| effects | bit);
    if effects
        & (NetworkNote::THROTTLE | NetworkNote::RESET | NetworkNote::STALL | NetworkNote::SLICE)
        != 0
    {
        let inner = std::mem::replace(response.body_mut(), Body::Empty);
        *response.body_mut() = Body::Shaped(Box::new(Shaped::new(inner, shape)));
    }
    response.extensions_mut().insert(NetworkNote {
        rule: u32::try_from(index).unwrap_or(u32::MAX),
        effects,
    });
    response
}

#[cfg(test)]
mod tests {
    use http::Response;

    use super::{shape, NetworkNote, NetworkRules};
    use crate::http::body::Body;
    use crate::serve::names::NameMatching;

    fn rules(texts: &[&str]) -> NetworkRules {
        let drafts = texts
            .iter()
            .map(|text| super::parse_flag(text).unwrap())
            .collect();
        NetworkRules::new("network", drafts, NameMatching::default()).unwrap()
    }

    async fn note(rules: &NetworkRules, path: &str) -> Option<NetworkNote> {
        let response = shape(rules, path, Response::new(Body::Empty), None, |status| {
            let mut page = Response::new(Body::Empty);
            *page.status_mut() = status;
            page
        })
        .await;
        response.extensions().get::<NetworkNote>().copied()
    }

    /// The note says which rule applied (the first that matches) and what it did.
    #[tokio::test]
    async fn the_note_names_the_rule_and_its_effects() {
        let rules = rules(&[
            "/a/** rate=1000000 reset-after=5",
            "/** status=503 slice=3 p=0",
            "/** status=503",
        ]);
        let a = note(&rules, "/a/x").await.unwrap();
        assert_eq!((a.rule, a.effect_names().as_str()), (0, "throttle+reset"));
        let b = note(&rules, "/b").await.unwrap();
        assert_eq!((b.rule, b.effects), (1, 0), "p=0: matched, nothing done");
        let none = NetworkRules::default();
        assert_eq!(note(&none, "/a/x").await, None);
    }
}
