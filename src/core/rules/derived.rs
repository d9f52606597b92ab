//! Finding kinds that no single regex rule produces: the scanner derives
//! them from where a rule matched (a tool call a model streams). They share
//! the rule-id namespace, so `--pattern` filters, the `rules` listing and
//! reports know them.

use crate::core::finding::{Severity, ThreatType};

/// One derived finding kind.
#[derive(Debug, Clone, Copy)]
pub struct DerivedKind {
    pub id: &'static str,
    pub description: &'static str,
    pub threat: ThreatType,
    /// The usual severity; a derived finding may carry its rule's instead.
    pub severity: Severity,
}

/// A dangerous command inside a tool call a model streams back: the agent
/// is about to run it. Carries the matching rule's severity and id (`rule`).
pub const MODEL_TOOL_CALL: &str = "model_tool_call";

/// Every derived kind.
pub const DERIVED_KINDS: &[DerivedKind] = &[DerivedKind {
    id: MODEL_TOOL_CALL,
    description: "A tool call the model streams back holds a command an INJECTION rule matches (the rule is in `rule`): the agent is about to run it",
    threat: ThreatType::Injection,
    severity: Severity::High,
}];
