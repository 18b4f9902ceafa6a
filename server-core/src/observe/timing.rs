//! The request's timeline (issue 19): when its connection was accepted, when TLS was done,
//! when its head began and completed, when the route's file was resolved, and whether its
//! connection was new or reused. The record's zero is the moment its head was complete (the
//! record's `start_ms`); the first byte and the last are the record's own `ttfb_us` and
//! `total_us`, so [`Timing`] holds only what comes before the head, and the resolution after it.
//!
//! Built on the request path from instants already taken (the accept, the TLS handshake's
//! end, the connection's last quiet-to-busy read, the head) and one more clock read where the
//! route's last lookup ends ([`Moment`]). No allocation, no system call beyond that clock read.
//! It must not format or store anything: the access record carries it, packed in a few bytes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::observe::access::micros;

/// Where a request's time went before its first byte, in microseconds relative to its head
/// being complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, ts(rename_all = "camelCase"))]
pub struct Timing {
    /// Whether this was its connection's first request: `false` when the connection was reused
    /// (keep-alive, or another stream of an HTTP/2 connection).
    pub new_connection: bool,
    /// Microseconds from the connection's accept to this request's head being complete.
    pub since_accept_us: u64,
    /// Microseconds from the accept to the TLS handshake's end: only on the first request of
    /// an HTTPS connection.
    pub tls_us: Option<u32>,
    /// Microseconds from the head's first byte to its last (on a new connection, from the
    /// accept or the TLS handshake's end if later): how long the client took to send it. `None`
    /// on HTTP/2, whose requests share the connection's reads.
    pub head_us: Option<u32>,
    /// Microseconds from the head to the route's file resolved: its last stat or cache lookup
    /// (on a cache miss, the small file's read with it). `None` when nothing was looked up: a
    /// refusal, Wharf's own endpoints, a proxied request.
    pub resolve_us: Option<u32>,
}

/// Microseconds in a `u32`, saturating (71 minutes).
fn us32(us: u64) -> u32 {
    u32::try_from(us).unwrap_or(u32::MAX)
}

impl Timing {
    /// The timeline of a request whose head was complete `head_us` after its connection was
    /// accepted, on a connection whose handshake ended `tls_done_us` after it (HTTPS), whose
    /// head's first byte came `head_began_us` after it (`None` on HTTP/2); `first` when no
    /// request came before it on the connection. Plain integers, since the connection keeps its
    /// clocks as microseconds since its accept: no `Instant` arithmetic on the request path.
    /// Moments out of order (a read racing the head) count as zero.
    pub(crate) fn new(
        head_us: u64,
        tls_done_us: Option<u64>,
        head_began_us: Option<u64>,
        first: bool,
    ) -> Timing {
        let tls_done_us = tls_done_us.filter(|_| first);
        // The first request's head cannot begin before its connection is ready.
        let ready_us = tls_done_us.unwrap_or(0);
        Timing {
            new_connection: first,
            since_accept_us: head_us,
            tls_us: tls_done_us.map(|done| us32(done.min(head_us))),
            head_us: head_began_us.map(|began| us32(head_us.saturating_sub(began.max(ready_us)))),
            resolve_us: None,
        }
    }

    /// Notes that the route's file was resolved at `resolved`, for the head complete at `head`.
    pub(crate) fn resolved(&mut self, head: Instant, resolved: Option<Instant>) {
        self.resolve_us = resolved.map(|at| us32(micros(at.saturating_duration_since(head))));
    }

    /// The bytes a packed record keeps: a flags byte (new connection, then which phases are
    /// known), then the known offsets as LEB128 varints, so a typical record's timeline takes
    /// 6 to 8 bytes rather than 21 (the log's bytes are its cost, issue 19). Written into a
    /// small array on the stack, so the request path measures and copies them once.
    pub(crate) fn encode(self) -> Encoded {
        let mut encoded = Encoded {
            bytes: [0; MAX_ENCODED],
            len: 0,
        };
        encoded.push(self.flags());
        encoded.put_varint(self.since_accept_us);
        for phase in [self.tls_us, self.head_us, self.resolve_us]
            .into_iter()
            .flatten()
        {
            encoded.put_varint(u64::from(phase));
        }
        encoded
    }

    /// The timeline at the start of `bytes` (from [`Timing::encode`]), and the bytes after it;
    /// `None` if they are cut short.
    pub(crate) fn decode(bytes: &[u8]) -> Option<(Timing, &[u8])> {
        let (&flags, mut rest) = bytes.split_first()?;
        let since_accept_us = take_varint(&mut rest)?;
        let mut phase = |bit: u8| -> Option<Option<u32>> {
            if flags & bit == 0 {
                return Some(None);
            }
            let us = take_varint(&mut rest)?;
            Some(Some(u32::try_from(us).unwrap_or(u32::MAX)))
        };
        let (tls_us, head_us, resolve_us) =
            (phase(HAS_TLS)?, phase(HAS_HEAD)?, phase(HAS_RESOLVE)?);
        let timing = Timing {
            new_connection: flags & NEW_CONNECTION != 0,
            since_accept_us,
            tls_us,
            head_us,
            resolve_us,
        };
        Some((timing, rest))
    }

    fn flags(self) -> u8 {
        let mut flags = u8::from(self.new_connection) * NEW_CONNECTION;
        for (known, bit) in [
            (self.tls_us.is_some(), HAS_TLS),
            (self.head_us.is_some(), HAS_HEAD),
            (self.resolve_us.is_some(), HAS_RESOLVE),
        ] {
            flags |= u8::from(known) * bit;
        }
        flags
    }
}

/// The flags byte of an encoded timeline.
const NEW_CONNECTION: u8 = 1;
const HAS_TLS: u8 = 2;
const HAS_HEAD: u8 = 4;
const HAS_RESOLVE: u8 = 8;

/// The most bytes [`Timing::encode`] writes: the flags, a `u64` varint and three `u32` ones.
const MAX_ENCODED: usize = 1 + 10 + 3 * 5;

/// A timeline's packed bytes (see [`Timing::encode`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Encoded {
    bytes: [u8; MAX_ENCODED],
    len: usize,
}

impl Encoded {
    /// The bytes written.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    // LEB128 by hand: two short loops, where a crate would be a dependency for them.
    /// Appends `value` as an unsigned LEB128 varint: 7 bits a byte, low first.
    fn put_varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.push(value as u8);
    }
}

/// Reads a varint [`Encoded::put_varint`] wrote from the start of `bytes`, moving past it.
fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The process's reference instant for [`Moment`]s.
static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);

/// A moment noted through a shared reference by the code that reaches it (the route's last
/// lookup), read once the answer is made. An atomic, not a `Cell`, so the request's future
/// stays `Send`; it is only touched from the request's own task, so `Relaxed` suffices.
#[derive(Debug, Default)]
pub(crate) struct Moment(AtomicU64);

impl Moment {
    /// Notes now (a later call replaces an earlier one).
    pub(crate) fn now(&self) {
        let since = Instant::now().saturating_duration_since(*ORIGIN);
        // Plus one, so that 0 means "never".
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX - 1) + 1;
        self.0.store(nanos, Ordering::Relaxed);
    }

    /// The moment noted last, if any.
    pub(crate) fn get(&self) -> Option<Instant> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(*ORIGIN + Duration::from_nanos(nanos - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_survives_its_bytes() {
        for timing in [
            Timing {
                new_connection: true,
                since_accept_us: u64::MAX,
                tls_us: Some(1_234),
                head_us: Some(0),
                resolve_us: Some(u32::MAX),
            },
            Timing {
                new_connection: false,
                since_accept_us: 0,
                tls_us: None,
                head_us: None,
                resolve_us: None,
            },
        ] {
            let mut bytes = vec![9];
            bytes.extend_from_slice(timing.encode().as_slice());
            bytes.push(7);
            assert_eq!(Timing::decode(&bytes[1..]), Some((timing, &[7u8][..])));
            for cut in 1..bytes.len() - 1 {
                assert_eq!(Timing::decode(&bytes[1..cut]), None, "cut at {cut}");
            }
        }
    }

    #[test]
    fn offsets_are_relative_to_the_head_and_tls_only_on_the_first_request() {
        let first = Timing::new(10_000, Some(3_000), Some(1_000), true);
        assert_eq!(first.since_accept_us, 10_000);
        assert_eq!(first.tls_us, Some(3_000));
        assert_eq!(
            first.head_us,
            Some(7_000),
            "the head waits for the handshake"
        );
        let reused = Timing::new(10_000, Some(3_000), Some(8_000), false);
        assert_eq!((reused.tls_us, reused.head_us), (None, Some(2_000)));
        assert!(!reused.new_connection);
        let mut late = Timing::new(10_000, None, Some(11_000), true);
        assert_eq!(
            late.head_us,
            Some(0),
            "a read racing the head counts as none"
        );
        let head = Instant::now();
        late.resolved(head, Some(head + Duration::from_millis(2)));
        assert_eq!(late.resolve_us, Some(2_000));
        late.resolved(head, None);
        assert_eq!(late.resolve_us, None);
        let h2 = Timing::new(10_000, None, None, false);
        assert_eq!(h2.head_us, None);
    }

    #[test]
    fn a_moment_is_the_last_one_noted() {
        let moment = Moment::default();
        assert_eq!(moment.get(), None);
        let before = Instant::now();
        moment.now();
        let first = moment.get().unwrap();
        assert!(first >= before && first <= Instant::now());
        moment.now();
        assert!(moment.get().unwrap() >= first);
    }
}
