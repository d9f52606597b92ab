//! The only place where the proxy touches the detector: builds scan
//! contexts and hands heads, body frames and WebSocket messages to the scan
//! pool (never scanning on the forwarding path), and hands findings
//! (counted) to the sink.

use std::sync::Arc;

use bytes::Bytes;
use hudsucker::hyper::HeaderMap;

use crate::core::finding::{Direction, Finding};
use crate::core::scan::{BodyInspector, Detector, MessageHead, ScanContext};
use crate::core::store::FindingSink;

use super::budget::{StreamBudgetSettings, TokenBucket};
use super::scan_pool::{ScanPool, StreamHandle, StreamWork, Unscanned};
use super::sniff::{body_verdict, event_stream_type, BodyVerdict};
use super::stats::ProxyStats;
use super::ws_frames::WsMessage;

/// Detector + sink + counters + scan pool, shared by every handler clone.
#[derive(Clone)]
pub struct Inspection {
    detector: Option<Arc<Detector>>,
    sink: Arc<dyn FindingSink>,
    stats: Arc<ProxyStats>,
    pool: ScanPool,
    budget: StreamBudgetSettings,
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
        budget: StreamBudgetSettings,
    ) -> Self {
        Inspection {
            detector,
            sink,
            stats,
            pool,
            budget,
        }
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
        let long_lived = content_type.is_some_and(event_stream_type);
        let mut scan = self.stream_scan(
            ctx,
            "body",
            content_encoding,
            content_type,
            true,
            long_lived,
        )?;
        scan.trailers = Some(trailers);
        Some(scan)
    }

    /// The two stream scanners (outbound, inbound) of a relayed tunnel,
    /// location `tunnel`, and its WebSocket message scanner (for a
    /// WebSocket upgraded inside it), or `None` when inspection is off.
    pub fn tunnel_scans(&self, source: &str, dest: &str) -> Option<TunnelScans> {
        let ctx = |direction| ScanContext::new(direction, "http", source, dest);
        Some(TunnelScans {
            outbound: self.stream_scan(
                ctx(Direction::Outbound),
                "tunnel",
                None,
                None,
                false,
                true,
            )?,
            inbound: self.stream_scan(
                ctx(Direction::Inbound),
                "tunnel",
                None,
                None,
                false,
                true,
            )?,
            websocket: WsMessages {
                inspection: self.clone(),
                source: source.to_owned(),
                dest: dest.to_owned(),
            },
        })
    }

    /// A streaming scanner for one byte stream at `location` (`body`, or
    /// `tunnel` for plaintext HTTP relayed inside a blind CONNECT tunnel).
    /// A `long_lived` stream without a content coding gets the sliding
    /// budget of [`super::budget`] instead of the one-time `max_scan_bytes`
    /// (a decoder cannot skip bytes, so a coded stream keeps the latter).
    fn stream_scan(
        &self,
        ctx: ScanContext,
        location: &str,
        content_encoding: Option<&str>,
        content_type: Option<&str>,
        body: bool,
        long_lived: bool,
    ) -> Option<BodyScan> {
        let d = self.detector.as_ref()?;
        let direction = ctx.direction;
        let mut inspector = d.body_inspector(ctx, location, content_encoding);
        let sliding = long_lived && content_encoding.is_none();
        let bucket = sliding.then(|| {
            // The bucket bounds what is scanned; the inspector itself never stops.
            inspector.set_limit(u64::MAX);
            let bytes = match self.budget.bytes {
                0 => d.max_scan_bytes() as u64,
                n => n,
            };
            TokenBucket::new(bytes, self.budget.period, self.budget.clock.clone())
        });
        let work = StreamInspector {
            inspector,
            inspection: self.clone(),
            direction,
        };
        // Without a content coding the forwarded bytes are the scanned
        // bytes, so the scan limit is known here, before anything is queued.
        let raw_limit = (content_encoding.is_none() && !sliding).then(|| d.max_scan_bytes() as u64);
        let mut handle = self.pool.stream(Box::new(work), body);
        if sliding {
            handle.set_resumable();
        }
        Some(BodyScan {
            handle,
            bucket,
            raw_limit,
            offset: 0,
            sniff: body.then(|| Sniff {
                content_type: content_type.map(str::to_owned),
                content_encoding: content_encoding.map(str::to_owned),
            }),
            trailers: None,
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

/// What inspects a relayed tunnel: both directions as byte streams, and
/// the messages of a WebSocket upgraded inside it.
pub struct TunnelScans {
    pub outbound: BodyScan,
    pub inbound: BodyScan,
    pub websocket: WsMessages,
}

/// Counts and scans the WebSocket messages read from one relayed connection.
pub struct WsMessages {
    inspection: Inspection,
    source: String,
    dest: String,
}

impl WsMessages {
    /// Bytes of one message kept for scanning (`max_scan_bytes`).
    pub fn max(&self) -> usize {
        self.inspection.max_scan_bytes().unwrap_or(0)
    }

    /// Counts one complete data message and queues its scan.
    pub fn message(&self, direction: Direction, msg: WsMessage) {
        let stats = &self.inspection.stats;
        ProxyStats::inc(&stats.websocket_messages);
        if msg.dropped > 0 {
            self.inspection.count_truncated(msg.dropped);
        }
        let ctx = ScanContext::new(direction, "websocket", &self.source, &self.dest);
        self.inspection
            .scan_websocket(&ctx, Bytes::from(msg.payload));
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

    fn gap(&mut self) {
        let found = self.inspector.skip();
        self.inspection.record(found);
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
    /// The sliding budget of a long-lived stream (then `raw_limit` is `None`).
    bucket: Option<TokenBucket>,
    /// `max_scan_bytes` when forwarded bytes are scanned bytes (no coding).
    raw_limit: Option<u64>,
    /// Forwarded bytes so far.
    offset: u64,
    /// Pending until the first data frame of a body.
    sniff: Option<Sniff>,
    /// Where a message body's trailers are scanned (as header fields).
    trailers: Option<Trailers>,
}

/// How a body's trailer fields (chunked trailers, HTTP/2 trailing HEADERS,
/// gRPC status) are scanned: like the message's header fields.
struct Trailers {
    inspection: Inspection,
    ctx: ScanContext,
}

impl BodyScan {
    /// Decides, before queueing a frame, how much of it is to be scanned:
    /// returns the length of its prefix to queue (the rest is counted).
    fn admit(&mut self, first: &[u8]) -> usize {
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
        match self.bucket.as_mut() {
            Some(bucket) if !self.handle.stopped() => {
                let granted = bucket.take(len);
                self.handle.count(Unscanned::StreamBudget, len - granted);
                usize::try_from(granted).unwrap_or(first.len())
            }
            _ => first.len(),
        }
    }

    /// Hands one data frame (a cheap clone) to the pool, as it is forwarded.
    pub fn push(&mut self, frame: &Bytes) {
        if frame.is_empty() {
            return;
        }
        let take = self.admit(frame);
        if take > 0 {
            self.handle.push(frame.slice(..take));
        }
        if take < frame.len() {
            self.handle.gap();
        }
    }

    /// Like [`BodyScan::push`] for bytes read into a borrowed buffer (tunnels):
    /// copied only when they are queued.
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let take = self.admit(bytes);
        if self.handle.stopped() {
            self.handle.push_counted(bytes.len());
            return;
        }
        if take > 0 {
            self.handle
                .push(Bytes::copy_from_slice(bytes.get(..take).unwrap_or(bytes)));
        }
        if take < bytes.len() {
            self.handle.gap();
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
    }
}
