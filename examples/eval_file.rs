//! Recall and false positives on a case file kept outside the repository:
//! a held-out set written by someone who never read the rules, measured
//! once before anyone tunes on it (a set that lives in `tests/eval` is a
//! development set by then).
//!
//! Run: `cargo run --release --target x86_64-unknown-linux-gnu --example
//! eval_file -- CASES.jsonl [--misses] [--pieces N]`.
//!
//! The file's format is `tests/eval/case_file.rs`'s. Each case goes through
//! `Detector::scan_message` as the proxy would see it (request or response
//! head with its content type, then the body), in one piece or, with
//! `--pieces N`, fed in N pieces. An attack counts as found when a finding
//! of its direction is raised; a benign case is a false positive when any
//! finding is. A generated value found in any finding field is a leak.
//! Prints a table per family; `--misses` also prints what was missed and
//! what was raised on benign cases (rule ids and the first 160 characters).
use std::sync::Arc;

use traffic_guardian::core::scan::Detector;

#[path = "../tests/eval/case_file.rs"]
mod case_file;

fn main() {
    if let Err(e) = run() {
        eprintln!("eval_file: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pieces: usize = match args.iter().position(|a| a == "--pieces") {
        Some(i) => args
            .get(i + 1)
            .ok_or("--pieces needs a number")?
            .parse()
            .map_err(|e| format!("--pieces: {e}"))?,
        None => 1,
    };
    let path = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with("--") && (*i == 0 || args.get(i - 1).is_none_or(|p| p != "--pieces"))
        })
        .map(|(_, a)| a)
        .ok_or("usage: eval_file CASES.jsonl [--misses] [--pieces N]")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let det = Arc::new(
        Detector::builtin(traffic_guardian::system::detector_options())
            .map_err(|e| format!("built-in rules: {e}"))?,
    );
    let score = case_file::score(&det, &text, pieces).map_err(|e| format!("{path}: {e}"))?;
    if args.iter().any(|a| a == "--misses") {
        for w in &score.wrong {
            println!("{w}");
        }
    }
    println!("\n| family | attacks found | recall | benign raising a finding |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, t: case_file::Tally| {
        println!(
            "| {name} | {} / {} | {} | {} / {} |",
            t.found,
            t.attacks,
            percent(t.found, t.attacks),
            t.raised,
            t.benign
        )
    };
    for (family, t) in &score.families {
        row(family, *t);
    }
    row("**all**", score.total());
    println!("leaks: {}", score.leaks.len());
    for l in &score.leaks {
        println!("  leak: {l}");
    }
    Ok(())
}

fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        return "-".into();
    }
    format!("{:.1} %", 100.0 * n as f64 / of as f64)
}
