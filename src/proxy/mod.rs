//! The guardian's runtime: a hyper-based forward proxy (hudsucker's body,
//! handler and CA types, the guardian's own connection loop) that shows what
//! passes through it to the detector core, without slowing, buffering,
//! blocking or changing the traffic.

/// `AsyncWrite` for a stream wrapper that observes only reads: every write
/// call goes to its `inner` stream unchanged.
macro_rules! forward_async_write {
    ($wrapper:ident) => {
        impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for $wrapper<T> {
            fn poll_write(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }

            fn poll_flush(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
            }
        }
    };
}

pub mod auth;
pub mod body;
pub mod budget;
pub mod ca;
pub mod engine;
pub mod error;
pub mod guard;
pub mod handler;
pub mod host;
pub mod inspect;
pub mod limits;
pub mod scan_pool;
pub mod server;
pub mod settings;
pub mod sniff;
pub mod stats;
pub mod tunnel;
pub mod upstream;
pub mod websocket;
mod ws_frames;

pub use ca::{ca_info, ensure_ca, export_ca_cert, fingerprint_sha256, CaInfo};
pub use engine::{MitmSummary, ProxyEngine, ProxyState, ProxyStatus, StartInfo};
pub use error::ProxyError;
pub use scan_pool::{ScanPause, ScanPoolSettings};
pub use settings::{parse_upstream_proxy, ProxySettings};
pub use stats::{ScanCounters, StatsSnapshot, TunnelRecord, UnscannedBytes};

/// Tracing directive every subscriber must add after the operator's filter.
/// hudsucker's request spans record the full request URI (query strings
/// included); the guardian no longer runs hudsucker's serving code (see
/// [`server`]), but the directive stays so that no hudsucker span can put a
/// secret in the logs at `info`/`debug`/`trace`. Its error events stay visible.
pub const REQUIRED_LOG_DIRECTIVE: &str = "hudsucker=error";
