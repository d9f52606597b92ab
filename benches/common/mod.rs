//! Building blocks of the proxy benchmark (`benches/proxy.rs`): payloads,
//! the origin server, the load generator's connections and load patterns.

pub mod client;
pub mod corpus;
pub mod measure;
pub mod payload;
pub mod upstream;

/// The origin's TLS PKI, shared with the tests.
#[path = "../../test-support/pki.rs"]
pub mod pki;
/// Fake secrets and content codings, shared with the tests and fuzz checks.
#[path = "../../test-support/mod.rs"]
pub mod support;

/// Bench plumbing errors: anything that stops a measurement.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;
pub type BenchResult<T> = Result<T, BenchError>;
