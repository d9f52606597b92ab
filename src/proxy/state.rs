//! State shared by every connection of one running engine: the reloadable
//! access [`Policy`], the serving parts ([`ServerParts`]), per-runtime
//! upstream [`Route`]s and the table of client connections seen.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto::Builder as ServerBuilder;
use tokio::sync::watch;
use tokio_rustls::rustls::ClientConfig;

use crate::core::config::{HostPattern, TrustedRuntimes, UpstreamProxy};

use super::auth::RuntimeAuth;
use super::body::Body;
use super::ca::GuardianCa;
use super::inspect::{ConnectionIds, Inspection};
use super::limits::ConnLimiter;
use super::pivot::{normalize_host, PivotGuard};
use super::stats::ProxyStats;
use super::upstream::{build_client, UpstreamConnector};

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
    pub connector: UpstreamConnector,
    pub client: Client<UpstreamConnector, Body>,
}

/// The access and interception policy a config reload can change. Each
/// client connection reads it once, when it is accepted: a reload applies
/// to connections accepted after it (and the sessions inside their CONNECTs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Whose CONNECTs are decrypted (when MITM is on).
    pub trusted_runtimes: TrustedRuntimes,
    /// Hosts never decrypted, as the config parsed them (`host`, `.suffix`).
    pub mitm_exclude_hosts: Vec<HostPattern>,
    pub require_auth: bool,
}

/// The engine's current [`Policy`], swapped whole by a reload.
pub type PolicyCell = Arc<RwLock<Arc<Policy>>>;

impl Policy {
    pub fn new(
        trusted_runtimes: TrustedRuntimes,
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

    pub(crate) fn is_trusted(&self, runtime: Option<&str>) -> bool {
        self.trusted_runtimes.trusts(runtime)
    }

    /// Whether `host` (as the client named it, `[v6]` included) is never
    /// decrypted: matched by [`HostPattern::matches`], the config's one rule.
    pub(crate) fn is_excluded(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.mitm_exclude_hosts
            .iter()
            .any(|p| p.matches_normalized(&host))
    }
}

/// The serving half of the engine, shared through [`Shared`].
pub struct ServerParts {
    /// The guardian CA when MITM is on.
    pub ca: Option<Arc<GuardianCa>>,
    /// hyper's server configuration (header timeout, header case).
    pub http: ServerBuilder<TokioExecutor>,
    /// The client every forwarded request goes through.
    pub client: Client<UpstreamConnector, Body>,
    /// TLS towards origins, for the per-runtime routes built later.
    pub client_tls: Arc<ClientConfig>,
    /// The client for HTTP/2 with prior knowledge over plain TCP (h2c
    /// inside an intercepted CONNECT: the client knew the origin speaks it).
    pub client_h2c: Client<UpstreamConnector, Body>,
    pub request_body_idle_timeout: Duration,
    /// The request head timeout, also for what precedes hyper inside an
    /// intercepted CONNECT (the first bytes, the TLS handshake).
    pub header_read_timeout: Duration,
    pub upstream_response_head_timeout: Duration,
    /// Turns true when the engine stops accepting: connections finish their
    /// in-flight exchange and close.
    pub closing: watch::Receiver<bool>,
    /// A client connection that sends nothing this long after accept is closed.
    pub first_byte_timeout: Duration,
    /// A keep-alive connection idle this long between exchanges is closed.
    pub keep_alive_idle_timeout: Duration,
    /// Caps on open client connections (total, per client address).
    pub limiter: Arc<ConnLimiter>,
}

/// State shared by every connection of one running engine.
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
    pub connector: UpstreamConnector,
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
        connector: UpstreamConnector,
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

    /// Numbers a newly accepted client connection (`c1`, `c2`, …).
    pub(crate) fn next_connection(&self) -> Arc<ConnectionIds> {
        let id = self.connections_seen.fetch_add(1, Ordering::Relaxed) + 1;
        Arc::new(ConnectionIds::new(Arc::clone(&self.run_tag), id))
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
        let connector = UpstreamConnector::new(
            Arc::clone(&self.server.client_tls),
            Some(Arc::clone(&up)),
            Arc::clone(&self.guard),
        );
        let route = Route {
            upstream: Some(up),
            client: build_client(connector.clone()),
            connector,
        };
        routes.insert(name.to_owned(), route.clone());
        route
    }

    /// Notes a client connection; counts it the first time it is seen.
    pub(crate) fn note_peer(&self, addr: SocketAddr, runtime: Option<&str>) {
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
