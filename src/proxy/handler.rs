//! hudsucker handlers: access control of the proxy (credentials, pivot
//! guard), the MITM-or-blind decision for CONNECT, and inspection hooks. No
//! code path here blocks or alters forwarded traffic: requests and responses
//! are passed on with their bodies wrapped only to observe frames. The only
//! answers the proxy writes itself are about the proxy (407, 403 pivot
//! guard, 400 non-proxy request, 502 upstream failure, 503 while stopping).

use std::collections::{HashMap, VecDeque};
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::http::uri::Authority;
use hudsucker::hyper::{Method, Request, Response, StatusCode};
use hudsucker::hyper_util::client::legacy::Client;
use hudsucker::{Body, RequestOrResponse};
use tokio::sync::watch;
use tracing::{debug, trace};

use crate::core::finding::Direction;
use crate::core::scan::ScanContext;

use super::auth::{AuthOutcome, RuntimeAuth};
use super::body::InspectedBody;
use super::guard::{normalize_host, PivotGuard, PivotRefused};
use super::inspect::{ConnectionIds, Exchange, Inspection, MessageMeta, MessageTag};
use super::server::{self, MitmTarget, ServerParts};
use super::stats::ProxyStats;
use super::tunnel;
use super::upstream::{authority_string, open_tunnel, GuardConnector, ResolveFailed};
use super::websocket;
use crate::core::config::{HostPattern, UpstreamProxy};

/// Ports of protocols that are not HTTP(S) (several speak first from the
/// server side, which interception would stall): always tunnelled blind.
const NEVER_MITM_PORTS: &[u16] = &[
    21, 22, 23, 25, 110, 143, 465, 587, 993, 995, 3306, 5432, 6379, 11211, 27017,
];

/// Client connections remembered for counting and WebSocket attribution.
const PEER_TABLE_CAPACITY: usize = 4096;

/// Remembers recent client connections (address → runtime name, if authenticated).
#[derive(Default)]
struct PeerTable {
    map: HashMap<SocketAddr, Option<String>>,
    order: VecDeque<SocketAddr>,
}

/// Where a runtime's requests go upstream: its own upstream proxy
/// (credentials) when it was given one, else the engine's.
#[derive(Clone)]
pub struct Route {
    pub upstream: Option<Arc<UpstreamProxy>>,
    pub connector: GuardConnector,
    pub client: Client<GuardConnector, Body>,
}

/// The access and interception policy a config reload can change. Each
/// client connection reads it once, when it is accepted: a reload applies
/// to connections accepted after it (and the sessions inside their CONNECTs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub trusted_runtimes: Vec<String>,
    /// Hosts never decrypted, as the config parsed them (`host`, `.suffix`).
    pub mitm_exclude_hosts: Vec<HostPattern>,
    pub require_auth: bool,
}

/// The engine's current [`Policy`], swapped whole by a reload.
pub type PolicyCell = Arc<RwLock<Arc<Policy>>>;

impl Policy {
    pub fn new(
        trusted_runtimes: Vec<String>,
        exclude_hosts: &[HostPattern],
        require_auth: bool,
    ) -> Self {
        Policy {
            trusted_runtimes,
            mitm_exclude_hosts: exclude_hosts.to_vec(),
            require_auth,
        }
    }

    /// The policy now (a poisoned lock still holds a whole policy).
    pub fn current(cell: &PolicyCell) -> Arc<Policy> {
        Arc::clone(&cell.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn is_trusted(&self, runtime: Option<&str>) -> bool {
        self.trusted_runtimes
            .iter()
            .any(|t| t == "*" || runtime.is_some_and(|r| r == t))
    }

    /// Whether `host` (as the client named it, `[v6]` included) is never
    /// decrypted: matched by [`HostPattern::matches`], the config's one rule.
    fn is_excluded(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.mitm_exclude_hosts
            .iter()
            .any(|p| p.matches_normalized(&host))
    }
}

/// State shared by every handler clone of one running engine.
pub struct Shared {
    pub mitm_enabled: bool,
    /// Trusted runtimes, MITM exclusions, require_auth (reloadable).
    pub policy: PolicyCell,
    pub auth: RuntimeAuth,
    pub guard: Arc<PivotGuard>,
    pub inspection: Option<Inspection>,
    pub stats: Arc<ProxyStats>,
    pub upstream: Option<Arc<UpstreamProxy>>,
    /// Set by `stop`: requests still arriving on lingering connections get 503.
    pub stopping: AtomicBool,
    /// Turns true when blind tunnels must close.
    pub cancel: watch::Receiver<bool>,
    /// Tunnels and bridged WebSockets still open (waited for on stop).
    pub active_tunnels: Arc<AtomicU64>,
    /// The connector every forwarded request uses (also for WebSockets).
    pub connector: GuardConnector,
    /// Serving configuration: CA, hyper builder, client, timeouts.
    pub server: ServerParts,
    peers: Mutex<PeerTable>,
    /// Client connections accepted so far (the `c<n>` of finding contexts).
    connections_seen: AtomicU64,
    /// This run's tag in connection ids.
    run_tag: Arc<str>,
    /// Per-runtime routes, built on first use (one connection pool each).
    routes: Mutex<HashMap<String, Route>>,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mitm_enabled: bool,
        policy: PolicyCell,
        auth: RuntimeAuth,
        guard: Arc<PivotGuard>,
        inspection: Option<Inspection>,
        stats: Arc<ProxyStats>,
        upstream: Option<Arc<UpstreamProxy>>,
        cancel: watch::Receiver<bool>,
        connector: GuardConnector,
        server: ServerParts,
    ) -> Self {
        Shared {
            mitm_enabled,
            policy,
            auth,
            guard,
            inspection,
            stats,
            upstream,
            stopping: AtomicBool::new(false),
            cancel,
            active_tunnels: Arc::new(AtomicU64::new(0)),
            connector,
            server,
            peers: Mutex::new(PeerTable::default()),
            connections_seen: AtomicU64::new(0),
            run_tag: super::inspect::new_run_tag(),
            routes: Mutex::new(HashMap::new()),
        }
    }

    /// The route of `runtime`'s traffic: its own upstream proxy (and a
    /// client pooling connections through it) when it has one, else the
    /// engine's. A runtime re-added with other credentials gets a new route.
    pub fn route(&self, runtime: Option<&str>) -> Route {
        let default = || Route {
            upstream: self.upstream.clone(),
            connector: self.connector.clone(),
            client: self.server.client.clone(),
        };
        let Some(name) = runtime else {
            return default();
        };
        let Some(up) = self.auth.upstream_for(name) else {
            return default();
        };
        let Ok(mut routes) = self.routes.lock() else {
            return default();
        };
        if let Some(r) = routes.get(name) {
            if r.upstream.as_ref().is_some_and(|u| Arc::ptr_eq(u, &up)) {
                return r.clone();
            }
        }
        let connector = GuardConnector::new(
            Arc::clone(&self.server.client_tls),
            Some(Arc::clone(&up)),
            Arc::clone(&self.guard),
        );
        let route = Route {
            upstream: Some(up),
            client: super::engine::build_client(connector.clone()),
            connector,
        };
        routes.insert(name.to_owned(), route.clone());
        route
    }

    /// Notes a client connection; counts it the first time it is seen.
    fn note_peer(&self, addr: SocketAddr, runtime: Option<&str>) {
        if let Ok(mut t) = self.peers.lock() {
            match t.map.get_mut(&addr) {
                Some(slot) => {
                    if runtime.is_some() {
                        *slot = runtime.map(str::to_string);
                    }
                }
                None => {
                    ProxyStats::inc(&self.stats.connections);
                    t.map.insert(addr, runtime.map(str::to_string));
                    t.order.push_back(addr);
                    while t.map.len() > PEER_TABLE_CAPACITY {
                        match t.order.pop_front() {
                            Some(old) => {
                                t.map.remove(&old);
                            }
                            None => break,
                        }
                    }
                }
            }
        }
    }
}

/// Identity of a MITM'd CONNECT, inherited by the requests decrypted inside it.
#[derive(Debug, Clone)]
struct TunnelIdentity {
    source: String,
    runtime: Option<String>,
}

/// What `handle_response` needs to know about the request it answers.
#[derive(Debug, Clone)]
struct Pending {
    source: String,
    dest: String,
    protocol: &'static str,
    exchange: Arc<Exchange>,
}

/// The HTTP handler. The server clones it per request; the CONNECT's clone
/// serves the requests inside its MITM session, which is how those inherit
/// the CONNECT's identity.
#[derive(Clone)]
pub struct GuardHandler {
    shared: Arc<Shared>,
    tunnel: Option<TunnelIdentity>,
    pending: Option<Pending>,
    /// The client connection (shared with the sessions of its intercepted CONNECTs).
    conn: Arc<ConnectionIds>,
    /// The policy read when the connection was accepted.
    policy: Arc<Policy>,
}

impl GuardHandler {
    /// The handler of one new client connection (numbered `c1`, `c2`, …).
    pub fn new(shared: Arc<Shared>) -> Self {
        let id = shared.connections_seen.fetch_add(1, Ordering::Relaxed) + 1;
        let policy = Policy::current(&shared.policy);
        let conn = Arc::new(ConnectionIds::new(Arc::clone(&shared.run_tag), id));
        GuardHandler {
            policy,
            shared,
            tunnel: None,
            pending: None,
            conn,
        }
    }

    /// The engine state this handler belongs to.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// A plain-text answer written by the guardian itself (about the proxy, never upstream content).
pub(crate) fn text_response(status: StatusCode, body: String) -> Response<Body> {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// The request target to scan: as the client sent it (userinfo included)
/// when an intercepted tunnel's origin replaced it, else the request URI.
fn scanned_target<B>(req: &Request<B>) -> String {
    match req.extensions().get::<server::ReceivedTarget>() {
        Some(t) => t.0.clone(),
        None => req.uri().to_string(),
    }
}

fn is_websocket_upgrade<B>(req: &Request<B>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    has(header::UPGRADE, "websocket") && has(header::CONNECTION, "upgrade")
}

pub(crate) fn pivot_response(host: &str) -> Response<Body> {
    text_response(
        StatusCode::FORBIDDEN,
        format!(
            "clawsec traffic guardian: refusing to connect to {host} on the client's behalf.\n\
             Loopback, link-local, cloud-metadata and host-interface (e.g. docker bridge) \
             destinations of the proxy host are not reachable through this proxy (pivot guard: access control of the proxy itself, \
             not traffic filtering). Add the destination to allow_private_destinations to permit it.\n"
        ),
    )
}

/// Whether an authority names a port that is not a valid TCP port (hyper
/// parses any digits; `port_u16` is then `None` and the default would be used).
fn has_invalid_port(authority: &str) -> bool {
    match authority.rsplit_once(':') {
        Some((_, port)) if !port.is_empty() && !port.contains(']') => port.parse::<u16>().is_err(),
        _ => false,
    }
}

/// Whether an error (or one of its causes) is a pivot-guard refusal.
pub(crate) fn is_pivot_refusal(err: &(dyn StdError + 'static)) -> bool {
    error_chain_has::<PivotRefused>(err)
}

fn error_chain_has<E: StdError + 'static>(err: &(dyn StdError + 'static)) -> bool {
    error_in_chain::<E>(err).is_some()
}

fn error_in_chain<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        cur = e.source();
    }
    None
}

/// The 502 for a failed upstream connection; a name that did not resolve
/// is said to be one (the resolver's own words stay in the debug log).
fn bad_gateway(err: &(dyn StdError + 'static), fallback: String) -> Response<Body> {
    let text = match error_in_chain::<ResolveFailed>(err) {
        Some(r) => format!(
            "clawsec traffic guardian: cannot resolve host `{}`\n",
            r.host
        ),
        None => fallback,
    };
    text_response(StatusCode::BAD_GATEWAY, text)
}

impl GuardHandler {
    /// Access control, CONNECT handling and request inspection. A returned
    /// request is forwarded upstream by the server; a response is the answer.
    pub async fn request(
        &mut self,
        client_addr: SocketAddr,
        mut req: Request<Body>,
    ) -> RequestOrResponse {
        let shared = Arc::clone(&self.shared);
        if shared.stopping.load(Ordering::Relaxed) {
            let mut res = text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "clawsec traffic guardian is stopping\n".to_string(),
            );
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return res.into();
        }

        // Who is asking: inherited inside a MITM session, else from credentials.
        let runtime_name: Option<String>;
        let source = if let Some(t) = &self.tunnel {
            runtime_name = t.runtime.clone();
            t.source.clone()
        } else {
            let outcome = shared.auth.check(
                req.headers()
                    .get(header::PROXY_AUTHORIZATION)
                    .map(HeaderValue::as_bytes),
            );
            // Addressed to the guardian: consumed, never forwarded or scanned.
            req.headers_mut().remove(header::PROXY_AUTHORIZATION);
            if outcome == AuthOutcome::Invalid {
                ProxyStats::inc(&shared.stats.auth_failures);
            }
            let runtime = match &outcome {
                AuthOutcome::Runtime(name) => Some(name.as_str()),
                _ => None,
            };
            shared.note_peer(client_addr, runtime);
            if self.policy.require_auth && runtime.is_none() {
                if outcome == AuthOutcome::Anonymous {
                    ProxyStats::inc(&shared.stats.auth_failures);
                }
                let mut res = text_response(
                    StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                    "clawsec traffic guardian: runtime credentials required\n".to_string(),
                );
                res.headers_mut().insert(
                    header::PROXY_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"clawsec-traffic-guardian\""),
                );
                return res.into();
            }
            runtime_name = runtime.map(str::to_string);
            runtime
                .map(str::to_string)
                .unwrap_or_else(|| client_addr.to_string())
        };

        let is_connect = req.method() == Method::CONNECT;
        let exchange = self.conn.next_exchange(
            req.method().as_str(),
            (!is_connect).then(|| req.uri().path()),
        );
        let out_tag = MessageTag {
            exchange: Arc::clone(&exchange),
            meta: MessageMeta::from_headers(None, req.headers()),
        };
        let Some(host) = req.uri().host().map(str::to_string) else {
            return text_response(
                StatusCode::BAD_REQUEST,
                "clawsec traffic guardian is a forward proxy: send absolute-form requests or CONNECT\n"
                    .to_string(),
            )
            .into();
        };
        if req
            .uri()
            .authority()
            .is_some_and(|a| has_invalid_port(a.as_str()))
        {
            // hyper accepts any digits as a port; out of range it would silently become 80/443.
            ProxyStats::inc(&shared.stats.client_protocol_errors);
            return text_response(
                StatusCode::BAD_REQUEST,
                "clawsec traffic guardian: the request target's port is out of range\n".into(),
            )
            .into();
        }
        let https = matches!(req.uri().scheme_str(), Some("https") | Some("wss"));
        let port = req
            .uri()
            .port_u16()
            .unwrap_or(if https || is_connect { 443 } else { 80 });
        let dest = authority_string(&host, port);

        if self.tunnel.is_none() {
            if let Err(refused) = shared.guard.check_host(&host, port) {
                ProxyStats::inc(&shared.stats.pivot_refusals);
                debug!(dest = %dest, "pivot guard refused destination");
                return pivot_response(&refused.host).into();
            }
        }

        if is_connect && self.tunnel.is_some() {
            // A tunnel inside an intercepted tunnel would be opened for no
            // known runtime, and blind: refused (it is no request to forward).
            return text_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "clawsec traffic guardian: CONNECT inside an intercepted tunnel is not supported\n"
                    .into(),
            )
            .into();
        }
        if is_connect {
            return self
                .connect(
                    req,
                    client_addr,
                    source,
                    runtime_name,
                    host,
                    port,
                    dest,
                    out_tag,
                )
                .await;
        }

        ProxyStats::inc(&shared.stats.requests);
        // Inside an intercepted CONNECT the scheme says whether it carried TLS.
        let protocol = if https { "https" } else { "http" };
        trace!(method = %req.method(), dest = %dest, "request");

        // The runtime's own upstream route (its credentials), else the global one.
        let route = shared.route(runtime_name.as_deref());
        req.extensions_mut()
            .insert(server::RouteClient(route.client.clone()));

        // Plain HTTP through the upstream proxy carries the upstream's own credentials.
        if !https {
            if let Some(auth) = route
                .upstream
                .as_ref()
                .and_then(|u| u.basic_authorization())
            {
                if let Ok(v) = HeaderValue::from_str(&auth) {
                    req.headers_mut().insert(header::PROXY_AUTHORIZATION, v);
                }
            }
        }

        if is_websocket_upgrade(&req) {
            if let Some(insp) = &shared.inspection {
                let sctx = ScanContext::new(Direction::Outbound, protocol, &source, &dest);
                let url = scanned_target(&req);
                insp.scan_request_head(&sctx, req.method().as_str(), &url, req.headers(), &out_tag);
            }
            let scheme = if https { "https" } else { "http" };
            let pq = req
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_string())
                .unwrap_or_else(|| "/".to_string());
            let Ok(target) = format!("{scheme}://{dest}{pq}").parse::<hudsucker::hyper::Uri>()
            else {
                return text_response(StatusCode::BAD_REQUEST, "invalid WebSocket target\n".into())
                    .into();
            };
            let via_upstream_plain = route.upstream.is_some() && !https;
            // The upstream credentials are added by the bridge, not the client's.
            req.headers_mut().remove(header::PROXY_AUTHORIZATION);
            req.extensions_mut().remove::<server::RouteClient>();
            return websocket::bridge(
                shared,
                route.connector,
                req,
                target,
                source,
                dest,
                via_upstream_plain,
                exchange,
            )
            .await
            .into();
        }

        if let Some(insp) = &shared.inspection {
            let sctx = ScanContext::new(Direction::Outbound, protocol, &source, &dest);
            let url = scanned_target(&req);
            insp.scan_request_head(&sctx, req.method().as_str(), &url, req.headers(), &out_tag);
            {
                let encoding = req
                    .headers()
                    .get(header::CONTENT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let content_type = req
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if let Some(scan) =
                    insp.body_scan(sctx, encoding.as_deref(), content_type.as_deref(), out_tag)
                {
                    let (parts, body) = req.into_parts();
                    req = Request::from_parts(parts, InspectedBody::wrap(body, scan));
                }
            }
        }
        self.pending = Some(Pending {
            source,
            dest,
            protocol,
            exchange,
        });
        req.into()
    }

    /// CONNECT: MITM for trusted runtimes when enabled, otherwise a blind tunnel we relay ourselves.
    #[allow(clippy::too_many_arguments)]
    async fn connect(
        &mut self,
        mut req: Request<Body>,
        client_addr: SocketAddr,
        source: String,
        runtime: Option<String>,
        host: String,
        port: u16,
        dest: String,
        tag: MessageTag,
    ) -> RequestOrResponse {
        let shared = Arc::clone(&self.shared);
        // The target itself can carry a secret (a key as a DNS label), even
        // when the tunnel is blind: scan it as the request's URL.
        if let (Some(insp), Some(target)) = (&shared.inspection, req.uri().authority()) {
            let sctx = ScanContext::new(Direction::Outbound, "http", &source, &dest);
            insp.scan_request_head(&sctx, "CONNECT", target.as_str(), req.headers(), &tag);
        }
        let mitm = shared.mitm_enabled
            && !NEVER_MITM_PORTS.contains(&port)
            && self.policy.is_trusted(runtime.as_deref())
            && !self.policy.is_excluded(&host);
        if mitm {
            let authority = req
                .uri()
                .authority()
                .cloned()
                .or_else(|| dest.parse::<Authority>().ok());
            let (Some(on_upgrade), Some(authority)) = (
                req.extensions_mut()
                    .remove::<hudsucker::hyper::upgrade::OnUpgrade>(),
                authority,
            ) else {
                return text_response(
                    StatusCode::BAD_REQUEST,
                    "CONNECT cannot be upgraded\n".into(),
                )
                .into();
            };
            ProxyStats::inc(&shared.stats.mitm_connections);
            debug!(dest = %dest, "CONNECT: intercepting (MITM)");
            let mut inner = self.clone();
            inner.tunnel = Some(TunnelIdentity {
                source: source.clone(),
                runtime: runtime.clone(),
            });
            inner.pending = None;
            let target = MitmTarget {
                exchange: Arc::clone(&tag.exchange),
                peer: client_addr,
                source,
                runtime,
                host,
                port,
                dest,
                authority,
            };
            tokio::spawn(server::mitm_session(inner, on_upgrade, target));
            return Response::new(Body::empty()).into();
        }

        // Connect first, so that a failure is answered with a status, not a dead tunnel.
        // A silent upstream proxy (or an unanswered SYN) must not hold the client forever.
        let head_timeout = shared.server.upstream_response_head_timeout;
        let opened = tokio::time::timeout(
            head_timeout,
            open_tunnel(
                &host,
                port,
                shared.route(runtime.as_deref()).upstream.as_deref(),
                &shared.guard,
            ),
        )
        .await;
        let Ok(opened) = opened else {
            return server::upstream_timeout(&shared.stats, head_timeout).into();
        };
        let server = match opened {
            Ok(s) => s,
            Err(e) => {
                if error_chain_has::<PivotRefused>(e.as_ref()) {
                    ProxyStats::inc(&shared.stats.pivot_refusals);
                    return pivot_response(&normalize_host(&host)).into();
                }
                ProxyStats::inc(&shared.stats.upstream_errors);
                debug!(dest = %dest, error = %e, "CONNECT: upstream connection failed");
                return bad_gateway(
                    e.as_ref(),
                    format!("clawsec traffic guardian: cannot connect to {dest}\n"),
                )
                .into();
            }
        };
        let Some(on_upgrade) = req
            .extensions_mut()
            .remove::<hudsucker::hyper::upgrade::OnUpgrade>()
        else {
            return text_response(
                StatusCode::BAD_REQUEST,
                "CONNECT cannot be upgraded\n".into(),
            )
            .into();
        };
        ProxyStats::inc(&shared.stats.tunnels);
        debug!(dest = %dest, "CONNECT: blind tunnel");
        let active = Arc::clone(&shared.active_tunnels);
        active.fetch_add(1, Ordering::SeqCst);
        let stats = Arc::clone(&shared.stats);
        let cancel = shared.cancel.clone();
        let scans = shared
            .inspection
            .as_ref()
            .and_then(|insp| insp.tunnel_scans(&source, &dest, &tag.exchange));
        tokio::spawn(async move {
            tunnel::relay(on_upgrade, server, source, dest, stats, cancel, scans).await;
            active.fetch_sub(1, Ordering::SeqCst);
        });
        Response::new(Body::empty()).into()
    }
}

impl GuardHandler {
    /// Inspects an upstream response (head now, body as it streams through).
    pub async fn response(&mut self, res: Response<Body>) -> Response<Body> {
        let shared = Arc::clone(&self.shared);
        ProxyStats::inc(&shared.stats.responses);
        let (Some(insp), Some(p)) = (&shared.inspection, self.pending.take()) else {
            return res;
        };
        let sctx = ScanContext::new(Direction::Inbound, p.protocol, &p.source, &p.dest);
        let tag = MessageTag {
            exchange: p.exchange,
            meta: MessageMeta::from_headers(Some(res.status().as_u16()), res.headers()),
        };
        insp.scan_response_head(&sctx, res.status().as_u16(), res.headers(), &tag);
        let encoding = res
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match insp.body_scan(sctx, encoding.as_deref(), content_type.as_deref(), tag) {
            Some(scan) => {
                let (parts, body) = res.into_parts();
                Response::from_parts(parts, InspectedBody::wrap(body, scan))
            }
            None => res,
        }
    }

    /// Answers a failed upstream request (pivot refusal or 502).
    pub fn error(&mut self, err: hudsucker::hyper_util::client::legacy::Error) -> Response<Body> {
        if error_chain_has::<PivotRefused>(&err) {
            ProxyStats::inc(&self.shared.stats.pivot_refusals);
            let host = self
                .pending
                .as_ref()
                .map(|p| p.dest.clone())
                .unwrap_or_default();
            return pivot_response(&host);
        }
        ProxyStats::inc(&self.shared.stats.upstream_errors);
        debug!(error = %err, "forwarding failed");
        bad_gateway(
            &err,
            "clawsec traffic guardian: upstream request failed\n".to_string(),
        )
    }
}
