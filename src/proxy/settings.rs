//! Plain-data settings of the proxy engine. The validated config is mapped
//! onto this by the caller; the engine does not read files or environment.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;

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
    /// Runtime names whose CONNECTs are decrypted; `"*"` means every client,
    /// including clients without credentials.
    pub trusted_runtimes: Vec<String>,
    /// Hosts never decrypted (exact, or `*.suffix` / `.suffix` for subdomains).
    pub mitm_exclude_hosts: Vec<String>,
    /// Directory of the guardian's CA (`<home>/ca`).
    pub ca_dir: PathBuf,
    /// Extra PEM roots trusted for upstream TLS, besides the webpki roots.
    pub extra_ca_bundle: Option<PathBuf>,
    /// Upstream proxy URL (`http://user:pass@host:port`) all traffic goes through.
    pub upstream_proxy: Option<String>,
    /// Runtime credentials: `(name, token)` pairs accepted in `Proxy-Authorization`.
    pub runtimes: Vec<(String, String)>,
    /// Answer 407 to clients without valid runtime credentials.
    pub require_auth: bool,
    /// Destinations the pivot guard lets through: IPs, CIDRs (`127.0.0.0/8`) or host names.
    pub allow_private_destinations: Vec<String>,
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
            trusted_runtimes: Vec::new(),
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
            .field(
                "upstream_proxy",
                &self.upstream_proxy.as_deref().map(mask_url_credentials),
            )
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

/// Replaces the user-info part of a URL with `***` so it can be shown.
pub fn mask_url_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***@{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        (None, Some(at)) => format!("***@{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// A parsed upstream proxy: where to connect and what to authenticate with.
#[derive(Clone)]
pub struct UpstreamProxy {
    pub host: String,
    pub port: u16,
    /// Full `Proxy-Authorization` value (`Basic ...`) for the upstream, if it has credentials.
    pub authorization: Option<String>,
}

impl fmt::Debug for UpstreamProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamProxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .finish()
    }
}

impl UpstreamProxy {
    /// Parses `http://[user[:pass]@]host[:port]`. Only plain-HTTP proxies are
    /// supported (the usual form of gateways such as OneCLI).
    pub fn parse(raw: &str) -> Result<Self, ProxyError> {
        // The value may hold credentials: errors name the field and the fix, never the value.
        let url = url::Url::parse(raw).map_err(|e| {
            ProxyError::UpstreamProxy(format!(
                "upstream_proxy is not a valid URL ({e}); expected http://[user:pass@]host:port"
            ))
        })?;
        if url.scheme() != "http" {
            return Err(ProxyError::UpstreamProxy(
                "upstream_proxy must use the http:// scheme (only plain-HTTP upstream proxies \
                 are supported); expected http://[user:pass@]host:port"
                    .into(),
            ));
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| {
            ProxyError::UpstreamProxy(
                "upstream_proxy has no host; expected http://[user:pass@]host:port".into(),
            )
        })?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let authorization = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let user = percent_decode(url.username());
            let pass = percent_decode(url.password().unwrap_or(""));
            let mut raw_cred = user;
            raw_cred.push(b':');
            raw_cred.extend_from_slice(&pass);
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw_cred)
            ))
        };
        Ok(UpstreamProxy {
            host,
            port,
            authorization,
        })
    }

    /// `host:port` with IPv6 hosts in brackets, as used for connecting.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept literally.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_tokens_and_upstream_credentials() {
        let s = ProxySettings {
            runtimes: vec![("rt".into(), "tok-secret-123".into())],
            upstream_proxy: Some("http://x:gw-secret@10.0.0.1:10255".into()),
            ..ProxySettings::default()
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("tok-secret-123"));
        assert!(!shown.contains("gw-secret"));
        assert!(shown.contains("10.0.0.1:10255"));
    }

    #[test]
    fn upstream_parses_credentials() {
        let u = UpstreamProxy::parse("http://x:a%40b@127.0.0.1:3128").unwrap();
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, 3128);
        let expected = base64::engine::general_purpose::STANDARD.encode("x:a@b");
        assert_eq!(u.authorization.unwrap(), format!("Basic {expected}"));
        assert!(UpstreamProxy::parse("https://h:1").is_err());
        assert!(UpstreamProxy::parse("http://h")
            .unwrap()
            .authorization
            .is_none());
        assert!(!format!("{:?}", UpstreamProxy::parse("http://u:pw@h:1").unwrap()).contains("pw"));
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
            let err = UpstreamProxy::parse(raw).expect_err(raw).to_string();
            for part in ["gwuser", "gw-pass-Zq81", "10.0.0.1", "gwhost7x"] {
                assert!(!err.contains(part), "{err}");
            }
            assert!(err.contains("upstream_proxy"), "{err}");
            assert!(err.contains("http://[user:pass@]host:port"), "{err}");
        }
    }

    #[test]
    fn percent_decode_edges() {
        assert_eq!(percent_decode("a%2"), b"a%2".to_vec());
        assert_eq!(percent_decode("%41%zz"), b"A%zz".to_vec());
    }
}
