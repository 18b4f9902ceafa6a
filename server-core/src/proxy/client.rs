//! The HTTP client the proxy forwards with: hyper-util's pooled client over an
//! `HttpConnector` whose resolver tries both `::1` and `127.0.0.1` for `localhost`, with
//! rustls for `https://` targets (`hyper-rustls`).
//!
//! An `https://` target on another machine must show a certificate the OS's roots trust, as
//! it must to the developer's browser. A target on this machine (`localhost`, a name under
//! it, a loopback address) is not checked: its certificate is the developer's own dev
//! server's, usually self-signed (Vite's `basicSsl`, `mkcert` without `-install`), and a
//! loopback connection has no one in the middle to check for. That is `secure: false` in
//! Vite's and webpack's proxies, as a default that only ever applies to this machine.
//!
//! Node 17+ resolves `localhost` to `::1` first, and the most common proxy failure is
//! `ECONNREFUSED ::1` against a backend listening on IPv4 only (issue 18). So `localhost`
//! is never asked of the system resolver: it is both loopback addresses, IPv6 first, and the
//! connector's happy eyeballs moves to `127.0.0.1` as soon as `::1` refuses.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// The proxy's client: requests carry the browser's body as it streams in.
pub(crate) type ProxyClient = Client<HttpsConnector<HttpConnector<Resolver>>, Incoming>;

/// Whose certificates a client checks (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Another machine's: against the OS's roots.
    OsRoots,
    /// This machine's: not checked.
    ThisMachine,
}

/// The client for `connect_timeout` and `trust`, shared by every connection (so upstream
/// connections are pooled and reused across requests and generations), and made anew only
/// when the setting changes.
pub(crate) fn client(connect_timeout: Duration, trust: Trust) -> ProxyClient {
    type Made = Vec<(Duration, Trust, ProxyClient)>;
    static CLIENTS: Mutex<Made> = Mutex::new(Vec::new());
    // A poisoned lock only means another thread panicked while cloning: the value is whole.
    let mut clients = CLIENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, _, client)) = clients
        .iter()
        .find(|(timeout, made, _)| *timeout == connect_timeout && *made == trust)
    {
        return client.clone();
    }
    // One per trust at most: a new timeout replaces the old ones.
    clients.retain(|(timeout, _, _)| *timeout == connect_timeout);
    let client = build(connect_timeout, trust);
    clients.push((connect_timeout, trust, client.clone()));
    client
}

fn build(connect_timeout: Duration, trust: Trust) -> ProxyClient {
    let mut http = HttpConnector::new_with_resolver(Resolver);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    // The TLS connector below takes `https://` and passes `http://` through.
    http.enforce_http(false);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = match trust {
        Trust::OsRoots => HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .unwrap_or_else(|err| {
                // No roots found: every remote https target then fails, and its 502 page
                // says the certificate is not trusted.
                tracing::warn!("the proxy found no trusted root certificates: {err}");
                HttpsConnectorBuilder::new().with_tls_config(unverified(
                    Arc::new(rustls::crypto::ring::default_provider()),
                    false,
                ))
            }),
        Trust::ThisMachine => {
            HttpsConnectorBuilder::new().with_tls_config(unverified(provider, true))
        }
    };
    let connector = tls.https_or_http().enable_http1().wrap_connector(http);
    Client::builder(TokioExecutor::new())
        // An idle upstream connection is kept this long for the next request; a target that
        // closed it first costs nothing, as hyper retries a request not yet sent on it.
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// A TLS config for targets on this machine (`accept_any`: no certificate check), or, when
/// the OS has no roots, one that trusts nothing.
fn unverified(provider: Arc<CryptoProvider>, accept_any: bool) -> ClientConfig {
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        // ring supports rustls's default versions: this cannot fail.
        .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"));
    if accept_any {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ThisMachine(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    }
}

/// Accepts the certificate of a target on this machine whatever signed it, and still checks
/// the handshake's signatures (so the connection is the certificate holder's).
#[derive(Debug)]
struct ThisMachine(Arc<CryptoProvider>);

impl ServerCertVerifier for ThisMachine {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Whose certificate a target on `host` (as in a URI's authority) shows: this machine's for
/// `localhost`, names under it and loopback addresses.
pub(crate) fn trust_for(host: &str) -> Trust {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = ip
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback());
    if loopback || is_localhost(host) {
        Trust::ThisMachine
    } else {
        Trust::OsRoots
    }
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

    /// Only this machine's targets go unchecked.
    #[test]
    fn only_this_machine_s_certificates_go_unchecked() {
        for host in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.8.0.1",
            "[::1]",
        ] {
            assert_eq!(trust_for(host), Trust::ThisMachine, "{host}");
        }
        for host in [
            "example.com",
            "localhost.example.com",
            "192.168.1.2",
            "[2001:db8::1]",
        ] {
            assert_eq!(trust_for(host), Trust::OsRoots, "{host}");
        }
    }
}
