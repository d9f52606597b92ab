//! Detector throughput on the realistic corpus, class × direction, in a few
//! seconds: a quick figure to watch while optimising the detector.
//!
//! Run: `node scripts/bench.mjs --scanner`, or
//! `cargo run --release --target x86_64-unknown-linux-gnu --example scan_corpus -- [--cap-mib 4] [--secs 0.3]`.
//!
//! Each body is scanned through `Detector::scan_message` (head + body, as the
//! proxy does) in 1 MiB pieces, one thread, default options. Figures are
//! MB/s (10^6 bytes/s): wall clock, and per second of this thread's own CPU
//! time (which other processes on a shared machine do not inflate).
//! `--rules` also lists the rule ids that fired per class, with counts;
//! `--snippets` prints every finding's rule and (redacted) snippet.
//! `--known N` registers N random known-secret values (12 to 64 bytes, a
//! quarter of them hex) with the detector, as `known_secrets_file` would,
//! and also times the known-secret pass alone over each class (raw bytes,
//! one view) in CPU ns/byte.
//! `--passes N` scans each class exactly N times instead of for `--secs`:
//! fixed work, to count cycles and instructions with `perf stat` on a
//! machine too busy for timings to mean anything.
//! `--only CLASS` measures one class and `--dir out|in` one direction (for
//! profiling one case under `perf record`).
//! `--other-thread` first scans every class once on the main thread, then
//! measures on another, as the proxy's scan pool threads run: a lazily
//! filled cache shared through a pool (the regex crate's) is fastest on the
//! first thread that used it, which the plain run measures on.
//! `--without RULE` measures what one rule costs: the built-in detector and
//! the same without `RULE`, in this process, one pass each in turn for
//! `--rounds N` (default 20) rounds per class and direction, so a shared
//! machine's drift hits both alike (two runs of one binary differ by up to
//! 20 % there). Prints the best and median pass of each, in CPU MB/s.
use std::sync::Arc;
use std::time::{Duration, Instant};

use traffic_guardian::core::finding::Direction;
use traffic_guardian::core::known_secrets::{KnownSecrets, SecretLabel};
use traffic_guardian::core::scan::{Detector, MessageHead, ScanContext};

#[path = "../benches/common/corpus.rs"]
mod corpus;

fn arg(args: &[String], name: &str, default: f64) -> Result<f64, String> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .ok_or(format!("{name} needs a value"))?
            .parse::<f64>()
            .map_err(|e| format!("{name}: {e} (expected a number)")),
        None => Ok(default),
    }
}

fn main() {
    // The addon's allocator options, as Node's load of it sets them.
    traffic_guardian::allocator::tune();
    if let Err(e) = run() {
        eprintln!("scan_corpus: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cap = (arg(&args, "--cap-mib", 4.0)? * (1 << 20) as f64) as usize;
    let min_time = Duration::from_secs_f64(arg(&args, "--secs", 0.3)?);
    let passes = arg(&args, "--passes", 0.0)? as usize;
    let list_rules = args.iter().any(|a| a == "--rules");
    let snippets = args.iter().any(|a| a == "--snippets");
    let text_arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let only = text_arg("--only");
    let dirs: Vec<Direction> = match text_arg("--dir").as_deref() {
        None => vec![Direction::Outbound, Direction::Inbound],
        Some("out") => vec![Direction::Outbound],
        Some("in") => vec![Direction::Inbound],
        Some(d) => return Err(format!("--dir {d}: expected out or in")),
    };

    let t = Instant::now();
    let corpus = corpus::build(&corpus::Sources::machine(), cap);
    let built = t.elapsed();
    let known = arg(&args, "--known", 0.0)? as usize;
    let mut opts = traffic_guardian::system::detector_options();
    let t = Instant::now();
    if known > 0 {
        let mut ks = KnownSecrets::new(&opts.fingerprint_key);
        for i in 0..known {
            let label = SecretLabel::Known {
                name: format!("SECRET_{i}"),
                expected_hosts: Vec::new(),
            };
            ks.register(label, &random_value(i))
                .map_err(|e| format!("known secret: {e}"))?;
        }
        opts.known_secrets = Some(Arc::new(ks));
    }
    let registered = t.elapsed();
    let det = Arc::new(Detector::builtin(opts).map_err(|e| format!("built-in rules: {e}"))?);
    if known > 0 {
        println!(
            "known secrets: {known} values registered in {:.3}s",
            registered.as_secs_f64()
        );
    }
    println!(
        "corpus built in {:.2}s (cap {:.1} MiB per class); detector: built-in rules, scan_message, {} KiB pieces, one thread; allocator: {}",
        built.as_secs_f64(),
        cap as f64 / (1 << 20) as f64,
        corpus::PIECE >> 10,
        // `cargo test` rebuilds this example without `--features mimalloc`:
        // a figure measured with the system allocator says so here.
        traffic_guardian::allocator::settings().name
    );
    println!();
    println!("| class | bytes | files | outbound MB/s (wall / CPU) | inbound MB/s (wall / CPU) | findings out / in |");
    println!("|---|---:|---:|---:|---:|---:|");
    let classes: Vec<&corpus::ClassCorpus> = corpus
        .classes
        .iter()
        .filter(|c| only.as_deref().is_none_or(|o| o == c.class.name()))
        .collect();
    if let Some(rule) = text_arg("--without") {
        let rounds = arg(&args, "--rounds", 20.0)? as usize;
        return compare_without(&classes, &det, &rule, &dirs, rounds);
    }
    if args.iter().any(|a| a == "--other-thread") {
        for c in &classes {
            for &direction in &dirs {
                measure(&det, c, direction, Duration::ZERO, 1);
            }
        }
        return std::thread::scope(|s| {
            s.spawn(|| {
                report(
                    &classes, &corpus, &det, &dirs, min_time, passes, list_rules, snippets,
                )
            })
            .join()
            .map_err(|_| "the measuring thread panicked".to_string())?
        });
    }
    report(
        &classes, &corpus, &det, &dirs, min_time, passes, list_rules, snippets,
    )
}

/// `--without RULE`: the built-in detector against the same without `RULE`,
/// pass by pass in turn, on each class and direction.
fn compare_without(
    classes: &[&corpus::ClassCorpus],
    det: &Arc<Detector>,
    rule: &str,
    dirs: &[Direction],
    rounds: usize,
) -> Result<(), String> {
    use traffic_guardian::core::rules::registry::builtin_for;
    if !traffic_guardian::core::rules::registry::builtin_specs().any(|s| s.id == rule) {
        return Err(format!("--without {rule}: no built-in rule has this id"));
    }
    let without = Arc::new(
        Detector::with_rules(
            builtin_for(Direction::Outbound).filter(|s| s.id != rule),
            builtin_for(Direction::Inbound).filter(|s| s.id != rule),
            det.options().clone(),
        )
        .map_err(|e| format!("built-in rules without {rule}: {e}"))?,
    );
    println!("| class | direction | with: best / median | without: best / median | cost (best, median) |");
    println!("|---|---|---:|---:|---:|");
    for c in classes {
        for &direction in dirs {
            // One pass each first, untimed: lazily built caches warm up.
            measure(det, c, direction, Duration::ZERO, 1);
            measure(&without, c, direction, Duration::ZERO, 1);
            let (mut with_runs, mut without_runs) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                // Alternate which goes first, so neither always follows the other.
                let order: [(&Arc<Detector>, bool); 2] = if round % 2 == 0 {
                    [(det, true), (&without, false)]
                } else {
                    [(&without, false), (det, true)]
                };
                for (d, is_with) in order {
                    let mbs = measure(d, c, direction, Duration::ZERO, 1).cpu_mbs;
                    if is_with {
                        with_runs.push(mbs);
                    } else {
                        without_runs.push(mbs);
                    }
                }
            }
            let stats = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                (
                    v.last().copied().unwrap_or(0.0),
                    v.get(v.len() / 2).copied().unwrap_or(0.0),
                )
            };
            let (wb, wm) = stats(&mut with_runs);
            let (ob, om) = stats(&mut without_runs);
            let cost = |a: f64, b: f64| if b > 0.0 { 100.0 * (1.0 - a / b) } else { 0.0 };
            println!(
                "| {} | {direction:?} | {wb:.0} / {wm:.0} | {ob:.0} / {om:.0} | {:.1} %, {:.1} % |",
                c.class.name(),
                cost(wb, ob),
                cost(wm, om)
            );
        }
    }
    Ok(())
}

/// Measures and prints `classes`, on the calling thread.
#[allow(clippy::too_many_arguments)]
fn report(
    classes: &[&corpus::ClassCorpus],
    corpus: &corpus::Corpus,
    det: &Arc<Detector>,
    dirs: &[Direction],
    min_time: Duration,
    passes: usize,
    list_rules: bool,
    snippets: bool,
) -> Result<(), String> {
    let mut fired = Vec::new();
    let mut shown = Vec::new();
    for c in classes {
        let mut cells = Vec::new();
        let mut found = Vec::new();
        for &direction in dirs {
            let m = measure(det, c, direction, min_time, passes);
            cells.push(format!("{:.0} / {:.0}", m.wall_mbs, m.cpu_mbs));
            found.push(m.findings.len().to_string());
            let mut per_rule: std::collections::BTreeMap<&str, usize> = Default::default();
            for f in &m.findings {
                *per_rule.entry(f.pattern.as_str()).or_default() += 1;
            }
            let counted: Vec<String> = per_rule
                .iter()
                .map(|(id, n)| match n {
                    1 => id.to_string(),
                    n => format!("{id} ×{n}"),
                })
                .collect();
            fired.push(format!(
                "{} {}: {}",
                c.class.name(),
                direction.as_str(),
                counted.join(", ")
            ));
            // Findings are redacted in the scanner: their snippets are
            // safe to print.
            shown.extend(m.findings.iter().map(|f| {
                format!(
                    "{} {} {}: {}",
                    c.class.name(),
                    direction.as_str(),
                    f.pattern,
                    f.snippet.replace('\n', "⏎")
                )
            }));
        }
        println!(
            "| {} | {} | {} | {} | {} |",
            c.class.name(),
            c.bytes.len(),
            c.files,
            cells.join(" | "),
            found.join(" / ")
        );
    }
    if let Some(ks) = det.options().known_secrets.as_deref() {
        println!();
        println!("| class | known-secret pass alone, CPU ns/byte |");
        println!("|---|---:|");
        for c in &corpus.classes {
            println!(
                "| {} | {:.3} |",
                c.class.name(),
                measure_known(ks, c, min_time)
            );
        }
    }
    if list_rules {
        println!();
        fired.iter().for_each(|l| println!("{l}"));
    }
    if snippets {
        println!();
        shown.iter().for_each(|l| println!("{l}"));
    }
    Ok(())
}

/// The `i`th registered value: 12 to 64 bytes, every fourth one hex.
fn random_value(i: usize) -> Vec<u8> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/!@";
    let len = 12 + (i * 7) % 53;
    let mut raw = vec![0u8; len];
    let _ = getrandom::fill(&mut raw);
    let alpha: &[u8] = if i.is_multiple_of(4) {
        b"0123456789abcdef"
    } else {
        ALPHA
    };
    raw.iter()
        .map(|b| alpha[usize::from(*b) % alpha.len()])
        .collect()
}

/// CPU ns/byte of [`KnownSecrets::find`] alone over the class's raw bytes.
fn measure_known(ks: &KnownSecrets, c: &corpus::ClassCorpus, min_time: Duration) -> f64 {
    if c.bytes.is_empty() {
        return 0.0;
    }
    let mut hits = Vec::new();
    let mut bytes = 0usize;
    let t = Instant::now();
    let cpu0 = thread_cpu_s();
    while bytes == 0 || t.elapsed() < min_time {
        for piece in c.pieces(corpus::PIECE) {
            ks.find(std::hint::black_box(piece), &mut hits);
            hits.clear();
            bytes += piece.len();
        }
    }
    (thread_cpu_s() - cpu0) * 1e9 / bytes as f64
}

/// The head a proxy would pass with a body of this class.
fn head(class: corpus::Class, direction: Direction) -> MessageHead<'static> {
    let ct: &'static [u8] = class.content_type().as_bytes();
    let headers = vec![("content-type", ct), ("accept", &b"*/*"[..])];
    MessageHead::exchange(direction, "https://api.example.com/v1/messages", headers)
}

/// CPU time of the calling thread (user + system), in seconds, from
/// `CLOCK_THREAD_CPUTIME_ID` (nanoseconds; `/proc`'s 10 ms ticks made a
/// 0.3 s measurement move in steps of 3 %).
fn thread_cpu_s() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

struct Measured {
    wall_mbs: f64,
    cpu_mbs: f64,
    /// The first pass's findings.
    findings: Vec<traffic_guardian::core::finding::Finding>,
}

/// MB/s over whole passes of the class (at least one, at least `min_time`),
/// and the findings of the first pass.
fn measure(
    det: &Arc<Detector>,
    c: &corpus::ClassCorpus,
    direction: Direction,
    min_time: Duration,
    passes: usize,
) -> Measured {
    let mut m = Measured {
        wall_mbs: 0.0,
        cpu_mbs: 0.0,
        findings: Vec::new(),
    };
    if c.bytes.is_empty() {
        return m;
    }
    let ctx = ScanContext::new(direction, "https", "bench", "api.example.com:443");
    let head = head(c.class, direction);
    let mut bytes = 0usize;
    let t = Instant::now();
    let cpu0 = thread_cpu_s();
    let mut pass = 0;
    while pass == 0 || (passes == 0 && t.elapsed() < min_time) || pass < passes {
        for piece in c.pieces(corpus::PIECE) {
            let (f, _) = det.scan_message(&ctx, &head, std::hint::black_box(piece));
            if pass == 0 {
                m.findings.extend(f);
            }
            bytes += piece.len();
        }
        pass += 1;
    }
    let cpu = thread_cpu_s() - cpu0;
    m.wall_mbs = bytes as f64 / t.elapsed().as_secs_f64() / 1e6;
    m.cpu_mbs = if cpu > 0.0 {
        bytes as f64 / cpu / 1e6
    } else {
        0.0
    };
    m
}
