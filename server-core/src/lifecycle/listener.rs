//! Binds the listening socket and turns the OS's refusals into errors a user can act on.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpListener, TcpSocket};

use crate::lifecycle::error::StartError;

/// Pending connections the kernel queues for us before refusing new ones.
pub(crate) const BACKLOG: u32 = 1024;

/// Binds `host:port` (`port` 0 picks a free one).
///
/// # Errors
/// [`StartError::PortInUse`], [`StartError::PermissionDenied`],
/// [`StartError::AddressUnavailable`], or [`StartError::Bind`] for anything else.
pub(crate) fn bind(host: IpAddr, port: u16) -> Result<TcpListener, StartError> {
    let addr = SocketAddr::new(host, port);
    let classify = |err: io::Error| match err.kind() {
        io::ErrorKind::AddrInUse => StartError::PortInUse { port },
        io::ErrorKind::PermissionDenied => StartError::PermissionDenied { port },
        io::ErrorKind::AddrNotAvailable => StartError::AddressUnavailable { host },
        _ => StartError::Bind { addr, source: err },
    };
    let socket = match host {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(classify)?;
    // Lets a restarted server take its port back while old connections sit in TIME_WAIT.
    // On Linux this never lets two live listeners share a port; on macOS and BSD it lets a
    // specific address and the wildcard share one (see the test below). On Windows it would
    // let another program bind the very same address and port, so it is not set there.
    #[cfg(unix)]
    socket.set_reuseaddr(true).map_err(classify)?;
    socket.bind(addr).map_err(classify)?;
    socket.listen(BACKLOG).map_err(classify)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    /// The desktop app's LAN toggle (`Site::set_lan`) first binds 0.0.0.0 on the port
    /// 127.0.0.1 holds (and back) while the old listener still runs, and stops the old one
    /// first only where the OS refuses two listeners on one port. Linux refuses whenever one is
    /// listening; BSD and macOS allow a specific and the wildcard address side by side when the
    /// new socket has SO_REUSEADDR (see `in_pcbbind`), so there the toggle never stops the server.
    /// Windows is left unasserted: it allows the wildcard then a specific address by default,
    /// and Wine answers with Linux's rules.
    #[tokio::test]
    async fn loopback_and_wildcard_share_a_port_where_the_os_allows() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let wildcard = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        for (first, second) in [(loopback, wildcard), (wildcard, loopback)] {
            let held = bind(first, 0).unwrap();
            let port = held.local_addr().unwrap().port();
            let both = bind(second, port);
            if cfg!(target_os = "linux") {
                assert!(
                    matches!(both, Err(StartError::PortInUse { port: p }) if p == port),
                    "{first} then {second}: {both:?}"
                );
            } else if cfg!(any(target_os = "macos", target_os = "freebsd")) {
                assert!(both.is_ok(), "{first} then {second}: {both:?}");
            }
        }
    }
}
