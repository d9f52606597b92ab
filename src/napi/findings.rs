use super::types::{FindingPage, FindingQuery};
use crate::core::home::{CaPublicLayout as CoreCaPublic, HomeLayout as CoreLayout};
use crate::core::ignore::{IgnoreEntry as CoreEntry, IgnoreError};
use crate::storage::ignore_file;
use crate::storage::store::query_dir;
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::path::Path;

/// Reads findings from a log directory without a running guardian (the
/// CLI's `findings` and `report`), newest first. Torn lines are skipped;
/// with `ignore_file`, suppressed findings are left out and counted.
#[napi]
pub fn query_findings(log_dir: String, query: Option<FindingQuery>) -> Result<FindingPage> {
    let q = query
        .unwrap_or_default()
        .into_core()
        .map_err(ignore_error)?;
    query_dir(Path::new(&log_dir), &q, &[])
        .map(FindingPage::from)
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}

/// Where the guardian keeps each thing in a home (defined once, in Rust).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct HomeLayout {
    pub home: String,
    /// The CA (public certificate and its 0600 key); never mounted.
    #[napi(js_name = "ca_dir")]
    pub ca_dir: String,
    /// The suppression list (`traffic-guardian ignore`), mode 0600.
    #[napi(js_name = "ignore_file")]
    pub ignore_file: String,
    /// The running guardian's status snapshot, mode 0600.
    #[napi(js_name = "status_file")]
    pub status_file: String,
    /// Pid of the `traffic-guardian start` serving this home (signalled by `reload`).
    #[napi(js_name = "pid_file")]
    pub pid_file: String,
    #[napi(js_name = "fingerprint_key_file")]
    pub fingerprint_key_file: String,
    /// Canary credentials by keyed hash (`traffic-guardian canary`), mode 0600.
    #[napi(js_name = "canary_file")]
    pub canary_file: String,
    /// The config file read when neither the caller nor
    /// `NANOCLAW_TRAFFIC_GUARDIAN_CONFIG` names one.
    #[napi(js_name = "config_file")]
    pub config_file: String,
    /// The CA's public export, mounted read-only into containers.
    #[napi(js_name = "ca_public")]
    pub ca_public: CaPublicLayout,
}

/// The files of a CA public directory: certificates only, never the key.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct CaPublicLayout {
    pub dir: String,
    /// The guardian CA certificate alone (`NODE_EXTRA_CA_CERTS`).
    #[napi(js_name = "cert_file")]
    pub cert_file: String,
    /// The CA plus the host's system roots (`SSL_CERT_FILE` and friends).
    #[napi(js_name = "bundle_file")]
    pub bundle_file: String,
}

fn path_string(p: std::path::PathBuf) -> String {
    p.to_string_lossy().into_owned()
}

impl From<CoreCaPublic> for CaPublicLayout {
    fn from(l: CoreCaPublic) -> Self {
        CaPublicLayout {
            dir: path_string(l.dir),
            cert_file: path_string(l.cert_file),
            bundle_file: path_string(l.bundle_file),
        }
    }
}

/// The paths of everything in the guardian home `home`.
#[napi]
pub fn home_layout(home: String) -> HomeLayout {
    let l = CoreLayout::of(Path::new(&home));
    HomeLayout {
        home: path_string(l.home),
        ca_dir: path_string(l.ca_dir),
        ignore_file: path_string(l.ignore_file),
        status_file: path_string(l.status_file),
        pid_file: path_string(l.pid_file),
        fingerprint_key_file: path_string(l.fingerprint_key_file),
        canary_file: path_string(l.canary_file),
        config_file: path_string(l.config_file),
        ca_public: l.ca_public.into(),
    }
}

/// The files of the CA public directory `dir` (the home's `ca_public.dir`,
/// or any directory the operator exports to).
#[napi]
pub fn ca_public_layout(dir: String) -> CaPublicLayout {
    CoreCaPublic::of(Path::new(&dir)).into()
}

/// One suppression entry, schema `clawsec-traffic-ignore/v1`. Every
/// criterion that is set must match a finding.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct IgnoreEntry {
    /// `ign_` + 12 hex digits (set by `ignoreAdd`).
    pub id: Option<String>,
    #[napi(js_name = "finding_id")]
    pub finding_id: Option<String>,
    pub fingerprint: Option<String>,
    /// Rule id.
    pub rule: Option<String>,
    /// `host:port`, or a bare host for any port.
    pub dest: Option<String>,
    /// Source group (runtime name or client address).
    pub source: Option<String>,
    pub reason: Option<String>,
    #[napi(js_name = "created_at")]
    pub created_at: Option<String>,
}

impl From<CoreEntry> for IgnoreEntry {
    fn from(e: CoreEntry) -> Self {
        IgnoreEntry {
            id: Some(e.id),
            finding_id: e.finding_id,
            fingerprint: e.fingerprint,
            rule: e.rule,
            dest: e.dest,
            source: e.source,
            reason: e.reason,
            created_at: Some(e.created_at),
        }
    }
}

fn ignore_error(e: IgnoreError) -> Error {
    let status = match e {
        IgnoreError::Entry(_) => Status::InvalidArg,
        _ => Status::GenericFailure,
    };
    Error::new(status, e.to_string())
}

/// The entries of a suppression list (empty when the file is absent).
#[napi]
pub fn ignore_list(file: String) -> Result<Vec<IgnoreEntry>> {
    ignore_file::load(Path::new(&file))
        .map(|v| v.into_iter().map(IgnoreEntry::from).collect())
        .map_err(ignore_error)
}

/// Adds an entry (its id and time are filled in) and returns it.
#[napi]
pub fn ignore_add(file: String, entry: IgnoreEntry) -> Result<IgnoreEntry> {
    let core = CoreEntry {
        id: String::new(),
        finding_id: entry.finding_id,
        fingerprint: entry.fingerprint,
        rule: entry.rule,
        dest: entry.dest,
        source: entry.source,
        reason: entry.reason,
        created_at: String::new(),
    };
    ignore_file::add(Path::new(&file), core)
        .map(IgnoreEntry::from)
        .map_err(ignore_error)
}

/// Removes the entry with this id; returns it, or null when there is none.
#[napi]
pub fn ignore_remove(file: String, id: String) -> Result<Option<IgnoreEntry>> {
    ignore_file::remove(Path::new(&file), &id)
        .map(|o| o.map(IgnoreEntry::from))
        .map_err(ignore_error)
}

/// Checks a findings time bound (`since` / `until`: an age such as `90s`,
/// `15m`, `1h`, `7d`, `2w`, or an RFC 3339 time) with the store's own
/// parser, and returns it in a spelling that means the same later: an age
/// stays an age (weeks as days), a time becomes RFC 3339 UTC. Throws
/// `InvalidArg` saying what is expected.
#[napi]
pub fn normalize_time_bound(value: String) -> Result<String> {
    crate::core::time_bound::parse(&value)
        .and_then(crate::core::time_bound::TimeBound::canonical)
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}
