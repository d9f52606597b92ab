use super::types::{Finding, RuleInfo};
use crate::core::config::{parse_size, MAX_MAX_SCAN_BYTES, MIN_MAX_SCAN_BYTES};
use crate::core::finding::{Direction, ThreatType};
use crate::core::known_secrets::DETECTOR_PATTERNS;
use crate::core::rules::derived::DERIVED_KINDS;
use crate::core::rules::registry::builtin_specs;
use crate::core::rules::RuleKind;
use crate::core::scan::{BodyInspector, Detector, DetectorOptions, MessageHead, ScanContext};
use napi::bindgen_prelude::{Buffer, Either};
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The detector used by the offline scan functions: built-in rules, a
/// per-process fingerprint key, and the largest body limit (offline there is
/// no traffic to keep flowing; [`StreamScanner`] streams past even that).
fn detector() -> Result<&'static Arc<Detector>> {
    static DETECTOR: OnceLock<std::result::Result<Arc<Detector>, String>> = OnceLock::new();
    DETECTOR
        .get_or_init(|| {
            Detector::builtin(DetectorOptions {
                max_scan_bytes: MAX_MAX_SCAN_BYTES as usize,
                ..crate::system::detector_options()
            })
            .map(Arc::new)
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(Status::GenericFailure, e.clone()))
}

fn direction(value: &str) -> Result<Direction> {
    value
        .parse::<Direction>()
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}

fn bytes(value: &Either<String, Buffer>) -> &[u8] {
    match value {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b.as_ref(),
    }
}

/// Context of an offline text scan.
#[napi(object)]
pub struct ScanTextContext {
    /// `outbound` runs EXFIL rules, `inbound` runs INJECTION rules.
    #[napi(ts_type = "Direction")]
    pub direction: String,
    /// Destination `host:port` (decides expected destinations).
    pub dest: Option<String>,
    pub source: Option<String>,
}

/// Scans raw text or bytes with the built-in rules. Never throws on any
/// input bytes; throws only for an invalid `direction`.
#[napi]
pub fn scan_text(text: Either<String, Buffer>, ctx: ScanTextContext) -> Result<Vec<Finding>> {
    let det = detector()?;
    let context = ScanContext::new(
        direction(&ctx.direction)?,
        "text",
        ctx.source.as_deref().unwrap_or("offline"),
        ctx.dest.as_deref().unwrap_or(""),
    );
    Ok(det
        .scan_text(&context, "text", bytes(&text))
        .into_iter()
        .map(Finding::from)
        .collect())
}

/// A whole HTTP message for an offline scan.
#[napi(object)]
pub struct HttpMessage {
    /// `outbound` (a request) or `inbound` (a response).
    #[napi(ts_type = "Direction")]
    pub direction: String,
    pub dest: Option<String>,
    pub source: Option<String>,
    /// Defaults to `http`.
    pub protocol: Option<String>,
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: Option<u32>,
    pub headers: Option<HashMap<String, String>>,
    /// The body as sent on the wire (still `content-encoding`-encoded).
    pub body: Option<Either<String, Buffer>>,
}

/// Scans a message exactly as the proxy would: URL, headers, then the body
/// honouring its `content-encoding`. Never throws on any input bytes.
#[napi]
pub fn scan_message(msg: HttpMessage) -> Result<Vec<Finding>> {
    let det = detector()?;
    let context = ScanContext::new(
        direction(&msg.direction)?,
        msg.protocol.as_deref().unwrap_or("http"),
        msg.source.as_deref().unwrap_or("offline"),
        msg.dest.as_deref().unwrap_or(""),
    );
    let headers: Vec<(&str, &[u8])> = msg
        .headers
        .as_ref()
        .map(|h| h.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect())
        .unwrap_or_default();
    let head = MessageHead {
        method: msg.method.as_deref(),
        url: msg.url.as_deref(),
        status: msg.status.and_then(|s| u16::try_from(s).ok()),
        headers,
    };
    let body = msg.body.as_ref().map(bytes).unwrap_or_default();
    let (findings, _) = det.scan_message(&context, &head, body);
    Ok(findings.into_iter().map(Finding::from).collect())
}

/// Options of a [`StreamScanner`].
#[napi(object)]
pub struct StreamScanOptions {
    /// `outbound` runs EXFIL rules, `inbound` runs INJECTION rules.
    #[napi(ts_type = "Direction")]
    pub direction: String,
    /// Destination `host:port` (decides expected destinations).
    pub dest: Option<String>,
    pub source: Option<String>,
    /// Defaults to `text`; `http` for the body of a saved HTTP message.
    pub protocol: Option<String>,
    /// Where findings say the match was; defaults to `text`.
    pub location: Option<String>,
    /// The body's `content-encoding` (a copy is decoded, as the proxy does).
    #[napi(js_name = "content_encoding")]
    pub content_encoding: Option<String>,
    /// The body's `content-type`: an event stream (`text/event-stream`,
    /// NDJSON) is also reassembled from its events, as the proxy does.
    #[napi(js_name = "content_type")]
    pub content_type: Option<String>,
    /// Bytes to inspect at most (`1048576`, `512k`, `64m`, `2g`); absent:
    /// everything. Beyond it nothing more is scanned.
    #[napi(js_name = "max_scan_bytes")]
    pub max_scan_bytes: Option<String>,
}

/// What a [`StreamScanner`] has inspected so far.
#[napi(object)]
pub struct StreamScanStats {
    /// Bytes inspected (decoded bytes when a content-encoding is set).
    #[napi(js_name = "scanned_bytes")]
    pub scanned_bytes: f64,
    /// Bytes fed (as given, still encoded).
    #[napi(js_name = "fed_bytes")]
    pub fed_bytes: f64,
    /// The limit (or the decoder's bound) was reached: the rest was not scanned.
    pub truncated: bool,
    /// The content-encoding could not be decoded: the rest was not scanned.
    #[napi(js_name = "decode_failed")]
    pub decode_failed: bool,
}

/// Scans a body of any size fed in chunks, with the proxy's streaming
/// inspector: a secret split across two chunks is still found whole, and
/// memory stays bounded by the carry-over window, not the input.
#[napi]
pub struct StreamScanner {
    inspector: BodyInspector,
    fed: u64,
}

/// Parses a scan limit as the config does (`max_scan_bytes`), without the
/// proxy's upper bound: offline nothing is buffered.
fn scan_limit(raw: &str) -> Result<u64> {
    let bad = |why: &str| {
        Error::new(
            Status::InvalidArg,
            format!(
                "{} {why}; write a byte count such as 1048576, or a size with a suffix: 512k, 64m, 2g",
                serde_json::Value::String(raw.to_owned())
            ),
        )
    };
    match parse_size(raw) {
        None => Err(bad("is not a size")),
        Some(n) if n < MIN_MAX_SCAN_BYTES => Err(bad("is below the minimum of 1k")),
        Some(n) => Ok(n),
    }
}

#[napi]
impl StreamScanner {
    /// Throws for an invalid `direction` or `max_scan_bytes`.
    #[napi(constructor)]
    pub fn new(opts: StreamScanOptions) -> Result<Self> {
        let det = detector()?;
        let limit = opts.max_scan_bytes.as_deref().map(scan_limit).transpose()?;
        let context = ScanContext::new(
            direction(&opts.direction)?,
            opts.protocol.as_deref().unwrap_or("text"),
            opts.source.as_deref().unwrap_or("offline"),
            opts.dest.as_deref().unwrap_or(""),
        );
        let mut inspector = det
            .body_inspector(
                context,
                opts.location.as_deref().unwrap_or("text"),
                opts.content_encoding.as_deref(),
            )
            .with_content_type(opts.content_type.as_deref());
        inspector.set_limit(limit.unwrap_or(u64::MAX));
        Ok(StreamScanner { inspector, fed: 0 })
    }

    /// Scans the next chunk; returns the findings it completes.
    #[napi]
    pub fn feed(&mut self, chunk: Buffer) -> Vec<Finding> {
        self.fed = self.fed.saturating_add(chunk.len() as u64);
        self.inspector
            .feed(chunk.as_ref())
            .into_iter()
            .map(Finding::from)
            .collect()
    }

    /// Ends the input: scans what was held back for the next chunk.
    #[napi]
    pub fn finish(&mut self) -> Vec<Finding> {
        self.inspector
            .finish()
            .into_iter()
            .map(Finding::from)
            .collect()
    }

    #[napi]
    pub fn stats(&self) -> StreamScanStats {
        let s = self.inspector.stats();
        StreamScanStats {
            scanned_bytes: s.scanned_bytes as f64,
            fed_bytes: self.fed as f64,
            truncated: s.truncated,
            decode_failed: s.decode_failed,
        }
    }
}

/// The built-in rule registry, EXFIL rules first, then the patterns raised
/// by the other detectors (known secrets, canaries), kind `known` / `canary`.
#[napi]
pub fn rule_catalog() -> Vec<RuleInfo> {
    builtin_specs()
        .map(|s| RuleInfo {
            id: s.id.to_owned(),
            description: s.description.to_owned(),
            threat_type: s.threat.into(),
            severity: s.severity.into(),
            kind: match s.kind {
                RuleKind::Secret => "secret",
                RuleKind::Indicator => "indicator",
            }
            .to_owned(),
            expected_hosts: s.expected_hosts.iter().map(|h| (*h).to_owned()).collect(),
        })
        .chain(DERIVED_KINDS.iter().map(|k| RuleInfo {
            id: k.id.to_owned(),
            description: k.description.to_owned(),
            threat_type: k.threat.into(),
            severity: k.severity.into(),
            kind: "derived".to_owned(),
            expected_hosts: Vec::new(),
        }))
        .chain(DETECTOR_PATTERNS.iter().map(|d| RuleInfo {
            id: d.id.to_owned(),
            description: d.description.to_owned(),
            threat_type: ThreatType::Exfil.into(),
            severity: d.severity.into(),
            kind: d.kind.to_owned(),
            expected_hosts: Vec::new(),
        }))
        .collect()
}
