//! The guardian's connection loop on hyper. It owns every client connection
//! (outer ones and the sessions inside intercepted CONNECTs), so that it can
//! count what hyper rejects before any handler runs (malformed or oversized
//! heads, broken body framing, TLS garbage, head timeouts) and bound the two
//! waits a stalled peer could otherwise make endless: a client's request
//! body going silent, and an upstream never sending its response head.
//! Nothing here changes forwarded bytes; a timeout only ends a stalled exchange.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::http::uri::{Authority, Scheme};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio_rustls::LazyConfigAcceptor;
use tracing::debug;

use super::body::{
    is_protocol_violation, Body, BodyState, BodyWatch, ConnFaults, Exchange, ExchangeBody,
    IdleTimeoutBody, NotedIo,
};
use super::error::error_in_chain;
use super::handler::{ConnectTarget, Decision, MitmTarget, ReceivedTarget, RequestHandler};
use super::limits::{CapHit, ConnPermit};
use super::pivot::{is_pivot_refusal, normalize_host};
use super::responses::{
    self, bad_gateway, closing_response, pivot_refused, text_response, upstream_timeout,
};
use super::state::Shared;
use super::stats::ProxyStats;
use super::tunnel::{self, Prefixed};
use super::upstream::open_tunnel;
use super::websocket;

/// How many bytes of a CONNECT tunnel are looked at, at most, to tell TLS
/// from a request line (a method of up to 24 characters and a space).
const PEEK_BYTES: usize = 32;

/// How long an intercepted tunnel waits for the client's first bytes
/// before it also connects upstream to see whether the server speaks first.
const SERVER_FIRST_GRACE: Duration = Duration::from_millis(250);

/// How often the host's interface addresses are re-read for the pivot guard
/// (containers come and go, and with them bridge and veth addresses).
const HOST_ADDRS_REFRESH: Duration = Duration::from_secs(10);

/// Accepts until `shutdown` fires, then lets every connection finish
/// gracefully. Dropping this future (abort after the grace period) drops
/// every outer connection with it.
pub async fn run(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: oneshot::Receiver<()>,
    closing: watch::Sender<bool>,
) {
    let mut conns = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    let mut refresh = tokio::time::interval(HOST_ADDRS_REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            res = listener.accept() => match res {
                Ok((tcp, peer)) => match shared.server.limiter.admit(peer.ip()) {
                    Ok(permit) => {
                        conns.spawn(serve_client(Arc::clone(&shared), tcp, peer, permit));
                    }
                    Err(hit) => {
                        // Closed at once, never queued: the cap bounds descriptors.
                        ProxyStats::inc(match hit {
                            CapHit::Total => &shared.stats.rejected_total_cap,
                            CapHit::Client => &shared.stats.rejected_client_cap,
                        });
                        debug!(peer = %peer.ip(), cap = ?hit, "connection over the cap closed");
                        drop(tcp);
                    }
                },
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = refresh.tick() => shared.guard.refresh_host_addrs(),
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = closing.send(true);
    while conns.join_next().await.is_some() {}
}

async fn serve_client(shared: Arc<Shared>, tcp: TcpStream, peer: SocketAddr, permit: ConnPermit) {
    let faults = Arc::new(ConnFaults::default());
    let service = ConnectionService {
        handler: RequestHandler::new(Arc::clone(&shared)),
        peer,
        faults: Arc::clone(&faults),
        inner: None,
    };
    let io = TokioIo::new(NotedIo::with_permit(tcp, Arc::clone(&faults), permit));
    let first_byte = shared.server.first_byte_timeout;
    serve_io(&shared, io, service, &faults, first_byte).await;
}

/// Serves HTTP on `io` until it closes, counting what hyper rejected.
/// Closes it when the client sends nothing within `first_byte`, or stays
/// idle between exchanges for the keep-alive idle timeout.
async fn serve_io<I>(
    shared: &Shared,
    io: I,
    service: ConnectionService,
    faults: &ConnFaults,
    first_byte: Duration,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut closing = shared.server.closing.clone();
    let conn = shared
        .server
        .http
        .serve_connection_with_upgrades(io, service);
    let mut conn = pin!(conn);
    let idle = shared.server.keep_alive_idle_timeout;
    let res = tokio::select! {
        res = conn.as_mut() => res,
        _ = async { closing.wait_for(|c| *c).await.is_ok() } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
        end = idle_watch(faults, first_byte, idle) => {
            // Nothing in flight: dropping the connection closes the socket.
            match end {
                IdleEnd::Silent => {
                    ProxyStats::inc(&shared.stats.silent_connections_closed);
                    debug!("client sent nothing in time; connection closed");
                }
                IdleEnd::Idle => {
                    ProxyStats::inc(&shared.stats.idle_connections_closed);
                    debug!("idle keep-alive connection closed");
                }
            }
            return;
        }
    };
    if let Err(e) = res {
        count_connection_error(&shared.stats, faults, e.as_ref());
    }
}

/// Why [`idle_watch`] ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdleEnd {
    /// Not one byte within the first-byte timeout.
    Silent,
    /// Idle between exchanges for the keep-alive idle timeout.
    Idle,
}

/// Resolves once the connection has been silent too long: no byte since it
/// was accepted (`first_byte`), or no byte and no exchange in flight since
/// the last activity (`idle`). While an exchange is in flight (a request
/// body or a response, SSE included, still streaming) or a request head is
/// arriving (hyper's head timeout covers that), it never fires.
async fn idle_watch(faults: &ConnFaults, first_byte: Duration, idle: Duration) -> IdleEnd {
    loop {
        if faults.in_flight() > 0 || faults.has_unconsumed() {
            tokio::time::sleep(idle).await;
            continue;
        }
        let (deadline, end) = match faults.last_activity() {
            None => (faults.born() + first_byte, IdleEnd::Silent),
            Some(at) => (at + idle, IdleEnd::Idle),
        };
        if tokio::time::Instant::now() >= deadline {
            return end;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// Counts a client connection's failure: protocol violations, and head
/// timeouts while a head was trickling in (slowloris). An idle keep-alive
/// or silent connection closed by the same timeout, resets and early closes
/// are not faults.
fn count_connection_error(
    stats: &ProxyStats,
    faults: &ConnFaults,
    err: &(dyn StdError + Send + Sync + 'static),
) {
    let err: &(dyn StdError + 'static) = err;
    if is_protocol_violation(err) {
        faults.count(&stats.client_protocol_errors);
    } else if is_timeout(err) {
        if faults.has_unconsumed() {
            faults.count(&stats.client_timeouts);
        } else {
            debug!("idle client connection closed");
        }
    } else {
        debug!(error = %err, "client connection ended with an error");
    }
}

fn is_timeout(err: &(dyn StdError + 'static)) -> bool {
    error_in_chain::<hyper::Error>(err).is_some_and(hyper::Error::is_timeout)
}

/// The per-connection hyper service: one handler per request, inheriting the
/// CONNECT's identity inside intercepted tunnels.
#[derive(Clone)]
struct ConnectionService {
    handler: RequestHandler,
    peer: SocketAddr,
    faults: Arc<ConnFaults>,
    /// Scheme and authority of the intercepted CONNECT this session runs in.
    inner: Option<(Scheme, Authority)>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let this = self.clone();
        let exchange = Exchange::start(Arc::clone(&self.faults));
        Box::pin(async move {
            let res = this.dispatch(req).await;
            Ok(res.map(|body| ExchangeBody::wrap(body, exchange)))
        })
    }
}

impl ConnectionService {
    /// One exchange: the handler decides, then this carries the decision
    /// out (the upstream request is bounded by the body idle and response
    /// head timeouts).
    async fn dispatch(mut self, req: Request<Incoming>) -> Response<Body> {
        let shared = Arc::clone(self.handler.shared());
        let req = match &self.inner {
            Some((scheme, authority)) => match with_origin(req, scheme, authority) {
                Some(req) => req,
                None => {
                    return text_response(
                        StatusCode::BAD_REQUEST,
                        "invalid request target\n".into(),
                    )
                }
            },
            _ => req,
        };
        // The head is parsed: bytes after this are body or a next head.
        self.faults.note_consumed();
        let watch = Arc::new(BodyWatch::default());
        let req = req.map(|body| {
            IdleTimeoutBody::wrap(
                Body::from(body),
                shared.server.request_body_idle_timeout,
                Arc::clone(&watch),
                Arc::clone(&shared.stats),
                Arc::clone(&self.faults),
            )
        });
        match self.handler.request(self.peer, req) {
            Decision::Answer(res) => res,
            Decision::Forward { req, client } => {
                // h2c inside a tunnel goes on as h2c; everything else as
                // the origin chooses by ALPN (HTTP/1.1 for plain `http`),
                // through the client of the runtime's upstream route.
                let client = if self.inner.is_some()
                    && req.version() == Version::HTTP_2
                    && req.uri().scheme() == Some(&Scheme::HTTP)
                {
                    shared.server.client_h2c.clone()
                } else {
                    client
                };
                self.forward(&shared, client, req, &watch).await
            }
            Decision::Intercept {
                req,
                handler,
                target,
            } => intercept(&shared, req, *handler, target),
            Decision::Tunnel { req, target } => blind_tunnel(&shared, req, target).await,
            Decision::WebSocket { req, target } => websocket::bridge(shared, req, target).await,
        }
    }

    /// Sends `req` upstream and hands the response to the handler.
    async fn forward(
        &mut self,
        shared: &Arc<Shared>,
        client: hyper_util::client::legacy::Client<super::upstream::UpstreamConnector, Body>,
        req: Request<Body>,
        watch: &BodyWatch,
    ) -> Response<Body> {
        let sent = client.request(for_upstream(req, self.inner.is_some()));
        let mut sent = pin!(sent);
        let head_timeout = shared.server.upstream_response_head_timeout;
        // The upstream's clock runs while the guardian waits on it: before
        // the body is first pulled (connecting, upstream proxy CONNECT) and
        // after the body is complete. While the body streams, the client's
        // idle timeout applies instead.
        let mut connect_clock = pin!(tokio::time::sleep(head_timeout));
        let mut connect_clock_on = true;
        let first = loop {
            tokio::select! {
                biased;
                res = sent.as_mut() => break Some(res),
                _ = watch.settled() => break None,
                _ = connect_clock.as_mut(), if connect_clock_on => {
                    if !watch.pulled() {
                        return upstream_timeout(&shared.stats, head_timeout);
                    }
                    connect_clock_on = false;
                }
            }
        };
        let result = match first {
            Some(res) => res,
            None => match tokio::time::timeout(head_timeout, sent).await {
                Ok(res) => res,
                Err(_) => return upstream_timeout(&shared.stats, head_timeout),
            },
        };
        match result {
            Ok(res) => self.handler.response(res.map(Body::from)),
            Err(err) => match watch.state() {
                BodyState::IdleTimeout => closing_response(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "clawsec traffic guardian: no request body byte for {} s; exchange ended\n",
                        shared.server.request_body_idle_timeout.as_secs()
                    ),
                ),
                BodyState::ProtocolError | BodyState::Aborted => closing_response(
                    StatusCode::BAD_REQUEST,
                    "clawsec traffic guardian: the request body was cut or malformed\n".into(),
                ),
                _ => self.handler.error(err),
            },
        }
    }
}

/// Takes the upgrade of a CONNECT the client is to get `200` for.
fn take_upgrade(req: &mut Request<Body>) -> Option<OnUpgrade> {
    req.extensions_mut().remove::<OnUpgrade>()
}

/// Carries out [`Decision::Intercept`]: `200` now, the MITM session once
/// the client's side is upgraded.
fn intercept(
    shared: &Shared,
    mut req: Request<Body>,
    handler: RequestHandler,
    target: MitmTarget,
) -> Response<Body> {
    let Some(on_upgrade) = take_upgrade(&mut req) else {
        return responses::bad_request("CONNECT cannot be upgraded\n");
    };
    ProxyStats::inc(&shared.stats.mitm_connections);
    debug!(dest = %target.connect.dest, "CONNECT: intercepting (MITM)");
    tokio::spawn(mitm_session(handler, on_upgrade, target));
    Response::new(Body::empty())
}

/// Carries out [`Decision::Tunnel`]: connects first, so that a failure is
/// answered with a status, not a dead tunnel; then `200` and the relay.
async fn blind_tunnel(
    shared: &Arc<Shared>,
    mut req: Request<Body>,
    target: ConnectTarget,
) -> Response<Body> {
    // A silent upstream proxy (or an unanswered SYN) must not hold the client forever.
    let head_timeout = shared.server.upstream_response_head_timeout;
    let opened = tokio::time::timeout(
        head_timeout,
        open_tunnel(
            &target.host,
            target.port,
            shared.route(target.runtime.as_deref()).upstream.as_deref(),
            &shared.guard,
        ),
    )
    .await;
    let Ok(opened) = opened else {
        return upstream_timeout(&shared.stats, head_timeout);
    };
    let server = match opened {
        Ok(s) => s,
        Err(e) => {
            if is_pivot_refusal(e.as_ref()) {
                ProxyStats::inc(&shared.stats.pivot_refusals);
                return pivot_refused(&normalize_host(&target.host));
            }
            ProxyStats::inc(&shared.stats.upstream_errors);
            debug!(dest = %target.dest, error = %e, "CONNECT: upstream connection failed");
            return bad_gateway(
                e.as_ref(),
                format!(
                    "clawsec traffic guardian: cannot connect to {}\n",
                    target.dest
                ),
            );
        }
    };
    let Some(on_upgrade) = take_upgrade(&mut req) else {
        return responses::bad_request("CONNECT cannot be upgraded\n");
    };
    ProxyStats::inc(&shared.stats.tunnels);
    debug!(dest = %target.dest, "CONNECT: blind tunnel");
    let active = Arc::clone(&shared.active_tunnels);
    active.fetch_add(1, Ordering::SeqCst);
    let stats = Arc::clone(&shared.stats);
    let cancel = shared.cancel.clone();
    let scans = shared
        .inspection
        .as_ref()
        .and_then(|insp| insp.tunnel_scans(&target.source, &target.dest, &target.exchange));
    tokio::spawn(async move {
        tunnel::relay(
            on_upgrade,
            server,
            target.source,
            target.dest,
            stats,
            cancel,
            scans,
        )
        .await;
        active.fetch_sub(1, Ordering::SeqCst);
    });
    Response::new(Body::empty())
}

/// Requests inside an intercepted tunnel come in origin form (HTTP/1) or
/// with the client's own `:authority` (HTTP/2): give them the tunnel's
/// scheme and authority, which is where the guardian connects (`None` if
/// that makes no valid URI). An HTTP/2 `:authority` other than the tunnel's
/// is kept as `Host` so the origin still sees what the client asked for.
fn with_origin(
    req: Request<Incoming>,
    scheme: &Scheme,
    authority: &Authority,
) -> Option<Request<Incoming>> {
    let (mut parts, body) = req.into_parts();
    if let Some(own) = parts.uri.authority() {
        // Userinfo (`user:pass@`) in the client's target is dropped with
        // it, as it always was; it is scanned from the target as received.
        if own.as_str().contains('@') {
            parts
                .extensions
                .insert(ReceivedTarget(parts.uri.to_string()));
        }
        let host_port = own.as_str().rsplit('@').next().unwrap_or_default();
        if host_port != authority.as_str() && !parts.headers.contains_key(header::HOST) {
            if let Ok(v) = HeaderValue::from_str(host_port) {
                parts.headers.insert(header::HOST, v);
            }
        }
    }
    let mut uri = parts.uri.into_parts();
    uri.scheme = Some(scheme.clone());
    uri.authority = Some(authority.clone());
    if uri.path_and_query.is_none() {
        uri.path_and_query = Some(hyper::http::uri::PathAndQuery::from_static("/"));
    }
    parts.uri = Uri::from_parts(uri).ok()?;
    Some(Request::from_parts(parts, body))
}

/// The request as sent upstream: HTTP/1.1, several `Cookie` fields joined
/// as HTTP/1 requires, and `Host` from the absolute-form URI (hyper writes
/// it) — except inside an intercepted CONNECT, where the URI's authority is
/// the tunnel's and the client's own `Host` is what the origin must see.
fn for_upstream(mut req: Request<Body>, keep_host: bool) -> Request<Body> {
    if !keep_host {
        req.headers_mut().remove(header::HOST);
    }
    let cookies: Vec<HeaderValue> = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.len() > 1 {
        let mut joined = Vec::new();
        for (i, c) in cookies.iter().enumerate() {
            if i > 0 {
                joined.extend_from_slice(b"; ");
            }
            joined.extend_from_slice(c.as_bytes());
        }
        if let Ok(v) = HeaderValue::from_bytes(&joined) {
            req.headers_mut().insert(header::COOKIE, v);
        }
    }
    *req.version_mut() = Version::HTTP_11;
    req
}

/// Serves an intercepted CONNECT once the client's first bytes show what
/// it speaks: TLS is decrypted with a leaf of the guardian CA and served as
/// HTTPS; plaintext HTTP (any method) is served as HTTP; anything else is
/// relayed byte for byte through the same path as blind tunnels (pivot
/// guard, upstream proxy). Every way goes through the upstream proxy when
/// one is configured.
pub async fn mitm_session(handler: RequestHandler, on_upgrade: OnUpgrade, target: MitmTarget) {
    let shared = Arc::clone(handler.shared());
    let started = Instant::now();
    let mut cancel = shared.cancel.clone();
    let active = Arc::clone(&shared.active_tunnels);
    active.fetch_add(1, Ordering::SeqCst);
    tokio::select! {
        _ = session(handler, on_upgrade, target, started) => {}
        _ = async { cancel.wait_for(|stop| *stop).await.is_ok() } => debug!("intercepted tunnel closed by proxy stop"),
    }
    active.fetch_sub(1, Ordering::SeqCst);
}

async fn session(
    handler: RequestHandler,
    on_upgrade: OnUpgrade,
    target: MitmTarget,
    started: Instant,
) {
    let shared = Arc::clone(handler.shared());
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            debug!(dest = %target.connect.dest, error = %e, "CONNECT upgrade failed");
            return;
        }
    };
    let mut io = TokioIo::new(upgraded);
    let mut first = Vec::with_capacity(PEEK_BYTES);
    // Enough to tell a TLS record (0x16 0x03) from a request line (method
    // and space) or anything else; bounded like a request head, so a
    // client that goes silent after `200` does not hold the tunnel.
    let peek = async {
        loop {
            let decided = match first.as_slice() {
                [] | [0x16] => false,
                [0x16, 0x03, ..] => true,
                bytes => bytes.len() >= PEEK_BYTES || tunnel::http_request_start(bytes).is_some(),
            };
            if decided {
                return true;
            }
            let mut buf = [0u8; PEEK_BYTES];
            let room = PEEK_BYTES - first.len();
            match io.read(&mut buf[..room]).await {
                Ok(0) => return !first.is_empty(),
                Ok(n) => first.extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(e) => {
                    debug!(dest = %target.connect.dest, error = %e, "intercepted tunnel closed early");
                    return false;
                }
            }
        }
    };
    // A server that speaks first (a banner: SMTP, FTP, custom protocols)
    // would wait forever for a client that waits for it. When the client
    // has not decided within a short grace, the upstream is connected
    // while the client's first bytes are still awaited; whichever side
    // speaks first decides. The grace spares TLS and HTTP clients (which
    // speak at once) a second upstream connection.
    let mut early_server: Option<TcpStream> = None;
    let server_first = async {
        tokio::time::sleep(SERVER_FIRST_GRACE).await;
        let opened = tokio::time::timeout(
            shared.server.upstream_response_head_timeout,
            open_tunnel(
                &target.connect.host,
                target.connect.port,
                shared.upstream.as_deref(),
                &shared.guard,
            ),
        )
        .await;
        // Failures are reported by the relay that connects again (if the
        // client speaks); here the client is simply awaited.
        let Ok(Ok(server)) = opened else {
            return std::future::pending::<()>().await;
        };
        let server = early_server.insert(server);
        let mut one = [0u8; 1];
        match server.peek(&mut one).await {
            Ok(n) if n > 0 => {}
            _ => std::future::pending::<()>().await,
        }
    };
    let opening = tokio::select! {
        decided = peek => if decided { Opening::Client } else { return },
        () = server_first => Opening::Server,
        _ = tokio::time::sleep(shared.server.header_read_timeout) => {
            ProxyStats::inc(&shared.stats.client_timeouts);
            debug!(dest = %target.connect.dest, "intercepted tunnel: client sent nothing in time");
            return;
        }
    };
    let io = Prefixed::new(first.clone(), io);
    if opening == Opening::Server {
        debug!(dest = %target.connect.dest, "intercepted tunnel: the server spoke first; relayed");
        relay_plain(&shared, io, target, started, early_server).await;
    } else if first.starts_with(&[0x16, 0x03]) {
        serve_tls(handler, io, target).await;
    } else if tunnel::http_request_start(&first) == Some(true) {
        serve_plain(handler, io, target).await;
    } else {
        relay_plain(&shared, io, target, started, early_server).await;
    }
}

/// Which side of an intercepted tunnel spoke first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    Client,
    Server,
}

async fn serve_tls<T>(handler: RequestHandler, io: T, target: MitmTarget)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shared = Arc::clone(handler.shared());
    let faults = Arc::new(ConnFaults::default());
    let Some(ca) = shared.server.ca.clone() else {
        return;
    };
    let handshake = async {
        let start =
            match LazyConfigAcceptor::new(tokio_rustls::rustls::server::Acceptor::default(), io)
                .await
            {
                Ok(start) => start,
                Err(e) => {
                    faults.count(&shared.stats.client_protocol_errors);
                    debug!(dest = %target.connect.dest, error = %e, "unreadable TLS client hello");
                    return None;
                }
            };
        let name = start
            .client_hello()
            .server_name()
            .map(str::to_string)
            .unwrap_or_else(|| target.connect.host.clone());
        let config = ca.server_config_for(&name);
        match start.into_stream(config).await {
            Ok(tls) => Some(tls),
            Err(e) => {
                faults.count(&shared.stats.client_protocol_errors);
                debug!(dest = %target.connect.dest, error = %e, "MITM TLS handshake failed");
                None
            }
        }
    };
    // A client stalling inside its handshake is bounded like a stalled head.
    let tls = match tokio::time::timeout(shared.server.header_read_timeout, handshake).await {
        Ok(Some(tls)) => tls,
        Ok(None) => return,
        Err(_) => {
            faults.count(&shared.stats.client_timeouts);
            debug!(dest = %target.connect.dest, "MITM TLS handshake timed out");
            return;
        }
    };
    let service = ConnectionService {
        handler,
        peer: target.peer,
        faults: Arc::clone(&faults),
        inner: Some((Scheme::HTTPS, target.authority)),
    };
    let io = TokioIo::new(NotedIo::new(tls, Arc::clone(&faults)));
    // Inside a CONNECT the client has already spoken: idle rules apply.
    let first_byte = shared.server.keep_alive_idle_timeout;
    serve_io(&shared, io, service, &faults, first_byte).await;
}

/// Plaintext HTTP inside an intercepted CONNECT (undici's `ProxyAgent`
/// tunnels `http://` this way) is served like any proxied plain-HTTP
/// request: full inspection (URL, headers, decoded bodies, WebSocket
/// bridging) and the same connector (pivot guard, upstream proxy with its
/// credentials).
async fn serve_plain<T>(handler: RequestHandler, io: T, target: MitmTarget)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shared = Arc::clone(handler.shared());
    let faults = Arc::new(ConnFaults::default());
    debug!(dest = %target.connect.dest, "intercepted CONNECT carries plaintext HTTP");
    let service = ConnectionService {
        handler,
        peer: target.peer,
        faults: Arc::clone(&faults),
        inner: Some((Scheme::HTTP, target.authority)),
    };
    let io = TokioIo::new(NotedIo::new(io, Arc::clone(&faults)));
    let first_byte = shared.server.keep_alive_idle_timeout;
    serve_io(&shared, io, service, &faults, first_byte).await;
}

/// Neither TLS nor HTTP (or the server spoke first): relayed byte for
/// byte, through `server` when it is already connected.
async fn relay_plain<T>(
    shared: &Arc<Shared>,
    io: T,
    target: MitmTarget,
    started: Instant,
    server: Option<TcpStream>,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let route = shared.route(target.connect.runtime.as_deref());
    let opened = match server {
        Some(server) => Ok(Ok(server)),
        None => {
            tokio::time::timeout(
                shared.server.upstream_response_head_timeout,
                open_tunnel(
                    &target.connect.host,
                    target.connect.port,
                    route.upstream.as_deref(),
                    &shared.guard,
                ),
            )
            .await
        }
    };
    let Ok(opened) = opened else {
        ProxyStats::inc(&shared.stats.upstream_timeouts);
        debug!(dest = %target.connect.dest, "intercepted tunnel: upstream did not answer in time");
        return;
    };
    let server = match opened {
        Ok(s) => s,
        Err(e) => {
            if is_pivot_refusal(e.as_ref()) {
                ProxyStats::inc(&shared.stats.pivot_refusals);
            } else {
                ProxyStats::inc(&shared.stats.upstream_errors);
            }
            debug!(dest = %target.connect.dest, error = %e, "intercepted tunnel: upstream connection failed");
            return;
        }
    };
    ProxyStats::inc(&shared.stats.tunnels);
    debug!(dest = %target.connect.dest, "intercepted CONNECT carries neither TLS nor HTTP: relayed");
    // Not TLS and not a request line (or a server's banner): in a tunnel
    // the operator chose to inspect, both directions are scanned as
    // streams, which is all a protocol of unknown framing can be checked as.
    let scans = shared.inspection.as_ref().and_then(|insp| {
        insp.tunnel_scans(
            &target.connect.source,
            &target.connect.dest,
            &target.connect.exchange,
        )
    });
    tunnel::relay_io(
        io,
        server,
        target.connect.source,
        target.connect.dest,
        Arc::clone(&shared.stats),
        shared.cancel.clone(),
        scans,
        tunnel::Protocol::Plaintext,
        started,
    )
    .await;
}
