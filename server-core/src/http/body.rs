//! The response body type: bytes already in memory, a file streamed in large chunks, or a
//! live-reload event stream.
//!
//! One concrete enum rather than a boxed trait object, so the common small-file case costs
//! no allocation beyond its `Bytes`.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Frame, SizeHint};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::live_reload::EventStream;

/// Chunk size for streamed files: large enough to keep syscalls per MiB low.
const CHUNK: usize = 128 * 1024;

/// A response body.
#[derive(Debug)]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
#[cfg_attr(feature = "fuzzing", allow(private_interfaces))]
pub enum Body {
    /// Nothing, or nothing left to send.
    Empty,
    /// A body held in memory.
    Full(Bytes),
    /// A file of known length, read as it is sent.
    File {
        /// The chunks still to come.
        stream: ReaderStream<tokio::io::Take<tokio::fs::File>>,
        /// Bytes still to send.
        remaining: u64,
    },
    /// A live-reload event stream, of unknown length: sent chunked until it ends.
    Events(EventStream),
}

impl Body {
    /// A body that streams `len` bytes of `file` from its current position.
    pub(crate) fn file(file: tokio::fs::File, len: u64) -> Body {
        Body::File {
            stream: ReaderStream::with_capacity(file.take(len), CHUNK),
            remaining: len,
        }
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
            Body::Full(_) => match std::mem::replace(this, Body::Empty) {
                Body::Full(bytes) if !bytes.is_empty() => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                _ => Poll::Ready(None),
            },
            Body::File { stream, remaining } => {
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
                ready!(Pin::new(events).poll_next(cx)).map(|event| Ok(Frame::data(event))),
            ),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.is_empty(),
            Body::File { remaining, .. } => *remaining == 0,
            Body::Events(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Body::File { remaining, .. } => SizeHint::with_exact(*remaining),
            Body::Events(_) => SizeHint::default(),
        }
    }
}
