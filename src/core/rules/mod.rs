//! The rule registry.
pub mod spec;
pub use spec::{RuleKind, RuleSpec};
