//! The home's canary file ([`crate::core::home::CANARY_FILE`]): the
//! canaries minted by [`crate::core::canary::mint`], by keyed hash only,
//! one JSON document written atomically at mode 0600.

use crate::core::canary::CanaryRecord;
use crate::storage::keyfile::{check_private_file, NotPrivate};
use crate::storage::private_file::write_private_atomic;
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::Read;
use std::path::Path;

/// Schema tag of the canary file.
pub const CANARY_SCHEMA: &str = "clawsec-traffic-canaries/v1";

/// The canary file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CanaryFileError {
    #[error("cannot read or write the canary file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the canary file {path} is not valid ({message}); move it away to start a new one")]
    Corrupt { path: String, message: String },
    #[error("refusing the canary file: {0}")]
    NotPrivate(NotPrivate),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CanaryFile {
    schema: String,
    canaries: Vec<CanaryRecord>,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> CanaryFileError + '_ {
    move |source| CanaryFileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The canaries recorded in `path` (none if the file does not exist). A
/// file another user owns or can read is refused.
pub fn load(path: &Path) -> Result<Vec<CanaryRecord>, CanaryFileError> {
    let mut f = match OpenOptions::new().read(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let meta = f.metadata().map_err(io_err(path))?;
    check_private_file(path, &meta, "move it away to start a new canary file")
        .map_err(CanaryFileError::NotPrivate)?;
    let mut text = String::new();
    f.read_to_string(&mut text).map_err(io_err(path))?;
    let file: CanaryFile = serde_json::from_str(&text).map_err(|e| CanaryFileError::Corrupt {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if file.schema != CANARY_SCHEMA {
        return Err(CanaryFileError::Corrupt {
            path: path.display().to_string(),
            message: format!(
                "schema is \"{}\", expected \"{CANARY_SCHEMA}\"",
                file.schema
            ),
        });
    }
    Ok(file.canaries)
}

/// Writes `records` to `path` atomically (temporary file 0600, rename).
pub fn save(path: &Path, records: &[CanaryRecord]) -> Result<(), CanaryFileError> {
    let file = CanaryFile {
        schema: CANARY_SCHEMA.to_owned(),
        canaries: records.to_vec(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| CanaryFileError::Corrupt {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut bytes = text.into_bytes();
    bytes.push(b'\n');
    write_private_atomic(path, &bytes).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::canary::{mint, register_all, CanaryKind};
    use crate::core::known_secrets::KnownSecrets;

    #[test]
    fn the_file_round_trips_holds_no_value_and_finds_the_canary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("canaries.json");
        let key = crate::system::random_key();
        let mut r = [0u8; 64];
        crate::system::fill_random(&mut r).unwrap();
        let m = mint(
            &key,
            "main",
            CanaryKind::Aws,
            &r,
            [1, 2, 3, 4, 5, 6],
            "t".into(),
        )
        .unwrap();
        save(&path, std::slice::from_ref(&m.record)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for (_, v) in &m.lines {
            assert!(!text.contains(v.as_str()));
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back = load(&path).unwrap();
        assert_eq!(back, vec![m.record.clone()]);
        let mut ks = KnownSecrets::new(&key);
        register_all(&mut ks, &back).unwrap();
        for (_, v) in &m.lines {
            let mut hits = Vec::new();
            ks.find(format!("x={v}&").as_bytes(), &mut hits);
            assert_eq!(hits.len(), 1);
            let l = ks.label(hits[0].entry).unwrap();
            assert_eq!(l.pattern(), "canary_token");
            assert!(l.display().contains("main/can_010203040506"));
        }
        // Readable by others: refused.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(load(&path), Err(CanaryFileError::NotPrivate(_))));
    }
}
