//! The only place where the proxy touches the detector: builds scan
//! contexts and hands heads, body frames and WebSocket messages to the scan
//! pool (never scanning on the forwarding path), and hands findings
//! (counted) to the sink.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;
use hyper::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::HeaderMap;

use crate::core::finding::{
    Direction, Finding, FindingContext, Severity, ThreatType, PLATFORM, SCHEMA_VERSION,
};
use crate::core::redact;
use crate::core::scan::{BodyInspector, Detector, MessageHead, ScanContext};
use crate::core::shape::{ShapeAlert, ShapeThresholds, ShapeTracker, DNS_LABEL_PATTERN};
use crate::storage::store::FindingSink;
use std::sync::Mutex;
use std::time::Instant;

use super::budget::{StreamBudgetSettings, TokenBucket};
use super::scan_pool::{ScanPool, StreamHandle, StreamWork, Unscanned};
use super::sniff::{body_verdict, event_stream_type, BodyVerdict};
use super::stats::ProxyStats;
use super::ws_frames::WsMessage;

/// Longest redacted path or content type kept in a finding.
const MAX_CONTEXT_CHARS: usize = 256;

/// A short random tag of one proxy run (4 hex digits), so that connection
/// ids of different runs, which count from 1 again, stay apart in the log.
pub fn new_run_tag() -> Arc<str> {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        b = [(n >> 8) as u8, n as u8];
    }
    Arc::from(hex::encode(b))
}

/// One client connection's identity: `<run>.c<n>`, and the counter of its
/// exchanges. Requests inside an intercepted CONNECT share the CONNECT's.
#[derive(Debug)]
pub struct ConnectionIds {
    run: Arc<str>,
    id: u64,
    next_request: AtomicU64,
}

impl ConnectionIds {
    pub fn new(run: Arc<str>, id: u64) -> Self {
        ConnectionIds {
            run,
            id,
            next_request: AtomicU64::new(0),
        }
    }

    /// The next exchange of this connection (`<run>.c17.r1`, `.r2`, …).
    pub fn next_exchange(&self, method: &str, target: Option<&str>) -> Arc<Exchange> {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed) + 1;
        Arc::new(Exchange {
            run: Arc::clone(&self.run),
            connection: self.id,
            request: n,
            method: method.chars().take(32).collect(),
            raw_path: target.map(path_of),
            path: OnceLock::new(),
        })
    }
}

/// The path of a request target (origin or absolute form), without query
/// or fragment. Still raw: masked only when a finding needs it.
fn path_of(target: &str) -> String {
    let rest = match target.find("://") {
        Some(i) => {
            let after = &target[i + 3..];
            after.find('/').map_or("", |j| &after[j..])
        }
        None => target,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = &rest[..end];
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

/// One request/response exchange, as its findings show it. The raw path
/// never leaves this struct; [`Exchange::context`] gives the masked one.
#[derive(Debug)]
pub struct Exchange {
    run: Arc<str>,
    connection: u64,
    request: u64,
    method: String,
    raw_path: Option<String>,
    /// Masked on the scan pool, once, by the first finding that needs it.
    path: OnceLock<Option<String>>,
}

/// What a scanned message adds to its exchange in a finding.
#[derive(Debug, Clone, Default)]
pub struct MessageMeta {
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
}

impl MessageMeta {
    /// Content type and length from a message's header fields.
    pub fn from_headers(status: Option<u16>, headers: &HeaderMap) -> Self {
        MessageMeta {
            status,
            content_type: headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
                .filter(|v| !v.is_empty()),
            content_length: headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
        }
    }
}

/// A message's exchange and its own head facts, as stamped on findings.
#[derive(Debug, Clone)]
pub struct MessageTag {
    pub exchange: Arc<Exchange>,
    pub meta: MessageMeta,
}

/// Text from traffic made safe for a finding: credential-like labels
/// `[MASKED]`, bounded length.
fn masked(detector: &Detector, text: &str) -> String {
    let rules = detector.rules(Direction::Outbound);
    let out = redact::mask_labels(text, |l| rules.has_credential(l));
    if out.chars().count() > MAX_CONTEXT_CHARS {
        let mut cut: String = out.chars().take(MAX_CONTEXT_CHARS).collect();
        cut.push('…');
        cut
    } else {
        out
    }
}

impl Exchange {
    /// `<run>.c17`.
    pub fn connection_id(&self) -> String {
        format!("{}.c{}", self.run, self.connection)
    }

    /// `<run>.c17.r3`.
    pub fn request_id(&self) -> String {
        format!("{}.c{}.r{}", self.run, self.connection, self.request)
    }

    /// The finding context of a message of this exchange. `forwarded` is
    /// the message's bytes forwarded so far (used without a Content-Length).
    fn context(
        &self,
        detector: &Detector,
        meta: &MessageMeta,
        forwarded: Option<u64>,
    ) -> FindingContext {
        let path = self
            .path
            .get_or_init(|| self.raw_path.as_deref().map(|p| masked(detector, p)))
            .clone();
        FindingContext {
            method: Some(masked(detector, &self.method)),
            path,
            status: meta.status,
            content_type: meta.content_type.as_deref().map(|c| masked(detector, c)),
            connection_id: Some(self.connection_id()),
            request_id: Some(self.request_id()),
            size_bytes: meta.content_length.or(forwarded),
        }
    }
}

/// The engine's current detector, swapped whole by a config reload; each
/// message's scan uses the detector current when the scan is queued.
pub type DetectorCell = Arc<RwLock<Arc<Detector>>>;

/// Detector + sink + counters + scan pool, shared by every handler clone.
#[derive(Clone)]
pub struct Inspection {
    detector: Option<DetectorCell>,
    sink: Arc<dyn FindingSink>,
    stats: Arc<ProxyStats>,
    pool: ScanPool,
    budget: StreamBudgetSettings,
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

/// Queue bytes a stream's inspector is estimated to hold until its end has
/// run (`heaptrack` of the download load: a zlib state is about 40 KiB and
/// the decoder's buffers about 28 KiB; a plain inspector's carry usually
/// under 8 KiB). An estimate, not a bound: a base64 run still open at a
/// frame's end is carried whole, up to `BASE64_MAX_RUN` (64 KiB).
const CODED_STREAM_STATE_BYTES: usize = 80 * 1024;
const PLAIN_STREAM_STATE_BYTES: usize = 8 * 1024;

/// The scan of one message head (request line or status, and header
/// fields), ready to queue: the fields are copied, nothing is borrowed.
pub struct HeadScan {
    /// Bytes it holds in the scan queue.
    cost: usize,
    run: Box<dyn FnOnce() + Send>,
}

/// A message head's fields, copied for a queued scan job (the scanner itself
/// skips the guardian's own `Proxy-Authorization`). A `HeaderMap`
/// clone would not do: hyper parses header values as slices of its read
/// buffer, so a queued clone pins the whole buffer (often with the first
/// body bytes in it, a few hundred KiB). Under a download load thousands of
/// queued heads held over 1 GB that way (`heaptrack`, `--only load_memory`).
struct CopiedFields {
    names: String,
    values: Vec<u8>,
    /// Where each field's name and value end in `names` and `values`.
    ends: Vec<(usize, usize)>,
}

impl CopiedFields {
    fn new(headers: &HeaderMap) -> Self {
        let mut f = CopiedFields {
            names: String::new(),
            values: Vec::with_capacity(headers.iter().map(|(_, v)| v.len()).sum()),
            ends: Vec::with_capacity(headers.len()),
        };
        for (name, value) in headers {
            f.names.push_str(name.as_str());
            f.values.extend_from_slice(value.as_bytes());
            f.ends.push((f.names.len(), f.values.len()));
        }
        f
    }

    fn pairs(&self) -> Vec<(&str, &[u8])> {
        let mut start = (0, 0);
        self.ends
            .iter()
            .map(|&(n, v)| {
                let pair = (
                    self.names.get(start.0..n).unwrap_or_default(),
                    self.values.get(start.1..v).unwrap_or_default(),
                );
                start = (n, v);
                pair
            })
            .collect()
    }
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
        detector: Option<DetectorCell>,
        sink: Arc<dyn FindingSink>,
        stats: Arc<ProxyStats>,
        pool: ScanPool,
        budget: StreamBudgetSettings,
        shape: ShapeThresholds,
    ) -> Self {
        Inspection {
            detector,
            sink,
            stats,
            pool,
            budget,
            shape: Arc::new(ShapeWatch {
                tracker: Mutex::new(ShapeTracker::new(shape)),
                origin: Instant::now(),
            }),
        }
    }

    /// The detector now, when inspecting.
    fn detector(&self) -> Option<Arc<Detector>> {
        self.detector
            .as_ref()
            .map(|c| Arc::clone(&c.read().unwrap_or_else(|e| e.into_inner())))
    }

    /// Findings for shape alerts about traffic in `ctx`: evidence
    /// summarised, the destination masked.
    fn record_shape(&self, ctx: &ScanContext, alerts: Vec<ShapeAlert>, tag: Option<&MessageTag>) {
        let Some(d) = self.detector() else {
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
                    id: d.options().stamp.finding_id(),
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
                    rule: None,
                    context: FindingContext::default(),
                    timestamp: d.options().stamp.timestamp(),
                    repeats_of: None,
                }
            })
            .collect();
        self.record(findings, &d, tag, None);
    }

    /// The per-message scan bound (`max_scan_bytes`), when inspecting.
    pub fn max_scan_bytes(&self) -> Option<usize> {
        self.detector().map(|d| d.max_scan_bytes())
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

    /// Stamps findings with their exchange (when known), counts them and
    /// hands them to the sink. Runs on the scan pool, never on forwarding.
    pub fn record(
        &self,
        mut findings: Vec<Finding>,
        detector: &Detector,
        tag: Option<&MessageTag>,
        forwarded: Option<u64>,
    ) {
        if findings.is_empty() {
            return;
        }
        if let Some(t) = tag {
            let context = t.exchange.context(detector, &t.meta, forwarded);
            for f in &mut findings {
                f.context = context.clone();
            }
        }
        self.stats.count_findings(&findings);
        self.sink.record(findings);
    }

    /// The scan of a request line (method + URL) and its headers, to queue
    /// alone ([`Inspection::submit_head`]) or to run with the request's body
    /// ([`Inspection::body_scan`]); `None` when inspection is off. Context,
    /// URL and tag are handed over: the scan keeps them. Counts the request
    /// for shape anomalies now.
    pub fn request_head(
        &self,
        ctx: ScanContext,
        method: &str,
        url: String,
        headers: &HeaderMap,
        tag: MessageTag,
    ) -> Option<HeadScan> {
        if ctx.direction == Direction::Outbound && self.enabled() {
            let host = ctx.dest_host();
            let alerts = self
                .shape
                .with(|t, now| t.observe_request(now, &host, &url))
                .unwrap_or_default();
            if !alerts.is_empty() {
                self.record_shape(&ctx, alerts, Some(&tag));
            }
        }
        self.head(ctx, Some(method), Some(url), None, headers, tag)
    }

    /// The scan of a response status and its headers (see
    /// [`Inspection::request_head`]).
    pub fn response_head(
        &self,
        ctx: ScanContext,
        status: u16,
        headers: &HeaderMap,
        tag: MessageTag,
    ) -> Option<HeadScan> {
        self.head(ctx, None, None, Some(status), headers, tag)
    }

    /// Queues a head's scan as a job of its own (nothing when `None`:
    /// inspection is off).
    pub fn submit_head(&self, head: Option<HeadScan>) {
        if let Some(head) = head {
            self.pool.submit(head.cost, head.run);
        }
    }

    fn head(
        &self,
        ctx: ScanContext,
        method: Option<&str>,
        url: Option<String>,
        status: Option<u16>,
        headers: &HeaderMap,
        tag: MessageTag,
    ) -> Option<HeadScan> {
        let d = self.detector()?;
        let me = self.clone();
        let method = method.map(str::to_owned);
        let cost = head_cost(url.as_deref().unwrap_or_default(), headers);
        let fields = CopiedFields::new(headers);
        Some(HeadScan {
            cost,
            run: Box::new(move || {
                let head = MessageHead {
                    method: method.as_deref(),
                    url: url.as_deref(),
                    status,
                    headers: fields.pairs(),
                };
                me.record(d.scan_head(&ctx, &head), &d, Some(&tag), None);
                // A head refused by a full queue counts its `cost` as
                // unscanned (overload); a head scanned counts it as scanned,
                // so the two add up to what was offered.
                me.stats.count_scanned(ctx.direction, cost as u64);
            }),
        })
    }

    /// A streaming scanner for one message body, or `None` when inspection
    /// is off. Binary bodies (see [`super::sniff`]) are counted, not scanned.
    ///
    /// Its coding and type are read from the message's `headers`.
    ///
    /// `head`, the scan of the message's own head, runs in the body's first
    /// job on the pool instead of a job of its own (one job fewer per
    /// message: a small GET costs two), its bytes held with the stream's
    /// state. It is queued alone when the body may start long after it (no
    /// `Content-Length`: streamed; or an event stream, whose first event
    /// may be far off), or when the stream finds no room.
    pub fn body_scan(
        &self,
        ctx: ScanContext,
        headers: &HeaderMap,
        tag: MessageTag,
        head: Option<HeadScan>,
    ) -> Option<BodyScan> {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let content_encoding = text(CONTENT_ENCODING);
        let content_type = text(CONTENT_TYPE);
        // One copy of the message's scope serves its trailers and its
        // volume count (outbound): no clones per body of what it already has.
        let outbound = ctx.direction == Direction::Outbound;
        let trailers = Trailers {
            inspection: self.clone(),
            ctx: ctx.clone(),
            tag: tag.clone(),
        };
        let long_lived = content_type.is_some_and(event_stream_type);
        let mut head = head;
        if long_lived || !headers.contains_key(CONTENT_LENGTH) {
            self.submit_head(head.take());
        }
        let scan = self.stream_scan(
            ctx,
            "body",
            content_encoding,
            content_type,
            true,
            long_lived,
            Some(tag),
            &mut head,
        );
        // Not run with the body (no room, or inspection off): alone.
        self.submit_head(head);
        let mut scan = scan?;
        scan.trailers = Some(trailers);
        scan.volume = outbound;
        Some(scan)
    }

    /// The two stream scanners (outbound, inbound) of a relayed tunnel,
    /// location `tunnel`, and its WebSocket message scanner (for a
    /// WebSocket upgraded inside it), or `None` when inspection is off.
    pub fn tunnel_scans(
        &self,
        source: &str,
        dest: &str,
        exchange: &Arc<Exchange>,
    ) -> Option<TunnelScans> {
        let ctx = |direction| ScanContext::new(direction, "http", source, dest);
        let tag = || {
            Some(MessageTag {
                exchange: Arc::clone(exchange),
                meta: MessageMeta::default(),
            })
        };
        Some(TunnelScans {
            outbound: self.stream_scan(
                ctx(Direction::Outbound),
                "tunnel",
                None,
                None,
                false,
                true,
                tag(),
                &mut None,
            )?,
            inbound: self.stream_scan(
                ctx(Direction::Inbound),
                "tunnel",
                None,
                None,
                false,
                true,
                tag(),
                &mut None,
            )?,
            websocket: WsMessages {
                inspection: self.clone(),
                source: source.to_owned(),
                dest: dest.to_owned(),
                tag: tag(),
            },
        })
    }

    /// A streaming scanner for one byte stream at `location` (`body`, or
    /// `tunnel` for plaintext HTTP relayed inside a blind CONNECT tunnel).
    /// A `long_lived` stream without a content coding gets the sliding
    /// budget of [`super::budget`] instead of the one-time `max_scan_bytes`
    /// (a decoder cannot skip bytes, so a coded stream keeps the latter).
    #[allow(clippy::too_many_arguments)]
    fn stream_scan(
        &self,
        ctx: ScanContext,
        location: &str,
        content_encoding: Option<&str>,
        content_type: Option<&str>,
        body: bool,
        long_lived: bool,
        tag: Option<MessageTag>,
        head: &mut Option<HeadScan>,
    ) -> Option<BodyScan> {
        let d = &self.detector()?;
        let direction = ctx.direction;
        let sliding = long_lived && content_encoding.is_none();
        let bucket = sliding.then(|| {
            let bytes = match self.budget.bytes {
                0 => d.max_scan_bytes() as u64,
                n => n,
            };
            TokenBucket::new(bytes, self.budget.period, self.budget.clock.clone())
        });
        // Without a content coding the forwarded bytes are the scanned
        // bytes, so the scan limit is known here, before anything is queued.
        let raw_limit = (content_encoding.is_none() && !sliding).then(|| d.max_scan_bytes() as u64);
        let state_bytes = match content_encoding {
            Some(_) => CODED_STREAM_STATE_BYTES,
            None => PLAIN_STREAM_STATE_BYTES,
        } + head.as_ref().map_or(0, |h| h.cost);
        let make = || -> Box<dyn StreamWork> {
            let mut inspector = d
                .body_inspector(ctx, location, content_encoding)
                .with_content_type(content_type);
            if sliding {
                // The bucket bounds what is scanned; the inspector itself never stops.
                inspector.set_limit(u64::MAX);
            }
            Box::new(StreamInspector {
                inspector,
                detector: Arc::clone(d),
                inspection: self.clone(),
                direction,
                tag,
                fed: 0,
                past_limit: false,
                head: head.take().map(|h| h.run),
            })
        };
        let mut handle = self.pool.stream(state_bytes, body, make);
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
            volume: false,
        })
    }

    /// Queues the scan of one WebSocket message.
    pub fn scan_websocket(&self, ctx: &ScanContext, bytes: Bytes, tag: Option<&MessageTag>) {
        let Some(d) = self.detector() else {
            return;
        };
        let max = d.max_scan_bytes();
        self.stats
            .count_scanned(ctx.direction, bytes.len().min(max) as u64);
        if bytes.len() > max {
            ProxyStats::inc(&self.stats.truncated_messages);
            self.stats
                .count_unscanned(Unscanned::Limit, (bytes.len() - max) as u64);
        }
        let size = bytes.len() as u64;
        let bytes = bytes.slice(..bytes.len().min(max));
        let me = self.clone();
        let ctx = ctx.clone();
        let tag = tag.cloned();
        self.pool.submit(bytes.len(), move || {
            let found = d.scan_text(&ctx, "websocket", &bytes);
            me.record(found, &d, tag.as_ref(), Some(size));
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
    /// The tunnel's exchange, stamped on the messages' findings.
    tag: Option<MessageTag>,
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
            .scan_websocket(&ctx, Bytes::from(msg.payload), self.tag.as_ref());
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
    detector: Arc<Detector>,
    inspection: Inspection,
    direction: Direction,
    /// The exchange and message stamped on findings.
    tag: Option<MessageTag>,
    /// Bytes fed so far (the message size when it has no Content-Length).
    fed: u64,
    /// More bytes followed the scan limit (see [`StreamWork::past_limit`]).
    past_limit: bool,
    /// The message head's scan, run before anything of the body.
    head: Option<Box<dyn FnOnce() + Send>>,
}

impl StreamWork for StreamInspector {
    fn feed(&mut self, frame: &[u8]) {
        self.run_head();
        self.fed += frame.len() as u64;
        let found = self.inspector.feed(frame);
        self.inspection
            .record(found, &self.detector, self.tag.as_ref(), Some(self.fed));
    }

    fn feed_last(&mut self, frame: &[u8]) {
        self.run_head();
        self.fed += frame.len() as u64;
        let found = self.inspector.finish_with(frame);
        self.inspection
            .record(found, &self.detector, self.tag.as_ref(), Some(self.fed));
        self.finish_counts();
    }

    fn saturated(&self) -> bool {
        self.inspector.stats().truncated
    }

    fn past_limit(&mut self) {
        self.past_limit = true;
    }

    fn gap(&mut self) {
        self.run_head();
        let found = self.inspector.skip();
        self.inspection
            .record(found, &self.detector, self.tag.as_ref(), Some(self.fed));
    }

    fn finish(&mut self) {
        self.run_head();
        let found = self.inspector.finish();
        self.inspection
            .record(found, &self.detector, self.tag.as_ref(), Some(self.fed));
        self.finish_counts();
    }
}

impl StreamInspector {
    fn run_head(&mut self) {
        if let Some(run) = self.head.take() {
            run();
        }
    }

    /// Counts what the ended stream scanned, truncated or failed to decode.
    fn finish_counts(&mut self) {
        let st = self.inspector.stats();
        let stats = &self.inspection.stats;
        stats.count_scanned(self.direction, st.scanned_bytes);
        if st.truncated || self.past_limit {
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
    /// Whether the body's size is still to be counted for volume
    /// anomalies (outbound bodies, with `trailers` as their scope).
    volume: bool,
}

/// How a body's trailer fields (chunked trailers, HTTP/2 trailing HEADERS,
/// gRPC status) are scanned: like the message's header fields.
struct Trailers {
    inspection: Inspection,
    ctx: ScanContext,
    tag: MessageTag,
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

    /// Hands one forwarded frame (or bytes a tunnel read into its buffer)
    /// to the pool: copied only when they are queued.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let take = self.admit(bytes);
        if self.handle.stopped() {
            self.handle.push_counted(bytes.len());
            return;
        }
        if take > 0 {
            self.handle.push(bytes.get(..take).unwrap_or(bytes));
        }
        if take < bytes.len() {
            self.handle.gap();
        }
    }

    /// [`BodyScan::push`] of a body's last frame, then [`BodyScan::finish`]:
    /// the pool scans a body that arrives whole in one pass.
    pub fn push_last(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            self.finish();
            return;
        }
        let take = self.admit(bytes);
        if self.handle.stopped() {
            self.handle.push_counted(bytes.len());
        } else if take == bytes.len() {
            self.handle.push_last(bytes);
        } else {
            if take > 0 {
                self.handle.push(bytes.get(..take).unwrap_or(bytes));
            }
            self.handle.gap();
        }
        self.finish();
    }

    /// Queues the scan of a body's trailer fields, as they are forwarded.
    pub fn trailers(&mut self, fields: &HeaderMap) {
        if let Some(t) = &self.trailers {
            t.inspection.submit_head(t.inspection.head(
                t.ctx.clone(),
                None,
                None,
                None,
                fields,
                t.tag.clone(),
            ));
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
        // Nothing forwarded adds nothing to a window (`observe_bytes`).
        if !std::mem::take(&mut self.volume) || self.offset == 0 {
            return;
        }
        if let Some(v) = &self.trailers {
            let host = v.ctx.dest_host();
            let bytes = self.offset;
            let alerts = v
                .inspection
                .shape
                .with(|t, now| t.observe_bytes(now, &v.ctx.source, &host, bytes))
                .unwrap_or_default();
            if !alerts.is_empty() {
                v.inspection.record_shape(&v.ctx, alerts, Some(&v.tag));
            }
        }
    }
}

impl Drop for BodyScan {
    fn drop(&mut self) {
        self.count_volume();
    }
}
