//! The layout of a guardian home, defined once: every component (Rust and,
//! through `homeLayout`, TypeScript) joins these names to the home rather
//! than spelling them itself.

use std::path::{Path, PathBuf};

/// Subdirectory holding the CA (`ca.pem` public, key 0600).
pub const CA_DIR: &str = "ca";
/// The operator's suppression list (`traffic-guardian ignore`), 0600.
pub const IGNORE_FILE: &str = "ignore.json";
/// The running guardian's owner-only status snapshot.
pub const STATUS_FILE: &str = "status.json";
/// Pid of the `traffic-guardian start` process serving this home (what
/// `traffic-guardian reload` signals); removed when it stops.
pub const PID_FILE: &str = "guardian.pid";
/// Canary credentials by keyed hash only (`traffic-guardian canary`), 0600.
pub const CANARY_FILE: &str = "canaries.json";
pub use crate::core::keyfile::FINGERPRINT_KEY_FILE;

/// Absolute paths of everything the guardian keeps in one home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeLayout {
    pub home: PathBuf,
    pub ca_dir: PathBuf,
    pub ignore_file: PathBuf,
    pub status_file: PathBuf,
    pub pid_file: PathBuf,
    pub fingerprint_key_file: PathBuf,
    pub canary_file: PathBuf,
}

impl HomeLayout {
    pub fn of(home: &Path) -> HomeLayout {
        HomeLayout {
            home: home.to_path_buf(),
            ca_dir: home.join(CA_DIR),
            ignore_file: home.join(IGNORE_FILE),
            status_file: home.join(STATUS_FILE),
            pid_file: home.join(PID_FILE),
            fingerprint_key_file: home.join(FINGERPRINT_KEY_FILE),
            canary_file: home.join(CANARY_FILE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_inside_the_home() {
        let l = HomeLayout::of(Path::new("/h"));
        for p in [
            &l.ca_dir,
            &l.ignore_file,
            &l.status_file,
            &l.pid_file,
            &l.fingerprint_key_file,
            &l.canary_file,
        ] {
            assert!(p.starts_with("/h") && p != Path::new("/h"), "{p:?}");
        }
        assert_eq!(l.ignore_file, Path::new("/h/ignore.json"));
    }
}
