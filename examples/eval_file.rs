//! Recall and false positives on a case file kept outside the repository:
//! a held-out set written by someone who never read the rules, measured
//! once before anyone tunes on it (a set that lives in `tests/eval` is a
//! development set by then).
//!
//! Run: `cargo run --release --target x86_64-unknown-linux-gnu --example
//! eval_file -- CASES.jsonl [--misses] [--pieces N]`.
//!
//! Each line is one JSON object: `family`, `direction` (`in`: a response the
//! agent receives, `out`: a request it sends), `kind` (`attack` or
//! `benign`), `content_type`, `dest` (`host:port`) and `body`, where every
//! secret is a template placeholder `«CLASS:LEN»` expanded here (fake values
//! made at run time, see `core::rules::template`). Each case goes through
//! `Detector::scan_message` as the proxy would see it (request or response
//! head with its content type, then the body), in one piece or, with
//! `--pieces N`, fed in N pieces split at even offsets. An attack counts as
//! found when a finding of its direction is raised; a benign case is a
//! false positive when any finding is. A generated value found in any
//! finding field is a leak. Prints a table per family; `--misses` also
//! prints what was missed and what was raised on benign cases (rule ids and
//! the first 160 characters of the case).
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use traffic_guardian::core::finding::{Direction, Finding};
use traffic_guardian::core::rules::template::expand_seeded;
use traffic_guardian::core::scan::{Detector, MessageHead, ScanContext};

#[derive(Deserialize)]
struct Case {
    #[serde(default)]
    id: String,
    family: String,
    direction: String,
    kind: String,
    #[serde(default)]
    content_type: String,
    dest: String,
    body: String,
}

#[derive(Default)]
struct Tally {
    attacks: usize,
    found: usize,
    benign: usize,
    raised: usize,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("eval_file: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .iter()
        .find(|a| !a.starts_with("--") && !a.chars().all(|c| c.is_ascii_digit()))
        .ok_or("usage: eval_file CASES.jsonl [--misses] [--pieces N]")?;
    let misses = args.iter().any(|a| a == "--misses");
    let pieces: usize = match args.iter().position(|a| a == "--pieces") {
        Some(i) => args
            .get(i + 1)
            .ok_or("--pieces needs a number")?
            .parse()
            .map_err(|e| format!("--pieces: {e}"))?,
        None => 1,
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let det = Arc::new(
        Detector::builtin(traffic_guardian::system::detector_options())
            .map_err(|e| format!("built-in rules: {e}"))?,
    );
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    let mut leaks = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Case =
            serde_json::from_str(line).map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        let direction = match case.direction.as_str() {
            "in" => Direction::Inbound,
            "out" => Direction::Outbound,
            d => {
                return Err(format!(
                    "{path}:{}: direction {d:?}: expected in or out",
                    n + 1
                ))
            }
        };
        let attack = match case.kind.as_str() {
            "attack" => true,
            "benign" => false,
            k => {
                return Err(format!(
                    "{path}:{}: kind {k:?}: expected attack or benign",
                    n + 1
                ))
            }
        };
        let ex = expand_seeded(&case.body, 0xd5ee_d000 + n as u64)
            .map_err(|e| format!("{path}:{}: body: {e}", n + 1))?;
        let findings = scan(&det, direction, &case, ex.text.as_bytes(), pieces);
        let hit = if attack {
            findings
                .iter()
                .any(|f| f.threat_type.direction() == direction)
        } else {
            !findings.is_empty()
        };
        let t = tally.entry(case.family.clone()).or_default();
        if attack {
            t.attacks += 1;
            t.found += usize::from(hit);
        } else {
            t.benign += 1;
            t.raised += usize::from(hit);
        }
        if misses && (attack != hit) {
            let rules: Vec<&str> = findings.iter().map(|f| f.pattern.as_str()).collect();
            let what = if attack { "missed" } else { "raised" };
            let head: String = ex.text.chars().take(160).collect();
            println!("{what} {} [{}] {:?}: {head:?}", case.id, case.family, rules);
        }
        for f in &findings {
            let all = fields(f);
            for part in ex.random_parts.iter().filter(|p| p.len() >= 8) {
                if all.contains(part.as_str()) {
                    leaks.push(format!("{} {}", case.id, f.pattern));
                }
            }
        }
    }
    println!("\n| family | attacks found | recall | benign raising a finding |");
    println!("|---|---:|---:|---:|");
    let mut sum = Tally::default();
    for (family, t) in &tally {
        println!(
            "| {family} | {} / {} | {} | {} / {} |",
            t.found,
            t.attacks,
            percent(t.found, t.attacks),
            t.raised,
            t.benign
        );
        sum.attacks += t.attacks;
        sum.found += t.found;
        sum.benign += t.benign;
        sum.raised += t.raised;
    }
    println!(
        "| **all** | {} / {} | {} | {} / {} |",
        sum.found,
        sum.attacks,
        percent(sum.found, sum.attacks),
        sum.raised,
        sum.benign
    );
    println!("leaks: {}", leaks.len());
    for l in &leaks {
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

/// The case as the proxy sees it: its head, then its body in `pieces`.
fn scan(
    det: &Arc<Detector>,
    direction: Direction,
    case: &Case,
    body: &[u8],
    pieces: usize,
) -> Vec<Finding> {
    let host = case.dest.split(':').next().unwrap_or(&case.dest);
    let url = format!("https://{host}/");
    let head = match direction {
        Direction::Outbound => MessageHead {
            method: Some("POST"),
            url: Some(&url),
            status: None,
            headers: vec![("content-type", case.content_type.as_bytes())],
        },
        Direction::Inbound => MessageHead {
            method: None,
            url: None,
            status: Some(200),
            headers: vec![("content-type", case.content_type.as_bytes())],
        },
    };
    let ctx = ScanContext::new(direction, "https", "main", &case.dest);
    if pieces <= 1 {
        return det.scan_message(&ctx, &head, body).0;
    }
    let mut out = det.scan_head(&ctx, &head);
    let mut inspector = det
        .body_inspector(ctx.clone(), "body", None)
        .with_content_type(Some(case.content_type.as_str()));
    let step = body.len().div_ceil(pieces).max(1);
    for chunk in body.chunks(step) {
        out.extend(inspector.feed(chunk));
    }
    out.extend(inspector.finish());
    out
}

/// Every text field of a finding, where a generated secret must never appear.
fn fields(f: &Finding) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        f.snippet,
        f.dest,
        f.location,
        f.source,
        f.fingerprint,
        f.decoded.as_deref().unwrap_or("")
    )
}
