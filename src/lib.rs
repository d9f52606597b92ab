//! # traffic-guardian
//!
//! An opt-in, host-side HTTP/HTTPS proxy for NanoClaw agent containers that
//! recognises secrets leaving (EXFIL) and attack payloads arriving
//! (INJECTION), and records redacted findings. It never blocks and never
//! alters traffic.
//!
//! Layers, innermost first:
//! - [`core`]: pure detector — finding schema, rule registry, decoders,
//!   scanner, redaction, dedup, JSONL store, config. No sockets, no napi.
//! - [`proxy`]: the hyper-based forward proxy that feeds traffic to the
//!   scanner as it is forwarded, plus the host-held CA.
//! - [`guardian`]: one guardian's lifecycle (config → detector, store, proxy).
//! - `napi`: the thin N-API binding that Node.js loads (`index.js`).
pub mod core;
pub mod guardian;
pub mod napi;
pub mod proxy;
pub mod system;
