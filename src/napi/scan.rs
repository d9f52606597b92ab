use super::types::{Finding, RuleInfo};
use crate::core::finding::Direction;
use crate::core::rules::registry::builtin_specs;
use crate::core::rules::RuleKind;
use crate::core::scan::{Detector, DetectorOptions, MessageHead, ScanContext};
use napi::bindgen_prelude::{Buffer, Either};
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The detector used by the offline scan functions: built-in rules, default
/// limits, a per-process fingerprint key.
fn detector() -> Result<&'static Arc<Detector>> {
    static DETECTOR: OnceLock<std::result::Result<Arc<Detector>, String>> = OnceLock::new();
    DETECTOR
        .get_or_init(|| {
            Detector::builtin(DetectorOptions::default())
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

/// The built-in rule registry, EXFIL rules first.
#[napi]
pub fn rule_catalog() -> Vec<RuleInfo> {
    builtin_specs()
        .map(|s| RuleInfo {
            id: s.id.to_owned(),
            description: s.description.to_owned(),
            threat_type: s.threat.as_str().to_owned(),
            severity: s.severity.as_str().to_owned(),
            kind: match s.kind {
                RuleKind::Secret => "secret",
                RuleKind::Indicator => "indicator",
            }
            .to_owned(),
            expected_hosts: s.expected_hosts.iter().map(|h| (*h).to_owned()).collect(),
        })
        .collect()
}
