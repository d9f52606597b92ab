//! The guardian's runtime: a forward proxy on hyper that shows what passes
//! through it to the detector core, without slowing, buffering, blocking or
//! changing the traffic.
//!
//! How the modules depend on each other (no cycles):
//!
//! - [`server`] is the connection loop: it owns every client connection
//!   (and the sessions inside intercepted CONNECTs), asks [`handler`] what
//!   to do with each request and carries the [`handler::Decision`] out,
//!   with [`websocket`] and [`tunnel`] for upgrades and relays;
//! - [`handler`] decides (access control, MITM or blind, inspection hooks)
//!   and acts on nothing itself;
//! - [`state`] holds what every connection shares (policy, routes, serving
//!   parts), [`responses`] the guardian's own answers, [`upstream`] the
//!   connector and clients, [`pivot`] the pivot guard.
//!
//! ## hudsucker
//!
//! The design card names hudsucker (MITM proxy toolkit on hyper). Its
//! ideas stay: handlers that *decide* while the proxy *acts*
//! ([`handler::Decision`]), one [`body::Body`] type over received, written
//! and wrapped bodies, and the request normalisation before forwarding
//! (`server::for_upstream`: HTTP/1.1, joined `Cookie` fields, `Host` from
//! the URI). It is no longer a dependency: the connection loop, the CA
//! and the WebSocket bridge are the guardian's own, and hudsucker would
//! compile in a second crypto provider (aws-lc-rs, through the default
//! features of its tokio-rustls and rcgen). ring is the only one.

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
pub mod handler;
pub mod host;
pub mod inspect;
pub mod limits;
pub mod pivot;
pub mod responses;
pub mod scan_pool;
pub mod server;
pub mod settings;
pub mod sniff;
pub mod state;
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
