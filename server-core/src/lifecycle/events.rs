//! The server's lifecycle events, for anyone who subscribes with
//! [`crate::ServerHandle::subscribe`]: configs applied, listeners rebound, connections opened
//! and closed.
//!
//! Events go out on a bounded broadcast channel. A subscriber that falls behind loses the
//! oldest events and is told how many (`RecvError::Lagged`); the server never waits for it.

use std::net::SocketAddr;

use serde::Serialize;

use crate::config::Change;

/// How many events a subscriber may fall behind before it starts losing the oldest.
pub(crate) const EVENT_BUFFER: usize = 4096;

/// Something that happened to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ServerEvent {
    /// A new config generation applies to connections accepted from now on.
    Applied {
        /// The new generation.
        generation: u64,
        /// What changed.
        changes: Vec<Change>,
        /// Older connections still finishing a request, per generation, oldest first.
        continuing: Vec<(u64, usize)>,
    },
    /// New connections are accepted on `to`; `from` no longer accepts.
    ListenerRebound {
        /// The old address.
        from: SocketAddr,
        /// The new address.
        to: SocketAddr,
    },
    /// The HTTPS listener moved, started (`from` is `None`) or stopped (`to` is `None`).
    HttpsRebound {
        /// The old HTTPS address, if HTTPS was on.
        from: Option<SocketAddr>,
        /// The new HTTPS address, if HTTPS is on.
        to: Option<SocketAddr>,
    },
    /// The HTTPS listener presents a reissued certificate from now on (its addresses
    /// changed, or it neared its expiry); the CA that signed it is the same.
    CertificateRenewed {
        /// The new certificate's fingerprint.
        fingerprint: String,
    },
    /// A connection was accepted.
    ConnectionOpened {
        /// Its id, as in [`crate::ConnectionInfo::id`].
        id: u64,
        /// The client's address.
        peer: SocketAddr,
        /// The config generation it serves with.
        generation: u64,
    },
    /// A connection ended: closed by either side, timed out, or cut.
    ConnectionClosed {
        /// Its id.
        id: u64,
        /// Responses it finished.
        requests: u64,
        /// Bytes it wrote.
        bytes_sent: u64,
    },
}
