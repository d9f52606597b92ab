//! The pure detector core: no napi, no sockets, no files, no clock, no
//! randomness of its own.
//!
//! Bytes and context go in ([`scan::Detector`]), redacted findings come out
//! ([`finding::Finding`]), each stamped with an id and a time by the
//! [`finding::FindingStamp`] the caller injects. Around detection sit the
//! pure parts the edges share: the rule registry, decoders, redaction, dedup
//! ([`dedup::Deduper`], fed the time), the home's layout, and the formats
//! and matching of the ignore list and canaries. [`crate::storage`] keeps
//! findings and files; [`crate::system`] owns the clock and randomness.
//! `tests/core_boundary.rs` fails on any file IO, clock or randomness here
//! (config loading, `config/validate.rs`, is the one listed exception).
pub mod canary;
pub mod config;
pub mod decode;
pub mod dedup;
pub mod finding;
pub mod home;
pub mod ignore;
pub mod json_location;
pub mod known_secrets;
pub mod normalize;
pub mod redact;
pub mod rules;
pub mod scan;
pub mod shape;
#[cfg(test)]
pub(crate) mod test_rng;
pub mod time_bound;
pub mod triggers;
