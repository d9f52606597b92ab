//! The guardian's fingerprint key: 32 random bytes, created once under the
//! home directory, owner-only (0600). Fingerprints are keyed with it so the
//! findings log cannot be used to brute-force short secrets.
//!
//! Also the check every private key file (this one, the CA key) passes
//! before it is used: a key another user owns, or can read, is refused —
//! it may have been planted, and its secrecy is already lost.

use std::fs::{Metadata, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

extern "C" {
    fn geteuid() -> u32;
}

/// The effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { geteuid() }
}

/// Why a private key file must not be used, with the operator's fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPrivate {
    /// What is wrong, naming the file.
    pub problem: String,
    /// The exact command (or deletion) that fixes it.
    pub fix: String,
}

impl std::fmt::Display for NotPrivate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; {}", self.problem, self.fix)
    }
}

/// Refuses a private key file that the running user does not own, or that
/// group or others may access. `regenerate` says how to get a fresh key
/// instead (e.g. "delete it to regenerate").
pub fn check_private_file(
    path: &Path,
    meta: &Metadata,
    regenerate: &str,
) -> Result<(), NotPrivate> {
    let me = euid();
    let p = path.display();
    if meta.uid() != me {
        return Err(NotPrivate {
            problem: format!(
                "{p} is owned by uid {}, not by the current user (uid {me}): another user may have planted it, \
                 and can read or replace it",
                meta.uid()
            ),
            fix: format!("{regenerate}; or, if it really is yours, chown {me} {p} && chmod 600 {p}"),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(NotPrivate {
            problem: format!(
                "{p} is accessible to group or others (mode {mode:04o}): the key may already have been read"
            ),
            fix: format!("chmod 600 {p} if no one else could have read it; otherwise {regenerate}"),
        });
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or create the fingerprint key {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the fingerprint key {path} is not 64 hex digits; delete it to create a new one (old fingerprints will no longer correlate)")]
    Corrupt { path: String },
    #[error("refusing the fingerprint key: {0}")]
    NotPrivate(NotPrivate),
    #[error("the operating system has no randomness to create the fingerprint key: {0}")]
    Random(String),
}

/// Loads the key at `path`, creating it (0600) if absent. An existing key
/// that another user owns or can read is refused ([`check_private_file`]).
pub fn load_or_create_key(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    match OpenOptions::new().read(true).open(path) {
        Ok(f) => {
            let meta = f.metadata().map_err(io)?;
            check_private_file(
                path,
                &meta,
                &format!(
                    "delete it to regenerate (rm {}; old fingerprints will no longer correlate)",
                    path.display()
                ),
            )
            .map_err(KeyFileError::NotPrivate)?;
            let mut text = String::new();
            f.take(256).read_to_string(&mut text).map_err(io)?;
            let bytes = hex::decode(text.trim()).map_err(|_| KeyFileError::Corrupt {
                path: path.display().to_string(),
            })?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyFileError::Corrupt {
                path: path.display().to_string(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            crate::system::fill_random(&mut key)
                .map_err(|e| KeyFileError::Random(e.to_string()))?;
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(io)?;
            f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                .map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::home::FINGERPRINT_KEY_FILE;

    use std::fs;

    #[test]
    fn creates_once_private_and_reloads_the_same_key() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join(FINGERPRINT_KEY_FILE);
        let k1 = load_or_create_key(&p).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load_or_create_key(&p).unwrap(), k1);
        // A key others could read is refused, not silently tightened.
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create_key(&p).unwrap_err().to_string();
        assert!(
            e.contains("mode 0644") && e.contains(&format!("chmod 600 {}", p.display())),
            "{e}"
        );
        assert!(e.contains("delete it to regenerate"), "{e}");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(load_or_create_key(&p).unwrap(), k1);
        fs::write(&p, "zz").unwrap();
        let e = load_or_create_key(&p).unwrap_err().to_string();
        assert!(e.contains("delete it"), "{e}");
    }

    /// A key owned by another user is refused even at mode 0600 (needs
    /// root to plant one; skipped otherwise).
    #[test]
    fn a_key_owned_by_another_user_is_refused() {
        if euid() != 0 {
            eprintln!("skipped: needs root to chown a file to nobody");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join(FINGERPRINT_KEY_FILE);
        load_or_create_key(&p).unwrap();
        std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
        let e = load_or_create_key(&p).unwrap_err().to_string();
        assert!(e.contains("owned by uid 65534"), "{e}");
        assert!(e.contains(&format!("chown 0 {}", p.display())), "{e}");
    }
}
