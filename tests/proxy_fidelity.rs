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
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
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
    // Up to 60 s (2 s was within reach of a loaded CI box).
    for _ in 0..3000 {
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

/// A raw WebSocket origin: accepts the upgrade (agreeing to
/// `permessage-deflate` when offered), then echoes every byte it receives
/// and keeps a copy of them.
async fn spawn_raw_ws_echo() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let Ok(b) = tcp.read_u8().await else { return };
                    head.push(b);
                }
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let ext = if text.contains("sec-websocket-extensions: permessage-deflate") {
                    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                } else {
                    ""
                };
                // The accept key is not checked by the raw client below.
                let res = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: x\r\n{ext}\r\n"
                );
                if tcp.write_all(res.as_bytes()).await.is_err() {
                    return;
                }
                let mut buf = [0u8; 4096];
                loop {
                    let n = tcp.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    let _ = tx.send(buf[..n].to_vec());
                    if tcp.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, rx)
}

fn ws_frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    assert!(payload.len() < 126);
    f.push(m | payload.len() as u8);
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::Compress::new(flate2::Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    z.compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    out.truncate(out.len() - 4); // RFC 7692: the sync flush tail is implied
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_frames_and_deflate_pass_unchanged_and_every_message_is_inspected() {
    let (origin, mut received) = spawn_raw_ws_echo().await;
    let home = tempfile::tempdir().unwrap();
    let (engine, sink, addr) = start_proxy(mitm_settings(home.path())).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        format!(
            "GET http://{origin}/ws HTTP/1.1\r\nHost: {origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-extensions: permessage-deflate"),
        "the extension is negotiated through: {head}"
    );
    let (k1, k2, k3) = (fake_aws_key(), fake_aws_key(), fake_aws_key());
    let mut wire = Vec::new();
    // A text message in 4 masked fragments, the key split across them.
    let text = format!("fragmented key={k1} end");
    let parts: Vec<&[u8]> = text.as_bytes().chunks(9).collect();
    assert!(parts.len() >= 4);
    for (i, p) in parts.iter().enumerate() {
        let op = if i == 0 { 0x1 } else { 0x0 };
        wire.extend(ws_frame(
            i + 1 == parts.len(),
            false,
            op,
            p,
            Some([1, 2, 3, 4]),
        ));
    }
    // A compressed text message.
    let deflated = raw_deflate(format!("compressed key={k2}").as_bytes());
    wire.extend(ws_frame(true, true, 0x1, &deflated, Some([9, 8, 7, 6])));
    // A binary message that is not UTF-8 (msgpack-like).
    let mut bin = vec![0x82, 0xa3, 0xff, 0xfe];
    bin.extend_from_slice(k3.as_bytes());
    bin.push(0xc0);
    wire.extend(ws_frame(true, false, 0x2, &bin, Some([5, 5, 5, 5])));
    tcp.write_all(&wire).await.unwrap();
    // The origin receives exactly the bytes sent (frames, masks, RSV1), and echoes them.
    let mut at_origin = Vec::new();
    while at_origin.len() < wire.len() {
        let chunk = tokio::time::timeout(Duration::from_secs(20), received.recv())
            .await
            .expect("bytes reach the origin")
            .unwrap();
        at_origin.extend(chunk);
    }
    assert_eq!(at_origin, wire, "frames pass byte for byte");
    let mut echoed = vec![0u8; wire.len()];
    tokio::time::timeout(Duration::from_secs(20), tcp.read_exact(&mut echoed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(echoed, wire);
    let count = |d: Direction| {
        sink.all()
            .iter()
            .filter(|f| f.direction == d && f.protocol == "websocket")
            .count()
    };
    // Up to 60 s (2 s was within reach of a loaded CI box).
    for _ in 0..3000 {
        if count(Direction::Outbound) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        count(Direction::Outbound),
        3,
        "fragmented, compressed and binary messages: {:?}",
        sink.all()
    );
    assert!(engine.status().counters.websocket_messages >= 6);
    for key in [&k1, &k2, &k3] {
        assert!(!format!("{:?}", sink.all()).contains(key.as_str()));
    }
    drop(tcp);
    engine.stop().await.unwrap();
}

// ------------------------------------------- ws:// inside a blind CONNECT

async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    String::from_utf8(head).unwrap()
}

/// `ws://` through CONNECT without MITM (the default proxy path of Python
/// `websockets` and of undici): after the `101` inside the blind tunnel,
/// the frames are parsed on copies. A masked outbound message split in two
/// fragments and a `permessage-deflate` compressed inbound message are
/// both found, as WebSocket messages, and the relayed bytes are unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn websocket_frames_inside_a_blind_connect_tunnel_are_parsed_and_scanned() {
    let key = fake_aws_key();
    let outbound_text = format!("{{\"creds\":\"aws={key}\"}}");
    let (first, second) = outbound_text.as_bytes().split_at(14);
    let frag1 = ws_frame(false, false, 0x1, first, Some([1, 2, 3, 4]));
    let frag2 = ws_frame(true, false, 0x0, second, Some([9, 8, 7, 6]));
    let inbound = ws_frame(true, true, 0x1, &raw_deflate(INJECTION.as_bytes()), None);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = listener.local_addr().unwrap();
    let expect_up = [frag1.clone(), frag2.clone()].concat();
    let inbound_s = inbound.clone();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let head = read_head(&mut s).await;
        assert!(
            head.to_ascii_lowercase().contains("upgrade: websocket"),
            "{head}"
        );
        s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
              Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        )
        .await
        .unwrap();
        let mut got = vec![0u8; expect_up.len()];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(got, expect_up, "client frames relayed unchanged");
        s.write_all(&inbound_s).await.unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    });

    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let mut tcp = connect_through(paddr, up).await;
    tcp.write_all(
        format!(
            "GET /chat HTTP/1.1\r\nHost: {up}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("permessage-deflate"),
        "extensions pass: {head}"
    );
    tcp.write_all(&frag1).await.unwrap();
    tcp.write_all(&frag2).await.unwrap();
    let mut got = vec![0u8; inbound.len()];
    tokio::time::timeout(Duration::from_secs(10), tcp.read_exact(&mut got))
        .await
        .expect("server frame arrives")
        .unwrap();
    assert_eq!(got, inbound, "server frame relayed unchanged");
    drop(tcp);
    server.await.unwrap();
    engine.scan_idle().await;

    let all = sink.all();
    let ws = |dir| {
        all.iter()
            .filter(|f| {
                f.direction == dir
                    && f.location.starts_with("websocket")
                    && f.protocol == "websocket"
            })
            .count()
    };
    assert_eq!(
        ws(Direction::Outbound),
        1,
        "masked, fragmented key: {all:?}"
    );
    assert_eq!(ws(Direction::Inbound), 1, "compressed injection: {all:?}");
    assert_eq!(all.len(), 2, "nothing else, nothing twice: {all:?}");
    for f in &all {
        assert!(!f.snippet.contains(&key), "secret leaked into a snippet");
    }
    assert_eq!(engine.status().counters.websocket_messages, 2);
    engine.stop().await.unwrap();
}

/// The same path with a real WebSocket client library (tungstenite) over
/// the CONNECT tunnel: its masked messages are found, and the echo too.
#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_client_through_a_blind_connect_tunnel_is_inspected() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let echo = spawn_ws_echo().await;
    let (engine, sink, paddr) = start_proxy(test_settings()).await;
    let tcp = connect_through(paddr, echo).await;
    let (mut ws, res) = tokio_tungstenite::client_async(format!("ws://{echo}/"), tcp)
        .await
        .expect("handshake through the tunnel");
    assert_eq!(res.status(), 101);
    let key = fake_aws_key();
    ws.send(Message::text(format!("key {key} please")))
        .await
        .unwrap();
    let back = ws.next().await.unwrap().unwrap();
    assert!(back.is_text());
    ws.send(Message::binary(INJECTION.as_bytes().to_vec()))
        .await
        .unwrap();
    let back = ws.next().await.unwrap().unwrap();
    assert!(back.is_binary());
    ws.close(None).await.unwrap();
    engine.scan_idle().await;
    let all = sink.all();
    let at = |dir, pat: &str| {
        all.iter().any(|f| {
            f.direction == dir && f.location.starts_with("websocket") && f.pattern.contains(pat)
        })
    };
    assert!(at(Direction::Outbound, "aws"), "masked key: {all:?}");
    assert!(
        at(Direction::Inbound, "ignore"),
        "echoed injection: {all:?}"
    );
    assert!(engine.status().counters.websocket_messages >= 4);
    engine.stop().await.unwrap();
}
