use super::*;
use crate::core::finding::{PLATFORM, SCHEMA_VERSION};
use crate::system::{new_finding_id, timestamp_now};

fn finding(fp: &str, source: &str, severity: Severity) -> Finding {
    Finding {
        schema_version: SCHEMA_VERSION.into(),
        platform: PLATFORM.into(),
        id: new_finding_id(),
        direction: Direction::Outbound,
        protocol: "http".into(),
        threat_type: ThreatType::Exfil,
        pattern: "aws_access_key_id".into(),
        severity,
        source: source.into(),
        dest: "paste.example:443".into(),
        location: "body".into(),
        snippet: "x [REDACTED:aws_access_key_id] y".into(),
        fingerprint: fp.into(),
        count: 1,
        decoded: None,
        context: Default::default(),
        timestamp: timestamp_now(),
        rule: None,
        repeats_of: None,
    }
}

fn opts(dir: &Path) -> StoreOptions {
    StoreOptions {
        log_dir: dir.join("logs"),
        rotate_bytes: 1 << 20,
        rotate_keep: 3,
        ring_capacity: 1000,
        dedup_window_ms: 60_000,
    }
}

#[test]
fn writes_private_jsonl_and_queries_newest_first_with_paging() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    for i in 0..25 {
        store.record_findings(vec![finding(
            &format!("fp{i}"),
            if i % 2 == 0 { "main" } else { "other" },
            Severity::High,
        )]);
    }
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&tmp.path().join("logs")), 0o700);
    assert_eq!(mode(&store.findings_path()), 0o600);
    let text = fs::read_to_string(store.findings_path()).unwrap();
    assert_eq!(text.lines().count(), 25);

    let mut seen = Vec::new();
    let mut q = FindingQuery {
        limit: Some(10),
        ..Default::default()
    };
    loop {
        let page = store.query(&q).unwrap();
        seen.extend(
            page.findings
                .iter()
                .map(|f| (f.timestamp.clone(), f.id.clone())),
        );
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first, no duplicates across pages");

    let only_main = store
        .query(&FindingQuery {
            sources: Some(vec!["main".into()]),
            limit: Some(100),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(only_main.findings.len(), 13);
    assert!(only_main.findings.iter().all(|f| f.source == "main"));
}

#[test]
fn dedup_folds_repeats_and_close_emits_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    let seen = Arc::new(Mutex::new(0u64));
    let s2 = Arc::clone(&seen);
    store.set_listener(Some(Arc::new(move |f: &Finding| {
        *s2.lock().unwrap() += f.count;
    })));
    for _ in 0..5 {
        store.record_findings(vec![finding("same", "main", Severity::High)]);
    }
    store.record_findings(vec![finding("other", "main", Severity::High)]);
    assert_eq!(store.stats().findings_written, 2);
    store.close();
    let page = query_dir(&tmp.path().join("logs"), &FindingQuery::default(), &[]).unwrap();
    let total: u64 = page.findings.iter().map(|f| f.count).sum();
    assert_eq!(total, 6);
    assert_eq!(*seen.lock().unwrap(), 6);
}

#[test]
fn rotation_keeps_a_bounded_number_of_files_and_whole_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts(tmp.path());
    o.rotate_bytes = 4096;
    o.rotate_keep = 2;
    o.dedup_window_ms = 0;
    let store = FindingStore::open(o).unwrap();
    for i in 0..200 {
        store.record_findings(vec![finding(&format!("{i}"), "s", Severity::Low)]);
    }
    let logs = tmp.path().join("logs");
    let files = findings_files(&logs);
    assert_eq!(files.len(), 3);
    assert!(!logs.join("findings.3.jsonl").exists());
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        assert!(text.len() <= 4096);
        for line in text.lines() {
            serde_json::from_str::<Finding>(line).unwrap();
        }
    }
}

#[test]
fn torn_last_line_and_bad_filters_are_handled() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    store.record_findings(vec![
        finding("a", "s", Severity::Critical),
        finding("b", "s", Severity::Low),
    ]);
    let mut f = OpenOptions::new()
        .append(true)
        .open(store.findings_path())
        .unwrap();
    f.write_all(b"{\"schema_version\":\"clawsec-traffic-fin")
        .unwrap();
    let logs = tmp.path().join("logs");
    let page = query_dir(&logs, &FindingQuery::default(), &[]).unwrap();
    assert_eq!(page.findings.len(), 2);
    let crit = query_dir(
        &logs,
        &FindingQuery {
            min_severity: Some("high".into()),
            since: Some("1h".into()),
            ..Default::default()
        },
        &[],
    )
    .unwrap();
    assert_eq!(crit.findings.len(), 1);
    let future = query_dir(
        &logs,
        &FindingQuery {
            since: Some("2999-01-01T00:00:00Z".into()),
            ..Default::default()
        },
        &[],
    )
    .unwrap();
    assert!(future.findings.is_empty());
    for (q, field) in [
        (
            FindingQuery {
                since: Some("yesterday".into()),
                ..Default::default()
            },
            "since",
        ),
        (
            FindingQuery {
                direction: Some("sideways".into()),
                ..Default::default()
            },
            "direction",
        ),
        (
            FindingQuery {
                cursor: Some("@@".into()),
                ..Default::default()
            },
            "cursor",
        ),
    ] {
        let e = query_dir(&logs, &q, &[]).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
}

#[test]
fn unwritable_log_dir_keeps_findings_in_memory_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    let logs = tmp.path().join("logs");
    // A directory where the file should be: opening fails even as root.
    fs::create_dir(store.findings_path()).unwrap();
    store.record_findings(vec![finding("a", "s", Severity::High)]);
    store.record_findings(vec![finding("b", "s", Severity::High)]);
    let stats = store.stats();
    assert_eq!(stats.write_errors, 2);
    assert!(stats.last_error.is_some());
    assert_eq!(
        store
            .query(&FindingQuery::default())
            .unwrap()
            .findings
            .len(),
        1 + 1
    );
    fs::remove_dir(store.findings_path()).unwrap();
    store.record_findings(vec![finding("c", "s", Severity::High)]);
    assert_eq!(store.stats().last_error, None);
    // The two held back are written first, then the new one.
    assert_eq!(
        fs::read_to_string(logs.join(FINDINGS_FILE))
            .unwrap()
            .lines()
            .count(),
        3
    );
    assert_eq!(store.stats().findings_written, 3);
}

/// Every line of the current file is a whole finding or count record.
fn assert_whole_lines(path: &Path) -> Vec<Finding> {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "ends mid-line: {text:?}"
    );
    let mut out = Vec::new();
    for line in text.lines() {
        match serde_json::from_str::<Finding>(line) {
            Ok(f) => out.push(f),
            Err(_) => {
                let c: CountRecord = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
                assert_eq!(c.schema_version, COUNT_SCHEMA_VERSION);
            }
        }
    }
    out
}

#[test]
fn a_write_that_fills_the_disk_leaves_no_torn_line_and_is_retried_once_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    let a = finding("a", "s", Severity::High);
    let room = serde_json::to_vec(&a).unwrap().len() as u64 + 1 + 40;
    store.set_space_left(Some(room));
    store.record_findings(vec![a]);
    // Only 40 bytes fit: the disk takes part of the line, then fails.
    store.record_findings(vec![finding("b", "s", Severity::High)]);
    store.record_findings(vec![finding("c", "s", Severity::High)]);
    let st = store.stats();
    assert_eq!(
        (
            st.findings_written,
            st.write_errors,
            st.pending_writes,
            st.dropped_writes
        ),
        (1, 2, 2, 0)
    );
    assert!(st.last_error.unwrap().contains("No space left"));
    assert_eq!(assert_whole_lines(&store.findings_path()).len(), 1);
    // Still queryable from memory meanwhile.
    assert_eq!(
        store
            .query(&FindingQuery::default())
            .unwrap()
            .findings
            .len(),
        3
    );

    // Space returns: the next tick writes the held-back findings, in order.
    store.set_space_left(None);
    store.tick();
    store.record_findings(vec![finding("d", "s", Severity::High)]);
    let st = store.stats();
    assert_eq!(
        (
            st.findings_written,
            st.write_errors,
            st.pending_writes,
            st.dropped_writes
        ),
        (4, 2, 0, 0)
    );
    assert_eq!(st.last_error, None);
    let on_disk = assert_whole_lines(&store.findings_path());
    let fps: Vec<&str> = on_disk.iter().map(|f| f.fingerprint.as_str()).collect();
    assert_eq!(fps, ["a", "b", "c", "d"]);
    let page = query_dir(&tmp.path().join("logs"), &FindingQuery::default(), &[]).unwrap();
    assert_eq!((page.findings.len(), page.skipped_lines), (4, 0));
}

#[test]
fn retry_queue_overflow_counts_as_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    store.set_space_left(Some(0));
    let n = PENDING_WRITE_CAPACITY + 3;
    for i in 0..n {
        store.record_findings(vec![finding(&format!("f{i}"), "s", Severity::Low)]);
    }
    let st = store.stats();
    assert_eq!(st.write_errors, n as u64);
    assert_eq!(st.pending_writes, PENDING_WRITE_CAPACITY as u64);
    assert_eq!(st.dropped_writes, 3);
    store.set_space_left(None);
    store.tick();
    let st = store.stats();
    assert_eq!(st.pending_writes, 0);
    assert_eq!(st.dropped_writes, 3);
    assert_eq!(st.findings_written, PENDING_WRITE_CAPACITY as u64);
    let on_disk = assert_whole_lines(&store.findings_path());
    assert_eq!(on_disk.len(), PENDING_WRITE_CAPACITY);
    // The oldest were dropped; the newest survive.
    assert_eq!(on_disk[0].fingerprint, "f3");
}

#[test]
fn a_torn_line_mid_file_is_skipped_and_the_findings_after_it_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    let line = |fp: &str| serde_json::to_string(&finding(fp, "s", Severity::High)).unwrap();
    let b = line("b");
    // As a full disk left it on the old writer: half a line, then the next
    // finding glued onto it; and a torn piece on a line of its own.
    let text = format!(
        "{}\n{}{}\n{}\n{}\n{}\n",
        line("a"),
        &b[..b.len() / 2],
        line("c"),
        line("d"),
        &b[..30],
        line("e"),
    );
    fs::write(logs.join(FINDINGS_FILE), text).unwrap();
    let page = query_dir(&logs, &FindingQuery::default(), &[]).unwrap();
    let mut fps: Vec<&str> = page
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    fps.sort_unstable();
    assert_eq!(fps, ["a", "c", "d", "e"]);
    assert_eq!(page.skipped_lines, 2);
}

#[test]
fn a_file_left_mid_line_by_a_crash_gets_a_fresh_line_before_the_next_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    store.record_findings(vec![finding("a", "s", Severity::High)]);
    drop(store);
    let path = tmp.path().join("logs").join(FINDINGS_FILE);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"{\"schema_version\":\"clawsec-traffic-finding/v1\",\"severit")
        .unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    store.record_findings(vec![finding("b", "s", Severity::High)]);
    let page = store.query(&FindingQuery::default()).unwrap();
    assert_eq!(page.findings.len(), 2);
    assert_eq!(page.skipped_lines, 1);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.ends_with("}\n"));
}

fn occurrences(logs: &Path) -> (usize, u64) {
    let page = query_dir(logs, &FindingQuery::default(), &[]).unwrap();
    assert_eq!(page.skipped_lines, 0);
    (
        page.findings.len(),
        page.findings.iter().map(|f| f.count).sum(),
    )
}

#[test]
fn folded_counts_survive_a_crash_through_count_records() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    for _ in 0..5 {
        store.record_findings(vec![finding("same", "s", Severity::High)]);
    }
    store.record_findings(vec![finding("other", "s", Severity::High)]);
    for _ in 0..COUNT_CHECKPOINT_TICKS {
        store.tick();
    }
    // Two more repeats after the checkpoint, then another checkpoint.
    store.record_findings(vec![finding("same", "s", Severity::High)]);
    store.record_findings(vec![finding("same", "s", Severity::High)]);
    for _ in 0..COUNT_CHECKPOINT_TICKS {
        store.tick();
    }
    // A crash: the store goes away without close().
    drop(store);
    assert_eq!(occurrences(&logs), (2, 8));
    assert_eq!(assert_whole_lines(&logs.join(FINDINGS_FILE)).len(), 2);

    // After a restart, the in-process query combines them the same way.
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    let page = store.query(&FindingQuery::default()).unwrap();
    assert_eq!(page.findings.iter().map(|f| f.count).sum::<u64>(), 8);
}

#[test]
fn a_summary_supersedes_count_records_so_nothing_is_counted_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    for _ in 0..5 {
        store.record_findings(vec![finding("same", "s", Severity::High)]);
    }
    for _ in 0..COUNT_CHECKPOINT_TICKS {
        store.tick();
    }
    for _ in 0..3 {
        store.record_findings(vec![finding("same", "s", Severity::High)]);
    }
    let summary = store.close();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].count, 7);
    assert!(summary[0].repeats_of.is_some());
    assert_eq!(occurrences(&logs), (2, 8));
    // Readers that know no count records (they skip them as unparseable)
    // see the findings alone, which never over-count.
    let plain: u64 = assert_whole_lines(&logs.join(FINDINGS_FILE))
        .iter()
        .map(|f| f.count)
        .sum();
    assert_eq!(plain, 8);
    // Nothing folded since the last checkpoint: no new count record.
    let text = fs::read_to_string(logs.join(FINDINGS_FILE)).unwrap();
    assert_eq!(text.matches(COUNT_SCHEMA_VERSION).count(), 1);
}

/// The same fault on a real full filesystem (a 64 KiB tmpfs), where root
/// may mount one; skipped elsewhere.
#[test]
fn a_real_full_tmpfs_leaves_whole_lines_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let mut o = opts(&mnt);
    o.dedup_window_ms = 0;
    let store = FindingStore::open(o).unwrap();
    let filler = mnt.join("filler");
    let _ = fs::write(&filler, vec![0u8; 60 * 1024]);
    let mut n = 0;
    while store.stats().write_errors == 0 && n < 200 {
        store.record_findings(vec![finding(&format!("f{n}"), "s", Severity::Low)]);
        n += 1;
    }
    store.record_findings(vec![finding("late", "s", Severity::Low)]);
    n += 1;
    assert!(store.stats().pending_writes >= 2, "{:?}", store.stats());
    assert_whole_lines(&store.findings_path());
    fs::remove_file(&filler).unwrap();
    store.tick();
    let st = store.stats();
    assert_eq!((st.pending_writes, st.dropped_writes), (0, 0));
    assert_eq!(st.findings_written, n as u64);
    assert_eq!(assert_whole_lines(&store.findings_path()).len(), n);
    let page = query_dir(
        &mnt.join("logs"),
        &FindingQuery {
            limit: Some(1000),
            ..Default::default()
        },
        &[],
    )
    .unwrap();
    assert_eq!((page.findings.len(), page.skipped_lines), (n, 0));
}

/// The suppression list applies before the page limit: a page is full of
/// unsuppressed findings, and `ignored` counts the whole query.
#[test]
fn suppressed_findings_are_left_out_before_paging_and_counted() {
    use crate::core::ignore::IgnoreEntry;
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore::open(opts(tmp.path())).unwrap();
    for i in 0..30 {
        let fp = if i % 3 == 0 { "known" } else { "fresh" };
        store.record_findings(vec![finding(&format!("{fp}{i}"), "main", Severity::High)]);
    }
    let ignore = vec![IgnoreEntry {
        id: "ign_000000000000".into(),
        fingerprint: Some("known0".into()),
        ..IgnoreEntry::default()
    }];
    let mut known_by_source = ignore.clone();
    known_by_source.push(IgnoreEntry {
        id: "ign_000000000001".into(),
        source: Some("main".into()),
        rule: Some("aws_access_key_id".into()),
        ..IgnoreEntry::default()
    });
    let page = store
        .query(&FindingQuery {
            limit: Some(29),
            ignore: ignore.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((page.findings.len(), page.ignored), (29, 1));
    assert!(page.next_cursor.is_none());
    assert!(page.findings.iter().all(|f| f.fingerprint != "known0"));
    let all = store
        .query(&FindingQuery {
            limit: Some(100),
            ignore: known_by_source,
            include_ignored: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((all.findings.len(), all.ignored), (30, 30));
}
