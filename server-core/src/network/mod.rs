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

use async_speed_limit::Limiter;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use crate::http::body::Body;
use body::Shape;
pub(crate) use body::Shaped;
pub use rule::parse_flag;
pub use rule::{NetworkRule, NetworkRuleDraft, NetworkRules};

/// `Retry-After` sent with a 429 or 503 fault: the client may try again in a second.
const RETRY_AFTER: HeaderValue = HeaderValue::from_static("1");

/// `response` as the first rule matching `path` (decoded) would have it: delayed, replaced by
/// a fault's status, its body paced or faulted. Unchanged when no rule matches.
pub(crate) async fn shape(
    rules: &NetworkRules,
    path: &str,
    response: Response<Body>,
    status_page: impl FnOnce(StatusCode) -> Response<Body>,
) -> Response<Body> {
    let Some((_, rule)) = rules.matching(path) else {
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
    let limiter = rule.rate.map(|(rate, per_connection)| match &rule.shared {
        Some(shared) if !per_connection => shared.clone(),
        _ => Limiter::new(f64::from(rate)),
    });
    let shape = Shape {
        limiter,
        slice: rule.slice.filter(|_| faulted),
        reset_after: rule.reset_after.filter(|_| faulted),
        stall_after: rule.stall_after.filter(|_| faulted),
    };
    if shape.limiter.is_some()
        || shape.slice.is_some()
        || shape.reset_after.is_some()
        || shape.stall_after.is_some()
    {
        let inner = std::mem::replace(response.body_mut(), Body::Empty);
        *response.body_mut() = Body::Shaped(Box::new(Shaped::new(inner, shape)));
    }
    response
}
