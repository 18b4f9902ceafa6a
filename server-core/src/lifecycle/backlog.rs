//! What the kernel holds for a listener that has stopped accepting: connections waiting in
//! its accept queue, and connections it turned away because that queue was full.
//!
//! When `max_connections` is reached the server stops calling `accept`, so new clients wait
//! in the kernel's queue (up to the listen backlog) and are served as soon as a slot frees,
//! instead of being accepted and starved. Linux reports the queue in `/proc/net/tcp{,6}` and
//! the refusals in `/proc/net/netstat`; elsewhere both are unknown, and nothing is read (on
//! Windows `/proc/net/tcp` would name a file on the current drive, which anyone may make).

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::lifecycle::listener;

/// How full the server is, as [`crate::ServerHandle::admission`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admission {
    /// Slots of `limit` in use: connections being served, plus one per live-reload event
    /// stream on HTTP/2 (see [`crate::live_reload`]).
    pub open: usize,
    /// `max_connections` of the current config.
    pub limit: u32,
    /// Connections waiting in the kernel's accept queue, when the OS says (Linux).
    pub waiting: Option<u32>,
    /// The accept queue's capacity (the listen backlog), when the OS says.
    pub queue_capacity: Option<u32>,
    /// Connections the kernel refused since the server started because an accept queue was
    /// full. Linux counts this for the whole machine, not per port.
    pub turned_away: Option<u64>,
}

/// Connections waiting in the accept queue of the listener bound to `addr`.
pub(crate) fn accept_queue(addr: SocketAddr) -> Option<u32> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let (table, local) = match addr.ip() {
        IpAddr::V4(ip) => (
            "/proc/net/tcp",
            format!(
                "{:08X}:{:04X}",
                u32::from_ne_bytes(ip.octets()),
                addr.port()
            ),
        ),
        IpAddr::V6(ip) => {
            let words: String = ip
                .octets()
                .chunks_exact(4)
                .map(|word| {
                    let word = [word[0], word[1], word[2], word[3]];
                    format!("{:08X}", u32::from_ne_bytes(word))
                })
                .collect();
            ("/proc/net/tcp6", format!("{words}:{:04X}", addr.port()))
        }
    };
    parse_accept_queue(&std::fs::read_to_string(table).ok()?, &local)
}

/// Finds the listening (`0A`) socket at `local` in a `/proc/net/tcp` table: for a listener,
/// `rx_queue` is the accept queue's length.
fn parse_accept_queue(table: &str, local: &str) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let mut fields = line.split_whitespace();
        let (_slot, address, _remote, state, queues) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        if address != local || state != "0A" {
            return None;
        }
        let (_tx, rx) = queues.split_once(':')?;
        u32::from_str_radix(rx, 16).ok()
    })
}

/// The accept queue's capacity: the backlog we ask for, capped by the kernel's `somaxconn`.
pub(crate) fn queue_capacity() -> Option<u32> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?;
    Some(listener::BACKLOG.min(somaxconn.trim().parse().ok()?))
}

/// The machine's count of connections refused because an accept queue was full.
pub(crate) fn listen_overflows() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    parse_listen_overflows(&std::fs::read_to_string("/proc/net/netstat").ok()?)
}

/// `/proc/net/netstat` comes in pairs of lines: `TcpExt: Name...` then `TcpExt: value...`.
fn parse_listen_overflows(netstat: &str) -> Option<u64> {
    let mut lines = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let index = names
        .split_whitespace()
        .position(|name| name == "ListenOverflows")?;
    values.split_whitespace().nth(index)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_accept_queue_of_a_listener() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:1F90 00000000:0000 0A 00000400:00000007 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n\
           1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1\n";
        assert_eq!(parse_accept_queue(table, "0100007F:1F90"), Some(7));
        assert_eq!(parse_accept_queue(table, "0100007F:1F91"), None);
    }

    #[test]
    fn reads_listen_overflows() {
        let netstat = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 42 43\nIpExt: InNoRoutes\nIpExt: 0\n";
        assert_eq!(parse_listen_overflows(netstat), Some(42));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn sees_a_real_queue() {
        let listener = crate::lifecycle::listener::bind(IpAddr::from([127, 0, 0, 1]), 0).unwrap();
        let addr = listener.local_addr().unwrap();
        let _waiting: Vec<_> = (0..3)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        assert_eq!(accept_queue(addr), Some(3));
        assert!(queue_capacity().is_some_and(|capacity| capacity > 0));
    }

    /// Elsewhere the OS does not say: the numbers are unknown, never a guess, and never read
    /// from whatever file is at `/proc/...` (under Wine that is Linux's own, which said 1).
    #[cfg(not(target_os = "linux"))]
    #[tokio::test]
    async fn the_queue_is_unknown_off_linux() {
        let listener = crate::lifecycle::listener::bind(IpAddr::from([127, 0, 0, 1]), 0).unwrap();
        let addr = listener.local_addr().unwrap();
        let _waiting = std::net::TcpStream::connect(addr).unwrap();
        assert_eq!(accept_queue(addr), None);
        assert_eq!((queue_capacity(), listen_overflows()), (None, None));
    }
}
