//! The operator's suppression list (`traffic-guardian ignore`), like
//! gitleaks' `.gitleaksignore`: entries that keep known, accepted findings
//! out of `findings` and `report`. Suppressed findings are still stored and
//! counted; only listings leave them out.
//!
//! The list is one JSON document in the home ([`crate::core::home::IGNORE_FILE`]),
//! written atomically at mode 0600 by [`crate::storage::ignore_file`]. It
//! holds only what findings already hold (keyed fingerprints, rule ids,
//! masked destinations), never a secret.

use crate::core::finding::Finding;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Bound on one entry's free text.
const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("cannot read the ignore list {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the ignore list {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the ignore list {path} is not valid ({message}); fix or delete it (`traffic-guardian ignore list` shows it once valid)")]
    Invalid { path: PathBuf, message: String },
    /// A malformed entry (the operator's invocation is wrong).
    #[error("{0}")]
    Entry(String),
    #[error("already ignored by entry {id} (added {created_at}); `traffic-guardian ignore list` shows it")]
    Duplicate { id: String, created_at: String },
}

/// One suppression. Every criterion that is set must match; an entry with
/// none is refused (it would hide everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreEntry {
    /// `ign_` + 12 hex digits, derived from the criteria (so adding the
    /// same entry twice is noticed).
    pub id: String,
    /// The finding this entry was made from (it and its folded repeats
    /// match when no fingerprint is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    /// Keyed fingerprint: every occurrence of the same value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Destination `host:port` as findings show it, or a bare host (any port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest: Option<String>,
    /// Source (runtime group or client address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: String,
}

fn dest_matches(want: &str, dest: &str) -> bool {
    if want.eq_ignore_ascii_case(dest) {
        return true;
    }
    // A bare host matches it on any port.
    !want.contains(':')
        && dest
            .rsplit_once(':')
            .is_some_and(|(host, _)| host.eq_ignore_ascii_case(want))
}

impl IgnoreEntry {
    fn has_criteria(&self) -> bool {
        self.finding_id.is_some()
            || self.fingerprint.is_some()
            || self.rule.is_some()
            || self.dest.is_some()
            || self.source.is_some()
    }

    /// Does this entry suppress `f`?
    pub fn matches(&self, f: &Finding) -> bool {
        if !self.has_criteria() {
            return false;
        }
        let by_id = match (&self.fingerprint, &self.finding_id) {
            (Some(fp), _) => f.fingerprint == *fp,
            (None, Some(id)) => f.id == *id || f.repeats_of.as_deref() == Some(id.as_str()),
            (None, None) => true,
        };
        by_id
            && self.rule.as_ref().is_none_or(|r| f.pattern == *r)
            && self.dest.as_ref().is_none_or(|d| dest_matches(d, &f.dest))
            && self.source.as_ref().is_none_or(|s| f.source == *s)
    }

    fn derive_id(&self) -> String {
        let mut h = Sha256::new();
        // With a fingerprint, the finding it was taken from does not change
        // what the entry matches, so it does not change the id either.
        let finding_id = if self.fingerprint.is_some() {
            &None
        } else {
            &self.finding_id
        };
        for part in [
            finding_id,
            &self.fingerprint,
            &self.rule,
            &self.dest,
            &self.source,
        ] {
            h.update(part.as_deref().unwrap_or("").as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        format!("ign_{}", hex::encode(digest.get(..6).unwrap_or_default()))
    }
}

/// Is `f` suppressed by any of `entries`?
pub fn is_ignored(entries: &[IgnoreEntry], f: &Finding) -> bool {
    entries.iter().any(|e| e.matches(f))
}

fn clean(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, IgnoreError> {
    match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(IgnoreError::Entry(format!(
            "--{field} is longer than {max} characters"
        ))),
        Some(s) if s.chars().any(char::is_control) => Err(IgnoreError::Entry(format!(
            "--{field} contains control characters"
        ))),
        Some(s) => Ok(Some(s)),
    }
}

/// A new entry from the operator's criteria: fields trimmed and bounded,
/// `created_at` set, its id derived. An entry with no criterion is refused
/// (it would hide every finding).
pub fn new_entry(entry: IgnoreEntry, created_at: String) -> Result<IgnoreEntry, IgnoreError> {
    let mut e = IgnoreEntry {
        id: String::new(),
        finding_id: clean("finding-id", entry.finding_id, 64)?,
        fingerprint: clean("fingerprint", entry.fingerprint, 128)?,
        rule: clean("rule", entry.rule, 128)?,
        dest: clean("dest", entry.dest, 300)?,
        source: clean("source", entry.source, 300)?,
        reason: clean("reason", entry.reason, MAX_REASON_CHARS)?,
        created_at,
    };
    if !e.has_criteria() {
        return Err(IgnoreError::Entry(
            "an ignore entry needs a finding id or fingerprint, or at least one of --rule, --dest, --source (an empty entry would hide every finding)".into(),
        ));
    }
    e.id = e.derive_id();
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::finding::{Direction, Severity, ThreatType, PLATFORM, SCHEMA_VERSION};

    fn finding(id: &str, fp: &str, rule: &str, dest: &str, source: &str) -> Finding {
        Finding {
            schema_version: SCHEMA_VERSION.into(),
            platform: PLATFORM.into(),
            id: id.into(),
            direction: Direction::Outbound,
            protocol: "http".into(),
            threat_type: ThreatType::Exfil,
            pattern: rule.into(),
            severity: Severity::High,
            source: source.into(),
            dest: dest.into(),
            location: "body".into(),
            snippet: "x".into(),
            fingerprint: fp.into(),
            count: 1,
            decoded: None,
            context: Default::default(),
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            rule: None,
            repeats_of: None,
        }
    }

    #[test]
    fn every_set_criterion_must_match() {
        let f = finding(
            "tgf_1",
            "fp1",
            "aws_access_key_id",
            "api.example.com:443",
            "grp",
        );
        let e = |fp: Option<&str>, rule: Option<&str>, dest: Option<&str>, src: Option<&str>| {
            IgnoreEntry {
                fingerprint: fp.map(Into::into),
                rule: rule.map(Into::into),
                dest: dest.map(Into::into),
                source: src.map(Into::into),
                ..IgnoreEntry::default()
            }
        };
        assert!(e(Some("fp1"), None, None, None).matches(&f));
        assert!(!e(Some("fp2"), None, None, None).matches(&f));
        assert!(e(Some("fp1"), Some("aws_access_key_id"), None, None).matches(&f));
        assert!(!e(Some("fp1"), Some("github_token"), None, None).matches(&f));
        assert!(e(None, None, Some("api.example.com"), None).matches(&f));
        assert!(e(None, None, Some("API.example.com:443"), None).matches(&f));
        assert!(!e(None, None, Some("api.example.com:80"), None).matches(&f));
        assert!(!e(None, None, Some("example.com"), None).matches(&f));
        assert!(e(None, None, None, Some("grp")).matches(&f));
        assert!(!e(None, None, None, Some("other")).matches(&f));
        // An entry without criteria matches nothing (never "everything").
        assert!(!IgnoreEntry::default().matches(&f));
    }

    #[test]
    fn a_finding_id_entry_matches_the_finding_and_its_folded_repeats() {
        let e = IgnoreEntry {
            finding_id: Some("tgf_1".into()),
            ..IgnoreEntry::default()
        };
        assert!(e.matches(&finding("tgf_1", "a", "r", "h:1", "s")));
        let mut repeat = finding("tgf_2", "a", "r", "h:1", "s");
        assert!(!e.matches(&repeat));
        repeat.repeats_of = Some("tgf_1".into());
        assert!(e.matches(&repeat));
    }
}
