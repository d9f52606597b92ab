//! The request handler: access control of the proxy (credentials, pivot
//! guard), the MITM-or-blind choice for CONNECT, and inspection hooks. It
//! *decides* what happens to a request and returns a [`Decision`]; the
//! connection loop ([`super::server`]) *acts* on it (forwards, answers,
//! opens tunnels, bridges WebSockets). The split follows hudsucker's
//! handler traits, which decide while the proxy acts.
//!
//! No decision blocks or alters forwarded traffic: requests and responses
//! are passed on with their bodies wrapped only to observe frames. The only
//! answers the proxy writes itself are about the proxy (see
//! [`super::responses`]).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper::body::Body as _;
use hyper::header::{self, HeaderValue};
use hyper::http::uri::Authority;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use tracing::{debug, trace};

use crate::core::finding::Direction;
use crate::core::scan::ScanContext;

use super::auth::AuthOutcome;
use super::body::{Body, InspectedBody};
use super::inspect::{ConnectionIds, Exchange, MessageMeta, MessageTag};
use super::pivot::is_pivot_refusal;
use super::responses::{self, bad_gateway, pivot_refused, text_response};
use super::state::{Policy, Shared};
use super::stats::ProxyStats;
use super::upstream::{authority_string, UpstreamConnector};

/// Ports of protocols that are not HTTP(S) (several speak first from the
/// server side, which interception would stall): always tunnelled blind.
const NEVER_MITM_PORTS: &[u16] = &[
    21, 22, 23, 25, 110, 143, 465, 587, 993, 995, 3306, 5432, 6379, 11211, 27017,
];

/// Identity of a MITM'd CONNECT, inherited by the requests decrypted inside it.
#[derive(Debug, Clone)]
struct TunnelIdentity {
    source: String,
    runtime: Option<String>,
}

/// What `response` needs to know about the request it answers.
#[derive(Debug, Clone)]
struct Pending {
    source: String,
    dest: String,
    protocol: &'static str,
    exchange: Arc<Exchange>,
}

/// Where a CONNECT goes and on whose behalf.
#[derive(Debug, Clone)]
pub struct ConnectTarget {
    /// The CONNECT exchange (its relayed bytes are stamped with it).
    pub exchange: Arc<Exchange>,
    pub source: String,
    /// The authenticated runtime (its upstream route), if any.
    pub runtime: Option<String>,
    pub host: String,
    pub port: u16,
    pub dest: String,
}

/// Who and where an intercepted CONNECT goes.
#[derive(Debug, Clone)]
pub struct MitmTarget {
    pub connect: ConnectTarget,
    pub peer: SocketAddr,
    pub authority: Authority,
}

/// A WebSocket upgrade to bridge.
pub struct WebSocketTarget {
    /// The absolute URI (`http`/`https` scheme) of the destination.
    pub target: Uri,
    /// The connector of the runtime's route.
    pub connector: UpstreamConnector,
    pub source: String,
    pub dest: String,
    /// Sent in absolute form to an upstream proxy, with its credentials.
    pub via_upstream_plain: bool,
    pub exchange: Arc<Exchange>,
}

/// What the connection loop does with one request.
pub enum Decision {
    /// Send the request upstream through `client` (the runtime's route),
    /// then hand the response to [`RequestHandler::response`].
    Forward {
        req: Request<Body>,
        client: Client<UpstreamConnector, Body>,
    },
    /// Answer with the guardian's own response.
    Answer(Response<Body>),
    /// Decrypt the CONNECT: answer `200` and serve what the client sends
    /// inside with `handler` (which carries the CONNECT's identity).
    Intercept {
        req: Request<Body>,
        handler: Box<RequestHandler>,
        target: MitmTarget,
    },
    /// Relay the CONNECT blind: connect upstream first (a failure is
    /// answered with a status), then answer `200` and relay the bytes.
    Tunnel {
        req: Request<Body>,
        target: ConnectTarget,
    },
    /// Forward the upgrade request and, on `101`, bridge both sides.
    WebSocket {
        req: Request<Body>,
        target: WebSocketTarget,
    },
}

impl From<Response<Body>> for Decision {
    fn from(res: Response<Body>) -> Self {
        Decision::Answer(res)
    }
}

/// The request handler. The connection loop clones it per request; the
/// CONNECT's clone serves the requests inside its MITM session, which is
/// how those inherit the CONNECT's identity.
#[derive(Clone)]
pub struct RequestHandler {
    shared: Arc<Shared>,
    tunnel: Option<TunnelIdentity>,
    pending: Option<Pending>,
    /// The client connection (shared with the sessions of its intercepted CONNECTs).
    conn: Arc<ConnectionIds>,
    /// The policy read when the connection was accepted.
    policy: Arc<Policy>,
}

impl RequestHandler {
    /// The handler of one new client connection (numbered `c1`, `c2`, …).
    pub fn new(shared: Arc<Shared>) -> Self {
        let policy = Policy::current(&shared.policy);
        let conn = shared.next_connection();
        RequestHandler {
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

/// A request target as the client sent it inside an intercepted tunnel,
/// kept when it differs from the forwarded one in more than scheme and
/// authority (userinfo), so that it is scanned as received.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedTarget(pub String);

/// The request target to scan: as the client sent it (userinfo included)
/// when an intercepted tunnel's origin replaced it, else the request URI.
fn scanned_target<B>(req: &Request<B>) -> String {
    match req.extensions().get::<ReceivedTarget>() {
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

/// Whether an authority names a port that is not a valid TCP port (hyper
/// parses any digits; `port_u16` is then `None` and the default would be used).
fn has_invalid_port(authority: &str) -> bool {
    match authority.rsplit_once(':') {
        Some((_, port)) if !port.is_empty() && !port.contains(']') => port.parse::<u16>().is_err(),
        _ => false,
    }
}

impl RequestHandler {
    /// Access control, the CONNECT choice and request inspection: what the
    /// connection loop is to do with `req`.
    pub fn request(&mut self, client_addr: SocketAddr, mut req: Request<Body>) -> Decision {
        let shared = Arc::clone(&self.shared);
        if shared.stopping.load(Ordering::Relaxed) {
            return responses::stopping().into();
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
                return responses::auth_required().into();
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
            return responses::bad_request(
                "clawsec traffic guardian is a forward proxy: send absolute-form requests or CONNECT\n",
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
            return responses::bad_request(
                "clawsec traffic guardian: the request target's port is out of range\n",
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
                return pivot_refused(&refused.host).into();
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
            let target = ConnectTarget {
                exchange: Arc::clone(&exchange),
                source,
                runtime: runtime_name,
                host,
                port,
                dest,
            };
            return self.connect(req, client_addr, target, out_tag);
        }

        ProxyStats::inc(&shared.stats.requests);
        // Inside an intercepted CONNECT the scheme says whether it carried TLS.
        let protocol = if https { "https" } else { "http" };
        trace!(method = %req.method(), dest = %dest, "request");

        // The runtime's own upstream route (its credentials), else the global one.
        let route = shared.route(runtime_name.as_deref());

        if is_websocket_upgrade(&req) {
            if let Some(insp) = &shared.inspection {
                let sctx = ScanContext::new(Direction::Outbound, protocol, &source, &dest);
                let url = scanned_target(&req);
                insp.submit_head(insp.request_head(
                    sctx,
                    req.method().as_str(),
                    url,
                    req.headers(),
                    out_tag,
                ));
            }
            let scheme = if https { "https" } else { "http" };
            let pq = req
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_string())
                .unwrap_or_else(|| "/".to_string());
            let Ok(target) = format!("{scheme}://{dest}{pq}").parse::<Uri>() else {
                return responses::bad_request("invalid WebSocket target\n").into();
            };
            // The upstream credentials are added by the bridge, not the client's.
            req.headers_mut().remove(header::PROXY_AUTHORIZATION);
            return Decision::WebSocket {
                req,
                target: WebSocketTarget {
                    target,
                    via_upstream_plain: route.upstream.is_some() && !https,
                    connector: route.connector,
                    source,
                    dest,
                    exchange,
                },
            };
        }

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

        if let Some(insp) = &shared.inspection {
            let sctx = ScanContext::new(Direction::Outbound, protocol, &source, &dest);
            let url = scanned_target(&req);
            // A body that is over before it starts (a GET) has nothing to scan.
            let body = (!req.body().is_end_stream()).then(|| (sctx.clone(), out_tag.clone()));
            let head = insp.request_head(sctx, req.method().as_str(), url, req.headers(), out_tag);
            match body {
                None => insp.submit_head(head),
                Some((sctx, tag)) => {
                    if let Some(scan) = insp.body_scan(sctx, req.headers(), tag, head) {
                        let (parts, body) = req.into_parts();
                        req = Request::from_parts(parts, InspectedBody::wrap(body, scan));
                    }
                }
            }
        }
        self.pending = Some(Pending {
            source,
            dest,
            protocol,
            exchange,
        });
        Decision::Forward {
            req,
            client: route.client,
        }
    }

    /// CONNECT: MITM for trusted runtimes when enabled, otherwise a blind tunnel.
    fn connect(
        &mut self,
        req: Request<Body>,
        client_addr: SocketAddr,
        target: ConnectTarget,
        tag: MessageTag,
    ) -> Decision {
        let shared = Arc::clone(&self.shared);
        // The target itself can carry a secret (a key as a DNS label), even
        // when the tunnel is blind: scan it as the request's URL.
        if let (Some(insp), Some(authority)) = (&shared.inspection, req.uri().authority()) {
            let sctx = ScanContext::new(Direction::Outbound, "http", &target.source, &target.dest);
            insp.submit_head(insp.request_head(
                sctx,
                "CONNECT",
                authority.as_str().to_owned(),
                req.headers(),
                tag,
            ));
        }
        let mitm = shared.mitm_enabled
            && !NEVER_MITM_PORTS.contains(&target.port)
            && self.policy.is_trusted(target.runtime.as_deref())
            && !self.policy.is_excluded(&target.host);
        if !mitm {
            return Decision::Tunnel { req, target };
        }
        let Some(authority) = req
            .uri()
            .authority()
            .cloned()
            .or_else(|| target.dest.parse::<Authority>().ok())
        else {
            return responses::bad_request("CONNECT cannot be upgraded\n").into();
        };
        let mut inner = self.clone();
        inner.tunnel = Some(TunnelIdentity {
            source: target.source.clone(),
            runtime: target.runtime.clone(),
        });
        inner.pending = None;
        Decision::Intercept {
            req,
            handler: Box::new(inner),
            target: MitmTarget {
                connect: target,
                peer: client_addr,
                authority,
            },
        }
    }

    /// Inspects an upstream response (head now, body as it streams through).
    pub fn response(&mut self, res: Response<Body>) -> Response<Body> {
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
        if res.body().is_end_stream() {
            // No body (204, 304, a HEAD's answer, `Content-Length: 0`).
            insp.submit_head(insp.response_head(sctx, res.status().as_u16(), res.headers(), tag));
            return res;
        }
        let head = insp.response_head(
            sctx.clone(),
            res.status().as_u16(),
            res.headers(),
            tag.clone(),
        );
        match insp.body_scan(sctx, res.headers(), tag, head) {
            Some(scan) => {
                let (parts, body) = res.into_parts();
                Response::from_parts(parts, InspectedBody::wrap(body, scan))
            }
            None => res,
        }
    }

    /// Answers a failed upstream request (pivot refusal or 502).
    pub fn error(&mut self, err: hyper_util::client::legacy::Error) -> Response<Body> {
        if is_pivot_refusal(&err) {
            ProxyStats::inc(&self.shared.stats.pivot_refusals);
            let host = self
                .pending
                .as_ref()
                .map(|p| p.dest.clone())
                .unwrap_or_default();
            return pivot_refused(&host);
        }
        ProxyStats::inc(&self.shared.stats.upstream_errors);
        debug!(error = %err, "forwarding failed");
        bad_gateway(
            &err,
            "clawsec traffic guardian: upstream request failed\n".to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    //! The decisions, without a network: requests in, decisions out.
    use super::*;
    use crate::core::config::{HostPattern, TrustedRuntimes, UpstreamProxy};
    use crate::proxy::auth::RuntimeAuth;
    use crate::proxy::limits::ConnLimiter;
    use crate::proxy::pivot::PivotGuard;
    use crate::proxy::state::{PolicyCell, ServerParts};
    use crate::proxy::upstream::{build_client, build_client_tls, build_h2c_client};
    use base64::Engine as _;
    use std::sync::RwLock;
    use std::time::Duration;

    const TOKEN: &str = "tok-decisions-0123456789";

    fn shared(mitm: bool, policy: Policy, upstream: Option<UpstreamProxy>) -> Arc<Shared> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let client_tls = build_client_tls(provider, None).unwrap();
        let guard = Arc::new(PivotGuard::new(&[]));
        let upstream = upstream.map(Arc::new);
        let connector = UpstreamConnector::new(
            Arc::clone(&client_tls),
            upstream.clone(),
            Arc::clone(&guard),
        );
        let stats = Arc::new(ProxyStats::default());
        let (_cancel_tx, cancel) = tokio::sync::watch::channel(false);
        let (_closing_tx, closing) = tokio::sync::watch::channel(false);
        let cell: PolicyCell = Arc::new(RwLock::new(Arc::new(policy)));
        Arc::new(Shared::new(
            mitm,
            cell,
            RuntimeAuth::new(&[("agent".to_string(), TOKEN.to_string())]),
            guard,
            None,
            Arc::clone(&stats),
            upstream,
            cancel,
            connector.clone(),
            ServerParts {
                ca: None,
                http: hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                ),
                client: build_client(connector.clone()),
                client_tls,
                client_h2c: build_h2c_client(connector),
                request_body_idle_timeout: Duration::from_secs(1),
                header_read_timeout: Duration::from_secs(1),
                upstream_response_head_timeout: Duration::from_secs(1),
                closing,
                first_byte_timeout: Duration::from_secs(1),
                keep_alive_idle_timeout: Duration::from_secs(1),
                limiter: Arc::new(ConnLimiter::new(8, 8, stats)),
            },
        ))
    }

    fn policy(trusted: &[&str], exclude: &[HostPattern], require_auth: bool) -> Policy {
        let trusted = if trusted == ["*"] {
            TrustedRuntimes::All
        } else {
            TrustedRuntimes::Named(trusted.iter().map(|t| t.to_string()).collect())
        };
        Policy::new(trusted, exclude, require_auth)
    }

    fn peer() -> SocketAddr {
        "10.1.2.3:40000".parse().unwrap()
    }

    fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::empty()).unwrap()
    }

    fn basic(user: &str, pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    }

    fn answer_status(d: &Decision) -> Option<StatusCode> {
        match d {
            Decision::Answer(res) => Some(res.status()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn access_control_answers_itself() {
        let s = shared(false, policy(&[], &[], true), None);
        let mut h = RequestHandler::new(Arc::clone(&s));
        // No credentials while they are required: 407 with a challenge.
        let d = h.request(peer(), req("GET", "http://example.com/", &[]));
        let Decision::Answer(res) = d else {
            panic!("expected an answer")
        };
        assert_eq!(res.status(), StatusCode::PROXY_AUTHENTICATION_REQUIRED);
        assert!(res.headers().contains_key(header::PROXY_AUTHENTICATE));
        // Origin-form: not a proxy request.
        let auth = basic("agent", TOKEN);
        let d = h.request(peer(), req("GET", "/x", &[("proxy-authorization", &auth)]));
        assert_eq!(answer_status(&d), Some(StatusCode::BAD_REQUEST));
        // A port out of range is refused rather than replaced by the default.
        let d = h.request(
            peer(),
            req(
                "GET",
                "http://example.com:70000/",
                &[("proxy-authorization", &auth)],
            ),
        );
        assert_eq!(answer_status(&d), Some(StatusCode::BAD_REQUEST));
        // The pivot guard: the proxy host's loopback is not reachable.
        let d = h.request(
            peer(),
            req(
                "GET",
                "http://127.0.0.1:8080/",
                &[("proxy-authorization", &auth)],
            ),
        );
        assert_eq!(answer_status(&d), Some(StatusCode::FORBIDDEN));
        assert_eq!(s.stats.pivot_refusals.load(Ordering::Relaxed), 1);
        // While stopping, everything gets 503.
        s.stopping.store(true, Ordering::Relaxed);
        let d = h.request(
            peer(),
            req(
                "GET",
                "http://example.com/",
                &[("proxy-authorization", &auth)],
            ),
        );
        assert_eq!(answer_status(&d), Some(StatusCode::SERVICE_UNAVAILABLE));
    }

    #[tokio::test]
    async fn plain_requests_are_forwarded_without_the_clients_credentials() {
        let up = crate::proxy::parse_upstream_proxy("http://gw:gw-pass@10.0.0.9:3128").unwrap();
        let expected = up.basic_authorization();
        let s = shared(false, policy(&[], &[], false), Some(up));
        let mut h = RequestHandler::new(s);
        let auth = basic("agent", TOKEN);
        let d = h.request(
            peer(),
            req(
                "POST",
                "http://example.com/api",
                &[("proxy-authorization", &auth)],
            ),
        );
        let Decision::Forward { req: forwarded, .. } = d else {
            panic!("expected a forward")
        };
        // The guardian's credential is consumed; the upstream proxy's own goes out.
        let sent = forwarded
            .headers()
            .get(header::PROXY_AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        assert_eq!(sent, expected);
        assert_ne!(sent.as_deref(), Some(auth.as_str()));
        // A WebSocket upgrade is bridged; the bridge adds the upstream's credentials.
        let d = h.request(
            peer(),
            req(
                "GET",
                "http://example.com/ws",
                &[("upgrade", "websocket"), ("connection", "Upgrade")],
            ),
        );
        let Decision::WebSocket {
            req: upgrade,
            target,
        } = d
        else {
            panic!("expected a websocket bridge")
        };
        assert!(target.via_upstream_plain);
        assert_eq!(target.target.to_string(), "http://example.com:80/ws");
        assert!(!upgrade.headers().contains_key(header::PROXY_AUTHORIZATION));
    }

    #[tokio::test]
    async fn connect_is_intercepted_only_when_enabled_trusted_and_not_excluded() {
        let excluded = [HostPattern::Suffix("pinned.example".into())];
        let kind = |mitm: bool, trusted: &[&str], host: &str| {
            let s = shared(mitm, policy(trusted, &excluded, false), None);
            let mut h = RequestHandler::new(s);
            let auth = basic("agent", TOKEN);
            match h.request(
                peer(),
                req("CONNECT", host, &[("proxy-authorization", &auth)]),
            ) {
                Decision::Intercept { target, .. } => {
                    assert_eq!(target.connect.runtime.as_deref(), Some("agent"));
                    "intercept"
                }
                Decision::Tunnel { target, .. } => {
                    assert_eq!(target.source, "agent");
                    "tunnel"
                }
                Decision::Answer(_) => "answer",
                _ => "other",
            }
        };
        assert_eq!(kind(true, &["agent"], "api.example.com:443"), "intercept");
        assert_eq!(kind(true, &["*"], "api.example.com:443"), "intercept");
        assert_eq!(kind(false, &["agent"], "api.example.com:443"), "tunnel");
        assert_eq!(kind(true, &["other"], "api.example.com:443"), "tunnel");
        // `.pinned.example` covers the domain and its subdomains only.
        assert_eq!(kind(true, &["*"], "pinned.example:443"), "tunnel");
        assert_eq!(kind(true, &["*"], "API.Pinned.Example.:443"), "tunnel");
        assert_eq!(kind(true, &["*"], "notpinned.example:443"), "intercept");
        // Protocols that are not HTTP(S) are never intercepted.
        assert_eq!(kind(true, &["*"], "mail.example.com:25"), "tunnel");
        assert_eq!(kind(true, &["*"], "127.0.0.1:443"), "answer");
    }

    #[tokio::test]
    async fn requests_inside_an_intercepted_tunnel_inherit_its_identity() {
        let s = shared(true, policy(&["*"], &[], true), None);
        let mut h = RequestHandler::new(s);
        let auth = basic("agent", TOKEN);
        let d = h.request(
            peer(),
            req(
                "CONNECT",
                "api.example.com:443",
                &[("proxy-authorization", &auth)],
            ),
        );
        let Decision::Intercept { mut handler, .. } = d else {
            panic!("expected an intercept")
        };
        // No credentials inside: the CONNECT's runtime is inherited.
        let d = handler.request(peer(), req("GET", "https://api.example.com/v1", &[]));
        assert!(matches!(d, Decision::Forward { .. }));
        // A CONNECT inside the tunnel is refused.
        let d = handler.request(peer(), req("CONNECT", "other.example:443", &[]));
        assert_eq!(answer_status(&d), Some(StatusCode::METHOD_NOT_ALLOWED));
    }

    #[test]
    fn wildcard_exclusions_are_rejected_by_the_config_and_unrepresentable_here() {
        // The validator and the proxy agree: `*.suffix` is refused with a
        // hint to write `.suffix`, which is what the proxy matches.
        let err = crate::core::config::parse_host_pattern("*.pinned.example").unwrap_err();
        assert!(err.1.contains(".pinned.example"), "{err:?}");
        let p = crate::core::config::parse_host_pattern(".pinned.example").unwrap();
        let pol = policy(&["*"], &[p], false);
        assert!(pol.is_excluded("pinned.example"));
        assert!(pol.is_excluded("a.pinned.example"));
        assert!(!pol.is_excluded("apinned.example"));
        let ip = crate::core::config::parse_host_pattern("[::1]").unwrap();
        assert!(policy(&[], &[ip], false).is_excluded("[::1]"));
    }
}
