//! The real filesystem behind config validation: [`SystemConfigFs`]
//! answers the [`ConfigFs`] questions with `stat`, bounded reads,
//! `access(2)`, the working directory and the clock, and [`check`] validates with it.
//! The validator itself ([`crate::core::config::check_with`]) opens nothing.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::core::config::{check_with, ConfigFs, ConfigInput, ConfigReport, FileFacts, FileKind};

/// Validates `input` against the real filesystem, read-only (see
/// [`check_with`]).
pub fn check(input: &ConfigInput) -> ConfigReport {
    check_with(input, &SystemConfigFs)
}

/// The process's filesystem, read-only.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemConfigFs;

fn facts(meta: &fs::Metadata) -> FileFacts {
    let kind = if meta.is_file() {
        FileKind::Regular
    } else if meta.is_dir() {
        FileKind::Dir
    } else {
        FileKind::Other
    };
    FileFacts {
        kind,
        mode: meta.permissions().mode() & 0o7777,
        uid: meta.uid(),
        len: meta.len(),
    }
}

impl ConfigFs for SystemConfigFs {
    fn metadata(&self, path: &Path) -> std::io::Result<FileFacts> {
        fs::metadata(path).map(|m| facts(&m))
    }

    fn read_bounded(&self, path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        fs::File::open(path)?.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn read_private_text(&self, path: &Path) -> Result<String, (String, String)> {
        read_private_text(path)
    }

    fn working_dir(&self) -> std::io::Result<PathBuf> {
        std::env::current_dir()
    }

    fn euid(&self) -> u32 {
        super::keyfile::euid()
    }

    fn can_write_dir(&self, path: &Path) -> bool {
        sys::can_write_dir(path)
    }

    fn now_unix(&self) -> i64 {
        i64::try_from(crate::system::now_ms() / 1000).unwrap_or(i64::MAX)
    }
}

/// Reads a private text file (a file of secrets): it must be a regular
/// file the current user owns, with no access for group or others (0600).
/// The checks look at the opened file, so what is read is what was checked.
/// Errors are `(message, hint)` and name the fix.
pub fn read_private_text(path: &Path) -> Result<String, (String, String)> {
    let f = fs::File::open(path).map_err(|e| {
        (
            format!("cannot be read: {e}"),
            "create it (mode 0600) or fix the path".to_owned(),
        )
    })?;
    let meta = f.metadata().map_err(|e| {
        (
            format!("cannot be inspected: {e}"),
            "check the path".to_owned(),
        )
    })?;
    if !meta.is_file() {
        return Err((
            "is not a regular file".to_owned(),
            "point it at a file of NAME=value lines".to_owned(),
        ));
    }
    super::keyfile::check_private_file(
        path,
        &meta,
        "write the values to a new file only you can read",
    )
    .map_err(|e| {
        (
            format!("is refused: {}", e.problem),
            format!("it holds secrets and must be mode 0600: {}", e.fix),
        )
    })?;
    let mut text = String::new();
    f.take(4 << 20).read_to_string(&mut text).map_err(|e| {
        (
            format!("cannot be read as UTF-8 text: {e}"),
            "write one NAME=value per line".to_owned(),
        )
    })?;
    Ok(text)
}

mod sys {
    //! access(2) from the C library std already links; it
    //! answers "can this user write here" without creating anything.
    use std::ffi::{c_char, c_int, CString};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    extern "C" {
        fn access(path: *const c_char, mode: c_int) -> c_int;
    }
    const W_OK: c_int = 2;
    const X_OK: c_int = 1;

    pub(super) fn can_write_dir(p: &Path) -> bool {
        let Ok(c) = CString::new(p.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
        unsafe { access(c.as_ptr(), W_OK | X_OK) == 0 }
    }
}

#[cfg(test)]
mod tests;
