//! [`HomeGuardian`]: the guardian of one home directory, a validated config
//! turned into a detector, a finding store and a proxy engine that start,
//! reload and stop together. No napi here: the binding's JS class
//! `Guardian` (`napi/guardian.rs`) wraps this, and Rust tests drive it
//! directly. CONTRIBUTING.md ("Lifecycle layers") names the layers above.

use crate::core::canary;
use crate::core::config::{self, ConfigIssue, ConfigReport, GuardianConfig, Mode};
use crate::core::home::HomeLayout;
use crate::core::known_secrets::{parse_secrets_file, KnownSecrets, SecretLabel};
use crate::core::rules::registry::builtin_specs;
use crate::core::rules::RuleError;
use crate::core::scan::{Detector, DetectorOptions};
use crate::proxy::state::Policy;
use crate::proxy::{
    ProxyEngine, ProxyError, ProxySettings, ProxyStatus, ScanPoolSettings, StartInfo,
};
use crate::storage::canary_file;
use crate::storage::keyfile::{load_or_create_key, KeyFileError};
use crate::storage::store::{
    FindingListener, FindingPage, FindingQuery, FindingSink, FindingStore, StoreError,
    StoreOptions, StoreStats,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Subdirectory of the home holding the CA (`ca.pem` public, key 0600).
pub use crate::core::home::CA_DIR;
/// How often the store ticks: summaries of ended dedup windows, retries of
/// held-back writes, and (every few ticks) count-record checkpoints.
const DEDUP_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum GuardianError {
    #[error("invalid configuration:\n{0}")]
    Config(String),
    #[error("mode is \"off\": nothing listens until the operator opts in; set mode to \"detect\" (config file, NANOCLAW_TRAFFIC_GUARDIAN_MODE, or `traffic-guardian start`)")]
    ModeOff,
    #[error(transparent)]
    Key(#[from] KeyFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("built-in rules failed to compile (a defect, please report it): {0}")]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("known secrets: {0}")]
    KnownSecrets(String),
}

/// One secret value the host registers directly (`createTrafficGuardian({
/// knownSecrets })`): kept only as keyed hashes once the guardian is built.
#[derive(Clone)]
pub struct KnownSecretValue {
    pub name: String,
    pub value: config::SecretString,
    /// Hosts (exact or `.suffix`) where sending it is expected.
    pub expected_hosts: Vec<String>,
}

impl std::fmt::Debug for KnownSecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownSecretValue")
            .field("name", &self.name)
            .field("value", &"****")
            .finish()
    }
}

/// The registry of known secrets for `config` plus `extra`, keyed by the
/// fingerprint key: the config's `known_secrets_file` (re-checked 0600) and
/// the host's own values. `None` when there are none, so scans pay nothing.
pub fn build_known_secrets(
    config: &GuardianConfig,
    key: &[u8; 32],
    extra: &[KnownSecretValue],
    canaries: &[canary::CanaryRecord],
) -> Result<Option<Arc<KnownSecrets>>, GuardianError> {
    let mut ks = KnownSecrets::new(key);
    canary::register_all(&mut ks, canaries)
        .map_err(|e| GuardianError::KnownSecrets(e.to_string()))?;
    if !canaries.is_empty() {
        tracing::info!(canaries = canaries.len(), "canary credentials loaded");
    }
    let hosts_for = |name: &str| -> Vec<String> {
        config
            .known_secret_hosts
            .get(name)
            .map(|h| h.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    };
    if let Some(path) = &config.known_secrets_file {
        let text = crate::storage::config_fs::read_private_text(path).map_err(|(msg, hint)| {
            GuardianError::KnownSecrets(format!(
                "known_secrets_file {} {msg}; {hint}",
                path.display()
            ))
        })?;
        let (pairs, errors, _warnings) = parse_secrets_file(&text);
        drop(text);
        if let Some(e) = errors.first() {
            return Err(GuardianError::KnownSecrets(format!(
                "known_secrets_file {} line {}: {}",
                path.display(),
                e.line,
                e.message
            )));
        }
        for (name, mut value) in pairs {
            let label = SecretLabel::Known {
                expected_hosts: hosts_for(&name),
                name,
            };
            let r = ks.register(label, &value);
            value.fill(0);
            r.map_err(|e| GuardianError::KnownSecrets(e.to_string()))?;
        }
    }
    for v in extra {
        let mut expected_hosts = hosts_for(&v.name);
        expected_hosts.extend(
            v.expected_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase()),
        );
        ks.register(
            SecretLabel::Known {
                name: v.name.clone(),
                expected_hosts,
            },
            v.value.expose().as_bytes(),
        )
        .map_err(|e| GuardianError::KnownSecrets(e.to_string()))?;
    }
    Ok((!ks.is_empty()).then(|| Arc::new(ks)))
}

/// Formats issues one per line as `field: message (hint)`.
pub fn format_issues(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {}: {} ({})", i.field, i.message, i.hint))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the config validator plus the checks that need the rule registry
/// (rule ids in `expected_destinations`), so `checkConfig` and `start`
/// agree exactly.
pub fn check_config(input: &config::ConfigInput) -> ConfigReport {
    let mut report = crate::storage::config_fs::check(input);
    let ids: Vec<&str> = builtin_specs().map(|s| s.id).collect();
    let unknown: Vec<String> = report
        .config
        .as_ref()
        .map(|c| {
            c.expected_destinations
                .keys()
                .filter(|k| !ids.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    for id in unknown {
        let hint = match config::suggest::did_you_mean(&id, ids.iter().copied()) {
            Some(s) => {
                format!("did you mean \"{s}\"? `traffic-guardian rules` lists every rule id")
            }
            None => "`traffic-guardian rules` lists every rule id".to_owned(),
        };
        report.errors.push(ConfigIssue {
            field: format!("expected_destinations.{id}"),
            message: format!("unknown rule id \"{id}\""),
            hint,
        });
    }
    if !report.errors.is_empty() {
        report.ok = false;
        report.config = None;
    }
    report
}

/// A snapshot of a guardian for status displays. Contains no secrets.
#[derive(Debug, Clone)]
pub struct GuardianStatus {
    pub proxy: ProxyStatus,
    pub store: StoreStats,
    pub mode: Mode,
    pub home: PathBuf,
    pub log_dir: PathBuf,
    pub findings_file: PathBuf,
    pub max_scan_bytes: usize,
    pub redact_snippets: &'static str,
    /// The scan threads' priority they started with (restart-only).
    pub scan_priority: config::ScanPriority,
    pub runtimes: Vec<String>,
    pub require_auth: bool,
    /// Upstream proxy with credentials masked.
    pub upstream_proxy: Option<String>,
    /// Config reloads since the guardian was built.
    pub reload: ReloadStats,
}

/// What one config reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// Whether the new config was applied (else the running one is kept).
    pub applied: bool,
    /// Every problem of a rejected config (field, message, hint).
    pub issues: Vec<ConfigIssue>,
    /// The reason of a rejection, one issue per line.
    pub error: Option<String>,
    /// Keys that changed but only take effect after a restart.
    pub restart_needed: Vec<&'static str>,
}

/// Reload counters and the last result, for status displays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadStats {
    pub applied: u64,
    pub rejected: u64,
    /// RFC 3339 time of the last reload attempt.
    pub last_at: Option<String>,
    pub last: Option<ReloadOutcome>,
}

/// Config keys a reload does not change: they name what a running guardian
/// is built around (its socket, its directories, its CA and upstream, its
/// store). Changing them takes a restart. Every other key is applied.
pub const RESTART_ONLY_KEYS: &[&str] = &[
    "mode",
    "listen",
    "home",
    "log_dir",
    "mitm.enabled",
    "ca_bundle",
    "upstream_proxy",
    "allow_private_destinations",
    "dedup_window_secs",
    "rotate_bytes",
    "rotate_keep",
    "ring_capacity",
    "shutdown_grace_ms",
    "metrics_listen",
    "metrics_allow_remote",
    "scan_priority",
];

/// The restart-only keys whose value differs between two configs.
fn restart_only_changes(old: &GuardianConfig, new: &GuardianConfig) -> Vec<&'static str> {
    let changed = [
        old.mode != new.mode,
        old.listen != new.listen,
        old.home != new.home,
        old.log_dir != new.log_dir,
        old.mitm.enabled != new.mitm.enabled,
        old.ca_bundle != new.ca_bundle,
        old.upstream_proxy != new.upstream_proxy,
        old.allow_private_destinations != new.allow_private_destinations,
        old.dedup_window_secs != new.dedup_window_secs,
        old.rotate_bytes != new.rotate_bytes,
        old.rotate_keep != new.rotate_keep,
        old.ring_capacity != new.ring_capacity,
        old.shutdown_grace_ms != new.shutdown_grace_ms,
        old.metrics_listen != new.metrics_listen,
        old.metrics_allow_remote != new.metrics_allow_remote,
        old.scan_priority != new.scan_priority,
    ];
    RESTART_ONLY_KEYS
        .iter()
        .zip(changed)
        .filter_map(|(k, c)| c.then_some(*k))
        .collect()
}

/// `new` with its restart-only keys taken from `running`: what runs after a reload.
fn keep_restart_only(running: &GuardianConfig, new: GuardianConfig) -> GuardianConfig {
    GuardianConfig {
        mode: running.mode,
        listen: running.listen,
        home: running.home.clone(),
        log_dir: running.log_dir.clone(),
        mitm: config::MitmConfig {
            enabled: running.mitm.enabled,
            ..new.mitm
        },
        ca_bundle: running.ca_bundle.clone(),
        upstream_proxy: running.upstream_proxy.clone(),
        allow_private_destinations: running.allow_private_destinations.clone(),
        dedup_window_secs: running.dedup_window_secs,
        rotate_bytes: running.rotate_bytes,
        rotate_keep: running.rotate_keep,
        ring_capacity: running.ring_capacity,
        shutdown_grace_ms: running.shutdown_grace_ms,
        metrics_listen: running.metrics_listen,
        metrics_allow_remote: running.metrics_allow_remote,
        scan_priority: running.scan_priority,
        ..new
    }
}

/// The detector of a config (rule options), with the home's fingerprint key
/// and the known secrets and canaries registered at start (a reload keeps
/// them: the host's own values are not kept anywhere to be read again).
fn build_detector(
    config: &GuardianConfig,
    known_secrets: Option<Arc<KnownSecrets>>,
) -> Result<Detector, GuardianError> {
    let key = load_or_create_key(&HomeLayout::of(&config.home).fingerprint_key_file)?;
    Ok(Detector::builtin(DetectorOptions {
        max_scan_bytes: config.max_scan_bytes,
        snippet_mode: config.redact_snippets,
        fingerprint_key: key,
        expected_destinations: config
            .expected_destinations
            .iter()
            .map(|(id, hosts)| (id.clone(), hosts.iter().map(ToString::to_string).collect()))
            .collect(),
        model_text: config.model_text,
        model_hosts: config.model_hosts.iter().map(ToString::to_string).collect(),
        known_secrets,
        stamp: Arc::new(crate::system::SystemStamp),
    })?)
}

/// The reloadable proxy policy of a config.
fn policy_of(config: &GuardianConfig) -> Policy {
    let settings = proxy_settings(config);
    Policy::new(
        settings.trusted_runtimes,
        &settings.mitm_exclude_hosts,
        settings.require_auth,
    )
}

/// The guardian of one home directory (see the module docs).
pub struct HomeGuardian {
    /// The config it was built with (restart-only keys come from here).
    config: GuardianConfig,
    /// The config in effect: `config` plus every applied reload.
    current: Mutex<GuardianConfig>,
    reloads: Mutex<ReloadStats>,
    store: Arc<FindingStore>,
    engine: ProxyEngine,
    flusher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Known secrets and canaries registered at start, kept across reloads.
    known_secrets: Option<Arc<KnownSecrets>>,
}

impl std::fmt::Debug for HomeGuardian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HomeGuardian")
            .field("home", &self.config.home)
            .finish()
    }
}

fn proxy_settings(cfg: &GuardianConfig) -> ProxySettings {
    // The config's typed values go to the proxy as they are: it parses nothing again.
    ProxySettings {
        listen: cfg.listen,
        mitm_enabled: cfg.mitm.enabled,
        trusted_runtimes: cfg.mitm.trusted_runtimes.clone(),
        mitm_exclude_hosts: cfg.mitm.exclude_hosts.clone(),
        ca_dir: cfg.home.join(CA_DIR),
        extra_ca_bundle: cfg.ca_bundle.clone(),
        upstream_proxy: cfg.upstream_proxy.clone(),
        runtimes: cfg
            .runtimes
            .iter()
            .map(|r| (r.name.clone(), r.token.expose().to_owned()))
            .collect(),
        require_auth: cfg.require_auth,
        allow_private_destinations: cfg.allow_private_destinations.clone(),
        shutdown_grace: Duration::from_millis(cfg.shutdown_grace_ms),
        inspect: cfg.inspect,
        shape: cfg.exfil_shape,
        scan_pool: ScanPoolSettings {
            priority: cfg.scan_priority,
            ..ScanPoolSettings::default()
        },
        // Stall timeouts keep their defaults (ProxySettings is their one home).
        ..ProxySettings::default()
    }
}

impl HomeGuardian {
    /// Prepares the home (0700), the fingerprint key, the rules and the
    /// store. Nothing listens until [`HomeGuardian::start`].
    pub fn new(config: GuardianConfig) -> Result<HomeGuardian, GuardianError> {
        HomeGuardian::with_known_secrets(config, &[])
    }

    /// [`HomeGuardian::new`], also looking for the host's own secret values.
    pub fn with_known_secrets(
        config: GuardianConfig,
        known: &[KnownSecretValue],
    ) -> Result<HomeGuardian, GuardianError> {
        crate::storage::prepare_dirs(&config).map_err(|e| GuardianError::Config(e.to_string()))?;
        let layout = HomeLayout::of(&config.home);
        let key = load_or_create_key(&layout.fingerprint_key_file)?;
        let canaries = canary_file::load(&layout.canary_file)
            .map_err(|e| GuardianError::KnownSecrets(e.to_string()))?;
        let known_secrets = build_known_secrets(&config, &key, known, &canaries)?;
        let detector = Arc::new(build_detector(&config, known_secrets.clone())?);
        let store = Arc::new(FindingStore::open(StoreOptions {
            log_dir: config.log_dir.clone(),
            rotate_bytes: config.rotate_bytes,
            rotate_keep: config.rotate_keep as usize,
            ring_capacity: config.ring_capacity,
            dedup_window_ms: config.dedup_window_secs.saturating_mul(1000),
        })?);
        let sink: Arc<dyn FindingSink> = store.clone();
        let engine = ProxyEngine::new(proxy_settings(&config), Some(detector), sink);
        Ok(HomeGuardian {
            current: Mutex::new(config.clone()),
            reloads: Mutex::new(ReloadStats::default()),
            config,
            store,
            engine,
            flusher: Mutex::new(None),
            known_secrets,
        })
    }

    /// Validates `input` (same checks as `checkConfig`) and builds a guardian.
    pub fn from_input(input: &config::ConfigInput) -> Result<HomeGuardian, GuardianError> {
        HomeGuardian::from_input_with_secrets(input, &[])
    }

    /// [`HomeGuardian::from_input`] plus the host's own known secret values.
    pub fn from_input_with_secrets(
        input: &config::ConfigInput,
        known: &[KnownSecretValue],
    ) -> Result<HomeGuardian, GuardianError> {
        let report = check_config(input);
        match report.config {
            Some(cfg) if report.ok => HomeGuardian::with_known_secrets(cfg, known),
            _ => Err(GuardianError::Config(format_issues(&report.errors))),
        }
    }

    pub fn config(&self) -> &GuardianConfig {
        &self.config
    }

    /// Calls `listener` with every finding as it is emitted (after dedup).
    pub fn set_listener(&self, listener: Option<FindingListener>) {
        self.store.set_listener(listener);
    }

    /// Binds the listener and starts serving. Must run inside a tokio runtime.
    pub async fn start(&self) -> Result<StartInfo, GuardianError> {
        if self.config.mode == Mode::Off {
            return Err(GuardianError::ModeOff);
        }
        let info = self.engine.start().await?;
        let store = Arc::clone(&self.store);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(DEDUP_FLUSH_INTERVAL);
            loop {
                tick.tick().await;
                store.tick();
            }
        });
        if let Ok(mut f) = self.flusher.lock() {
            if let Some(old) = f.replace(task) {
                old.abort();
            }
        }
        tracing::info!(listen = %info.address, port = info.port, mitm = info.mitm, "traffic guardian started");
        Ok(info)
    }

    /// Stops accepting, lets in-flight exchanges finish (up to the grace
    /// period), writes pending dedup summaries and syncs the log.
    pub async fn stop(&self) -> Result<(), GuardianError> {
        let result = self.engine.stop().await;
        if let Ok(mut f) = self.flusher.lock() {
            if let Some(task) = f.take() {
                task.abort();
            }
        }
        self.store.close();
        result?;
        tracing::info!("traffic guardian stopped");
        Ok(())
    }

    /// Resolves once inspection has caught up (see [`ProxyEngine::scan_idle`]).
    pub async fn scan_idle(&self) {
        self.engine.scan_idle().await;
    }

    pub fn status(&self) -> GuardianStatus {
        let current = self
            .current
            .lock()
            .map(|c| c.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        GuardianStatus {
            proxy: self.engine.status(),
            store: self.store.stats(),
            mode: self.config.mode,
            home: self.config.home.clone(),
            log_dir: self.config.log_dir.clone(),
            findings_file: self.store.findings_path(),
            max_scan_bytes: current.max_scan_bytes,
            redact_snippets: current.redact_snippets.as_str(),
            scan_priority: current.scan_priority,
            runtimes: self.engine.runtime_names(),
            require_auth: current.require_auth,
            upstream_proxy: self.config.upstream_proxy.as_ref().map(|u| u.masked()),
            reload: self.reloads.lock().map(|r| r.clone()).unwrap_or_default(),
        }
    }

    /// Re-validates the configuration from `input` (same checks as
    /// `checkConfig`) and applies it to connections accepted from now on:
    /// rule options (`max_scan_bytes`, `redact_snippets`,
    /// `expected_destinations`), `mitm.trusted_runtimes`,
    /// `mitm.exclude_hosts`, `require_auth` and declared `runtimes`. The
    /// keys of [`RESTART_ONLY_KEYS`] keep their running values and are
    /// named in `restart_needed`. An invalid config changes nothing.
    pub fn reload(&self, input: &config::ConfigInput) -> ReloadOutcome {
        let outcome = self.try_reload(input);
        if let Ok(mut r) = self.reloads.lock() {
            if outcome.applied {
                r.applied += 1;
            } else {
                r.rejected += 1;
            }
            r.last_at = Some(crate::system::timestamp_now());
            r.last = Some(outcome.clone());
        }
        match &outcome.error {
            None => {
                tracing::info!(restart_needed = ?outcome.restart_needed, "configuration reloaded")
            }
            Some(e) => {
                tracing::warn!(error = %e, "configuration reload rejected; the running configuration is kept")
            }
        }
        outcome
    }

    fn try_reload(&self, input: &config::ConfigInput) -> ReloadOutcome {
        let rejected = |issues: Vec<ConfigIssue>, error: String| ReloadOutcome {
            applied: false,
            issues,
            error: Some(error),
            restart_needed: Vec::new(),
        };
        let report = check_config(input);
        let new = match report.config {
            Some(cfg) if report.ok => cfg,
            _ => {
                let text = format_issues(&report.errors);
                return rejected(report.errors, text);
            }
        };
        let Ok(mut current) = self.current.lock() else {
            return rejected(Vec::new(), "internal state unavailable".into());
        };
        let restart_needed = restart_only_changes(&current, &new);
        let next = keep_restart_only(&current, new);
        let detector = match build_detector(&next, self.known_secrets.clone()) {
            Ok(d) => Arc::new(d),
            Err(e) => return rejected(Vec::new(), e.to_string()),
        };
        // Declared runtimes: new or re-keyed ones are registered, dropped
        // ones forgotten (runtimes added at run time are left alone).
        for r in &next.runtimes {
            let old = current.runtimes.iter().find(|o| o.name == r.name);
            if old.is_none_or(|o| o.token.expose() != r.token.expose()) {
                if let Err(e) = self.engine.add_runtime(&r.name, r.token.expose(), None) {
                    return rejected(
                        vec![ConfigIssue {
                            field: format!("runtimes.{}", r.name),
                            message: e.to_string(),
                            hint: "give each runtime its own token".into(),
                        }],
                        format!("  runtimes.{}: {e}", r.name),
                    );
                }
            }
        }
        for o in &current.runtimes {
            if !next.runtimes.iter().any(|r| r.name == o.name) {
                self.engine.remove_runtime(&o.name);
            }
        }
        self.engine.reload(Some(detector), policy_of(&next));
        *current = next;
        ReloadOutcome {
            applied: true,
            issues: Vec::new(),
            error: None,
            restart_needed,
        }
    }

    /// Registers (or replaces) a runtime credential without a restart; see
    /// [`ProxyEngine::add_runtime`]. Nothing is written to disk.
    pub fn add_runtime(
        &self,
        name: &str,
        token: &str,
        upstream_proxy: Option<&str>,
    ) -> Result<(), GuardianError> {
        Ok(self.engine.add_runtime(name, token, upstream_proxy)?)
    }

    pub fn findings(&self, query: &FindingQuery) -> Result<FindingPage, GuardianError> {
        Ok(self.store.query(query)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ConfigInput;

    fn input(home: &std::path::Path, overrides: serde_json::Value) -> ConfigInput {
        let mut o = serde_json::json!({ "home": home, "mode": "detect" });
        if let (Some(base), Some(extra)) = (o.as_object_mut(), overrides.as_object()) {
            base.extend(extra.clone());
        }
        ConfigInput {
            env: [("HOME".to_owned(), home.display().to_string())].into(),
            config_path: None,
            overrides: o,
        }
    }

    #[test]
    fn reload_applies_reloadable_keys_names_restart_ones_and_rejects_invalid_configs() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("tg");
        let g = HomeGuardian::from_input(&input(&home, serde_json::json!({}))).unwrap();
        assert_eq!(g.status().max_scan_bytes, 1024 * 1024);

        let ok = g.reload(&input(
            &home,
            serde_json::json!({
                "max_scan_bytes": "64k",
                "require_auth": true,
                "mitm": { "exclude_hosts": ["pinned.example"] },
                "listen": "127.0.0.1:9999",
                "dedup_window_secs": 5,
                "scan_priority": "normal",
            }),
        ));
        assert!(ok.applied, "{ok:?}");
        assert_eq!(
            ok.restart_needed,
            vec!["listen", "dedup_window_secs", "scan_priority"]
        );
        // The scan threads started at background keep it until a restart.
        assert_eq!(
            g.current.lock().unwrap().scan_priority,
            config::ScanPriority::Background
        );
        let normal = HomeGuardian::from_input(&input(
            &home,
            serde_json::json!({ "scan_priority": "normal" }),
        ))
        .unwrap();
        assert_eq!(
            proxy_settings(&normal.config).scan_pool.priority,
            config::ScanPriority::Normal,
            "the config's priority reaches the scan pool"
        );
        let st = g.status();
        assert_eq!(st.max_scan_bytes, 64 * 1024);
        assert!(st.require_auth && st.proxy.require_auth);
        assert_eq!(st.proxy.mitm.excluded_hosts, vec!["pinned.example"]);
        assert_eq!((st.reload.applied, st.reload.rejected), (1, 0));
        // The running listen address is kept, so it still differs next time.
        assert_eq!(g.current.lock().unwrap().listen, g.config.listen);

        let bad = g.reload(&input(&home, serde_json::json!({ "max_scan_bytes": 12 })));
        assert!(!bad.applied);
        assert!(
            bad.issues.iter().any(|i| i.field == "max_scan_bytes"),
            "{bad:?}"
        );
        assert!(bad
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("max_scan_bytes"));
        let st = g.status();
        assert_eq!(st.max_scan_bytes, 64 * 1024, "the running config is kept");
        assert_eq!((st.reload.applied, st.reload.rejected), (1, 1));
        assert_eq!(st.reload.last.map(|l| l.applied), Some(false));
    }

    #[test]
    fn upstream_credentials_reach_the_proxy_decoded() {
        let tmp = tempfile::tempdir().unwrap();
        let input = ConfigInput {
            env: [("HOME".to_owned(), tmp.path().display().to_string())].into(),
            config_path: None,
            overrides: serde_json::json!({
                "home": tmp.path().join("tg"),
                "upstream_proxy": "http://agent%20one:t%2Bk%20n%40x@gateway.internal:10255",
            }),
        };
        let report = check_config(&input);
        assert!(report.ok, "{:?}", report.errors);
        let cfg = report.config.unwrap();
        let settings = proxy_settings(&cfg);
        let parsed = settings.upstream_proxy.unwrap();
        assert_eq!(parsed.authority(), "gateway.internal:10255");
        let expected = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "agent one:t+k n@x",
        );
        assert_eq!(
            parsed.basic_authorization().as_deref(),
            Some(format!("Basic {expected}").as_str())
        );
    }
}
