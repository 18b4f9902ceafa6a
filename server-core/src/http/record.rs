//! A request's access record, as its exchange goes: what the request head says, the status
//! and what answered (as the service decided it, never read back from headers), the time to
//! the first body byte, and the body's bytes, counted from the body's own frames as hyper
//! takes them (see [`Tracked`]). hyper drops the body when a response ends, sent or not, so
//! [`Tracked`]'s drop is where the connection learns a response is done.

use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{header, HeaderMap, Request, Response, StatusCode, Version};
use http_body::{Frame, SizeHint};
use tokio::time::Instant;

use crate::http::body::Body;
use crate::http::connection::Scope;
use crate::lifecycle::registry::ConnectionState;
use crate::network::NetworkNote;
use crate::observe::access::{micros, unix_ms, AccessRecord, Outcome, ProxyRecord, Served};
use crate::observe::access_log::AccessLog;
use crate::observe::packed::{self, Numbers, RequestText};
use crate::observe::timing::Timing;
use crate::observe::why::Why;

/// What is known of a request once its head has been read.
pub(super) struct RequestStart {
    at: Instant,
    start_ms: u64,
    /// Its code (see [`packed::VERSIONS`]).
    version: u8,
    /// Method, target, user agent and referer, capped and packed in one buffer, and the
    /// headers group when the log keeps headers (see [`PendingRecord::new`]).
    text: RequestText,
    /// Its timeline up to the head (`observe::timing`).
    timing: Timing,
}

impl RequestStart {
    /// Client-chosen text is capped as it is copied (see [`crate::observe::access::capped_end`]),
    /// so a record's size is bounded whatever the request carried. When the connection's log
    /// keeps headers (`scope.server_end`), the request's headers are copied too, into the same
    /// buffer. Its timeline comes from the connection's clocks in `scope`: no clock is read for
    /// it beyond the head's own.
    pub(super) fn of<B>(request: &Request<B>, log: &AccessLog, scope: &Scope) -> RequestStart {
        let end = scope.server_end;
        let header = |name| request.headers().get(name).map(|value| value.as_bytes());
        let whole_uri;
        let target = match request.uri().path_and_query() {
            Some(pq) => pq.as_str(),
            None => {
                whole_uri = request.uri().to_string();
                &whole_uri
            }
        };
        let at = Instant::now();
        let room = end.map_or(0, |_| packed::headers_room(header_lines(request.headers())));
        let mut text = RequestText::with_room(
            request.method().as_str(),
            target,
            header(header::USER_AGENT),
            header(header::REFERER),
            room,
        );
        if let Some(end) = end {
            // HTTP/2 carries the host as the `:authority` pseudo-header, which browsers show
            // (and a HAR's URL needs); HTTP/1 has its `Host` header.
            let authority = (request.version() == Version::HTTP_2)
                .then(|| request.uri().authority())
                .flatten()
                .map(|authority| (":authority", authority.as_str().as_bytes()));
            let lines = authority.into_iter().chain(header_lines(request.headers()));
            text.record_request_headers(end, lines);
        }
        let activity = &scope.activity;
        // `in_flight` counts this request already: the first has none before or beside it.
        let first = activity.responses.load(Ordering::Relaxed) == 0
            && activity.in_flight.load(Ordering::Relaxed) <= 1;
        // HTTP/2's requests share the connection's reads: none is the head's own.
        let head_began_us = (request.version() != http::Version::HTTP_2).then(|| {
            activity
                .request_began_us
                .load(Ordering::Relaxed)
                .saturating_sub(1)
        });
        let tls_done_us = scope.tls_done_us.load(Ordering::Relaxed).checked_sub(1);
        let head_us = micros(at.saturating_duration_since(activity.opened));
        RequestStart {
            timing: Timing::new(head_us, tls_done_us, head_began_us, first),
            at,
            start_ms: log.unix_ms_at(at.into_std()),
            version: packed::version_code(request.version()),
            text,
        }
    }
}

/// The framing header hyper adds to `response` when it has none (`Content-Length` for a body of
/// known size, else `Transfer-Encoding: chunked` on HTTP/1.1), as hyper's encoders decide it; a
/// status without a body gets none. (hyper also adds `Date`: the export writes it.)
fn framing<'d>(
    response: &Response<Body>,
    version: u8,
    digits: &'d mut itoa::Buffer,
) -> Option<(&'static str, &'d [u8])> {
    let headers = response.headers();
    let status = response.status();
    if headers.contains_key(header::CONTENT_LENGTH)
        || headers.contains_key(header::TRANSFER_ENCODING)
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return None;
    }
    match http_body::Body::size_hint(response.body()).exact() {
        Some(len) => Some(("content-length", digits.format(len).as_bytes())),
        None if version == packed::version_code(Version::HTTP_11) => {
            Some(("transfer-encoding", b"chunked"))
        }
        None => None,
    }
}

/// `headers` as names and value bytes, in hyper's order.
fn header_lines(headers: &HeaderMap) -> impl Iterator<Item = (&str, &[u8])> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
}

/// A request's record while its response is being sent.
pub(super) struct PendingRecord {
    start: RequestStart,
    status: u16,
    served: Served,
    /// For a proxied request: the rule and what its target did.
    pub(super) proxy: Option<ProxyRecord>,
    network: Option<NetworkNote>,
    /// The decisions that shaped the response (`observe::why`).
    pub(super) why: Why,
    ttfb: Option<Duration>,
    /// The body's bytes hyper has taken: counted from the body's data frames, so they are the
    /// body's own bytes whatever the framing (chunked, HTTP/2 DATA frames, TLS records) and
    /// never include the head.
    body_bytes: u64,
}

impl PendingRecord {
    /// The record of a request that began at `start` and is answered with `response` by what
    /// `served` names. Its headers are kept when the request's were, with the framing hyper
    /// adds when the service set none (see [`framing`]).
    pub(super) fn new(
        mut start: RequestStart,
        response: &Response<Body>,
        served: Served,
        network: Option<NetworkNote>,
    ) -> Box<Self> {
        let status = response.status();
        if start.text.keeps_headers() {
            let mut digits = itoa::Buffer::new();
            let framing = framing(response, start.version, &mut digits);
            let lines = header_lines(response.headers()).chain(framing);
            start.text.record_response_headers(lines);
        }
        Box::new(PendingRecord {
            start,
            status: status.as_u16(),
            served,
            proxy: None,
            network,
            why: Why::default(),
            ttfb: None,
            body_bytes: 0,
        })
    }

    /// Notes when the route's last lookup ended (`None`: nothing was looked up).
    pub(super) fn resolved(&mut self, resolved: Option<Instant>) {
        self.start.timing.resolved(self.start.at, resolved);
    }

    /// Records the request: `completed` when every byte reached the socket. The bytes are the
    /// body's bytes handed to hyper: all of them were sent when the exchange completed; when
    /// it was cut short, the last of them may have been still in hyper's buffer.
    pub(super) fn finish(self, scope: &Scope, completed: bool) {
        let Some(log) = &scope.log else { return };
        let total = self.start.at.elapsed();
        let outcome = if completed {
            Outcome::Completed
        } else if scope.activity.cut.load(Ordering::Relaxed) {
            Outcome::Error
        } else {
            Outcome::ClientAborted
        };
        let numbers = Numbers {
            start_ms: self.start.start_ms,
            peer: scope.peer,
            version: self.start.version,
            status: self.status,
            body_bytes: self.body_bytes,
            completed,
            // An empty body goes out with the head.
            ttfb_us: Some(micros(self.ttfb.unwrap_or(total))),
            total_us: micros(total),
            outcome,
            connection: scope.id,
            generation: scope.config.generation,
            served: self.served,
            proxy: self.proxy,
            network: self.network,
            why: Some(self.why),
            timing: Some(self.start.timing),
        };
        log.record_request(&numbers, &self.start.text);
    }
}

/// A response body that tells the connection when it has been sent (or abandoned): hyper
/// drops the body at the end of the response either way. It also follows the request's
/// access record: first byte, bytes taken, and whether the body ran to its end.
pub(super) struct Tracked {
    body: Body,
    context: Arc<Scope>,
    record: Option<Box<PendingRecord>>,
    /// The body ran to its end.
    ended: bool,
}

impl Tracked {
    /// `body`, followed for the connection of `context` and for `record`.
    pub(super) fn new(
        body: Body,
        context: Arc<Scope>,
        record: Option<Box<PendingRecord>>,
    ) -> Tracked {
        Tracked {
            body,
            context,
            record,
            ended: false,
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if matches!(self.body, Body::Events(_)) {
            self.context.event_streams.fetch_sub(1, Ordering::Relaxed);
        }
        let ended = self.ended || http_body::Body::is_end_stream(&self.body);
        if ended {
            // Every byte is with hyper; it is sent once hyper flushes the socket.
            self.context.taken(self.record.take());
            return;
        }
        // hyper gave up on the body: the client left, or the connection was cut.
        self.context.activity.done();
        if let Some(pending) = self.record.take() {
            pending.finish(&self.context, false);
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        this.ended |= matches!(polled, Poll::Ready(None));
        if let (Some(pending), Poll::Ready(Some(Ok(frame)))) = (&mut this.record, &polled) {
            pending
                .ttfb
                .get_or_insert_with(|| pending.start.at.elapsed());
            if let Some(data) = frame.data_ref() {
                pending.body_bytes += data.len() as u64;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request hyper gave up on before it reached the service: a head that never finished
/// (timeout, client gone) or could not be parsed (hyper answered 400 or 431 itself). Only
/// recorded when the client had started sending it; a connection that never said anything
/// is not a request.
pub(super) fn record_failed_request(context: &Scope, err: &hyper::Error) {
    let (status, outcome) = if err.is_timeout() {
        (0, Outcome::TimedOut)
    } else if err.is_parse_too_large() {
        (431, Outcome::Error)
    } else if err.is_parse() {
        (400, Outcome::Error)
    } else if err.is_incomplete_message() {
        (0, Outcome::ClientAborted)
    } else {
        (0, Outcome::Error)
    };
    record_unfinished_head(context, status, outcome);
}

/// A request whose head never finished, answered with `status` (0 for none), as `outcome`
/// says; recorded as [`record_failed_request`] says.
pub(super) fn record_unfinished_head(context: &Scope, status: u16, outcome: Outcome) {
    let Some(log) = &context.log else { return };
    let activity = &context.activity;
    if activity.state() != ConnectionState::Reading {
        return;
    }
    let began = activity.request_began();
    log.record(&AccessRecord {
        id: 0,
        start_ms: unix_ms(SystemTime::now() - began.elapsed()),
        peer: context.peer,
        method: String::new(),
        target: String::new(),
        version: String::new(),
        status,
        body_bytes: 0,
        completed: false,
        ttfb_us: None,
        total_us: micros(began.elapsed()),
        outcome,
        user_agent: None,
        referer: None,
        connection: context.id,
        generation: context.config.generation,
        served: Served::Status,
        proxy: None,
        network: None,
        why: None,
        headers: None,
        timing: None,
    });
}
