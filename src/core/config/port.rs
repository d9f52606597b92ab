//! What validation needs to know about the filesystem (and the clock, for
//! CA certificate validity), as a port: the validator asks these questions
//! and never opens a file or reads the clock itself. The real answers come
//! from [`crate::storage::config_fs`]; a test may pass its own.

use std::io;
use std::path::{Path, PathBuf};

/// What a path is (after following symlinks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A directory.
    Dir,
    /// A device, FIFO, socket, …: no size, and reading may block or never end.
    Other,
}

/// The facts about a path that validation looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    /// What it is.
    pub kind: FileKind,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner's user id.
    pub uid: u32,
    /// Size in bytes.
    pub len: u64,
}

/// The read-only filesystem questions config validation asks.
pub trait ConfigFs {
    /// Facts about `path`, following symlinks.
    fn metadata(&self, path: &Path) -> io::Result<FileFacts>;
    /// At most `limit` bytes of `path`: the file may have grown since it was checked.
    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>>;
    /// A private text file (a file of secrets): a regular file the current
    /// user owns with no access for group or others (0600). Errors are
    /// `(message, hint)` and name the fix.
    fn read_private_text(&self, path: &Path) -> Result<String, (String, String)>;
    /// The process's working directory, against which relative paths resolve.
    fn working_dir(&self) -> io::Result<PathBuf>;
    /// The effective user id of this process.
    fn euid(&self) -> u32;
    /// Whether the current user may create entries in directory `path`.
    fn can_write_dir(&self, path: &Path) -> bool;
    /// The wall clock in unix seconds: `ca_bundle` certificates outside
    /// their validity period at this time are reported.
    fn now_unix(&self) -> i64;
}
