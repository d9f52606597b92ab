//! Where findings go: dedup, an append-only JSONL file with size-based
//! rotation, an in-memory ring for fast queries, and an optional listener.
//!
//! Storage faults never stop inspection: a failed write is counted, warned
//! about once, kept in the ring (still queryable), and writing resumes by
//! itself when the fault clears.

use crate::core::dedup::Deduper;
use crate::core::finding::{
    format_timestamp, parse_timestamp_ms, Direction, Finding, Severity, ThreatType,
};
use std::collections::{HashSet, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Anything findings can be handed to (the proxy's view of the store).
pub trait FindingSink: Send + Sync {
    fn record(&self, findings: Vec<Finding>);
}

/// Name of the current findings file inside the log directory.
pub const FINDINGS_FILE: &str = "findings.jsonl";
/// Default number of findings a query returns.
pub const DEFAULT_QUERY_LIMIT: usize = 50;
/// Most findings one query returns.
pub const MAX_QUERY_LIMIT: usize = 1000;
/// Keys the dedup table holds at most.
pub const DEDUP_CAPACITY: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create log directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid query: {field}: {message}")]
    Query {
        field: &'static str,
        message: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Store settings (from the validated config).
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub log_dir: PathBuf,
    pub rotate_bytes: u64,
    pub rotate_keep: usize,
    pub ring_capacity: usize,
    pub dedup_window_ms: u64,
}

/// A snapshot of the store's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub findings_emitted: u64,
    pub findings_written: u64,
    pub write_errors: u64,
    pub occurrences_folded: u64,
    pub last_error: Option<String>,
}

/// A function called with every emitted finding.
pub type FindingListener = Arc<dyn Fn(&Finding) + Send + Sync>;

struct State {
    dedup: Deduper,
    file: Option<File>,
    file_size: u64,
    ring: VecDeque<Finding>,
    last_error: Option<String>,
}

/// The finding store of one guardian.
pub struct FindingStore {
    opts: StoreOptions,
    state: Mutex<State>,
    listener: RwLock<Option<FindingListener>>,
    emitted: AtomicU64,
    written: AtomicU64,
    write_errors: AtomicU64,
    folded: AtomicU64,
}

impl std::fmt::Debug for FindingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingStore")
            .field("log_dir", &self.opts.log_dir)
            .finish()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Creates `dir` (and parents) owner-only (0700), tightening it if it exists.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

impl FindingStore {
    /// Opens the store, creating the log directory 0700. A file that cannot
    /// be opened yet is not an error: it is retried on every write.
    pub fn open(opts: StoreOptions) -> Result<FindingStore, StoreError> {
        ensure_private_dir(&opts.log_dir).map_err(|source| StoreError::CreateDir {
            path: opts.log_dir.clone(),
            source,
        })?;
        let store = FindingStore {
            state: Mutex::new(State {
                dedup: Deduper::new(opts.dedup_window_ms, DEDUP_CAPACITY),
                file: None,
                file_size: 0,
                ring: VecDeque::new(),
                last_error: None,
            }),
            opts,
            listener: RwLock::new(None),
            emitted: AtomicU64::new(0),
            written: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            folded: AtomicU64::new(0),
        };
        Ok(store)
    }

    pub fn log_dir(&self) -> &Path {
        &self.opts.log_dir
    }

    /// Path of the current JSONL file.
    pub fn findings_path(&self) -> PathBuf {
        self.opts.log_dir.join(FINDINGS_FILE)
    }

    /// Sets (or clears) the function called with every emitted finding.
    pub fn set_listener(&self, listener: Option<FindingListener>) {
        if let Ok(mut l) = self.listener.write() {
            *l = listener;
        }
    }

    /// Dedups, persists and publishes findings; returns those emitted.
    pub fn record_findings(&self, findings: Vec<Finding>) -> Vec<Finding> {
        if findings.is_empty() {
            return Vec::new();
        }
        let now = now_ms();
        let offered = findings.len() as u64;
        let emitted = {
            let Ok(mut st) = self.state.lock() else {
                return Vec::new();
            };
            let mut emitted = st.dedup.drain_expired(now);
            for f in findings {
                emitted.extend(st.dedup.admit(f, now));
            }
            self.persist(&mut st, &emitted);
            emitted
        };
        self.folded.fetch_add(
            offered.saturating_sub(emitted.len() as u64),
            Ordering::Relaxed,
        );
        self.publish(&emitted);
        emitted
    }

    /// Emits summaries of folded repeats whose window has ended.
    pub fn flush_expired(&self) -> Vec<Finding> {
        let emitted = {
            let Ok(mut st) = self.state.lock() else {
                return Vec::new();
            };
            let emitted = st.dedup.drain_expired(now_ms());
            self.persist(&mut st, &emitted);
            emitted
        };
        self.publish(&emitted);
        emitted
    }

    /// Emits every pending summary and syncs the file (at shutdown).
    pub fn close(&self) -> Vec<Finding> {
        let emitted = {
            let Ok(mut st) = self.state.lock() else {
                return Vec::new();
            };
            let emitted = st.dedup.drain_all();
            self.persist(&mut st, &emitted);
            if let Some(f) = st.file.as_ref() {
                let _ = f.sync_data();
            }
            emitted
        };
        self.publish(&emitted);
        emitted
    }

    pub fn stats(&self) -> StoreStats {
        let last_error = self.state.lock().ok().and_then(|s| s.last_error.clone());
        StoreStats {
            findings_emitted: self.emitted.load(Ordering::Relaxed),
            findings_written: self.written.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
            occurrences_folded: self.folded.load(Ordering::Relaxed),
            last_error,
        }
    }

    /// Queries the JSONL files and the in-memory ring (which also holds
    /// findings a storage fault kept off disk).
    pub fn query(&self, q: &FindingQuery) -> Result<FindingPage, StoreError> {
        let ring: Vec<Finding> = self
            .state
            .lock()
            .map(|s| s.ring.iter().cloned().collect())
            .unwrap_or_default();
        match query_dir(&self.opts.log_dir, q, &ring) {
            // The log is unreadable (a storage fault): answer from memory,
            // which holds everything emitted since start.
            Err(StoreError::Read { .. }) => query_files(&[], q, &ring),
            other => other,
        }
    }

    fn publish(&self, emitted: &[Finding]) {
        if emitted.is_empty() {
            return;
        }
        self.emitted
            .fetch_add(emitted.len() as u64, Ordering::Relaxed);
        let listener = self.listener.read().ok().and_then(|l| l.clone());
        if let Some(l) = listener {
            for f in emitted {
                l(f);
            }
        }
    }

    fn persist(&self, st: &mut State, emitted: &[Finding]) {
        for f in emitted {
            st.ring.push_back(f.clone());
            while st.ring.len() > self.opts.ring_capacity.max(1) {
                st.ring.pop_front();
            }
            let mut line = match serde_json::to_vec(f) {
                Ok(l) => l,
                Err(_) => continue,
            };
            line.push(b'\n');
            match self.write_line(st, &line) {
                Ok(()) => {
                    self.written.fetch_add(1, Ordering::Relaxed);
                    if st.last_error.take().is_some() {
                        tracing::info!(log_dir = %self.opts.log_dir.display(), "findings log writable again; writing resumed");
                    }
                }
                Err(e) => {
                    self.write_errors.fetch_add(1, Ordering::Relaxed);
                    st.file = None;
                    if st.last_error.is_none() {
                        tracing::warn!(log_dir = %self.opts.log_dir.display(), error = %e, "cannot write findings log; findings stay queryable in memory and writing resumes when the fault clears");
                    }
                    st.last_error = Some(format!(
                        "cannot write {}: {e}",
                        self.findings_path().display()
                    ));
                }
            }
        }
    }

    fn write_line(&self, st: &mut State, line: &[u8]) -> std::io::Result<()> {
        // The open file must still be the one at the path: after the log dir
        // or file was removed or replaced, writing on would lose findings
        // silently into an unlinked inode.
        if let Some(file) = st.file.as_ref() {
            let same = match (file.metadata(), fs::metadata(self.findings_path())) {
                (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
                _ => false,
            };
            if !same {
                st.file = None;
            }
        }
        if st.file.is_some()
            && st.file_size > 0
            && st.file_size + line.len() as u64 > self.opts.rotate_bytes
        {
            st.file = None;
            self.rotate()?;
            st.file_size = 0;
        }
        if st.file.is_none() {
            ensure_private_dir(&self.opts.log_dir)?;
            let path = self.findings_path();
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)?;
            let meta = file.metadata()?;
            if meta.permissions().mode() & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
            }
            st.file_size = meta.len();
            st.file = Some(file);
            if st.file_size > 0 && st.file_size + line.len() as u64 > self.opts.rotate_bytes {
                st.file = None;
                self.rotate()?;
                return self.write_line(st, line);
            }
        }
        let Some(file) = st.file.as_mut() else {
            return Err(std::io::Error::other("findings file not open"));
        };
        // One write per whole line: readers never see half a finding except
        // as a torn last line after a crash, which they skip.
        file.write_all(line)?;
        st.file_size += line.len() as u64;
        Ok(())
    }

    fn rotate(&self) -> std::io::Result<()> {
        let dir = &self.opts.log_dir;
        let keep = self.opts.rotate_keep.max(1);
        let _ = fs::remove_file(dir.join(rotated_name(keep)));
        for i in (1..keep).rev() {
            let from = dir.join(rotated_name(i));
            if from.exists() {
                fs::rename(&from, dir.join(rotated_name(i + 1)))?;
            }
        }
        fs::rename(dir.join(FINDINGS_FILE), dir.join(rotated_name(1)))
    }
}

impl FindingSink for FindingStore {
    fn record(&self, findings: Vec<Finding>) {
        self.record_findings(findings);
    }
}

fn rotated_name(i: usize) -> String {
    format!("findings.{i}.jsonl")
}

/// Filters for a findings query. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingQuery {
    /// RFC 3339 time, or a relative age such as `30s`, `15m`, `1h`, `7d`.
    pub since: Option<String>,
    pub until: Option<String>,
    pub direction: Option<String>,
    pub threat_type: Option<String>,
    pub pattern: Option<String>,
    pub min_severity: Option<String>,
    /// Only findings whose `source` is one of these.
    pub sources: Option<Vec<String>>,
    /// Default [`DEFAULT_QUERY_LIMIT`], at most [`MAX_QUERY_LIMIT`].
    pub limit: Option<usize>,
    /// Opaque paging cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One page of findings, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingPage {
    pub findings: Vec<Finding>,
    pub next_cursor: Option<String>,
}

fn parse_time_bound(field: &'static str, value: &str, now: u64) -> Result<String, StoreError> {
    let v = value.trim();
    let rel = v
        .strip_suffix("ms")
        .map(|n| (n, 1u64))
        .or_else(|| v.strip_suffix('s').map(|n| (n, 1000)))
        .or_else(|| v.strip_suffix('m').map(|n| (n, 60_000)))
        .or_else(|| v.strip_suffix('h').map(|n| (n, 3_600_000)))
        .or_else(|| v.strip_suffix('d').map(|n| (n, 86_400_000)));
    let ms = if let Some((n, unit)) =
        rel.filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        let n: u64 = n.parse().map_err(|_| StoreError::Query {
            field,
            message: "relative time is too large".into(),
        })?;
        now.saturating_sub(n.saturating_mul(unit)) as i64
    } else {
        parse_timestamp_ms(v).ok_or_else(|| StoreError::Query {
            field,
            message: "expected an RFC 3339 time (2026-04-26T00:00:00Z) or an age like 15m, 1h, 7d"
                .into(),
        })?
    };
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(
        |_| StoreError::Query {
            field,
            message: "time out of range".into(),
        },
    )?;
    Ok(format_timestamp(t))
}

struct Filter {
    since: Option<String>,
    until: Option<String>,
    direction: Option<Direction>,
    threat: Option<ThreatType>,
    pattern: Option<String>,
    min_severity: Option<Severity>,
    sources: Option<HashSet<String>>,
    cursor: Option<(String, String)>,
}

impl Filter {
    fn parse(q: &FindingQuery) -> Result<Filter, StoreError> {
        let now = now_ms();
        let bad = |field: &'static str| {
            move |e: crate::core::finding::ParseEnumError| StoreError::Query {
                field,
                message: e.to_string(),
            }
        };
        let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                use base64::Engine as _;
                let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                let parts = raw.as_deref().and_then(|r| r.split_once('|'));
                match parts {
                    Some((t, id)) => Some((t.to_owned(), id.to_owned())),
                    None => {
                        return Err(StoreError::Query {
                            field: "cursor",
                            message: "not a cursor returned by this store; start again without it"
                                .into(),
                        })
                    }
                }
            }
        };
        Ok(Filter {
            since: q
                .since
                .as_deref()
                .map(|s| parse_time_bound("since", s, now))
                .transpose()?,
            until: q
                .until
                .as_deref()
                .map(|s| parse_time_bound("until", s, now))
                .transpose()?,
            direction: q
                .direction
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(bad("direction"))?,
            threat: q
                .threat_type
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(bad("threat_type"))?,
            pattern: q.pattern.clone(),
            min_severity: q
                .min_severity
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(bad("min_severity"))?,
            sources: q.sources.as_ref().map(|s| s.iter().cloned().collect()),
            cursor,
        })
    }

    fn accepts(&self, f: &Finding) -> bool {
        self.since
            .as_ref()
            .is_none_or(|s| f.timestamp.as_str() >= s.as_str())
            && self
                .until
                .as_ref()
                .is_none_or(|u| f.timestamp.as_str() <= u.as_str())
            && self.direction.is_none_or(|d| f.direction == d)
            && self.threat.is_none_or(|t| f.threat_type == t)
            && self.pattern.as_ref().is_none_or(|p| f.pattern == *p)
            && self.min_severity.is_none_or(|m| f.severity >= m)
            && self.sources.as_ref().is_none_or(|s| s.contains(&f.source))
            && self.cursor.as_ref().is_none_or(|(t, id)| {
                (f.timestamp.as_str(), f.id.as_str()) < (t.as_str(), id.as_str())
            })
    }
}

/// Queries the findings files in `log_dir` (current and rotated) plus
/// `extra` in-memory findings. Newest first; torn or foreign lines are skipped.
pub fn query_dir(
    log_dir: &Path,
    q: &FindingQuery,
    extra: &[Finding],
) -> Result<FindingPage, StoreError> {
    query_files(&findings_files(log_dir), q, extra)
}

fn query_files(
    files: &[PathBuf],
    q: &FindingQuery,
    extra: &[Finding],
) -> Result<FindingPage, StoreError> {
    let filter = Filter::parse(q)?;
    let limit = q
        .limit
        .unwrap_or(DEFAULT_QUERY_LIMIT)
        .clamp(1, MAX_QUERY_LIMIT);
    let mut ids = HashSet::new();
    let mut hits: Vec<Finding> = Vec::new();
    let mut consider = |f: Finding, hits: &mut Vec<Finding>| {
        if filter.accepts(&f) && ids.insert(f.id.clone()) {
            hits.push(f);
        }
    };
    for path in files {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(StoreError::Read {
                    path: path.clone(),
                    source,
                })
            }
        };
        for line in BufReader::new(file).split(b'\n') {
            let Ok(line) = line else { break };
            if let Ok(f) = serde_json::from_slice::<Finding>(&line) {
                consider(f, &mut hits);
            }
        }
    }
    for f in extra {
        consider(f.clone(), &mut hits);
    }
    hits.sort_unstable_by(|a, b| {
        (b.timestamp.as_str(), b.id.as_str()).cmp(&(a.timestamp.as_str(), a.id.as_str()))
    });
    let more = hits.len() > limit;
    hits.truncate(limit);
    let next_cursor = if more {
        hits.last().map(|f| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("{}|{}", f.timestamp, f.id))
        })
    } else {
        None
    };
    Ok(FindingPage {
        findings: hits,
        next_cursor,
    })
}

/// The current findings file and its rotated predecessors that exist.
pub fn findings_files(log_dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![log_dir.join(FINDINGS_FILE)];
    for i in 1..=100 {
        let p = log_dir.join(rotated_name(i));
        if !p.exists() {
            break;
        }
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests;
