//! Everything the guardian keeps on disk, and the only code that writes
//! there: the findings store (dedup, JSONL log with rotation, queries), the
//! fingerprint key, the canary and ignore files, and owner-only directories;
//! and the read-only file questions config validation asks ([`config_fs`]).
//! File names come from [`crate::core::home`]; formats and matching from
//! [`crate::core`]. Detection itself never touches a file (a test holds
//! `src/core` to that).

pub mod canary_file;
pub mod config_fs;
pub mod ignore_file;
pub mod keyfile;
pub mod private_dir;
pub mod private_file;
pub mod store;

pub use private_dir::{ensure_private_dir, prepare_dirs, PrivateDirError};
