use super::config::ConfigInput;
use super::types::{Finding, FindingPage, FindingQuery};
use crate::core::config::Mode as CoreMode;
use crate::core::finding::Finding as CoreFinding;
use crate::home_guardian::{GuardianError, GuardianStatus as CoreStatus, HomeGuardian};
use crate::proxy::{ProxyError, ProxyState, StartInfo as CoreStartInfo};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::sync::Arc;

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Errors reach JavaScript with a stable code in front of a message that
/// says what to do, e.g. `[ALREADY_RUNNING] the proxy is already running; …`.
fn js_error(e: GuardianError) -> Error {
    let code = match &e {
        GuardianError::Config(_) => "INVALID_CONFIG",
        GuardianError::ModeOff => "MODE_OFF",
        GuardianError::Key(_) => "KEY_FILE",
        GuardianError::Store(_) => "STORE",
        GuardianError::Rules(_) => "RULES",
        GuardianError::KnownSecrets(_) => "KNOWN_SECRETS",
        GuardianError::Proxy(ProxyError::AlreadyRunning { .. }) => "ALREADY_RUNNING",
        GuardianError::Proxy(ProxyError::NotRunning { .. }) => "NOT_RUNNING",
        GuardianError::Proxy(ProxyError::Bind { .. }) => "BIND_FAILED",
        GuardianError::Proxy(_) => "PROXY",
    };
    let status = match &e {
        GuardianError::Config(_) => Status::InvalidArg,
        _ => Status::GenericFailure,
    };
    Error::new(status, format!("[{code}] {e}"))
}

/// A guardian's lifecycle state.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardianState {
    Stopped,
    Starting,
    Running,
    Stopping,
    Failed,
}

impl From<ProxyState> for GuardianState {
    fn from(s: ProxyState) -> Self {
        match s {
            ProxyState::Stopped => GuardianState::Stopped,
            ProxyState::Starting => GuardianState::Starting,
            ProxyState::Running => GuardianState::Running,
            ProxyState::Stopping => GuardianState::Stopping,
            ProxyState::Failed => GuardianState::Failed,
        }
    }
}

/// Whether the guardian runs. There is no blocking mode, by design.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardianMode {
    /// Nothing listens (the default).
    Off,
    /// Detect and log; traffic is always forwarded unchanged.
    Detect,
}

impl From<CoreMode> for GuardianMode {
    fn from(m: CoreMode) -> Self {
        match m {
            CoreMode::Off => GuardianMode::Off,
            CoreMode::Detect => GuardianMode::Detect,
        }
    }
}

/// HTTPS inspection state.
#[napi(object)]
pub struct HttpsInfo {
    /// HTTPS is decrypted (for the trusted runtimes) with the guardian CA.
    pub mitm: bool,
    /// SHA-256 of the CA certificate, colon-separated hex.
    #[napi(js_name = "ca_fingerprint")]
    pub ca_fingerprint: Option<String>,
    /// Public CA certificate to mount into containers.
    #[napi(js_name = "ca_cert_path")]
    pub ca_cert_path: Option<String>,
}

/// What `start()` resolves with once the listener is bound.
#[napi(object)]
pub struct StartInfo {
    /// `host:port` the proxy listens on.
    pub address: String,
    pub port: u32,
    pub mode: GuardianMode,
    pub https: HttpsInfo,
}

impl StartInfo {
    fn from_core(info: CoreStartInfo, mode: CoreMode) -> Self {
        let address = if info.address.contains(':') {
            format!("[{}]:{}", info.address, info.port)
        } else {
            format!("{}:{}", info.address, info.port)
        };
        StartInfo {
            address,
            port: u32::from(info.port),
            mode: mode.into(),
            https: HttpsInfo {
                mitm: info.mitm,
                ca_fingerprint: info.ca_fingerprint,
                ca_cert_path: info.ca_cert_path.map(|p| p.display().to_string()),
            },
        }
    }
}

/// Declares [`GuardianCounters`] (and so its TypeScript interface) and its
/// conversion from the core status together, one entry per counter: a new
/// counter is one entry here (plus the proxy's own `stats.rs`). `c` is the
/// proxy's counters, `store` the finding store's.
macro_rules! guardian_counters {
    (|$c:ident, $store:ident| $( $(#[doc = $doc:literal])* $field:ident $js:literal : $ty:ty = $value:expr ;)+) => {
        /// Traffic and finding counters since start.
        #[napi(object)]
        pub struct GuardianCounters {
            $( $(#[doc = $doc])* #[napi(js_name = $js)] pub $field: $ty, )+
        }

        impl GuardianCounters {
            fn from_core(s: &CoreStatus) -> Self {
                let $c = &s.proxy.counters;
                let $store = &s.store;
                GuardianCounters { $( $field: $value, )+ }
            }
        }
    };
}

guardian_counters! { |c, store|
    connections "connections": i64 = to_i64(c.connections);
    requests "requests": i64 = to_i64(c.requests);
    responses "responses": i64 = to_i64(c.responses);
    bytes_scanned_outbound "bytes_scanned_outbound": i64 = to_i64(c.bytes_scanned_outbound);
    bytes_scanned_inbound "bytes_scanned_inbound": i64 = to_i64(c.bytes_scanned_inbound);
    findings_exfil "findings_exfil": i64 = to_i64(c.findings_by_threat.exfil);
    findings_injection "findings_injection": i64 = to_i64(c.findings_by_threat.injection);
    findings_low "findings_low": i64 = to_i64(c.findings_by_severity.low);
    findings_medium "findings_medium": i64 = to_i64(c.findings_by_severity.medium);
    findings_high "findings_high": i64 = to_i64(c.findings_by_severity.high);
    findings_critical "findings_critical": i64 = to_i64(c.findings_by_severity.critical);
    /// Messages longer than `max_scan_bytes`: the rest was forwarded uninspected.
    truncated_messages "truncated_messages": i64 = to_i64(c.truncated_messages);
    decode_failures "decode_failures": i64 = to_i64(c.decode_failures);
    upstream_errors "upstream_errors": i64 = to_i64(c.upstream_errors);
    /// HTTPS connections tunnelled blind (not inspected).
    tunnels "tunnels": i64 = to_i64(c.tunnels);
    mitm_connections "mitm_connections": i64 = to_i64(c.mitm_connections);
    auth_failures "auth_failures": i64 = to_i64(c.auth_failures);
    pivot_refusals "pivot_refusals": i64 = to_i64(c.pivot_refusals);
    websocket_messages "websocket_messages": i64 = to_i64(c.websocket_messages);
    /// Client bytes that broke HTTP or TLS: malformed or oversized heads,
    /// invalid body framing, failed MITM handshakes.
    client_protocol_errors "client_protocol_errors": i64 = to_i64(c.client_protocol_errors);
    /// Clients cut off for stalling (request head or body).
    client_timeouts "client_timeouts": i64 = to_i64(c.client_timeouts);
    /// Upstreams that sent no response head in time (answered 504).
    upstream_timeouts "upstream_timeouts": i64 = to_i64(c.upstream_timeouts);
    /// Bytes waiting for the scan threads now.
    scan_queue_bytes "scan_queue_bytes": i64 = to_i64(c.scan.queue_bytes);
    /// Highest scan queue depth seen (bytes).
    scan_queue_peak_bytes "scan_queue_peak_bytes": i64 = to_i64(c.scan.queue_peak_bytes);
    /// Time the scan threads spent scanning (sum of job durations).
    scan_time_ms "scan_time_ms": i64 = to_i64(c.scan.time_ms);
    /// The same in seconds, with nanosecond precision (the histogram's sum).
    scan_time_seconds "scan_time_seconds": f64 = c.scan.time_ns as f64 / 1e9;
    /// Scan jobs finished (the histogram's count).
    scan_jobs "scan_jobs": i64 = to_i64(c.scan.jobs);
    /// Upper bounds (seconds) of the scan-time histogram's buckets.
    scan_time_bucket_bounds "scan_time_bucket_bounds": Vec<f64> = crate::proxy::stats::SCAN_TIME_BUCKETS_NS
        .iter()
        .map(|&ns| ns as f64 / 1e9)
        .collect();
    /// Cumulative jobs per bound (Prometheus `le` semantics).
    scan_time_bucket_counts "scan_time_bucket_counts": Vec<i64> = c.scan.time_buckets.iter().map(|&n| to_i64(n)).collect();
    /// Forwarded unscanned because the scan queues were full.
    unscanned_overload_bytes "unscanned_overload_bytes": i64 = to_i64(c.scan.unscanned_bytes.overload);
    /// Forwarded unscanned past a message's `max_scan_bytes`.
    unscanned_limit_bytes "unscanned_limit_bytes": i64 = to_i64(c.scan.unscanned_bytes.limit);
    /// Binary bodies (images, audio, video, fonts, archives, wasm), not scanned.
    unscanned_binary_bytes "unscanned_binary_bytes": i64 = to_i64(c.scan.unscanned_bytes.binary);
    /// Long-lived streams (event streams, tunnels) beyond their sliding scan
    /// budget, not scanned; scanned again once the budget refills.
    unscanned_stream_budget_bytes "unscanned_stream_budget_bytes": i64 = to_i64(c.scan.unscanned_bytes.stream_budget);
    /// Client connections open now (a gauge).
    open_connections "open_connections": i64 = to_i64(c.open_connections);
    /// Connections closed on accept: `max_connections` were open.
    rejected_total_cap "rejected_total_cap": i64 = to_i64(c.rejected_total_cap);
    /// Connections closed on accept: their address had `max_connections_per_client` open.
    rejected_client_cap "rejected_client_cap": i64 = to_i64(c.rejected_client_cap);
    /// Connections closed for sending nothing within the first-byte timeout.
    silent_connections_closed "silent_connections_closed": i64 = to_i64(c.silent_connections_closed);
    /// Keep-alive connections closed after the idle timeout.
    idle_connections_closed "idle_connections_closed": i64 = to_i64(c.idle_connections_closed);
    /// Findings emitted after dedup.
    findings_emitted "findings_emitted": i64 = to_i64(store.findings_emitted);
    /// Findings written to the JSONL file.
    findings_written "findings_written": i64 = to_i64(store.findings_written);
    /// Repeats folded into other findings' `count`.
    occurrences_folded "occurrences_folded": i64 = to_i64(store.occurrences_folded);
    /// Findings (and count records) whose write failed when first tried.
    write_errors "write_errors": i64 = to_i64(store.write_errors);
    /// Records waiting to be retried after a failed write (bounded queue).
    findings_pending "findings_pending": i64 = to_i64(store.pending_writes);
    /// Records lost because the retry queue overflowed.
    findings_dropped "findings_dropped": i64 = to_i64(store.dropped_writes);
}

/// Effective settings worth showing; secrets masked.
#[napi(object)]
pub struct ConfigSummary {
    #[napi(js_name = "max_scan_bytes")]
    pub max_scan_bytes: i64,
    #[napi(js_name = "redact_snippets")]
    pub redact_snippets: String,
    /// `background` (scan threads below forwarding on busy cores) or `normal`.
    #[napi(js_name = "scan_priority")]
    pub scan_priority: String,
    /// Runtime names, declared and registered at run time (never their tokens).
    pub runtimes: Vec<String>,
    #[napi(js_name = "require_auth")]
    pub require_auth: bool,
    /// Upstream proxy with credentials masked.
    #[napi(js_name = "upstream_proxy")]
    pub upstream_proxy: Option<String>,
}

/// A guardian's state. Contains no secrets.
#[napi(object)]
pub struct GuardianStatus {
    pub state: GuardianState,
    pub running: bool,
    pub mode: GuardianMode,
    #[napi(js_name = "started_at")]
    pub started_at: Option<String>,
    #[napi(js_name = "uptime_ms")]
    pub uptime_ms: i64,
    /// `host:port` while running.
    pub listen: Option<String>,
    pub home: String,
    #[napi(js_name = "log_dir")]
    pub log_dir: String,
    #[napi(js_name = "findings_file")]
    pub findings_file: String,
    pub https: HttpsInfo,
    /// Whether traffic is inspected. `false`: started with `inspect: false`
    /// (`--no-inspect`), the bare proxy, a benchmarking aid that finds nothing.
    pub inspect: bool,
    pub counters: GuardianCounters,
    /// Why findings are not being written to disk right now (they stay queryable in memory).
    #[napi(js_name = "store_error")]
    pub store_error: Option<String>,
    #[napi(js_name = "last_error")]
    pub last_error: Option<String>,
    pub config: ConfigSummary,
    /// Config reloads (SIGHUP / `traffic-guardian reload`) and the last result.
    pub reload: ReloadStatus,
}

/// What one config reload did.
#[napi(object)]
pub struct ReloadResult {
    /// Whether the new config was applied; when false the running one is kept.
    pub applied: bool,
    /// Why it was rejected (one `field: message (hint)` per line).
    pub error: Option<String>,
    /// Every problem of a rejected config.
    pub issues: Vec<super::config::ConfigIssue>,
    /// Keys that changed but only take effect after a restart (e.g. `listen`).
    #[napi(js_name = "restart_needed")]
    pub restart_needed: Vec<String>,
}

impl From<crate::home_guardian::ReloadOutcome> for ReloadResult {
    fn from(o: crate::home_guardian::ReloadOutcome) -> Self {
        ReloadResult {
            applied: o.applied,
            error: o.error,
            issues: o.issues.into_iter().map(Into::into).collect(),
            restart_needed: o.restart_needed.iter().map(|k| (*k).to_owned()).collect(),
        }
    }
}

/// Reload counters since start.
#[napi(object)]
pub struct ReloadStatus {
    /// Reloads applied.
    pub applied: i64,
    /// Reloads rejected (invalid config; the running one was kept).
    pub rejected: i64,
    /// RFC 3339 time of the last reload.
    #[napi(js_name = "last_at")]
    pub last_at: Option<String>,
    /// The last reload's result.
    pub last: Option<ReloadResult>,
}

impl From<CoreStatus> for GuardianStatus {
    fn from(s: CoreStatus) -> Self {
        GuardianStatus {
            state: s.proxy.state.into(),
            running: s.proxy.state == ProxyState::Running,
            mode: s.mode.into(),
            started_at: s.proxy.started_at.clone(),
            uptime_ms: to_i64(s.proxy.uptime_ms),
            listen: s.proxy.listen.clone(),
            home: s.home.display().to_string(),
            log_dir: s.log_dir.display().to_string(),
            findings_file: s.findings_file.display().to_string(),
            https: HttpsInfo {
                mitm: s.proxy.mitm.enabled,
                ca_fingerprint: s.proxy.mitm.ca_fingerprint.clone(),
                ca_cert_path: s
                    .proxy
                    .mitm
                    .ca_cert_path
                    .as_ref()
                    .map(|p| p.display().to_string()),
            },
            inspect: s.proxy.inspect,
            counters: GuardianCounters::from_core(&s),
            store_error: s.store.last_error.clone(),
            last_error: s.proxy.last_error.clone(),
            config: ConfigSummary {
                max_scan_bytes: to_i64(s.max_scan_bytes as u64),
                redact_snippets: s.redact_snippets.to_owned(),
                scan_priority: s.scan_priority.as_str().to_owned(),
                runtimes: s.runtimes.clone(),
                require_auth: s.require_auth,
                upstream_proxy: s.upstream_proxy.clone(),
            },
            reload: ReloadStatus {
                applied: to_i64(s.reload.applied),
                rejected: to_i64(s.reload.rejected),
                last_at: s.reload.last_at.clone(),
                last: s.reload.last.clone().map(ReloadResult::from),
            },
        }
    }
}

/// The traffic guardian: a host-side, detect-and-log HTTP/HTTPS proxy.
/// Constructing validates the configuration (same checks as
/// `checkConfig`); nothing listens until `start()`.
// The binding of a [`HomeGuardian`] (the public JS class).
#[napi]
pub struct Guardian {
    inner: Arc<HomeGuardian>,
}

#[napi]
impl Guardian {
    /// Throws `[INVALID_CONFIG] …` listing every problem (field, message, hint).
    #[napi(constructor)]
    pub fn new(input: Option<ConfigInput>) -> Result<Self> {
        super::logging::init();
        let mut input = input.unwrap_or_default();
        let known = super::config::take_known_secrets(&mut input);
        let input = input.into();
        let inner = HomeGuardian::from_input_with_secrets(&input, &known).map_err(js_error)?;
        Ok(Guardian {
            inner: Arc::new(inner),
        })
    }

    /// Binds the listener and starts proxying. `onFinding` is called with
    /// every finding after dedup (already redacted); it does not keep Node
    /// alive, and an exception thrown in it is swallowed.
    #[napi(ts_args_type = "onFinding?: (finding: Finding) => void")]
    pub async fn start(
        &self,
        on_finding: Option<ThreadsafeFunction<Finding, (), Finding, Status, false, true>>,
    ) -> Result<StartInfo> {
        match on_finding {
            Some(tsfn) => {
                let tsfn = Arc::new(tsfn);
                self.inner
                    .set_listener(Some(Arc::new(move |f: &CoreFinding| {
                        tsfn.call_with_return_value(
                            Finding::from(f.clone()),
                            ThreadsafeFunctionCallMode::NonBlocking,
                            |_result: Result<()>, _env| Ok(()),
                        );
                    })));
            }
            None => self.inner.set_listener(None),
        }
        let mode = self.inner.config().mode;
        match self.inner.start().await {
            Ok(info) => Ok(StartInfo::from_core(info, mode)),
            Err(e) => {
                self.inner.set_listener(None);
                Err(js_error(e))
            }
        }
    }

    /// Stops accepting, lets in-flight exchanges finish (up to
    /// `shutdown_grace_ms`), writes pending dedup summaries, resolves.
    #[napi]
    pub async fn stop(&self) -> Result<()> {
        let result = self.inner.stop().await;
        self.inner.set_listener(None);
        result.map_err(js_error)
    }

    /// Current state, counters and (masked) settings.
    #[napi]
    pub fn status(&self) -> GuardianStatus {
        self.inner.status().into()
    }

    /// Registers (or replaces) a runtime's credential, stopped or running:
    /// the next request presenting `name:token` is attributed to `name`.
    /// With `upstreamProxy` (`http://user:pass@host:port`) that runtime's
    /// traffic goes upstream with these credentials instead of the global
    /// `upstream_proxy` (e.g. its own OneCLI agent token). Kept in memory
    /// only. Throws `[INVALID_RUNTIME] …` naming the runtime, never the token.
    #[napi(js_name = "addRuntime")]
    pub fn add_runtime(
        &self,
        name: String,
        token: String,
        upstream_proxy: Option<String>,
    ) -> Result<()> {
        self.inner
            .add_runtime(&name, &token, upstream_proxy.as_deref())
            .map_err(|e| Error::new(Status::InvalidArg, format!("[INVALID_RUNTIME] {e}")))
    }

    /// Re-reads and validates the configuration (same checks as
    /// `checkConfig`) and applies it to new connections: rule options,
    /// `mitm.trusted_runtimes`, `mitm.exclude_hosts`, `require_auth`,
    /// declared `runtimes`. Keys that need a restart (`listen`, `home`, …)
    /// are kept and listed in `restart_needed`. An invalid config is
    /// rejected (`applied: false`, `issues` name each bad field) and the
    /// running one kept. Never throws for a bad config.
    #[napi]
    pub fn reload(&self, input: Option<ConfigInput>) -> ReloadResult {
        let input = input.unwrap_or_default().into();
        self.inner.reload(&input).into()
    }

    /// Queries findings (JSONL store plus the in-memory ring), newest first.
    #[napi]
    pub fn findings(&self, query: Option<FindingQuery>) -> Result<FindingPage> {
        let q = query
            .unwrap_or_default()
            .into_core()
            .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))?;
        self.inner
            .findings(&q)
            .map(FindingPage::from)
            .map_err(js_error)
    }
}
