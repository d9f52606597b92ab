//! Caps on concurrent client connections, in total and per client IP
//! address. Resource protection of the proxy: a connection over a cap is
//! closed as soon as it is accepted (never queued), whatever it would have
//! carried; the decision sees only counts and the peer address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::stats::ProxyStats;

/// Which cap a refused connection hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapHit {
    /// `max_connections` connections were open.
    Total,
    /// Its client address had `max_connections_per_client` open.
    Client,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// Counts open client connections against the two caps.
#[derive(Debug)]
pub struct ConnLimiter {
    max_total: usize,
    max_per_client: usize,
    open: Mutex<Open>,
    stats: Arc<ProxyStats>,
}

/// One admitted connection; its slot is freed when this is dropped (when
/// the client socket closes, tunnels and upgrades included).
#[derive(Debug)]
pub struct ConnPermit {
    limiter: Arc<ConnLimiter>,
    ip: IpAddr,
}

impl ConnLimiter {
    pub fn new(max_total: usize, max_per_client: usize, stats: Arc<ProxyStats>) -> Self {
        ConnLimiter {
            max_total,
            max_per_client,
            open: Mutex::new(Open::default()),
            stats,
        }
    }

    /// Admits a connection from `ip`, or says which cap it is over.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnPermit, CapHit> {
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= self.max_total {
            return Err(CapHit::Total);
        }
        let n = open.per_client.entry(ip).or_insert(0);
        if *n >= self.max_per_client {
            return Err(CapHit::Client);
        }
        *n += 1;
        open.total += 1;
        ProxyStats::inc(&self.stats.open_connections);
        Ok(ConnPermit {
            limiter: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_client.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_client.remove(&self.ip);
            }
        }
        self.limiter
            .stats
            .open_connections
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_address_and_in_total_and_free_on_drop() {
        let stats = Arc::new(ProxyStats::default());
        let l = Arc::new(ConnLimiter::new(3, 2, Arc::clone(&stats)));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let mapped_a: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let p1 = l.admit(a).unwrap();
        let _p2 = l.admit(mapped_a).unwrap();
        assert_eq!(l.admit(a).unwrap_err(), CapHit::Client);
        let _p3 = l.admit(b).unwrap();
        assert_eq!(l.admit(b).unwrap_err(), CapHit::Total);
        assert_eq!(stats.snapshot().open_connections, 3);
        drop(p1);
        assert_eq!(stats.snapshot().open_connections, 2);
        let _p4 = l.admit(a).unwrap();
    }
}
