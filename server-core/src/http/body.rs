//! The response body type: bytes already in memory, a file streamed in large chunks, a file
//! sent with `sendfile` (Linux, plain HTTP/1: see `sendfile`), or an event stream of unknown
//! length.
//!
//! One concrete enum rather than a boxed trait object, so the common small-file case costs
//! no allocation beyond its `Bytes`. The rarer variants are boxed, so a body stays as small as
//! a `Bytes` and a tag. [`EventStream`] is owned here and holds any stream of chunks, so
//! `live_reload` builds its events on this module and this module knows nothing of live
//! reload (no `body` → `live_reload` → `body` circle).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Frame, SizeHint};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

#[cfg(target_os = "linux")]
use crate::http::sendfile::{Next, ZeroCopy};
use crate::network::Shaped;

/// Chunk size for files streamed from disk: large enough to keep syscalls per MiB low.
const CHUNK: usize = 128 * 1024;
/// Frame size for large bodies in memory: each frame is a flush of hyper's (a write, and a
/// wait for the socket), so small frames cost throughput; a 10 MiB body (scenario d) went out
/// at 3.1 GB/s in 128 KiB frames and at 5.7 GB/s, bare hyper's speed, in 2 MiB ones. An
/// aborted transfer's record may count up to one frame that hyper took but never sent.
const MEMORY_CHUNK: usize = 2 * 1024 * 1024;

/// A response body.
#[derive(Debug)]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
#[cfg_attr(feature = "fuzzing", allow(private_interfaces))]
pub enum Body {
    /// Nothing, or nothing left to send.
    Empty,
    /// A body held in memory, handed out in frames of at most [`MEMORY_CHUNK`] bytes.
    Full(Bytes),
    /// A file of known length, read as it is sent. Boxed, as is [`Body::ZeroCopy`]: unboxed,
    /// their state would make every body that large, and a response moves several times on
    /// its way to the socket (issue 17).
    File(Box<FileStream>),
    /// An event stream, of unknown length: sent chunked until it ends.
    Events(EventStream),
    /// A file read as it is sent, which can go from disk with `sendfile` instead.
    #[cfg(target_os = "linux")]
    ZeroCopy(Box<ZeroCopy>),
    /// A proxy target's response body, passed on frame by frame as it arrives (`proxy`).
    Upstream(Box<hyper::body::Incoming>),
    /// A body a network rule paces or faults (see [`crate::network`]). A file inside it is
    /// read as it is sent, never with `sendfile`: only a top-level body gets a lane.
    Shaped(Box<Shaped>),
}

/// A file of known length, read in chunks as it is sent.
#[derive(Debug)]
pub(crate) struct FileStream {
    /// The chunks still to come.
    stream: ReaderStream<tokio::io::Take<tokio::fs::File>>,
    /// Bytes still to send.
    remaining: u64,
}

/// A stream of chunks sent as they come, until it ends (live reload's events).
pub(crate) struct EventStream {
    inner: Pin<Box<dyn Stream<Item = Bytes> + Send>>,
}

impl EventStream {
    /// Sends each chunk `stream` yields, as it yields it.
    pub(crate) fn new(stream: impl Stream<Item = Bytes> + Send + 'static) -> EventStream {
        EventStream {
            inner: Box::pin(stream),
        }
    }
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl Body {
    /// A body that streams `len` bytes of `file` from its current position.
    pub(crate) fn file(file: tokio::fs::File, len: u64) -> Body {
        Body::File(Box::new(FileStream {
            stream: ReaderStream::with_capacity(file.take(len), CHUNK),
            remaining: len,
        }))
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body::Full(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Body {
        Body::Full(Bytes::from(text))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        match this {
            Body::Empty => Poll::Ready(None),
            // A large body goes in frames (zero-copy slices), so what hyper has taken is at
            // most one frame ahead of what it has written: the access record counts what it took.
            Body::Full(bytes) if bytes.len() > MEMORY_CHUNK => {
                Poll::Ready(Some(Ok(Frame::data(bytes.split_to(MEMORY_CHUNK)))))
            }
            Body::Full(_) => match std::mem::replace(this, Body::Empty) {
                Body::Full(bytes) if !bytes.is_empty() => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                _ => Poll::Ready(None),
            },
            Body::File(file) => {
                let FileStream { stream, remaining } = &mut **file;
                match ready!(Pin::new(stream).poll_next(cx)) {
                    Some(Ok(chunk)) => {
                        *remaining = remaining.saturating_sub(chunk.len() as u64);
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Some(Err(err)) => Poll::Ready(Some(Err(err))),
                    // The file shrank while we sent it: fail the transfer rather than let
                    // the client wait for bytes that will never come.
                    None if *remaining > 0 => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file shrank while it was being sent",
                    )))),
                    None => Poll::Ready(None),
                }
            }
            Body::Events(events) => Poll::Ready(
                ready!(events.inner.as_mut().poll_next(cx)).map(|event| Ok(Frame::data(event))),
            ),
            // An upstream that fails mid-body fails the transfer: never a clean, short end.
            Body::Upstream(body) => Poll::Ready(
                ready!(Pin::new(&mut **body).poll_frame(cx))
                    .map(|frame| frame.map_err(io::Error::other)),
            ),
            #[cfg(target_os = "linux")]
            Body::ZeroCopy(body) => match body.next() {
                Next::Frame(placeholder) => Poll::Ready(Some(Ok(Frame::data(placeholder)))),
                Next::End => Poll::Ready(None),
                Next::Instead(body) => {
                    *this = body;
                    Pin::new(this).poll_frame(cx)
                }
            },
            Body::Shaped(body) => Pin::new(&mut **body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.is_empty(),
            Body::File(file) => file.remaining == 0,
            Body::Events(_) => false,
            Body::Upstream(body) => http_body::Body::is_end_stream(&**body),
            #[cfg(target_os = "linux")]
            Body::ZeroCopy(body) => body.remaining() == 0,
            Body::Shaped(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Body::File(file) => SizeHint::with_exact(file.remaining),
            Body::Events(_) => SizeHint::default(),
            Body::Upstream(body) => http_body::Body::size_hint(&**body),
            #[cfg(target_os = "linux")]
            Body::ZeroCopy(body) => SizeHint::with_exact(body.remaining()),
            Body::Shaped(body) => body.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    /// A response moves several times on its way to the socket: its body stays small.
    #[test]
    fn a_body_is_as_small_as_bytes_and_a_tag() {
        assert!(std::mem::size_of::<super::Body>() <= 40);
    }
}
