//! Owner-only directories: the one helper every part that creates the home,
//! the log directory or a file's parent goes through.

use crate::core::config::{ConfigError, GuardianConfig};
use std::path::{Path, PathBuf};

/// A directory could not be made owner-only.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    /// The path exists and is not a directory.
    #[error("{} exists but is not a directory", .path.display())]
    NotADirectory { path: PathBuf },
    /// The directory could not be created, read or tightened.
    #[error("cannot prepare {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl PrivateDirError {
    /// As a plain I/O error (kind `NotADirectory` for a non-directory).
    pub fn into_io(self) -> std::io::Error {
        match self {
            PrivateDirError::Io { source, .. } => source,
            e @ PrivateDirError::NotADirectory { .. } => {
                std::io::Error::new(std::io::ErrorKind::NotADirectory, e.to_string())
            }
        }
    }
}

/// Creates `dir` and its missing parents with mode 0700, and tightens an
/// existing `dir` to 0700. A path that exists but is not a directory is
/// refused.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PrivateDirError> {
    let io = |source| PrivateDirError::Io {
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(PrivateDirError::NotADirectory {
                path: dir.to_path_buf(),
            })
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(dir).map_err(io)?;
        }
        Err(e) => return Err(io(e)),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(io)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
    }
    Ok(())
}

/// Creates home and the log dir with mode 0700 and tightens existing ones
/// to 0700. Run at start, after [`crate::storage::config_fs::check`] succeeded.
pub fn prepare_dirs(cfg: &GuardianConfig) -> Result<(), ConfigError> {
    let config_error = |e: PrivateDirError| match e {
        PrivateDirError::NotADirectory { path } => ConfigError::NotADirectory { path },
        PrivateDirError::Io { path, source } => ConfigError::Io { path, source },
    };
    ensure_private_dir(&cfg.home).map_err(config_error)?;
    ensure_private_dir(&cfg.log_dir).map_err(config_error)
}
