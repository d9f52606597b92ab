//! The N-API binding: a thin layer that converts between JavaScript values
//! and the core/proxy types. No logic lives here; every function turns
//! errors into JS exceptions with clear messages and never panics across
//! the boundary. The generated `index.d.ts` is the contract with TypeScript.

pub mod allocator;
pub mod ca;
pub mod canary;
pub mod capture;
pub mod config;
pub mod findings;
pub mod guardian;
pub mod logging;
pub mod scan;
pub mod types;
