//! The origin server of the benchmark: plain HTTP and HTTPS (leaf signed by a
//! CA made with rcgen at bench time) on 127.0.0.1, with the routes the
//! scenarios use. One process clock (`now_ns`) stamps SSE events so the
//! client can compute delivery latency.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{header, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::corpus;
use super::payload;
use super::BenchResult;

/// Size of `/small` responses.
pub const SMALL_LEN: usize = 1024;
/// Size of `/upload` request bodies.
pub const UPLOAD_LEN: usize = 64 * 1024;
/// Decoded size of `/download` and `/download-gzip`.
pub const DOWNLOAD_LEN: usize = 1024 * 1024;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the first call in this process.
pub fn now_ns() -> u64 {
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Response bodies, built once. Uploads and downloads are realistic
/// chat-completion JSON (an OpenAI request with messages and tools; an
/// Anthropic Messages response with content blocks) whose text is real
/// documentation from this machine (`corpus.rs`).
pub struct Payloads {
    pub small: Bytes,
    pub upload: Bytes,
    pub download: Bytes,
    pub download_gz: Bytes,
    sse_text: String,
}

impl Payloads {
    pub fn new() -> BenchResult<Self> {
        let prose = corpus::prose(&corpus::Sources::machine(), 2 * DOWNLOAD_LEN);
        let download = Bytes::from(corpus::chat_response_body(&prose, DOWNLOAD_LEN));
        let upload = Bytes::from(corpus::chat_request_body(&prose, UPLOAD_LEN));
        if download.len() != DOWNLOAD_LEN || upload.len() != UPLOAD_LEN {
            return Err(format!(
                "realistic payloads have {} / {} bytes, expected {DOWNLOAD_LEN} / {UPLOAD_LEN}",
                download.len(),
                upload.len()
            )
            .into());
        }
        let download_gz = payload::gzip(&download);
        Ok(Payloads {
            small: Bytes::from(payload::text(SMALL_LEN, 3)),
            upload,
            download,
            download_gz,
            sse_text: payload::text(120, 5),
        })
    }
}

type UpBody = BoxBody<Bytes, Infallible>;

fn full(b: Bytes) -> UpBody {
    Full::new(b).boxed()
}

fn query_u64(q: &str, key: &str, default: u64) -> u64 {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
}

async fn route(p: Arc<Payloads>, req: Request<Incoming>) -> Result<Response<UpBody>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let res = match path.as_str() {
        "/small" => {
            let mut r = Response::new(full(p.small.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain"),
            );
            r
        }
        "/upload" => {
            // A sink: read every frame, answer with the count.
            let mut body = req.into_body();
            let mut n = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(d) = frame.data_ref() {
                    n += d.len();
                }
            }
            let mut r = Response::new(full(Bytes::from(format!("{{\"received\":{n}}}"))));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            r
        }
        "/download" => {
            let mut r = Response::new(full(p.download.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            r
        }
        "/download-gzip" => {
            let mut r = Response::new(full(p.download_gz.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            r.headers_mut().insert(
                header::CONTENT_ENCODING,
                header::HeaderValue::from_static("gzip"),
            );
            r
        }
        "/sse" => {
            let n = query_u64(&query, "n", 20);
            let every = Duration::from_millis(query_u64(&query, "ms", 20));
            let (tx, rx) = futures::channel::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(16);
            let p = Arc::clone(&p);
            tokio::spawn(async move {
                let mut tx = tx;
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                for seq in 0..n {
                    tick.tick().await;
                    let ev = format!(
                        "event: tick\nid: {seq}\ndata: {{\"t\":{},\"msg\":\"{}\"}}\n\n",
                        now_ns(),
                        p.sse_text
                    );
                    if futures::SinkExt::send(&mut tx, Ok(Frame::data(Bytes::from(ev))))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
            let mut r = Response::new(BodyExt::boxed(StreamBody::new(rx)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/event-stream"),
            );
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-cache"),
            );
            r
        }
        _ => {
            let mut r = Response::new(full(Bytes::from_static(b"not found\n")));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    };
    Ok(res)
}

/// Starts the plain-HTTP origin on 127.0.0.1; returns its address.
pub async fn spawn_http(p: Arc<Payloads>) -> BenchResult<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let p = Arc::clone(&p);
            tokio::spawn(async move {
                let svc = service_fn(move |req| route(Arc::clone(&p), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// Starts the HTTPS origin on 127.0.0.1; returns its address.
pub async fn spawn_https(p: Arc<Payloads>, pki: &Pki) -> BenchResult<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&pki.server_config));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let p = Arc::clone(&p);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = service_fn(move |req| route(Arc::clone(&p), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// The origin's PKI (the tests' upstream PKI, `test-support/pki.rs`).
pub use super::pki::TestPki as Pki;

/// A CA made at bench time (its PEM is what the proxies get as
/// `ca_bundle`) and a CA:FALSE leaf for 127.0.0.1.
pub fn make_pki() -> BenchResult<Pki> {
    Ok(super::pki::test_pki())
}
