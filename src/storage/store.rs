//! Where findings go: dedup, an append-only JSONL file with size-based
//! rotation, an in-memory ring for fast queries, and an optional listener.
//!
//! Storage faults never stop inspection: a failed write is counted, warned
//! about once, kept in the ring (still queryable) and in a bounded retry
//! queue, and written once the fault clears. A line is written whole or not
//! at all: a partial write is cut back off, and a file that ends mid-line
//! (a crash) gets a newline before the next record.
//!
//! Folded repeats not yet carried by an emitted finding are persisted every
//! [`COUNT_CHECKPOINT_TICKS`] ticks as count records
//! (`clawsec-traffic-count/v1`), which readers add to the finding they name.

use crate::core::dedup::Deduper;
use crate::core::finding::{Direction, Finding, Severity, ThreatType};
use crate::storage::private_dir::{ensure_private_dir, PrivateDirError};
use crate::system::{now_ms, timestamp_now};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
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
/// Records (findings and count records) kept for retry after a failed
/// write; beyond this the oldest is dropped and counted.
pub const PENDING_WRITE_CAPACITY: usize = 1024;
/// Folded repeat counts are persisted every this many [`FindingStore::tick`]s.
pub const COUNT_CHECKPOINT_TICKS: u64 = 5;
/// `schema_version` of a count record in the findings JSONL.
pub const COUNT_SCHEMA_VERSION: &str = "clawsec-traffic-count/v1";

/// A count record: `count` repeats (cumulative) have been folded into the
/// finding `finding_id` so far. Superseded by a later finding whose
/// `repeats_of` names `finding_id`; readers use the largest `count` per id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRecord {
    pub schema_version: String,
    pub finding_id: String,
    pub count: u64,
    pub timestamp: String,
}

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
    /// Records waiting in the retry queue after a failed write.
    pub pending_writes: u64,
    /// Records dropped because the retry queue overflowed.
    pub dropped_writes: u64,
    pub last_error: Option<String>,
}

/// A function called with every emitted finding.
pub type FindingListener = Arc<dyn Fn(&Finding) + Send + Sync>;

/// A serialized record waiting to be written.
struct Pending {
    line: Vec<u8>,
    is_finding: bool,
    /// Whether a write of it already failed (and was counted).
    failed_once: bool,
}

struct State {
    dedup: Deduper,
    file: Option<File>,
    file_size: u64,
    /// The open file ends mid-line: the next write starts with a newline.
    torn_tail: bool,
    ring: VecDeque<Finding>,
    pending: VecDeque<Pending>,
    ticks: u64,
    last_error: Option<String>,
    /// Test seam: bytes the "disk" still takes (None: unlimited).
    #[cfg(test)]
    space_left: Option<u64>,
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
    dropped: AtomicU64,
}

impl std::fmt::Debug for FindingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingStore")
            .field("log_dir", &self.opts.log_dir)
            .finish()
    }
}

impl FindingStore {
    /// Opens the store, creating the log directory 0700. A file that cannot
    /// be opened yet is not an error: it is retried on every write.
    pub fn open(opts: StoreOptions) -> Result<FindingStore, StoreError> {
        ensure_private_dir(&opts.log_dir).map_err(|e| StoreError::CreateDir {
            path: opts.log_dir.clone(),
            source: e.into_io(),
        })?;
        let store = FindingStore {
            state: Mutex::new(State {
                dedup: Deduper::new(opts.dedup_window_ms, DEDUP_CAPACITY),
                file: None,
                file_size: 0,
                torn_tail: false,
                ring: VecDeque::new(),
                pending: VecDeque::new(),
                ticks: 0,
                last_error: None,
                #[cfg(test)]
                space_left: None,
            }),
            opts,
            listener: RwLock::new(None),
            emitted: AtomicU64::new(0),
            written: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            folded: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        };
        Ok(store)
    }

    /// Test seam: the "disk" takes only `bytes` more (None: unlimited).
    #[cfg(test)]
    pub(crate) fn set_space_left(&self, bytes: Option<u64>) {
        if let Ok(mut st) = self.state.lock() {
            st.space_left = bytes;
        }
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

    /// The periodic work (the guardian calls it every second): emits
    /// summaries of folded repeats whose window has ended, retries records
    /// a storage fault held back, and every [`COUNT_CHECKPOINT_TICKS`]th
    /// tick persists folded repeat counts as count records.
    pub fn tick(&self) -> Vec<Finding> {
        let emitted = {
            let Ok(mut st) = self.state.lock() else {
                return Vec::new();
            };
            st.ticks += 1;
            let emitted = st.dedup.drain_expired(now_ms());
            self.persist(&mut st, &emitted);
            if st.ticks % COUNT_CHECKPOINT_TICKS == 0 {
                self.checkpoint_counts(&mut st);
            }
            self.drain_pending(&mut st);
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
        let (pending, last_error) = self
            .state
            .lock()
            .map(|s| (s.pending.len() as u64, s.last_error.clone()))
            .unwrap_or_default();
        StoreStats {
            findings_emitted: self.emitted.load(Ordering::Relaxed),
            findings_written: self.written.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
            occurrences_folded: self.folded.load(Ordering::Relaxed),
            pending_writes: pending,
            dropped_writes: self.dropped.load(Ordering::Relaxed),
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
            if let Ok(line) = serde_json::to_vec(f) {
                self.enqueue(st, line, true);
            }
        }
        self.drain_pending(st);
    }

    /// Queues count records for repeats folded since the last checkpoint.
    fn checkpoint_counts(&self, st: &mut State) {
        let timestamp = timestamp_now();
        for (finding_id, count) in st.dedup.checkpoint() {
            let rec = CountRecord {
                schema_version: COUNT_SCHEMA_VERSION.to_owned(),
                finding_id,
                count,
                timestamp: timestamp.clone(),
            };
            if let Ok(line) = serde_json::to_vec(&rec) {
                self.enqueue(st, line, false);
            }
        }
    }

    fn enqueue(&self, st: &mut State, mut line: Vec<u8>, is_finding: bool) {
        line.push(b'\n');
        if st.pending.len() >= PENDING_WRITE_CAPACITY.max(1) {
            st.pending.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        st.pending.push_back(Pending {
            line,
            is_finding,
            failed_once: false,
        });
    }

    /// Writes queued records in order until one fails; the failed one and
    /// those behind it stay queued for the next call.
    fn drain_pending(&self, st: &mut State) {
        while let Some(p) = st.pending.pop_front() {
            match self.write_line(st, &p.line) {
                Ok(()) => {
                    if p.is_finding {
                        self.written.fetch_add(1, Ordering::Relaxed);
                    }
                    if st.last_error.take().is_some() {
                        tracing::info!(log_dir = %self.opts.log_dir.display(), "findings log writable again; writing resumed");
                    }
                }
                Err(e) => {
                    st.pending.push_front(p);
                    st.file = None;
                    // Every record that has now failed its first write counts
                    // once as a write error; retries do not count again.
                    for q in st.pending.iter_mut().filter(|q| !q.failed_once) {
                        q.failed_once = true;
                        self.write_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    if st.last_error.is_none() {
                        tracing::warn!(log_dir = %self.opts.log_dir.display(), error = %e, "cannot write findings log; findings stay queryable in memory and are retried when the fault clears");
                    }
                    st.last_error = Some(format!(
                        "cannot write {}: {e}",
                        self.findings_path().display()
                    ));
                    return;
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
            ensure_private_dir(&self.opts.log_dir).map_err(PrivateDirError::into_io)?;
            let path = self.findings_path();
            let file = OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .mode(0o600)
                .open(&path)?;
            let meta = file.metadata()?;
            if meta.permissions().mode() & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
            }
            st.file_size = meta.len();
            st.torn_tail = ends_mid_line(&file, meta.len())?;
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
        // One write per whole line. A file left mid-line (a crash, or a
        // partial write that could not be cut back) first gets a newline, so
        // the torn piece never swallows this record.
        let mut buf;
        let bytes = if st.torn_tail {
            buf = Vec::with_capacity(line.len() + 1);
            buf.push(b'\n');
            buf.extend_from_slice(line);
            &buf[..]
        } else {
            line
        };
        let before = file.metadata()?.len();
        #[cfg(test)]
        let res = test_append(file, bytes, &mut st.space_left);
        #[cfg(not(test))]
        let res = file.write_all(bytes);
        if let Err(e) = res {
            // Cut a partial line back off. If that fails too, the reopen
            // before the next write sees the torn tail and starts afresh.
            let _ = file.set_len(before);
            return Err(e);
        }
        st.torn_tail = false;
        st.file_size = before + bytes.len() as u64;
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

/// Whether a file of `len` bytes does not end with a newline.
fn ends_mid_line(file: &File, len: u64) -> std::io::Result<bool> {
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)?;
    Ok(last[0] != b'\n')
}

/// The test seam of a filling disk: writes what fits, then fails like
/// ENOSPC, leaving a partial line behind as a real full disk does.
#[cfg(test)]
fn test_append(file: &mut File, bytes: &[u8], space_left: &mut Option<u64>) -> std::io::Result<()> {
    let Some(left) = space_left.as_mut() else {
        return file.write_all(bytes);
    };
    let fits = usize::try_from(*left)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    file.write_all(&bytes[..fits])?;
    *left -= fits as u64;
    if fits < bytes.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "No space left on device (test)",
        ));
    }
    Ok(())
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
    /// The operator's suppression list: matching findings are left out
    /// (and counted in [`FindingPage::ignored`]) unless `include_ignored`.
    pub ignore: Vec<crate::core::ignore::IgnoreEntry>,
    pub include_ignored: bool,
}

/// One page of findings, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingPage {
    pub findings: Vec<Finding>,
    pub next_cursor: Option<String>,
    /// Lines in the files that were neither a finding nor a count record
    /// (torn by a crash or a full disk); skipped, with what follows kept.
    pub skipped_lines: u64,
    /// Findings that passed the filters but match the suppression list
    /// (over the whole query, not just this page); left out of `findings`
    /// unless `include_ignored`.
    pub ignored: u64,
}

/// One parsed line of the findings JSONL. Lives for one line only, so the
/// size difference costs nothing that boxing (an allocation per line) would save.
#[allow(clippy::large_enum_variant)]
enum Record {
    Finding(Finding),
    Count(CountRecord),
}

fn parse_record(line: &[u8]) -> Option<Record> {
    if let Ok(f) = serde_json::from_slice::<Finding>(line) {
        return Some(Record::Finding(f));
    }
    serde_json::from_slice::<CountRecord>(line)
        .ok()
        .filter(|c| c.schema_version == COUNT_SCHEMA_VERSION)
        .map(Record::Count)
}

/// A damaged line: the whole record a torn piece may have been glued to
/// (by writers before the fresh-line fix). `{"schema_version"` cannot occur
/// inside a JSON string (quotes are escaped), so the last one starts a record.
fn salvage(line: &[u8]) -> Option<Record> {
    const START: &[u8] = b"{\"schema_version\"";
    let pos = line.windows(START.len()).rposition(|w| w == START)?;
    if pos == 0 {
        return None;
    }
    line.get(pos..).and_then(parse_record)
}

fn parse_time_bound(field: &'static str, value: &str, now: u64) -> Result<String, StoreError> {
    crate::core::time_bound::parse(value)
        .and_then(|b| b.to_timestamp(now))
        .map_err(|e| StoreError::Query {
            field,
            message: e.to_string(),
        })
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
    // Folded repeats per finding id from count records (largest wins), and
    // the ids whose repeats a later finding already carries.
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut superseded: HashSet<String> = HashSet::new();
    let mut skipped_lines = 0u64;
    let mut ignored = 0usize;
    let mut consider = |rec: Record, hits: &mut Vec<Finding>| match rec {
        Record::Finding(f) => {
            if let Some(r) = &f.repeats_of {
                superseded.insert(r.clone());
            }
            if filter.accepts(&f) && ids.insert(f.id.clone()) {
                hits.push(f);
            }
        }
        Record::Count(c) => {
            let n = counts.entry(c.finding_id).or_insert(0);
            *n = (*n).max(c.count);
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
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_record(&line) {
                Some(rec) => consider(rec, &mut hits),
                None => {
                    skipped_lines += 1;
                    if let Some(rec) = salvage(&line) {
                        consider(rec, &mut hits);
                    }
                }
            }
        }
    }
    for f in extra {
        consider(Record::Finding(f.clone()), &mut hits);
    }
    for f in &mut hits {
        if let Some(n) = counts.get(&f.id).filter(|_| !superseded.contains(&f.id)) {
            f.count = f.count.saturating_add(*n);
        }
    }
    if !q.ignore.is_empty() {
        let before = hits.len();
        if q.include_ignored {
            ignored = hits
                .iter()
                .filter(|f| crate::core::ignore::is_ignored(&q.ignore, f))
                .count();
        } else {
            hits.retain(|f| !crate::core::ignore::is_ignored(&q.ignore, f));
            ignored = before - hits.len();
        }
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
        skipped_lines,
        ignored: ignored as u64,
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
