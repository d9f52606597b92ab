//! Where a detector spends its regex time on the realistic corpus: per
//! class and direction, the rules whose spans (keyword occurrences widened
//! by the rule's reach) are searched in the raw text, with the bytes
//! covered and the time their regex searches take. A profiling aid.
//!
//! With `--misses`, it prints instead, per class and direction, how often
//! each keyword's sampled prefilter windows stand where the keyword does
//! not (a verification in vain, per MB): the cost a new keyword adds
//! whichever rule owns it.
//!
//! Run: `cargo run --release --target x86_64-unknown-linux-gnu --example rule_cost -- [--only CLASS] [--top 12] [--misses]`.
use std::time::Instant;

use regex_automata::Input;
use traffic_guardian::core::finding::Direction;
use traffic_guardian::core::scan::Detector;

#[path = "../benches/common/corpus.rs"]
mod corpus;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let only = value("--only");
    let no_pre = args.iter().any(|a| a == "--no-prefilter");
    let top: usize = value("--top").and_then(|v| v.parse().ok()).unwrap_or(12);
    let misses = args.iter().any(|a| a == "--misses");
    let corpus = corpus::build(&corpus::Sources::machine(), corpus::CLASS_CAP);
    let det = match Detector::builtin(traffic_guardian::system::detector_options()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("rule_cost: {e}");
            std::process::exit(2);
        }
    };
    for direction in [Direction::Outbound, Direction::Inbound] {
        let set = det.rules(direction);
        let unconfirmed: Vec<&str> = set
            .rules()
            .iter()
            .filter(|r| r.confirm.is_none())
            .map(|r| r.spec.id)
            .collect();
        println!(
            "{}: {} rules, {} without an occurrence check: {}",
            direction.as_str(),
            set.len(),
            unconfirmed.len(),
            unconfirmed.join(", ")
        );
    }
    if misses {
        print_failed_verifications(&det, &corpus, only.as_deref(), top);
        return;
    }
    for c in &corpus.classes {
        if only.as_deref().is_some_and(|o| o != c.class.name()) {
            continue;
        }
        for direction in [Direction::Outbound, Direction::Inbound] {
            let set = det.rules(direction);
            let n = set.len();
            let plain: Vec<regex_automata::meta::Regex> = set
                .rules()
                .iter()
                .map(|r| {
                    let hir = regex_syntax::ParserBuilder::new()
                        .unicode(false)
                        .utf8(false)
                        .build()
                        .parse(r.spec.pattern)
                        .expect("pattern");
                    regex_automata::meta::Builder::new()
                        .configure(
                            regex_automata::meta::Config::new()
                                .utf8_empty(false)
                                .auto_prefilter(!no_pre)
                                .nfa_size_limit(Some(32 << 20)),
                        )
                        .build_from_hir(&hir)
                        .expect("compile")
                })
                .collect();
            let mut covered = vec![0usize; n];
            let mut count = vec![0usize; n];
            let mut nanos = vec![0u128; n];
            let mut prefilter = 0u128;
            let mut spans = Vec::new();
            // The first passes warm the regexes' lazy DFAs; the last is reported.
            for _ in 0..3 {
                {
                    covered.fill(0);
                    count.fill(0);
                    nanos.fill(0);
                    prefilter = 0;
                }
                for piece in c.pieces(corpus::PIECE) {
                    let t = Instant::now();
                    set.spans(piece, &mut spans);
                    prefilter += t.elapsed().as_nanos();
                    for (ri, span) in &spans {
                        let rule = &plain[*ri];
                        covered[*ri] += span.len();
                        count[*ri] += 1;
                        let t = Instant::now();
                        let mut caps = rule.create_captures();
                        let mut input = Input::new(piece).span(span.clone());
                        loop {
                            rule.search_captures(&input, &mut caps);
                            let Some(m) = caps.get_match() else { break };
                            let next = m.end().max(m.start() + 1);
                            if next >= span.end {
                                break;
                            }
                            input.set_start(next);
                        }
                        nanos[*ri] += t.elapsed().as_nanos();
                    }
                }
            }
            let total: u128 = nanos.iter().sum();
            let mb = c.bytes.len() as f64 / 1e6;
            println!(
                "== {} {}: prefilter+spans {:.1} ms, regex {:.1} ms over {:.1} MB",
                c.class.name(),
                direction.as_str(),
                prefilter as f64 / 1e6,
                total as f64 / 1e6,
                mb
            );
            // Occurrence checks: calls and time per rule (one pass).
            let kws: Vec<&str> = set
                .rules()
                .iter()
                .flat_map(|r| r.spec.keywords.iter().copied())
                .collect();
            let filter = traffic_guardian::core::rules::prefilter::KeywordFilter::new(&kws)
                .expect("keywords");
            let mut owner = Vec::new();
            for (ri, r) in set.rules().iter().enumerate() {
                owner.extend(r.spec.keywords.iter().map(|_| ri));
            }
            let mut calls = vec![0usize; n];
            let mut passed = vec![0usize; n];
            let mut cnanos = vec![0u128; n];
            for _ in 0..2 {
                calls.fill(0);
                passed.fill(0);
                cnanos.fill(0);
                for piece in c.pieces(corpus::PIECE) {
                    let mut occ = Vec::new();
                    filter.occurrences(piece, |k, at| occ.push((owner[k], at)));
                    for (ri, at) in occ {
                        let Some(confirms) = set.rules()[ri].confirm.as_deref() else {
                            continue;
                        };
                        let t = Instant::now();
                        let ok = confirms.iter().any(|c| c.at(piece, at));
                        cnanos[ri] += t.elapsed().as_nanos();
                        calls[ri] += 1;
                        passed[ri] += usize::from(ok);
                    }
                }
            }
            let mut corder: Vec<usize> = (0..n).filter(|&i| calls[i] > 0).collect();
            corder.sort_by_key(|&i| std::cmp::Reverse(cnanos[i]));
            println!(
                "  occurrence checks: {} calls, {:.1} ms",
                calls.iter().sum::<usize>(),
                cnanos.iter().sum::<u128>() as f64 / 1e6
            );
            for &i in corder.iter().take(top) {
                println!(
                    "    {:>7.2} ms  {:>6} calls  {:>6} passed  {}",
                    cnanos[i] as f64 / 1e6,
                    calls[i],
                    passed[i],
                    set.rules()[i].spec.id
                );
            }
            let mut order: Vec<usize> = (0..n).filter(|&i| count[i] > 0).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(nanos[i]));
            for &i in order.iter().take(top) {
                println!(
                    "  {:>7.2} ms  {:>6} spans  {:>9} bytes  {}",
                    nanos[i] as f64 / 1e6,
                    count[i],
                    covered[i],
                    set.rules()[i].spec.id
                );
            }
        }
    }
}

/// `--misses`: failed prefilter verifications per MB, per class and
/// direction, with the keywords that fail most.
fn print_failed_verifications(
    det: &Detector,
    corpus: &corpus::Corpus,
    only: Option<&str>,
    top: usize,
) {
    for direction in [Direction::Outbound, Direction::Inbound] {
        let set = det.rules(direction);
        let mut kws: Vec<&str> = set
            .rules()
            .iter()
            .flat_map(|r| r.spec.keywords.iter().copied())
            .collect();
        kws.sort_unstable();
        kws.dedup();
        let filter = match traffic_guardian::core::rules::prefilter::KeywordFilter::new(&kws) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("rule_cost: {e}");
                std::process::exit(2);
            }
        };
        for c in &corpus.classes {
            if only.is_some_and(|o| o != c.class.name()) {
                continue;
            }
            let mut failed = vec![0u64; kws.len()];
            for piece in c.pieces(corpus::PIECE) {
                filter.failed_verifications(piece, &mut failed);
            }
            let mb = c.bytes.len() as f64 / 1e6;
            println!(
                "== {} {}: {:.0} failed verifications per MB over {:.1} MB",
                c.class.name(),
                direction.as_str(),
                failed.iter().sum::<u64>() as f64 / mb,
                mb
            );
            let mut order: Vec<usize> = (0..kws.len()).filter(|&k| failed[k] > 0).collect();
            order.sort_by_key(|&k| std::cmp::Reverse(failed[k]));
            for &k in order.iter().take(top) {
                println!("  {:>8.1} /MB  {:?}", failed[k] as f64 / mb, kws[k]);
            }
        }
    }
}
