//! Case files: one JSON object per line, each a message as the proxy sees
//! it, scored by `examples/eval_file.rs` (a file kept outside the
//! repository) and `tests/detection_eval_d.rs` (held-out sets D and E,
//! here since they were used to tune the rules).
//!
//! Fields: `id`, `family`, `direction` (`in`: a response the agent
//! receives, `out`: a request it sends), `kind` (`attack` or `benign`),
//! `content_type`, `dest` (`host:port`) and `body`, whose secrets are
//! template placeholders `«CLASS:LEN»` expanded at run time (fake values in
//! the real formats, see `core::rules::template`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use traffic_guardian::core::finding::{Direction, Finding};
use traffic_guardian::core::rules::template::expand_seeded;
use traffic_guardian::core::scan::{Detector, MessageHead, ScanContext};

#[path = "finding_fields.rs"]
mod finding_fields;
use finding_fields::fields;

#[derive(Deserialize)]
pub struct Case {
    #[serde(default)]
    pub id: String,
    pub family: String,
    pub direction: String,
    pub kind: String,
    #[serde(default)]
    pub content_type: String,
    pub dest: String,
    pub body: String,
}

/// Per family: attacks and how many were found, look-alikes and how many
/// raised a finding.
#[derive(Default, Debug, Clone, Copy)]
pub struct Tally {
    pub attacks: usize,
    pub found: usize,
    pub benign: usize,
    pub raised: usize,
}

/// What scoring a case file gives.
#[derive(Default)]
pub struct Score {
    pub families: BTreeMap<String, Tally>,
    /// `missed`/`raised`, id, family, rule ids and the case's first 160 characters.
    pub wrong: Vec<String>,
    /// Case id and rule of every finding holding a generated value.
    pub leaks: Vec<String>,
}

impl Score {
    pub fn total(&self) -> Tally {
        self.families.values().fold(Tally::default(), |a, t| Tally {
            attacks: a.attacks + t.attacks,
            found: a.found + t.found,
            benign: a.benign + t.benign,
            raised: a.raised + t.raised,
        })
    }
}

/// Scores every case of `text` (JSON lines), each body fed in `pieces`.
pub fn score(det: &Arc<Detector>, text: &str, pieces: usize) -> Result<Score, String> {
    let mut s = Score::default();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Case = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let direction = match case.direction.as_str() {
            "in" => Direction::Inbound,
            "out" => Direction::Outbound,
            d => {
                return Err(format!(
                    "line {}: direction {d:?}: expected in or out",
                    n + 1
                ))
            }
        };
        let attack = match case.kind.as_str() {
            "attack" => true,
            "benign" => false,
            k => {
                return Err(format!(
                    "line {}: kind {k:?}: expected attack or benign",
                    n + 1
                ))
            }
        };
        let ex = expand_seeded(&case.body, 0xd5ee_d000 + n as u64)
            .map_err(|e| format!("line {}: body: {e}", n + 1))?;
        let findings = scan(det, direction, &case, ex.text.as_bytes(), pieces);
        let hit = if attack {
            findings
                .iter()
                .any(|f| f.threat_type.direction() == direction)
        } else {
            !findings.is_empty()
        };
        let t = s.families.entry(case.family.clone()).or_default();
        if attack {
            t.attacks += 1;
            t.found += usize::from(hit);
        } else {
            t.benign += 1;
            t.raised += usize::from(hit);
        }
        if attack != hit {
            let rules: Vec<&str> = findings.iter().map(|f| f.pattern.as_str()).collect();
            let what = if attack { "missed" } else { "raised" };
            let head: String = ex.text.chars().take(160).collect();
            s.wrong.push(format!(
                "{what} {} [{}] {rules:?}: {head:?}",
                case.id, case.family
            ));
        }
        for f in &findings {
            let all = fields(f);
            if ex
                .random_parts
                .iter()
                .any(|p| p.len() >= 8 && all.contains(p.as_str()))
            {
                s.leaks.push(format!("{} {}", case.id, f.pattern));
            }
        }
    }
    Ok(s)
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
    let headers = vec![("content-type", case.content_type.as_bytes())];
    let head = MessageHead::exchange(direction, &url, headers);
    let ctx = ScanContext::new(direction, "https", "main", &case.dest);
    if pieces <= 1 {
        return det.scan_message(&ctx, &head, body).0;
    }
    let mut out = det.scan_head(&ctx, &head);
    let mut inspector = det
        .body_inspector(ctx.clone(), "body", None)
        .with_content_type(Some(case.content_type.as_str()));
    for chunk in body.chunks(body.len().div_ceil(pieces).max(1)) {
        out.extend(inspector.feed(chunk));
    }
    out.extend(inspector.finish());
    out
}

/// Scores `cases` whole and in 7 pieces and panics, with every failure,
/// unless each family finds at least its floor (every family has one), at
/// most `most_raised` look-alikes raise a finding, and nothing leaks.
#[allow(dead_code)] // used by the tests, not by `examples/eval_file.rs`
pub fn assert_floors(cases: &str, floors: &[(&str, usize)], most_raised: usize) {
    let det = Arc::new(
        Detector::builtin(traffic_guardian::system::detector_options())
            .expect("built-in rules compile"),
    );
    let mut failures = Vec::new();
    for pieces in [1, 7] {
        let score = score(&det, cases, pieces).expect("the case file parses");
        println!("in {pieces} piece(s):");
        for w in &score.wrong {
            println!("  {w}");
        }
        for (family, floor) in floors {
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
        if total.raised > most_raised {
            failures.push(format!(
                "{pieces} piece(s): {} look-alikes raised",
                total.raised
            ));
        }
        if !score.leaks.is_empty() {
            failures.push(format!("{pieces} piece(s): leaks {:?}", score.leaks));
        }
        if score.families.len() != floors.len() {
            failures.push(format!("{pieces} piece(s): a family without a floor"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
