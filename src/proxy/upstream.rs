//! Outgoing connections: the rustls client config (webpki roots plus an
//! optional operator bundle), the hyper connector used for plain and MITM'd
//! requests (direct, or through an upstream proxy with its own credentials),
//! and the `CONNECT` handshake shared with blind tunnels.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use super::body::Body;
use super::error::ProxyError;
use super::pivot::{normalize_host, PivotGuard};
use crate::core::config::UpstreamProxy;

/// Idle pooled upstream connections are closed after this long.
const UPSTREAM_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Largest response head accepted from an upstream proxy's CONNECT answer.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

/// Builds the client TLS config used towards origin servers.
pub fn build_client_tls(
    provider: Arc<CryptoProvider>,
    extra_bundle: Option<&Path>,
) -> Result<Arc<ClientConfig>, ProxyError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_bundle {
        let bundle_err = |reason: String| ProxyError::CaBundle {
            path: path.to_path_buf(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| bundle_err(e.to_string()))?;
        let mut added = 0usize;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| bundle_err(format!("bad PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| bundle_err(format!("unusable certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(bundle_err("no certificate in the bundle".into()));
        }
    }
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProxyError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // HTTP/2 and HTTP/1.1 are both offered: the origin chooses, whatever
    // the client spoke (hyper translates between them).
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The upstream client settings: header names as the client sent them, and
/// idle upstream connections expire instead of lingering for the life of
/// the process.
fn client_builder() -> hyper_util::client::legacy::Builder {
    let mut client = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
    client
        .http1_title_case_headers(false)
        .http1_preserve_header_case(true)
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(UPSTREAM_IDLE_TIMEOUT);
    client
}

/// The client every forwarded request uses (HTTP/1.1 or h2 by ALPN).
pub(crate) fn build_client(connector: UpstreamConnector) -> Client<UpstreamConnector, Body> {
    client_builder().build(connector)
}

/// The client for h2c with prior knowledge inside an intercepted CONNECT.
pub(crate) fn build_h2c_client(connector: UpstreamConnector) -> Client<UpstreamConnector, Body> {
    client_builder().http2_only(true).build(connector.h2c())
}

/// Resolves `host:port`, applies the pivot guard to the addresses, and connects.
pub async fn connect_direct(
    host: &str,
    port: u16,
    guard: &PivotGuard,
) -> Result<TcpStream, Box<dyn StdError + Send + Sync>> {
    let bare = normalize_host(host);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|source| ResolveFailed {
            host: bare.clone(),
            source,
        })?
        .collect();
    let addrs = guard.check_resolved(&bare, addrs)?;
    let mut last: Option<io::Error> = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(Box::new(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, "no address for host")
    })))
}

/// A destination's name did not resolve (the 502 says so).
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve host `{host}`: {source}")]
pub struct ResolveFailed {
    pub host: String,
    #[source]
    pub source: io::Error,
}

/// An upstream proxy answered `CONNECT` with something other than 2xx.
#[derive(Debug, thiserror::Error)]
#[error("upstream proxy answered CONNECT with status {status}")]
pub struct UpstreamRefused {
    pub status: u16,
}

/// Sends `CONNECT target` on `stream` (to an upstream proxy) and reads its answer.
/// Reads byte by byte so no byte after the answer's head is consumed.
pub async fn http_connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    target: &str,
    authorization: Option<&str>,
) -> Result<(), Box<dyn StdError + Send + Sync>> {
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = authorization {
        req.push_str("Proxy-Authorization: ");
        req.push_str(auth);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    stream.flush().await?;
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_RESPONSE {
            return Err("upstream proxy CONNECT answer too large".into());
        }
        let b = stream.read_u8().await?;
        head.push(b);
    }
    let line_end = head.iter().position(|b| *b == b'\r').unwrap_or(head.len());
    let status_line = String::from_utf8_lossy(head.get(..line_end).unwrap_or_default());
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("upstream proxy sent a malformed CONNECT answer")?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(Box::new(UpstreamRefused { status }))
    }
}

/// `host:port` with brackets around IPv6 hosts.
pub fn authority_string(host: &str, port: u16) -> String {
    let bare = normalize_host(host);
    if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    }
}

/// Opens a TCP stream to `host:port`, directly or as a tunnel through the upstream proxy.
pub async fn open_tunnel(
    host: &str,
    port: u16,
    upstream: Option<&UpstreamProxy>,
    guard: &PivotGuard,
) -> Result<TcpStream, Box<dyn StdError + Send + Sync>> {
    match upstream {
        None => connect_direct(host, port, guard).await,
        Some(up) => {
            let mut tcp = TcpStream::connect(up.authority()).await?;
            let _ = tcp.set_nodelay(true);
            http_connect(
                &mut tcp,
                &authority_string(host, port),
                up.basic_authorization().as_deref(),
            )
            .await?;
            Ok(tcp)
        }
    }
}

/// A connection made by [`UpstreamConnector`].
pub enum Conn {
    /// Plain TCP; `proxied` when it goes to the upstream proxy (absolute-form requests).
    Plain { tcp: TcpStream, proxied: bool },
    /// TLS to the origin (possibly through an upstream CONNECT tunnel).
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        match self {
            Conn::Plain { proxied, .. } => Connected::new().proxy(*proxied),
            Conn::Tls(tls) => {
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
                if h2 {
                    Connected::new().negotiated_h2()
                } else {
                    Connected::new()
                }
            }
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain { tcp, .. } => Pin::new(tcp).poll_read(cx, buf),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain { tcp, .. } => Pin::new(tcp).poll_write(cx, buf),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain { tcp, .. } => Pin::new(tcp).poll_flush(cx),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain { tcp, .. } => Pin::new(tcp).poll_shutdown(cx),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The connector of the upstream client: every forwarded request, and
/// WebSockets, connect through it (pivot guard, upstream proxy, TLS).
#[derive(Clone)]
pub struct UpstreamConnector {
    tls: TlsConnector,
    /// The same TLS configuration offering only `http/1.1` (WebSocket
    /// bridges speak HTTP/1.1 upgrades).
    tls_http1: TlsConnector,
    upstream: Option<Arc<UpstreamProxy>>,
    guard: Arc<PivotGuard>,
    /// Plain `http` connections carry HTTP/2 with prior knowledge (h2c):
    /// never absolute-form to an upstream proxy, always a tunnel through it.
    h2c: bool,
}

impl UpstreamConnector {
    pub fn new(
        tls: Arc<ClientConfig>,
        upstream: Option<Arc<UpstreamProxy>>,
        guard: Arc<PivotGuard>,
    ) -> Self {
        let mut http1 = (*tls).clone();
        http1.alpn_protocols = vec![b"http/1.1".to_vec()];
        UpstreamConnector {
            tls: TlsConnector::from(tls),
            tls_http1: TlsConnector::from(Arc::new(http1)),
            upstream,
            guard,
            h2c: false,
        }
    }

    /// This connector offering only HTTP/1.1 to TLS origins.
    pub fn http1_only(mut self) -> Self {
        self.tls = self.tls_http1.clone();
        self
    }

    /// This connector for HTTP/2 with prior knowledge over plain TCP (h2c).
    pub fn h2c(mut self) -> Self {
        self.h2c = true;
        self
    }

    /// Opens a connection for a request to `dst` (`http`/`https` URI).
    pub async fn connect_uri(
        self,
        dst: Uri,
    ) -> Result<TokioIo<Conn>, Box<dyn StdError + Send + Sync>> {
        let host = dst.host().ok_or("request URI has no host")?.to_string();
        let tls = matches!(dst.scheme_str(), Some("https") | Some("wss"));
        let port = dst.port_u16().unwrap_or(if tls { 443 } else { 80 });
        // Re-check here too: requests inside a MITM session name their own host.
        self.guard.check_host(&host, port)?;
        if !tls {
            let conn = match &self.upstream {
                Some(_) if self.h2c => Conn::Plain {
                    tcp: open_tunnel(&host, port, self.upstream.as_deref(), &self.guard).await?,
                    proxied: false,
                },
                Some(up) => {
                    let tcp = TcpStream::connect(up.authority()).await?;
                    let _ = tcp.set_nodelay(true);
                    Conn::Plain { tcp, proxied: true }
                }
                None => Conn::Plain {
                    tcp: connect_direct(&host, port, &self.guard).await?,
                    proxied: false,
                },
            };
            return Ok(TokioIo::new(conn));
        }
        let tcp = open_tunnel(&host, port, self.upstream.as_deref(), &self.guard).await?;
        let name = ServerName::try_from(normalize_host(&host))?;
        let stream = self.tls.connect(name, tcp).await?;
        Ok(TokioIo::new(Conn::Tls(Box::new(stream))))
    }
}

impl tower_service::Service<Uri> for UpstreamConnector {
    type Response = TokioIo<Conn>;
    type Error = Box<dyn StdError + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        Box::pin(self.clone().connect_uri(dst))
    }
}
