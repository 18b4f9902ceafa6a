//! Lets go of a live-reload client gone without a word, by bounding how long bytes sent on
//! its connection may stay unacknowledged (Linux `TCP_USER_TIMEOUT`).
//!
//! A client that closes is noticed at once. One that vanishes (a laptop asleep, Wi-Fi gone)
//! never answers again: the heartbeat its event stream sends every
//! [`KEEP_ALIVE`](crate::live_reload::KEEP_ALIVE) sits in the send queue while TCP
//! retransmits it, for about 15 minutes on Linux (`tcp_retries2` = 15), and the stream holds
//! its place under the stream caps and a connection all that time. With the bound, the OS
//! drops the connection [`DEAD_CLIENT_AFTER`] after the first byte it could not deliver; the
//! connection's next read or write fails, and the stream ends and gives its place back.
//!
//! Only connections that carry an event stream are bounded, and only while they do:
//! `connection` sets the bound before it writes a stream's first byte and clears it when the
//! connection's last stream ends (an HTTP/2 connection outlives its streams). On Linux the
//! same bound also ends a connection whose reader keeps its window shut, and a download
//! paused by its reader must never be cut. An HTTP/2 connection carrying a stream is bounded
//! with its downloads: their pace is HTTP/2's flow control, per stream, so its TCP window
//! shuts only when the client stops reading the whole connection, its stream included.
//!
//! Windows (`TCP_MAXRT`) and macOS (`TCP_RXT_CONNDROPTIME`) have the same bound, but no
//! crate sets it without an `unsafe` call of our own, which this workspace forbids: there a
//! vanished client is let go when TCP gives up retransmitting.
//!
//! [`DEAD_CLIENT_AFTER`]: crate::live_reload::DEAD_CLIENT_AFTER

use std::io;

use tokio::net::TcpStream;

/// Bounds how long bytes sent on `socket` may stay unacknowledged to [`DEAD_CLIENT_AFTER`]
/// (`bounded`), or lifts the bound (the OS's default: until TCP gives up retransmitting).
///
/// [`DEAD_CLIENT_AFTER`]: crate::live_reload::DEAD_CLIENT_AFTER
///
/// # Errors
/// The OS's refusal. Nothing is bounded where the OS has no such bound or it cannot be set
/// (see the module's docs); that is not an error.
pub(crate) fn bound(socket: &TcpStream, bounded: bool) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let limit = bounded.then_some(crate::live_reload::DEAD_CLIENT_AFTER);
        socket2::SockRef::from(socket).set_tcp_user_timeout(limit)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (socket, bounded);
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::live_reload::DEAD_CLIENT_AFTER;

    #[tokio::test]
    async fn the_bound_is_set_and_lifted() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (socket, _) = listener.accept().await.unwrap();
        let timeout = || socket2::SockRef::from(&socket).tcp_user_timeout().unwrap();
        assert_eq!(timeout(), None);
        bound(&socket, true).unwrap();
        assert_eq!(timeout(), Some(DEAD_CLIENT_AFTER));
        bound(&socket, false).unwrap();
        assert_eq!(timeout(), None);
    }
}
