//! The guardian's fingerprint key: 32 random bytes, created once under the
//! home directory, owner-only (0600). Fingerprints are keyed with it so the
//! findings log cannot be used to brute-force short secrets.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// File name of the key inside the guardian's home.
pub const FINGERPRINT_KEY_FILE: &str = "fingerprint.key";

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
    #[error("the operating system has no randomness to create the fingerprint key: {0}")]
    Random(String),
}

/// Loads the key at `path`, creating it (0600) if absent and tightening
/// its permissions to 0600 if they are looser.
pub fn load_or_create_key(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    match OpenOptions::new().read(true).open(path) {
        Ok(f) => {
            let mode = f.metadata().map_err(io)?.permissions().mode() & 0o777;
            if mode != 0o600 {
                fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io)?;
            }
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
            getrandom::fill(&mut key).map_err(|e| KeyFileError::Random(e.to_string()))?;
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

    #[test]
    fn creates_once_private_and_reloads_the_same_key() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join(FINGERPRINT_KEY_FILE);
        let k1 = load_or_create_key(&p).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(load_or_create_key(&p).unwrap(), k1);
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::write(&p, "zz").unwrap();
        let e = load_or_create_key(&p).unwrap_err().to_string();
        assert!(e.contains("delete it"), "{e}");
    }
}
