//! HTTP/2 through the guardian with MITM on (issue #19 item 1): curl
//! offering h2 (and only h1) to an h2-only TLS origin and to an h1-only
//! origin, and h2c with prior knowledge inside CONNECT. Every exchange must
//! arrive intact, and a secret in an h2 request body must be found.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_rustls::rustls::ServerConfig;
use traffic_guardian::core::finding::Direction;
use traffic_guardian::proxy::{export_ca_cert, ProxySettings};

fn mitm_settings(home: &std::path::Path, pki: &TestPki) -> ProxySettings {
    ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.join("ca"),
        extra_ca_bundle: Some(pki.ca_pem_path.clone()),
        ..test_settings()
    }
}

/// Echoes the request body; `/inject` answers with the planted injection.
/// `x-seen-version` says which HTTP version reached the origin.
async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let version = format!("{:?}", req.version());
    let inject = req.uri().path() == "/inject";
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let body = if inject {
        Bytes::from(format!("page\n{INJECTION}\n"))
    } else {
        body
    };
    let mut res = Response::new(Full::new(body));
    res.headers_mut()
        .insert("x-seen-version", version.parse().unwrap());
    Ok(res)
}

/// An HTTP/2-only TLS origin: ALPN offers only `h2`, and only h2 is served.
async fn spawn_h2_only_tls(pki: &TestPki) -> SocketAddr {
    let mut cfg: ServerConfig = (*pki.server_config).clone();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service_fn(echo))
                    .await;
            });
        }
    });
    addr
}

/// An h2c-only origin (HTTP/2 with prior knowledge over plain TCP).
async fn spawn_h2c_only() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service_fn(echo))
                    .await;
            });
        }
    });
    addr
}

/// What curl saw: status, the HTTP version it spoke, and the body.
#[derive(Debug)]
struct Seen {
    status: u16,
    version: String,
    body: Vec<u8>,
}

async fn curl_v(proxy: &str, url: &str, extra: &[&str]) -> Seen {
    let proxy = proxy.to_string();
    let url = url.to_string();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let body = dir.path().join("body");
        let mut cmd = Command::new("curl");
        for var in [
            "http_proxy",
            "https_proxy",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        let out = cmd
            .args(["-sS", "--max-time", "10", "-o"])
            .arg(&body)
            .args(["-w", "%{http_code} %{http_version}", "--proxy", &proxy])
            .args(&extra)
            .arg(&url)
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "curl {extra:?} {url} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let w = String::from_utf8_lossy(&out.stdout).to_string();
        let (status, version) = w.split_once(' ').unwrap_or(("0", ""));
        Seen {
            status: status.parse().unwrap_or(0),
            version: version.to_string(),
            body: std::fs::read(&body).unwrap_or_default(),
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn h2_and_h1_clients_reach_h2_only_and_h1_only_origins_under_mitm() {
    let pki = test_pki();
    let h2_only = spawn_h2_only_tls(&pki).await;
    let (h1_only, _) = spawn_https_upstream(&pki).await;
    let home = tempfile::tempdir().unwrap();
    let settings = mitm_settings(home.path(), &pki);
    let ca_dir = settings.ca_dir.clone();
    let (engine, sink, addr) = start_proxy(settings).await;
    let out = tempfile::tempdir().unwrap();
    let ca = export_ca_cert(&ca_dir, out.path()).unwrap();
    let ca = ca.to_str().unwrap();
    let proxy = proxy_url(addr);

    // An h2 client to the h2-only origin: h2 on both legs.
    let key = fake_aws_key();
    let data = format!("token={key}");
    let seen = curl_v(
        &proxy,
        &format!("https://{h2_only}/echo"),
        &["--http2", "--cacert", ca, "--data-binary", &data],
    )
    .await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.version, "2", "the client was offered h2");
    assert_eq!(seen.body, data.as_bytes());
    let f = sink
        .wait_for(|f| f.direction == Direction::Outbound && f.location == "body")
        .await
        .expect("a secret in an h2 request body is found");
    assert_eq!(f.protocol, "https");
    assert_eq!(f.dest, h2_only.to_string());

    // An HTTP/1.1-only client to the h2-only origin: translated.
    let seen = curl_v(
        &proxy,
        &format!("https://{h2_only}/inject"),
        &["--http1.1", "--cacert", ca],
    )
    .await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.version, "1.1");
    assert!(String::from_utf8_lossy(&seen.body).contains(INJECTION));
    sink.wait_for(|f| f.direction == Direction::Inbound && f.dest == h2_only.to_string())
        .await
        .expect("injection in a translated h2 response is found");

    // An h2 client to an HTTP/1.1-only origin: translated the other way.
    let seen = curl_v(
        &proxy,
        &format!("https://{h1_only}/echo"),
        &["--http2", "--cacert", ca, "--data-binary", "hello"],
    )
    .await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.version, "2");
    assert_eq!(seen.body, b"hello");

    let st = engine.status();
    assert_eq!(st.counters.client_protocol_errors, 0);
    assert_eq!(st.counters.upstream_errors, 0);
    assert_eq!(st.counters.tunnels, 0, "every CONNECT was intercepted");
    let all = format!("{:?}", sink.all());
    assert!(!all.contains(&key), "the secret appears in no finding");
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn h2c_with_prior_knowledge_inside_connect_is_relayed_and_inspected() {
    let pki = test_pki();
    let h2c = spawn_h2c_only().await;
    let home = tempfile::tempdir().unwrap();
    let (engine, sink, addr) = start_proxy(mitm_settings(home.path(), &pki)).await;
    let proxy = proxy_url(addr);
    let key = fake_aws_key();
    let data = format!("token={key}");
    // `-p` tunnels plain http through CONNECT; the first bytes are the h2 preface.
    let seen = curl_v(
        &proxy,
        &format!("http://{h2c}/echo"),
        &["--http2-prior-knowledge", "-p", "--data-binary", &data],
    )
    .await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.version, "2");
    assert_eq!(seen.body, data.as_bytes());
    let f = sink
        .wait_for(|f| f.direction == Direction::Outbound && f.location == "body")
        .await
        .expect("a secret in an h2c request body is found");
    assert_eq!(f.protocol, "http");
    assert_eq!(f.dest, h2c.to_string());
    let seen = curl_v(
        &proxy,
        &format!("http://{h2c}/inject"),
        &["--http2-prior-knowledge", "-p"],
    )
    .await;
    assert_eq!(seen.status, 200, "{seen:?}");
    sink.wait_for(|f| f.direction == Direction::Inbound && f.dest == h2c.to_string())
        .await
        .expect("injection in an h2c response is found");
    let st = engine.status();
    assert_eq!(st.counters.client_protocol_errors, 0);
    assert_eq!(st.counters.upstream_errors, 0);
    assert!(st.counters.mitm_connections >= 2);
    engine.stop().await.unwrap();
}
