//! The pure detector core: no napi, no sockets.
pub mod finding;
pub mod rules;
