//! Hardening through a running guardian (`HomeGuardian::from_input`, temp home,
//! mode detect, 127.0.0.1:0): decompression bombs, hostile clients and
//! upstreams, storage faults, permissions and exposure. After every attack a
//! normal request still succeeds. Loopback only.

#![allow(deprecated)] // `set_linger(0)` is how these tests send a TCP reset.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{fake_aws_key, gzip, ws_through_proxy};
use common::{guardian_input as input, start_guardian as start};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use traffic_guardian::home_guardian::HomeGuardian;
use traffic_guardian::storage::store::FindingQuery;

// ---------------------------------------------------------------- fixtures

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn zeros_gzip(n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..n >> 20 {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap()
}

fn zeros_br(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 1 << 16, 5, 22);
        let block = vec![0u8; 1 << 20];
        for _ in 0..n >> 20 {
            w.write_all(&block).unwrap();
        }
    }
    out
}

fn zeros_zstd(n: usize) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..n >> 20 {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap()
}

/// A canned upstream answer: raw bytes, then what to do with the socket.
#[derive(Clone)]
enum Reply {
    Bytes(Vec<u8>),
    /// Write these bytes, then reset the connection.
    ResetAfter(Vec<u8>),
    /// Read the request and never answer.
    Hang,
    /// Answer with the SHA-256 of the request body.
    EchoHash,
    /// Answer with the request head as received.
    EchoHead,
}

fn ok_response(body: &[u8], extra_headers: &str) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// A raw HTTP/1.1 upstream on 127.0.0.1 answering by path, so it can also
/// misbehave (broken chunking, resets, silence).
async fn upstream(routes: HashMap<&'static str, Reply>) -> SocketAddr {
    let routes = Arc::new(routes);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                continue;
            };
            let routes = Arc::clone(&routes);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 8192];
                let head_end = loop {
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                    match tcp.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let lower = head.to_ascii_lowercase();
                let mut body = buf[head_end..].to_vec();
                if let Some(cl) = lower
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                {
                    while body.len() < cl {
                        match tcp.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => body.extend_from_slice(&tmp[..n]),
                        }
                    }
                } else if lower.contains("transfer-encoding: chunked") {
                    while !body.ends_with(b"0\r\n\r\n") {
                        match tcp.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => body.extend_from_slice(&tmp[..n]),
                        }
                    }
                    body = dechunk(&body).unwrap_or_default();
                }
                let reply = routes
                    .get(path.as_str())
                    .cloned()
                    .unwrap_or_else(|| Reply::Bytes(ok_response(b"hello", "")));
                match reply {
                    Reply::Bytes(b) => {
                        let _ = tcp.write_all(&b).await;
                        let _ = tcp.shutdown().await;
                    }
                    Reply::ResetAfter(b) => {
                        let _ = tcp.write_all(&b).await;
                        let _ = tcp.flush().await;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let _ = tcp.set_linger(Some(Duration::ZERO));
                        drop(tcp);
                    }
                    Reply::Hang => {
                        tokio::time::sleep(Duration::from_secs(120)).await;
                    }
                    Reply::EchoHead => {
                        let _ = tcp.write_all(&ok_response(head.as_bytes(), "")).await;
                        let _ = tcp.shutdown().await;
                    }
                    Reply::EchoHash => {
                        let _ = tcp.write_all(&ok_response(sha(&body).as_bytes(), "")).await;
                        let _ = tcp.shutdown().await;
                    }
                }
            });
        }
    });
    addr
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

struct Resp {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

fn parse_response(raw: &[u8]) -> Option<Resp> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let rest = &raw[end..];
    let lower = head.to_ascii_lowercase();
    let body = if lower.contains("transfer-encoding: chunked") {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(Resp {
        status,
        headers: head,
        body,
    })
}

/// Sends raw bytes to the proxy, reads until close or `wait`.
async fn raw(proxy: SocketAddr, bytes: &[u8], wait: Duration) -> Vec<u8> {
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    let _ = tcp.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, tcp.read_to_end(&mut out)).await;
    out
}

async fn get(proxy: SocketAddr, up: SocketAddr, path: &str, extra: &str) -> Option<Resp> {
    let req =
        format!("GET http://{up}{path} HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\n{extra}\r\n");
    parse_response(&raw(proxy, req.as_bytes(), Duration::from_secs(10)).await)
}

async fn post(
    proxy: SocketAddr,
    up: SocketAddr,
    path: &str,
    headers: &str,
    body: &[u8],
) -> Option<Resp> {
    let mut req = format!(
        "POST http://{up}{path} HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    parse_response(&raw(proxy, &req, Duration::from_secs(10)).await)
}

/// The liveness probe run after every attack.
async fn assert_serving(proxy: SocketAddr, up: SocketAddr, what: &str) {
    let r = get(proxy, up, "/ok", "").await;
    let r = r.unwrap_or_else(|| panic!("after {what}: no answer from the proxy"));
    assert_eq!(r.status, 200, "after {what}: {}", r.headers);
    assert_eq!(r.body, b"hello", "after {what}");
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

// ---------------------------------------------------------------- bombs

/// gzip, br, zstd and stacked `gzip, gzip` bombs, both directions: the
/// original bytes arrive unchanged (same SHA-256), memory stays far below
/// the bombs' decoded size (the decoded copy is capped at max_scan_bytes per
/// stage), and each capped message is counted in `truncated_messages`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decompression_bombs_are_forwarded_unchanged_in_bounded_memory() {
    const MIB: usize = 1 << 20;
    let gz = zeros_gzip(128 * MIB);
    let br = zeros_br(256 * MIB);
    let zs = zeros_zstd(256 * MIB);
    let gz2 = gzip(&zeros_gzip(256 * MIB));
    let bombs: Vec<(&'static str, &'static str, Vec<u8>)> = vec![
        ("/bomb/gzip", "gzip", gz),
        ("/bomb/br", "br", br),
        ("/bomb/zstd", "zstd", zs),
        ("/bomb/gzip2", "gzip, gzip", gz2),
    ];
    let mut routes = HashMap::new();
    for (path, enc, body) in &bombs {
        routes.insert(
            *path,
            Reply::Bytes(ok_response(body, &format!("Content-Encoding: {enc}\r\n"))),
        );
    }
    routes.insert("/hash", Reply::EchoHash);
    let up = upstream(routes).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(home.path(), serde_json::json!({})).await;
    let before = g.status().proxy.counters.truncated_messages;
    let rss0 = rss_kib();
    let mut peak = rss0;
    for (path, enc, body) in &bombs {
        let r = get(proxy, up, path, "").await.expect("bomb response");
        assert_eq!(r.status, 200);
        assert!(r
            .headers
            .to_ascii_lowercase()
            .contains(&format!("content-encoding: {enc}")));
        assert_eq!(sha(&r.body), sha(body), "{path}: bytes changed in transit");
        peak = peak.max(rss_kib());
        // Outbound: the same bomb uploaded by a client reaches the upstream intact.
        let r = post(
            proxy,
            up,
            "/hash",
            &format!("Content-Encoding: {enc}\r\n"),
            body,
        )
        .await
        .expect("upload answer");
        assert_eq!(r.status, 200);
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            sha(body),
            "{path}: upload changed"
        );
        peak = peak.max(rss_kib());
    }
    let grew_mib = peak.saturating_sub(rss0) / 1024;
    eprintln!(
        "RSS before {rss0} KiB, peak {peak} KiB (+{grew_mib} MiB) for bombs of 128-256 MiB decoded"
    );
    assert!(
        grew_mib < 128,
        "memory grew by {grew_mib} MiB: the decoded copy is not bounded"
    );
    g.scan_idle().await;
    let c = g.status().proxy.counters;
    assert_eq!(
        c.truncated_messages - before,
        8,
        "each bomb (4 down, 4 up) is counted once"
    );
    assert_eq!(c.decode_failures, 0);
    assert_serving(proxy, up, "bombs").await;
    g.stop().await.unwrap();
}

// ---------------------------------------------------------------- hostile clients

/// `client_protocol_errors` once it reaches `expected` (it is counted when
/// the guardian closes the connection, just after the client sees the
/// close), or after 60 s; then 100 ms more so an extra count would show.
/// (A 1 s bound was within reach of a loaded CI box: the count lagging it
/// failed the test.)
async fn settled_faults(g: &HomeGuardian, expected: u64) -> u64 {
    settled_faults_within(g, expected, Duration::from_secs(60)).await
}

/// [`settled_faults`] with its own bound, for a count that may rightly
/// never come (a race the test allows either way).
async fn settled_faults_within(g: &HomeGuardian, expected: u64, bound: Duration) -> u64 {
    let now = || g.status().proxy.counters.client_protocol_errors;
    let deadline = Instant::now() + bound;
    while now() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    now()
}

/// Reads a response head (however long a loaded box takes to send it),
/// then whatever follows until close or `rest` passes.
async fn head_then_rest(tcp: &mut TcpStream, rest: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    while !out.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(60), tcp.read_u8()).await {
            Ok(Ok(b)) => out.push(b),
            _ => return out,
        }
    }
    let _ = tokio::time::timeout(rest, tcp.read_to_end(&mut out)).await;
    out
}

/// Oversized headers, malformed request lines, invalid chunk framing,
/// request smuggling shapes, resets mid-body: each gets an answer or a close
/// and the guardian keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_are_answered_or_dropped_and_others_keep_being_served() {
    let mut routes = HashMap::new();
    routes.insert("/hash", Reply::EchoHash);
    let up = upstream(routes).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(home.path(), serde_json::json!({})).await;
    let faults = |g: &HomeGuardian| g.status().proxy.counters.client_protocol_errors;
    // Benign traffic never moves the counter.
    for _ in 0..5 {
        assert_serving(proxy, up, "start").await;
    }
    let benign_body = b"just a normal upload".repeat(100);
    let r = post(proxy, up, "/hash", "", &benign_body).await.unwrap();
    assert_eq!(r.body, sha(&benign_body).into_bytes());
    assert_eq!(faults(&g), 0, "benign traffic counted as a protocol error");
    let short = Duration::from_secs(3);
    // Every hostile case below must move the counter by exactly one, and
    // the liveness probe after it must not.
    let mut expected = 0;

    let huge = format!(
        "GET http://{up}/ok HTTP/1.1\r\nHost: {up}\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let r = raw(proxy, huge.as_bytes(), short).await;
    assert!(
        r.is_empty() || r.starts_with(b"HTTP/1.1 431"),
        "oversized header: {:?}",
        &r[..r.len().min(30)]
    );
    expected += 1;
    assert_eq!(
        settled_faults(&g, expected).await,
        expected,
        "oversized header"
    );
    assert_serving(proxy, up, "oversized header").await;

    let many: String = (0..2000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let r = raw(
        proxy,
        format!("GET http://{up}/ok HTTP/1.1\r\nHost: {up}\r\n{many}\r\n").as_bytes(),
        short,
    )
    .await;
    assert!(r.is_empty() || r.starts_with(b"HTTP/1.1 431") || r.starts_with(b"HTTP/1.1 400"));
    expected += 1;
    assert_eq!(settled_faults(&g, expected).await, expected, "2000 headers");
    assert_serving(proxy, up, "2000 headers").await;

    // (bytes, whether they break HTTP itself rather than ask the proxy something it refuses)
    for (bad, malformed) in [
        (b"\x00\x01\x02 not http\r\n\r\n".as_slice(), true),
        (b"GET\r\n\r\n", true),
        (b"GET http://[::1 HTTP/1.1\r\n\r\n", true),
        (
            b"GET http://127.0.0.1:99999/ HTTP/1.1\r\nHost: x\r\n\r\n",
            true,
        ),
        (b"GET / HTTP/9.9\r\n\r\n", true),
        (b"\r\n\r\n\r\n\r\n", false),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false),
        (b"CONNECT nohostport HTTP/1.1\r\n\r\n", false),
    ] {
        let r = raw(proxy, bad, short).await;
        assert!(
            r.is_empty() || r.starts_with(b"HTTP/1.1 4") || r.starts_with(b"HTTP/1.1 5"),
            "{:?} -> {:?}",
            String::from_utf8_lossy(bad),
            String::from_utf8_lossy(&r[..r.len().min(60)])
        );
        let what = format!("{:?}", String::from_utf8_lossy(bad));
        if malformed {
            expected += 1;
        }
        assert_eq!(settled_faults(&g, expected).await, expected, "{what}");
        assert_serving(proxy, up, &what).await;
    }

    // Invalid chunk framing and conflicting framing headers. (CL + TE is
    // legal HTTP/1.1: TE wins and the request is forwarded, so not counted.)
    for (i, body) in [
        format!("POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        format!("POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n"),
        format!("POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n"),
        format!("POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        format!("POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        format!("POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nContent-Length: -1\r\n\r\n"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = raw(proxy, body.as_bytes(), short).await;
        if let Some(resp) = parse_response(&r) {
            // Answered: a client error, or forwarded with a body the upstream hashed.
            assert!(resp.status == 200 || (400..600).contains(&resp.status), "{}", resp.headers);
        }
        if i != 3 {
            expected += 1;
        }
        assert_eq!(settled_faults(&g, expected).await, expected, "bad framing #{i}");
        assert_serving(proxy, up, "bad framing").await;
    }

    // Reset in the middle of an upload.
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(proxy).await.unwrap();
        let head = format!(
            "POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nContent-Length: 100000\r\n\r\npartial"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        tcp.set_linger(Some(Duration::ZERO)).unwrap();
        drop(tcp);
    }
    assert_serving(proxy, up, "resets mid-body").await;
    assert_eq!(
        settled_faults(&g, expected).await,
        expected,
        "a client going away is not a protocol error"
    );

    // Many connections opened and dropped without a byte.
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(proxy).await.unwrap());
    }
    assert_serving(proxy, up, "200 silent connections").await;
    drop(idle);
    assert_eq!(
        settled_faults(&g, expected).await,
        expected,
        "silent connections are not protocol errors"
    );

    let st = g.status();
    assert_eq!(st.proxy.state.as_str(), "running");
    g.stop().await.unwrap();
}

/// Slowloris: a client that trickles its request head is cut off by the
/// header read timeout (30 s) while everyone else is served; a client that
/// stalls in the middle of a body and an idle keep-alive connection are
/// measured too (see SECURITY.md for what bounds them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_cut_off_by_the_header_timeout_and_others_are_served() {
    let mut routes = HashMap::new();
    routes.insert("/hash", Reply::EchoHash);
    let up = upstream(routes).await;
    // No `Connection: close`: the client connection may stay open. Its own
    // origin: this upstream closes the connection right after the answer
    // although it announced keep-alive, so the proxy pools a connection
    // that is already closing; a liveness probe to the same origin could
    // be sent on it before its EOF is read and get 502 (the keep-alive race
    // every HTTP client has with such a server). That made this test flaky.
    let mut ka_routes = HashMap::new();
    ka_routes.insert(
        "/ka",
        Reply::Bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nka".to_vec()),
    );
    let ka_up = upstream(ka_routes).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(home.path(), serde_json::json!({})).await;

    let t0 = Instant::now();
    let mut slow = TcpStream::connect(proxy).await.unwrap();
    let head = format!("GET http://{up}/ok HTTP/1.1\r\nHost: {up}\r\nX-Slow: ");
    slow.write_all(head.as_bytes()).await.unwrap();
    let slow_task = tokio::spawn(async move {
        // One byte a second until the proxy hangs up (or 50 bytes went by):
        // returns how many bytes it trickled and when it was cut.
        for sent in 0..50 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if slow.write_all(b"a").await.is_err() {
                return Some((sent, t0.elapsed()));
            }
            let mut b = [0u8; 64];
            if let Ok(Ok(0)) =
                tokio::time::timeout(Duration::from_millis(1), slow.read(&mut b)).await
            {
                return Some((sent, t0.elapsed()));
            }
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(1), slow.read(&mut b)).await
            {
                if n > 0 {
                    return Some((sent, t0.elapsed()));
                }
            }
        }
        None
    });
    // Stalled upload: head and part of the body, then silence.
    let mut stalled = TcpStream::connect(proxy).await.unwrap();
    stalled
        .write_all(
            format!(
                "POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nContent-Length: 1000\r\n\r\nabc"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let stalled_task = tokio::spawn(async move {
        let mut out = Vec::new();
        let r = tokio::time::timeout(Duration::from_secs(45), stalled.read_to_end(&mut out)).await;
        (r.is_ok(), out)
    });
    // Idle keep-alive connection after one complete request.
    let mut idle = TcpStream::connect(proxy).await.unwrap();
    idle.write_all(format!("GET http://{ka_up}/ka HTTP/1.1\r\nHost: {ka_up}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let idle_task = tokio::spawn(async move {
        let mut out = Vec::new();
        // Closed by the 30 s header timeout; 90 s only ends a failing run
        // (45 s left a loaded box 15 s).
        let r = tokio::time::timeout(Duration::from_secs(90), idle.read_to_end(&mut out)).await;
        (r.is_ok(), out)
    });
    // Meanwhile everyone else is served.
    for i in 0..10 {
        assert_serving(proxy, up, &format!("slowloris round {i}")).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let cut = slow_task.await.unwrap();
    let (stalled_closed, stalled_out) = stalled_task.await.unwrap();
    let (idle_closed, idle_out) = idle_task.await.unwrap();
    eprintln!(
        "slowloris cut after {cut:?} bytes; stalled upload closed: {stalled_closed} ({} bytes back); \
         idle keep-alive closed: {idle_closed} ({} bytes back)",
        stalled_out.len(),
        idle_out.len()
    );
    // Trickling does not extend the header timeout: the head is cut before
    // 50 bytes (≥ 50 s) went by, and the header-timeout counter below says
    // that is what cut it. The only clock check is a lower bound (not cut
    // before most of the 30 s timeout), which load can only make longer.
    let (sent, after) = cut.expect("a trickled request head is cut off before 50 bytes");
    assert!(sent < 50, "trickled {sent} bytes");
    assert!(
        after >= Duration::from_secs(20),
        "cut too early, after {after:?}"
    );
    assert!(
        idle_out.starts_with(b"HTTP/1.1 200"),
        "the keep-alive request was answered"
    );
    assert!(
        idle_closed,
        "the idle keep-alive connection is closed by the header timeout"
    );
    // The trickled head's count, however late a loaded box records it
    // (a fixed 200 ms wait was a guess); then a moment for an extra one.
    let deadline = Instant::now() + Duration::from_secs(60);
    while g.status().proxy.counters.client_timeouts < 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = g.status().proxy.counters;
    assert_eq!(
        c.client_timeouts, 1,
        "the trickled head counts; the idle keep-alive connection (same timeout) does not"
    );
    assert_eq!(c.client_protocol_errors, 0);
    assert_serving(proxy, up, "slowloris").await;
    g.stop().await.unwrap();
}

/// Hostile upstreams: broken chunking, a reset mid-body, an oversized
/// response head, silence. The client gets an error or a cut body, the
/// failure is counted, and the guardian keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_upstreams_are_survived_and_counted() {
    let mut routes = HashMap::new();
    routes.insert(
        "/bad-chunks",
        Reply::Bytes(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
                .to_vec(),
        ),
    );
    routes.insert(
        "/reset",
        Reply::ResetAfter(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly a little".to_vec(),
        ),
    );
    let mut big_head = b"HTTP/1.1 200 OK\r\n".to_vec();
    big_head.extend(format!("X-Big: {}\r\n", "b".repeat(1 << 20)).bytes());
    big_head.extend_from_slice(b"Content-Length: 2\r\n\r\nhi");
    routes.insert("/big-head", Reply::Bytes(big_head));
    routes.insert(
        "/garbage",
        Reply::Bytes(b"\x16\x03\x01garbage not http\r\n\r\n".to_vec()),
    );
    routes.insert("/hang", Reply::Hang);
    let up = upstream(routes).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(home.path(), serde_json::json!({})).await;
    let errors0 = g.status().proxy.counters.upstream_errors;
    for path in ["/bad-chunks", "/reset", "/big-head", "/garbage"] {
        let r = get(proxy, up, path, "").await;
        match &r {
            Some(resp) if resp.status == 200 => {
                // Headers were forwarded; the body must be cut, never invented.
                assert!(resp.body.len() < 100_000, "{path}");
            }
            Some(resp) => assert_eq!(resp.status, 502, "{path}: {}", resp.headers),
            None => {}
        }
        assert_serving(proxy, up, path).await;
    }
    let errors = g.status().proxy.counters.upstream_errors - errors0;
    eprintln!("upstream_errors after 4 hostile upstreams: {errors}");
    assert!(
        errors >= 2,
        "unusable upstream answers are counted (got {errors})"
    );
    // A silent upstream ties up only its own client.
    let hang = tokio::spawn(async move { get(proxy, up, "/hang", "").await });
    assert_serving(proxy, up, "silent upstream").await;
    hang.abort();
    g.stop().await.unwrap();
}

/// TLS garbage on an intercepted CONNECT (MITM on) drops that connection
/// only; the CA private key stays 0600 and is in no status output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_garbage_on_mitm_connect_drops_only_that_connection() {
    let up = upstream(HashMap::new()).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(
        home.path(),
        serde_json::json!({"mitm": {"enabled": true, "trusted_runtimes": ["*"]}}),
    )
    .await;
    let mut expected = 0;
    // (bytes, whether they claim to be TLS) — anything else is relayed, not a fault.
    for (garbage, tls) in [
        (b"\x16\x03\x01\x00\x05garbagegarbage".as_slice(), true),
        (b"\x16\x03\x01\xff\xff", true),
        (b"GET / HTTP/1.1\r\n\r\n", false),
        (&[0u8; 70_000], false),
    ] {
        let mut tcp = TcpStream::connect(proxy).await.unwrap();
        tcp.write_all(format!("CONNECT {up} HTTP/1.1\r\nHost: {up}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let _ = tcp.write_all(garbage).await;
        // The `200` is read whole first: a 3 s read of everything could end
        // before a loaded box answered.
        let out = head_then_rest(&mut tcp, Duration::from_secs(3)).await;
        assert!(
            out.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&out[..out.len().min(40)])
        );
        drop(tcp);
        if tls {
            expected += 1;
        }
        assert_eq!(settled_faults(&g, expected).await, expected, "{tls}");
        assert_serving(proxy, up, "TLS garbage").await;
    }
    // A TLS client hello cut in the middle, then a reset: counted once the
    // tunnel was open (a reset before the CONNECT is answered is just a
    // client going away).
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    let mut bytes = format!("CONNECT {up} HTTP/1.1\r\nHost: {up}\r\n\r\n").into_bytes();
    bytes.extend_from_slice(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    tcp.write_all(&bytes).await.unwrap();
    tcp.set_linger(Some(Duration::ZERO)).unwrap();
    drop(tcp);
    assert_serving(proxy, up, "cut client hello").await;
    // Not counted is a right answer here: wait a bounded while only.
    let raced = settled_faults_within(&g, expected + 1, Duration::from_secs(2)).await;
    assert!(raced == expected || raced == expected + 1, "{raced}");
    expected = raced;
    // After the `200`, the cut hello is a fault once the guardian has read
    // it; a reset that beats that first read (a loaded box may not schedule
    // the tunnel's task within the pause) is a client going away, rightly
    // not counted. No hook tells the client when the read happened, so the
    // cut is repeated with a longer pause until it is counted: one count per
    // cut at most, and a count in the end. (One 50 ms pause alone failed
    // when the box was busy.)
    let mut counted = false;
    for pause in [50, 250, 1000, 3000, 10_000] {
        let mut tcp = common::connect_through(proxy, up).await;
        tcp.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(pause)).await;
        tcp.set_linger(Some(Duration::ZERO)).unwrap();
        drop(tcp);
        assert_serving(proxy, up, "cut client hello after the tunnel opened").await;
        let now = settled_faults_within(&g, expected + 1, Duration::from_secs(5)).await;
        assert!(
            now == expected || now == expected + 1,
            "cut client hello after {pause} ms: {now} faults, {expected} before"
        );
        counted = now == expected + 1;
        expected = now;
        if counted {
            break;
        }
    }
    assert!(
        counted,
        "a client hello cut after the tunnel opened is counted"
    );
    assert!(g.status().proxy.counters.mitm_connections >= 4);

    let ca_dir = home.path().join("ca");
    let key_path = ca_dir.join("ca-key.pem");
    assert_eq!(mode_of(&key_path), 0o600);
    let key = std::fs::read_to_string(&key_path).unwrap();
    let body_lines: Vec<&str> = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let status = format!("{:?}", g.status());
    for l in &body_lines {
        assert!(!status.contains(l), "CA key material in status");
    }
    assert!(!status.contains("PRIVATE KEY"));
    g.stop().await.unwrap();
}

/// A WebSocket flood (10,000 messages, some large) through the guardian:
/// every message is forwarded, counted and scanned, and others are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_flood_is_relayed_and_others_keep_being_served() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::accept_async;
    use tokio_tungstenite::tungstenite::Message;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let up = upstream(HashMap::new()).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(home.path(), serde_json::json!({})).await;
    let ws = ws_through_proxy(proxy, &ws_addr.to_string(), "/").await;
    let (mut tx, mut rx) = ws.split();
    const N: usize = 10_000;
    let key = fake_aws_key();
    let sender = tokio::spawn(async move {
        for i in 0..N {
            let text = match i {
                5000 => format!("planted {key}"),
                _ if i % 1000 == 0 => "x".repeat(2 << 20),
                _ => format!("message {i}"),
            };
            tx.send(Message::text(text)).await.unwrap();
        }
        tx
    });
    let mut got = 0;
    while got < N {
        let m = tokio::time::timeout(Duration::from_secs(30), rx.next())
            .await
            .expect("flood keeps flowing")
            .unwrap()
            .unwrap();
        assert!(m.is_text());
        got += 1;
        if got == N / 2 {
            assert_serving(proxy, up, "mid WebSocket flood").await;
        }
    }
    let _tx = sender.await.unwrap();
    g.scan_idle().await;
    let c = g.status().proxy.counters;
    assert!(
        c.websocket_messages >= 2 * N as u64,
        "{}",
        c.websocket_messages
    );
    // Nine 2 MiB messages (every 1000th but the planted one) are over
    // max_scan_bytes (1 MiB), each way.
    assert!(c.truncated_messages >= 18, "{}", c.truncated_messages);
    let page = g.findings(&FindingQuery::default()).unwrap();
    assert!(page
        .findings
        .iter()
        .any(|f| f.protocol == "websocket" && f.pattern == "aws_access_key_id"));
    assert_serving(proxy, up, "WebSocket flood").await;
    g.stop().await.unwrap();
}

// ---------------------------------------------------------------- storage faults

fn findings_on_disk(log_dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(log_dir) else {
        return out;
    };
    for e in rd.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for line in text.lines() {
            out.push(serde_json::from_str(line).expect("every JSONL line parses"));
        }
    }
    out
}

async fn plant(proxy: SocketAddr, up: SocketAddr) -> String {
    let key = fake_aws_key();
    let r = post(
        proxy,
        up,
        "/ok",
        "",
        format!("aws_access_key_id={key}").as_bytes(),
    )
    .await;
    assert_eq!(r.expect("answered").status, 200, "proxying continues");
    key
}

/// Waits (up to 60 s: 4 s was within reach of a loaded CI box) until `n`
/// findings were emitted.
async fn wait_emitted(g: &HomeGuardian, n: u64) {
    for _ in 0..3000 {
        if g.status().store.findings_emitted >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "only {} findings emitted, wanted {n}",
        g.status().store.findings_emitted
    );
}

/// The log directory replaced by a file before the findings file is opened:
/// proxying continues, findings stay queryable, status shows the error,
/// and once the directory is back the held-back findings are written too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn unwritable_log_dir_does_not_stop_proxying_and_writing_resumes() {
    let up = upstream(HashMap::new()).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(home.path(), serde_json::json!({})).await;
    let log_dir = g.status().log_dir;
    std::fs::remove_dir_all(&log_dir).unwrap();
    std::fs::write(&log_dir, b"not a directory").unwrap();
    for i in 0..3 {
        plant(proxy, up).await;
        wait_emitted(&g, i + 1).await;
    }
    let st = g.status().store;
    assert_eq!(st.findings_written, 0);
    assert_eq!(st.write_errors, 3);
    let err = st.last_error.expect("status shows the storage fault");
    assert!(err.contains("findings.jsonl"), "{err}");
    let during = g
        .findings(&FindingQuery::default())
        .map(|p| p.findings.len());
    // The fault clears.
    std::fs::remove_file(&log_dir).unwrap();
    plant(proxy, up).await;
    wait_emitted(&g, 4).await;
    let st = g.status().store;
    assert_eq!(
        st.findings_written, 4,
        "writing resumed, the three held back first"
    );
    assert_eq!((st.pending_writes, st.dropped_writes), (0, 0));
    assert_eq!(st.last_error, None, "the error clears once writing works");
    assert_eq!(mode_of(&log_dir), 0o700);
    assert_eq!(mode_of(&log_dir.join("findings.jsonl")), 0o600);
    assert_eq!(findings_on_disk(&log_dir).len(), 4);
    assert_eq!(
        g.findings(&FindingQuery::default()).unwrap().findings.len(),
        4
    );
    g.stop().await.unwrap();
    assert_eq!(
        during.map_err(|e| e.to_string()),
        Ok(3),
        "findings stay queryable from memory during the fault"
    );
}

/// The log directory deleted while the findings file is open (an operator's
/// `rm -rf`, a cleanup job): later findings must land in a file that exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn log_dir_removed_mid_run_is_recreated() {
    let up = upstream(HashMap::new()).await;
    let home = tempfile::tempdir().unwrap();
    let (g, proxy) = start(home.path(), serde_json::json!({})).await;
    let log_dir = g.status().log_dir;
    plant(proxy, up).await;
    wait_emitted(&g, 1).await;
    assert_eq!(findings_on_disk(&log_dir).len(), 1);
    std::fs::remove_dir_all(&log_dir).unwrap();
    plant(proxy, up).await;
    wait_emitted(&g, 2).await;
    let st = g.status().store;
    let on_disk = findings_on_disk(&log_dir).len();
    assert!(
        on_disk == 1 || st.write_errors > 0,
        "a finding written after the log dir vanished is neither on disk nor reported \
         (written {}, errors {}, on disk {on_disk})",
        st.findings_written,
        st.write_errors
    );
    g.stop().await.unwrap();
}

// ---------------------------------------------------------------- permissions & exposure

/// Home 0700, fingerprint key 0600, findings 0600, CA key 0600 — and
/// too-open modes left by someone else are tightened at start, except on
/// the keys: a key others could read is refused, naming the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_are_private_and_too_open_ones_are_fixed_at_start() {
    let up = upstream(HashMap::new()).await;
    let home = tempfile::tempdir().unwrap();
    let mitm = serde_json::json!({"mitm": {"enabled": true, "trusted_runtimes": ["*"]}});
    let (g, proxy) = start(home.path(), mitm.clone()).await;
    plant(proxy, up).await;
    wait_emitted(&g, 1).await;
    let log_dir: PathBuf = g.status().log_dir;
    let files = [
        (home.path().to_path_buf(), 0o700),
        (log_dir.clone(), 0o700),
        (home.path().join("fingerprint.key"), 0o600),
        (log_dir.join("findings.jsonl"), 0o600),
        (home.path().join("ca").join("ca-key.pem"), 0o600),
    ];
    for (p, want) in &files {
        assert_eq!(mode_of(p), *want, "{}", p.display());
    }
    g.stop().await.unwrap();
    drop(g);
    // Someone loosens everything; the next start tightens it again, but
    // refuses each key until its owner has checked it.
    for (p, _) in &files {
        let m = if p.is_dir() { 0o777 } else { 0o666 };
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    for key in [
        home.path().join("fingerprint.key"),
        home.path().join("ca").join("ca-key.pem"),
    ] {
        let err = match HomeGuardian::from_input(&input(home.path(), mitm.clone())) {
            Ok(g) => g.start().await.err().map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        let err = err.unwrap_or_else(|| panic!("{} (mode 0666) was adopted", key.display()));
        assert!(
            err.contains(&format!("chmod 600 {}", key.display())),
            "{err}"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (g, proxy) = start(home.path(), mitm).await;
    plant(proxy, up).await;
    wait_emitted(&g, 1).await;
    for (p, want) in &files {
        assert_eq!(mode_of(p), *want, "{} not tightened at start", p.display());
    }
    g.stop().await.unwrap();
}

/// A non-loopback listen address requires runtime credentials unless
/// `require_auth` is explicitly false (then a warning). Declaring none is a
/// warning, not an error: NanoClaw's integration registers each group's
/// credential when its container starts (#14 item 3), and anonymous clients
/// still get 407 because `require_auth` stays on.
#[test]
fn non_loopback_listen_requires_credentials_unless_opted_out() {
    let home = tempfile::tempdir().unwrap();
    let r = traffic_guardian::home_guardian::check_config(&input(
        home.path(),
        serde_json::json!({"listen": "0.0.0.0:0"}),
    ));
    assert!(r.ok, "{:?}", r.errors);
    assert!(
        r.config.as_ref().unwrap().require_auth,
        "credentials stay required"
    );
    assert!(
        r.warnings.iter().any(|w| w.field == "require_auth"),
        "{:?}",
        r.warnings
    );
    let r = traffic_guardian::home_guardian::check_config(&input(
        home.path(),
        serde_json::json!({"listen": "0.0.0.0:0", "require_auth": false}),
    ));
    assert!(r.ok, "{:?}", r.errors);
    assert!(!r.config.as_ref().unwrap().require_auth);
    assert!(!r.warnings.is_empty(), "opting out is warned about");
}

// ---------------------------------------------------------------- stalls

/// Settings for the stall tests: both timeouts at 2 s (at 1 s, a loaded
/// box could stretch a 400 ms upload gap or an upstream's prompt answer
/// past them).
fn stall_settings() -> traffic_guardian::proxy::ProxySettings {
    traffic_guardian::proxy::ProxySettings {
        request_body_idle_timeout: Duration::from_secs(2),
        upstream_response_head_timeout: Duration::from_secs(2),
        ..common::test_settings()
    }
}

/// An upstream that reads whatever it is sent and reports, per connection,
/// how long until the guardian hung up (EOF or reset) and how many bytes came.
async fn recording_upstream() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut n = 0;
                let mut buf = [0u8; 4096];
                loop {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(k) => n += k,
                    }
                }
                let _ = tx.send(n);
            });
        }
    });
    (addr, rx)
}

/// Reads what the guardian answers until it closes or `wait` passes;
/// returns the bytes and whether it closed.
async fn read_until_close(tcp: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let closed = tokio::time::timeout(wait, tcp.read_to_end(&mut out))
        .await
        .is_ok();
    (out, closed)
}

/// A client that stalls in the middle of its request body loses that
/// exchange after the body idle timeout (408, connection closed, upstream
/// request dropped, counted); an upstream that never answers gets the
/// client a 504 after the response head timeout (counted). A slow but
/// steady upload, a slow answer and a response body idle for longer than
/// both timeouts (as SSE is) are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_and_silent_upstreams_are_timed_out_but_slow_traffic_is_not() {
    let (engine, _sink, proxy) = common::start_proxy(stall_settings()).await;

    // Stalled upload.
    let (rec, mut hangups) = recording_upstream().await;
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(
        format!("POST http://{rec}/up HTTP/1.1\r\nHost: {rec}\r\nContent-Length: 1000\r\n\r\nabc")
            .as_bytes(),
    )
    .await
    .unwrap();
    // The 408 and the counters prove the timeout cut it; no clock is asserted.
    let (out, closed) = read_until_close(&mut tcp, Duration::from_secs(10)).await;
    assert!(
        out.starts_with(b"HTTP/1.1 408"),
        "stalled upload: {:?}",
        String::from_utf8_lossy(&out[..out.len().min(60)])
    );
    assert!(closed, "the stalled client's connection is closed");
    let got = tokio::time::timeout(Duration::from_secs(60), hangups.recv())
        .await
        .expect("the upstream request is dropped")
        .unwrap();
    assert!(got > 0, "the upstream had received the request head");
    let c = engine.status().counters;
    assert_eq!(c.client_timeouts, 1);
    assert_eq!(c.upstream_timeouts, 0);

    // Silent upstream.
    let mut routes = HashMap::new();
    routes.insert("/hang", Reply::Hang);
    routes.insert("/hash", Reply::EchoHash);
    let up = upstream(routes).await;
    let r = get(proxy, up, "/hang", "").await.expect("an answer");
    assert_eq!(r.status, 504, "{}", r.headers);
    let c = engine.status().counters;
    assert_eq!(c.upstream_timeouts, 1);
    assert_eq!(c.client_timeouts, 1);
    // The silent upstream's socket is released too (the recording upstream never answers).
    let r = get(proxy, rec, "/silent", "").await.expect("an answer");
    assert_eq!(r.status, 504, "{}", r.headers);
    tokio::time::timeout(Duration::from_secs(60), hangups.recv())
        .await
        .expect("the guardian hangs up on a silent upstream")
        .unwrap();
    assert_eq!(engine.status().counters.upstream_timeouts, 2);

    // Slow but steady upload: 8 chunks 300 ms apart (2.4 s in all, longer
    // than the 2 s idle timeout; each gap far below it).
    let parts: Vec<Vec<u8>> = (0..8).map(|i| format!("part {i};").into_bytes()).collect();
    let whole: Vec<u8> = parts.concat();
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(
        format!(
            "POST http://{up}/hash HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            whole.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    for p in &parts {
        tokio::time::sleep(Duration::from_millis(300)).await;
        tcp.write_all(p).await.unwrap();
    }
    let (out, _) = read_until_close(&mut tcp, Duration::from_secs(10)).await;
    let r = parse_response(&out).expect("an answer to the slow upload");
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.body, sha(&whole).into_bytes());

    // A response head in time followed by a body idle for 3 s (longer than
    // both timeouts, as SSE and long polls are) streams through whole.
    let head_then_idle = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(3000)).await;
            let _ = tcp.write_all(b"7\r\nsecond\n\r\n0\r\n\r\n").await;
            let _ = tcp.shutdown().await;
        });
        addr
    };
    let r = get(proxy, head_then_idle, "/events", "")
        .await
        .expect("an answer");
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.body, b"first\nsecond\n");
    let c = engine.status().counters;
    assert_eq!((c.client_timeouts, c.upstream_timeouts), (1, 2));
    assert_serving(proxy, up, "stalls").await;
    engine.stop().await.unwrap();
}

/// The defaults are generous: minutes, not seconds (LLM APIs think for
/// minutes before answering; uploads from slow links pause).
#[test]
fn stall_timeouts_default_to_minutes() {
    let s = traffic_guardian::proxy::ProxySettings::default();
    assert_eq!(s.request_body_idle_timeout, Duration::from_secs(120));
    assert_eq!(s.upstream_response_head_timeout, Duration::from_secs(600));
}

// ---------------------------------------------------------------- plaintext in MITM'd CONNECT

/// A fake upstream proxy (OneCLI-like) on loopback: records each request
/// head it gets; answers `CONNECT` with 200 and relays the tunnel, and
/// forwards absolute-form requests to their origin in origin form.
async fn recording_upstream_proxy() -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                continue;
            };
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    match tcp.read_u8().await {
                        Ok(b) => head.push(b),
                        Err(_) => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).to_string();
                log.lock().unwrap().push(head.clone());
                let mut words = head.split_whitespace();
                let (Some(method), Some(target)) = (words.next(), words.next()) else {
                    return;
                };
                if method == "CONNECT" {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        let _ = tcp.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = tcp
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut server).await;
                    return;
                }
                let Some((authority, path)) = target
                    .strip_prefix("http://")
                    .map(|r| r.split_at(r.find('/').unwrap_or(r.len())))
                else {
                    let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                    return;
                };
                let Ok(mut server) = TcpStream::connect(authority).await else {
                    let _ = tcp.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let path = if path.is_empty() { "/" } else { path };
                let origin_head = head.replacen(target, path, 1);
                let _ = server.write_all(origin_head.as_bytes()).await;
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut server).await;
            });
        }
    });
    (addr, seen)
}

/// Writes `CONNECT target`, then a plaintext POST with `body` inside the
/// tunnel; returns the response to the POST.
async fn plaintext_post_in_connect(proxy: SocketAddr, target: SocketAddr, body: &[u8]) -> Resp {
    let mut req = format!(
        "POST /hash HTTP/1.1\r\nHost: {target}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    request_in_connect(proxy, target, &req).await
}

/// Writes `CONNECT target`, then `req` in plaintext inside the tunnel;
/// returns the response to it.
async fn request_in_connect(proxy: SocketAddr, target: SocketAddr, req: &[u8]) -> Resp {
    let mut tcp = common::connect_through(proxy, target).await;
    tcp.write_all(req).await.unwrap();
    let (out, _) = read_until_close(&mut tcp, Duration::from_secs(10)).await;
    parse_response(&out).expect("an answer inside the tunnel")
}

/// Plaintext (non-GET) HTTP written inside a CONNECT to a host the guardian
/// intercepts is served like proxied plain HTTP: inspected (finding with the
/// right destination, in the body), its body reaches the origin byte for
/// byte, directly or through the configured upstream proxy with the
/// proxy's credentials (never around it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_post_inside_an_intercepted_connect_is_inspected_and_chained() {
    let mut routes = HashMap::new();
    routes.insert("/hash", Reply::EchoHash);
    let page = gzip(format!("<p>Weather.</p><!-- {} -->", common::INJECTION).as_bytes());
    routes.insert(
        "/page",
        Reply::Bytes(ok_response(&page, "Content-Encoding: gzip\r\n")),
    );
    let origin = upstream(routes).await;
    let home = tempfile::tempdir().unwrap();
    let mitm = |upstream_proxy: Option<String>| traffic_guardian::proxy::ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.path().join("ca"),
        upstream_proxy: upstream_proxy
            .map(|u| traffic_guardian::proxy::parse_upstream_proxy(&u).unwrap()),
        ..common::test_settings()
    };

    // Direct.
    let (engine, sink, proxy) = common::start_proxy(mitm(None)).await;
    let key = fake_aws_key();
    let body = format!("{{\"note\":\"deploy\",\"key\":\"{key}\"}}").into_bytes();
    let r = plaintext_post_in_connect(proxy, origin, &body).await;
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(
        r.body,
        sha(&body).into_bytes(),
        "bytes reach the origin unchanged"
    );
    let f = sink
        .wait_for(|f| {
            f.dest == origin.to_string()
                && f.direction == traffic_guardian::core::finding::Direction::Outbound
        })
        .await
        .expect("the plaintext POST inside the intercepted CONNECT is inspected");
    assert_eq!(f.location, "body:json:$.key");
    assert_eq!(f.protocol, "http");
    // A plaintext GET in the same way: the gzip response is inspected decoded.
    let r = request_in_connect(
        proxy,
        origin,
        format!("GET /page HTTP/1.1\r\nHost: {origin}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(
        r.body, page,
        "the encoded response reaches the client unchanged"
    );
    sink.wait_for(|f| {
        f.dest == origin.to_string()
            && f.direction == traffic_guardian::core::finding::Direction::Inbound
    })
    .await
    .expect("the injection in the gzip response is found");
    let st = engine.status().counters;
    assert_eq!(st.mitm_connections, 2);
    assert_eq!(st.client_protocol_errors, 0);
    engine.stop().await.unwrap();

    // Through an upstream proxy with credentials.
    let (gw, seen) = recording_upstream_proxy().await;
    let (engine, sink, proxy) =
        common::start_proxy(mitm(Some(format!("http://gwuser:gw-pass-9@{gw}")))).await;
    let key = fake_aws_key();
    let body = format!("upload={key}&x=1").into_bytes();
    let r = plaintext_post_in_connect(proxy, origin, &body).await;
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.body, sha(&body).into_bytes());
    let heads = seen.lock().unwrap().clone();
    assert_eq!(
        heads.len(),
        1,
        "one request via the upstream proxy: {heads:?}"
    );
    assert!(
        heads[0].starts_with(&format!("POST http://{origin}/hash HTTP/1.1\r\n")),
        "{}",
        heads[0]
    );
    let basic = base64_basic("gwuser:gw-pass-9");
    assert!(
        // Header names are case-insensitive; one the guardian adds goes out
        // in lowercase (names are never re-cased, SPEC §2).
        heads[0].to_ascii_lowercase().contains(&format!(
            "proxy-authorization: {}",
            basic.to_ascii_lowercase()
        )),
        "the upstream proxy's credentials are sent"
    );
    sink.wait_for(|f| f.dest == origin.to_string())
        .await
        .expect("inspected on the chained path too");
    engine.stop().await.unwrap();
}

fn base64_basic(userpass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(userpass)
    )
}

/// A silent upstream proxy (accepts, never answers a `CONNECT`) costs a
/// blind `CONNECT` and an intercepted HTTPS upload the response head
/// timeout, not forever: both get a 504 and are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_upstream_proxy_is_timed_out_for_tunnels_and_intercepted_uploads() {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let home = tempfile::tempdir().unwrap();
    let settings = traffic_guardian::proxy::ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.path().join("ca"),
        upstream_proxy: Some(
            traffic_guardian::proxy::parse_upstream_proxy(&format!("http://{silent_addr}"))
                .unwrap(),
        ),
        ..stall_settings()
    };
    let (engine, _sink, proxy) = common::start_proxy(settings).await;

    // Port 22 is never intercepted: a blind tunnel through the silent proxy.
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
        .await
        .unwrap();
    let (out, _) = read_until_close(&mut tcp, Duration::from_secs(10)).await;
    assert!(
        out.starts_with(b"HTTP/1.1 504"),
        "{:?}",
        String::from_utf8_lossy(&out[..out.len().min(60)])
    );

    // An intercepted HTTPS upload: the connector's CONNECT is never answered,
    // so the body is never pulled and only the upstream's clock can end it.
    let ca = home.path().join("ca").join("ca-cert.pem");
    let r = common::curl(
        Some(&common::proxy_url(proxy)),
        "https://127.0.0.1:9/upload",
        &["--cacert", ca.to_str().unwrap(), "-d", "hello=world"],
    )
    .await;
    // The 504s and the counter show the upstream timeout answered, not a clock.
    assert_eq!(r.status, 504);
    let c = engine.status().counters;
    assert_eq!(c.upstream_timeouts, 2);
    assert_eq!(c.client_timeouts, 0);
    engine.stop().await.unwrap();
}

/// Inside an intercepted CONNECT, any request line counts as HTTP: a WebDAV
/// or custom method, and one behind a blank line, are inspected, keep the
/// client's own `Host`, and a CONNECT nested inside is refused instead of
/// opening a blind tunnel for no known runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_method_inside_an_intercepted_connect_is_inspected_and_nested_connect_refused() {
    let mut routes = HashMap::new();
    routes.insert("/head", Reply::EchoHead);
    let origin = upstream(routes).await;
    let home = tempfile::tempdir().unwrap();
    let (engine, sink, proxy) = common::start_proxy(traffic_guardian::proxy::ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.path().join("ca"),
        ..common::test_settings()
    })
    .await;
    for (i, (lead, method)) in [("", "PROPFIND"), ("\r\n", "POST"), ("", "X-CUSTOM")]
        .into_iter()
        .enumerate()
    {
        let key = fake_aws_key();
        let body = format!("{{\"k\":\"{key}\"}}");
        let req = format!(
            "{lead}{method} /head HTTP/1.1\r\nHost: app{i}.example\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let r = request_in_connect(proxy, origin, req.as_bytes()).await;
        assert_eq!(r.status, 200, "{method}: {}", r.headers);
        let seen = String::from_utf8_lossy(&r.body).to_ascii_lowercase();
        assert!(
            seen.starts_with(&format!("{} /head", method.to_ascii_lowercase())),
            "{seen}"
        );
        assert!(
            seen.contains(&format!("host: app{i}.example")),
            "the client's Host reaches the origin: {seen}"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let inspected = loop {
            let n = sink
                .all()
                .iter()
                .filter(|f| f.dest == origin.to_string() && f.location == "body:json:$.k")
                .count();
            if n > i || std::time::Instant::now() > deadline {
                break n > i;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            inspected,
            "{method} inside the intercepted CONNECT is inspected"
        );
        let json = serde_json::to_string(&sink.all()).unwrap();
        assert!(
            !json.contains(&key[4..12]),
            "no piece of the key in findings"
        );
    }
    let r = request_in_connect(
        proxy,
        origin,
        format!("CONNECT {origin} HTTP/1.1\r\nHost: {origin}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 405, "{}", r.headers);
    engine.stop().await.unwrap();
}

// ---------------------------------------------------------------- connection limits

/// Reads one response with a `Content-Length` (or a streamed one until
/// `until` appears) from a keep-alive connection, without waiting for close.
async fn read_until(tcp: &mut TcpStream, until: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while !out.windows(until.len()).any(|w| w == until) {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    assert_eq!(
        found,
        Ok(true),
        "{:?} not received: {}",
        String::from_utf8_lossy(until),
        String::from_utf8_lossy(&out)
    );
    out
}

/// A connection that never sends a byte is closed after the first-byte
/// timeout; a keep-alive connection idle after its exchange is closed after
/// the idle timeout (both counted); a streaming response that is silent for
/// longer than the idle timeout is not cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_idle_connections_are_closed_but_streaming_responses_are_not() {
    let settings = traffic_guardian::proxy::ProxySettings {
        // 1 s, not 300 ms: the SSE and keep-alive clients below send their
        // request right after connecting, and a loaded box could pause the
        // test task that long in between (counted as a silent connection).
        first_byte_timeout: Duration::from_secs(1),
        keep_alive_idle_timeout: Duration::from_secs(1),
        ..common::test_settings()
    };
    let (engine, _sink, proxy) = common::start_proxy(settings).await;
    let (up, state) = common::spawn_http_upstream().await;

    // An SSE stream whose first event arrived, then silence.
    let mut sse = TcpStream::connect(proxy).await.unwrap();
    sse.write_all(format!("GET http://{up}/sse HTTP/1.1\r\nHost: {up}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_until(&mut sse, b"data: first").await;

    let mut silent = Vec::new();
    for _ in 0..5 {
        silent.push(TcpStream::connect(proxy).await.unwrap());
    }
    for tcp in &mut silent {
        let (out, closed) = read_until_close(tcp, Duration::from_secs(20)).await;
        assert!(closed, "a silent connection stayed open");
        assert!(out.is_empty());
    }
    assert_eq!(engine.status().counters.silent_connections_closed, 5);

    let mut ka = TcpStream::connect(proxy).await.unwrap();
    ka.write_all(format!("GET http://{up}/chunked HTTP/1.1\r\nHost: {up}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_until(&mut ka, b"0\r\n\r\n").await;
    let (rest, closed) = read_until_close(&mut ka, Duration::from_secs(20)).await;
    assert!(closed, "an idle keep-alive connection stayed open");
    assert!(rest.is_empty());
    assert_eq!(engine.status().counters.idle_connections_closed, 1);

    // The SSE stream has now been silent for longer than the idle timeout
    // (the keep-alive connection above was idle that long after it began):
    // it is still open and delivers its next event.
    state.sse_release.notify_one();
    read_until(&mut sse, common::INJECTION.as_bytes()).await;
    assert_eq!(engine.status().counters.idle_connections_closed, 1);
    engine.stop().await.unwrap();
}

/// With a per-client cap of N, connection N+1 from the same address is
/// closed at once and counted while the first N are served; likewise for
/// the total cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_caps_are_closed_and_counted_and_the_others_served() {
    let (up, _state) = common::spawn_http_upstream().await;
    for (per_client, total) in [(3, 100), (100, 3)] {
        let settings = traffic_guardian::proxy::ProxySettings {
            max_connections_per_client: per_client,
            max_connections: total,
            ..common::test_settings()
        };
        let (engine, _sink, proxy) = common::start_proxy(settings).await;
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(TcpStream::connect(proxy).await.unwrap());
        }
        let mut over = TcpStream::connect(proxy).await.unwrap();
        let (out, closed) = read_until_close(&mut over, Duration::from_secs(20)).await;
        assert!(
            closed && out.is_empty(),
            "connection over the cap not closed"
        );
        let c = engine.status().counters;
        assert_eq!(c.open_connections, 3);
        if per_client == 3 {
            assert_eq!((c.rejected_client_cap, c.rejected_total_cap), (1, 0));
        } else {
            assert_eq!((c.rejected_client_cap, c.rejected_total_cap), (0, 1));
        }
        for tcp in &mut held {
            tcp.write_all(
                format!(
                    "GET http://{up}/chunked HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
            let (out, _) = read_until_close(tcp, Duration::from_secs(20)).await;
            let r = parse_response(&out).expect("an answer on a held connection");
            assert_eq!(r.status, 200);
        }
        engine.stop().await.unwrap();
    }
}

/// Starting the proxy raises the soft open-file limit to the hard limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_soft_open_file_limit_is_raised_to_the_hard_limit_at_start() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let before = getrlimit(Resource::Nofile);
    // Lower the soft limit a little (other tests of this binary run alongside).
    let lowered = match before.maximum {
        Some(hard) => Some(hard.saturating_sub(16).max(1024).min(hard)),
        None => Some(1 << 20),
    };
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: lowered,
            maximum: before.maximum,
        },
    )
    .unwrap();
    let (engine, _sink, _proxy) = common::start_proxy(common::test_settings()).await;
    let after = getrlimit(Resource::Nofile);
    assert_eq!(after.current, after.maximum);
    assert_eq!(after.maximum, before.maximum);
    engine.stop().await.unwrap();
}

/// A destination whose name does not resolve gets a 502 that says so, for
/// CONNECT and plain HTTP. The name has a 64-character label, which the
/// resolver rejects locally: no DNS query leaves the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresolvable_hosts_get_a_502_naming_the_dns_failure() {
    let (engine, _sink, proxy) = common::start_proxy(common::test_settings()).await;
    let host = format!("{}.invalid", "a".repeat(64));
    let want = format!("cannot resolve host `{host}`");
    // Read until the answer names the failure (a 500 ms read could end
    // before a loaded box answered).
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let connect = read_until(&mut tcp, want.as_bytes()).await;
    let text = String::from_utf8_lossy(&connect);
    assert!(text.starts_with("HTTP/1.1 502"), "{text}");
    assert!(text.contains(&want), "{text}");
    let req = format!("GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let plain = parse_response(&raw(proxy, req.as_bytes(), Duration::from_secs(10)).await)
        .expect("an answer");
    assert_eq!(plain.status, 502);
    assert!(String::from_utf8_lossy(&plain.body).contains(&want));
    engine.stop().await.unwrap();
}

/// With MITM on, a CONNECT to a plain-HTTP port carries plaintext HTTP:
/// curl's `-p -x` to a loopback HTTP server is served (200, the origin's
/// body) and inspected like proxied plain HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_a_plain_http_port_with_mitm_is_served_and_inspected() {
    let home = tempfile::tempdir().unwrap();
    let settings = traffic_guardian::proxy::ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.path().join("ca"),
        ..common::test_settings()
    };
    let (engine, sink, proxy) = common::start_proxy(settings).await;
    let (up, _state) = common::spawn_http_upstream().await;
    let proxy_url = common::proxy_url(proxy);
    let r = common::curl(Some(&proxy_url), &format!("http://{up}/plain"), &["-p"]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, "hello from upstream\n".repeat(20).into_bytes());
    let r = common::curl(Some(&proxy_url), &format!("http://{up}/inject"), &["-p"]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let dest = up.to_string();
    assert!(
        sink.wait_for(|f| f.dest == dest).await.is_some(),
        "{:?}",
        sink.all()
    );
    assert_eq!(engine.status().counters.mitm_connections, 2);
    engine.stop().await.unwrap();
}
