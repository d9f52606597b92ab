//! JavaScript shapes of core types. Keys stay snake_case so the objects are
//! the same JSON as the JSONL file, IPC replies and MCP responses.

use crate::core::finding::{
    Direction as CoreDirection, Finding as CoreFinding, Severity as CoreSeverity,
    ThreatType as CoreThreatType,
};
use crate::storage::store::{FindingPage as CorePage, FindingQuery as CoreQuery};
use napi_derive::napi;

/// Which way the inspected bytes travel.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Container to internet: EXFIL rules run here.
    Outbound,
    /// Internet to container: INJECTION rules run here.
    Inbound,
}

impl From<CoreDirection> for Direction {
    fn from(d: CoreDirection) -> Self {
        match d {
            CoreDirection::Outbound => Direction::Outbound,
            CoreDirection::Inbound => Direction::Inbound,
        }
    }
}

/// What kind of threat a rule recognises.
#[napi(string_enum = "UPPERCASE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreatType {
    /// Secrets going out.
    Exfil,
    /// Payloads coming in.
    Injection,
}

impl From<CoreThreatType> for ThreatType {
    fn from(t: CoreThreatType) -> Self {
        match t {
            CoreThreatType::Exfil => ThreatType::Exfil,
            CoreThreatType::Injection => ThreatType::Injection,
        }
    }
}

/// Impact of a finding, from least to most severe.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl From<CoreSeverity> for Severity {
    fn from(s: CoreSeverity) -> Self {
        match s {
            CoreSeverity::Low => Severity::Low,
            CoreSeverity::Medium => Severity::Medium,
            CoreSeverity::High => Severity::High,
            CoreSeverity::Critical => Severity::Critical,
        }
    }
}

/// One finding, schema `clawsec-traffic-finding/v1`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Finding {
    /// Always `clawsec-traffic-finding/v1`.
    #[napi(js_name = "schema_version")]
    pub schema_version: String,
    /// Always `nanoclaw`.
    pub platform: String,
    /// Unique finding id (`tgf_` + 16 hex digits).
    pub id: String,
    /// `outbound` (container to internet) or `inbound` (internet to container).
    pub direction: Direction,
    /// `http`, `https` (inspected inside MITM), `websocket`, or `text` (offline scan).
    pub protocol: String,
    /// `EXFIL` or `INJECTION`.
    #[napi(js_name = "threat_type")]
    pub threat_type: ThreatType,
    /// Stable rule id, e.g. `aws_access_key_id`, `reverse_shell_dev_tcp`.
    pub pattern: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: Severity,
    /// Client address, or the runtime name when the client authenticated.
    pub source: String,
    /// Destination `host:port`.
    pub dest: String,
    /// Where the match was: `url`, `header:<name>`, `body`, `websocket`, `text`.
    pub location: String,
    /// Redacted context; never contains the secret.
    pub snippet: String,
    /// Keyed hash of the matched value (correlates repeats, reveals nothing).
    pub fingerprint: String,
    /// Occurrences folded into this finding by dedup.
    pub count: i64,
    /// Decoding chain that revealed the match, e.g. `base64` or `percent>base64`.
    pub decoded: Option<String>,
    /// For a derived finding kind (`model_tool_call`), the rule that matched inside it.
    pub rule: Option<String>,
    /// Request method of the exchange (proxy findings).
    pub method: Option<String>,
    /// Redacted URL path: no query, credential-like segments `[MASKED]`.
    pub path: Option<String>,
    /// Response status code (findings in a response).
    pub status: Option<u32>,
    /// Media type of the message (no parameters).
    #[napi(js_name = "content_type")]
    pub content_type: Option<String>,
    /// Client connection, e.g. `3fa1.c17` (run tag, counter).
    #[napi(js_name = "connection_id")]
    pub connection_id: Option<String>,
    /// Exchange on that connection, e.g. `3fa1.c17.r3`.
    #[napi(js_name = "request_id")]
    pub request_id: Option<String>,
    /// Message size in bytes as known when recorded (Content-Length, else bytes forwarded so far).
    #[napi(js_name = "size_bytes")]
    pub size_bytes: Option<i64>,
    /// RFC 3339 UTC with milliseconds.
    pub timestamp: String,
}

impl From<CoreFinding> for Finding {
    fn from(f: CoreFinding) -> Self {
        Finding {
            schema_version: f.schema_version,
            platform: f.platform,
            id: f.id,
            direction: f.direction.into(),
            protocol: f.protocol,
            threat_type: f.threat_type.into(),
            pattern: f.pattern,
            severity: f.severity.into(),
            source: f.source,
            dest: f.dest,
            location: f.location,
            snippet: f.snippet,
            fingerprint: f.fingerprint,
            count: i64::try_from(f.count).unwrap_or(i64::MAX),
            decoded: f.decoded,
            rule: f.rule,
            method: f.context.method,
            path: f.context.path,
            status: f.context.status.map(u32::from),
            content_type: f.context.content_type,
            connection_id: f.context.connection_id,
            request_id: f.context.request_id,
            size_bytes: f
                .context
                .size_bytes
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            timestamp: f.timestamp,
        }
    }
}

/// Filters for a findings query; every field optional.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    /// RFC 3339 time, or an age such as `30s`, `15m`, `1h`, `7d`.
    pub since: Option<String>,
    /// RFC 3339 time, or an age.
    pub until: Option<String>,
    /// `outbound` or `inbound`.
    #[napi(ts_type = "Direction")]
    pub direction: Option<String>,
    /// `EXFIL` or `INJECTION`.
    #[napi(js_name = "threat_type", ts_type = "ThreatType")]
    pub threat_type: Option<String>,
    /// A rule id.
    pub pattern: Option<String>,
    /// `low`, `medium`, `high` or `critical`: this severity or worse.
    #[napi(js_name = "min_severity", ts_type = "Severity")]
    pub min_severity: Option<String>,
    /// Only findings whose `source` is one of these (per-group isolation).
    pub sources: Option<Vec<String>>,
    /// Page size: default 50, at most 1000.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// The suppression list to apply (`homeLayout(home).ignore_file`):
    /// matching findings are left out and counted in `ignored`.
    #[napi(js_name = "ignore_file")]
    pub ignore_file: Option<String>,
    /// Return suppressed findings too (still counted in `ignored`).
    #[napi(js_name = "include_ignored")]
    pub include_ignored: Option<bool>,
}

impl FindingQuery {
    /// The core query, with the suppression list loaded from `ignore_file`.
    pub fn into_core(self) -> Result<CoreQuery, crate::core::ignore::IgnoreError> {
        let ignore = match self.ignore_file.as_deref().filter(|f| !f.is_empty()) {
            Some(f) => crate::storage::ignore_file::load(std::path::Path::new(f))?,
            None => Vec::new(),
        };
        Ok(CoreQuery {
            ignore,
            ..CoreQuery::from(self)
        })
    }
}

impl From<FindingQuery> for CoreQuery {
    fn from(q: FindingQuery) -> Self {
        CoreQuery {
            include_ignored: q.include_ignored.unwrap_or(false),
            ignore: Vec::new(),
            since: q.since,
            until: q.until,
            direction: q.direction,
            threat_type: q.threat_type,
            pattern: q.pattern,
            min_severity: q.min_severity,
            sources: q.sources,
            limit: q.limit.map(|l| l as usize),
            cursor: q.cursor,
        }
    }
}

/// One page of findings, newest first.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct FindingPage {
    pub findings: Vec<Finding>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[napi(js_name = "next_cursor")]
    pub next_cursor: Option<String>,
    /// Damaged lines in the log (torn by a crash or a full disk) that were
    /// skipped; the findings around them are still returned.
    #[napi(js_name = "skipped_lines")]
    pub skipped_lines: i64,
    /// Findings matching the query that the suppression list hides
    /// (over the whole query, not just this page).
    pub ignored: i64,
}

impl From<CorePage> for FindingPage {
    fn from(p: CorePage) -> Self {
        FindingPage {
            findings: p.findings.into_iter().map(Finding::from).collect(),
            next_cursor: p.next_cursor,
            skipped_lines: i64::try_from(p.skipped_lines).unwrap_or(i64::MAX),
            ignored: i64::try_from(p.ignored).unwrap_or(i64::MAX),
        }
    }
}

/// A rule of the built-in registry.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    pub description: String,
    /// `EXFIL` (runs on outbound traffic) or `INJECTION` (inbound).
    #[napi(js_name = "threat_type")]
    pub threat_type: ThreatType,
    pub severity: Severity,
    /// `secret` (redacted, fingerprinted), `indicator` (a path or command
    /// shape), `derived` (from where a rule matched, e.g. `model_tool_call`),
    /// `known` (a host-registered value), `canary` (a planted canary
    /// credential) or `shape` (volume and shape of outbound traffic).
    pub kind: String,
    /// Hosts where this credential is expected traffic, not exfiltration.
    #[napi(js_name = "expected_hosts")]
    pub expected_hosts: Vec<String>,
}
