//! Lock-free counters of the proxy, plus a short ring of recent blind tunnels
//! (metadata only: destination, byte counts, duration).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::core::finding::{Direction, Finding, Severity, ThreatType};

/// How many finished tunnels are kept for `status()`.
const RECENT_TUNNELS: usize = 32;

/// Live counters, shared by every connection task.
#[derive(Debug, Default)]
pub struct ProxyStats {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub responses: AtomicU64,
    pub bytes_scanned_outbound: AtomicU64,
    pub bytes_scanned_inbound: AtomicU64,
    pub findings_exfil: AtomicU64,
    pub findings_injection: AtomicU64,
    pub findings_low: AtomicU64,
    pub findings_medium: AtomicU64,
    pub findings_high: AtomicU64,
    pub findings_critical: AtomicU64,
    pub truncated_messages: AtomicU64,
    pub decode_failures: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub tunnels: AtomicU64,
    pub tunnel_bytes_up: AtomicU64,
    pub tunnel_bytes_down: AtomicU64,
    pub mitm_connections: AtomicU64,
    pub auth_failures: AtomicU64,
    pub pivot_refusals: AtomicU64,
    pub websocket_messages: AtomicU64,
    /// Client bytes that are not valid HTTP/TLS: malformed or oversized
    /// request heads, invalid body framing, failed MITM handshakes.
    pub client_protocol_errors: AtomicU64,
    /// Clients cut off for stalling: request head not sent in time, or no
    /// request-body byte within the body idle timeout.
    pub client_timeouts: AtomicU64,
    /// Exchanges ended because the upstream sent no response head in time.
    pub upstream_timeouts: AtomicU64,
    /// Bytes waiting for (or being scanned by) the scan pool now.
    pub scan_queue_bytes: AtomicU64,
    /// Highest [`Self::scan_queue_bytes`] seen.
    pub scan_queue_peak_bytes: AtomicU64,
    /// Time the scan pool's threads spent in scan jobs (sum of job durations).
    pub scan_time_ns: AtomicU64,
    /// Scan jobs finished (the scan-time histogram's count).
    pub scan_jobs: AtomicU64,
    /// Jobs per [`SCAN_TIME_BUCKETS_NS`] bucket (not cumulative; longer
    /// jobs are only in `scan_jobs`).
    pub scan_time_buckets: [AtomicU64; SCAN_TIME_BUCKETS_NS.len()],
    /// Forwarded bytes not scanned because the scan queues were full.
    pub unscanned_overload_bytes: AtomicU64,
    /// Forwarded bytes past a message's `max_scan_bytes`.
    pub unscanned_limit_bytes: AtomicU64,
    /// Forwarded bytes of binary bodies (images, audio, video, fonts, archives, wasm).
    pub unscanned_binary_bytes: AtomicU64,
    /// Forwarded bytes of long-lived streams beyond their sliding scan budget.
    pub unscanned_stream_budget_bytes: AtomicU64,
    /// Client connections open now (a gauge, not cumulative).
    pub open_connections: AtomicU64,
    /// Connections closed on accept because `max_connections` were open.
    pub rejected_total_cap: AtomicU64,
    /// Connections closed on accept because their client address had
    /// `max_connections_per_client` open.
    pub rejected_client_cap: AtomicU64,
    /// Connections closed for sending no byte within the first-byte timeout.
    pub silent_connections_closed: AtomicU64,
    /// Keep-alive connections closed after the idle timeout between exchanges.
    pub idle_connections_closed: AtomicU64,
    recent_tunnels: Mutex<VecDeque<TunnelRecord>>,
}

/// Metadata of one finished blind tunnel (never its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TunnelRecord {
    pub source: String,
    pub dest: String,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub duration_ms: u64,
}

/// Findings counted by threat type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ThreatCounts {
    #[serde(rename = "EXFIL")]
    pub exfil: u64,
    #[serde(rename = "INJECTION")]
    pub injection: u64,
}

/// Findings counted by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

/// Forwarded bytes that were not scanned, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnscannedBytes {
    /// The scan queues were full: the pool was behind, forwarding went on.
    pub overload: u64,
    /// Past a message's `max_scan_bytes`.
    pub limit: u64,
    /// Binary bodies (images, audio, video, fonts, archives, wasm).
    pub binary: u64,
    /// Long-lived streams (event streams, tunnels) beyond their sliding
    /// scan budget; scanned again once the budget refills.
    pub stream_budget: u64,
}

/// The scan pool's load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanCounters {
    /// Bytes waiting for the scan pool now.
    pub queue_bytes: u64,
    /// Highest queue depth seen (bytes).
    pub queue_peak_bytes: u64,
    /// Time spent scanning on the pool's threads (sum of job durations).
    pub time_ms: u64,
    /// The same, in nanoseconds (the histogram's sum).
    pub time_ns: u64,
    /// Scan jobs finished.
    pub jobs: u64,
    /// Cumulative job counts per [`SCAN_TIME_BUCKETS_NS`] bound (`le`).
    pub time_buckets: Vec<u64>,
    pub unscanned_bytes: UnscannedBytes,
}

/// A point-in-time copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    pub connections: u64,
    pub requests: u64,
    pub responses: u64,
    pub bytes_scanned_outbound: u64,
    pub bytes_scanned_inbound: u64,
    pub findings_by_threat: ThreatCounts,
    pub findings_by_severity: SeverityCounts,
    pub truncated_messages: u64,
    pub decode_failures: u64,
    pub upstream_errors: u64,
    pub tunnels: u64,
    pub tunnel_bytes_up: u64,
    pub tunnel_bytes_down: u64,
    pub mitm_connections: u64,
    pub auth_failures: u64,
    pub pivot_refusals: u64,
    pub websocket_messages: u64,
    pub client_protocol_errors: u64,
    pub client_timeouts: u64,
    pub upstream_timeouts: u64,
    pub scan: ScanCounters,
    pub open_connections: u64,
    pub rejected_total_cap: u64,
    pub rejected_client_cap: u64,
    pub silent_connections_closed: u64,
    pub idle_connections_closed: u64,
    pub recent_tunnels: Vec<TunnelRecord>,
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// Upper bounds of the scan-time histogram's buckets, in nanoseconds
/// (100 µs to 5 s); the `+Inf` bucket is the job count.
pub const SCAN_TIME_BUCKETS_NS: [u64; 10] = [
    100_000,
    500_000,
    1_000_000,
    5_000_000,
    10_000_000,
    50_000_000,
    100_000_000,
    500_000_000,
    1_000_000_000,
    5_000_000_000,
];

impl ProxyStats {
    /// Counts `n` bytes scanned going `direction` (body bytes, or a head's
    /// URL and header bytes).
    pub fn count_scanned(&self, direction: Direction, n: u64) {
        Self::add(
            match direction {
                Direction::Outbound => &self.bytes_scanned_outbound,
                Direction::Inbound => &self.bytes_scanned_inbound,
            },
            n,
        );
    }

    /// Records one scan job's duration (sum, count and histogram bucket).
    pub fn observe_scan(&self, ns: u64) {
        Self::add(&self.scan_time_ns, ns);
        Self::add(&self.scan_jobs, 1);
        if let Some(i) = SCAN_TIME_BUCKETS_NS.iter().position(|&le| ns <= le) {
            if let Some(b) = self.scan_time_buckets.get(i) {
                Self::add(b, 1);
            }
        }
    }

    /// Adds one to a counter.
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` to a counter.
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts findings by threat type and severity (called when they are handed to the sink).
    pub fn count_findings(&self, findings: &[Finding]) {
        for f in findings {
            Self::inc(match f.threat_type {
                ThreatType::Exfil => &self.findings_exfil,
                ThreatType::Injection => &self.findings_injection,
            });
            Self::inc(match f.severity {
                Severity::Low => &self.findings_low,
                Severity::Medium => &self.findings_medium,
                Severity::High => &self.findings_high,
                Severity::Critical => &self.findings_critical,
            });
        }
    }

    /// Records a finished blind tunnel.
    pub fn record_tunnel(&self, rec: TunnelRecord) {
        Self::add(&self.tunnel_bytes_up, rec.bytes_up);
        Self::add(&self.tunnel_bytes_down, rec.bytes_down);
        if let Ok(mut ring) = self.recent_tunnels.lock() {
            if ring.len() >= RECENT_TUNNELS {
                ring.pop_front();
            }
            ring.push_back(rec);
        }
    }

    /// Copies every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connections: get(&self.connections),
            requests: get(&self.requests),
            responses: get(&self.responses),
            bytes_scanned_outbound: get(&self.bytes_scanned_outbound),
            bytes_scanned_inbound: get(&self.bytes_scanned_inbound),
            findings_by_threat: ThreatCounts {
                exfil: get(&self.findings_exfil),
                injection: get(&self.findings_injection),
            },
            findings_by_severity: SeverityCounts {
                low: get(&self.findings_low),
                medium: get(&self.findings_medium),
                high: get(&self.findings_high),
                critical: get(&self.findings_critical),
            },
            truncated_messages: get(&self.truncated_messages),
            decode_failures: get(&self.decode_failures),
            upstream_errors: get(&self.upstream_errors),
            tunnels: get(&self.tunnels),
            tunnel_bytes_up: get(&self.tunnel_bytes_up),
            tunnel_bytes_down: get(&self.tunnel_bytes_down),
            mitm_connections: get(&self.mitm_connections),
            auth_failures: get(&self.auth_failures),
            pivot_refusals: get(&self.pivot_refusals),
            websocket_messages: get(&self.websocket_messages),
            client_protocol_errors: get(&self.client_protocol_errors),
            client_timeouts: get(&self.client_timeouts),
            upstream_timeouts: get(&self.upstream_timeouts),
            scan: ScanCounters {
                queue_bytes: get(&self.scan_queue_bytes),
                queue_peak_bytes: get(&self.scan_queue_peak_bytes),
                time_ms: get(&self.scan_time_ns) / 1_000_000,
                time_ns: get(&self.scan_time_ns),
                jobs: get(&self.scan_jobs),
                time_buckets: self
                    .scan_time_buckets
                    .iter()
                    .scan(0u64, |acc, b| {
                        *acc = acc.saturating_add(get(b));
                        Some(*acc)
                    })
                    .collect(),
                unscanned_bytes: UnscannedBytes {
                    overload: get(&self.unscanned_overload_bytes),
                    limit: get(&self.unscanned_limit_bytes),
                    binary: get(&self.unscanned_binary_bytes),
                    stream_budget: get(&self.unscanned_stream_budget_bytes),
                },
            },
            open_connections: get(&self.open_connections),
            rejected_total_cap: get(&self.rejected_total_cap),
            rejected_client_cap: get(&self.rejected_client_cap),
            silent_connections_closed: get(&self.silent_connections_closed),
            idle_connections_closed: get(&self.idle_connections_closed),
            recent_tunnels: self
                .recent_tunnels
                .lock()
                .map(|r| r.iter().cloned().collect())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_time_histogram_is_cumulative_with_an_implied_inf_bucket() {
        let s = ProxyStats::default();
        for ns in [50_000, 100_000, 2_000_000, 2_000_000, 9_000_000_000] {
            s.observe_scan(ns);
        }
        let c = s.snapshot().scan;
        assert_eq!(c.jobs, 5);
        assert_eq!(c.time_ns, 50_000 + 100_000 + 4_000_000 + 9_000_000_000);
        // le=100µs: 2; le=500µs, 1ms: 2; le=5ms and above: 4; +Inf (jobs): 5.
        assert_eq!(c.time_buckets, vec![2, 2, 2, 4, 4, 4, 4, 4, 4, 4]);
        assert_eq!(c.time_buckets.len(), SCAN_TIME_BUCKETS_NS.len());
    }
}
