//! Inspection runs off the forwarding path: a paused or saturated scan pool
//! never stalls traffic, its overflow is counted as unscanned (`overload`),
//! bytes past the scan budget are counted (`limit`), binary bodies are
//! counted (`binary`) and not scanned. Loopback only; fake secrets only;
//! nothing here depends on timing (counts, not durations).

mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Request;
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
            ..ScanPoolSettings::default()
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
        ..traffic_guardian::system::detector_options()
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

/// An upstream that answers one request with a chunked `text/event-stream`
/// and sends each event handed to it through the channel, then ends.
async fn spawn_sse_upstream() -> (SocketAddr, tokio::sync::mpsc::Sender<Vec<u8>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(s.read_u8().await.unwrap());
        }
        s.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
              transfer-encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
        while let Some(ev) = rx.recv().await {
            s.write_all(format!("{:x}\r\n", ev.len()).as_bytes())
                .await
                .unwrap();
            s.write_all(&ev).await.unwrap();
            s.write_all(b"\r\n").await.unwrap();
        }
        s.write_all(b"0\r\n\r\n").await.unwrap();
        let _ = s.shutdown().await;
    });
    (addr, tx)
}

/// Reads `n` more body bytes of `body`, frame by frame.
async fn read_exactly(body: &mut hyper::body::Incoming, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        let frame = body.frame().await.expect("stream open").unwrap();
        if let Ok(d) = frame.into_data() {
            got.extend_from_slice(&d);
        }
    }
    got
}

/// Streams never go blind: an SSE stream gets a sliding scan budget (a
/// token bucket per stream, refilled with the clock), not a one-time
/// `max_scan_bytes`. Padding past the budget is forwarded unscanned and
/// counted (`stream_budget`); an injection right behind it is not seen, but
/// once the budget has refilled (the injected clock moves a minute) the
/// next injection is found. No timing: the clock is driven by the test.
#[tokio::test(flavor = "multi_thread")]
async fn an_injection_after_padding_in_an_sse_stream_is_found_once_the_budget_refills() {
    use std::sync::Arc;
    use std::time::Duration;
    use traffic_guardian::proxy::budget::{ManualClock, StreamBudgetSettings};
    const BUDGET: u64 = 64 * 1024;
    let clock = Arc::new(ManualClock::default());
    let settings = ProxySettings {
        stream_budget: StreamBudgetSettings {
            bytes: 0, // = max_scan_bytes per minute
            period: Duration::from_secs(60),
            clock: clock.clone(),
        },
        ..test_settings()
    };
    // The budget is max_scan_bytes: before, a stream went blind after it.
    let det = detector_with(DetectorOptions {
        max_scan_bytes: BUDGET as usize,
        ..traffic_guardian::system::detector_options()
    });
    let (engine, sink, paddr) = start_proxy_with(settings, det).await;
    let (up, events) = spawn_sse_upstream().await;
    let mut conn = proxy_conn(paddr).await;
    let req = Request::get(format!("http://{up}/events"))
        .header("host", up.to_string())
        .header("accept", "text/event-stream")
        .body(body_of(Vec::new()))
        .unwrap();
    let res = conn.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    // The response head is scanned and counted too: its header bytes.
    let head: u64 = res
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().len() + v.len()) as u64)
        .sum();
    let mut body = res.into_body();
    let event = |data: &[u8]| {
        let mut e = b"data: ".to_vec();
        e.extend_from_slice(data);
        e.extend_from_slice(b"\n\n");
        e
    };
    let mut sent = Vec::new();
    let mut send = |e: Vec<u8>| {
        sent.extend_from_slice(&e);
        let len = e.len();
        let tx = events.clone();
        async move {
            tx.send(e).await.unwrap();
            len
        }
    };
    let mut received = Vec::new();
    // 1. Padding: twice the budget, in 16 KiB events.
    let mut padding = 0;
    for _ in 0..8 {
        padding += send(event(&text(16 * 1024 - 8))).await;
        received.extend(read_exactly(&mut body, 16 * 1024).await);
    }
    assert!(padding as u64 > BUDGET);
    // 2. An injection right behind the padding: the bucket is empty, so it
    // is forwarded unscanned (upper case: a finding of its own if it were scanned).
    let skipped = send(event(INJECTION.to_uppercase().as_bytes())).await;
    received.extend(read_exactly(&mut body, skipped).await);
    // 3. A minute later the bucket is full again: the next injection is found.
    clock.advance(Duration::from_secs(60));
    let found = send(event(format!("{{\"note\":\"{INJECTION}\"}}").as_bytes())).await;
    received.extend(read_exactly(&mut body, found).await);
    drop(events);
    let rest = body.collect().await.unwrap().to_bytes();
    received.extend_from_slice(&rest);
    assert!(received == sent, "the stream is forwarded unchanged");
    engine.scan_idle().await;
    let all = sink.all();
    assert_eq!(all.len(), 1, "only the injection after the refill: {all:?}");
    assert_eq!(all[0].direction, Direction::Inbound);
    assert_eq!(all[0].location, "body");
    let c = engine.status().counters;
    let total = (padding + skipped + found) as u64;
    assert_eq!(
        c.scan.unscanned_bytes.stream_budget,
        (padding + skipped) as u64 - BUDGET,
        "everything between the budget's end and the refill: {c:?}"
    );
    // Scanned inbound: the body's bytes within the budget, and the
    // response head (its header bytes as the upstream sent them: the
    // client's copy has the proxy's `date` too).
    let body_scanned = total - c.scan.unscanned_bytes.stream_budget;
    let head_scanned = c.bytes_scanned_inbound.checked_sub(body_scanned);
    assert!(
        head_scanned.is_some_and(|h| h > 0 && h <= head),
        "body {body_scanned} + head (≤ {head}) scanned: {c:?}"
    );
    assert_eq!(c.scan.unscanned_bytes.limit, 0, "{c:?}");
    assert_eq!(c.truncated_messages, 0, "{c:?}");
    engine.stop().await.unwrap();
}

/// An event stream is not blinded by overload either: while the scan pool
/// is paused, what does not fit its queues is counted (`overload`) and
/// skipped, and once the pool has caught up the stream's next event is
/// scanned again (a message body would stop being inspected for good).
#[tokio::test(flavor = "multi_thread")]
async fn an_sse_stream_resumes_scanning_after_an_overload() {
    const STREAM_QUEUE: usize = 64 * 1024;
    let settings = ProxySettings {
        scan_pool: ScanPoolSettings {
            threads: 1,
            stream_queue_bytes: STREAM_QUEUE,
            total_queue_bytes: 4 * STREAM_QUEUE,
            ..ScanPoolSettings::default()
        },
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let (up, events) = spawn_sse_upstream().await;
    let mut conn = proxy_conn(paddr).await;
    let req = Request::get(format!("http://{up}/events"))
        .header("host", up.to_string())
        .body(body_of(Vec::new()))
        .unwrap();
    let res = conn.send_request(req).await.unwrap();
    let mut body = res.into_body();
    let pause = engine.pause_scanning().expect("inspection is on");
    // 8 × 16 KiB while nothing is scanned: half of it fits the stream's queue.
    for _ in 0..8 {
        let mut e = b"data: ".to_vec();
        e.extend(text(16 * 1024 - 8));
        e.extend_from_slice(b"\n\n");
        events.send(e).await.unwrap();
        read_exactly(&mut body, 16 * 1024).await;
    }
    let overload = engine.status().counters.scan.unscanned_bytes.overload;
    assert_eq!(overload, 4 * 16 * 1024, "what did not fit is counted");
    drop(pause);
    // Wait (by counting, not by time) until the pool has drained the queue.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while engine.status().counters.scan.queue_bytes > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the pool never drained"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let inj = format!("data: {INJECTION}\n\n").into_bytes();
    let n = inj.len();
    events.send(inj).await.unwrap();
    read_exactly(&mut body, n).await;
    drop(events);
    body.collect().await.unwrap();
    engine.scan_idle().await;
    let all = sink.all();
    assert_eq!(
        all.len(),
        1,
        "the event after the overload is scanned: {all:?}"
    );
    assert_eq!(all[0].direction, Direction::Inbound);
    let c = engine.status().counters.scan;
    assert_eq!(c.unscanned_bytes.overload, overload, "{c:?}");
    engine.stop().await.unwrap();
}

/// Each inspected stream holds its inspector (a zlib state and buffers for
/// a gzip body) until the pool has run its end, so a pool that falls behind
/// must not let their number grow without bound: a stream that finds no
/// room is forwarded intact and counted, never inspected.
#[tokio::test(flavor = "multi_thread")]
async fn gzip_downloads_beyond_the_pools_room_are_forwarded_and_counted() {
    const TOTAL_QUEUE: usize = 512 * 1024;
    const DOWNLOADS: usize = 12;
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        scan_pool: ScanPoolSettings {
            threads: 1,
            stream_queue_bytes: TOTAL_QUEUE,
            total_queue_bytes: TOTAL_QUEUE,
            ..ScanPoolSettings::default()
        },
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let want = gzip(gzip_plain_text().as_bytes());
    let pause = engine.pause_scanning().expect("inspection is on");
    for _ in 0..DOWNLOADS {
        let mut conn = proxy_conn(paddr).await;
        let req = Request::get(format!("http://{up}/gzip"))
            .header("host", up.to_string())
            .body(body_of(Vec::new()))
            .unwrap();
        let res = conn.send_request(req).await.unwrap();
        let got = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(sha(&got), sha(&want), "gzip body changed in transit");
    }
    let c = engine.status().counters.scan;
    assert!(
        c.unscanned_bytes.overload >= want.len() as u64,
        "downloads without room are counted: {c:?}"
    );
    assert!(c.queue_peak_bytes <= TOTAL_QUEUE as u64, "{c:?}");
    drop(pause);
    engine.scan_idle().await;
    let found = sink
        .all()
        .into_iter()
        .filter(|f| f.direction == Direction::Inbound && f.location == "body")
        .count();
    assert!(
        (1..DOWNLOADS).contains(&found),
        "the admitted downloads are scanned, the others are not: {found}"
    );
    assert_eq!(engine.status().counters.scan.queue_bytes, 0);
    engine.stop().await.unwrap();
}

/// The pool's work per small exchange is counted, not timed: a bodiless
/// GET costs its request head and one job for its response (head and
/// body of declared length together; no job for a request body that never
/// was), and a small POST costs one job per message, its body arriving
/// whole and scanned with its head and end. Both keep their findings.
#[tokio::test(flavor = "multi_thread")]
async fn a_small_exchange_costs_one_job_per_head_and_body_and_keeps_its_findings() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    // Paused, so that each body's frames and end are run together.
    let pause = engine.pause_scanning().expect("inspection is on");
    let before = engine.status().counters.scan.jobs;
    const GETS: u64 = 5;
    for i in 0..GETS {
        let mut conn = proxy_conn(paddr).await;
        // The last one carries an injection in its (small, whole) body.
        let path = if i + 1 == GETS { "inject" } else { "plain" };
        let req = Request::get(format!("http://{up}/{path}"))
            .header("host", up.to_string())
            .body(body_of(Bytes::new()))
            .unwrap();
        let res = conn.send_request(req).await.unwrap();
        assert_eq!(res.status(), 200);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        if path == "plain" {
            assert_eq!(body, Bytes::from("hello from upstream\n".repeat(20)));
        }
    }
    let key = fake_aws_key();
    let mut small = text(512);
    small.extend_from_slice(format!(" aws={key}\n").as_bytes());
    let got = echo(paddr, up, small.clone(), "text/plain").await;
    assert_eq!(got, Bytes::from(small));
    drop(pause);
    engine.scan_idle().await;
    let jobs = engine.status().counters.scan.jobs - before;
    // GET: request head, response. POST: request, response.
    assert_eq!(jobs, 2 * GETS + 2, "scan jobs");
    let found = sink.all();
    assert!(
        found.iter().any(|f| f.direction == Direction::Outbound
            && f.location == "body"
            && f.pattern.contains("aws_access_key")),
        "the posted key is found: {found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.direction == Direction::Inbound && f.location == "body"),
        "the injection in a small response body is found: {found:?}"
    );
    for f in &found {
        assert!(!f.snippet.contains(&key), "secret leaked into a snippet");
    }
    engine.stop().await.unwrap();
}

/// A head scanned with its body's first job is never lost with the body:
/// a POST of declared length whose client goes away before any body byte
/// still has the key in its URL reported, and so does a chunked POST cut
/// short, whose head is queued alone.
#[tokio::test(flavor = "multi_thread")]
async fn a_head_run_with_its_body_is_reported_when_the_body_never_completes() {
    use tokio::io::AsyncWriteExt;
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let (sized, chunked) = (fake_aws_key(), fake_aws_key());
    for (key, framing) in [
        (&sized, "Content-Length: 4096\r\n"),
        (&chunked, "Transfer-Encoding: chunked\r\n"),
    ] {
        let mut tcp = tokio::net::TcpStream::connect(paddr).await.unwrap();
        let head = format!(
            "POST http://{up}/echo?k={key} HTTP/1.1\r\nHost: {up}\r\n{framing}Content-Type: text/plain\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        // The sized body sends nothing at all: its stream only ends.
        let part: &[u8] = if framing.starts_with("Content") {
            b""
        } else {
            b"10\r\nonly a few bytes\r\n"
        };
        tcp.write_all(part).await.unwrap();
        tcp.flush().await.unwrap();
        drop(tcp);
    }
    // The proxy notices each client is gone (until then the body is open):
    // wait for that (up to 60 s on a loaded box), not for a fixed time.
    let mut found = Vec::new();
    for _ in 0..1200 {
        engine.scan_idle().await;
        found = sink.all();
        if found.iter().filter(|f| f.location == "url").count() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let urls: Vec<_> = found
        .iter()
        .filter(|f| f.location == "url" && f.pattern == "test_aws_access_key")
        .collect();
    assert_eq!(urls.len(), 2, "both URL keys are reported: {found:?}");
    for f in &found {
        for k in [&sized, &chunked] {
            assert!(
                !f.snippet.contains(k.as_str()),
                "secret leaked into a snippet"
            );
        }
    }
    engine.stop().await.unwrap();
}
