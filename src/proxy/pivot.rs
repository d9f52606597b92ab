//! The pivot guard: access control of the proxy itself, not traffic blocking.
//!
//! A proxy listening for containers would otherwise let any client reach the
//! host's own loopback services, link-local addresses and the cloud metadata
//! endpoint *through the guardian*. By default the guardian refuses to open
//! such connections on a client's behalf (403 with a clear body); operators
//! allow-list destinations they mean to expose. Traffic the guardian does
//! forward is never blocked or altered.

use crate::core::config::AllowedDestination;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use tracing::debug;

/// Decides whether the proxy may connect to a destination.
#[derive(Debug, Default)]
pub struct PivotGuard {
    /// Parsed and matched by the config's own rules (one definition of an
    /// allow-list entry, ports included).
    allow: Vec<AllowedDestination>,
    /// Addresses of the host's own interfaces (docker bridge, veth ends,
    /// LAN): refused like loopback. Read at the edge by
    /// [`PivotGuard::refresh_host_addrs`]; empty in a bare guard.
    host_addrs: RwLock<Arc<Vec<IpAddr>>>,
}

/// Names that always mean "this host" or "the metadata service".
const FORBIDDEN_NAMES: &[&str] = &["localhost", "metadata.google.internal", "metadata"];

/// Normalises a host for comparisons: no brackets, no trailing dot, lowercase.
pub fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback() || ip.is_link_local() || o[0] == 0
}

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_forbidden(v4);
    }
    let seg = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || (seg[0] & 0xffc0) == 0xfe80
        // AWS IMDS over IPv6.
        || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
}

/// Whether an address is the host's loopback, link-local, unspecified or metadata address.
pub fn ip_is_private_pivot(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_forbidden(v4),
        IpAddr::V6(v6) => v6_forbidden(v6),
    }
}

/// The pivot decision: whether `ip` is one of the host's own (loopback,
/// link-local, unspecified, metadata, or an address of one of its
/// interfaces, given as `host_addrs`). Pure: addresses in, verdict out.
pub fn is_pivot_destination(ip: IpAddr, host_addrs: &[IpAddr]) -> bool {
    let ip = ip.to_canonical();
    ip_is_private_pivot(ip) || host_addrs.contains(&ip)
}

/// Whether an error (or one of its causes) is a pivot-guard refusal.
pub(crate) fn is_pivot_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    super::error::error_in_chain::<PivotRefused>(err).is_some()
}

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pivot guard: refusing to connect to {host} (loopback, link-local, metadata or host-interface destination not in allow_private_destinations)")]
pub struct PivotRefused {
    pub host: String,
}

impl PivotGuard {
    /// Builds the guard from the config's allow-list entries: `host`,
    /// `host:port`, IPs (optionally with a port) or CIDRs.
    pub fn new(allow: &[AllowedDestination]) -> Self {
        PivotGuard {
            allow: allow.to_vec(),
            host_addrs: RwLock::default(),
        }
    }

    /// The guard with `addrs` as the host's interface addresses.
    pub fn with_host_addrs(self, addrs: Vec<IpAddr>) -> Self {
        self.set_host_addrs(addrs);
        self
    }

    /// Replaces the host's interface addresses.
    pub fn set_host_addrs(&self, addrs: Vec<IpAddr>) {
        let addrs = addrs.into_iter().map(|a| a.to_canonical()).collect();
        if let Ok(mut cur) = self.host_addrs.write() {
            *cur = Arc::new(addrs);
        }
    }

    /// Re-reads the host's interface addresses (`getifaddrs`); keeps the
    /// previous list if that fails.
    pub fn refresh_host_addrs(&self) {
        match super::host::interface_addrs() {
            Ok(addrs) => self.set_host_addrs(addrs),
            Err(e) => debug!(error = %e, "cannot list the host's interface addresses"),
        }
    }

    fn host_addrs(&self) -> Arc<Vec<IpAddr>> {
        self.host_addrs
            .read()
            .map(|a| Arc::clone(&a))
            .unwrap_or_default()
    }

    /// Whether an entry allows `host` (as named), at `ip` if known, on `port`.
    fn allowed(&self, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
        self.allow.iter().any(|a| match (a, ip) {
            (AllowedDestination::Host { .. }, _) => {
                a.allows(host, ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), port)
            }
            (_, Some(ip)) => a.allows(host, ip, port),
            (_, None) => false,
        })
    }

    /// Checks a destination host as the client named it (literal IPs and
    /// well-known names). Names that resolve to private addresses are caught
    /// again at connect time by [`PivotGuard::check_resolved`].
    pub fn check_host(&self, host: &str, port: u16) -> Result<(), PivotRefused> {
        let h = normalize_host(host);
        let ip = h.parse::<IpAddr>().ok();
        if self.allowed(&h, ip, port) {
            return Ok(());
        }
        let refused = match ip {
            Some(ip) => is_pivot_destination(ip, &self.host_addrs()),
            None => FORBIDDEN_NAMES.contains(&h.as_str()) || h.ends_with(".localhost"),
        };
        if refused {
            Err(PivotRefused { host: h })
        } else {
            Ok(())
        }
    }

    /// Keeps only resolved addresses the proxy may connect to; refuses when none is left.
    pub fn check_resolved(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, PivotRefused> {
        let h = normalize_host(host);
        let total = addrs.len();
        let host_addrs = self.host_addrs();
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| {
                !is_pivot_destination(a.ip(), &host_addrs)
                    || self.allowed(&h, Some(a.ip()), a.port())
            })
            .collect();
        if kept.is_empty() && total > 0 {
            Err(PivotRefused { host: h })
        } else {
            Ok(kept)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Allow-list entries as the config parses them.
    fn allow(entries: &[&str]) -> Vec<AllowedDestination> {
        entries
            .iter()
            .map(|e| crate::core::config::parse_allowed(e).unwrap())
            .collect()
    }

    #[test]
    fn default_refuses_host_addresses() {
        let g = PivotGuard::new(&[]);
        for h in [
            "127.0.0.1",
            "127.5.6.7",
            "[::1]",
            "::1",
            "169.254.169.254",
            "0.0.0.0",
            "fe80::1",
            "::ffff:127.0.0.1",
            "localhost",
            "LOCALHOST.",
            "a.localhost",
            "metadata.google.internal",
            "fd00:ec2::254",
        ] {
            assert!(g.check_host(h, 80).is_err(), "{h} should be refused");
        }
        for h in [
            "example.com",
            "10.0.0.1",
            "172.17.0.2",
            "8.8.8.8",
            "2001:db8::1",
        ] {
            assert!(g.check_host(h, 80).is_ok(), "{h} should pass");
        }
    }

    #[test]
    fn allow_list_ip_cidr_and_name() {
        let g = PivotGuard::new(&allow(&["127.0.0.1", "169.254.0.0/16", "localhost"]));
        assert!(g.check_host("127.0.0.1", 80).is_ok());
        assert!(g.check_host("127.0.0.2", 80).is_err());
        assert!(g.check_host("169.254.169.254", 80).is_ok());
        assert!(g.check_host("localhost", 80).is_ok());
        assert!(g.check_host("::1", 80).is_err());
        // Port-restricted entries allow that port only.
        let g = PivotGuard::new(&allow(&["127.0.0.1:8080", "[::1]:9000", "localhost:3000"]));
        assert!(g.check_host("127.0.0.1", 8080).is_ok());
        assert!(g.check_host("127.0.0.1", 22).is_err());
        assert!(g.check_host("::1", 9000).is_ok());
        assert!(g.check_host("localhost", 3000).is_ok());
        assert!(g.check_host("localhost", 3001).is_err());
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(g.check_resolved("x", vec![lo]).unwrap(), vec![lo]);
        assert!(g
            .check_resolved("x", vec!["127.0.0.1:22".parse().unwrap()])
            .is_err());
    }

    #[test]
    fn host_interface_addresses_are_refused_unless_allowed() {
        let host: Vec<IpAddr> = vec![
            "172.17.0.1".parse().unwrap(),
            "192.0.2.7".parse().unwrap(),
            "2001:db8::7".parse().unwrap(),
        ];
        // The pure decision.
        for ip in [
            "172.17.0.1",
            "192.0.2.7",
            "2001:db8::7",
            "::ffff:172.17.0.1",
        ] {
            assert!(is_pivot_destination(ip.parse().unwrap(), &host), "{ip}");
        }
        for ip in ["172.17.0.2", "192.0.2.8", "93.184.216.34"] {
            assert!(!is_pivot_destination(ip.parse().unwrap(), &host), "{ip}");
        }
        assert!(!is_pivot_destination("172.17.0.1".parse().unwrap(), &[]));
        // Through the guard: literal hosts and resolved names.
        let g = PivotGuard::new(&[]).with_host_addrs(host.clone());
        assert!(g.check_host("172.17.0.1", 8080).is_err());
        assert!(g.check_host("[2001:db8::7]", 443).is_err());
        assert!(g.check_host("172.17.0.2", 8080).is_ok());
        let bridge: SocketAddr = "172.17.0.1:5432".parse().unwrap();
        let other: SocketAddr = "172.17.0.2:5432".parse().unwrap();
        assert!(g.check_resolved("rebind.example", vec![bridge]).is_err());
        assert_eq!(
            g.check_resolved("mixed.example", vec![bridge, other])
                .unwrap(),
            vec![other]
        );
        // Explicitly allowed, it passes.
        let g = PivotGuard::new(&allow(&["172.17.0.1:5432"])).with_host_addrs(host);
        assert!(g.check_host("172.17.0.1", 5432).is_ok());
        assert!(g.check_host("172.17.0.1", 22).is_err());
        assert_eq!(g.check_resolved("x", vec![bridge]).unwrap(), vec![bridge]);
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let g = PivotGuard::new(&[]);
        let lo: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let pubip: SocketAddr = "93.184.216.34:80".parse().unwrap();
        assert!(g.check_resolved("rebind.example", vec![lo]).is_err());
        assert_eq!(
            g.check_resolved("mixed.example", vec![lo, pubip]).unwrap(),
            vec![pubip]
        );
        let g = PivotGuard::new(&allow(&["127.0.0.1"]));
        assert_eq!(g.check_resolved("x", vec![lo]).unwrap(), vec![lo]);
    }
}
