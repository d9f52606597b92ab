//! Hardening of the detector core without sockets: every adversarial input
//! scans with work linear in its size, and no error built from hostile input
//! echoes the secret it was given.
//!
//! Work is counted, not timed: a counting allocator tallies the bytes and
//! allocations this thread makes while it scans (every decoded view, carry
//! buffer, match list and finding is an allocation), which is deterministic
//! and does not change on a loaded machine. Wall-clock ratios failed CI.
//!
//! The counting allocator is this binary's global allocator, so the tests
//! build only without the library's own (feature `mimalloc`).
#![cfg(not(feature = "mimalloc"))]

mod common;

use common::fake_aws_key;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Arc;

use traffic_guardian::core::config::ConfigInput;
use traffic_guardian::core::decode::{self, parse_content_encoding};
use traffic_guardian::core::finding::Direction;
use traffic_guardian::core::redact::SnippetMode;
use traffic_guardian::core::scan::{Detector, DetectorOptions, MessageHead, ScanContext};
use traffic_guardian::home_guardian::{GuardianError, HomeGuardian};
use traffic_guardian::proxy::parse_upstream_proxy;
use traffic_guardian::storage::store::{FindingQuery, FindingStore, StoreOptions};

const KIB: usize = 1024;

/// Counts this thread's allocations: (bytes requested, allocations).
struct CountingAlloc;

thread_local! {
    static ALLOCATED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn note_alloc(size: usize) {
    let _ = ALLOCATED.try_with(|c| {
        let (bytes, n) = c.get();
        c.set((bytes + size as u64, n + 1));
    });
}

// SAFETY: defers every operation to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: CountingAlloc = CountingAlloc;

/// The work `f` does on this thread: bytes allocated and allocations made.
fn work<T>(f: impl FnOnce() -> T) -> Work {
    let before = ALLOCATED.with(Cell::get);
    std::hint::black_box(f());
    let after = ALLOCATED.with(Cell::get);
    Work {
        bytes: after.0 - before.0,
        allocs: after.1 - before.1,
    }
}

#[derive(Debug, Clone, Copy)]
struct Work {
    bytes: u64,
    allocs: u64,
}

/// The larger of the two growth ratios from `small` to `large`.
fn growth(small: Work, large: Work) -> f64 {
    let r = |s: u64, l: u64| l as f64 / s.max(1) as f64;
    r(small.bytes.max(KIB as u64), large.bytes).max(r(small.allocs.max(16), large.allocs))
}

/// Inputs grow 16×: linear work grows about 16× (Vec doubling can add a
/// little), a quadratic blow-up 256×.
const MAX_GROWTH: f64 = 40.0;

fn detector() -> Arc<Detector> {
    Arc::new(
        Detector::builtin(DetectorOptions {
            // Large enough that the 1 MiB inputs are scanned whole.
            max_scan_bytes: 2 * KIB * KIB,
            snippet_mode: SnippetMode::Full,
            fingerprint_key: [3u8; 32],
            expected_destinations: BTreeMap::new(),
            ..traffic_guardian::system::detector_options()
        })
        .unwrap(),
    )
}

fn repeat_to(unit: &[u8], n: usize) -> Vec<u8> {
    unit.iter().copied().cycle().take(n).collect()
}

fn b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Random-looking but deterministic bytes (xorshift).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The adversarial families of the brief, each sized to `n` bytes.
fn adversarial(n: usize) -> Vec<(&'static str, Vec<u8>)> {
    // One long base64 run of text that itself decodes to more base64.
    let inner = b64(&repeat_to(
        b"aws_secret_access_key=AKIA ",
        3 * n / 4 / 4 * 3,
    ));
    let long_b64 = repeat_to(b64(inner.as_bytes()).as_bytes(), n);
    // Many base64 runs just above the minimum length, separated by spaces.
    let many_b64 = repeat_to(
        format!("{} ", b64(b"password=hunter2hunter2hunt")).as_bytes(),
        n,
    );
    // %25 nesting: every level decodes to another level of `%25`.
    let mut nested = repeat_to(b"%25", n - 2);
    nested.extend_from_slice(b"41");
    // Deep JSON escapes: `\u005c` decodes to a backslash, so the json view
    // of the json view is again full of escapes.
    let json = repeat_to(b"\\u005c\\u0075\\/", n);
    let entities = repeat_to(b"&#38;&#x23;&amp;&#65;", n);
    let akia = repeat_to(b"akia", n);
    let dev_tcp = repeat_to(b"/dev/tcp/", n);
    let curl = repeat_to(b"curl -d @", n);
    let ignore = repeat_to(b"ignore all previous ", n);
    let token_run = repeat_to(b"ghp_", n);
    let eyj = repeat_to(b"ops_eyJ", n);
    let random = noise(n, 0x9e37_79b9);
    vec![
        ("long base64 run", long_b64),
        ("many base64 runs", many_b64),
        ("nested percent %2525…", nested),
        ("deep JSON escapes", json),
        ("many HTML entities", entities),
        ("akia keyword hits", akia),
        ("/dev/tcp/ keyword hits", dev_tcp),
        ("curl -d @ repeated", curl),
        ("ignore all previous repeated", ignore),
        ("ghp_ repeated", token_run),
        ("ops_eyJ repeated", eyj),
        ("random bytes", random),
    ]
}

fn scan_work(d: &Arc<Detector>, direction: Direction, text: &[u8]) -> Work {
    let ctx = ScanContext::new(direction, "http", "test", "example.com:443");
    work(|| d.scan_text(&ctx, "body", text))
}

/// Scanning 1 MiB of any adversarial family costs < 40× the work of
/// scanning 64 KiB of it (16× the bytes): linear, not quadratic, whatever
/// the decoders nest.
#[test]
fn adversarial_inputs_scan_in_linear_time() {
    let d = detector();
    // Warm up: one-time allocations (regex caches) are not per-byte work.
    for direction in [Direction::Outbound, Direction::Inbound] {
        scan_work(&d, direction, b"warm up AKIA ghp_ %25 &amp; \\u005c");
    }
    let small = adversarial(64 * KIB);
    let large = adversarial(KIB * KIB);
    let mut failures = Vec::new();
    for ((name, s), (_, l)) in small.iter().zip(large.iter()) {
        for direction in [Direction::Outbound, Direction::Inbound] {
            let ws = scan_work(&d, direction, s);
            let wl = scan_work(&d, direction, l);
            let ratio = growth(ws, wl);
            eprintln!("{name:32} {direction:?}: 64 KiB {ws:?}, 1 MiB {wl:?}, x{ratio:.1}");
            if ratio >= MAX_GROWTH {
                failures.push(format!(
                    "{name} {direction:?}: {ws:?} -> {wl:?} (x{ratio:.1})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "superlinear scans: {failures:#?}");
}

/// Streaming the same 1 MiB in 1 KiB frames stays linear too (the carry-over
/// window is rescanned once per frame, never the whole body).
#[test]
fn streamed_adversarial_bodies_scan_in_linear_time() {
    let d = detector();
    let run = |body: &[u8]| {
        work(|| {
            let mut insp = d.body_inspector(
                ScanContext::new(Direction::Outbound, "http", "t", "example.com:443"),
                "body",
                None,
            );
            for chunk in body.chunks(KIB) {
                std::hint::black_box(insp.feed(chunk));
            }
            insp.finish()
        })
    };
    run(b"warm up AKIA ghp_ %25 &amp;");
    for ((name, s), (_, l)) in adversarial(64 * KIB)
        .iter()
        .zip(adversarial(KIB * KIB).iter())
    {
        let (ws, wl) = (run(s), run(l));
        let ratio = growth(ws, wl);
        eprintln!("streamed {name:32}: {ws:?} -> {wl:?} (x{ratio:.1})");
        assert!(
            ratio < MAX_GROWTH,
            "{name}: streamed scan is superlinear: {ws:?} -> {wl:?}"
        );
    }
}

/// Decoders alone: output bounded by the input, work linear.
#[test]
fn decoders_are_bounded_and_linear() {
    type Dec = fn(&[u8]) -> Option<Vec<u8>>;
    let decs: [(&str, Dec); 4] = [
        ("percent", decode::percent_decode),
        ("json", decode::json_unescape),
        ("html", decode::html_unescape),
        ("base64", decode::base64_segments),
    ];
    for ((name, s), (_, l)) in adversarial(64 * KIB)
        .iter()
        .zip(adversarial(KIB * KIB).iter())
    {
        for (dname, f) in decs {
            let (mut out_s, mut out_l) = (None, None);
            let ws = work(|| out_s = f(s));
            let wl = work(|| out_l = f(l));
            for (out, inp) in [(&out_s, s), (&out_l, l)] {
                if let Some(o) = out {
                    assert!(o.len() <= inp.len(), "{dname} grew {name}");
                }
            }
            assert!(
                growth(ws, wl) < MAX_GROWTH,
                "{dname} on {name}: {ws:?} -> {wl:?}"
            );
        }
    }
}

fn fake_token() -> String {
    format!("tgtok_{}", common::fake::hex(48))
}

fn assert_clean(what: &str, text: &str, secret: &str) {
    assert!(
        !text.contains(secret),
        "{what} echoes the secret it was given: {}",
        text.replace(secret, "<SECRET>")
    );
}

fn input(home: &std::path::Path, overrides: serde_json::Value) -> ConfigInput {
    let mut env = BTreeMap::new();
    env.insert("HOME".to_owned(), home.display().to_string());
    ConfigInput {
        env,
        config_path: None,
        overrides,
    }
}

/// Config errors about secret-bearing fields never repeat the secret: not in
/// messages, hints, `effective`, Debug, `ConfigError` or `GuardianError`.
#[test]
fn config_errors_never_echo_secrets() {
    let home = tempfile::tempdir().unwrap();
    let tok = fake_token();
    let pw = fake_token();
    let cases: Vec<(&str, serde_json::Value)> = vec![
        // A token that is too short to be accepted.
        (
            "short token",
            serde_json::json!({"mode": "detect", "runtimes": [{"name": "a", "token": &tok[..10]}]}),
        ),
        (
            "token with a space",
            serde_json::json!({"mode": "detect", "runtimes": [{"name": "a", "token": format!("{tok} x")}]}),
        ),
        (
            "duplicate tokens",
            serde_json::json!({"mode": "detect", "runtimes": [{"name": "a", "token": tok}, {"name": "b", "token": tok}]}),
        ),
        (
            "token as a number-like string with a bad name",
            serde_json::json!({"mode": "detect", "runtimes": [{"name": "", "token": tok, "extra": 1}]}),
        ),
        (
            "upstream proxy with bad scheme",
            serde_json::json!({"mode": "detect", "upstream_proxy": format!("ftp://user:{pw}@127.0.0.1:3128")}),
        ),
        (
            "upstream proxy with bad port",
            serde_json::json!({"mode": "detect", "upstream_proxy": format!("http://user:{pw}@127.0.0.1:99999")}),
        ),
        (
            "upstream proxy with path",
            serde_json::json!({"mode": "detect", "upstream_proxy": format!("http://u:{pw}@proxy.local:3128/x?y")}),
        ),
    ];
    for (what, overrides) in cases {
        let i = input(home.path(), overrides);
        let report = traffic_guardian::storage::config_fs::check(&i);
        let shown = serde_json::to_string(&report).unwrap();
        let secret: &str = if shown.contains(&pw) || what.starts_with("upstream") {
            &pw
        } else {
            &tok
        };
        let secret_short = &secret[..10];
        let check = |label: &str, s: &str| {
            assert_clean(&format!("{what}: {label}"), s, secret);
            if what == "short token" {
                assert_clean(&format!("{what}: {label}"), s, secret_short);
            }
        };
        check("report", &shown);
        check("report Debug", &format!("{report:?}"));
        check("ConfigInput Debug", &format!("{i:?}"));
        let err = traffic_guardian::storage::config_fs::check(&i)
            .into_result()
            .err();
        if let Some(e) = &err {
            check("ConfigError", &e.to_string());
            check("ConfigError Debug", &format!("{e:?}"));
        }
        match HomeGuardian::from_input(&i) {
            Err(e) => {
                check("GuardianError", &e.to_string());
                check("GuardianError Debug", &format!("{e:?}"));
            }
            Ok(g) => check("GuardianStatus", &format!("{:?}", g.status())),
        }
    }
    // An accepted config: the token works but is never shown.
    let ok = input(
        home.path(),
        serde_json::json!({"mode": "detect", "listen": "127.0.0.1:0",
            "runtimes": [{"name": "a", "token": tok}],
            "upstream_proxy": format!("http://user:{pw}@127.0.0.1:3128")}),
    );
    let report = traffic_guardian::storage::config_fs::check(&ok);
    assert!(report.ok, "{:?}", report.errors);
    for s in [&tok, &pw] {
        assert_clean("effective", &report.effective.to_string(), s);
        assert_clean("config Debug", &format!("{:?}", report.config), s);
    }
    let g = HomeGuardian::from_input(&ok).unwrap();
    for s in [&tok, &pw] {
        assert_clean("status", &format!("{:?}", g.status()), s);
        assert_clean("Guardian Debug", &format!("{g:?}"), s);
    }
}

/// Errors from the upstream proxy parser, content-encoding parser and
/// finding queries never repeat a secret handed to them.
#[test]
fn other_errors_never_echo_input_secrets() {
    let pw = fake_token();
    for url in [
        format!("http://user:{pw}@[::1"),
        format!("gopher://user:{pw}@127.0.0.1:70"),
        format!("http://user:{pw}@127.0.0.1:notaport"),
        format!("http://user:{pw}@"),
        format!("user:{pw}@127.0.0.1:3128"),
        format!("http://user:{pw}@127.0.0.1:3128/path"),
        format!("http://user:{pw}@exa mple:3128"),
    ] {
        if let Err(e) = parse_upstream_proxy(&url) {
            assert_clean("parse_upstream_proxy error", &e.to_string(), &pw);
            assert_clean("parse_upstream_proxy error Debug", &format!("{e:?}"), &pw);
        }
    }
    let key = fake_aws_key();
    let e = parse_content_encoding(&format!("gzip, {key}")).unwrap_err();
    assert_clean("content-encoding error", &e.to_string(), &key);

    let dir = tempfile::tempdir().unwrap();
    let store = FindingStore::open(StoreOptions {
        log_dir: dir.path().join("logs"),
        rotate_bytes: 1 << 20,
        rotate_keep: 2,
        ring_capacity: 100,
        dedup_window_ms: 0,
    })
    .unwrap();
    let queries = [
        FindingQuery {
            since: Some(key.clone()),
            ..Default::default()
        },
        FindingQuery {
            until: Some(format!("{key}d")),
            ..Default::default()
        },
        FindingQuery {
            cursor: Some(key.clone()),
            ..Default::default()
        },
    ];
    for q in queries {
        if let Err(e) = store.query(&q) {
            assert_clean("query error", &e.to_string(), &key);
        }
    }
}

/// A panic inside the scanner would carry its message to the host's logs:
/// hostile bytes never reach a panic, and the scanner's own Debug output of
/// an inspector holds no body bytes.
#[test]
fn scanner_debug_output_holds_no_input() {
    let d = detector();
    let key = fake_aws_key();
    let body = format!("aws_access_key_id={key}&x=1");
    let mut insp = d.body_inspector(
        ScanContext::new(Direction::Outbound, "http", "t", "example.com:443"),
        "body",
        Some("gzip"),
    );
    let _ = insp.feed(body.as_bytes());
    assert_clean("BodyInspector Debug", &format!("{insp:?}"), &key);
    assert_clean("Detector Debug", &format!("{d:?}"), &key);
    let head = MessageHead {
        method: Some("POST"),
        url: Some("http://example.com/"),
        status: None,
        headers: vec![("x-api-key", key.as_bytes())],
    };
    assert_clean("MessageHead Debug", &format!("{:?}", head.method), &key);
    let (findings, _) = d.scan_message(
        &ScanContext::new(Direction::Outbound, "http", "t", "example.com:443"),
        &head,
        body.as_bytes(),
    );
    assert!(!findings.is_empty(), "the planted key is found");
    for f in findings {
        assert_clean("finding", &serde_json::to_string(&f).unwrap(), &key);
    }
}

/// `GuardianError` for a mode-off config says how to opt in, nothing more.
#[test]
fn guardian_error_messages_are_static() {
    let home = tempfile::tempdir().unwrap();
    let tok = fake_token();
    let i = input(
        home.path(),
        serde_json::json!({"mode": "off", "listen": "127.0.0.1:0", "runtimes": [{"name": "a", "token": tok}]}),
    );
    let g = HomeGuardian::from_input(&i).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt.block_on(g.start()).unwrap_err();
    assert!(matches!(e, GuardianError::ModeOff));
    assert_clean("ModeOff", &e.to_string(), &tok);
}
