//! The per-path proxy (issue 18) against real upstreams started here on 127.0.0.1: a plain
//! HTTP one that echoes what it got, a slow one, none at all, an IPv4-only one reached as
//! `localhost`, a WebSocket echo and a server-sent event stream.

#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{draft, free_port, request, send_raw, start_draft};
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;
use wharf_core::config::ProxyRuleDraft;
use wharf_core::ConfigDraft;

/// A rule `path` → `target`, with the default rewrite and change of origin.
fn rule(path: &str, target: &str) -> ProxyRuleDraft {
    ProxyRuleDraft {
        path: path.into(),
        target: target.into(),
        ..ProxyRuleDraft::default()
    }
}

fn with_rules(root: &std::path::Path, rules: Vec<ProxyRuleDraft>) -> ConfigDraft {
    ConfigDraft {
        proxy: Some(rules),
        ..draft(root)
    }
}

/// An upstream that answers every request with what it received, one `name: value` a line:
/// the method and target, `Host`, the `X-Forwarded-*` headers and the body.
async fn echo_upstream() -> SocketAddr {
    serve_http(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        |request| async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let header = |name: &str| {
                parts
                    .headers
                    .get(name)
                    .map_or("-".to_owned(), |v| v.to_str().unwrap().to_owned())
            };
            let text = format!(
            "target: {} {}\nhost: {}\nfor: {}\nfwd-host: {}\nproto: {}\nconnection: {}\nbody: {}\n",
            parts.method,
            parts.uri,
            header("host"),
            header("x-forwarded-for"),
            header("x-forwarded-host"),
            header("x-forwarded-proto"),
            header("connection"),
            String::from_utf8_lossy(&body),
        );
            Response::builder()
                .header("content-type", "text/plain")
                .header("x-upstream", "echo")
                .body(full(text))
                .unwrap()
        },
    )
}

type TestBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn full(text: impl Into<Bytes>) -> TestBody {
    Full::new(text.into()).boxed()
}

/// Serves `listener` with hyper, each request by `answer`.
fn serve_http<F, Fut>(listener: TcpListener, answer: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<TestBody>> + Send + 'static,
{
    serve(listener, None, answer)
}

/// Serves `listener` with hyper, over TLS when `tls` is given, each request by `answer`.
fn serve<F, Fut>(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    answer: F,
) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<TestBody>> + Send + 'static,
{
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let answer = answer.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let answer = answer.clone();
                    async move { Ok::<_, Infallible>(answer(request).await) }
                });
                let http = hyper::server::conn::http1::Builder::new();
                let _ = match tls {
                    None => http.serve_connection(TokioIo::new(tcp), service).await,
                    Some(tls) => match tls.accept(tcp).await {
                        Ok(tls) => http.serve_connection(TokioIo::new(tls), service).await,
                        Err(_) => return,
                    },
                };
            });
        }
    });
    addr
}

/// A TLS acceptor with a self-signed certificate for `localhost` and 127.0.0.1, as a
/// developer's HTTPS dev server has.
fn self_signed() -> tokio_rustls::TlsAcceptor {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// The echo upstream over HTTPS with a self-signed certificate, listening on `ip`.
async fn echo_upstream_over_tls(ip: std::net::IpAddr) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    serve(
        listener,
        Some(self_signed()),
        |request: Request<Incoming>| async move {
            let text = format!("target: {} {}\n", request.method(), request.uri());
            Response::builder().body(full(text)).unwrap()
        },
    )
}

#[tokio::test]
async fn a_rule_wins_over_files_and_forwards_the_request() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("api")).unwrap();
    std::fs::write(site.path().join("api/data.json"), "from the folder").unwrap();
    std::fs::write(site.path().join("apix.txt"), "a file").unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![rule("/api", &format!("http://{upstream}"))],
    ))
    .await;
    let addr = server.local_addr();

    let answer = request(
        addr,
        "GET",
        "/api/data.json?x=1",
        &[("Connection", "close")],
    )
    .await;
    let text = answer.text();
    assert_eq!(answer.status, 200, "{text}");
    assert_eq!(answer.header("x-upstream"), Some("echo"));
    assert!(text.contains("target: GET /api/data.json?x=1\n"), "{text}");
    // Change origin (the default): the target's own Host.
    assert!(text.contains(&format!("host: {upstream}\n")), "{text}");
    assert!(text.contains("for: 127.0.0.1\n"), "{text}");
    assert!(text.contains(&format!("fwd-host: {addr}\n")), "{text}");
    assert!(text.contains("proto: http\n"), "{text}");
    // Hop-by-hop headers stay on their hop.
    assert!(!text.contains("connection: close"), "{text}");
    // A prefix matches at segment boundaries: `/apix.txt` is the folder's.
    assert_eq!(common::get(addr, "/apix.txt").await.text(), "a file");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn wharf_s_own_paths_are_never_proxied() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![rule("/", &format!("http://{upstream}"))],
    ))
    .await;
    let addr = server.local_addr();
    assert_eq!(
        common::get(addr, "/anything").await.header("x-upstream"),
        Some("echo")
    );
    for path in ["/__wharf/reload.js", "/%5F%5Fwharf/reload.js"] {
        let answer = common::get(addr, path).await;
        assert_eq!(answer.header("x-upstream"), None, "{path} was proxied");
    }
    server.stop(Duration::from_secs(1)).await;

    let refused = wharf_core::ServerConfig::try_from(with_rules(
        site.path(),
        vec![rule("/__wharf/x", "http://localhost:1")],
    ))
    .unwrap_err();
    assert_eq!(refused.to_string().split(':').next(), Some("proxy[0].path"));
    assert!(refused.reason.contains("/__wharf/"), "{refused}");
}

#[tokio::test]
async fn a_rewrite_replaces_the_prefix_and_the_browser_s_host_can_be_kept() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![ProxyRuleDraft {
            rewrite: Some("/v2".into()),
            change_origin: Some(false),
            ..rule("/api", &format!("http://{upstream}/base"))
        }],
    ))
    .await;
    let addr = server.local_addr();
    let text = common::get(addr, "/api/users").await.text();
    assert!(text.contains("target: GET /base/v2/users\n"), "{text}");
    assert!(text.contains(&format!("host: {addr}\n")), "{text}");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn request_bodies_of_any_method_reach_the_target() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![rule("^/items/[0-9]+$", &format!("http://{upstream}"))],
    ))
    .await;
    let addr = server.local_addr();
    // Chunked: Wharf refuses request bodies for its own files, not for its targets.
    let answer = send_raw(
        addr,
        format!(
            "POST /items/42 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    let text = answer.text();
    assert_eq!(answer.status, 200, "{text}");
    assert!(text.contains("target: POST /items/42\n"), "{text}");
    assert!(text.contains("body: hello world\n"), "{text}");
    // The regex is anchored: `/items/x` is not the target's.
    assert_eq!(common::get(addr, "/items/x").await.status, 404);
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_target_that_is_down_is_a_502_naming_it() {
    let site = tempfile::tempdir().unwrap();
    let port = free_port();
    let target = format!("http://127.0.0.1:{port}");
    let server = start_draft(with_rules(site.path(), vec![rule("/api", &target)])).await;
    let answer = common::get(server.local_addr(), "/api/x").await;
    let page = answer.text();
    assert_eq!(answer.status, 502, "{page}");
    assert!(page.contains(&target), "{page}");
    // The OS's own words (`Connection refused`, or Windows's sentence), and what to do.
    assert!(page.contains("os error"), "{page}");
    assert!(page.contains("Start it"), "{page}");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_target_that_never_answers_is_a_504() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    // Accepts and reads, and never answers.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            held.push(tcp);
        }
    });
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(ConfigDraft {
        proxy_first_byte_timeout_ms: Some(300),
        ..with_rules(
            site.path(),
            vec![rule("/api", &format!("http://{upstream}"))],
        )
    })
    .await;
    let answer = common::get(server.local_addr(), "/api/slow").await;
    assert_eq!(answer.status, 504, "{}", answer.text());
    assert!(answer.text().contains(&upstream.to_string()));
    silent.abort();
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn localhost_reaches_a_backend_listening_on_ipv4_only() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    let target = format!("http://localhost:{}", upstream.port());
    let server = start_draft(with_rules(site.path(), vec![rule("/api", &target)])).await;
    let answer = common::get(server.local_addr(), "/api/x").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer
        .text()
        .contains(&format!("host: localhost:{}\n", upstream.port())));
    server.stop(Duration::from_secs(1)).await;
}

/// An event stream passes event by event: the second event is only sent once the first
/// has reached the browser, so a proxy that waited for the whole body would hang here. An
/// apply in between leaves the stream on its generation.
#[tokio::test]
async fn server_sent_events_stream_through() {
    let first_seen = Arc::new(Notify::new());
    let gate = Arc::clone(&first_seen);
    let upstream = serve_http(TcpListener::bind("127.0.0.1:0").await.unwrap(), move |_| {
        let gate = Arc::clone(&gate);
        async move {
            let events = futures_util::stream::unfold(0, move |n| {
                let gate = Arc::clone(&gate);
                async move {
                    match n {
                        0 => Some((Ok(Frame::data(Bytes::from("data: one\n\n"))), 1)),
                        1 => {
                            gate.notified().await;
                            Some((Ok(Frame::data(Bytes::from("data: two\n\n"))), 2))
                        }
                        _ => None,
                    }
                }
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(BodyExt::boxed(StreamBody::new(events)))
                .unwrap()
        }
    });
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![rule("/events", &format!("http://{upstream}"))],
    ))
    .await;
    let addr = server.local_addr();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let wait = Duration::from_secs(10);
    tokio::time::timeout(wait, read_until(&mut tcp, &mut seen, "data: one"))
        .await
        .expect("the first event arrived before the stream ended");
    // An apply that takes the rule away does not cut the transfer in flight: it finishes on
    // the generation it started with.
    server.apply(draft(site.path())).await.unwrap();
    assert_eq!(common::get(addr, "/events").await.status, 404);
    first_seen.notify_one();
    tokio::time::timeout(wait, read_until(&mut tcp, &mut seen, "data: two"))
        .await
        .expect("the second event arrived");
    server.stop(Duration::from_secs(1)).await;
}

/// Reads from `tcp` into `seen` until `what` is in it.
async fn read_until(tcp: &mut TcpStream, seen: &mut Vec<u8>, what: &str) {
    let mut buf = [0; 1024];
    while !String::from_utf8_lossy(seen).contains(what) {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed before {what:?}: {}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
}

/// A WebSocket echo server: every message comes back as it went.
async fn websocket_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    if message.is_close() {
                        break;
                    }
                    if socket.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A WebSocket passes both ways, and carries on over an apply that changes the rules: it
/// stays on the generation it was opened under, while a new request sees the new one.
#[tokio::test]
async fn a_websocket_passes_both_ways_and_outlives_an_apply() {
    let upstream = websocket_echo().await;
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![rule("/ws", &format!("http://{upstream}"))],
    ))
    .await;
    let addr = server.local_addr();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut socket, response) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), tcp)
        .await
        .expect("the handshake passes through");
    assert_eq!(response.status(), 101);
    let wait = Duration::from_secs(10);
    socket.send(Message::text("hello")).await.unwrap();
    let echoed = tokio::time::timeout(wait, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echoed, Message::text("hello"));

    // The rule now leads nowhere: new requests get 502, the open socket carries on.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    server
        .apply(with_rules(site.path(), vec![rule("/ws", &nowhere)]))
        .await
        .unwrap();
    assert_eq!(common::get(addr, "/ws").await.status, 502);
    socket.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    let echoed = tokio::time::timeout(wait, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echoed, Message::binary(vec![1, 2, 3]));
    socket.close(None).await.unwrap();
    server.stop(Duration::from_secs(1)).await;
}

/// Proxied HTML gets the live-reload script, with a Content-Length that counts it.
#[tokio::test]
async fn proxied_html_gets_the_live_reload_script() {
    let upstream = serve_http(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        |request| async move {
            // Asked for uncompressed, so the script can go in.
            let coding = request.headers().get("accept-encoding").cloned();
            assert_eq!(
                coding.as_ref().map(|v| v.to_str().unwrap()),
                Some("identity")
            );
            Response::builder()
                .header("content-type", "text/html; charset=utf-8")
                .body(full("<!doctype html><body><p>app</p></body>"))
                .unwrap()
        },
    );
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![rule("/app", &format!("http://{upstream}"))],
    ))
    .await;
    let answer = request(
        server.local_addr(),
        "GET",
        "/app",
        &[("Accept", "text/html"), ("Accept-Encoding", "gzip, br")],
    )
    .await;
    let text = answer.text();
    assert_eq!(answer.status, 200, "{text}");
    assert!(text.contains(wharf_core::SCRIPT_TAG), "{text}");
    assert!(text.contains("<p>app</p>"), "{text}");
    assert_eq!(
        answer.header("content-length"),
        Some(answer.body.len().to_string().as_str())
    );
    server.stop(Duration::from_secs(1)).await;
}

/// The session log says which rule took a request, what its target answered and how soon;
/// a target that is down is logged with the 502 and no upstream status.
#[tokio::test]
async fn the_log_records_the_rule_the_upstream_status_and_its_first_byte() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let (server, log, logs) = common::start_logged(with_rules(
        site.path(),
        vec![
            rule("/down", &nowhere),
            rule("/api", &format!("http://{upstream}")),
        ],
    ))
    .await;
    let addr = server.local_addr();
    assert_eq!(common::get(addr, "/api/logged").await.status, 200);
    assert_eq!(common::get(addr, "/down/logged").await.status, 502);

    let record = common::logged(&log, logs.path(), "/api/logged").await;
    assert_eq!(record.served, wharf_core::Served::Proxy);
    let proxy = record.proxy.expect("a proxied request's record says so");
    assert_eq!((proxy.rule, proxy.upstream_status), (1, Some(200)));
    assert!(proxy.upstream_ttfb_us.is_some());
    let record = common::logged(&log, logs.path(), "/down/logged").await;
    assert_eq!(record.status, 502);
    let proxy = record
        .proxy
        .expect("a failed proxied request's record says so");
    assert_eq!(
        (proxy.rule, proxy.upstream_status, proxy.upstream_ttfb_us),
        (0, None, None)
    );
    server.stop(Duration::from_secs(1)).await;

    // The CSV export ends each row with the rule, the upstream status and its first byte.
    let mut csv = Vec::new();
    wharf_core::export_csv(logs.path(), &wharf_core::ExportFilter::default(), &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|&cell| cell == name).unwrap();
    let cells = |target: &str| -> Vec<String> {
        let row = csv.lines().find(|line| line.contains(target)).unwrap();
        // No cell of these rows holds a comma.
        row.split(',').map(str::to_owned).collect()
    };
    let row = cells("/api/logged");
    assert_eq!(row[column("served")], "proxy", "{row:?}");
    assert_eq!(row[column("proxy_rule")], "1", "{row:?}");
    assert_eq!(row[column("upstream_status")], "200", "{row:?}");
    assert!(!row[column("upstream_ttfb_us")].is_empty(), "{row:?}");
    let row = cells("/down/logged");
    assert_eq!(row[column("proxy_rule")], "0", "{row:?}");
    assert_eq!(row[column("upstream_status")], "", "{row:?}");
    assert_eq!(row[column("upstream_ttfb_us")], "", "{row:?}");
}

/// Over HTTPS and HTTP/2 (no `Host`, no hop-by-hop headers allowed), a proxied request gets
/// the target's answer, and the target learns the browser's host and `https`.
#[tokio::test]
async fn a_proxied_request_over_http2_says_https_and_the_browser_s_host() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let server = start_draft(ConfigDraft {
        https_port: Some(0),
        cert_dir: Some(certs.path().join("certs")),
        ..with_rules(
            site.path(),
            vec![rule("/api", &format!("http://{upstream}"))],
        )
    })
    .await;
    let mut sender = common::tls::h2(&server, "localhost").await;
    let response = sender
        .send_request(common::tls::h2_request(&server, "/api/h2"))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("connection").is_none());
    let text = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&text);
    let port = common::tls::https_addr(&server).port();
    assert!(text.contains("target: GET /api/h2\n"), "{text}");
    assert!(text.contains("proto: https\n"), "{text}");
    assert!(
        text.contains(&format!("fwd-host: localhost:{port}\n")),
        "{text}"
    );
    server.stop(Duration::from_secs(1)).await;
}

/// Network rules shape proxied answers as they shape files: a fault answers instead of the
/// target, and a throttled proxied answer arrives whole; the record names both rules.
#[tokio::test]
async fn network_rules_shape_proxied_answers_and_the_record_names_both_rules() {
    let upstream = echo_upstream().await;
    let site = tempfile::tempdir().unwrap();
    let parse = |text: &str| wharf_core::config::parse_network_rule(text).unwrap();
    let (server, log, logs) = common::start_logged(ConfigDraft {
        network: Some(vec![
            parse("/api/failing/** status=503"),
            parse("/api/** rate=200000"),
        ]),
        ..with_rules(
            site.path(),
            vec![rule("/api", &format!("http://{upstream}"))],
        )
    })
    .await;
    let addr = server.local_addr();

    let failing = common::get(addr, "/api/failing/x").await;
    assert_eq!(failing.status, 503);
    assert_eq!(failing.header("retry-after"), Some("1"));
    let slowed = common::get(addr, "/api/slowed").await;
    assert_eq!(slowed.status, 200);
    assert!(
        slowed.text().contains("target: GET /api/slowed"),
        "{}",
        slowed.text()
    );

    let record = common::logged(&log, logs.path(), "/api/failing/x").await;
    assert_eq!(record.served, wharf_core::Served::Proxy);
    let network = record.network.expect("the fault is in the record");
    assert_eq!(network.rule, 0);
    assert_eq!(network.effect_names(), "status");
    let record = common::logged(&log, logs.path(), "/api/slowed").await;
    assert_eq!(
        record.proxy.map(|proxy| proxy.upstream_status),
        Some(Some(200))
    );
    let network = record.network.expect("the throttle is in the record");
    assert_eq!(
        (network.rule, network.effect_names().as_str()),
        (1, "throttle")
    );
    server.stop(Duration::from_secs(1)).await;
}

/// An `https://` target on this machine is spoken to over TLS, its self-signed certificate
/// accepted (a developer's HTTPS dev server), as `localhost` and as 127.0.0.1.
#[tokio::test]
async fn an_https_target_on_this_machine_is_reached_with_its_self_signed_certificate() {
    let upstream = echo_upstream_over_tls(std::net::Ipv4Addr::LOCALHOST.into()).await;
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![
            rule("/named", &format!("https://localhost:{}", upstream.port())),
            rule("/api", &format!("https://{upstream}/v1")),
        ],
    ))
    .await;
    let addr = server.local_addr();
    for (path, seen) in [
        ("/named/x?q=1", "/named/x?q=1"),
        ("/api/users", "/v1/api/users"),
    ] {
        let response = common::get(addr, path).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        assert_eq!(response.text(), format!("target: GET {seen}\n"));
    }
    server.stop(Duration::from_secs(1)).await;
}

/// An `https://` target on another machine must show a certificate the OS trusts: a
/// self-signed one gets the 502 page, which says why. The other machine is this one's own
/// network address (not loopback); without one, there is nothing to test.
#[tokio::test]
async fn an_https_target_elsewhere_with_an_untrusted_certificate_is_a_502_saying_why() {
    let Some(ip) = if_addrs::get_if_addrs()
        .unwrap()
        .into_iter()
        .map(|interface| interface.ip())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
    else {
        eprintln!("skipped: this machine has no non-loopback IPv4 address");
        return;
    };
    let upstream = echo_upstream_over_tls(ip).await;
    let site = tempfile::tempdir().unwrap();
    let server = start_draft(with_rules(
        site.path(),
        vec![rule("/api", &format!("https://{upstream}"))],
    ))
    .await;
    let response = common::get(server.local_addr(), "/api/x").await;
    assert_eq!(response.status, 502);
    let page = response.text();
    assert!(page.to_lowercase().contains("certificate"), "{page}");
    server.stop(Duration::from_secs(1)).await;
}
