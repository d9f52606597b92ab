//! # traffic-guardian
//!
//! An opt-in, host-side HTTP/HTTPS proxy for NanoClaw agent containers that
//! recognises secrets leaving (EXFIL) and attack payloads arriving
//! (INJECTION), and records redacted findings. It never blocks and never
//! alters traffic.
//!
//! Layers, innermost first:
//! - [`core`]: pure detector — finding schema, rule registry, decoders,
//!   scanner, redaction, dedup, config. No sockets, no napi, no file IO,
//!   clock or randomness (`tests/core_boundary.rs` holds it to that).
//! - [`system`]: the wall clock and OS randomness (finding ids and
//!   timestamps, keys), injected into the core.
//! - [`storage`]: what is kept on disk — the findings store (JSONL log,
//!   rotation, queries), the fingerprint key, the canary and ignore files,
//!   owner-only directories.
//! - [`proxy`]: the hyper-based forward proxy that feeds traffic to the
//!   scanner as it is forwarded, plus the host-held CA.
//! - [`guardian`]: one guardian's lifecycle (config → detector, store, proxy).
//! - [`capture`]: saved traffic (raw HTTP/1.x messages, HAR captures) read
//!   into messages for the offline scan.
//! - `napi`: the thin N-API binding that Node.js loads (`index.js`).
//! - [`allocator`]: the addon's allocator (mimalloc, feature `mimalloc`).
pub mod allocator;
pub mod capture;
pub mod core;
pub mod home_guardian;
pub mod napi;
pub mod proxy;
pub mod storage;
pub mod system;
