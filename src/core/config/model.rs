//! The typed, validated configuration and its defaults. Every default lives
//! here once; the validator, the effective view and the docs read these.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Serialize, Serializer};

/// Default mode: opt-in, nothing listens until the operator says `detect`.
pub const DEFAULT_MODE: Mode = Mode::Off;
/// Default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8118";
/// Where `/metrics` listens when the operator turns it on and names no
/// port (Prometheus' conventional exporter range). Metrics are off by default.
pub const EXAMPLE_METRICS_LISTEN: &str = "127.0.0.1:9464";
/// `on_finding` hook: default per-run time limit (the command is killed after it).
pub const DEFAULT_HOOK_TIMEOUT_MS: u64 = 5_000;
pub const MIN_HOOK_TIMEOUT_MS: u64 = 100;
pub const MAX_HOOK_TIMEOUT_MS: u64 = 60_000;
/// `on_finding` hook: runs at once.
pub const DEFAULT_HOOK_MAX_CONCURRENT: u64 = 2;
pub const MIN_HOOK_MAX_CONCURRENT: u64 = 1;
pub const MAX_HOOK_MAX_CONCURRENT: u64 = 16;
/// `on_finding` hook: findings waiting for a free run; more are dropped and counted.
pub const DEFAULT_HOOK_MAX_QUEUE: u64 = 100;
pub const MIN_HOOK_MAX_QUEUE: u64 = 0;
pub const MAX_HOOK_MAX_QUEUE: u64 = 10_000;
/// `on_finding` hook: findings below this severity do not run it.
pub const DEFAULT_HOOK_MIN_SEVERITY: crate::core::finding::Severity =
    crate::core::finding::Severity::High;

/// Default home, relative to `$HOME`, when `NANOCLAW_TRAFFIC_GUARDIAN_HOME` is unset.
pub const DEFAULT_HOME_SUBDIR: &str = ".config/nanoclaw/traffic-guardian";
/// Default log directory, relative to home.
pub const DEFAULT_LOG_SUBDIR: &str = "logs";
/// Config file looked for in home when none is named.
pub const DEFAULT_CONFIG_FILE_NAME: &str = "config.json";
/// Default bytes of each message inspected (1 MiB).
pub const DEFAULT_MAX_SCAN_BYTES: u64 = 1024 * 1024;
/// Smallest accepted scan limit: below this headers alone are cut off.
pub const MIN_MAX_SCAN_BYTES: u64 = 1024;
/// Hard ceiling of the scan limit (64 MiB): keeps memory per connection bounded.
pub const MAX_MAX_SCAN_BYTES: u64 = 64 * 1024 * 1024;
/// Default snippet mode.
pub const DEFAULT_REDACT_SNIPPETS: SnippetMode = SnippetMode::Full;
/// Default dedup window, seconds.
pub const DEFAULT_DEDUP_WINDOW_SECS: u64 = 300;
/// Bounds of the dedup window, seconds (0 disables dedup).
pub const MIN_DEDUP_WINDOW_SECS: u64 = 0;
/// Upper bound of the dedup window: one day.
pub const MAX_DEDUP_WINDOW_SECS: u64 = 86_400;
/// Default size at which the findings log rotates (10 MiB).
pub const DEFAULT_ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// Smallest rotation size (64 KiB).
pub const MIN_ROTATE_BYTES: u64 = 64 * 1024;
/// Largest rotation size (1 GiB).
pub const MAX_ROTATE_BYTES: u64 = 1024 * 1024 * 1024;
/// Default number of rotated logs kept.
pub const DEFAULT_ROTATE_KEEP: u64 = 5;
/// Bounds of rotated logs kept.
pub const MIN_ROTATE_KEEP: u64 = 1;
/// Upper bound of rotated logs kept.
pub const MAX_ROTATE_KEEP: u64 = 100;
/// Default in-memory findings ring size.
pub const DEFAULT_RING_CAPACITY: u64 = 10_000;
/// Smallest ring.
pub const MIN_RING_CAPACITY: u64 = 100;
/// Largest ring.
pub const MAX_RING_CAPACITY: u64 = 1_000_000;
/// Default time given to in-flight connections at stop, ms.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 5_000;
/// Bounds of the shutdown grace, ms.
pub const MIN_SHUTDOWN_GRACE_MS: u64 = 0;
/// Upper bound of the shutdown grace: one minute.
pub const MAX_SHUTDOWN_GRACE_MS: u64 = 60_000;
/// Bounds of `exfil_window_secs` (the volume/shape detectors' window).
pub const MIN_EXFIL_WINDOW_SECS: u64 = 10;
/// Upper bound of `exfil_window_secs`: one day.
pub const MAX_EXFIL_WINDOW_SECS: u64 = 86_400;
/// Bounds of `exfil_dest_bytes` and `exfil_group_bytes` (1 MiB).
pub const MIN_EXFIL_BYTES: u64 = 1 << 20;
/// Upper bound of the `exfil_*_bytes` keys (1 TiB).
pub const MAX_EXFIL_BYTES: u64 = 1 << 40;
/// Bounds of `exfil_dest_fragments` and `exfil_dns_labels`.
pub const MIN_EXFIL_COUNT: u64 = 5;
/// Upper bound of the `exfil_*` counts.
pub const MAX_EXFIL_COUNT: u64 = 1_000_000;
/// Minimum runtime token length: short tokens are guessable.
pub const MIN_TOKEN_LEN: usize = 16;
/// Maximum runtime token length: it travels in every request header.
pub const MAX_TOKEN_LEN: usize = 256;
/// Maximum runtime name length (NanoClaw group folder names).
pub const MAX_RUNTIME_NAME_LEN: usize = 64;
/// Config files larger than this are refused (it is a small JSON document).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;
/// CA bundles larger than this are refused.
pub const MAX_CA_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;
/// `trusted_runtimes` entry meaning "every client".
pub const TRUST_ALL_RUNTIMES: &str = "*";
/// What masked secrets look like everywhere.
pub const MASK: &str = "****";

/// Whether the guardian runs. There is no blocking mode, by design.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Nothing listens (default).
    Off,
    /// Detect and log; traffic is always forwarded unchanged.
    Detect,
}

impl Mode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Detect => "detect",
        }
    }
}

pub use crate::core::redact::SnippetMode;

/// The CPU priority of the scan threads, which matters only when the cores
/// are busy: who goes first then, forwarding or inspection.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ScanPriority {
    /// Below forwarding (nice 10): traffic keeps its speed and the pool
    /// skips what it cannot take, counted as `unscanned_overload_bytes`.
    #[default]
    Background,
    /// The process's own priority: scanning shares busy cores with
    /// forwarding, so less goes unscanned and traffic slows instead.
    Normal,
}

impl ScanPriority {
    pub const ALL: [(&'static str, ScanPriority); 2] = [
        ("background", ScanPriority::Background),
        ("normal", ScanPriority::Normal),
    ];

    /// The config value naming it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanPriority::Background => "background",
            ScanPriority::Normal => "normal",
        }
    }
}

/// A secret whose Debug and Serialize print `****`; read it with `expose()`
/// only where it is actually used (auth comparison, upstream header).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(s.into())
    }
    /// The secret itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// One NanoClaw runtime (group/container) and the proxy credential its
/// container presents, so findings can be attributed to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Runtime {
    /// Group folder name, `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`.
    pub name: String,
    /// Proxy credential (≥ 16 URL-safe chars).
    pub token: SecretString,
}

/// Which clients get HTTPS inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedRuntimes {
    /// Every client (`["*"]`).
    All,
    /// Only these runtimes (names from `runtimes`).
    Named(Vec<String>),
}

impl TrustedRuntimes {
    /// As written in the config: `["*"]`, or the runtime names.
    pub fn names(&self) -> Vec<String> {
        match self {
            TrustedRuntimes::All => vec![TRUST_ALL_RUNTIMES.to_owned()],
            TrustedRuntimes::Named(n) => n.clone(),
        }
    }

    /// Whether a runtime (None = unauthenticated client) is inspected.
    pub fn trusts(&self, runtime: Option<&str>) -> bool {
        match self {
            TrustedRuntimes::All => true,
            TrustedRuntimes::Named(names) => runtime.is_some_and(|r| names.iter().any(|n| n == r)),
        }
    }
}

impl Serialize for TrustedRuntimes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TrustedRuntimes::All => [TRUST_ALL_RUNTIMES].serialize(s),
            TrustedRuntimes::Named(n) => n.serialize(s),
        }
    }
}

/// HTTPS inspection settings. Inspection happens only when `enabled` and the
/// client is covered by `trusted_runtimes` (its container mounts the CA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MitmConfig {
    /// Off by default.
    pub enabled: bool,
    /// Per-runtime trust declaration; never empty when `enabled`.
    pub trusted_runtimes: TrustedRuntimes,
    /// Hosts tunnelled without inspection (e.g. certificate-pinned APIs).
    pub exclude_hosts: Vec<HostPattern>,
}

impl Default for MitmConfig {
    fn default() -> Self {
        MitmConfig {
            enabled: false,
            trusted_runtimes: TrustedRuntimes::Named(Vec::new()),
            exclude_hosts: Vec::new(),
        }
    }
}

/// A host name pattern: exact (`api.example.com`) or a suffix
/// (`.example.com`, matching `example.com` and any subdomain of it).
/// Stored lowercase without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Exact host.
    Exact(String),
    /// Domain and its subdomains; stored without the leading dot.
    Suffix(String),
}

impl HostPattern {
    /// Whether `host` (any case, optional trailing dot, no port) matches.
    pub fn matches(&self, host: &str) -> bool {
        self.matches_normalized(&host.trim_end_matches('.').to_ascii_lowercase())
    }

    /// [`HostPattern::matches`] for a host already lowercase, without
    /// brackets or a trailing dot (no allocation).
    pub fn matches_normalized(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(e) => host == e,
            HostPattern::Suffix(s) => is_domain_or_subdomain(host, s),
        }
    }
}

/// Whether `host` is `domain` or one of its subdomains (label boundary:
/// `badexample.com` is not under `example.com`). Both lowercase.
pub fn is_domain_or_subdomain(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.'))
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(h) => f.write_str(h),
            HostPattern::Suffix(s) => write!(f, ".{s}"),
        }
    }
}

impl Serialize for HostPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One pivot-guard exception: a destination the proxy may connect to even
/// though it is the host's loopback, link-local or a metadata address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedDestination {
    /// A host name, optionally with a port (None = any port).
    Host {
        /// Lowercase host name.
        host: String,
        /// Port, if restricted.
        port: Option<u16>,
    },
    /// An IP address, optionally with a port.
    Ip {
        /// The address.
        ip: IpAddr,
        /// Port, if restricted.
        port: Option<u16>,
    },
    /// A network in CIDR form (any port).
    Cidr {
        /// Network address.
        net: IpAddr,
        /// Prefix length.
        prefix: u8,
    },
}

impl AllowedDestination {
    /// Whether a connection to `host` (as the client named it), resolved to
    /// `ip`, on `port`, is covered by this entry.
    pub fn allows(&self, host: &str, ip: IpAddr, port: u16) -> bool {
        match self {
            AllowedDestination::Host { host: h, port: p } => {
                host.trim_end_matches('.').eq_ignore_ascii_case(h) && p.is_none_or(|p| p == port)
            }
            AllowedDestination::Ip { ip: a, port: p } => {
                canonical(*a) == canonical(ip) && p.is_none_or(|p| p == port)
            }
            AllowedDestination::Cidr { net, prefix } => cidr_contains(*net, *prefix, ip),
        }
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` lies inside `net/prefix`.
pub(crate) fn cidr_contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (canonical(net), canonical(ip)) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let p = u32::from(prefix.min(32));
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            (u32::from(n) & mask) == (u32::from(a) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let p = u32::from(prefix.min(128));
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            (u128::from(n) & mask) == (u128::from(a) & mask)
        }
        _ => false,
    }
}

impl fmt::Display for AllowedDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedDestination::Host { host, port: None } => f.write_str(host),
            AllowedDestination::Host {
                host,
                port: Some(p),
            } => write!(f, "{host}:{p}"),
            AllowedDestination::Ip { ip, port: None } => write!(f, "{ip}"),
            AllowedDestination::Ip { ip, port: Some(p) } => {
                write!(f, "{}", SocketAddr::new(*ip, *p))
            }
            AllowedDestination::Cidr { net, prefix } => write!(f, "{net}/{prefix}"),
        }
    }
}

impl Serialize for AllowedDestination {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The upstream proxy the guardian chains to (e.g. NanoClaw's OneCLI
/// gateway). Debug and Serialize never show the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamProxy {
    /// `http` or `https`.
    pub scheme: String,
    /// Host (IPv6 without brackets).
    pub host: String,
    /// Port (always explicit in the config).
    pub port: u16,
    /// Percent-decoded user name, if any.
    pub username: Option<String>,
    /// Percent-decoded password/token, if any.
    pub password: Option<SecretString>,
}

impl UpstreamProxy {
    /// `host:port` with IPv6 brackets.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL with credentials masked: `http://user:****@host:port`.
    /// A lone user name (some gateways put the token there) is masked too.
    pub fn masked(&self) -> String {
        let creds = match (&self.username, &self.password) {
            (Some(u), Some(_)) if !u.is_empty() => format!("{}:{MASK}@", masked_user(u)),
            (_, Some(_)) => format!(":{MASK}@"),
            (Some(u), None) if !u.is_empty() => format!("{MASK}@"),
            _ => String::new(),
        };
        format!("{}://{}{}", self.scheme, creds, self.authority())
    }

    /// The `Proxy-Authorization` value (`Basic base64(user:pass)`) this
    /// upstream expects, or `None` without credentials.
    pub fn basic_authorization(&self) -> Option<String> {
        use base64::Engine as _;
        if self.username.is_none() && self.password.is_none() {
            return None;
        }
        let mut raw = self.username.clone().unwrap_or_default();
        raw.push(':');
        raw.push_str(self.password.as_ref().map_or("", SecretString::expose));
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }
}

/// User names are shown, except characters that would break the URL shape.
fn masked_user(u: &str) -> String {
    u.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '@' && c != ':' && c != '/' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl fmt::Debug for UpstreamProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UpstreamProxy")
            .field(&self.masked())
            .finish()
    }
}

impl Serialize for UpstreamProxy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// The fully validated configuration the guardian starts from. Built only by
/// [`super::check`]; Debug and Serialize mask every secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardianConfig {
    /// `off` or `detect`.
    pub mode: Mode,
    /// Socket address to bind (port 0 = ephemeral).
    pub listen: SocketAddr,
    /// All state lives here (0700).
    pub home: PathBuf,
    /// Findings logs (0700).
    pub log_dir: PathBuf,
    /// Bytes of each message inspected.
    pub max_scan_bytes: usize,
    /// Scan threads below forwarding (default) or beside it on busy cores.
    pub scan_priority: ScanPriority,
    /// Snippet context; secrets inside snippets are always redacted.
    pub redact_snippets: SnippetMode,
    /// HTTPS inspection.
    pub mitm: MitmConfig,
    /// Extra upstream trust roots (PEM), already checked to parse.
    pub ca_bundle: Option<PathBuf>,
    /// Proxy to chain to.
    pub upstream_proxy: Option<UpstreamProxy>,
    /// Declared runtimes and their credentials.
    pub runtimes: Vec<Runtime>,
    /// Effective: clients without a valid runtime credential get 407.
    pub require_auth: bool,
    /// Pivot-guard exceptions.
    pub allow_private_destinations: Vec<AllowedDestination>,
    /// Rule id → extra expected hosts (rule ids are checked by the caller).
    pub expected_destinations: BTreeMap<String, Vec<HostPattern>>,
    /// Seconds during which a repeated finding is counted, not re-logged.
    pub dedup_window_secs: u64,
    /// Log size that triggers rotation.
    pub rotate_bytes: u64,
    /// Rotated logs kept.
    pub rotate_keep: u32,
    /// In-memory findings kept for queries.
    pub ring_capacity: usize,
    /// Time given to in-flight connections at stop.
    pub shutdown_grace_ms: u64,
    /// Prometheus `/metrics` address; `None` (the default) serves none.
    pub metrics_listen: Option<SocketAddr>,
    /// Lets `metrics_listen` be a non-loopback address (default false).
    pub metrics_allow_remote: bool,
    /// A local command run for each finding at or above a severity.
    pub on_finding: Option<FindingHook>,
    /// Findings in the text a model API streams back (tool calls are
    /// always reported in full).
    pub model_text: crate::core::scan::ModelText,
    /// Model API hosts besides the built-in list (e.g. a local gateway).
    pub model_hosts: Vec<HostPattern>,
    /// Inspect traffic (default true). `false` is the bare proxy, a
    /// benchmarking aid that finds nothing.
    pub inspect: bool,
    /// A file of `NAME=value` secrets (0600) whose values are looked for in
    /// outbound traffic; read at start, kept only as keyed hashes.
    pub known_secrets_file: Option<PathBuf>,
    /// Known secret NAME → hosts where sending it is expected.
    pub known_secret_hosts: BTreeMap<String, Vec<HostPattern>>,
    /// Thresholds of the volume and shape detectors (`exfil_*` keys).
    pub exfil_shape: crate::core::shape::ShapeThresholds,
}

/// The operator's local alert hook: `command` (argv, no shell; the first
/// element an absolute path) gets one redacted finding as JSON on stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingHook {
    pub command: Vec<String>,
    pub min_severity: crate::core::finding::Severity,
    pub timeout_ms: u64,
    pub max_concurrent: u64,
    pub max_queue: u64,
}

impl GuardianConfig {
    /// Whether the listen address is loopback only.
    pub fn listen_is_loopback(&self) -> bool {
        canonical(self.listen.ip()).is_loopback()
    }

    /// The runtime a presented token belongs to. Compares in time
    /// independent of where the strings differ.
    pub fn runtime_for_token(&self, presented: &str) -> Option<&Runtime> {
        self.runtimes
            .iter()
            .find(|r| constant_time_eq(r.token.expose().as_bytes(), presented.as_bytes()))
    }

    /// Whether HTTPS for this client (None = unauthenticated) is inspected.
    pub fn mitm_applies_to(&self, runtime: Option<&str>) -> bool {
        self.mitm.enabled && self.mitm.trusted_runtimes.trusts(runtime)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let s = HostPattern::Suffix("example.com".into());
        assert!(s.matches("example.com"));
        assert!(s.matches("API.Example.com."));
        assert!(!s.matches("badexample.com"));
        assert!(!s.matches("example.com.evil"));
        let e = HostPattern::Exact("api.example.com".into());
        assert!(e.matches("api.example.com"));
        assert!(!e.matches("x.api.example.com"));
        assert_eq!(s.to_string(), ".example.com");
    }

    #[test]
    fn cidr_and_allow() {
        let c = AllowedDestination::Cidr {
            net: "10.0.0.0".parse().unwrap(),
            prefix: 8,
        };
        assert!(c.allows("x", "10.1.2.3".parse().unwrap(), 80));
        assert!(c.allows("x", "::ffff:10.1.2.3".parse().unwrap(), 80));
        assert!(!c.allows("x", "11.0.0.1".parse().unwrap(), 80));
        let h = AllowedDestination::Host {
            host: "localhost".into(),
            port: Some(3000),
        };
        assert!(h.allows("LOCALHOST", "127.0.0.1".parse().unwrap(), 3000));
        assert!(!h.allows("localhost", "127.0.0.1".parse().unwrap(), 3001));
        let all = AllowedDestination::Cidr {
            net: "::".parse().unwrap(),
            prefix: 0,
        };
        assert!(all.allows("x", "fe80::1".parse().unwrap(), 1));
    }

    #[test]
    fn secrets_masked_in_debug_and_serialize() {
        let token = format!("tok{}", std::process::id()).repeat(4);
        let s = SecretString::new(token.clone());
        assert_eq!(format!("{s:?}"), MASK);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"****\"");
        assert_eq!(s.expose(), token);
    }
}
