//! The detection core (`src/core`) is a pure function of bytes and context:
//! it opens no file, reads no clock and draws no randomness. Those live at
//! the edges, `src/storage` (files) and `src/system.rs` (clock, randomness),
//! which the core's own code does not call. This test reads the core's
//! source and fails naming each file and line that crosses the line.

use std::path::{Path, PathBuf};

/// What the core must not use anywhere, tests included.
const FORBIDDEN: &[(&str, &str)] = &[
    ("std::fs", "file IO"),
    ("fs::", "file IO"),
    ("File::", "file IO"),
    ("OpenOptions", "file IO"),
    ("DirBuilder", "file IO"),
    ("SystemTime", "the wall clock"),
    ("UNIX_EPOCH", "the wall clock"),
    ("Instant::now", "the clock"),
    ("now_utc", "the wall clock"),
    ("OffsetDateTime::now", "the wall clock"),
    ("getrandom", "OS randomness"),
    ("rand::", "randomness"),
    ("OsRng", "OS randomness"),
    ("thread_rng", "randomness"),
    ("current_dir", "process state"),
];

/// What the core's non-test code must not call: the edges themselves (a
/// core test may use them to build real inputs).
const EDGES: &[&str] = &["crate::storage", "crate::system"];

/// Files still doing IO, each with the reason; the list may only shrink.
/// It is empty: config loading asks a `ConfigFs` port (the real one is
/// `src/storage/config_fs.rs`) instead of opening files itself.
const ALLOWED: &[(&str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot list {}", dir.display());
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Whether a file holds only tests (`tests.rs`, `catalog_tests.rs`, …).
fn is_test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == "tests.rs" || name.ends_with("_tests.rs")
}

/// The crossings in one file's source: `(line number, needle, what)`.
/// Comments are skipped; the edge rule skips `#[cfg(test)] mod … { … }`
/// blocks (rustfmt closes a top-level block with `}` in column 0).
fn crossings(source: &str, test_file: bool) -> Vec<(usize, &'static str, &'static str)> {
    let mut out = Vec::new();
    let mut in_test = test_file;
    let mut after_cfg_test = false;
    for (i, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if !test_file {
            if after_cfg_test && code.starts_with("mod ") && code.ends_with('{') {
                in_test = true;
            }
            if in_test && !test_file && line.starts_with('}') {
                in_test = false;
            }
            after_cfg_test = code.starts_with("#[cfg(test)]");
        }
        if code.starts_with("//") {
            continue;
        }
        for (needle, what) in FORBIDDEN {
            if code.contains(needle) {
                out.push((i + 1, *needle, *what));
            }
        }
        if !in_test {
            for needle in EDGES {
                if code.contains(needle) {
                    out.push((i + 1, *needle, "an edge module"));
                }
            }
        }
    }
    out
}

#[test]
fn the_core_does_no_file_io_reads_no_clock_and_draws_no_randomness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    assert!(files.len() > 20, "src/core looks empty: {files:?}");
    let mut problems = Vec::new();
    let mut still_needed = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let source = std::fs::read_to_string(f).unwrap_or_default();
        let found = crossings(&source, is_test_file(&rel));
        if ALLOWED.iter().any(|(a, _)| *a == rel) {
            if !found.is_empty() {
                still_needed.push(rel);
            }
            continue;
        }
        for (line, needle, what) in found {
            problems.push(format!(
                "src/core/{rel}:{line}: `{needle}` ({what}); move it to src/storage or src/system.rs and inject it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the detection core must stay pure:\n{}",
        problems.join("\n")
    );
    for (a, why) in ALLOWED {
        assert!(
            still_needed.iter().any(|s| s == a),
            "src/core/{a} no longer needs its exemption ({why}): remove it from ALLOWED"
        );
    }
}

#[test]
fn the_scan_sees_each_kind_of_crossing_and_skips_comments_and_test_blocks() {
    let src = "use std::fs;\n\
               // std::time::SystemTime in a comment is fine\n\
               fn a() { let t = std::time::SystemTime::now(); }\n\
               fn b() { getrandom::fill(&mut k); }\n\
               fn c() { crate::system::timestamp_now(); }\n\
               #[cfg(test)]\n\
               mod tests {\n    fn t() { crate::system::random_key(); }\n}\n\
               fn d() { crate::storage::ensure_private_dir(p); }\n";
    let found = crossings(src, false);
    let lines: Vec<usize> = found.iter().map(|c| c.0).collect();
    // The edge call inside the test block (line 8) is allowed; the rest not.
    assert_eq!(lines, vec![1, 3, 4, 5, 10], "{found:?}");
    // In a test-only file the edges may be used, the forbidden calls not.
    let found = crossings(
        "fn t() { crate::system::random_key(); std::fs::read(p); }",
        true,
    );
    assert_eq!(found.len(), 2, "{found:?}");
}
