//! The lingering close (RFC 9112 §9.6, "Tear-down"): a connection the server ends while its
//! client may still be sending is half-closed first, its FIN going out after its last bytes,
//! and what the client sends after that is read and dropped until the client closes too.
//!
//! Closing a socket with the client's bytes unread, or with bytes still arriving once it is
//! closed, makes the kernel answer with a reset, which throws away the server's bytes not yet
//! delivered (and, on some systems, those the client has received but not read): a response the
//! server finished is then lost at its end, the client seeing a reset or an end without TLS
//! `close_notify`. An HTTP/2 client may always be sending (WINDOW_UPDATE frames as it reads the
//! last DATA frames, PING and SETTINGS acknowledgements), so `h2` ends its connections this way.
//!
//! The socket lingers until the client closes, or has sent nothing for the connection's
//! keep-alive idle timeout (it is gone), and never longer than [`LINGER_MAX`] after the FIN.
//! This module owns only how the socket closes; when it closes is its caller's.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// The longest a half-closed socket waits for its client to close (nginx's `lingering_time`).
const LINGER_MAX: Duration = Duration::from_secs(30);
/// What the client sends while the socket lingers is read into this much stack, and dropped.
const DRAIN_CHUNK: usize = 4096;

/// How a connection's socket closes when its HTTP connection shuts it down.
#[derive(Default)]
pub(super) enum Close {
    /// Shuts down its sending side, and may be dropped at once: the client sends nothing
    /// meanwhile (HTTP/1, whose client waits for the response it asked for).
    #[default]
    AtOnce,
    /// Shuts down its sending side, then lingers (HTTP/2).
    Lingering,
    /// Half-closed: reading and dropping what the client sends until it closes.
    Draining(Box<Drain>),
}

/// A half-closed socket's bounds.
pub(super) struct Drain {
    /// Fires when the client has sent nothing for the quiet limit, or at the hard bound.
    wait: Pin<Box<Sleep>>,
    /// [`LINGER_MAX`] after the FIN.
    until: Instant,
    /// How long the client may send nothing before it is taken to be gone.
    quiet: Duration,
}

impl Close {
    /// Shuts `socket` down as this close says: ready once it may be dropped without a reset.
    /// `quiet` is the connection's keep-alive idle timeout.
    pub(super) fn poll_shutdown(
        &mut self,
        socket: &mut TcpStream,
        quiet: Duration,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match self {
                Close::AtOnce => return Pin::new(&mut *socket).poll_shutdown(cx),
                Close::Lingering => {
                    ready!(Pin::new(&mut *socket).poll_shutdown(cx))?;
                    let now = Instant::now();
                    let until = now + LINGER_MAX;
                    *self = Close::Draining(Box::new(Drain {
                        wait: Box::pin(tokio::time::sleep_until((now + quiet).min(until))),
                        until,
                        quiet,
                    }));
                }
                Close::Draining(drain) => return drain.poll(socket, cx).map(Ok),
            }
        }
    }
}

impl Drain {
    /// Reads and drops what the client sent; ready when it has closed (or reset), has been
    /// quiet too long, or the hard bound has passed.
    fn poll(&mut self, socket: &mut TcpStream, cx: &mut Context<'_>) -> Poll<()> {
        let mut scratch = [0u8; DRAIN_CHUNK];
        let mut heard = false;
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut *socket).poll_read(cx, &mut buf) {
                // The client closed: nothing more can arrive to cause a reset.
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => heard = true,
                // Reset or failed: there is nothing left to deliver.
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => break,
            }
        }
        if heard {
            let next = (Instant::now() + self.quiet).min(self.until);
            self.wait.as_mut().reset(next);
        }
        self.wait.as_mut().poll(cx)
    }
}
