//! Blind CONNECT tunnels: bytes are relayed untouched and only metadata is
//! kept (destination, byte counts, duration) — never a finding.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use hudsucker::hyper::upgrade::OnUpgrade;
use hudsucker::hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::debug;

use super::stats::{ProxyStats, TunnelRecord};

/// Counts bytes read through it.
struct Counted<T> {
    inner: T,
    read: Arc<AtomicU64>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Relays between the upgraded client connection and `server` until either
/// side closes or `cancel` turns true (engine stop after its grace period).
pub async fn relay(
    on_upgrade: OnUpgrade,
    server: TcpStream,
    source: String,
    dest: String,
    stats: Arc<ProxyStats>,
    mut cancel: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let up = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicU64::new(0));
    match on_upgrade.await {
        Ok(upgraded) => {
            let mut client = Counted {
                inner: TokioIo::new(upgraded),
                read: Arc::clone(&up),
            };
            let mut server = Counted {
                inner: server,
                read: Arc::clone(&down),
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
        }
        Err(e) => debug!(dest = %dest, error = %e, "CONNECT upgrade failed"),
    }
    stats.record_tunnel(TunnelRecord {
        source,
        dest,
        bytes_up: up.load(Ordering::Relaxed),
        bytes_down: down.load(Ordering::Relaxed),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
}
