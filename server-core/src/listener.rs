//! Binds the listening socket and turns the OS's refusals into errors a user can act on.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpListener, TcpSocket};

use crate::error::StartError;

/// Pending connections the kernel queues for us before refusing new ones.
pub(crate) const BACKLOG: u32 = 1024;

/// Binds `host:port` (`port` 0 picks a free one).
///
/// # Errors
/// [`StartError::PortInUse`], [`StartError::PermissionDenied`],
/// [`StartError::AddressUnavailable`], or [`StartError::Bind`] for anything else.
pub fn bind(host: IpAddr, port: u16) -> Result<TcpListener, StartError> {
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
    // On Unix this does not let two live listeners share a port.
    #[cfg(unix)]
    socket.set_reuseaddr(true).map_err(classify)?;
    socket.bind(addr).map_err(classify)?;
    socket.listen(BACKLOG).map_err(classify)
}
