//! Zero-copy file bodies on plain HTTP/1 connections (Linux): hyper still writes the head and
//! runs the protocol (keep-alive, `Content-Length`, `HEAD`, ranges, pipelining, closing), but
//! the bytes of a file streamed from disk go from the page cache to the socket with
//! `sendfile(2)`, never through user space.
//!
//! Which bodies: those read from disk as they are sent, the files too big for the cache
//! (`files::cache`). A cached body is sent from memory as before: on loopback its one copy
//! costs less than `sendfile` from the page cache, which pays an `open` and a `stat` per
//! request and hands TCP page-sized fragments (measured: see the README's benchmark).
//!
//! How: such a body ([`ZeroCopy`]) hands hyper *placeholders*, slices of `PLACEHOLDER` (a
//! static buffer of zeros) as long as its frames, and queues in its connection's [`Lane`]
//! where each frame's bytes really are (a file and an offset), in order. On a vectored socket
//! hyper queues body `Bytes` as they are, without copying them, and sends them in order, so
//! the socket (`metered`) meets each placeholder as a slice of its own, recognises it by its
//! address, and sends the file's bytes in its place with `sendfile`, reporting them as
//! written. Everything else (heads, other bodies, any framing) is written as before; a head
//! followed by a placeholder goes with `MSG_MORE`, so head and body leave in one segment.
//!
//! The zeros never reach the wire: the socket checks every slice it writes, and a placeholder
//! that is not the one its lane expects next (each carries a tag in its address), that has no
//! lane behind it, or whose file ends early (it shrank while it was sent) fails the
//! connection, as the read error of a body streamed from disk does.
//!
//! Only plain connections get a lane (`connection` makes it): under TLS the socket sees
//! ciphertext, and HTTP/2 frames bodies itself. Without a lane, and everywhere off Linux, the
//! same bodies are read from disk in chunks, as they always were.

use std::io::{self, IoSlice};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::net::TcpStream;

use crate::http::body::Body;

#[cfg(target_os = "linux")]
pub(crate) use linux::{Lane, Next, ZeroCopy};

/// Off Linux: no lane, nothing to send with `sendfile`.
#[cfg(not(target_os = "linux"))]
#[derive(Debug, Default)]
pub(crate) struct Lane;

/// Writes `bufs` to `socket`, sending the file bytes behind any placeholder among them with
/// `sendfile`. `None` when they hold no placeholder: the caller writes them as usual.
pub(crate) fn poll_write_vectored(
    socket: &TcpStream,
    lane: Option<&Lane>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Option<Poll<io::Result<usize>>> {
    #[cfg(target_os = "linux")]
    {
        linux::poll_write_vectored(socket, lane, cx, bufs)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (socket, lane, cx, bufs);
        None
    }
}

impl Body {
    /// `len` bytes of `file` from `start`, where it stands: streamed from disk, or sent with
    /// `sendfile` where that applies.
    pub(crate) fn file_at(file: tokio::fs::File, start: u64, len: u64) -> Body {
        #[cfg(target_os = "linux")]
        {
            Body::ZeroCopy(Box::new(ZeroCopy::new(file, start, len)))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = start;
            Body::file(file, len)
        }
    }

    /// This body, sent with `sendfile` through `lane` if it is a file body that can be. Only
    /// for plain HTTP/1 connections, whose socket writes through `lane`.
    pub(crate) fn zero_copy(self, lane: Option<&Arc<Lane>>) -> Body {
        #[cfg(target_os = "linux")]
        if let Body::ZeroCopy(mut body) = self {
            body.lane = lane.cloned();
            return Body::ZeroCopy(body);
        }
        let _ = lane;
        self
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::VecDeque;
    use std::fs::File;
    use std::io::{self, IoSlice};
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::task::{ready, Context, Poll};

    use bytes::Bytes;
    use rustix::net::{SendAncillaryBuffer, SendFlags};
    use tokio::io::Interest;
    use tokio::net::TcpStream;

    use crate::http::body::Body;

    /// The longest placeholder frame: as long as the chunks other bodies go in, so what hyper
    /// has taken (and the access record counted) is never far ahead of what it has written.
    const FRAME: usize = 128 * 1024;
    /// How many distinct start addresses placeholders cycle through, so the socket tells a
    /// frame from the next one.
    const TAGS: usize = 256;
    /// What placeholders are slices of. Never written: only its address is used (it sits in
    /// zeroed memory that is never touched, so it costs no resident memory).
    static PLACEHOLDER: [u8; FRAME + TAGS] = [0; FRAME + TAGS];

    /// A connection's placeholder frames that hyper holds, with where each one's bytes are,
    /// in the order hyper writes them.
    #[derive(Debug, Default)]
    pub(crate) struct Lane {
        state: Mutex<LaneState>,
    }

    #[derive(Debug, Default)]
    struct LaneState {
        frames: VecDeque<Frame>,
        next_tag: usize,
    }

    /// One placeholder frame: `len` bytes of `file` from `offset`, `sent` of them sent.
    #[derive(Debug)]
    struct Frame {
        file: Arc<File>,
        offset: u64,
        len: usize,
        sent: usize,
        tag: usize,
    }

    impl Lane {
        fn lock(&self) -> MutexGuard<'_, LaneState> {
            // A panic while it was held left at worst a frame unsent: the check fails it.
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// Queues `len` bytes of `file` from `offset`, and returns their placeholder.
        fn push(&self, file: Arc<File>, offset: u64, len: usize) -> Bytes {
            let mut state = self.lock();
            let tag = state.next_tag;
            state.next_tag = (tag + 1) % TAGS;
            state.frames.push_back(Frame {
                file,
                offset,
                len,
                sent: 0,
                tag,
            });
            Bytes::from_static(&PLACEHOLDER[tag..tag + len])
        }
    }

    /// A body streamed from disk that can be sent with `sendfile`: through its lane, or,
    /// without one, read in chunks as before.
    #[derive(Debug)]
    pub(crate) struct ZeroCopy {
        source: Source,
        /// Where its bytes start in the file (the next byte to hand out).
        offset: u64,
        /// Bytes still to hand out.
        remaining: u64,
        /// Its connection's lane, if its socket sends placeholders with `sendfile`.
        pub(super) lane: Option<Arc<Lane>>,
    }

    #[derive(Debug)]
    enum Source {
        /// A file opened for this response, not read yet.
        Opened(tokio::fs::File),
        /// Being sent from this file.
        Sending(Arc<File>),
        /// Moved out for a moment.
        Gone,
    }

    /// What the body hands out next.
    pub(crate) enum Next {
        /// A placeholder frame, queued in the lane.
        Frame(Bytes),
        /// Nothing: it is all handed out.
        End,
        /// It goes as this body instead (no lane).
        Instead(Body),
    }

    impl ZeroCopy {
        pub(super) fn new(file: tokio::fs::File, start: u64, len: u64) -> ZeroCopy {
            ZeroCopy {
                source: Source::Opened(file),
                offset: start,
                remaining: len,
                lane: None,
            }
        }

        /// Bytes still to hand out.
        pub(crate) fn remaining(&self) -> u64 {
            self.remaining
        }

        /// The next frame: a placeholder queued in the lane, or the body to send instead.
        pub(crate) fn next(&mut self) -> Next {
            if self.remaining == 0 {
                return Next::End;
            }
            let Some(lane) = self.lane.clone() else {
                return Next::Instead(self.instead());
            };
            let Some(file) = self.file() else {
                return Next::Instead(self.instead());
            };
            let len = self.remaining.min(FRAME as u64) as usize;
            let frame = lane.push(file, self.offset, len);
            self.offset += len as u64;
            self.remaining -= len as u64;
            Next::Frame(frame)
        }

        /// The file to send from, `None` if it cannot be sent with `sendfile`.
        fn file(&mut self) -> Option<Arc<File>> {
            let file = match std::mem::replace(&mut self.source, Source::Gone) {
                Source::Sending(file) => file,
                // Never fails here: nothing has been asked of it since it was opened.
                Source::Opened(file) => match file.try_into_std() {
                    Ok(file) => Arc::new(file),
                    Err(file) => {
                        self.source = Source::Opened(file);
                        return None;
                    }
                },
                Source::Gone => return None,
            };
            self.source = Source::Sending(Arc::clone(&file));
            Some(file)
        }

        /// The body as it is sent without `sendfile`.
        fn instead(&mut self) -> Body {
            match std::mem::replace(&mut self.source, Source::Gone) {
                Source::Opened(file) => Body::file(file, self.remaining),
                // Never: a body has a lane from its start, and sends from its file until its
                // end. Were it to end early, hyper would fail the response short of its length.
                Source::Sending(_) | Source::Gone => Body::Empty,
            }
        }
    }

    /// See [`super::poll_write_vectored`].
    pub(super) fn poll_write_vectored(
        socket: &TcpStream,
        lane: Option<&Lane>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Option<Poll<io::Result<usize>>> {
        let first = bufs.iter().position(|buf| is_placeholder(buf))?;
        Some(if first > 0 {
            // What comes before the placeholder (a head), held back to go with the body.
            poll_io(socket, cx, || {
                let flags = SendFlags::MORE | SendFlags::NOSIGNAL;
                let control = &mut SendAncillaryBuffer::default();
                Ok(rustix::net::sendmsg(
                    socket,
                    &bufs[..first],
                    control,
                    flags,
                )?)
            })
        } else {
            poll_send_frame(socket, lane, cx, &bufs[0])
        })
    }

    fn is_placeholder(buf: &[u8]) -> bool {
        let base = PLACEHOLDER.as_ptr() as usize;
        let at = buf.as_ptr() as usize;
        !buf.is_empty() && (base..base + PLACEHOLDER.len()).contains(&at)
    }

    /// Sends the file bytes behind `buf`, the placeholder hyper writes next.
    fn poll_send_frame(
        socket: &TcpStream,
        lane: Option<&Lane>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(lane) = lane else {
            return Poll::Ready(Err(out_of_step()));
        };
        let mut state = lane.lock();
        let Some(frame) = state.frames.front_mut() else {
            return Poll::Ready(Err(out_of_step()));
        };
        let expected = PLACEHOLDER.as_ptr() as usize + frame.tag + frame.sent;
        if buf.as_ptr() as usize != expected || buf.len() > frame.len - frame.sent {
            return Poll::Ready(Err(out_of_step()));
        }
        let file = &frame.file;
        let mut offset = frame.offset + frame.sent as u64;
        let sent = ready!(poll_io(socket, cx, || Ok(rustix::fs::sendfile(
            socket,
            &**file,
            Some(&mut offset),
            buf.len()
        )?)))?;
        if sent == 0 {
            // The file ends before the length its head announced.
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while it was being sent",
            )));
        }
        frame.sent += sent;
        if frame.sent == frame.len {
            state.frames.pop_front();
        }
        Poll::Ready(Ok(sent))
    }

    /// Runs `write` when the socket is writable, until it does not block.
    fn poll_io(
        socket: &TcpStream,
        cx: &mut Context<'_>,
        mut write: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(socket.poll_write_ready(cx))?;
            match socket.try_io(Interest::WRITABLE, &mut write) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
    }

    fn out_of_step() -> io::Error {
        io::Error::other("a zero-copy placeholder is not the frame its connection expects")
    }
}
