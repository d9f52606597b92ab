//! The home's ignore list ([`crate::core::home::IGNORE_FILE`]): the
//! entries of [`crate::core::ignore`] as one JSON document, written
//! atomically at mode 0600.

use crate::core::ignore::{new_entry, IgnoreEntry, IgnoreError};
use crate::storage::private_dir::ensure_private_dir;
use crate::storage::private_file::write_private_atomic;
use crate::system::timestamp_now;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;

/// Value of `schema_version` in the ignore file.
pub const IGNORE_SCHEMA_VERSION: &str = "clawsec-traffic-ignore/v1";
/// Bound on the file read (a list this large is a mistake, not a baseline).
const MAX_IGNORE_FILE_BYTES: u64 = 16 * 1024 * 1024;
#[derive(Debug, Serialize, Deserialize)]
struct IgnoreDoc {
    schema_version: String,
    #[serde(default)]
    entries: Vec<IgnoreEntry>,
}

/// The entries in `path`; a missing file is an empty list.
pub fn load(path: &Path) -> Result<Vec<IgnoreEntry>, IgnoreError> {
    let read = |source| IgnoreError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read(e)),
    };
    if meta.len() > MAX_IGNORE_FILE_BYTES {
        return Err(IgnoreError::Invalid {
            path: path.to_path_buf(),
            message: format!("larger than {} MiB", MAX_IGNORE_FILE_BYTES >> 20),
        });
    }
    let text = fs::read(path).map_err(read)?;
    let doc: IgnoreDoc = serde_json::from_slice(&text).map_err(|e| IgnoreError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if doc.schema_version != IGNORE_SCHEMA_VERSION {
        return Err(IgnoreError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "schema_version is {:?}, expected {IGNORE_SCHEMA_VERSION:?}",
                doc.schema_version.chars().take(60).collect::<String>()
            ),
        });
    }
    Ok(doc.entries)
}

/// Writes `entries` to `path` atomically (temp file + rename), mode 0600.
pub fn save(path: &Path, entries: &[IgnoreEntry]) -> Result<(), IgnoreError> {
    let write = |source| IgnoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let doc = IgnoreDoc {
        schema_version: IGNORE_SCHEMA_VERSION.to_owned(),
        entries: entries.to_vec(),
    };
    let mut text = serde_json::to_vec_pretty(&doc)
        .map_err(|e| write(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    text.push(b'\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        ensure_private_dir(dir).map_err(|e| write(e.into_io()))?;
    }
    write_private_atomic(path, &text).map_err(write)?;
    Ok(())
}

/// Adds an entry (its id and time are filled in) and returns it. An entry
/// with the same criteria as an existing one is refused.
pub fn add(path: &Path, entry: IgnoreEntry) -> Result<IgnoreEntry, IgnoreError> {
    let e = new_entry(entry, timestamp_now())?;
    let mut entries = load(path)?;
    if let Some(old) = entries.iter().find(|x| x.id == e.id) {
        return Err(IgnoreError::Duplicate {
            id: old.id.clone(),
            created_at: old.created_at.clone(),
        });
    }
    entries.push(e.clone());
    save(path, &entries)?;
    Ok(e)
}

/// Removes the entry with this id; returns it, or `None` when absent.
pub fn remove(path: &Path, id: &str) -> Result<Option<IgnoreEntry>, IgnoreError> {
    let mut entries = load(path)?;
    let Some(pos) = entries.iter().position(|e| e.id == id) else {
        return Ok(None);
    };
    let gone = entries.remove(pos);
    save(path, &entries)?;
    Ok(Some(gone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_list_remove_round_trip_with_a_private_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("home").join(crate::core::home::IGNORE_FILE);
        assert!(load(&path).unwrap().is_empty());
        let e = add(
            &path,
            IgnoreEntry {
                fingerprint: Some("fp1".into()),
                reason: Some("test key, revoked".into()),
                ..IgnoreEntry::default()
            },
        )
        .unwrap();
        assert!(e.id.starts_with("ign_") && e.id.len() == 16, "{}", e.id);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = add(
            &path,
            IgnoreEntry {
                fingerprint: Some("fp1".into()),
                ..IgnoreEntry::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            again.contains("already ignored") && again.contains(&e.id),
            "{again}"
        );
        assert_eq!(load(&path).unwrap(), vec![e.clone()]);
        assert_eq!(remove(&path, "ign_nope").unwrap(), None);
        assert_eq!(remove(&path, &e.id).unwrap(), Some(e));
        assert!(load(&path).unwrap().is_empty());
    }

    #[test]
    fn empty_and_malformed_entries_are_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(crate::core::home::IGNORE_FILE);
        let err = add(
            &path,
            IgnoreEntry {
                reason: Some("why".into()),
                rule: Some("  ".into()),
                ..IgnoreEntry::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("needs a finding id or fingerprint"), "{err}");
        let err = add(
            &path,
            IgnoreEntry {
                rule: Some("r".into()),
                reason: Some("a\x1b[31m".into()),
                ..IgnoreEntry::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("--reason contains control"), "{err}");
        fs::write(&path, b"{\"schema_version\":\"other/v9\"}").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("schema_version") && err.contains("fix or delete"),
            "{err}"
        );
        fs::write(&path, b"not json").unwrap();
        assert!(matches!(load(&path), Err(IgnoreError::Invalid { .. })));
    }
}
