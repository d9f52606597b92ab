//! The only place where the proxy touches the detector: builds scan contexts,
//! scans heads, creates body inspectors and hands findings (counted) to the sink.

use std::sync::Arc;

use hudsucker::hyper::HeaderMap;

use crate::core::finding::{Direction, Finding};
use crate::core::scan::{BodyInspector, Detector, MessageHead, ScanContext};
use crate::core::store::FindingSink;

use super::stats::ProxyStats;

/// Detector + sink + counters, shared by every handler clone.
#[derive(Clone)]
pub struct Inspection {
    detector: Option<Arc<Detector>>,
    sink: Arc<dyn FindingSink>,
    stats: Arc<ProxyStats>,
}

/// Header pairs for a [`MessageHead`]. The scanner itself skips the
/// guardian's own `Proxy-Authorization` (one check, for proxy and offline scans).
fn header_pairs(headers: &HeaderMap) -> Vec<(&str, &[u8])> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect()
}

impl Inspection {
    pub fn new(
        detector: Option<Arc<Detector>>,
        sink: Arc<dyn FindingSink>,
        stats: Arc<ProxyStats>,
    ) -> Self {
        Inspection {
            detector,
            sink,
            stats,
        }
    }

    /// Whether anything is inspected at all.
    pub fn enabled(&self) -> bool {
        self.detector.is_some()
    }

    /// Counts findings and hands them to the sink.
    pub fn record(&self, findings: Vec<Finding>) {
        if findings.is_empty() {
            return;
        }
        self.stats.count_findings(&findings);
        self.sink.record(findings);
    }

    /// Scans a request line (method + URL) and its headers.
    pub fn scan_request_head(
        &self,
        ctx: &ScanContext,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) {
        if let Some(d) = &self.detector {
            let head = MessageHead {
                method: Some(method),
                url: Some(url),
                status: None,
                headers: header_pairs(headers),
            };
            self.record(d.scan_head(ctx, &head));
        }
    }

    /// Scans a response status and its headers.
    pub fn scan_response_head(&self, ctx: &ScanContext, status: u16, headers: &HeaderMap) {
        if let Some(d) = &self.detector {
            let head = MessageHead {
                method: None,
                url: None,
                status: Some(status),
                headers: header_pairs(headers),
            };
            self.record(d.scan_head(ctx, &head));
        }
    }

    /// A streaming scanner for one body, or `None` when inspection is off.
    pub fn body_scan(&self, ctx: ScanContext, content_encoding: Option<&str>) -> Option<BodyScan> {
        self.stream_scan(ctx, "body", content_encoding)
    }

    /// The two stream scanners (outbound, inbound) of a relayed tunnel,
    /// location `tunnel`, or `None` when inspection is off.
    pub fn tunnel_scans(&self, source: &str, dest: &str) -> Option<(BodyScan, BodyScan)> {
        let ctx = |direction| ScanContext::new(direction, "http", source, dest);
        Some((
            self.stream_scan(ctx(Direction::Outbound), "tunnel", None)?,
            self.stream_scan(ctx(Direction::Inbound), "tunnel", None)?,
        ))
    }

    /// A streaming scanner for one byte stream at `location` (`body`, or
    /// `tunnel` for plaintext HTTP relayed inside a blind CONNECT tunnel).
    pub fn stream_scan(
        &self,
        ctx: ScanContext,
        location: &str,
        content_encoding: Option<&str>,
    ) -> Option<BodyScan> {
        let d = self.detector.as_ref()?;
        let direction = ctx.direction;
        Some(BodyScan {
            inspector: d.body_inspector(ctx, location, content_encoding),
            inspection: self.clone(),
            direction,
            finished: false,
        })
    }

    /// Scans one WebSocket message.
    pub fn scan_websocket(&self, ctx: &ScanContext, bytes: &[u8]) {
        if let Some(d) = &self.detector {
            ProxyStats::add(
                match ctx.direction {
                    Direction::Outbound => &self.stats.bytes_scanned_outbound,
                    Direction::Inbound => &self.stats.bytes_scanned_inbound,
                },
                bytes.len().min(d.max_scan_bytes()) as u64,
            );
            if bytes.len() > d.max_scan_bytes() {
                ProxyStats::inc(&self.stats.truncated_messages);
            }
            self.record(d.scan_text(ctx, "websocket", bytes));
        }
    }
}

/// Inspection state of one body: fed frame by frame, finished exactly once
/// (at end of stream, on error, or when dropped early).
pub struct BodyScan {
    inspector: BodyInspector,
    inspection: Inspection,
    direction: Direction,
    finished: bool,
}

impl BodyScan {
    /// Inspects one data frame, before it is passed on.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.finished {
            return;
        }
        let found = self.inspector.feed(chunk);
        self.inspection.record(found);
    }

    /// Ends inspection and records its counters; later calls do nothing.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let found = self.inspector.finish();
        self.inspection.record(found);
        let st = self.inspector.stats();
        let stats = &self.inspection.stats;
        ProxyStats::add(
            match self.direction {
                Direction::Outbound => &stats.bytes_scanned_outbound,
                Direction::Inbound => &stats.bytes_scanned_inbound,
            },
            st.scanned_bytes,
        );
        if st.truncated {
            ProxyStats::inc(&stats.truncated_messages);
        }
        if st.decode_failed {
            ProxyStats::inc(&stats.decode_failures);
        }
    }
}

impl Drop for BodyScan {
    fn drop(&mut self) {
        self.finish();
    }
}
