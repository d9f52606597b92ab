//! The shape of one detection rule. Rules are data: an id, a description,
//! prefilter keywords, a regex, and their own examples that the tests run.

use super::walker::Walker;
use crate::core::finding::{Severity, ThreatType};

/// How a rule's match is treated in findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// The match (or its `secret` capture group) is a credential: it is
    /// replaced by `[REDACTED:<id>]` in every snippet and only its keyed
    /// fingerprint is kept.
    Secret,
    /// The match is an indicator (a path, a command shape): it may be shown in
    /// the snippet, though token-like runs inside it are still masked.
    Indicator,
}

/// One detection rule, as static data.
#[derive(Debug, Clone, Copy)]
pub struct RuleSpec {
    /// Stable id, snake_case; the `pattern` field of findings.
    pub id: &'static str,
    /// One line for operators: what this finds and why it matters.
    pub description: &'static str,
    pub threat: ThreatType,
    pub severity: Severity,
    pub kind: RuleKind,
    /// Lowercase ASCII literals for the keyword prefilter. The regex only
    /// runs on text containing at least one of them (compared ASCII
    /// case-insensitively). Must be non-empty; each keyword must occur in
    /// every text the regex can match.
    pub keywords: &'static [&'static str],
    /// A `regex::bytes` pattern. If it has a capture group named `secret`,
    /// that group is the credential (redacted, fingerprinted, checked against
    /// `allow` and `min_entropy`); otherwise the whole match is.
    pub pattern: &'static str,
    /// Documented example values that are not real secrets (exact match on
    /// the secret part), e.g. `AKIAIOSFODNN7EXAMPLE`.
    pub allow: &'static [&'static str],
    /// Minimum Shannon entropy (bits per byte) of the secret part; 0 disables.
    pub min_entropy: f32,
    /// Host names (exact or `.suffix`) where sending this credential is
    /// normal traffic, e.g. an Anthropic key to `api.anthropic.com`.
    pub expected_hosts: &'static [&'static str],
    /// Texts the rule must find (tests assert a match).
    pub examples: &'static [&'static str],
    /// Texts the rule must not find (tests assert no match).
    pub counter_examples: &'static [&'static str],
    /// A hand-written finder that returns exactly the pattern's matches,
    /// faster, for patterns the regex engine walks slowly (see [`Walker`]).
    pub walker: Option<Walker>,
}
