//! The rule registry.
pub mod spec;
pub use spec::{RuleKind, RuleSpec};
pub mod prefilter;
pub mod registry;
pub mod secret_trim;
pub use registry::{Rule, RuleError, RuleSet};
mod byte_set;
#[cfg(test)]
mod catalog_tests;
pub mod corpus;
pub mod derived;
pub mod entropy;
pub mod exfil;
pub mod exfil_line;
pub mod fixed_bytes;
pub mod injection;
pub mod injection_cues;
pub mod template;
pub mod walker;
