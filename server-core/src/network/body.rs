//! The body of an answer a network rule shapes: paced through the rule's token bucket, cut
//! into small writes, reset after K bytes (the body errors, so hyper aborts the connection and
//! the client sees a truncated transfer), or stalled after K bytes.
//!
//! A stall is a body that is never ready again: it ends when its connection ends, i.e. when
//! the client leaves, the connection is cut from the window, or the server's stop reaches its
//! deadline (all of which drop the connection's future, and this body with it). It owns no
//! timer and no task of its own.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use async_speed_limit::clock::StandardClock;
use async_speed_limit::limiter::Consume;
use async_speed_limit::Limiter;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::http::body::Body;

/// What a shaped body does to the bytes of the answer it wraps.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    /// The token bucket frames are paced through (the rule's shared one, or a new one).
    pub(crate) limiter: Option<Limiter>,
    /// Largest write; `None` for the inner body's frames as they come (or the pacing slice).
    pub(crate) slice: Option<usize>,
    /// Reset the connection once this many body bytes are out.
    pub(crate) reset_after: Option<u64>,
    /// Never send more once this many body bytes are out.
    pub(crate) stall_after: Option<u64>,
}

/// The wait for a write's tokens from the bucket.
type Tokens = Pin<Box<Consume<StandardClock, ()>>>;

/// A body paced, sliced, reset or stalled as its [`Shape`] says.
pub(crate) struct Shaped {
    inner: Body,
    shape: Shape,
    /// Bytes taken from the inner body and not yet handed out.
    buffer: Bytes,
    /// A slice waiting for its tokens, and the wait.
    waiting: Option<(Bytes, Tokens)>,
    /// The wait before a reset, while hyper flushes the bytes before it.
    reset_grace: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Body bytes handed out so far.
    sent: u64,
    inner_done: bool,
}

impl std::fmt::Debug for Shaped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shaped")
            .field("shape", &self.shape)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

/// Largest paced write as a share of the rate: a tenth of a second's worth, so the pacing is
/// smooth rather than a burst each second.
const PACE_SHARE: u64 = 10;
/// How long a reset waits for the bytes before it to leave.
const RESET_GRACE: std::time::Duration = std::time::Duration::from_millis(50);
/// Smallest paced write, so a very slow rule does not send one byte per wake-up.
const MIN_PACED: usize = 1024;

impl Shaped {
    /// `inner`, shaped.
    pub(crate) fn new(inner: Body, shape: Shape) -> Shaped {
        Shaped {
            inner,
            shape,
            buffer: Bytes::new(),
            waiting: None,
            reset_grace: None,
            sent: 0,
            inner_done: false,
        }
    }

    /// The size of the next write: the slice, the pacing share, and the next cut-off bound it.
    fn next_len(&self) -> usize {
        let mut len = self.buffer.len();
        if let Some(slice) = self.shape.slice {
            len = len.min(slice.max(1));
        }
        if let Some(limiter) = &self.shape.limiter {
            let share = (limiter.speed_limit() as u64 / PACE_SHARE) as usize;
            len = len.min(share.max(MIN_PACED));
        }
        for cut in [self.shape.reset_after, self.shape.stall_after]
            .into_iter()
            .flatten()
        {
            if cut > self.sent {
                len = len.min(usize::try_from(cut - self.sent).unwrap_or(usize::MAX));
            }
        }
        len
    }
}

impl http_body::Body for Shaped {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some((_, wait)) = &mut this.waiting {
                ready!(wait.as_mut().poll(cx));
                if let Some((bytes, _)) = this.waiting.take() {
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
            }
            if this.buffer.is_empty() && !this.inner_done {
                match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                    None => this.inner_done = true,
                    Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => this.buffer = data,
                        Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                    },
                }
                continue;
            }
            if this.buffer.is_empty() {
                return Poll::Ready(None);
            }
            // More bytes are due: a cut-off reached now resets or stalls.
            if this.shape.reset_after.is_some_and(|cut| this.sent >= cut) {
                // hyper drops what it has not flushed when a body fails: give it a moment to
                // send the K bytes first (it flushes while the body is pending). With none to
                // send, it fails at once, so the head is dropped too: a reset before any byte.
                if this.sent > 0 {
                    let grace = this
                        .reset_grace
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(RESET_GRACE)));
                    ready!(grace.as_mut().poll(cx));
                }
                return Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "a network rule resets the connection here",
                ))));
            }
            if this.shape.stall_after.is_some_and(|cut| this.sent >= cut) {
                // Never woken: the connection's end drops this body (see the module doc).
                return Poll::Pending;
            }
            let len = this.next_len();
            let bytes = this.buffer.split_to(len);
            this.sent += len as u64;
            match &this.shape.limiter {
                Some(limiter) => {
                    this.waiting = Some((bytes, Box::pin(limiter.consume(len))));
                }
                None => return Poll::Ready(Some(Ok(Frame::data(bytes)))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // The inner body may be at its end before it is polled again (a file's last chunk):
        // hyper, having sent Content-Length bytes, asks this rather than polling once more,
        // and the access record counts the answer completed by it.
        (self.inner_done || self.inner.is_end_stream())
            && self.buffer.is_empty()
            && self.waiting.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        // The whole answer's length, so Content-Length is sent and a reset shows as a short body.
        let inner = self.inner.size_hint();
        let held = (self.buffer.len() + self.waiting.as_ref().map_or(0, |(b, _)| b.len())) as u64;
        match inner.exact() {
            Some(len) => SizeHint::with_exact(len + held),
            None => {
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower() + held);
                hint
            }
        }
    }
}
