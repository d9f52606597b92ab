//! Folding repeats: the same secret (or indicator) to the same destination in
//! the same direction within a window becomes one finding whose `count` says
//! how often it happened. Memory is bounded: the table holds at most
//! `capacity` keys and evicts the oldest, emitting what it had folded.
//!
//! Invariant: every occurrence is counted exactly once across the findings
//! this emits (first occurrences, later ones with folded counts, summaries).
//!
//! Crash safety: [`Deduper::checkpoint`] reports, per key, how many repeats
//! have been folded so far since the finding they fold into (the "anchor"),
//! so the store can persist them as count records before the summary exists.
//! A later finding that carries those repeats names the anchor in
//! `repeats_of`, which supersedes the count records.

use crate::core::finding::{Direction, Finding};
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    pattern: String,
    fingerprint: String,
    dest: String,
    direction: Direction,
}

impl Key {
    fn of(f: &Finding) -> Key {
        Key {
            pattern: f.pattern.clone(),
            fingerprint: f.fingerprint.clone(),
            dest: f.dest.clone(),
            direction: f.direction,
        }
    }
}

#[derive(Debug)]
struct Entry {
    window_start_ms: u64,
    /// Id of the last emitted finding for this key (the one repeats fold into).
    anchor: String,
    /// Occurrences folded since the last emitted finding for this key.
    suppressed: u64,
    /// How many of `suppressed` a checkpoint has already reported.
    checkpointed: u64,
    /// The most recent folded occurrence, emitted as the summary.
    last: Option<Finding>,
}

/// Bounded dedup table.
#[derive(Debug)]
pub struct Deduper {
    window_ms: u64,
    capacity: usize,
    entries: HashMap<Key, Entry>,
    order: VecDeque<Key>,
}

impl Deduper {
    /// `window_ms == 0` disables folding.
    pub fn new(window_ms: u64, capacity: usize) -> Deduper {
        Deduper {
            window_ms,
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Offers one finding; returns what must be emitted now (the finding
    /// itself, and possibly a summary of an evicted key).
    pub fn admit(&mut self, mut f: Finding, now_ms: u64) -> Vec<Finding> {
        if self.window_ms == 0 {
            return vec![f];
        }
        let key = Key::of(&f);
        if let Some(e) = self.entries.get_mut(&key) {
            if now_ms.saturating_sub(e.window_start_ms) < self.window_ms {
                e.suppressed += 1;
                e.last = Some(f);
                return Vec::new();
            }
            f.count = 1 + e.suppressed;
            if e.checkpointed > 0 {
                f.repeats_of = Some(std::mem::take(&mut e.anchor));
            }
            e.anchor = f.id.clone();
            e.window_start_ms = now_ms;
            e.suppressed = 0;
            e.checkpointed = 0;
            e.last = None;
            return vec![f];
        }
        let mut out = Vec::new();
        while self.entries.len() >= self.capacity {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(summary) = self.entries.remove(&old).and_then(summary_of) {
                out.push(summary);
            }
        }
        self.entries.insert(
            key.clone(),
            Entry {
                window_start_ms: now_ms,
                anchor: f.id.clone(),
                suppressed: 0,
                checkpointed: 0,
                last: None,
            },
        );
        self.order.push_back(key);
        out.push(f);
        out
    }

    /// Emits a summary for every key whose window has ended with folded
    /// repeats, and forgets keys whose window ended with none.
    pub fn drain_expired(&mut self, now_ms: u64) -> Vec<Finding> {
        let window = self.window_ms;
        let mut out = Vec::new();
        self.entries.retain(|_, e| {
            if now_ms.saturating_sub(e.window_start_ms) < window {
                return true;
            }
            if let Some(s) = summary_of_mut(e) {
                out.push(s);
            }
            false
        });
        let entries = &self.entries;
        self.order.retain(|k| entries.contains_key(k));
        out
    }

    /// For every key with repeats folded since the last checkpoint: the id
    /// of the finding they fold into and how many repeats it has so far
    /// (cumulative since that finding, not since the last checkpoint).
    pub fn checkpoint(&mut self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for key in &self.order {
            if let Some(e) = self.entries.get_mut(key) {
                if e.suppressed > e.checkpointed {
                    e.checkpointed = e.suppressed;
                    out.push((e.anchor.clone(), e.suppressed));
                }
            }
        }
        out
    }

    /// Emits every pending summary (at shutdown) and empties the table.
    pub fn drain_all(&mut self) -> Vec<Finding> {
        self.order.clear();
        self.entries
            .drain()
            .filter_map(|(_, e)| summary_of(e))
            .collect()
    }
}

fn summary_of(mut e: Entry) -> Option<Finding> {
    summary_of_mut(&mut e)
}

fn summary_of_mut(e: &mut Entry) -> Option<Finding> {
    let mut last = e.last.take()?;
    last.count = e.suppressed;
    if e.checkpointed > 0 {
        last.repeats_of = Some(e.anchor.clone());
    }
    e.suppressed = 0;
    e.checkpointed = 0;
    Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::finding::{Severity, ThreatType, PLATFORM, SCHEMA_VERSION};

    fn finding(fp: &str, dest: &str) -> Finding {
        Finding {
            schema_version: SCHEMA_VERSION.into(),
            platform: PLATFORM.into(),
            id: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                format!("tgf_{fp}{dest}{n}")
            },
            direction: Direction::Outbound,
            protocol: "http".into(),
            threat_type: ThreatType::Exfil,
            pattern: "p".into(),
            severity: Severity::High,
            source: "s".into(),
            dest: dest.into(),
            location: "body".into(),
            snippet: String::new(),
            fingerprint: fp.into(),
            count: 1,
            decoded: None,
            context: Default::default(),
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            rule: None,
            repeats_of: None,
        }
    }

    fn total(fs: &[Finding]) -> u64 {
        fs.iter().map(|f| f.count).sum()
    }

    #[test]
    fn repeats_fold_and_every_occurrence_is_counted_once() {
        let mut d = Deduper::new(1000, 100);
        let mut out = Vec::new();
        for t in 0..10 {
            out.extend(d.admit(finding("a", "x:1"), t * 50));
        }
        assert_eq!(out.len(), 1);
        // After the window: the next occurrence carries the folded repeats.
        out.extend(d.admit(finding("a", "x:1"), 2000));
        assert_eq!(out.last().unwrap().count, 10);
        out.extend(d.admit(finding("a", "x:1"), 2100));
        out.extend(d.drain_all());
        assert_eq!(total(&out), 12);
    }

    #[test]
    fn different_secret_or_dest_is_never_suppressed() {
        let mut d = Deduper::new(60_000, 100);
        assert_eq!(d.admit(finding("a", "x:1"), 0).len(), 1);
        assert_eq!(d.admit(finding("b", "x:1"), 1).len(), 1);
        assert_eq!(d.admit(finding("a", "y:1"), 2).len(), 1);
        assert_eq!(d.admit(finding("a", "x:1"), 3).len(), 0);
    }

    #[test]
    fn periodic_summary_and_bounded_memory() {
        let mut d = Deduper::new(100, 8);
        let mut out = Vec::new();
        for i in 0..1000u64 {
            let fp = format!("k{}", i % 20);
            out.extend(d.admit(finding(&fp, "x:1"), i));
            assert!(d.len() <= 8);
        }
        out.extend(d.drain_expired(10_000));
        out.extend(d.drain_all());
        assert_eq!(total(&out), 1000);
        assert!(d.is_empty());
    }

    #[test]
    fn checkpoints_report_cumulative_repeats_and_the_summary_names_its_anchor() {
        let mut d = Deduper::new(1000, 100);
        let first = d.admit(finding("a", "x:1"), 0);
        let anchor = first[0].id.clone();
        assert!(d.checkpoint().is_empty(), "nothing folded yet");
        for t in 1..=3 {
            d.admit(finding("a", "x:1"), t);
        }
        assert_eq!(d.checkpoint(), vec![(anchor.clone(), 3)]);
        assert!(d.checkpoint().is_empty(), "nothing new since");
        d.admit(finding("a", "x:1"), 4);
        assert_eq!(d.checkpoint(), vec![(anchor.clone(), 4)]);
        let summary = d.drain_expired(5000);
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].count, 4);
        assert_eq!(summary[0].repeats_of.as_deref(), Some(anchor.as_str()));
        // A re-emission after the window carries them too, and becomes the
        // next anchor.
        let mut d = Deduper::new(1000, 100);
        let anchor = d.admit(finding("b", "x:1"), 0)[0].id.clone();
        d.admit(finding("b", "x:1"), 1);
        assert_eq!(d.checkpoint(), vec![(anchor.clone(), 1)]);
        let next = d.admit(finding("b", "x:1"), 2000);
        assert_ne!(next[0].id, anchor);
        assert_eq!(next[0].count, 2);
        assert_eq!(next[0].repeats_of.as_deref(), Some(anchor.as_str()));
        d.admit(finding("b", "x:1"), 2001);
        assert_eq!(d.checkpoint(), vec![(next[0].id.clone(), 1)]);
    }

    #[test]
    fn zero_window_disables_folding() {
        let mut d = Deduper::new(0, 10);
        assert_eq!(d.admit(finding("a", "x:1"), 0).len(), 1);
        assert_eq!(d.admit(finding("a", "x:1"), 0).len(), 1);
    }
}
