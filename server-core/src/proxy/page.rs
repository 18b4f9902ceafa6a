//! The pages the proxy answers with when a target cannot: 502 (it refused, or cannot be
//! reached) and 504 (it took too long), naming the target and the OS's error, and saying
//! how to get it going. Everything from outside is escaped.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use crate::http::body::Body;
use crate::serve::listing::escape;

/// What went wrong between Wharf and a target.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No connection: refused, unreachable, or no answer within the connect timeout.
    Unreachable(String),
    /// Connected, but no response head within the first-byte timeout.
    TimedOut(std::time::Duration),
    /// Connected, but the target broke off or sent something that is not HTTP.
    Broken(String),
}

/// The 502 or 504 page for `target` and `failure`.
pub(crate) fn failure_page(target: &str, failure: &Failure) -> Response<Body> {
    let (status, what, hint) = match failure {
        Failure::Unreachable(error) => (
            StatusCode::BAD_GATEWAY,
            format!(
                "Wharf could not connect to {}: {}.",
                escape(target),
                escape(error)
            ),
            "Is the backend running? Start it (for example <code>npm run dev</code> or \
             <code>python -m http.server 3000</code> in its folder), check that it listens on \
             the port the rule names, then reload this page.",
        ),
        Failure::TimedOut(after) => (
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "{} did not answer within {} s.",
                escape(target),
                after.as_secs_f64()
            ),
            "The backend accepted the connection but sent nothing back. Check its console for \
             a request stuck in progress, or raise the proxy timeout in the site's settings \
             (<code>--proxy-timeout</code>).",
        ),
        Failure::Broken(error) => (
            StatusCode::BAD_GATEWAY,
            format!(
                "{} broke off its answer: {}.",
                escape(target),
                escape(error)
            ),
            "Check the backend's console for an error, then reload this page.",
        ),
    };
    let reason = status.canonical_reason().unwrap_or("");
    let html = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>{code} {reason}</title>\n\
         <h1>{code} {reason}</h1>\n<p>{what}</p>\n<p>{hint}</p>\n",
        code = status.as_u16()
    );
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
