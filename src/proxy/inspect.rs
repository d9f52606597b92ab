//! The only place where the proxy touches the detector: builds scan
//! contexts and hands heads, body frames and WebSocket messages to the scan
//! pool (never scanning on the forwarding path), and hands findings
//! (counted) to the sink.

use std::sync::Arc;

use bytes::Bytes;
use hudsucker::hyper::HeaderMap;

use crate::core::finding::{
    timestamp_now, Direction, Finding, Severity, ThreatType, PLATFORM, SCHEMA_VERSION,
};
use crate::core::scan::{new_finding_id, BodyInspector, Detector, MessageHead, ScanContext};
use crate::core::shape::{ShapeAlert, ShapeThresholds, ShapeTracker, DNS_LABEL_PATTERN};
use crate::core::store::FindingSink;
use std::sync::Mutex;
use std::time::Instant;

use super::scan_pool::{ScanPool, StreamHandle, StreamWork, Unscanned};
use super::sniff::{body_verdict, BodyVerdict};
use super::stats::ProxyStats;

/// Detector + sink + counters + scan pool, shared by every handler clone.
#[derive(Clone)]
pub struct Inspection {
    detector: Option<Arc<Detector>>,
    sink: Arc<dyn FindingSink>,
    stats: Arc<ProxyStats>,
    pool: ScanPool,
    shape: Arc<ShapeWatch>,
}

/// The exfiltration-shape windows of one engine, with the clock they run on
/// (the proxy is the edge that reads it; [`ShapeTracker`] is pure).
struct ShapeWatch {
    tracker: Mutex<ShapeTracker>,
    origin: Instant,
}

impl ShapeWatch {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn with<T>(&self, f: impl FnOnce(&mut ShapeTracker, u64) -> T) -> Option<T> {
        let now = self.now_ms();
        self.tracker.lock().ok().map(|mut t| f(&mut t, now))
    }
}

/// Header pairs for a [`MessageHead`]. The scanner itself skips the
/// guardian's own `Proxy-Authorization` (one check, for proxy and offline scans).
fn header_pairs(headers: &HeaderMap) -> Vec<(&str, &[u8])> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect()
}

/// Bytes a head occupies in the scan queue.
fn head_cost(url: &str, headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum::<usize>()
        + url.len()
}

impl Inspection {
    pub fn new(
        detector: Option<Arc<Detector>>,
        sink: Arc<dyn FindingSink>,
        stats: Arc<ProxyStats>,
        pool: ScanPool,
        shape: ShapeThresholds,
    ) -> Self {
        Inspection {
            detector,
            sink,
            stats,
            pool,
            shape: Arc::new(ShapeWatch {
                tracker: Mutex::new(ShapeTracker::new(shape)),
                origin: Instant::now(),
            }),
        }
    }

    /// Findings for shape alerts about traffic in `ctx`: evidence
    /// summarised, the destination masked.
    fn record_shape(&self, ctx: &ScanContext, alerts: Vec<ShapeAlert>) {
        let Some(d) = &self.detector else {
            return;
        };
        let findings: Vec<Finding> = alerts
            .into_iter()
            .map(|a| {
                let dest = if a.pattern == DNS_LABEL_PATTERN {
                    let port = ctx.dest.rsplit_once(':').map_or("", |(_, p)| p);
                    format!("{}:{port}", a.subject)
                } else {
                    d.mask_dest(&ctx.dest)
                };
                Finding {
                    schema_version: SCHEMA_VERSION.to_owned(),
                    platform: PLATFORM.to_owned(),
                    id: new_finding_id(),
                    direction: Direction::Outbound,
                    protocol: ctx.protocol.clone(),
                    threat_type: ThreatType::Exfil,
                    pattern: a.pattern.to_owned(),
                    severity: Severity::High,
                    source: ctx.source.clone(),
                    dest,
                    location: "shape".to_owned(),
                    snippet: a.summary,
                    fingerprint: crate::core::redact::fingerprint(
                        &d.options().fingerprint_key,
                        a.pattern,
                        a.subject.as_bytes(),
                    ),
                    count: 1,
                    decoded: None,
                    timestamp: timestamp_now(),
                    repeats_of: None,
                }
            })
            .collect();
        self.record(findings);
    }

    /// The per-message scan bound (`max_scan_bytes`), when inspecting.
    pub fn max_scan_bytes(&self) -> Option<usize> {
        self.detector.as_ref().map(|d| d.max_scan_bytes())
    }

    /// Counts `bytes` of a message beyond the scan bound (not scanned).
    pub fn count_truncated(&self, bytes: u64) {
        ProxyStats::inc(&self.stats.truncated_messages);
        self.stats.count_unscanned(Unscanned::Limit, bytes);
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

    /// Queues the scan of a request line (method + URL) and its headers.
    pub fn scan_request_head(
        &self,
        ctx: &ScanContext,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) {
        if ctx.direction == Direction::Outbound && self.detector.is_some() {
            let host = ctx.dest_host();
            let alerts = self
                .shape
                .with(|t, now| t.observe_request(now, &host, url))
                .unwrap_or_default();
            if !alerts.is_empty() {
                self.record_shape(ctx, alerts);
            }
        }
        self.scan_head(ctx, Some(method), Some(url), None, headers);
    }

    /// Queues the scan of a response status and its headers.
    pub fn scan_response_head(&self, ctx: &ScanContext, status: u16, headers: &HeaderMap) {
        self.scan_head(ctx, None, None, Some(status), headers);
    }

    fn scan_head(
        &self,
        ctx: &ScanContext,
        method: Option<&str>,
        url: Option<&str>,
        status: Option<u16>,
        headers: &HeaderMap,
    ) {
        let Some(d) = self.detector.clone() else {
            return;
        };
        let me = self.clone();
        let ctx = ctx.clone();
        let method = method.map(str::to_owned);
        let url = url.map(str::to_owned);
        let headers = headers.clone();
        let cost = head_cost(url.as_deref().unwrap_or_default(), &headers);
        self.pool.submit(cost, move || {
            let head = MessageHead {
                method: method.as_deref(),
                url: url.as_deref(),
                status,
                headers: header_pairs(&headers),
            };
            me.record(d.scan_head(&ctx, &head));
        });
    }

    /// A streaming scanner for one message body, or `None` when inspection
    /// is off. Binary bodies (see [`super::sniff`]) are counted, not scanned.
    pub fn body_scan(
        &self,
        ctx: ScanContext,
        content_encoding: Option<&str>,
        content_type: Option<&str>,
    ) -> Option<BodyScan> {
        let trailers = Trailers {
            inspection: self.clone(),
            ctx: ctx.clone(),
        };
        let volume = (ctx.direction == Direction::Outbound).then(|| Trailers {
            inspection: self.clone(),
            ctx: ctx.clone(),
        });
        let mut scan = self.stream_scan(ctx, "body", content_encoding, content_type, true)?;
        scan.trailers = Some(trailers);
        scan.volume = volume;
        Some(scan)
    }

    /// The two stream scanners (outbound, inbound) of a relayed tunnel,
    /// location `tunnel`, or `None` when inspection is off.
    pub fn tunnel_scans(&self, source: &str, dest: &str) -> Option<(BodyScan, BodyScan)> {
        let ctx = |direction| ScanContext::new(direction, "http", source, dest);
        Some((
            self.stream_scan(ctx(Direction::Outbound), "tunnel", None, None, false)?,
            self.stream_scan(ctx(Direction::Inbound), "tunnel", None, None, false)?,
        ))
    }

    /// A streaming scanner for one byte stream at `location` (`body`, or
    /// `tunnel` for plaintext HTTP relayed inside a blind CONNECT tunnel).
    fn stream_scan(
        &self,
        ctx: ScanContext,
        location: &str,
        content_encoding: Option<&str>,
        content_type: Option<&str>,
        body: bool,
    ) -> Option<BodyScan> {
        let d = self.detector.as_ref()?;
        let direction = ctx.direction;
        let work = StreamInspector {
            inspector: d.body_inspector(ctx, location, content_encoding),
            inspection: self.clone(),
            direction,
        };
        // Without a content coding the forwarded bytes are the scanned
        // bytes, so the scan limit is known here, before anything is queued.
        let raw_limit = content_encoding
            .is_none()
            .then(|| d.max_scan_bytes() as u64);
        Some(BodyScan {
            handle: self.pool.stream(Box::new(work), body),
            raw_limit,
            offset: 0,
            sniff: body.then(|| Sniff {
                content_type: content_type.map(str::to_owned),
                content_encoding: content_encoding.map(str::to_owned),
            }),
            trailers: None,
            volume: None,
        })
    }

    /// Queues the scan of one WebSocket message.
    pub fn scan_websocket(&self, ctx: &ScanContext, bytes: Bytes) {
        let Some(d) = self.detector.clone() else {
            return;
        };
        let max = d.max_scan_bytes();
        ProxyStats::add(
            match ctx.direction {
                Direction::Outbound => &self.stats.bytes_scanned_outbound,
                Direction::Inbound => &self.stats.bytes_scanned_inbound,
            },
            bytes.len().min(max) as u64,
        );
        if bytes.len() > max {
            ProxyStats::inc(&self.stats.truncated_messages);
            self.stats
                .count_unscanned(Unscanned::Limit, (bytes.len() - max) as u64);
        }
        let bytes = bytes.slice(..bytes.len().min(max));
        let me = self.clone();
        let ctx = ctx.clone();
        self.pool.submit(bytes.len(), move || {
            me.record(d.scan_text(&ctx, "websocket", &bytes));
        });
    }
}

/// What the first frame of a body is judged with.
struct Sniff {
    content_type: Option<String>,
    content_encoding: Option<String>,
}

/// The pool side of one stream: its inspector, fed in order.
struct StreamInspector {
    inspector: BodyInspector,
    inspection: Inspection,
    direction: Direction,
}

impl StreamWork for StreamInspector {
    fn feed(&mut self, frame: &[u8]) {
        let found = self.inspector.feed(frame);
        self.inspection.record(found);
    }

    fn saturated(&self) -> bool {
        self.inspector.stats().truncated
    }

    fn finish(&mut self) {
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

/// The forwarding side of one inspected stream: frames go to the scan pool
/// (or are counted as unscanned) and this never blocks. Ended exactly once
/// (at end of stream, on error, or when dropped early).
pub struct BodyScan {
    handle: StreamHandle,
    /// `max_scan_bytes` when forwarded bytes are scanned bytes (no coding).
    raw_limit: Option<u64>,
    /// Forwarded bytes so far.
    offset: u64,
    /// Pending until the first data frame of a body.
    sniff: Option<Sniff>,
    /// Where a message body's trailers are scanned (as header fields).
    trailers: Option<Trailers>,
    /// Where an outbound body's size is counted for volume anomalies.
    volume: Option<Trailers>,
}

/// How a body's trailer fields (chunked trailers, HTTP/2 trailing HEADERS,
/// gRPC status) are scanned: like the message's header fields.
struct Trailers {
    inspection: Inspection,
    ctx: ScanContext,
}

impl BodyScan {
    /// Decides, before queueing `len` bytes, whether they are to be scanned.
    fn admit(&mut self, first: &[u8]) {
        if let Some(s) = self.sniff.take() {
            let verdict = body_verdict(
                s.content_type.as_deref(),
                s.content_encoding.as_deref(),
                first,
            );
            if verdict == BodyVerdict::Binary {
                self.handle.stop(Unscanned::Binary);
            }
        }
        let len = first.len() as u64;
        let start = self.offset;
        self.offset += len;
        if let Some(limit) = self.raw_limit {
            if start >= limit {
                self.handle.stop(Unscanned::Limit);
            } else if self.offset > limit && !self.handle.stopped() {
                // This frame crosses the limit: its tail is not scanned.
                self.handle.count(Unscanned::Limit, self.offset - limit);
            }
        }
    }

    /// Hands one data frame (a cheap clone) to the pool, as it is forwarded.
    pub fn push(&mut self, frame: &Bytes) {
        if frame.is_empty() {
            return;
        }
        self.admit(frame);
        self.handle.push(frame.clone());
    }

    /// Like [`BodyScan::push`] for bytes read into a borrowed buffer (tunnels):
    /// copied only when they are queued.
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.admit(bytes);
        if self.handle.stopped() {
            self.handle.push_counted(bytes.len());
        } else {
            self.handle.push(Bytes::copy_from_slice(bytes));
        }
    }

    /// Queues the scan of a body's trailer fields, as they are forwarded.
    pub fn trailers(&mut self, fields: &HeaderMap) {
        if let Some(t) = &self.trailers {
            t.inspection.scan_head(&t.ctx, None, None, None, fields);
        }
    }

    /// Ends the stream; later calls do nothing.
    pub fn finish(&mut self) {
        self.handle.end();
        self.count_volume();
    }

    /// Counts an outbound body's forwarded size, once (at its end, or when
    /// dropped: a sender may stop polling once `Content-Length` is reached).
    fn count_volume(&mut self) {
        if let Some(v) = self.volume.take() {
            let host = v.ctx.dest_host();
            let bytes = self.offset;
            let alerts = v
                .inspection
                .shape
                .with(|t, now| t.observe_bytes(now, &v.ctx.source, &host, bytes))
                .unwrap_or_default();
            if !alerts.is_empty() {
                v.inspection.record_shape(&v.ctx, alerts);
            }
        }
    }
}

impl Drop for BodyScan {
    fn drop(&mut self) {
        self.count_volume();
    }
}
