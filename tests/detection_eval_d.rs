//! Held-out set D (`eval/held_out_d.jsonl`): 270 attacks and 90 look-alikes
//! in the shapes agents meet (model and MCP streams, tool results, pages,
//! API answers, request bodies), written by a helper that could not read
//! the repository. Measured once before any tuning (202 of 270 found, 16 of
//! 90 look-alikes raising a finding), then used to widen the rules, so it
//! is a development set now: these floors keep what was gained and may
//! only be raised. Each case is scanned as the proxy sees it
//! (`eval/case_file.rs`), whole and in 7 pieces.
//!
//! Run `cargo test --release --target x86_64-unknown-linux-gnu --test
//! detection_eval_d -- --nocapture` to see the table and what is missed.

#[path = "eval/case_file.rs"]
mod case_file;

use std::sync::Arc;
use traffic_guardian::core::scan::Detector;

const CASES: &str = include_str!("eval/held_out_d.jsonl");

/// Attacks found per family, at least.
const FLOORS: &[(&str, usize)] = &[
    ("destructive_commands", 15),
    ("exfil_commands", 23),
    ("exfil_outbound", 25),
    ("json_escaped_commands", 20),
    ("pipe_to_shell", 15),
    ("prompt_injection", 46),
    ("reverse_shells", 24),
    ("shell_obfuscation", 14),
    ("streamed_output", 40),
    ("windows_download_exec", 20),
];

/// Look-alikes raising a finding, at most (all families).
const MOST_RAISED: usize = 1;

#[test]
fn held_out_set_d_keeps_its_floors_whole_and_in_pieces() {
    let det = Arc::new(
        Detector::builtin(traffic_guardian::system::detector_options())
            .expect("built-in rules compile"),
    );
    let mut failures = Vec::new();
    for pieces in [1, 7] {
        let score = case_file::score(&det, CASES, pieces).expect("the case file parses");
        println!("in {pieces} piece(s):");
        for w in &score.wrong {
            println!("  {w}");
        }
        for (family, floor) in FLOORS {
            let t = score.families.get(*family).copied().unwrap_or_default();
            println!(
                "  {family:<24} {:>3} / {:>3}  (floor {floor})",
                t.found, t.attacks
            );
            if t.found < *floor {
                failures.push(format!(
                    "{pieces} piece(s): {family}: {} below {floor}",
                    t.found
                ));
            }
        }
        let total = score.total();
        println!(
            "  look-alikes raising a finding: {} of {}",
            total.raised, total.benign
        );
        if total.raised > MOST_RAISED {
            failures.push(format!(
                "{pieces} piece(s): {} look-alikes raised",
                total.raised
            ));
        }
        if !score.leaks.is_empty() {
            failures.push(format!("{pieces} piece(s): leaks {:?}", score.leaks));
        }
        assert_eq!(
            score.families.len(),
            FLOORS.len(),
            "a family without a floor"
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
