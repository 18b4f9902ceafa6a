//! The HTTP client the proxy forwards with: hyper-util's pooled client over an
//! `HttpConnector` whose resolver tries both `::1` and `127.0.0.1` for `localhost`.
//!
//! Node 17+ resolves `localhost` to `::1` first, and the most common proxy failure is
//! `ECONNREFUSED ::1` against a backend listening on IPv4 only (issue 18). So `localhost`
//! is never asked of the system resolver: it is both loopback addresses, IPv6 first, and the
//! connector's happy eyeballs moves to `127.0.0.1` as soon as `::1` refuses.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The proxy's client: requests carry the browser's body as it streams in.
pub(crate) type ProxyClient = Client<HttpConnector<Resolver>, Incoming>;

/// The client for `connect_timeout`, shared by every connection (so upstream connections
/// are pooled and reused across requests and generations), and made anew only when the
/// setting changes.
pub(crate) fn client(connect_timeout: Duration) -> ProxyClient {
    static CLIENT: Mutex<Option<(Duration, ProxyClient)>> = Mutex::new(None);
    // A poisoned lock only means another thread panicked while cloning: the value is whole.
    let mut slot = CLIENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match &*slot {
        Some((timeout, client)) if *timeout == connect_timeout => client.clone(),
        _ => {
            let client = build(connect_timeout);
            *slot = Some((connect_timeout, client.clone()));
            client
        }
    }
}

fn build(connect_timeout: Duration) -> ProxyClient {
    let mut connector = HttpConnector::new_with_resolver(Resolver);
    connector.set_connect_timeout(Some(connect_timeout));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        // An idle upstream connection is kept this long for the next request; a target that
        // closed it first costs nothing, as hyper retries a request not yet sent on it.
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// Resolves `localhost` to both loopback addresses, and other names with the system's
/// resolver (on the blocking pool, as `getaddrinfo` blocks).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resolver;

type Resolving = Pin<Box<dyn Future<Output = io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

impl tower::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str();
            if is_localhost(host) {
                // Port 0: the connector puts the target's port in.
                return Ok(vec![
                    SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
                    SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                ]
                .into_iter());
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
            Ok(addrs.into_iter())
        })
    }
}

/// `localhost` and names under it (RFC 6761 §6.3), in any case, with or without a final dot.
fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// Whatever the system's resolver says of `localhost` (`/etc/hosts` may give `::1`
    /// only), the proxy tries both loopback addresses, IPv6 first.
    #[tokio::test]
    async fn localhost_is_both_loopback_addresses() {
        for name in ["localhost", "LocalHost.", "app.localhost"] {
            let name = Name::from_str(name).unwrap();
            let addrs: Vec<_> = tower::Service::call(&mut Resolver, name)
                .await
                .unwrap()
                .collect();
            let ips: Vec<_> = addrs.iter().map(SocketAddr::ip).collect();
            assert_eq!(
                ips,
                [
                    Ipv6Addr::LOCALHOST.into(),
                    std::net::IpAddr::from(Ipv4Addr::LOCALHOST)
                ]
            );
        }
    }
}
