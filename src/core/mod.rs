//! The pure detector core: no napi, no sockets.
//!
//! Bytes and context go in ([`scan::Detector`]), redacted findings come out
//! ([`finding::Finding`]); [`store`] deduplicates, persists and queries them.
pub mod canary;
pub mod config;
pub mod decode;
pub mod dedup;
pub mod finding;
pub mod home;
pub mod ignore;
pub mod json_location;
pub mod keyfile;
pub mod known_secrets;
pub mod normalize;
pub mod redact;
pub mod rules;
pub mod scan;
pub mod shape;
pub mod store;
pub mod time_bound;
