//! HTTPS through the proxy: MITM with the guardian's exported CA (IP-addressed
//! upstream, IP SAN leaves), upstream TLS verification against the operator
//! bundle, blind CONNECT when MITM is off / the runtime is untrusted / the
//! host is excluded, upstream proxy chaining, and the CA store itself.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use traffic_guardian::core::finding::Direction;
use traffic_guardian::proxy::{ca_info, ensure_ca, export_ca_cert, ProxySettings};

fn mitm_settings(home: &std::path::Path, pki: &TestPki) -> ProxySettings {
    ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.join("ca"),
        extra_ca_bundle: Some(pki.ca_pem_path.clone()),
        ..test_settings()
    }
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn mitm_of_ip_addressed_https_upstream_with_exported_ca() {
    let pki = test_pki();
    let (up, _) = spawn_https_upstream(&pki).await;
    let home = tempfile::tempdir().unwrap();
    let settings = mitm_settings(home.path(), &pki);
    let ca_dir = settings.ca_dir.clone();
    let sink = std::sync::Arc::new(TestSink::default());
    let engine =
        traffic_guardian::proxy::ProxyEngine::new(settings, Some(detector()), sink.clone());
    let info = engine.start().await.unwrap();
    assert!(info.mitm);
    let fp = info.ca_fingerprint.clone().unwrap();
    assert_eq!(fp.len(), 32 * 3 - 1);
    assert!(fp
        .chars()
        .all(|c| c == ':' || c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    #[cfg(unix)]
    {
        assert_eq!(mode(&ca_dir), 0o700);
        assert_eq!(mode(&ca_dir.join("ca-key.pem")), 0o600);
        assert_eq!(mode(&ca_dir.join("ca-cert.pem")), 0o644);
    }
    let out = tempfile::tempdir().unwrap();
    let exported = export_ca_cert(&ca_dir, out.path()).unwrap();
    let exported_pem = std::fs::read_to_string(&exported).unwrap();
    assert!(exported_pem.contains("BEGIN CERTIFICATE"));
    assert!(!exported_pem.contains("PRIVATE KEY"));
    assert_eq!(Some(exported.as_path()).map(|p| p.exists()), Some(true));
    assert_eq!(ca_info(&ca_dir).unwrap().fingerprint_sha256, fp);

    let proxy = proxy_url(format!("{}:{}", info.address, info.port).parse().unwrap());
    let guardian_ca = exported.to_str().unwrap().to_string();
    let upstream_ca = pki.ca_pem_path.to_str().unwrap().to_string();
    for path in ["/plain", "/inject", "/gzip", "/teapot"] {
        let url = format!("https://{up}{path}");
        let direct = curl(
            None,
            &url,
            &["--cacert", &upstream_ca, "-H", "Accept-Encoding: gzip"],
        )
        .await;
        let proxied = curl(
            Some(&proxy),
            &url,
            &["--cacert", &guardian_ca, "-H", "Accept-Encoding: gzip"],
        )
        .await;
        assert_eq!(proxied, direct, "{path} differs through MITM");
    }
    let key = fake_aws_key();
    let res = curl(
        Some(&proxy),
        &format!("https://{up}/echo"),
        &[
            "--cacert",
            &guardian_ca,
            "--data-binary",
            &format!("key={key}"),
        ],
    )
    .await;
    assert_eq!(res.body, format!("key={key}").into_bytes());
    let f = sink
        .wait_for(|f| f.direction == Direction::Outbound && f.location == "body")
        .await
        .expect("secret inside TLS found");
    assert_eq!(f.protocol, "https");
    assert_eq!(f.dest, up.to_string());
    assert!(sink
        .all()
        .iter()
        .any(|f| f.direction == Direction::Inbound && f.protocol == "https"));
    let st = engine.status();
    assert_eq!(st.mitm.ca_fingerprint.as_deref(), Some(fp.as_str()));
    assert!(st.mitm.cached_leaf_certs >= 1);
    assert_eq!(st.counters.tunnels, 0);
    assert!(st.counters.mitm_connections >= 5);
    // Benign intercepted traffic is no fault.
    assert_eq!(st.counters.client_protocol_errors, 0);
    assert_eq!(st.counters.client_timeouts, 0);
    assert_eq!(st.counters.upstream_timeouts, 0);

    // The fingerprint matches what openssl computes, when openssl is installed.
    if let Ok(o) = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&exported)
        .output()
    {
        if o.status.success() {
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(text.trim().ends_with(&fp), "openssl says {text}");
        }
    }
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn mitm_verifies_upstream_tls() {
    let pki = test_pki();
    let (up, _) = spawn_https_upstream(&pki).await;
    let home = tempfile::tempdir().unwrap();
    // Without the operator bundle the test upstream's CA is unknown: 502, counted.
    let settings = ProxySettings {
        extra_ca_bundle: None,
        ..mitm_settings(home.path(), &pki)
    };
    let ca_dir = settings.ca_dir.clone();
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let guardian_ca = ca_info(&ca_dir).unwrap().cert_path;
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("https://{up}/plain"),
        &["--cacert", guardian_ca.to_str().unwrap()],
    )
    .await;
    assert_eq!(res.status, 502);
    assert_eq!(engine.status().counters.upstream_errors, 1);
    engine.stop().await.unwrap();
}

async fn wait_tunnel(
    engine: &traffic_guardian::proxy::ProxyEngine,
) -> traffic_guardian::proxy::TunnelRecord {
    // Up to 60 s (2 s was within reach of a loaded CI box); the tunnel is
    // expected.
    for _ in 0..3000 {
        if let Some(t) = engine.status().counters.recent_tunnels.last() {
            return t.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no tunnel recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn blind_connect_when_mitm_is_off() {
    let pki = test_pki();
    let (up, _) = spawn_https_upstream(&pki).await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let upstream_ca = pki.ca_pem_path.to_str().unwrap().to_string();
    let url = format!("https://{up}/inject");
    let direct = curl(None, &url, &["--cacert", &upstream_ca]).await;
    let proxied = curl(Some(&proxy_url(paddr)), &url, &["--cacert", &upstream_ca]).await;
    assert_eq!(proxied, direct);
    let t = wait_tunnel(&engine).await;
    assert_eq!(t.dest, up.to_string());
    assert!(t.bytes_up > 0 && t.bytes_down > 0);
    assert!(t.source.starts_with("127.0.0.1:"));
    let st = engine.status().counters;
    assert_eq!(st.tunnels, 1);
    engine.scan_idle().await;
    assert!(
        sink.all().is_empty(),
        "a blind tunnel yields metadata, not findings"
    );
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusted_runtime_and_excluded_host_are_tunnelled_blind() {
    let pki = test_pki();
    let (up, _) = spawn_https_upstream(&pki).await;
    let home = tempfile::tempdir().unwrap();
    let settings = ProxySettings {
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::Named(vec![
            "agent-main".into(),
        ]),
        runtimes: vec![("agent-main".into(), "main-token".into())],
        ..mitm_settings(home.path(), &pki)
    };
    let ca_dir = settings.ca_dir.clone();
    let (engine, sink, paddr) = start_proxy(settings).await;
    let upstream_ca = pki.ca_pem_path.to_str().unwrap().to_string();
    let guardian_ca = ca_info(&ca_dir)
        .unwrap()
        .cert_path
        .to_str()
        .unwrap()
        .to_string();
    let url = format!("https://{up}/inject");
    // No credentials: not a trusted runtime, so the upstream's own certificate is seen.
    let anon = curl(Some(&proxy_url(paddr)), &url, &["--cacert", &upstream_ca]).await;
    assert_eq!(anon.status, 200);
    wait_tunnel(&engine).await;
    engine.scan_idle().await;
    assert!(sink.all().is_empty());
    // The trusted runtime is decrypted and inspected, attributed by name.
    let trusted = curl(
        Some(&proxy_url(paddr)),
        &url,
        &[
            "--cacert",
            &guardian_ca,
            "--proxy-user",
            "agent-main:main-token",
        ],
    )
    .await;
    assert_eq!(trusted.body, anon.body);
    let f = sink
        .wait_for(|f| f.direction == Direction::Inbound)
        .await
        .unwrap();
    assert_eq!(f.source, "agent-main");
    assert_eq!(f.protocol, "https");
    engine.stop().await.unwrap();

    let settings = ProxySettings {
        mitm_exclude_hosts: vec![traffic_guardian::core::config::HostPattern::Exact(
            "127.0.0.1".into(),
        )],
        ..mitm_settings(home.path(), &pki)
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let res = curl(Some(&proxy_url(paddr)), &url, &["--cacert", &upstream_ca]).await;
    assert_eq!(res.status, 200);
    wait_tunnel(&engine).await;
    assert_eq!(engine.status().counters.tunnels, 1);
    engine.scan_idle().await;
    assert!(sink.all().is_empty());
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chains_through_an_upstream_proxy_with_its_credentials() {
    let pki = test_pki();
    let (https_up, _) = spawn_https_upstream(&pki).await;
    let (http_up, _) = spawn_http_upstream().await;
    // The upstream "gateway" is another guardian that requires its own credentials.
    let gateway_settings = ProxySettings {
        require_auth: true,
        runtimes: vec![("gw-agent".into(), "gw-secret-token".into())],
        ..test_settings()
    };
    let (gateway, gw_sink, gw_addr) = start_proxy(gateway_settings).await;

    let home = tempfile::tempdir().unwrap();
    let settings = ProxySettings {
        upstream_proxy: Some(
            traffic_guardian::proxy::parse_upstream_proxy(&format!(
                "http://gw-agent:gw-secret-token@{gw_addr}"
            ))
            .unwrap(),
        ),
        ..mitm_settings(home.path(), &pki)
    };
    let ca_dir = settings.ca_dir.clone();
    let (engine, sink, paddr) = start_proxy(settings).await;
    let guardian_ca = ca_info(&ca_dir)
        .unwrap()
        .cert_path
        .to_str()
        .unwrap()
        .to_string();

    // Plain HTTP: forwarded to the gateway in absolute form with the gateway's credentials.
    let url = format!("http://{http_up}/plain");
    let direct = curl(None, &url, &[]).await;
    let chained = curl(Some(&proxy_url(paddr)), &url, &[]).await;
    assert_eq!(chained, direct);
    let key = fake_aws_key();
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("http://{http_up}/echo"),
        &["--data-binary", &format!("k={key}")],
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(sink.wait_for(|f| f.location == "body").await.is_some());
    let gw_f = gw_sink
        .wait_for(|f| f.location == "body")
        .await
        .expect("gateway saw the request");
    assert_eq!(
        gw_f.source, "gw-agent",
        "gateway authenticated the guardian"
    );

    // MITM'd HTTPS: the connector CONNECTs through the gateway, then verifies the origin.
    let key2 = fake_aws_key();
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("https://{https_up}/echo"),
        &[
            "--cacert",
            &guardian_ca,
            "--data-binary",
            &format!("k={key2}"),
        ],
    )
    .await;
    assert_eq!(res.body, format!("k={key2}").into_bytes());
    assert!(sink
        .wait_for(|f| f.protocol == "https" && f.location == "body")
        .await
        .is_some());
    assert_eq!(gateway.status().counters.tunnels, 1);
    // The guardian's pooled upstream connection (the gateway's tunnel) closes with it.
    engine.stop().await.unwrap();
    let gw_tunnel = wait_tunnel(&gateway).await;
    assert_eq!(gw_tunnel.dest, https_up.to_string());
    assert_eq!(gw_tunnel.source, "gw-agent");

    // Blind CONNECT through the gateway.
    let settings = ProxySettings {
        upstream_proxy: Some(
            traffic_guardian::proxy::parse_upstream_proxy(&format!(
                "http://gw-agent:gw-secret-token@{gw_addr}"
            ))
            .unwrap(),
        ),
        ..test_settings()
    };
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let upstream_ca = pki.ca_pem_path.to_str().unwrap().to_string();
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("https://{https_up}/plain"),
        &["--cacert", &upstream_ca],
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(wait_tunnel(&engine).await.dest, https_up.to_string());
    assert!(gateway.status().counters.tunnels >= 2);
    engine.stop().await.unwrap();

    // Wrong gateway credentials: the CONNECT is refused upstream and reported as 502.
    let settings = ProxySettings {
        upstream_proxy: Some(
            traffic_guardian::proxy::parse_upstream_proxy(&format!(
                "http://gw-agent:wrong@{gw_addr}"
            ))
            .unwrap(),
        ),
        ..test_settings()
    };
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let mut tcp = tokio::net::TcpStream::connect(paddr).await.unwrap();
    tcp.write_all(format!("CONNECT {https_up} HTTP/1.1\r\nHost: {https_up}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 12];
    tcp.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 502");
    engine.stop().await.unwrap();
    gateway.stop().await.unwrap();
}

#[test]
fn ca_store_is_created_once_and_permissions_are_enforced() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("ca");
    assert!(ca_info(&dir).is_none());
    let first = ensure_ca(&dir).unwrap();
    let again = ensure_ca(&dir).unwrap();
    assert_eq!(first, again, "an existing CA is loaded, not replaced");
    assert!(!first.cert_pem.contains("PRIVATE KEY"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.join("ca-key.pem");
        // A new CA directory, and a parent it needed, are owner-only from
        // their creation (not created open, then tightened).
        let nested = home.path().join("fresh").join("ca");
        ensure_ca(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(home.path().join("fresh").as_path()), 0o700);
        // A too-open directory is tightened…
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_ca(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        // …but a key others could read is refused, naming the file and the fix.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = ensure_ca(&dir).unwrap_err().to_string();
        assert!(err.contains("mode 0644"), "{err}");
        assert!(
            err.contains(&format!("chmod 600 {}", key.display())),
            "{err}"
        );
        assert!(err.contains(&format!("rm -r {}", dir.display())), "{err}");
        assert_eq!(mode(&key), 0o644, "the key is not silently adopted");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(ensure_ca(&dir).unwrap(), first);
    }
    // A key planted by another user is refused even at 0600 (root only:
    // chown needs it).
    #[cfg(unix)]
    if traffic_guardian::storage::keyfile::euid() == 0 {
        let key = dir.join("ca-key.pem");
        std::os::unix::fs::chown(&key, Some(65534), Some(65534)).unwrap();
        let err = ensure_ca(&dir).unwrap_err().to_string();
        assert!(err.contains("owned by uid 65534"), "{err}");
        assert!(err.contains(&format!("chown 0 {}", key.display())), "{err}");
        std::os::unix::fs::chown(&key, Some(0), Some(0)).unwrap();
    } else {
        eprintln!("skipped the foreign-owner case: needs root to chown to nobody");
    }
    // A key that does not belong to the certificate is refused.
    let other = home.path().join("other");
    ensure_ca(&other).unwrap();
    std::fs::copy(other.join("ca-key.pem"), dir.join("ca-key.pem")).unwrap();
    assert!(ensure_ca(&dir).is_err());
    // Half a CA is refused rather than silently replaced.
    std::fs::remove_file(dir.join("ca-key.pem")).unwrap();
    let err = ensure_ca(&dir).unwrap_err().to_string();
    assert!(err.contains("only one of"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wss_inside_mitm_is_scanned_both_ways() {
    use futures::StreamExt;
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};

    let pki = test_pki();
    let wss = spawn_wss_echo(&pki).await;
    let home = tempfile::tempdir().unwrap();
    let settings = mitm_settings(home.path(), &pki);
    let ca_dir = settings.ca_dir.clone();
    let (engine, sink, paddr) = start_proxy(settings).await;

    let tcp = connect_through(paddr, wss).await;
    // The client trusts only the guardian's CA.
    let mut roots = RootCertStore::empty();
    let pem = std::fs::read(ca_info(&ca_dir).unwrap().cert_path).unwrap();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("wss://{wss}/socket"), tls)
        .await
        .unwrap();
    let key = fake_aws_key();
    for text in [format!("token {key}"), INJECTION.to_string()] {
        assert_echoed(&mut ws, &text).await;
    }
    let out = sink
        .wait_for(|f| f.protocol == "websocket" && f.direction == Direction::Outbound)
        .await
        .expect("outbound wss finding");
    assert_eq!(out.dest, wss.to_string());
    assert!(sink
        .wait_for(|f| f.protocol == "websocket" && f.direction == Direction::Inbound)
        .await
        .is_some());
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    assert_eq!(engine.status().counters.client_protocol_errors, 0);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_goes_through_the_upstream_proxy_too() {
    use futures::StreamExt;

    let ws = spawn_ws_echo().await;
    let gateway_settings = ProxySettings {
        require_auth: true,
        runtimes: vec![("gw-agent".into(), "gw-secret-token".into())],
        ..test_settings()
    };
    let (gateway, gw_sink, gw_addr) = start_proxy(gateway_settings).await;
    let settings = ProxySettings {
        upstream_proxy: Some(
            traffic_guardian::proxy::parse_upstream_proxy(&format!(
                "http://gw-agent:gw-secret-token@{gw_addr}"
            ))
            .unwrap(),
        ),
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let mut client = ws_through_proxy(paddr, &ws.to_string(), "/chat").await;
    let key = fake_aws_key();
    assert_echoed(&mut client, &format!("key {key}")).await;
    assert!(sink.wait_for(|f| f.protocol == "websocket").await.is_some());
    let at_gw = gw_sink
        .wait_for(|f| f.protocol == "websocket")
        .await
        .expect("the gateway bridged it too");
    assert_eq!(at_gw.source, "gw-agent");
    client.close(None).await.unwrap();
    while let Some(Ok(_)) = client.next().await {}
    engine.stop().await.unwrap();
    gateway.stop().await.unwrap();
}
