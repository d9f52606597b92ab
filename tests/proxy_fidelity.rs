//! Protocol fidelity under MITM (issue #19 items 2, 4, 5, 6): protocols that
//! work without the guardian must work through it unchanged, and what they
//! carry must be inspected or visibly counted as not inspected.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use traffic_guardian::core::finding::Direction;
use traffic_guardian::proxy::ProxySettings;

fn mitm_settings(home: &std::path::Path) -> ProxySettings {
    ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: vec!["*".into()],
        ca_dir: home.join("ca"),
        ..test_settings()
    }
}

const BANNER: &str = "220 banner.test ESMTP ready\r\n";

/// A server that speaks first (SMTP-like): a banner, then `250 <line>` per line.
async fn spawn_banner_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = tcp.into_split();
                if w.write_all(BANNER.as_bytes()).await.is_err() {
                    return;
                }
                let mut lines = BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if w.write_all(format!("250 {line}\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Opens a CONNECT tunnel through the proxy and returns the stream after `200`.
async fn connect_through(proxy: SocketAddr, target: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

async fn read_line(tcp: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let read = async {
        while !line.ends_with(b"\r\n") {
            line.push(tcp.read_u8().await.unwrap());
        }
    };
    // Generous: only a broken relay (nothing ever arrives) runs into it.
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the line arrives");
    String::from_utf8(line).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn server_speaks_first_inside_an_intercepted_connect() {
    let banner = spawn_banner_server().await;
    let home = tempfile::tempdir().unwrap();
    let (engine, sink, addr) = start_proxy(mitm_settings(home.path())).await;
    let mut tcp = connect_through(addr, banner).await;
    // The client sends nothing until the server greets it.
    assert_eq!(read_line(&mut tcp).await, BANNER);
    let key = fake_aws_key();
    tcp.write_all(format!("MAIL FROM:<a@b> key={key}\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        read_line(&mut tcp).await,
        format!("250 MAIL FROM:<a@b> key={key}\r\n")
    );
    drop(tcp);
    let f = sink
        .wait_for(|f| f.direction == Direction::Outbound && f.location == "tunnel")
        .await
        .expect("what the client wrote in the relayed tunnel is scanned");
    assert_eq!(f.dest, banner.to_string());
    assert!(!format!("{:?}", sink.all()).contains(&key));
    let st = engine.status();
    assert_eq!(st.counters.mitm_connections, 1);
    assert_eq!(st.counters.client_timeouts, 0);
    engine.stop().await.unwrap();
}

/// A raw HTTP/1.1 origin: answers every request with the request exactly
/// as received (head, body, chunked trailers) and a header in odd case.
async fn spawn_raw_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(raw_echo(tcp));
        }
    });
    addr
}

/// The same origin over TLS (the test PKI's leaf, ALPN `http/1.1`).
async fn spawn_raw_echo_tls(pki: &TestPki) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::clone(&pki.server_config));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    raw_echo(tls).await;
                }
            });
        }
    });
    addr
}

async fn raw_echo<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut tcp: S) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = tcp.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let done = if text[..head_end].contains("transfer-encoding: chunked") {
            text[head_end..].contains("\r\n0\r\n") && text.ends_with("\r\n\r\n")
        } else {
            true
        };
        if done {
            break;
        }
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nX-RESP-CE: 1\r\ncontent-length: {}\r\nConnection: close\r\n\r\n",
        got.len()
    );
    let _ = tcp.write_all(head.as_bytes()).await;
    let _ = tcp.write_all(&got).await;
    let _ = tcp.shutdown().await;
}

/// Sends `request` raw on `tcp` and reads the whole response (closed by the origin).
async fn raw_exchange(tcp: &mut TcpStream, request: &str) -> String {
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&out);
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if out.len() >= end + 4 + len {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the response arrives");
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn header_case_is_kept_both_ways_and_trailers_are_scanned() {
    let origin = spawn_raw_echo().await;
    let home = tempfile::tempdir().unwrap();
    let (engine, sink, addr) = start_proxy(mitm_settings(home.path())).await;
    let key = fake_aws_key();
    let chunked = format!(
        "POST http://{origin}/up HTTP/1.1\r\nHost: {origin}\r\nX-CE: 1\r\nx-lower: 2\r\nTrailer: X-Checksum\r\n\
         Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: {key}\r\n\r\n"
    );
    // Through the proxy as absolute-form, and as plaintext inside an intercepted CONNECT.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    let mut tunnelled = connect_through(addr, origin).await;
    for tcp in [&mut plain, &mut tunnelled] {
        let res = raw_exchange(tcp, &chunked).await;
        assert!(
            res.contains("\r\nX-RESP-CE: 1\r\n"),
            "response header case kept: {res}"
        );
        assert!(
            res.contains("\r\nX-CE: 1\r\n"),
            "request header case kept: {res}"
        );
        assert!(res.contains("\r\nx-lower: 2\r\n"), "{res}");
        assert!(res.contains("hello"), "{res}");
        // Declared trailers reach the origin (hyper forwards declared ones).
        assert!(
            res.to_ascii_lowercase()
                .contains(&format!("\r\nx-checksum: {}\r\n", key.to_ascii_lowercase())),
            "{res}"
        );
    }
    let trailer_findings = |n: usize| {
        sink.all()
            .iter()
            .filter(|f| f.direction == Direction::Outbound && f.location.contains("x-checksum"))
            .count()
            >= n
    };
    for _ in 0..100 {
        if trailer_findings(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        trailer_findings(2),
        "a secret in a chunked trailer is found on both paths: {:?}",
        sink.all().iter().map(|f| &f.location).collect::<Vec<_>>()
    );
    assert!(!format!("{:?}", sink.all()).contains(&key));
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn userinfo_in_a_request_target_inside_an_intercepted_tunnel_is_scanned() {
    let origin = spawn_raw_echo().await;
    let home = tempfile::tempdir().unwrap();
    let (engine, sink, addr) = start_proxy(mitm_settings(home.path())).await;
    let key = fake_aws_key();
    let mut tunnelled = connect_through(addr, origin).await;
    let res = raw_exchange(
        &mut tunnelled,
        &format!("GET http://svc:{key}@{origin}/x HTTP/1.1\r\nHost: {origin}\r\n\r\n"),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    let f = sink
        .wait_for(|f| f.direction == Direction::Outbound && f.dest == origin.to_string())
        .await
        .expect("userinfo in the target is scanned");
    assert!(!format!("{f:?}").contains(&key), "and never written back");
    assert!(!format!("{:?}", sink.all()).contains(&key));
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_h2_clients_header_names_reach_an_http1_origin_as_sent() {
    let pki = test_pki();
    let origin = spawn_raw_echo_tls(&pki).await;
    let home = tempfile::tempdir().unwrap();
    let settings = ProxySettings {
        extra_ca_bundle: Some(pki.ca_pem_path.clone()),
        ..mitm_settings(home.path())
    };
    let ca_dir = settings.ca_dir.clone();
    let (engine, _sink, addr) = start_proxy(settings).await;
    let out = tempfile::tempdir().unwrap();
    let ca = traffic_guardian::proxy::export_ca_cert(&ca_dir, out.path()).unwrap();
    let res = curl(
        Some(&proxy_url(addr)),
        &format!("https://{origin}/h"),
        &[
            "--http2",
            "--cacert",
            ca.to_str().unwrap(),
            "-H",
            "X-Mixed-Case: 1",
        ],
    )
    .await;
    assert_eq!(res.status, 200);
    let seen = String::from_utf8_lossy(&res.body).to_string();
    // HTTP/2 field names are lowercase on the wire: not title-cased on the way.
    assert!(seen.contains("\r\nx-mixed-case: 1\r\n"), "{seen}");
    engine.stop().await.unwrap();
}
