//! The pivot guard, in one place: the proxy refuses to reach the host's
//! loopback, link-local and cloud-metadata addresses on a client's behalf
//! (403, counted), by literal address, by name and by the addresses a name
//! resolves to, for plain requests and CONNECT alike; and lets through what
//! `allow_private_destinations` lists, both as proxy settings and through a
//! guardian's config. Nothing is sent to a refused address. Loopback only.

mod common;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use traffic_guardian::proxy::ProxySettings;

#[tokio::test(flavor = "multi_thread")]
async fn pivot_guard_refuses_host_loopback_unless_allow_listed() {
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        allow_private_destinations: vec![],
        ..test_settings()
    };
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let res = curl(Some(&proxy_url(paddr)), &format!("http://{up}/plain"), &[]).await;
    assert_eq!(res.status, 403);
    assert!(String::from_utf8_lossy(&res.body).contains("pivot guard"));
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("http://localhost:{}/plain", up.port()),
        &[],
    )
    .await;
    assert_eq!(res.status, 403);
    // CONNECT to the metadata address is refused too (no traffic is sent anywhere).
    let mut tcp = tokio::net::TcpStream::connect(paddr).await.unwrap();
    tcp.write_all(b"CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 12];
    tcp.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 403");
    assert_eq!(engine.status().counters.pivot_refusals, 3);
    engine.stop().await.unwrap();
}

/// The pivot guard refuses the host's loopback and the metadata address by
/// default (403, counted) and allows an allow-listed address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pivot_guard_refuses_host_addresses_by_default_and_allows_listed_ones() {
    let (up, _) = spawn_http_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start_guardian(
        home.path(),
        serde_json::json!({"allow_private_destinations": []}),
    )
    .await;
    let refused0 = g.status().proxy.counters.pivot_refusals;
    for target in [
        up.to_string(),
        "169.254.169.254:80".to_owned(),
        "localhost:80".to_owned(),
        "[::1]:80".to_owned(),
    ] {
        let r = raw_exchange(
            proxy,
            format!("GET http://{target}/latest/meta-data/ HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert!(r.starts_with(b"HTTP/1.1 403 "), "{target}");
        let r = raw_exchange(
            proxy,
            format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes(),
        )
        .await;
        assert!(r.starts_with(b"HTTP/1.1 403"), "CONNECT {target}");
    }
    assert_eq!(g.status().proxy.counters.pivot_refusals - refused0, 8);
    g.stop().await.unwrap();
    drop(g);
    let (g, proxy) = start_guardian(
        home.path(),
        serde_json::json!({"allow_private_destinations": ["127.0.0.1"]}),
    )
    .await;
    let res = curl(Some(&proxy_url(proxy)), &format!("http://{up}/plain"), &[]).await;
    assert_eq!(res.status, 200, "allow-listed loopback");
    g.stop().await.unwrap();
}

/// A host name other than `localhost` that /etc/hosts maps to 127.0.0.1, if any.
fn loopback_alias() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next()? == "127.0.0.1")
            .then(|| {
                it.find(|n| {
                    !n.starts_with('#') && !n.ends_with("localhost") && !n.contains("localhost.")
                })
            })
            .flatten()
            .map(str::to_string)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn pivot_guard_checks_resolved_addresses_of_host_names() {
    let Some(alias) = loopback_alias() else {
        eprintln!(
            "no loopback alias in /etc/hosts; resolved-address check covered by unit tests only"
        );
        return;
    };
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        allow_private_destinations: vec![],
        ..test_settings()
    };
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let url = format!("http://{alias}:{}/plain", up.port());
    let res = curl(Some(&proxy_url(paddr)), &url, &[]).await;
    assert_eq!(res.status, 403, "{alias} resolves to loopback");
    assert!(String::from_utf8_lossy(&res.body).contains("pivot guard"));
    let connect = raw_exchange(
        paddr,
        format!(
            "CONNECT {alias}:{} HTTP/1.1\r\nHost: {alias}\r\n\r\n",
            up.port()
        )
        .as_bytes(),
    )
    .await;
    assert!(connect.starts_with(b"HTTP/1.1 403"));
    assert_eq!(engine.status().counters.pivot_refusals, 2);
    engine.stop().await.unwrap();

    // Allow-listing the address lets the same name through.
    let (engine, _sink, paddr) = start_proxy(test_settings()).await;
    let res = curl(Some(&proxy_url(paddr)), &url, &[]).await;
    assert_eq!(res.status, 200);
    engine.stop().await.unwrap();
}
