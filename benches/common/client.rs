//! The load generator's connections: direct to the origin, or through a
//! proxy (absolute-form requests for plain HTTP; CONNECT, then TLS to the
//! proxy's MITM leaf, for HTTPS). Each connection is one hyper HTTP/1.1
//! client connection with keep-alive and TCP_NODELAY.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{header, Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use super::BenchResult;

/// Where the traffic goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Direct,
    Bare,
    Guardian,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Direct, Variant::Bare, Variant::Guardian];

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Direct => "direct",
            Variant::Bare => "bare",
            Variant::Guardian => "guardian",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

pub type Sender = SendRequest<Full<Bytes>>;

/// One way of reaching the origin.
#[derive(Clone)]
pub struct Target {
    pub scheme: Scheme,
    /// The proxy, or `None` for direct.
    pub proxy: Option<SocketAddr>,
    /// The origin (HTTP or HTTPS one, matching `scheme`).
    pub origin: SocketAddr,
    /// TLS client trusting the origin's CA (direct) or the proxy's CA (MITM).
    pub tls: Option<TlsConnector>,
}

/// A TLS connector trusting only the CA certificates in `pem`.
pub fn tls_trusting(pem_path: &Path) -> BenchResult<TlsConnector> {
    let pem = std::fs::read(pem_path)?;
    let mut roots = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert: CertificateDer<'static> = cert?;
        roots.add(cert)?;
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(cfg)))
}

async fn handshake<T>(io: T) -> BenchResult<Sender>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (send, conn) = http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

/// Sends CONNECT for `origin` and reads the proxy's answer head.
async fn connect_tunnel(tcp: &mut TcpStream, origin: SocketAddr) -> BenchResult<()> {
    tcp.write_all(format!("CONNECT {origin} HTTP/1.1\r\nHost: {origin}\r\n\r\n").as_bytes())
        .await?;
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    // Byte by byte: nothing after the head may be consumed (it belongs to TLS).
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await? == 0 {
            return Err("proxy closed the connection during CONNECT".into());
        }
        head.extend_from_slice(&byte);
        if head.len() > 8192 {
            return Err("CONNECT answer head too long".into());
        }
    }
    if !head.starts_with(b"HTTP/1.1 200") && !head.starts_with(b"HTTP/1.0 200") {
        let line = String::from_utf8_lossy(&head);
        return Err(format!(
            "CONNECT refused: {}",
            line.lines().next().unwrap_or_default()
        )
        .into());
    }
    Ok(())
}

impl Target {
    /// Opens one keep-alive connection, ready for requests.
    pub async fn connect(&self) -> BenchResult<Sender> {
        let mut tcp = TcpStream::connect(self.proxy.unwrap_or(self.origin)).await?;
        tcp.set_nodelay(true)?;
        match (self.scheme, &self.tls) {
            (Scheme::Http, _) => handshake(tcp).await,
            (Scheme::Https, Some(tls)) => {
                if self.proxy.is_some() {
                    connect_tunnel(&mut tcp, self.origin).await?;
                }
                let name = ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
                let stream = tls.connect(name, tcp).await?;
                handshake(stream).await
            }
            (Scheme::Https, None) => Err("HTTPS target without a TLS connector".into()),
        }
    }

    /// A request for `path`: absolute-form through a plain-HTTP proxy,
    /// origin-form otherwise (direct, or inside a CONNECT tunnel).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> BenchResult<Request<Full<Bytes>>> {
        let uri = match (self.scheme, self.proxy) {
            (Scheme::Http, Some(_)) => format!("http://{}{path}", self.origin),
            _ => path.to_string(),
        };
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, self.origin.to_string())
            .header(header::USER_AGENT, "traffic-guardian-bench/1");
        if !body.is_empty() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        Ok(b.body(Full::new(body))?)
    }
}

/// Sends `req` on `conn` and reads the whole body; returns (status, body bytes).
pub async fn exchange(conn: &mut Sender, req: Request<Full<Bytes>>) -> BenchResult<(u16, usize)> {
    conn.ready().await?;
    let res: Response<Incoming> = conn.send_request(req).await?;
    let status = res.status().as_u16();
    let mut body = res.into_body();
    let mut n = 0usize;
    while let Some(frame) = body.frame().await {
        if let Some(d) = frame?.data_ref() {
            n += d.len();
        }
    }
    Ok((status, n))
}
