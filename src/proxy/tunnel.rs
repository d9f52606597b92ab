//! Blind CONNECT tunnels: bytes are relayed untouched and metadata is kept
//! (destination, byte counts, duration). TLS inside a blind tunnel is never
//! inspected. Some clients (Node's undici `ProxyAgent`) tunnel plain
//! `http://` through CONNECT too; when the client's first bytes are an HTTP
//! request line, copies of both directions are scanned as streams (bounded
//! by `max_scan_bytes` per direction), and the relayed bytes stay untouched.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use hudsucker::hyper::upgrade::OnUpgrade;
use hudsucker::hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::debug;

use super::inspect::BodyScan;
use super::stats::{ProxyStats, TunnelRecord};

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

/// Passive inspection of one direction of a tunnel. The client's first
/// bytes decide, for both directions, whether the tunnel carries plaintext
/// HTTP (scanned) or anything else (TLS, other protocols: not scanned).
struct TunnelScan {
    protocol: Arc<AtomicU8>,
    client_side: bool,
    scan: Option<BodyScan>,
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
                if let Some(scan) = self.scan.as_mut() {
                    scan.feed(bytes);
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
    scans: Option<(BodyScan, BodyScan)>,
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
    scans: Option<(BodyScan, BodyScan)>,
    known: Protocol,
    started: Instant,
) {
    let protocol = Arc::new(AtomicU8::new(match known {
        Protocol::Undecided => UNDECIDED,
        Protocol::Plaintext => PLAINTEXT_HTTP,
    }));
    let (out_scan, in_scan) = match scans {
        Some((o, i)) => (Some(o), Some(i)),
        None => (None, None),
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
        }),
    };
    let mut server = Counted {
        inner: server,
        read: Arc::clone(&down),
        scan: in_scan.map(|scan| TunnelScan {
            protocol: Arc::clone(&protocol),
            client_side: false,
            scan: Some(scan),
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
