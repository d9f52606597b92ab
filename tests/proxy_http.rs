//! Plain-HTTP proxying: byte-for-byte forwarding, request and response
//! findings, chunked uploads with a secret split across chunks, compressed
//! responses, SSE streaming, keep-alive, WebSocket and runtime credentials
//! (the pivot guard: `pivot_guard.rs`). Real sockets on 127.0.0.1, real clients (curl, hyper).

mod common;

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use common::*;
use futures::StreamExt;
use http_body_util::BodyExt;
use hyper::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use traffic_guardian::core::finding::{Direction, ThreatType};
use traffic_guardian::proxy::ProxySettings;

#[tokio::test(flavor = "multi_thread")]
async fn responses_are_forwarded_byte_for_byte() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let proxy = proxy_url(paddr);
    for path in [
        "/plain", "/inject", "/gzip", "/chunked", "/teapot", "/missing",
    ] {
        let url = format!("http://{up}{path}");
        let extra = ["-H", "Accept-Encoding: gzip"];
        let direct = curl(None, &url, &extra).await;
        let proxied = curl(Some(&proxy), &url, &extra).await;
        assert_eq!(proxied, direct, "{path} differs through the proxy");
    }
    let gz = curl(Some(&proxy), &format!("http://{up}/gzip"), &[]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gz.body,
        gzip(gzip_plain_text().as_bytes()),
        "compressed bytes must be unchanged"
    );
    assert_eq!(
        gz.header("content-length"),
        Some(gz.body.len().to_string().as_str())
    );

    engine.scan_idle().await;
    // Inbound findings from the plain and the gzip-compressed page.
    let inbound: Vec<_> = sink
        .all()
        .into_iter()
        .filter(|f| f.direction == Direction::Inbound && f.threat_type == ThreatType::Injection)
        .collect();
    assert!(inbound
        .iter()
        .any(|f| f.dest == up.to_string() && f.protocol == "http"));
    assert!(
        inbound
            .iter()
            .any(|f| f.snippet.contains("Weather is fine")),
        "the gzip body is inspected decoded: {inbound:?}"
    );
    let st = engine.status().counters;
    assert!(st.findings_by_threat.injection >= 2);
    assert!(st.bytes_scanned_inbound > 0);
    // These GETs carry no body: what was scanned going out is their heads
    // (each at least its URL), counted like the bytes of a body.
    assert!(
        st.bytes_scanned_outbound >= 7 * format!("http://{up}/plain").len() as u64,
        "request heads count as scanned: {st:?}"
    );
    assert!(st.requests >= 7 && st.responses >= 7);
    // Benign traffic is no fault.
    assert_eq!(st.client_protocol_errors, 0);
    assert_eq!((st.client_timeouts, st.upstream_timeouts), (0, 0));
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn request_secrets_in_url_header_and_body_are_found() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    // Three different keys: one message head reports each secret once.
    let (key, url_key, header_key) = (fake_aws_key(), fake_aws_key(), fake_aws_key());
    let payload = format!("{{\"note\":\"creds\",\"aws\":\"{key}\"}}");
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("http://{up}/echo?k={url_key}"),
        &[
            "-X",
            "POST",
            "--data-binary",
            &payload,
            "-H",
            &format!("X-Leak: {header_key}"),
        ],
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, payload.as_bytes(), "upload forwarded unchanged");
    engine.scan_idle().await;
    let out: Vec<_> = sink
        .all()
        .into_iter()
        .filter(|f| f.direction == Direction::Outbound)
        .collect();
    for loc in ["url", "header:x-leak", "body:json:$.aws"] {
        assert!(
            out.iter()
                .any(|f| f.location == loc && f.pattern == "test_aws_access_key"),
            "no finding at {loc}: {out:?}"
        );
    }
    for f in sink.all() {
        for k in [&key, &url_key, &header_key] {
            assert!(
                !f.snippet.contains(k.as_str()),
                "secret leaked into a snippet"
            );
        }
        assert!(
            f.source.starts_with("127.0.0.1:"),
            "source is the client address"
        );
    }
    assert!(engine.status().counters.findings_by_threat.exfil >= 3);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_split_across_upload_chunks_is_found_and_keepalive_requests_each_inspected() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let key = fake_aws_key();
    let (a, b) = key.split_at(9);
    let parts = vec![
        format!("token={a}").into_bytes(),
        format!("{b}&rest=1").into_bytes(),
    ];
    let expected: Vec<u8> = parts.concat();
    let mut conn = proxy_conn(paddr).await;
    let req = Request::post(format!("http://{up}/echo"))
        .header("host", up.to_string())
        .header("transfer-encoding", "chunked")
        .body(chunked_body(parts, Duration::from_millis(80)))
        .unwrap();
    let res = conn.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let got = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(got, Bytes::from(expected));
    let f = sink
        .wait_for(|f| f.location == "body" && f.direction == Direction::Outbound)
        .await
        .expect("split secret found");
    assert_eq!(f.pattern, "test_aws_access_key");

    // Second request on the same keep-alive connection is inspected on its own.
    let key2 = fake_aws_key();
    conn.ready().await.unwrap();
    let req = Request::post(format!("http://{up}/echo"))
        .header("host", up.to_string())
        .body(body_of(format!("second={key2}")))
        .unwrap();
    let res = conn.send_request(req).await.unwrap();
    let _ = res.into_body().collect().await.unwrap();
    // Findings come from the scan pool: wait for it before counting.
    engine.scan_idle().await;
    let bodies = sink
        .all()
        .into_iter()
        .filter(|f| f.location == "body" && f.direction == Direction::Outbound)
        .count();
    assert!(
        bodies >= 2,
        "each keep-alive request has its own body finding"
    );
    assert_eq!(engine.status().counters.connections, 1);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_first_event_arrives_while_upstream_holds_the_stream() {
    let (up, state) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let mut conn = proxy_conn(paddr).await;
    let req = Request::get(format!("http://{up}/sse"))
        .header("host", up.to_string())
        .body(body_of(Bytes::new()))
        .unwrap();
    let res = conn.send_request(req).await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    // The upstream holds the stream until `sse_release`, so any bound
    // proves the event was relayed early; 60 s leaves a loaded box room.
    let first = tokio::time::timeout(Duration::from_secs(60), body.frame())
        .await
        .expect("first SSE event arrives while the stream is held open")
        .unwrap()
        .unwrap();
    assert_eq!(first.into_data().unwrap(), Bytes::from("data: first\n\n"));
    state.sse_release.notify_one();
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest, Bytes::from(format!("data: {INJECTION}\n\n")));
    assert!(sink
        .wait_for(|f| f.direction == Direction::Inbound && f.location == "body")
        .await
        .is_some());
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_messages_are_scanned_both_ways_and_forwarded() {
    let ws = spawn_ws_echo().await;
    let settings = ProxySettings {
        shutdown_grace: Duration::from_secs(600),
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let mut client = ws_through_proxy(paddr, &ws.to_string(), "/chat").await;
    let key = fake_aws_key();
    for text in [format!("my key is {key}"), INJECTION.to_string()] {
        assert_echoed(&mut client, &text).await;
    }
    let out = sink
        .wait_for(|f| f.protocol == "websocket" && f.direction == Direction::Outbound)
        .await
        .expect("outbound websocket finding");
    assert_eq!(out.location, "websocket");
    assert_eq!(out.dest, ws.to_string());
    assert!(sink
        .wait_for(|f| f.protocol == "websocket" && f.direction == Direction::Inbound)
        .await
        .is_some());
    assert!(engine.status().counters.websocket_messages >= 4);
    // A clean close ends the bridge, so stop does not wait for it.
    client.close(None).await.unwrap();
    while let Some(Ok(_)) = client.next().await {}
    // The grace is set far beyond this guard: stop returning proves it did
    // not wait for the bridge (no clock is compared).
    tokio::time::timeout(Duration::from_secs(120), engine.stop())
        .await
        .expect("stop waited for a closed WebSocket bridge")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn require_auth_answers_407_and_attributes_findings_to_the_runtime() {
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        require_auth: true,
        runtimes: vec![("agent-main".into(), "rt-token-for-tests".into())],
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let url = format!("http://{up}/echo");
    let denied = curl(Some(&proxy_url(paddr)), &url, &[]).await;
    assert_eq!(denied.status, 407);
    assert!(denied
        .header("proxy-authenticate")
        .unwrap()
        .starts_with("Basic"));
    let wrong = curl(
        Some(&proxy_url(paddr)),
        &url,
        &["--proxy-user", "agent-main:nope"],
    )
    .await;
    assert_eq!(wrong.status, 407);

    let key = fake_aws_key();
    let ok = curl(
        Some(&proxy_url(paddr)),
        &url,
        &[
            "--proxy-user",
            "anyone:rt-token-for-tests",
            "--data-binary",
            &format!("k={key}"),
        ],
    )
    .await;
    assert_eq!(ok.status, 200);
    let f = sink.wait_for(|f| f.location == "body").await.unwrap();
    assert_eq!(f.source, "agent-main");
    // The guardian's credentials are consumed, never forwarded nor scanned.
    let token_b64 = base64::engine::general_purpose::STANDARD.encode("anyone:rt-token-for-tests");
    assert!(sink
        .all()
        .iter()
        .all(|f| !f.location.contains("proxy-authorization")));
    assert!(!String::from_utf8_lossy(&ok.body).contains(&token_b64));
    let st = engine.status().counters;
    assert!(st.auth_failures >= 2);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_mode_forwards_without_inspection() {
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        inspect: false,
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let url = format!("http://{up}/inject");
    let direct = curl(None, &url, &[]).await;
    let proxied = curl(Some(&proxy_url(paddr)), &url, &[]).await;
    assert_eq!(direct, proxied);
    engine.scan_idle().await;
    assert!(sink.all().is_empty());
    assert!(!engine.status().inspect);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn builtin_registry_finds_a_fake_aws_key_out_and_a_reverse_shell_in() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy_with(test_settings(), builtin_detector()).await;
    let key = fake_aws_key();
    let shell = reverse_shell_line();
    // /echo sends the upload back: the key is looked for outbound, the shell line inbound.
    let payload = format!("AWS_ACCESS_KEY_ID={key}\nrun this: {shell}\n");
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("http://{up}/echo"),
        &["--data-binary", &payload],
    )
    .await;
    assert_eq!(res.body, payload.as_bytes());
    let out = sink
        .wait_for(|f| f.pattern == "aws_access_key_id")
        .await
        .expect("AWS key found");
    assert_eq!(out.direction, Direction::Outbound);
    assert_eq!(out.location, "body");
    assert!(!out.snippet.contains(&key));
    let inb = sink
        .wait_for(|f| f.pattern == "reverse_shell_dev_tcp")
        .await
        .expect("reverse shell found in the response");
    assert_eq!(inb.direction, Direction::Inbound);
    assert_eq!(inb.threat_type, ThreatType::Injection);
    let st = engine.status().counters;
    assert!(st.findings_by_threat.exfil >= 1 && st.findings_by_threat.injection >= 1);
    assert!(st.findings_by_severity.critical >= 1);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn large_bodies_stream_through_whole_and_truncation_is_counted() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    // 3 MiB upload (curl uses Expect: 100-continue), secret past the 1 MiB scan limit.
    let key = fake_aws_key();
    let mut payload = vec![b'a'; 3 * 1024 * 1024];
    payload.extend_from_slice(format!(" {key} ").as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("upload.bin");
    std::fs::write(&file, &payload).unwrap();
    let res = curl(
        Some(&proxy_url(paddr)),
        &format!("http://{up}/echo"),
        &["--data-binary", &format!("@{}", file.display())],
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(res.body == payload, "the whole body is forwarded unchanged");
    // The proxy may still hold the response body a moment after curl has
    // it all; its truncation is counted when the body ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let st = loop {
        engine.scan_idle().await;
        let st = engine.status().counters;
        if st.truncated_messages >= 2 || std::time::Instant::now() > deadline {
            break st;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(
        st.truncated_messages >= 2,
        "request and echoed response truncated: {st:?}"
    );
    assert!(st.bytes_scanned_outbound <= 1024 * 1024 + 4096);
    assert!(
        sink.all().iter().all(|f| f.location != "body"),
        "beyond the limit nothing is inspected"
    );
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_clients_get_an_answer_or_a_close_and_others_keep_being_served() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, _sink, paddr) = start_proxy(test_settings()).await;
    let garbage = raw_exchange(paddr, b"\x00\x01\x02 not http at all\r\n\r\n").await;
    assert!(garbage.is_empty() || garbage.starts_with(b"HTTP/1.1 400"));
    let huge = format!(
        "GET http://{up}/plain HTTP/1.1\r\nHost: {up}\r\nX-Big: {}\r\n\r\n",
        "a".repeat(512 * 1024)
    );
    let res = raw_exchange(paddr, huge.as_bytes()).await;
    assert!(
        res.is_empty() || res.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&res[..res.len().min(40)])
    );
    let bad_chunks = format!(
        "POST http://{up}/echo HTTP/1.1\r\nHost: {up}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
    );
    let _ = raw_exchange(paddr, bad_chunks.as_bytes()).await;
    // A client that resets in the middle of an upload.
    {
        let mut tcp = tokio::net::TcpStream::connect(paddr).await.unwrap();
        let head = format!(
            "POST http://{up}/echo HTTP/1.1\r\nHost: {up}\r\nContent-Length: 100000\r\n\r\npartial"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        #[allow(deprecated)] // zero linger does not block; it makes drop send a reset
        tcp.set_linger(Some(Duration::ZERO)).unwrap();
        drop(tcp);
    }
    // Garbage after a CONNECT (MITM off: relayed blind to the upstream, which drops it).
    let mut tcp = tokio::net::TcpStream::connect(paddr).await.unwrap();
    tcp.write_all(format!("CONNECT {up} HTTP/1.1\r\nHost: {up}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    tcp.write_all(b"\x16\x03\x01\xff\xffgarbage").await.unwrap();
    drop(tcp);

    let ok = curl(Some(&proxy_url(paddr)), &format!("http://{up}/plain"), &[]).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        engine.status().state,
        traffic_guardian::proxy::ProxyState::Running
    );
    engine.stop().await.unwrap();

    // TLS garbage on an intercepted CONNECT drops that connection only.
    let home = tempfile::tempdir().unwrap();
    let settings = ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.path().join("ca"),
        ..test_settings()
    };
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let mut tcp = tokio::net::TcpStream::connect(paddr).await.unwrap();
    tcp.write_all(b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n")
        .await
        .unwrap();
    tcp.write_all(b"\x16\x03\x01\x00\x05garbagegarbage")
        .await
        .unwrap();
    // The CONNECT answer first (however long a loaded box takes), then
    // the connection ends or idles; a 2 s read of both could end before
    // the answer arrived.
    let mut out = Vec::new();
    while !out.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(60), tcp.read_u8()).await {
            Ok(Ok(b)) => out.push(b),
            _ => break,
        }
    }
    assert!(out.starts_with(b"HTTP/1.1 200"), "{out:?}");
    let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut out)).await;
    let ok = curl(Some(&proxy_url(paddr)), &format!("http://{up}/plain"), &[]).await;
    assert_eq!(ok.status, 200);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_response_bytes_are_identical_to_a_direct_exchange() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, _sink, paddr) = start_proxy(test_settings()).await;
    for path in ["/plain", "/gzip", "/chunked", "/teapot"] {
        let direct = raw_exchange(
            up,
            format!("GET {path} HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        let proxied = raw_exchange(
            paddr,
            format!("GET http://{up}{path} HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await;
        assert_eq!(
            String::from_utf8_lossy(&proxied),
            String::from_utf8_lossy(&direct),
            "{path}: raw bytes differ"
        );
    }
    engine.stop().await.unwrap();
}
