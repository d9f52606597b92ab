//! Test support shared by the integration tests (`tests/common/mod.rs`),
//! the benchmarks (`benches/common/mod.rs`) and the fuzz checks
//! (`fuzz/src/lib.rs`), each of which includes this folder with
//! `#[path = …/test-support/mod.rs] mod support;`.
//!
//! Only what all three can compile lives here: the main crate, `flate2`,
//! `zstd` and `brotli`. Where each kind of helper goes:
//!
//! - **Fake secrets** ([`fake`]): from the rule catalogue's template
//!   expander (`«CLASS:LEN»`), fresh at every call, never written down.
//! - **Content codings** ([`encode`]): gzip, deflate, br, zstd bodies.
//! - **Upstream TLS PKI** (`pki.rs`, not declared here: the fuzz checks
//!   have no TLS dependencies): included by `tests/common` and
//!   `benches/common` with `#[path = …/test-support/pki.rs] mod pki;`.
//! - Proxy fixtures (upstream servers, curl, hyper and raw clients, the
//!   collecting finding sink, a guardian from config): `tests/common/mod.rs`.
//! - Benchmark corpus, load generator and measurement: `benches/common/`.
//! - Unit tests inside `src/` call `system::expand_template` directly.
#![allow(dead_code)]

pub mod encode;
pub mod fake;
