use super::*;
use crate::core::finding::{timestamp_now, PLATFORM, SCHEMA_VERSION};
use crate::core::scan::new_finding_id;

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
        timestamp: timestamp_now(),
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
    assert_eq!(
        fs::read_to_string(logs.join(FINDINGS_FILE))
            .unwrap()
            .lines()
            .count(),
        1
    );
}
