//! An access record packed into bytes: how the request path hands it to the log's writer,
//! and how the session log keeps it on disk.
//!
//! The request path copies the client's text (method, target, user agent, referer) once, when
//! the request's head arrives, into one buffer of exactly its size ([`RequestText`]). When the
//! response ends it appends the whole record, numbers and text, to the log's queue in one
//! copy ([`pack`]): no allocation per field, no 240-byte record moved from struct to struct.
//! The writer reads records back as views that borrow the queue's bytes ([`Packed`]), copies
//! each one's bytes as they are into the session log (`session_log`), and makes an owned
//! [`AccessRecord`] only for live subscribers and readers.
//!
//! When the log keeps headers (a durable log, for the HAR export), the request's headers are
//! copied, bounded, into the same buffer as its text when its head arrives, and the response's
//! appended when its head is known: the last optional group (tag 5), one allocation per request
//! and none per header ([`RequestText::record_request_headers`]).
//!
//! Hand-written rather than a serde format such as bincode or postcard: a view must borrow
//! the text rather than copy it, and a record must be appended from its parts without first
//! being assembled as a value. A packed record starts with its own length, so records follow
//! one another without framing.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::network::NetworkNote;
use crate::observe::access::MAX_USER_AGENT_BYTES;
use crate::observe::access::TRUNCATION_MARK;
use crate::observe::access::{
    capped_end, lossy_prefix, AccessRecord, Outcome, ProxyRecord, Served,
};
use crate::observe::access::{HeaderLine, RecordedHeaders};
use crate::observe::access::{
    MAX_HEADERS, MAX_HEADER_NAME_BYTES, MAX_HEADER_SIDE_BYTES, MAX_HEADER_VALUE_BYTES,
};
use crate::observe::access::{MAX_METHOD_BYTES, MAX_REFERER_BYTES, MAX_TARGET_BYTES};
use crate::observe::timing::Timing;
use crate::observe::why::Why;

/// The HTTP versions a record names, by their code in a packed record (its index here).
pub(crate) const VERSIONS: [&str; 6] = [
    "", "HTTP/0.9", "HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3.0",
];
/// The code in [`VERSIONS`] of `version`.
pub(crate) fn version_code(version: http::Version) -> u8 {
    use http::Version;
    match version {
        Version::HTTP_09 => 1,
        Version::HTTP_10 => 2,
        Version::HTTP_11 => 3,
        Version::HTTP_2 => 4,
        Version::HTTP_3 => 5,
        _ => 0,
    }
}
/// Every [`Outcome`], in declaration order: a packed record holds the index.
const OUTCOMES: [Outcome; 4] = Outcome::ALL;
/// Every [`Served`], in declaration order: a packed record holds the index.
const SERVED: [Served; 12] = [
    Served::File,
    Served::Br,
    Served::Gzip,
    Served::Range,
    Served::NotModified,
    Served::Listing,
    Served::Redirect,
    Served::Fallback,
    Served::LiveReload,
    Served::Status,
    Served::Blocked,
    Served::Proxy,
];

/// The client's text of one request, capped and packed: each field a 16-bit length and its
/// bytes, with a flag byte first saying which optional headers were present. When the log keeps
/// headers, the same buffer then holds the headers group (see [`RequestText::record_request_headers`]).
#[derive(Debug, Default)]
pub(crate) struct RequestText {
    bytes: Vec<u8>,
    /// Where the headers group starts in `bytes` (its length when there is none).
    headers_at: usize,
    /// Whether the headers group is whole (both sides recorded), so it is packed.
    headers_done: bool,
}

/// Where a request was answered, for the headers group: the connection's local address and
/// whether it is TLS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerEnd {
    pub(crate) addr: Option<SocketAddr>,
    pub(crate) https: bool,
}

const HAS_USER_AGENT: u8 = 1;
const HAS_REFERER: u8 = 2;

impl RequestText {
    /// `method`, `target`, and the `User-Agent` and `Referer` values if sent, each capped at
    /// its limit (see [`crate::observe::access::capped_end`]); invalid UTF-8 in a header value
    /// becomes U+FFFD. One allocation, of the exact size.
    pub(crate) fn new(
        method: &str,
        target: &str,
        user_agent: Option<&[u8]>,
        referer: Option<&[u8]>,
    ) -> RequestText {
        RequestText::with_room(method, target, user_agent, referer, 0)
    }

    /// [`RequestText::new`], with `room` more bytes allocated for the headers group.
    pub(crate) fn with_room(
        method: &str,
        target: &str,
        user_agent: Option<&[u8]>,
        referer: Option<&[u8]>,
        room: usize,
    ) -> RequestText {
        let user_agent = user_agent.map(|value| lossy_prefix(value, MAX_USER_AGENT_BYTES));
        let referer = referer.map(|value| lossy_prefix(value, MAX_REFERER_BYTES));
        let fields = [
            Some(Capped::of(method, MAX_METHOD_BYTES)),
            Some(Capped::of(target, MAX_TARGET_BYTES)),
            user_agent
                .as_deref()
                .map(|text| Capped::of(text, MAX_USER_AGENT_BYTES)),
            referer
                .as_deref()
                .map(|text| Capped::of(text, MAX_REFERER_BYTES)),
        ];
        let size = 1 + fields
            .iter()
            .flatten()
            .map(|field| 2 + field.len())
            .sum::<usize>();
        let mut bytes = Vec::with_capacity(size + room);
        let flags = u8::from(fields[2].is_some()) * HAS_USER_AGENT
            + u8::from(fields[3].is_some()) * HAS_REFERER;
        bytes.push(flags);
        for field in fields.iter().flatten() {
            field.push(&mut bytes);
        }
        RequestText {
            headers_at: bytes.len(),
            bytes,
            headers_done: false,
        }
    }

    /// Starts the headers group: where the request was answered, then the request's
    /// `headers`, bounded (see [`RecordedHeaders`]). Allocates nothing when the buffer has
    /// room (see [`headers_room`]) and the values are UTF-8.
    pub(crate) fn record_request_headers<'h>(
        &mut self,
        end: ServerEnd,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    ) {
        self.start_headers(end, headers, 0);
    }

    /// Ends the headers group with the response's `headers`; a group never started stays
    /// absent.
    pub(crate) fn record_response_headers<'h>(
        &mut self,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    ) {
        self.end_headers(headers, 0);
    }

    /// [`RequestText::record_request_headers`], `omitted` already left out.
    fn start_headers<'h>(
        &mut self,
        end: ServerEnd,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
        omitted: u16,
    ) {
        self.bytes.truncate(self.headers_at);
        self.headers_done = false;
        self.bytes.extend_from_slice(&[HAS_HEADERS, 0, 0]);
        let (ip, port, v6) = match end.addr {
            Some(SocketAddr::V4(addr)) => (addr.ip().to_ipv6_mapped(), addr.port(), 0),
            Some(SocketAddr::V6(addr)) => (*addr.ip(), addr.port(), 1),
            None => (Ipv6Addr::UNSPECIFIED, 0, 0),
        };
        let flags = u8::from(end.https) * HTTPS + u8::from(end.addr.is_some()) * SERVER_KNOWN;
        self.bytes.push(flags);
        self.bytes.extend_from_slice(&ip.octets());
        self.bytes.extend_from_slice(&port.to_le_bytes());
        self.bytes.push(v6);
        push_side(&mut self.bytes, headers, omitted);
    }

    /// [`RequestText::record_response_headers`], `omitted` already left out.
    fn end_headers<'h>(
        &mut self,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
        omitted: u16,
    ) {
        if self.bytes.len() == self.headers_at {
            return;
        }
        push_side(&mut self.bytes, headers, omitted);
        let len = self.bytes.len() - self.headers_at - 3;
        let len = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
        self.bytes[self.headers_at + 1..self.headers_at + 3].copy_from_slice(&len);
        self.headers_done = true;
    }

    /// Whether the request's headers were recorded (the response's are to follow).
    pub(crate) fn keeps_headers(&self) -> bool {
        self.bytes.len() > self.headers_at
    }

    /// The text, and the headers group if whole.
    fn parts(&self) -> (&[u8], &[u8]) {
        let (text, headers) = self.bytes.split_at(self.headers_at);
        (text, if self.headers_done { headers } else { &[] })
    }
}

/// Bytes to allocate for the headers group of a request with `headers` beside its text: the
/// request's side as it will be packed (about), and room for a usual response's.
pub(crate) fn headers_room<'h>(headers: impl Iterator<Item = (&'h str, &'h [u8])>) -> usize {
    const USUAL_RESPONSE: usize = 512;
    let request: usize = headers
        .take(MAX_HEADERS)
        .map(|(name, value)| 4 + name.len() + value.len().min(MAX_HEADER_VALUE_BYTES + 3))
        .sum();
    HEADERS_FIXED
        + 2 * SIDE_FIXED
        + request.min(MAX_HEADER_SIDE_BYTES + 4 * MAX_HEADERS)
        + USUAL_RESPONSE
}

/// Appends one side of the headers group: how many were left out (16 bits), how many follow
/// (8 bits), then each name and value as a [`Capped`] field. A header that would take the side
/// past [`MAX_HEADERS`] or [`MAX_HEADER_SIDE_BYTES`] is left out and counted; later, smaller
/// ones may still fit.
/// `omitted` counts headers already left out (by the record this one is packed from).
fn push_side<'h>(
    out: &mut Vec<u8>,
    headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    omitted: u16,
) {
    let at = out.len();
    out.extend_from_slice(&[0; SIDE_FIXED]);
    let (mut count, mut omitted, mut budget) = (0u8, omitted, MAX_HEADER_SIDE_BYTES);
    for (name, value) in headers {
        let value = lossy_prefix(value, MAX_HEADER_VALUE_BYTES);
        let name = Capped::of(name, MAX_HEADER_NAME_BYTES);
        let value = Capped::of(&value, MAX_HEADER_VALUE_BYTES);
        let size = name.len() + value.len();
        if usize::from(count) == MAX_HEADERS || size > budget {
            omitted = omitted.saturating_add(1);
            continue;
        }
        budget -= size;
        count += 1;
        name.push(out);
        value.push(out);
    }
    out[at..at + 2].copy_from_slice(&omitted.to_le_bytes());
    out[at + 2] = count;
}

impl RequestText {
    /// The text of a whole `record`.
    pub(crate) fn of_record<'a>(record: &'a AccessRecord) -> RequestText {
        let mut text = RequestText::new(
            &record.method,
            &record.target,
            record.user_agent.as_deref().map(str::as_bytes),
            record.referer.as_deref().map(str::as_bytes),
        );
        if let Some(headers) = &record.headers {
            let side = |lines: &'a [HeaderLine]| {
                lines
                    .iter()
                    .map(|line| (line.name.as_str(), line.value.as_bytes()))
            };
            let end = ServerEnd {
                addr: headers.server,
                https: headers.https,
            };
            text.start_headers(end, side(&headers.request), headers.request_omitted);
            text.end_headers(side(&headers.response), headers.response_omitted);
        }
        text
    }
}

/// What a record holds besides the client's text and its id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numbers {
    pub(crate) start_ms: u64,
    pub(crate) peer: SocketAddr,
    /// Index in [`VERSIONS`].
    pub(crate) version: u8,
    pub(crate) status: u16,
    pub(crate) body_bytes: u64,
    pub(crate) completed: bool,
    pub(crate) ttfb_us: Option<u64>,
    pub(crate) total_us: u64,
    pub(crate) outcome: Outcome,
    pub(crate) connection: u64,
    pub(crate) generation: u64,
    pub(crate) served: Served,
    /// For a proxied request, what its rule's target did: packed after the text, so records
    /// without it (and those written before the proxy) read back as `None`.
    pub(crate) proxy: Option<ProxyRecord>,
    /// What a network rule did: packed after the text, like `proxy`.
    pub(crate) network: Option<NetworkNote>,
    /// The decisions that shaped the response (issue 19): packed after the text, like `proxy`.
    pub(crate) why: Option<Why>,
    /// The request's timeline (issue 19): packed after the text, like `proxy`.
    pub(crate) timing: Option<Timing>,
}

impl Numbers {
    /// The numbers of `record`.
    pub(crate) fn of(record: &AccessRecord) -> Numbers {
        let version = VERSIONS
            .iter()
            .position(|name| *name == record.version)
            .unwrap_or(0);
        Numbers {
            start_ms: record.start_ms,
            peer: record.peer,
            version: version as u8,
            status: record.status,
            body_bytes: record.body_bytes,
            completed: record.completed,
            ttfb_us: record.ttfb_us,
            total_us: record.total_us,
            outcome: record.outcome,
            connection: record.connection,
            generation: record.generation,
            served: record.served,
            proxy: record.proxy,
            network: record.network,
            why: record.why,
            timing: record.timing,
        }
    }
}

/// Bytes of a packed record before its text: its length, the numbers and the peer.
const HEAD: usize = 4 + 7 * 8 + 2 + 2 + 16 + 4 + 5;

/// The optional groups after the text (issue 18), each a tag and its bytes, in this order;
/// records written before them end with the text and read back without them.
/// The proxy group: the rule, the target's status (0: none), its first byte (MAX: none).
const PROXY_GROUP: usize = 1 + 2 + 2 + 8;
const HAS_PROXY: u8 = 2;
/// The network group: the rule's index and its effects.
const NETWORK_GROUP: usize = 1 + 4 + 1;
const HAS_NETWORK: u8 = 1;
/// The why group: the four bytes of [`Why::to_bytes`].
const WHY_GROUP: usize = 1 + 4;
const HAS_WHY: u8 = 3;
/// Which custom header rules applied ([`Why::header_rule_mask`]), when any did: after the why
/// group.
const RULES_GROUP: usize = 1 + 4;
const HAS_RULES: u8 = 6;
/// The headers group (issue 19), the last: its tag, the length of the rest (16 bits), a flag
/// byte ([`HTTPS`], [`SERVER_KNOWN`]), the server's address (16 bytes of IPv6, the port, 1 for
/// IPv6), then the request's side and the response's (see `push_side`).
const HAS_HEADERS: u8 = 5;
const HEADERS_FIXED: usize = 1 + 2 + 1 + 16 + 2 + 1;
const HTTPS: u8 = 1;
const SERVER_KNOWN: u8 = 2;
/// A side's count of headers left out (16 bits) and kept (8 bits).
const SIDE_FIXED: usize = 3;
/// The timing group: its tag, then [`Timing::encode`]'s bytes (their length varies).
const HAS_TIMING: u8 = 4;

/// Appends the record of `numbers` and `text` to `out`.
pub(crate) fn pack(numbers: &Numbers, text: &RequestText, out: &mut Vec<u8>) {
    let (text, headers) = text.parts();
    let timing = numbers.timing.map(Timing::encode);
    let len = HEAD
        + text.len()
        + headers.len()
        + numbers.proxy.map_or(0, |_| PROXY_GROUP)
        + numbers.network.map_or(0, |_| NETWORK_GROUP)
        + numbers.why.map_or(0, |_| WHY_GROUP)
        + rule_mask(numbers).map_or(0, |_| RULES_GROUP)
        + timing.map_or(0, |timing| 1 + timing.as_slice().len());
    out.reserve(len);
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
    for value in [
        numbers.start_ms,
        numbers.body_bytes,
        numbers.ttfb_us.unwrap_or(u64::MAX),
        numbers.total_us,
        numbers.connection,
        numbers.generation,
        u64::from(numbers.status),
    ] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    let (ip, port, scope, v6) = match numbers.peer {
        SocketAddr::V4(addr) => (addr.ip().to_ipv6_mapped(), addr.port(), 0, 0),
        SocketAddr::V6(addr) => (*addr.ip(), addr.port(), addr.scope_id(), 1),
    };
    out.extend_from_slice(&port.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&ip.octets());
    out.extend_from_slice(&scope.to_le_bytes());
    out.extend_from_slice(&[
        v6,
        numbers.version,
        numbers.outcome as u8,
        numbers.served as u8,
        u8::from(numbers.completed),
    ]);
    out.extend_from_slice(text);
    if let Some(proxy) = numbers.proxy {
        out.push(HAS_PROXY);
        out.extend_from_slice(&proxy.rule.to_le_bytes());
        out.extend_from_slice(&proxy.upstream_status.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&proxy.upstream_ttfb_us.unwrap_or(u64::MAX).to_le_bytes());
    }
    if let Some(note) = numbers.network {
        out.push(HAS_NETWORK);
        out.extend_from_slice(&note.rule.to_le_bytes());
        out.push(note.effects);
    }
    if let Some(why) = numbers.why {
        out.push(HAS_WHY);
        out.extend_from_slice(&why.to_bytes());
    }
    if let Some(mask) = rule_mask(numbers) {
        out.push(HAS_RULES);
        out.extend_from_slice(&mask.to_le_bytes());
    }
    if let Some(timing) = &timing {
        out.push(HAS_TIMING);
        out.extend_from_slice(timing.as_slice());
    }
    // Last: later groups go before it.
    out.extend_from_slice(headers);
}

/// The custom header rules that applied, if any did.
fn rule_mask(numbers: &Numbers) -> Option<u32> {
    numbers
        .why
        .map(|why| why.header_rule_mask)
        .filter(|&mask| mask != 0)
}

/// A packed record, read back: borrows its text from the queue's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packed<'a> {
    /// The whole packed record, as [`pack`] wrote it.
    pub(crate) bytes: &'a [u8],
    pub(crate) numbers: Numbers,
    pub(crate) method: &'a str,
    pub(crate) target: &'a str,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) referer: Option<&'a str>,
    /// The headers group after its tag and length, if the record has one; decoded only by
    /// [`Packed::to_record`].
    pub(crate) headers: Option<&'a [u8]>,
}

/// The records packed one after the other in `bytes`, in order.
pub(crate) fn unpack(bytes: &[u8]) -> impl Iterator<Item = Packed<'_>> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let (record, after) = rest.split_at_checked(packed_len(rest)?)?;
        rest = after;
        Packed::read(record)
    })
}

/// The length of the packed record at the start of `bytes`, read from its first 4 bytes.
pub(crate) fn packed_len(bytes: &[u8]) -> Option<usize> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    (len >= HEAD).then_some(len)
}

/// Reads fields front to back.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(taken)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    /// The timing group, if it is next (see [`HAS_TIMING`]); a cut one reads as none.
    fn timing(&mut self) -> Option<Timing> {
        let (&HAS_TIMING, rest) = self.0.split_first()? else {
            return None;
        };
        let (timing, after) = Timing::decode(rest)?;
        self.0 = after;
        Some(timing)
    }

    fn text(&mut self) -> Option<&'a str> {
        let len = self.u16()?;
        std::str::from_utf8(self.take(usize::from(len))?).ok()
    }

    /// One side of the headers group (see `push_side`): its headers and how many were left out.
    fn side(&mut self) -> Option<(Vec<HeaderLine>, u16)> {
        let omitted = self.u16()?;
        let count = *self.take(1)?.first()?;
        let lines = (0..count)
            .map(|_| {
                Some(HeaderLine {
                    name: self.text()?.to_owned(),
                    value: self.text()?.to_owned(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some((lines, omitted))
    }
}

/// The headers group's `bytes` (after its tag and length), decoded; `None` if they are not one.
fn read_headers(bytes: &[u8]) -> Option<RecordedHeaders> {
    let mut reader = Reader(bytes);
    let &[flags] = reader.take(1)? else {
        return None;
    };
    let ip = Ipv6Addr::from(<[u8; 16]>::try_from(reader.take(16)?).ok()?);
    let port = reader.u16()?;
    let &[v6] = reader.take(1)? else {
        return None;
    };
    let server = (flags & SERVER_KNOWN != 0).then(|| match (v6, ip.to_ipv4_mapped()) {
        (0, Some(v4)) => SocketAddr::new(IpAddr::V4(v4), port),
        _ => SocketAddr::new(IpAddr::V6(ip), port),
    });
    let (request, request_omitted) = reader.side()?;
    let (response, response_omitted) = reader.side()?;
    Some(RecordedHeaders {
        server,
        https: flags & HTTPS != 0,
        request,
        request_omitted,
        response,
        response_omitted,
    })
}

impl<'a> Packed<'a> {
    /// The record packed in `bytes` by [`pack`]; `None` if they are not one.
    pub(crate) fn read(bytes: &'a [u8]) -> Option<Packed<'a>> {
        let mut reader = Reader(bytes.get(4..)?);
        let [start_ms, body_bytes, ttfb_us, total_us, connection, generation, status] =
            [(); 7].map(|()| reader.u64());
        let port = u16::from_le_bytes(reader.take(2)?.try_into().ok()?);
        reader.take(2)?;
        let ip = Ipv6Addr::from(<[u8; 16]>::try_from(reader.take(16)?).ok()?);
        let scope = u32::from_le_bytes(reader.take(4)?.try_into().ok()?);
        let &[v6, version, outcome, served, completed] = reader.take(5)? else {
            return None;
        };
        let peer = match (v6, ip.to_ipv4_mapped()) {
            (0, Some(v4)) => SocketAddr::new(IpAddr::V4(v4), port),
            _ => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope)),
        };
        let flags = *reader.take(1)?.first()?;
        let method = reader.text()?;
        let target = reader.text()?;
        let user_agent = (flags & HAS_USER_AGENT != 0)
            .then(|| reader.text())
            .flatten();
        let referer = (flags & HAS_REFERER != 0).then(|| reader.text()).flatten();
        let (mut proxy, mut network) = (None, None);
        if reader.0.first() == Some(&HAS_PROXY) {
            proxy = reader.take(PROXY_GROUP).map(|bytes| {
                let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
                let ttfb = u64::from_le_bytes(bytes[5..].try_into().unwrap_or([0xff; 8]));
                ProxyRecord {
                    rule: u16_at(1),
                    upstream_status: Some(u16_at(3)).filter(|&status| status != 0),
                    upstream_ttfb_us: Some(ttfb).filter(|&us| us != u64::MAX),
                }
            });
        }
        if reader.0.first() == Some(&HAS_NETWORK) {
            if let Some(&[HAS_NETWORK, a, b, c, d, effects]) = reader.take(NETWORK_GROUP) {
                network = Some(NetworkNote {
                    rule: u32::from_le_bytes([a, b, c, d]),
                    effects,
                });
            }
        }
        let mut why = None;
        if reader.0.first() == Some(&HAS_WHY) {
            if let Some(&[HAS_WHY, a, b, c, d]) = reader.take(WHY_GROUP) {
                why = Some(Why::from_bytes([a, b, c, d]));
            }
        }
        if reader.0.first() == Some(&HAS_RULES) {
            if let (Some(&[HAS_RULES, a, b, c, d]), Some(why)) =
                (reader.take(RULES_GROUP), &mut why)
            {
                why.header_rule_mask = u32::from_le_bytes([a, b, c, d]);
            }
        }
        let timing = reader.timing();
        let mut headers = None;
        if reader.0.first() == Some(&HAS_HEADERS) {
            reader.take(1)?;
            let len = reader.u16()?;
            headers = reader.take(usize::from(len));
        }
        let numbers = Numbers {
            start_ms: start_ms?,
            peer,
            version,
            status: u16::try_from(status?).ok()?,
            body_bytes: body_bytes?,
            completed: completed != 0,
            ttfb_us: Some(ttfb_us?).filter(|&us| us != u64::MAX),
            total_us: total_us?,
            outcome: *OUTCOMES.get(usize::from(outcome))?,
            connection: connection?,
            generation: generation?,
            served: *SERVED.get(usize::from(served))?,
            proxy,
            network,
            why,
            timing,
        };
        Some(Packed {
            bytes,
            numbers,
            method,
            target,
            user_agent,
            referer,
            headers,
        })
    }

    fn version(&self) -> &'static str {
        VERSIONS
            .get(usize::from(self.numbers.version))
            .copied()
            .unwrap_or("")
    }

    /// The owned record, numbered `id`.
    pub(crate) fn to_record(self, id: u64) -> AccessRecord {
        let n = &self.numbers;
        AccessRecord {
            id,
            start_ms: n.start_ms,
            peer: n.peer,
            method: self.method.to_owned(),
            target: self.target.to_owned(),
            version: self.version().to_owned(),
            status: n.status,
            body_bytes: n.body_bytes,
            completed: n.completed,
            ttfb_us: n.ttfb_us,
            total_us: n.total_us,
            outcome: n.outcome,
            user_agent: self.user_agent.map(str::to_owned),
            referer: self.referer.map(str::to_owned),
            connection: n.connection,
            generation: n.generation,
            served: n.served,
            proxy: n.proxy,
            network: n.network,
            why: n.why,
            headers: self.headers.and_then(read_headers),
            timing: n.timing,
        }
    }
}

/// A field's text as a record keeps it: whole, or cut at its cap and marked.
#[derive(Debug, Clone, Copy)]
struct Capped<'a> {
    kept: &'a str,
    cut: bool,
}

impl<'a> Capped<'a> {
    /// `text` capped at `cap` (see [`capped_end`]).
    fn of(text: &'a str, cap: usize) -> Capped<'a> {
        match capped_end(text, cap) {
            Some(end) => Capped {
                kept: &text[..end],
                cut: true,
            },
            None => Capped {
                kept: text,
                cut: false,
            },
        }
    }

    /// Its bytes, the mark included.
    fn len(self) -> usize {
        self.kept.len()
            + if self.cut {
                TRUNCATION_MARK.len_utf8()
            } else {
                0
            }
    }

    /// Appends it, with its 16-bit length first.
    fn push(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&u16::try_from(self.len()).unwrap_or(u16::MAX).to_le_bytes());
        out.extend_from_slice(self.kept.as_bytes());
        if self.cut {
            let mut mark = [0; 4];
            out.extend_from_slice(TRUNCATION_MARK.encode_utf8(&mut mark).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::access::capped;

    fn roundtrip(record: &AccessRecord) -> AccessRecord {
        let mut bytes = Vec::new();
        for record in [record, &AccessRecord::example("/second")] {
            pack(
                &Numbers::of(record),
                &RequestText::of_record(record),
                &mut bytes,
            );
        }
        let read: Vec<Packed<'_>> = unpack(&bytes).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].target, "/second");
        assert_eq!(read[0].bytes.len() + read[1].bytes.len(), bytes.len());
        read[0].to_record(record.id)
    }

    /// Every field, every variant, odd text and both address families come back as they
    /// went in.
    #[test]
    fn a_packed_record_reads_back_whole() {
        let peers: [SocketAddr; 3] = [
            "127.0.0.1:50000".parse().unwrap(),
            "[::1]:8080".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 443, 0, 7)),
        ];
        let mut records = Vec::new();
        for (i, (&served, &outcome)) in SERVED.iter().zip(OUTCOMES.iter().cycle()).enumerate() {
            let mut record = AccessRecord::example("/a b/ünï\"code\"\\\u{1}\u{7f}?q=1");
            record.id = i as u64 + 1;
            record.served = served;
            record.outcome = outcome;
            record.peer = peers[i % peers.len()];
            record.version = VERSIONS[i % VERSIONS.len()].to_owned();
            record.ttfb_us = (i % 2 == 0).then_some(i as u64 * 1000);
            record.user_agent = (i % 3 != 0).then(|| "Mozilla/5.0 \"quoted\"".to_owned());
            record.referer = (i % 4 != 0).then(|| "http://127.0.0.1/é".to_owned());
            record.completed = i % 2 == 1;
            record.proxy = (i % 3 == 1).then_some(ProxyRecord {
                rule: i as u16,
                upstream_status: (i % 2 == 0).then_some(201),
                upstream_ttfb_us: (i % 4 == 1).then_some(i as u64 * 7),
            });
            record.status = [200, 304, 0, 404][i % 4];
            record.body_bytes = u64::MAX - i as u64;
            record.total_us = i as u64;
            records.push(record);
        }
        records.push(AccessRecord {
            method: String::new(),
            target: String::new(),
            version: String::new(),
            ..AccessRecord::example("")
        });
        for record in records {
            assert_eq!(roundtrip(&record), record);
        }
    }

    /// Bytes that are not a whole record read as none, never as a wrong one.
    #[test]
    fn a_cut_record_reads_as_none() {
        let mut with_headers = AccessRecord::example("/cut");
        with_headers.headers = Some(headers_example());
        for record in [AccessRecord::example("/cut"), with_headers] {
            let mut bytes = Vec::new();
            pack(
                &Numbers::of(&record),
                &RequestText::of_record(&record),
                &mut bytes,
            );
            for end in 0..bytes.len() {
                assert!(unpack(&bytes[..end]).next().is_none(), "cut at {end}");
            }
        }
    }

    /// The client's text is capped as `capped` caps it, invalid UTF-8 included.
    #[test]
    fn request_text_is_capped_at_char_boundaries() {
        let long_target = format!("/{}", "é".repeat(MAX_TARGET_BYTES));
        let text = RequestText::new(
            "GET",
            &long_target,
            Some(&[0xff; 50_000]),
            Some("x".repeat(MAX_REFERER_BYTES).as_bytes()),
        );
        assert_eq!(
            text.bytes.capacity(),
            text.bytes.len(),
            "one exact allocation"
        );
        let numbers = Numbers {
            start_ms: 1,
            peer: "127.0.0.1:1".parse().unwrap(),
            version: 3,
            status: 200,
            body_bytes: 0,
            completed: true,
            ttfb_us: None,
            total_us: 0,
            outcome: Outcome::Completed,
            connection: 1,
            generation: 1,
            served: Served::File,
            proxy: None,
            network: None,
            why: None,
            timing: None,
        };
        let mut bytes = Vec::new();
        pack(&numbers, &text, &mut bytes);
        let read = unpack(&bytes).next().unwrap();
        assert_eq!(read.target, capped(&long_target, MAX_TARGET_BYTES));
        let ua = String::from_utf8_lossy(&[0xff; 50_000]).into_owned();
        assert_eq!(read.user_agent.unwrap(), capped(&ua, MAX_USER_AGENT_BYTES));
        assert_eq!(
            read.referer.unwrap(),
            capped(&"x".repeat(MAX_REFERER_BYTES), MAX_REFERER_BYTES)
        );
        assert!(read.to_record(1).truncated());
    }

    #[test]
    fn the_code_tables_follow_the_enums() {
        use http::Version;
        for version in [
            Version::HTTP_09,
            Version::HTTP_10,
            Version::HTTP_11,
            Version::HTTP_2,
        ] {
            let name = VERSIONS[usize::from(version_code(version))];
            assert_eq!(format!("{version:?}"), name);
        }
        for (i, served) in SERVED.iter().enumerate() {
            assert_eq!(*served as usize, i);
        }
        for (i, outcome) in OUTCOMES.iter().enumerate() {
            assert_eq!(*outcome as usize, i);
        }
    }

    fn headers_example() -> RecordedHeaders {
        let line = |name: &str, value: &str| HeaderLine {
            name: name.into(),
            value: value.into(),
        };
        RecordedHeaders {
            server: Some("[::1]:8443".parse().unwrap()),
            https: true,
            request: vec![line("host", "a.test"), line("x-odd", "é \"q\" \\")],
            request_omitted: 3,
            response: vec![line("content-type", "text/css"), line("etag", "")],
            response_omitted: 0,
        }
    }

    /// Headers come back whole, after every other group or alone, and a record without them
    /// (as written before they were kept) reads `None`.
    #[test]
    fn headers_roundtrip_after_every_other_group() {
        let mut record = AccessRecord::example("/h");
        record.headers = Some(headers_example());
        assert_eq!(roundtrip(&record), record);
        record.proxy = Some(ProxyRecord {
            rule: 1,
            upstream_status: Some(200),
            upstream_ttfb_us: None,
        });
        record.network = Some(crate::network::NetworkNote {
            rule: 2,
            effects: 1,
        });
        record.why = Some(Why::default());
        assert_eq!(roundtrip(&record), record);
        if let Some(headers) = &mut record.headers {
            headers.server = None;
            headers.https = false;
            headers.request.clear();
        }
        assert_eq!(roundtrip(&record), record);
        record.headers = None;
        assert_eq!(roundtrip(&record), record);
    }

    /// Each side keeps at most `MAX_HEADERS` headers and `MAX_HEADER_SIDE_BYTES` bytes, each
    /// value capped and marked, and counts what it left out; a response's side follows.
    #[test]
    fn header_sides_are_bounded_and_say_what_they_left_out() {
        let huge = vec![b'h'; 50_000];
        let names: Vec<String> = (0..MAX_HEADERS + 5).map(|i| format!("x-{i}")).collect();
        let mut request: Vec<(&str, &[u8])> = vec![("x-huge", &huge), ("x-bad", b"caf\xe9")];
        request.extend(names.iter().map(|name| (name.as_str(), &b"v"[..])));
        let end = ServerEnd {
            addr: Some("127.0.0.1:80".parse().unwrap()),
            https: false,
        };
        let room = headers_room(request.iter().copied());
        let mut text = RequestText::with_room("GET", "/", None, None, room);
        text.record_request_headers(end, request.iter().copied());
        assert!(text.keeps_headers());
        // Two more values of 4 KiB do not fit beside the first: left out, not cut.
        let big = vec![b'b'; MAX_HEADER_VALUE_BYTES - 10];
        let response: Vec<(&str, &[u8])> = vec![("a", &big), ("b", &big), ("c", &big), ("d", b"1")];
        text.record_response_headers(response.into_iter());
        let mut bytes = Vec::new();
        pack(&Numbers::of(&AccessRecord::example("/")), &text, &mut bytes);
        let record = unpack(&bytes).next().unwrap().to_record(1);
        let headers = record.headers.as_ref().unwrap();
        assert_eq!(headers.request.len(), MAX_HEADERS);
        assert_eq!(
            usize::from(headers.request_omitted),
            2 + MAX_HEADERS + 5 - MAX_HEADERS
        );
        let cut = headers.request_header("x-huge").unwrap();
        assert_eq!(cut, capped(&"h".repeat(50_000), MAX_HEADER_VALUE_BYTES));
        assert_eq!(headers.request_header("x-bad"), Some("caf\u{fffd}"));
        let names: Vec<&str> = headers
            .response
            .iter()
            .map(|line| line.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "d"]);
        assert_eq!(headers.response_omitted, 1);
        assert!(record.truncated());
    }

    /// A record's network note survives packing; a record without one reads as `None`.
    #[test]
    fn a_network_note_roundtrips() {
        let mut record = AccessRecord::example("/noted");
        record.network = Some(crate::network::NetworkNote {
            rule: 70_000,
            effects: 0b101,
        });
        assert_eq!(roundtrip(&record), record);
        record.network = None;
        assert_eq!(roundtrip(&record), record);
    }

    /// A record's timeline survives packing alone and after every other group, and a record
    /// without one reads as `None`.
    #[test]
    fn a_timeline_roundtrips_alone_and_after_the_other_groups() {
        let timing = Timing {
            new_connection: true,
            since_accept_us: 12_345,
            tls_us: Some(2_000),
            head_us: Some(40),
            resolve_us: Some(17),
        };
        let mut record = AccessRecord::example("/timed");
        record.timing = Some(timing);
        assert_eq!(roundtrip(&record), record, "alone");
        record.proxy = Some(ProxyRecord {
            rule: 1,
            upstream_status: Some(200),
            upstream_ttfb_us: Some(5),
        });
        record.network = Some(crate::network::NetworkNote {
            rule: 2,
            effects: crate::network::NetworkNote::THROTTLE,
        });
        record.why = Some(Why::default());
        record.timing = Some(Timing {
            new_connection: false,
            tls_us: None,
            resolve_us: None,
            ..timing
        });
        assert_eq!(roundtrip(&record), record, "after proxy, network and why");
        record.timing = None;
        assert_eq!(roundtrip(&record), record, "without");
        record.why = None;
        record.timing = Some(timing);
        assert_eq!(roundtrip(&record), record, "without why before it");
    }

    /// A proxied record keeps what its target did, with or without a network note beside it,
    /// including a target that never answered.
    #[test]
    fn a_proxy_record_roundtrips_alone_and_beside_a_network_note() {
        let mut record = AccessRecord::example("/api/x");
        for (status, ttfb) in [(Some(201), Some(1_234)), (None, None)] {
            record.proxy = Some(ProxyRecord {
                rule: 3,
                upstream_status: status,
                upstream_ttfb_us: ttfb,
            });
            record.network = None;
            assert_eq!(roundtrip(&record), record);
            record.network = Some(crate::network::NetworkNote {
                rule: 9,
                effects: crate::network::NetworkNote::THROTTLE,
            });
            assert_eq!(roundtrip(&record), record);
        }
    }

    /// Each optional group is read only under its own tag, so any of them may be absent: a
    /// why with and without the rules that applied, beside a proxy note, a network note, both
    /// or neither.
    #[test]
    fn the_why_group_and_its_rules_roundtrip_beside_any_other_group() {
        let why = Why {
            route: crate::observe::why::Route::File,
            header_rules: 2,
            header_rule_mask: 0b1001,
            ..Why::default()
        };
        let proxy = ProxyRecord {
            rule: 1,
            upstream_status: Some(200),
            upstream_ttfb_us: Some(5),
        };
        let note = crate::network::NetworkNote {
            rule: 2,
            effects: crate::network::NetworkNote::THROTTLE,
        };
        for why in [None, Some(Why::default()), Some(why)] {
            for proxy in [None, Some(proxy)] {
                for network in [None, Some(note)] {
                    let mut record = AccessRecord::example("/grouped");
                    record.why = why;
                    record.proxy = proxy;
                    record.network = network;
                    assert_eq!(roundtrip(&record), record);
                }
            }
        }
    }
}
