//! Lifecycle of the proxy: start (bind first, report the bound address),
//! stop (stop accepting, let in-flight exchanges finish within the grace
//! period), status. Usable from napi's tokio runtime and from tokio tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder as ServerBuilder;
use serde::Serialize;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tracing::{info, warn};

use crate::core::finding::format_timestamp;
use crate::core::scan::Detector;
use crate::storage::store::FindingSink;

use super::auth::RuntimeAuth;
use super::ca::{CaInfo, GuardianCa};
use super::error::ProxyError;
use super::host::raise_nofile_limit;
use super::inspect::{DetectorCell, Inspection};
use super::limits::ConnLimiter;
use super::pivot::PivotGuard;
use super::scan_pool::{ScanPause, ScanPool};
use super::server;
use super::settings::{check_upstream_supported, parse_upstream_proxy, ProxySettings};
use super::state::{Policy, PolicyCell, ServerParts, Shared};
use super::stats::{ProxyStats, StatsSnapshot};
use super::upstream::{build_client, build_client_tls, build_h2c_client, UpstreamConnector};
use crate::core::config::UpstreamProxy;

/// Slow clients get this long to send a request head.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Lifecycle state of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyState {
    Stopped,
    Starting,
    Running,
    Stopping,
    Failed,
}

impl ProxyState {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProxyState::Stopped => "stopped",
            ProxyState::Starting => "starting",
            ProxyState::Running => "running",
            ProxyState::Stopping => "stopping",
            ProxyState::Failed => "failed",
        }
    }
}

/// What `start` reports once the listener is bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartInfo {
    pub address: String,
    pub port: u16,
    pub mitm: bool,
    /// SHA-256 of the CA certificate (uppercase hex, colon-separated) when MITM is on.
    pub ca_fingerprint: Option<String>,
    /// Path of the public CA certificate when MITM is on.
    pub ca_cert_path: Option<PathBuf>,
}

/// MITM part of the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MitmSummary {
    pub enabled: bool,
    pub ca_fingerprint: Option<String>,
    pub ca_cert_path: Option<PathBuf>,
    pub trusted_runtimes: Vec<String>,
    pub excluded_hosts: Vec<String>,
    pub cached_leaf_certs: usize,
}

/// A snapshot of the engine for `status()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyStatus {
    pub state: ProxyState,
    /// RFC 3339 UTC start time of the current (or last) run.
    pub started_at: Option<String>,
    pub uptime_ms: u64,
    /// Bound address (`ip:port`) while running.
    pub listen: Option<String>,
    pub inspect: bool,
    pub require_auth: bool,
    /// Upstream proxy with credentials masked.
    pub upstream_proxy: Option<String>,
    pub mitm: MitmSummary,
    pub last_error: Option<String>,
    pub counters: StatsSnapshot,
}

struct Running {
    shutdown: oneshot::Sender<()>,
    join: JoinHandle<()>,
    shared: Arc<Shared>,
    cancel: watch::Sender<bool>,
    ca: Option<Arc<GuardianCa>>,
}

struct StatusInner {
    state: ProxyState,
    started_at: Option<(String, Instant)>,
    listen: Option<SocketAddr>,
    ca: Option<CaInfo>,
    last_error: Option<String>,
    ca_handle: Option<Arc<GuardianCa>>,
}

/// The guardian's proxy: one per configuration; start/stop/start is allowed.
pub struct ProxyEngine {
    settings: ProxySettings,
    /// The detector, swapped by [`ProxyEngine::reload`].
    detector: Option<DetectorCell>,
    /// Trusted runtimes, MITM exclusions, require_auth; swapped by a reload.
    policy: PolicyCell,
    sink: Arc<dyn FindingSink>,
    stats: Arc<ProxyStats>,
    lifecycle: tokio::sync::Mutex<Option<Running>>,
    status: Mutex<StatusInner>,
    /// Started with the first run that inspects; kept across restarts.
    pool: Mutex<Option<ScanPool>>,
    /// Runtime credentials, shared with every run (runtimes added at any time).
    auth: RuntimeAuth,
}

impl std::fmt::Debug for ProxyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyEngine")
            .field("settings", &self.settings)
            .field("state", &self.state())
            .finish()
    }
}

/// The upstream proxy as the status shows it: user name and password
/// both hidden (`http://***@host:port`).
fn masked_upstream(up: &UpstreamProxy) -> String {
    if up.username.is_some() || up.password.is_some() {
        format!("{}://***@{}", up.scheme, up.authority())
    } else {
        format!("{}://{}", up.scheme, up.authority())
    }
}

fn provider() -> Arc<CryptoProvider> {
    // ring is the one provider compiled in; named rather than installed
    // process-wide, so that the host process's own rustls users are unaffected.
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}

impl ProxyEngine {
    /// Creates a stopped engine. `detector = None` (or `settings.inspect = false`)
    /// gives a proxy that inspects nothing.
    pub fn new(
        settings: ProxySettings,
        detector: Option<Arc<Detector>>,
        sink: Arc<dyn FindingSink>,
    ) -> Self {
        let settings_runtimes = settings.runtimes.clone();
        let policy = Policy::new(
            settings.trusted_runtimes.clone(),
            &settings.mitm_exclude_hosts,
            settings.require_auth,
        );
        ProxyEngine {
            settings,
            detector: detector.map(|d| Arc::new(RwLock::new(d))),
            policy: Arc::new(RwLock::new(Arc::new(policy))),
            sink,
            stats: Arc::new(ProxyStats::default()),
            lifecycle: tokio::sync::Mutex::new(None),
            status: Mutex::new(StatusInner {
                state: ProxyState::Stopped,
                started_at: None,
                listen: None,
                ca: None,
                last_error: None,
                ca_handle: None,
            }),
            pool: Mutex::new(None),
            auth: RuntimeAuth::new(&settings_runtimes),
        }
    }

    /// Registers (or replaces) a runtime's credential while stopped or
    /// running; the next request presenting it is attributed to `name`.
    /// `upstream_proxy` (`http://user:pass@host:port`) sends that runtime's
    /// traffic upstream with its own credentials instead of the global ones.
    pub fn add_runtime(
        &self,
        name: &str,
        token: &str,
        upstream_proxy: Option<&str>,
    ) -> Result<(), ProxyError> {
        let upstream = upstream_proxy
            .filter(|u| !u.trim().is_empty())
            .map(parse_upstream_proxy)
            .transpose()?;
        self.auth
            .add(name, token, upstream)
            .map_err(|e| ProxyError::Settings(e.to_string()))
    }

    /// Applies a reloaded configuration to connections accepted from now on
    /// (and to messages whose scan starts from now on): the detector (rule
    /// options), trusted runtimes, MITM exclusions and require_auth. What is
    /// already open keeps what it started with. `detector` is ignored when
    /// the engine inspects nothing.
    pub fn reload(&self, detector: Option<Arc<Detector>>, policy: Policy) {
        if let (Some(cell), Some(d)) = (&self.detector, detector) {
            *cell.write().unwrap_or_else(|e| e.into_inner()) = d;
        }
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policy);
        info!("proxy configuration reloaded");
    }

    /// Removes a runtime's credential (a reload dropped it from the config).
    pub fn remove_runtime(&self, name: &str) {
        self.auth.remove(name);
    }

    /// Names of the runtimes known now (declared and added).
    pub fn runtime_names(&self) -> Vec<String> {
        self.auth.names()
    }

    fn pool(&self) -> Option<ScanPool> {
        self.pool.lock().ok().and_then(|p| p.clone())
    }

    /// The scan pool, started on first use.
    fn ensure_pool(&self) -> Result<ScanPool, ProxyError> {
        let mut slot = self
            .pool
            .lock()
            .map_err(|_| ProxyError::Server("scan pool lock poisoned".into()))?;
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let pool = ScanPool::start(self.settings.scan_pool, Arc::clone(&self.stats))
            .map_err(|e| ProxyError::Server(format!("cannot start the scan threads: {e}")))?;
        *slot = Some(pool.clone());
        Ok(pool)
    }

    /// Resolves once inspection has caught up: every queued scan has run and
    /// every finished message body has been scanned to its end (findings are
    /// recorded asynchronously, off the forwarding path). Tunnels and
    /// WebSockets still open are not waited for.
    pub async fn scan_idle(&self) {
        if let Some(p) = self.pool() {
            p.idle().await;
        }
    }

    /// Holds the scan pool's workers until the returned guard is dropped
    /// (test and diagnostics hook: forwarding must go on regardless).
    /// `None` when nothing is inspected.
    pub fn pause_scanning(&self) -> Option<ScanPause> {
        self.pool().map(|p| p.pause())
    }

    /// The settings this engine was built with.
    pub fn settings(&self) -> &ProxySettings {
        &self.settings
    }

    /// Live counters (cumulative over restarts).
    pub fn stats(&self) -> Arc<ProxyStats> {
        Arc::clone(&self.stats)
    }

    fn state(&self) -> ProxyState {
        self.status
            .lock()
            .map(|s| s.state)
            .unwrap_or(ProxyState::Failed)
    }

    fn set_state(&self, state: ProxyState) {
        if let Ok(mut s) = self.status.lock() {
            s.state = state;
        }
    }

    /// Binds the listener and starts serving; resolves once bound.
    pub async fn start(&self) -> Result<StartInfo, ProxyError> {
        let mut lifecycle = self.lifecycle.lock().await;
        if lifecycle.is_some() {
            return Err(ProxyError::AlreadyRunning {
                state: self.state().as_str(),
            });
        }
        self.set_state(ProxyState::Starting);
        match self.start_inner().await {
            Ok((running, info, local)) => {
                if let Ok(mut s) = self.status.lock() {
                    s.state = ProxyState::Running;
                    s.started_at = Some((
                        format_timestamp(time::OffsetDateTime::now_utc()),
                        Instant::now(),
                    ));
                    s.listen = Some(local);
                    s.ca = running.ca.as_ref().map(|c| c.info().clone());
                    s.ca_handle = running.ca.clone();
                    s.last_error = None;
                }
                *lifecycle = Some(running);
                info!(address = %local, mitm = info.mitm, inspect = self.settings.inspect, "proxy started");
                Ok(info)
            }
            Err(e) => {
                if let Ok(mut s) = self.status.lock() {
                    s.state = ProxyState::Failed;
                    s.listen = None;
                    s.last_error = Some(e.to_string());
                }
                warn!(error = %e, "proxy failed to start");
                Err(e)
            }
        }
    }

    async fn start_inner(&self) -> Result<(Running, StartInfo, SocketAddr), ProxyError> {
        let st = &self.settings;
        let provider = provider();
        if let Some(up) = &st.upstream_proxy {
            check_upstream_supported(up)?;
        }
        let upstream = st.upstream_proxy.clone().map(Arc::new);
        let client_tls = build_client_tls(Arc::clone(&provider), st.extra_ca_bundle.as_deref())?;
        let ca = if st.mitm_enabled {
            let dir = st.ca_dir.clone();
            let p = Arc::clone(&provider);
            let ca = tokio::task::spawn_blocking(move || GuardianCa::open(&dir, p))
                .await
                .map_err(|e| ProxyError::Server(format!("CA task failed: {e}")))??;
            Some(Arc::new(ca))
        } else {
            None
        };
        let listener = bind_listener(st.listen).map_err(|source| ProxyError::Bind {
            addr: st.listen,
            source,
        })?;
        let local = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: st.listen,
            source,
        })?;

        let guard = Arc::new(PivotGuard::new(&st.allow_private_destinations));
        guard.refresh_host_addrs();
        match raise_nofile_limit() {
            Ok(l) => info!(
                before = ?l.before,
                soft = ?l.soft,
                hard = ?l.hard,
                "open-file limit (RLIMIT_NOFILE) raised to the hard limit (None = unlimited)"
            ),
            Err(e) => warn!(error = %e, "could not raise the open-file limit (RLIMIT_NOFILE)"),
        }
        let inspection = match (&self.detector, st.inspect) {
            (Some(d), true) => Some(Inspection::new(
                Some(Arc::clone(d)),
                Arc::clone(&self.sink),
                Arc::clone(&self.stats),
                self.ensure_pool()?,
                st.stream_budget.clone(),
                st.shape,
            )),
            _ => None,
        };
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let connector = UpstreamConnector::new(
            Arc::clone(&client_tls),
            upstream.clone(),
            Arc::clone(&guard),
        );

        let mut http = ServerBuilder::new(TokioExecutor::new());
        // Header names go out in the case they came in (HTTP/1 peers) or
        // lowercase as received (HTTP/2 peers): never re-cased.
        http.http1()
            .title_case_headers(false)
            .preserve_header_case(true)
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        // HTTP/2 (ALPN `h2` inside intercepted TLS, or the h2c preface in
        // plaintext) is served as well; hyper picks by the client's first bytes.
        http.http2().timer(TokioTimer::new());

        let client = build_client(connector.clone());
        let client_h2c = build_h2c_client(connector.clone());

        let (closing_tx, closing_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(
            ca.is_some(),
            Arc::clone(&self.policy),
            self.auth.clone(),
            Arc::clone(&guard),
            inspection,
            Arc::clone(&self.stats),
            upstream,
            cancel_rx,
            connector,
            ServerParts {
                ca: ca.clone(),
                http,
                client,
                client_tls: Arc::clone(&client_tls),
                client_h2c,
                request_body_idle_timeout: st.request_body_idle_timeout,
                header_read_timeout: HEADER_READ_TIMEOUT,
                upstream_response_head_timeout: st.upstream_response_head_timeout,
                closing: closing_rx,
                first_byte_timeout: st.first_byte_timeout,
                keep_alive_idle_timeout: st.keep_alive_idle_timeout,
                limiter: Arc::new(ConnLimiter::new(
                    st.max_connections,
                    st.max_connections_per_client,
                    Arc::clone(&self.stats),
                )),
            },
        ));

        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        // The oneshot also fires when the engine (and so the sender) is dropped.
        let join = tokio::spawn(server::run(
            Arc::clone(&shared),
            listener,
            shutdown_rx,
            closing_tx,
        ));

        let info = StartInfo {
            address: local.ip().to_string(),
            port: local.port(),
            mitm: ca.is_some(),
            ca_fingerprint: ca.as_ref().map(|c| c.info().fingerprint_sha256.clone()),
            ca_cert_path: ca.as_ref().map(|c| c.info().cert_path.clone()),
        };
        Ok((
            Running {
                shutdown: shutdown_tx,
                join,
                shared,
                cancel: cancel_tx,
                ca,
            },
            info,
            local,
        ))
    }

    /// Stops accepting, lets in-flight exchanges (and blind tunnels) finish
    /// within `shutdown_grace`, then closes what is left.
    pub async fn stop(&self) -> Result<(), ProxyError> {
        let mut lifecycle = self.lifecycle.lock().await;
        let Some(running) = lifecycle.take() else {
            return Err(ProxyError::NotRunning {
                state: self.state().as_str(),
            });
        };
        self.set_state(ProxyState::Stopping);
        info!("proxy stopping");
        let deadline = tokio::time::Instant::now() + self.settings.shutdown_grace;
        running.shared.stopping.store(true, Ordering::SeqCst);
        let _ = running.shutdown.send(());
        let mut join = running.join;
        let mut error = None;
        match tokio::time::timeout_at(deadline, &mut join).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => error = Some(format!("proxy task failed: {e}")),
            Err(_) => {
                warn!("grace period elapsed; closing remaining connections");
                join.abort();
                let _ = join.await;
            }
        }
        while running.shared.active_tunnels.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let _ = running.cancel.send(true);
        if let Ok(mut s) = self.status.lock() {
            s.state = ProxyState::Stopped;
            s.listen = None;
            if let Some(e) = &error {
                s.last_error = Some(e.clone());
            }
        }
        info!("proxy stopped");
        Ok(())
    }

    /// State, uptime, address, MITM summary and counters.
    pub fn status(&self) -> ProxyStatus {
        let st = &self.settings;
        let policy = Policy::current(&self.policy);
        let (state, started_at, uptime_ms, listen, ca, last_error, leaves) =
            match self.status.lock() {
                Ok(s) => (
                    s.state,
                    s.started_at.as_ref().map(|(t, _)| t.clone()),
                    match (s.state, &s.started_at) {
                        (ProxyState::Running | ProxyState::Stopping, Some((_, at))) => {
                            u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX)
                        }
                        _ => 0,
                    },
                    s.listen.map(|a| a.to_string()),
                    s.ca.clone(),
                    s.last_error.clone(),
                    s.ca_handle.as_ref().map(|c| c.cached_leaves()).unwrap_or(0),
                ),
                Err(_) => (ProxyState::Failed, None, 0, None, None, None, 0),
            };
        ProxyStatus {
            state,
            started_at,
            uptime_ms,
            listen,
            inspect: st.inspect && self.detector.is_some(),
            require_auth: policy.require_auth,
            upstream_proxy: st.upstream_proxy.as_ref().map(masked_upstream),
            mitm: MitmSummary {
                enabled: st.mitm_enabled,
                ca_fingerprint: ca.as_ref().map(|c| c.fingerprint_sha256.clone()),
                ca_cert_path: ca.map(|c| c.cert_path),
                trusted_runtimes: policy.trusted_runtimes.names(),
                excluded_hosts: policy
                    .mitm_exclude_hosts
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                cached_leaf_certs: leaves,
            },
            last_error,
            counters: self.stats.snapshot(),
        }
    }
}

impl Drop for ProxyEngine {
    fn drop(&mut self) {
        if let Some(p) = self.pool() {
            p.shutdown();
        }
    }
}

/// Binds the client-facing listener with `TCP_NODELAY`, which accepted
/// sockets inherit on Linux: without it
/// Nagle holds the second small TLS record of a MITM'd response until the
/// client's delayed ACK (+40 ms to the first SSE event, measured).
fn bind_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}
