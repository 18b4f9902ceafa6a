//! HTTPS and HTTP/2 for the integration tests: connections that trust only the local CA of
//! the server's certificate folder, and check that the certificate presented is the one whose
//! fingerprint the server reports.

use std::net::SocketAddr;
use std::path::Path;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use wharf_core::fingerprint;
use wharf_core::ServerHandle;

/// The address the server accepts HTTPS connections on.
pub fn https_addr(server: &ServerHandle) -> SocketAddr {
    server.https().expect("HTTPS is on").local_addr
}

/// Connects over TLS to `name` (`localhost` or an IP), trusting only the server's CA, and
/// checks that the certificate presented is the one whose fingerprint the server reports.
pub async fn connect(server: &ServerHandle, alpn: &[&[u8]], name: &str) -> TlsStream<TcpStream> {
    let https = server.https().unwrap();
    connect_to(
        https.local_addr,
        &https.ca_cert_path,
        &https.fingerprint,
        alpn,
        name,
    )
    .await
}

/// Connects to `addr` trusting only the (CA) certificate in `pem`, and checks that the
/// certificate presented has the SHA-256 `expected`.
pub async fn connect_to(
    addr: SocketAddr,
    pem: &Path,
    expected: &str,
    alpn: &[&[u8]],
    name: &str,
) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = super::tls_connect_to(tcp, pem, alpn, name).await;
    let presented = &tls.get_ref().1.peer_certificates().unwrap()[0];
    assert_eq!(
        fingerprint(presented),
        expected,
        "the certificate presented is the one reported"
    );
    tls
}

/// An HTTP/2 connection (ALPN `h2`), its driver spawned.
pub async fn h2(server: &ServerHandle, name: &str) -> http2::SendRequest<Empty<Bytes>> {
    h2_over(connect(server, &[b"h2", b"http/1.1"], name).await).await
}

/// An HTTP/2 connection to `localhost` whose socket receives into a buffer of only `bytes`
/// (which also stops the kernel from growing it): the last bytes of a response then wait in the
/// server's send buffer until the client reads them, as they do across a slow network.
pub async fn h2_with_receive_buffer(
    server: &ServerHandle,
    bytes: u32,
) -> http2::SendRequest<Empty<Bytes>> {
    let https = server.https().expect("HTTPS is on");
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(bytes).unwrap();
    let tcp = socket.connect(https.local_addr).await.unwrap();
    h2_over(super::tls_connect_to(tcp, &https.ca_cert_path, &[b"h2"], "localhost").await).await
}

/// HTTP/2 over `tls`, its driver spawned.
async fn h2_over(tls: TlsStream<TcpStream>) -> http2::SendRequest<Empty<Bytes>> {
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

pub fn h2_request(server: &ServerHandle, path: &str) -> http::Request<Empty<Bytes>> {
    let url = format!("https://localhost:{}{path}", https_addr(server).port());
    http::Request::get(url).body(Empty::new()).unwrap()
}
