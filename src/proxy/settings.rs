//! Plain-data settings of the proxy engine. The validated config is mapped
//! onto this by the caller; the engine does not read files or environment.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::core::config::{
    parse_upstream_url, AllowedDestination, HostPattern, TrustedRuntimes, UpstreamPort,
    UpstreamProxy,
};

use super::budget::StreamBudgetSettings;
use super::error::ProxyError;
use super::scan_pool::ScanPoolSettings;

/// Runtime settings of one [`super::ProxyEngine`].
#[derive(Clone)]
pub struct ProxySettings {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Decrypt HTTPS (MITM) for trusted runtimes; otherwise CONNECT is tunnelled blind.
    pub mitm_enabled: bool,
    /// Runtimes whose CONNECTs are decrypted; `All` (`"*"`) means every
    /// client, including clients without credentials.
    pub trusted_runtimes: TrustedRuntimes,
    /// Hosts never decrypted (exact, or `.suffix` for a domain and its subdomains).
    pub mitm_exclude_hosts: Vec<HostPattern>,
    /// Directory of the guardian's CA (`<home>/ca`).
    pub ca_dir: PathBuf,
    /// Extra PEM roots trusted for upstream TLS, besides the webpki roots.
    pub extra_ca_bundle: Option<PathBuf>,
    /// Upstream proxy (`http://user:pass@host:port`) all traffic goes through.
    pub upstream_proxy: Option<UpstreamProxy>,
    /// Runtime credentials: `(name, token)` pairs accepted in `Proxy-Authorization`.
    pub runtimes: Vec<(String, String)>,
    /// Answer 407 to clients without valid runtime credentials.
    pub require_auth: bool,
    /// Destinations the pivot guard lets through: IPs, CIDRs (`127.0.0.0/8`) or host names.
    pub allow_private_destinations: Vec<AllowedDestination>,
    /// How long `stop` waits for in-flight exchanges.
    pub shutdown_grace: Duration,
    /// `false` = bare proxy (no detector calls, no body wrapping), used as the
    /// benchmark baseline; access control still applies.
    pub inspect: bool,
    /// A client that sends no request-body byte for this long while its body
    /// is being forwarded loses that exchange (408, upstream request dropped).
    /// Response bodies never get an idle timeout: SSE and long polls idle for minutes.
    pub request_body_idle_timeout: Duration,
    /// Once a request is fully sent, the upstream has this long to send its
    /// response head (else 504). Generous: LLM APIs think for minutes before
    /// a non-streaming answer.
    pub upstream_response_head_timeout: Duration,
    /// Threads and queue bounds of the scan pool (inspection runs there,
    /// never on the threads that forward traffic).
    pub scan_pool: ScanPoolSettings,
    /// Thresholds of the volume and shape detectors (sliding windows per
    /// destination, group and domain).
    pub shape: crate::core::shape::ShapeThresholds,
    /// A client connection that sends no byte at all for this long after it
    /// is accepted is closed (it holds a descriptor and proves nothing).
    pub first_byte_timeout: Duration,
    /// A keep-alive client connection with no exchange in flight and no byte
    /// received for this long is closed. Never applies while a request or a
    /// response (SSE, long poll) is still streaming.
    pub keep_alive_idle_timeout: Duration,
    /// Client connections open at once, in total; one more is closed as soon
    /// as it is accepted (never queued) and counted. Resource protection:
    /// it never depends on what the traffic contains.
    pub max_connections: usize,
    /// Client connections open at once from one client IP address; likewise.
    pub max_connections_per_client: usize,
    /// The sliding scan budget of long-lived streams (event streams,
    /// relayed tunnels): see [`super::budget`].
    pub stream_budget: StreamBudgetSettings,
}

/// Default of [`ProxySettings::request_body_idle_timeout`].
pub const DEFAULT_REQUEST_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Default of [`ProxySettings::upstream_response_head_timeout`].
pub const DEFAULT_UPSTREAM_RESPONSE_HEAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Default of [`ProxySettings::first_byte_timeout`].
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of [`ProxySettings::keep_alive_idle_timeout`].
pub const DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default of [`ProxySettings::max_connections`]: each proxied connection
/// can hold two descriptors (client and upstream), well within the usual
/// hard `RLIMIT_NOFILE` the guardian raises its soft limit to.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8192;

/// Default of [`ProxySettings::max_connections_per_client`]: far above what
/// one agent container opens, so that one client cannot take every slot.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 1024;

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            mitm_enabled: false,
            trusted_runtimes: TrustedRuntimes::Named(Vec::new()),
            mitm_exclude_hosts: Vec::new(),
            ca_dir: PathBuf::from("ca"),
            extra_ca_bundle: None,
            upstream_proxy: None,
            runtimes: Vec::new(),
            require_auth: false,
            allow_private_destinations: Vec::new(),
            shutdown_grace: Duration::from_secs(5),
            inspect: true,
            request_body_idle_timeout: DEFAULT_REQUEST_BODY_IDLE_TIMEOUT,
            upstream_response_head_timeout: DEFAULT_UPSTREAM_RESPONSE_HEAD_TIMEOUT,
            scan_pool: ScanPoolSettings::default(),
            shape: crate::core::shape::ShapeThresholds::default(),
            first_byte_timeout: DEFAULT_FIRST_BYTE_TIMEOUT,
            keep_alive_idle_timeout: DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            stream_budget: StreamBudgetSettings::default(),
        }
    }
}

impl fmt::Debug for ProxySettings {
    // Tokens and upstream credentials are masked: settings end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runtimes: Vec<String> = self
            .runtimes
            .iter()
            .map(|(name, _)| format!("{name}:***"))
            .collect();
        f.debug_struct("ProxySettings")
            .field("listen", &self.listen)
            .field("mitm_enabled", &self.mitm_enabled)
            .field("trusted_runtimes", &self.trusted_runtimes)
            .field("mitm_exclude_hosts", &self.mitm_exclude_hosts)
            .field("ca_dir", &self.ca_dir)
            .field("extra_ca_bundle", &self.extra_ca_bundle)
            // Its Debug masks the credentials.
            .field("upstream_proxy", &self.upstream_proxy)
            .field("runtimes", &runtimes)
            .field("require_auth", &self.require_auth)
            .field(
                "allow_private_destinations",
                &self.allow_private_destinations,
            )
            .field("shutdown_grace", &self.shutdown_grace)
            .field("inspect", &self.inspect)
            .field("request_body_idle_timeout", &self.request_body_idle_timeout)
            .field(
                "upstream_response_head_timeout",
                &self.upstream_response_head_timeout,
            )
            .field("scan_pool", &self.scan_pool)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("keep_alive_idle_timeout", &self.keep_alive_idle_timeout)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_client",
                &self.max_connections_per_client,
            )
            .field("stream_budget", &self.stream_budget)
            .finish()
    }
}

/// Parses an upstream proxy URL handed over at run time (a runtime's own
/// gateway): `http://[user[:pass]@]host[:port]`, with the config's one
/// parser (a missing port is 80). Only plain-HTTP proxies are supported.
/// The value may hold credentials: errors name the field and the fix,
/// never the value.
pub fn parse_upstream_proxy(raw: &str) -> Result<UpstreamProxy, ProxyError> {
    let up = parse_upstream_url(raw, UpstreamPort::SchemeDefault).map_err(|(msg, _hint)| {
        ProxyError::UpstreamProxy(format!("upstream_proxy {msg}; expected {UPSTREAM_FORM}"))
    })?;
    check_upstream_supported(&up)?;
    Ok(up)
}

/// The form of an upstream proxy URL the proxy can chain to.
const UPSTREAM_FORM: &str = "http://[user:pass@]host:port";

/// The config also accepts `https://` upstream proxies; the proxy speaks
/// only plain HTTP to its upstream, and says so when it starts.
pub fn check_upstream_supported(up: &UpstreamProxy) -> Result<(), ProxyError> {
    if up.scheme == "http" {
        Ok(())
    } else {
        Err(ProxyError::UpstreamProxy(format!(
            "upstream_proxy must use the http:// scheme (only plain-HTTP upstream proxies \
             are supported); expected {UPSTREAM_FORM}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_tokens_and_upstream_credentials() {
        let s = ProxySettings {
            runtimes: vec![("rt".into(), "tok-secret-123".into())],
            upstream_proxy: Some(
                parse_upstream_proxy("http://x:gw-secret@10.0.0.1:10255").unwrap(),
            ),
            ..ProxySettings::default()
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("tok-secret-123"));
        assert!(!shown.contains("gw-secret"));
        assert!(shown.contains("10.0.0.1:10255"));
    }

    #[test]
    fn upstream_parses_credentials() {
        use base64::Engine as _;
        let u = parse_upstream_proxy("http://x:a%40b@127.0.0.1:3128").unwrap();
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, 3128);
        let expected = base64::engine::general_purpose::STANDARD.encode("x:a@b");
        assert_eq!(
            u.basic_authorization().unwrap(),
            format!("Basic {expected}")
        );
        assert!(parse_upstream_proxy("https://h:1").is_err());
        assert!(parse_upstream_proxy("http://h")
            .unwrap()
            .basic_authorization()
            .is_none());
        assert_eq!(parse_upstream_proxy("http://h").unwrap().port, 80);
        assert!(!format!("{:?}", parse_upstream_proxy("http://u:pw@h:1").unwrap()).contains("pw"));
    }

    #[test]
    fn upstream_errors_never_echo_the_value() {
        for raw in [
            "http://gwuser:gw-pass-Zq81@[::1",
            "socks5://gwuser:gw-pass-Zq81@10.0.0.1:1080",
            "gwuser:gw-pass-Zq81@10.0.0.1:3128",
            "http://gwuser:gw-pass-Zq81@:3128",
            "http://gwuser:gw-pass-Zq81@gwhost7x:99999",
            "http://gwuser:gw-pass-Zq81@gw host7x:1",
        ] {
            let err = parse_upstream_proxy(raw).expect_err(raw).to_string();
            for part in ["gwuser", "gw-pass-Zq81", "10.0.0.1", "gwhost7x"] {
                assert!(!err.contains(part), "{err}");
            }
            assert!(err.contains("upstream_proxy"), "{err}");
            assert!(err.contains("http://[user:pass@]host:port"), "{err}");
        }
    }

    #[test]
    fn userinfo_percent_decoding_edges() {
        // One decoder for config and run-time URLs: invalid or cut escapes stay as written.
        let u = parse_upstream_proxy("http://a%2:%41%zz@h:1").unwrap();
        assert_eq!(u.username.as_deref(), Some("a%2"));
        assert_eq!(u.password.as_ref().map(|p| p.expose()), Some("A%zz"));
    }
}
