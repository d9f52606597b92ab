//! Blind CONNECT tunnels: bytes are relayed untouched and metadata is kept
//! (destination, byte counts, duration). TLS inside a blind tunnel is never
//! inspected. Some clients (Node's undici `ProxyAgent`) tunnel plain
//! `http://` through CONNECT too; when the client's first bytes are an HTTP
//! request line, copies of both directions are scanned as streams (bounded
//! by a sliding budget per direction, see [`super::budget`]), and the relayed
//! bytes stay untouched. When that plaintext HTTP upgrades to a WebSocket
//! (`ws://` through CONNECT, Python `websockets`' default proxy path), the
//! frames after the `101` are parsed on copies like in the MITM bridge
//! (outbound unmasked, fragments joined, `permessage-deflate` inflated when
//! negotiated) and each message is scanned.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::debug;

use super::inspect::{BodyScan, TunnelScans, WsMessages};
use super::stats::{ProxyStats, TunnelRecord};
use super::ws_frames::{negotiated_deflate, WsReader};
use crate::core::finding::Direction;

/// Bytes of a request or response head kept to find a WebSocket upgrade.
const MAX_WS_HEAD: usize = 64 * 1024;

const UNDECIDED: u8 = 0;
const PLAINTEXT_HTTP: u8 = 1;
const OTHER: u8 = 2;

/// What a relayed tunnel is known to carry when the relay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Unknown: the client's first bytes decide (a request line is
    /// scanned, anything else, TLS above all, is not).
    Undecided,
    /// Plaintext of some protocol (an intercepted tunnel that carries
    /// neither TLS nor HTTP, or whose server spoke first): both directions
    /// are scanned from the first byte.
    Plaintext,
}

/// Whether `bytes`, a client's first bytes, start an HTTP/1 request line:
/// optional blank lines, a method token (any, not only the common ones:
/// `PROPFIND`, `QUERY`, custom methods), a space, and the start of a
/// request target (`/`, `*`, `http…` for absolute form, any authority
/// after `CONNECT`): an SSH banner
/// (`SSH-2.0-OpenSSH_9.6 Ubuntu`) is not one. `None` while the bytes so far
/// could still become one.
pub(crate) fn http_request_start(bytes: &[u8]) -> Option<bool> {
    const MAX_METHOD: usize = 24;
    let line = bytes.iter().position(|&b| b != b'\r' && b != b'\n');
    let Some(line) = line.and_then(|p| bytes.get(p..)) else {
        return None; // only blank lines so far
    };
    for (i, &b) in line.iter().enumerate() {
        if b == b' ' {
            if i == 0 {
                return Some(false);
            }
            if &line[..i] == b"CONNECT" {
                return Some(true); // authority form: any host
            }
            return line
                .get(i + 1)
                .map(|t| matches!(t, b'/' | b'*' | b'h' | b'H'));
        }
        let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if !tchar || i >= MAX_METHOD {
            return Some(false);
        }
    }
    None
}

/// [`http_request_start`] deciding now: bytes that could still become a
/// request line count as one (they are only scanned, never altered).
pub(crate) fn starts_http_request(bytes: &[u8]) -> bool {
    http_request_start(bytes) != Some(false)
}

/// Where a plaintext tunnel is in finding a WebSocket upgrade: the
/// client's first request head, the server's first response head, then
/// frames. Any other exchange leaves the tunnel scanned as a byte stream.
enum WsPhase {
    /// Reading the client's first request head.
    RequestHead(Vec<u8>),
    /// The client asked for `Upgrade: websocket`; reading the server's
    /// response head. Client bytes sent meanwhile wait for the reader.
    ResponseHead {
        head: Vec<u8>,
        pending: Vec<u8>,
    },
    /// After `101`: both directions are WebSocket frames.
    Frames(Box<(WsReader, WsReader)>),
    Off,
}

/// The WebSocket watch of one tunnel, shared by its two directions.
struct WsWatch {
    phase: WsPhase,
    messages: WsMessages,
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Header values named `name` (ASCII, case-insensitive) in a raw head.
fn header_values<'a>(head: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    head.split(|&b| b == b'\n').skip(1).filter_map(move |line| {
        let line = std::str::from_utf8(line).ok()?;
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

impl WsWatch {
    /// Observes `bytes` from one side; returns how many of them (a prefix)
    /// are still HTTP, for the byte-stream scan. Messages completed by the
    /// bytes are scanned.
    fn observe(&mut self, client_side: bool, bytes: &[u8]) -> usize {
        let len = bytes.len();
        match (&mut self.phase, client_side) {
            (WsPhase::Off, _) => len,
            (WsPhase::RequestHead(head), true) => {
                let before = head.len();
                head.extend_from_slice(bytes);
                let Some(end) = head_end(head) else {
                    if head.len() > MAX_WS_HEAD {
                        self.phase = WsPhase::Off;
                    }
                    return len;
                };
                let upgrade = header_values(&head[..end], "upgrade")
                    .any(|v| v.eq_ignore_ascii_case("websocket"));
                self.phase = if upgrade {
                    WsPhase::ResponseHead {
                        head: Vec::new(),
                        pending: head.get(end..).unwrap_or_default().to_vec(),
                    }
                } else {
                    WsPhase::Off
                };
                if upgrade {
                    end.saturating_sub(before).min(len)
                } else {
                    len
                }
            }
            // Server bytes before the client's first request: not a WebSocket answer.
            (WsPhase::RequestHead(_), false) => len,
            (WsPhase::ResponseHead { pending, .. }, true) => {
                // A client may not send frames before `101`; kept for the reader if it does.
                pending.extend_from_slice(bytes);
                if pending.len() > MAX_WS_HEAD {
                    self.phase = WsPhase::Off;
                }
                0
            }
            (WsPhase::ResponseHead { head, pending }, false) => {
                let before = head.len();
                head.extend_from_slice(bytes);
                let Some(end) = head_end(head) else {
                    if head.len() > MAX_WS_HEAD {
                        self.phase = WsPhase::Off;
                    }
                    return len;
                };
                let switched =
                    head.starts_with(b"HTTP/1.1 101") || head.starts_with(b"HTTP/1.0 101");
                if !switched {
                    self.phase = WsPhase::Off;
                    return len;
                }
                let deflate =
                    header_values(&head[..end], "sec-websocket-extensions").any(negotiated_deflate);
                let max = self.messages.max();
                let mut out = WsReader::new(max, deflate);
                let mut inb = WsReader::new(max, deflate);
                let rest = head.get(end..).unwrap_or_default().to_vec();
                let early = std::mem::take(pending);
                for m in out.feed(&early) {
                    self.messages.message(Direction::Outbound, m);
                }
                for m in inb.feed(&rest) {
                    self.messages.message(Direction::Inbound, m);
                }
                self.phase = WsPhase::Frames(Box::new((out, inb)));
                end.saturating_sub(before).min(len)
            }
            (WsPhase::Frames(readers), side) => {
                let (out, inb) = &mut **readers;
                let (reader, direction) = if side {
                    (out, Direction::Outbound)
                } else {
                    (inb, Direction::Inbound)
                };
                if reader.stopped().is_none() {
                    for m in reader.feed(bytes) {
                        self.messages.message(direction, m);
                    }
                }
                0
            }
        }
    }
}

/// Passive inspection of one direction of a tunnel. The client's first
/// bytes decide, for both directions, whether the tunnel carries plaintext
/// HTTP (scanned) or anything else (TLS, other protocols: not scanned).
struct TunnelScan {
    protocol: Arc<AtomicU8>,
    client_side: bool,
    scan: Option<BodyScan>,
    /// Set for tunnels whose protocol the client's first bytes decide.
    ws: Option<Arc<Mutex<WsWatch>>>,
}

impl TunnelScan {
    fn observe(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || self.scan.is_none() {
            return;
        }
        let mut state = self.protocol.load(Ordering::Relaxed);
        if state == UNDECIDED && self.client_side {
            state = if starts_http_request(bytes) {
                PLAINTEXT_HTTP
            } else {
                OTHER
            };
            self.protocol.store(state, Ordering::Relaxed);
        }
        match state {
            PLAINTEXT_HTTP => {
                let http = match &self.ws {
                    Some(ws) => ws
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .observe(self.client_side, bytes),
                    None => bytes.len(),
                };
                if let Some(scan) = self.scan.as_mut() {
                    scan.push(bytes.get(..http).unwrap_or(bytes));
                }
            }
            // Server bytes before the client spoke are not scanned.
            UNDECIDED => {}
            _ => self.scan = None,
        }
    }
}

/// Counts bytes read through it, and shows them to its scan, if any.
struct Counted<T> {
    inner: T,
    read: Arc<AtomicU64>,
    scan: Option<TunnelScan>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        let fresh = buf.filled().get(before..).unwrap_or_default();
        this.read.fetch_add(fresh.len() as u64, Ordering::Relaxed);
        if let Some(scan) = this.scan.as_mut() {
            scan.observe(fresh);
        }
        res
    }
}

forward_async_write!(Counted);

/// Relays between the upgraded client connection and `server` until either
/// side closes or `cancel` turns true (engine stop after its grace period).
/// `scans` (outbound, inbound) inspect the tunnel if it turns out to carry
/// plaintext HTTP.
pub async fn relay(
    on_upgrade: OnUpgrade,
    server: TcpStream,
    source: String,
    dest: String,
    stats: Arc<ProxyStats>,
    cancel: watch::Receiver<bool>,
    scans: Option<TunnelScans>,
) {
    let started = Instant::now();
    match on_upgrade.await {
        Ok(upgraded) => {
            relay_io(
                TokioIo::new(upgraded),
                server,
                source,
                dest,
                stats,
                cancel,
                scans,
                Protocol::Undecided,
                started,
            )
            .await
        }
        Err(e) => {
            debug!(dest = %dest, error = %e, "CONNECT upgrade failed");
            stats.record_tunnel(TunnelRecord {
                source,
                dest,
                bytes_up: 0,
                bytes_down: 0,
                duration_ms: elapsed_ms(started),
            });
        }
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Relays between an already upgraded client stream and `server`; see [`relay`].
#[allow(clippy::too_many_arguments)]
pub async fn relay_io<C: AsyncRead + AsyncWrite + Unpin>(
    client: C,
    server: TcpStream,
    source: String,
    dest: String,
    stats: Arc<ProxyStats>,
    mut cancel: watch::Receiver<bool>,
    scans: Option<TunnelScans>,
    known: Protocol,
    started: Instant,
) {
    let protocol = Arc::new(AtomicU8::new(match known {
        Protocol::Undecided => UNDECIDED,
        Protocol::Plaintext => PLAINTEXT_HTTP,
    }));
    let (out_scan, in_scan, ws) = match scans {
        Some(s) => {
            // A WebSocket is looked for only where the client's first
            // bytes decide (they must be its upgrade request).
            let ws = (known == Protocol::Undecided).then(|| {
                Arc::new(Mutex::new(WsWatch {
                    phase: WsPhase::RequestHead(Vec::new()),
                    messages: s.websocket,
                }))
            });
            (Some(s.outbound), Some(s.inbound), ws)
        }
        None => (None, None, None),
    };
    let up = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicU64::new(0));
    let mut client = Counted {
        inner: client,
        read: Arc::clone(&up),
        scan: out_scan.map(|scan| TunnelScan {
            protocol: Arc::clone(&protocol),
            client_side: true,
            scan: Some(scan),
            ws: ws.clone(),
        }),
    };
    let mut server = Counted {
        inner: server,
        read: Arc::clone(&down),
        scan: in_scan.map(|scan| TunnelScan {
            protocol: Arc::clone(&protocol),
            client_side: false,
            scan: Some(scan),
            ws,
        }),
    };
    tokio::select! {
        res = tokio::io::copy_bidirectional(&mut client, &mut server) => {
            if let Err(e) = res {
                debug!(dest = %dest, error = %e, "tunnel ended with an error");
            }
        }
        _ = cancel.wait_for(|stop| *stop) => {
            debug!(dest = %dest, "tunnel closed by proxy stop");
        }
    }
    stats.record_tunnel(TunnelRecord {
        source,
        dest,
        bytes_up: up.load(Ordering::Relaxed),
        bytes_down: down.load(Ordering::Relaxed),
        duration_ms: elapsed_ms(started),
    });
}

/// A stream whose first reads return bytes already taken from it (the
/// peeked start of a CONNECT tunnel), then read through to the stream.
pub struct Prefixed<T> {
    prefix: Vec<u8>,
    pos: usize,
    inner: T,
}

impl<T> Prefixed<T> {
    pub fn new(prefix: Vec<u8>, inner: T) -> Self {
        Prefixed {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Prefixed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(rest.get(..n).unwrap_or_default());
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

forward_async_write!(Prefixed);

#[cfg(test)]
mod tests {
    use super::http_request_start;

    #[test]
    fn request_lines_are_told_from_tls_and_other_protocols() {
        for yes in [
            &b"GET / HTTP/1.1"[..],
            b"PROPFIND /",
            b"X-CUSTOM /",
            b"\r\n\r\nPOST /x",
            b"OPTIONS *",
            b"GET http://a/",
        ] {
            assert_eq!(http_request_start(yes), Some(true), "{yes:?}");
        }
        for no in [
            &b"\x16\x03\x01"[..],
            b" GET /",
            b"HELO\r\n",
            b"SSH-2.0-OpenSSH_9.6 Ubuntu",
            b"\x00\x01",
        ] {
            assert_eq!(http_request_start(no), Some(false), "{no:?}");
        }
        // Still undecided: a method being typed, blank lines only, nothing.
        for open in [&b"PO"[..], b"\r\n", b"", b"HE", b"GET ", b"SSH-2.0-OpenSSH"] {
            assert_eq!(http_request_start(open), None, "{open:?}");
        }
        assert_eq!(
            http_request_start(&[b'A'; 40]),
            Some(false),
            "method too long"
        );
    }
}
