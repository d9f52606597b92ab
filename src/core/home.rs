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
/// The config file read when neither the caller nor
/// `NANOCLAW_TRAFFIC_GUARDIAN_CONFIG` names one.
pub use crate::core::config::DEFAULT_CONFIG_FILE_NAME as CONFIG_FILE;
/// The fingerprint key (`crate::storage::keyfile`), 0600.
pub const FINGERPRINT_KEY_FILE: &str = "fingerprint.key";
/// The CA's public export (certificates only, never the key), the directory
/// mounted read-only into containers.
pub const CA_PUBLIC_DIR: &str = "ca-public";
/// In a CA public directory: the guardian CA certificate alone.
pub const CA_PUBLIC_CERT_FILE: &str = "ca.pem";
/// In a CA public directory: the CA plus the host's system roots.
pub const CA_PUBLIC_BUNDLE_FILE: &str = "bundle.pem";

/// The files of a CA public directory (the home's `ca-public`, or any
/// directory the operator exports to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaPublicLayout {
    pub dir: PathBuf,
    pub cert_file: PathBuf,
    pub bundle_file: PathBuf,
}

impl CaPublicLayout {
    pub fn of(dir: &Path) -> CaPublicLayout {
        CaPublicLayout {
            dir: dir.to_path_buf(),
            cert_file: dir.join(CA_PUBLIC_CERT_FILE),
            bundle_file: dir.join(CA_PUBLIC_BUNDLE_FILE),
        }
    }
}

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
    pub config_file: PathBuf,
    pub ca_public: CaPublicLayout,
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
            config_file: home.join(CONFIG_FILE),
            ca_public: CaPublicLayout::of(&home.join(CA_PUBLIC_DIR)),
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
            &l.config_file,
            &l.ca_public.dir,
            &l.ca_public.cert_file,
            &l.ca_public.bundle_file,
        ] {
            assert!(p.starts_with("/h") && p != Path::new("/h"), "{p:?}");
        }
        assert_eq!(l.ignore_file, Path::new("/h/ignore.json"));
        assert_eq!(
            l.ca_public.bundle_file,
            Path::new("/h/ca-public/bundle.pem")
        );
    }
}
