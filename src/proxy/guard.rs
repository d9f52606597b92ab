//! The pivot guard: access control of the proxy itself, not traffic blocking.
//!
//! A proxy listening for containers would otherwise let any client reach the
//! host's own loopback services, link-local addresses and the cloud metadata
//! endpoint *through the guardian*. By default the guardian refuses to open
//! such connections on a client's behalf (403 with a clear body); operators
//! allow-list destinations they mean to expose. Traffic the guardian does
//! forward is never blocked or altered.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allow {
    Net(IpAddr, u8),
    Host(String),
}

/// Decides whether the proxy may connect to a destination.
#[derive(Debug, Clone, Default)]
pub struct PivotGuard {
    allow: Vec<Allow>,
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

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let p = u32::from(prefix.min(32));
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let p = u32::from(prefix.min(128));
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|a4| in_net(IpAddr::V4(a4), net, prefix)),
        _ => false,
    }
}

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pivot guard: refusing to connect to {host} (loopback, link-local or metadata destination not in allow_private_destinations)")]
pub struct PivotRefused {
    pub host: String,
}

impl PivotGuard {
    /// Builds the guard from allow-list entries: IPs, CIDRs or host names.
    pub fn new(allow: &[String]) -> Self {
        let allow = allow
            .iter()
            .filter_map(|raw| {
                let raw = raw.trim();
                if raw.is_empty() {
                    return None;
                }
                if let Some((net, prefix)) = raw.split_once('/') {
                    let ip: IpAddr = normalize_host(net).parse().ok()?;
                    let prefix: u8 = prefix.parse().ok()?;
                    return Some(Allow::Net(ip, prefix));
                }
                let host = normalize_host(raw);
                match host.parse::<IpAddr>() {
                    Ok(ip) => Some(Allow::Net(ip, if ip.is_ipv4() { 32 } else { 128 })),
                    Err(_) => Some(Allow::Host(host)),
                }
            })
            .collect();
        PivotGuard { allow }
    }

    fn ip_allowed(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|a| match a {
            Allow::Net(net, prefix) => in_net(ip, *net, *prefix),
            Allow::Host(_) => false,
        })
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.allow
            .iter()
            .any(|a| matches!(a, Allow::Host(h) if h == host))
    }

    /// Checks a destination host as the client named it (literal IPs and
    /// well-known names). Names that resolve to private addresses are caught
    /// again at connect time by [`PivotGuard::check_resolved`].
    pub fn check_host(&self, host: &str) -> Result<(), PivotRefused> {
        let h = normalize_host(host);
        if self.host_allowed(&h) {
            return Ok(());
        }
        let refused = match h.parse::<IpAddr>() {
            Ok(ip) => ip_is_private_pivot(ip) && !self.ip_allowed(ip),
            Err(_) => FORBIDDEN_NAMES.contains(&h.as_str()) || h.ends_with(".localhost"),
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
        if self.host_allowed(&h) {
            return Ok(addrs);
        }
        let total = addrs.len();
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| !ip_is_private_pivot(a.ip()) || self.ip_allowed(a.ip()))
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
            assert!(g.check_host(h).is_err(), "{h} should be refused");
        }
        for h in [
            "example.com",
            "10.0.0.1",
            "172.17.0.2",
            "8.8.8.8",
            "2001:db8::1",
        ] {
            assert!(g.check_host(h).is_ok(), "{h} should pass");
        }
    }

    #[test]
    fn allow_list_ip_cidr_and_name() {
        let g = PivotGuard::new(&[
            "127.0.0.1".into(),
            "169.254.0.0/16".into(),
            "localhost".into(),
        ]);
        assert!(g.check_host("127.0.0.1").is_ok());
        assert!(g.check_host("127.0.0.2").is_err());
        assert!(g.check_host("169.254.169.254").is_ok());
        assert!(g.check_host("localhost").is_ok());
        assert!(g.check_host("::1").is_err());
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
        let g = PivotGuard::new(&["127.0.0.1".into()]);
        assert_eq!(g.check_resolved("x", vec![lo]).unwrap(), vec![lo]);
    }
}
