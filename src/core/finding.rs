//! The finding schema, `clawsec-traffic-finding/v1`.
//!
//! One [`Finding`] is one JSON object: the same snake_case shape is written to
//! the JSONL store, returned by the addon and sent through IPC/MCP. Required
//! keys never change meaning; extra keys (`id`, `location`, `fingerprint`,
//! `count`, `decoded`, `description`, and the exchange context of
//! [`FindingContext`]) only add context.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Value of `schema_version` in every finding.
pub const SCHEMA_VERSION: &str = "clawsec-traffic-finding/v1";
/// Value of `platform` in every finding.
pub const PLATFORM: &str = "nanoclaw";

/// Which way the inspected bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Container to internet: EXFIL rules run here.
    Outbound,
    /// Internet to container: INJECTION rules run here.
    Inbound,
}

/// What kind of threat a rule recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ThreatType {
    #[serde(rename = "EXFIL")]
    Exfil,
    #[serde(rename = "INJECTION")]
    Injection,
}

/// Impact of a finding, ordered from least to most severe.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// A string did not name a known enum value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`; expected one of: {expected}")]
pub struct ParseEnumError {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! string_enum {
    ($ty:ident, $kind:literal, $( $variant:ident => $text:literal ),+ ) => {
        impl $ty {
            /// The exact string used in JSON.
            pub const fn as_str(self) -> &'static str {
                match self { $( $ty::$variant => $text ),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $( if s.eq_ignore_ascii_case($text) { return Ok($ty::$variant); } )+
                Err(ParseEnumError {
                    kind: $kind,
                    value: s.chars().take(40).collect(),
                    expected: concat!($( $text, " " ),+),
                })
            }
        }
    };
}

string_enum!(Direction, "direction", Outbound => "outbound", Inbound => "inbound");
string_enum!(ThreatType, "threat_type", Exfil => "EXFIL", Injection => "INJECTION");
string_enum!(Severity, "severity", Low => "low", Medium => "medium", High => "high", Critical => "critical");

impl ThreatType {
    /// The only direction this threat type is looked for in.
    pub const fn direction(self) -> Direction {
        match self {
            ThreatType::Exfil => Direction::Outbound,
            ThreatType::Injection => Direction::Inbound,
        }
    }
}

/// One redacted finding. Field order is the JSON key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub schema_version: String,
    pub platform: String,
    /// Unique id of this finding (`tgf_` + 16 hex digits).
    pub id: String,
    pub direction: Direction,
    /// `http`, `https` (inspected inside MITM), `websocket`, or `text` for offline scans.
    pub protocol: String,
    pub threat_type: ThreatType,
    /// Stable rule id from the registry.
    pub pattern: String,
    pub severity: Severity,
    /// Client address, or the runtime label when the client authenticated.
    pub source: String,
    /// `host:port` of the destination.
    pub dest: String,
    /// Where in the message: `url`, `header:<name>`, `body`, `websocket`, `text`.
    pub location: String,
    /// Redacted context; never contains the secret.
    pub snippet: String,
    /// Keyed hash (HMAC-SHA-256, truncated) of the matched value, for correlation.
    pub fingerprint: String,
    /// Occurrences folded into this finding by dedup (1 when not folded).
    pub count: u64,
    /// Decoding chain that revealed the match, e.g. `gzip>base64`; absent for raw matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    /// For a finding of a derived kind (`model_tool_call`), the registry
    /// rule that matched inside it. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Which exchange the finding came from (proxy findings only; every key
    /// optional and redacted). Its keys sit at the top level of the JSON.
    #[serde(flatten)]
    pub context: FindingContext,
    /// RFC 3339 UTC with milliseconds.
    pub timestamp: String,
    /// Set on a finding that carries folded repeats of the earlier finding
    /// with this id: its `count` includes them, so count records
    /// (`clawsec-traffic-count/v1`) for that id are superseded. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats_of: Option<String>,
}

/// The exchange a proxy finding came from, without any body: enough to
/// answer "which request was this?". Stamped at the proxy edge; absent for
/// offline scans. Nothing here is secret: `path` has no query and every
/// segment a credential rule matches, or that looks like a credential, is
/// `[MASKED]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingContext {
    /// Request method (`GET`, `POST`, `CONNECT`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The request's URL path, redacted: no query or fragment, credential-like segments `[MASKED]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Response status code (inbound findings from a response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Media type of the message the finding is in (`Content-Type` without parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Client connection, e.g. `3fa1.c17`: a random tag of the proxy run and
    /// a counter (requests inside an intercepted CONNECT share the CONNECT's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Exchange on that connection, e.g. `3fa1.c17.r3`: request and response findings of one exchange share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Size of the message in bytes as known when the finding was recorded:
    /// its `Content-Length`, else the bytes forwarded so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

impl FindingContext {
    /// Whether no key is set (an offline finding).
    pub fn is_empty(&self) -> bool {
        *self == FindingContext::default()
    }
}

/// Where a new finding's id and timestamp come from. Detection reads no
/// clock and draws no randomness: the edge passes a stamp in
/// ([`DetectorOptions::stamp`](crate::core::scan::DetectorOptions::stamp));
/// the process's own is [`crate::system::SystemStamp`]. `finding_id` is
/// called once per finding, `timestamp` at most once per scan of a text
/// (its findings share the time), never per scanned byte.
pub trait FindingStamp: Send + Sync {
    /// A fresh finding id, unique in the process (`tgf_` and 16 hex digits).
    fn finding_id(&self) -> String;
    /// The current time, as [`format_timestamp`] writes it.
    fn timestamp(&self) -> String;
}

/// Formats a time as RFC 3339 UTC with exactly three fractional digits.
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 timestamp (any offset) into unix milliseconds.
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_millisecond_precision_and_utc_suffix() {
        let t = time::macros::datetime!(2026-04-26 00:00:00.123456 UTC);
        assert_eq!(format_timestamp(t), "2026-04-26T00:00:00.123Z");
        assert_eq!(
            parse_timestamp_ms("2026-04-26T00:00:00.123Z"),
            Some(1_777_161_600_123)
        );
    }

    #[test]
    fn enums_serialize_to_schema_strings() {
        assert_eq!(
            serde_json::to_string(&ThreatType::Exfil).unwrap(),
            "\"EXFIL\""
        );
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            "\"critical\""
        );
        assert_eq!("INBOUND".parse::<Direction>().unwrap(), Direction::Inbound);
        let err = "block".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("low medium high critical"));
        assert!(Severity::Critical > Severity::High && Severity::Medium > Severity::Low);
    }
}
