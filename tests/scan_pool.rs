//! Inspection runs off the forwarding path: a paused or saturated scan pool
//! never stalls traffic, its overflow is counted as unscanned (`overload`),
//! bytes past the scan budget are counted (`limit`), binary bodies are
//! counted (`binary`) and not scanned. Loopback only; fake secrets only;
//! nothing here depends on timing (counts, not durations).

mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::BodyExt;
use hudsucker::hyper::Request;
use sha2::{Digest, Sha256};
use traffic_guardian::core::finding::Direction;
use traffic_guardian::core::scan::DetectorOptions;
use traffic_guardian::proxy::{ProxySettings, ScanPoolSettings};

use common::*;

/// Deterministic printable text of `len` bytes (no secrets in it).
fn text(len: usize) -> Vec<u8> {
    let line = b"lorem ipsum dolor sit amet, consectetur adipiscing elit 0123456789\n";
    line.iter().copied().cycle().take(len).collect()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// POSTs `body` to the upstream's `/echo` through the proxy on a fresh
/// connection; returns the echoed body.
async fn echo(paddr: SocketAddr, up: SocketAddr, body: Vec<u8>, content_type: &str) -> Bytes {
    let mut conn = proxy_conn(paddr).await;
    let req = Request::post(format!("http://{up}/echo"))
        .header("host", up.to_string())
        .header("content-type", content_type)
        .body(body_of(body))
        .unwrap();
    let res = conn.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    res.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_scan_pool_stalls_no_traffic_and_counts_its_overflow() {
    const STREAM_QUEUE: usize = 64 * 1024;
    const TOTAL_QUEUE: usize = 256 * 1024;
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        scan_pool: ScanPoolSettings {
            threads: 1,
            stream_queue_bytes: STREAM_QUEUE,
            total_queue_bytes: TOTAL_QUEUE,
        },
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let pause = engine.pause_scanning().expect("inspection is on");

    // A large body while no scan runs at all: forwarded intact.
    let big = text(1024 * 1024);
    let got = echo(paddr, up, big.clone(), "text/plain").await;
    assert_eq!(sha(&got), sha(&big), "large body changed in transit");

    // A small exchange on another connection completes too, with a secret in it.
    let key = fake_aws_key();
    let mut small = text(1024);
    small.extend_from_slice(format!(" aws={key}\n").as_bytes());
    let got = echo(paddr, up, small.clone(), "text/plain").await;
    assert_eq!(got, Bytes::from(small));

    let c = engine.status().counters.scan;
    assert!(
        c.queue_bytes <= TOTAL_QUEUE as u64 && c.queue_peak_bytes <= TOTAL_QUEUE as u64,
        "queue bounded: {c:?}"
    );
    assert!(c.queue_bytes > 0, "frames wait for the paused pool: {c:?}");
    // Request and echoed response: all but at most one stream queue each.
    let min_overflow = 2 * (big.len() - STREAM_QUEUE) as u64;
    assert!(
        c.unscanned_bytes.overload >= min_overflow,
        "overflow counted as unscanned: {c:?}"
    );
    assert!(sink.all().is_empty(), "nothing is scanned while paused");

    // Resumed, the pool catches up on what was queued.
    drop(pause);
    engine.scan_idle().await;
    let c = engine.status().counters.scan;
    assert_eq!(c.queue_bytes, 0, "{c:?}");
    let found = sink.all();
    assert!(
        found
            .iter()
            .any(|f| f.direction == Direction::Outbound && f.location == "body"),
        "the small body was scanned once the pool resumed: {found:?}"
    );
    for f in &found {
        assert!(!f.snippet.contains(&key), "secret leaked into a snippet");
    }
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_beyond_the_scan_budget_is_forwarded_intact_and_counted() {
    const LIMIT: usize = 4096;
    let (up, _) = spawn_http_upstream().await;
    let det = detector_with(DetectorOptions {
        max_scan_bytes: LIMIT,
        ..DetectorOptions::default()
    });
    let (engine, sink, paddr) = start_proxy_with(test_settings(), det).await;
    let key = fake_aws_key();
    let mut body = format!("aws={key}\n").into_bytes();
    body.extend(text(200_000));
    let got = echo(paddr, up, body.clone(), "text/plain").await;
    assert_eq!(sha(&got), sha(&body), "body changed in transit");
    engine.scan_idle().await;
    let c = engine.status().counters;
    assert_eq!(
        c.scan.unscanned_bytes.limit,
        2 * (body.len() - LIMIT) as u64,
        "request and response: everything past the budget: {c:?}"
    );
    assert_eq!(c.scan.unscanned_bytes.overload, 0, "{c:?}");
    assert_eq!(c.truncated_messages, 2, "{c:?}");
    assert!(sink
        .all()
        .iter()
        .any(|f| f.direction == Direction::Outbound && f.location == "body"));
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_bodies_are_counted_not_scanned_and_lying_ones_are_scanned() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let key = fake_aws_key();

    // A real PNG signature: not scanned, even with a secret inside.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(format!(" aws={key} ").as_bytes());
    png.extend(text(10_000));
    let got = echo(paddr, up, png.clone(), "image/png").await;
    assert_eq!(got, Bytes::from(png.clone()));
    engine.scan_idle().await;
    let c = engine.status().counters.scan;
    // The request says image/png; the echoed response has no content type.
    assert_eq!(c.unscanned_bytes.binary, png.len() as u64, "{c:?}");
    let outbound_body = |sink: &TestSink| {
        sink.all()
            .iter()
            .any(|f| f.direction == Direction::Outbound && f.location == "body")
    };
    assert!(!outbound_body(&sink), "binary request body is not scanned");

    // Text that claims to be a PNG is scanned.
    let lie = format!("aws={key}\n").into_bytes();
    echo(paddr, up, lie, "image/png").await;
    engine.scan_idle().await;
    assert!(outbound_body(&sink), "text served as image/png is scanned");
    assert_eq!(
        engine.status().counters.scan.unscanned_bytes.binary,
        png.len() as u64
    );
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_engine_starts_no_scan_pool() {
    let settings = ProxySettings {
        inspect: false,
        ..test_settings()
    };
    let (engine, _sink, _paddr) = start_proxy(settings).await;
    assert!(engine.pause_scanning().is_none());
    engine.scan_idle().await;
    assert!(!engine.status().inspect);
    engine.stop().await.unwrap();
}
