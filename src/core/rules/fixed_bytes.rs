//! Bytes an occurrence check can reject without its DFA: the classes a
//! pattern's every match holds at fixed offsets from its start.
//!
//! The common keywords of real text (`pat` in every `path`, `://` in every
//! link) each cost a thread-local cache lookup, a start state and a DFA
//! walk before their check fails. Airtable's `pat` is followed by 14
//! alphanumerics and a `.`, so one byte test at offset 17 rejects nearly
//! every `path` and `pattern`. The tests are necessary conditions of the
//! pattern, so a rejection is one the DFA would make too; a byte past the
//! text's end is never a rejection here (the DFA decides those).

use super::byte_set::ByteSet;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// How far from the start the offsets reach: past this a check's DFA
/// rarely still runs, and more tests would cost more than they save.
const MAX_OFFSET: usize = 32;
/// The most tests kept, the most selective first: an occurrence that
/// passes them all pays for each.
const MAX_TESTS: usize = 6;
/// A class with more bytes than this rejects too little to be worth a test.
const MAX_CLASS_BYTES: u32 = 200;

/// The tests of one pattern, most selective first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixedBytes {
    /// (offset from the occurrence, class), negative offsets before it.
    tests: Box<[(isize, ByteSet)]>,
}

impl FixedBytes {
    /// The fixed-offset classes of `hir`'s matches (a check's forward part:
    /// matched anchored at an occurrence), from offset `from` on (before
    /// it: the keyword, which the prefilter compared already).
    pub fn of(hir: &Hir, from: usize) -> FixedBytes {
        let mut items = Vec::new();
        flatten(hir, &mut items);
        let mut tests = fixed_classes(items.iter(), Direction::Forward);
        tests.retain(|(at, _)| at.unsigned_abs() >= from);
        FixedBytes::keeping(tests)
    }

    /// [`FixedBytes::of`] also holding the classes that every match of
    /// `prefix` (what must stand right before the occurrence) holds at
    /// fixed offsets before it, read from its end: a token's left boundary
    /// (`re_` in `are_`) rejects with one byte.
    pub fn with_prefix(self, prefix: &Hir) -> FixedBytes {
        let mut items = Vec::new();
        flatten(prefix, &mut items);
        let mut tests = self.tests.into_vec();
        tests.extend(fixed_classes(items.iter().rev(), Direction::Backward));
        FixedBytes::keeping(tests)
    }

    /// The most selective tests of `tests`.
    fn keeping(mut tests: Vec<(isize, ByteSet)>) -> FixedBytes {
        tests.retain(|(_, set)| set.len() <= MAX_CLASS_BYTES);
        // Single bytes first, then the byte before the occurrence (a left
        // boundary: on real text most occurrences of a short keyword are
        // inside a word), then the rarest classes; among equals the
        // farthest from the keyword.
        tests.sort_by_key(|(at, set)| {
            let rank = match (set.len(), *at) {
                (1, _) => 0,
                (_, -1) => 1,
                _ => 2,
            };
            (rank, set.len(), std::cmp::Reverse(at.unsigned_abs()))
        });
        tests.truncate(MAX_TESTS);
        FixedBytes {
            tests: tests.into_boxed_slice(),
        }
    }

    /// `false` when a byte of `text` at a fixed offset from `at` is outside
    /// its class: no match of the pattern starts at `at`.
    #[inline]
    pub fn may_match_at(&self, text: &[u8], at: usize) -> bool {
        self.tests.iter().all(|(offset, set)| {
            match at.checked_add_signed(*offset).and_then(|i| text.get(i)) {
                Some(&b) => set.contains(b),
                None => true,
            }
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tests.len()
    }
}

/// Which way [`fixed_classes`] reads from the occurrence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// From the occurrence on: offsets 0, 1, …
    Forward,
    /// From right before it, items and their bytes last first: −1, −2, …
    Backward,
}

/// The class of each byte position `items` fix, read away from the
/// occurrence, for at most [`MAX_OFFSET`] positions: until an item whose
/// length varies (its own positions included when it has any).
fn fixed_classes<'h>(
    items: impl Iterator<Item = &'h Hir>,
    direction: Direction,
) -> Vec<(isize, ByteSet)> {
    let mut tests: Vec<(isize, ByteSet)> = Vec::new();
    // Adds the next position's class; `false` once past MAX_OFFSET.
    let mut push = |set: ByteSet| {
        let n = tests.len();
        if n >= MAX_OFFSET {
            return false;
        }
        let offset = match direction {
            Direction::Forward => n as isize,
            Direction::Backward => -(n as isize) - 1,
        };
        tests.push((offset, set));
        true
    };
    'items: for item in items {
        let (class, min, fixed) = match item.kind() {
            // Zero-width: skipping one only drops a condition.
            HirKind::Look(_) | HirKind::Empty => continue,
            HirKind::Literal(lit) => {
                let mut bytes = lit.0.to_vec();
                if direction == Direction::Backward {
                    bytes.reverse();
                }
                for b in bytes {
                    if !push(ByteSet::single(b)) {
                        break 'items;
                    }
                }
                continue;
            }
            HirKind::Class(_) => match one_byte_class(item) {
                Some(set) => (set, 1, true),
                None => break,
            },
            HirKind::Repetition(rep) => match one_byte_class(&rep.sub) {
                Some(set) => (set, rep.min as usize, rep.max == Some(rep.min)),
                None => break,
            },
            // A boundary such as `(?:^|[^0-9A-Za-z_-])` before the
            // occurrence: one byte of the class, or none at the text's
            // start (a missing byte is never rejected). Its length varies,
            // so nothing before it is at a fixed offset.
            HirKind::Alternation(branches) if direction == Direction::Backward => {
                let mut set = ByteSet::EMPTY;
                for branch in branches {
                    match branch.kind() {
                        HirKind::Look(Look::Start) => {}
                        HirKind::Look(Look::StartLF) => set.add(b'\n'),
                        HirKind::Look(Look::StartCRLF) => {
                            set.add(b'\n');
                            set.add(b'\r');
                        }
                        _ => match last_byte_class(branch) {
                            Some(class) => set.union_with(&class),
                            None => break 'items,
                        },
                    }
                }
                // Only the text's start can stand for no byte here.
                (set, 1, false)
            }
            _ => break,
        };
        for _ in 0..min {
            if !push(class) {
                break 'items;
            }
        }
        if !fixed {
            break;
        }
    }
    tests
}

/// The sequence `hir` spells, with groups and nested sequences opened.
pub(super) fn flatten(hir: &Hir, out: &mut Vec<Hir>) {
    match hir.kind() {
        HirKind::Concat(items) => items.iter().for_each(|i| flatten(i, out)),
        HirKind::Capture(cap) => flatten(&cap.sub, out),
        _ => out.push(hir.clone()),
    }
}

/// The bytes a class can end with, reading backwards: its ASCII members,
/// and the UTF-8 continuation bytes when it has others. `None` for what is
/// not a class. Whether it is one byte long is [`one_byte_class`]'s answer.
fn last_byte_class(hir: &Hir) -> Option<ByteSet> {
    if let Some(set) = one_byte_class(hir) {
        return Some(set);
    }
    let HirKind::Class(Class::Unicode(c)) = hir.kind() else {
        return None;
    };
    let mut set = ByteSet::EMPTY;
    for r in c.ranges() {
        if let (Ok(lo), Ok(hi)) = (u8::try_from(r.start()), u8::try_from(r.end().min('\x7f'))) {
            set.add_range(lo, hi);
        }
    }
    set.add_range(0x80, 0xbf); // UTF-8 continuation bytes
    Some(set)
}

/// The bytes of a class (or one-byte literal) that matches exactly one
/// byte; `None` for anything that can match more (a non-ASCII character
/// is several bytes).
fn one_byte_class(hir: &Hir) -> Option<ByteSet> {
    let mut set = ByteSet::EMPTY;
    match hir.kind() {
        HirKind::Literal(lit) if lit.0.len() == 1 => set.add(lit.0[0]),
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                set.add_range(r.start(), r.end());
            }
        }
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.ranges() {
                let (Ok(lo), Ok(hi)) = (u8::try_from(r.start()), u8::try_from(r.end())) else {
                    return None;
                };
                if hi > 0x7f {
                    return None;
                }
                set.add_range(lo, hi);
            }
        }
        _ => return None,
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_rng::XorShift64;

    fn of(pattern: &str) -> FixedBytes {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .expect("test pattern");
        FixedBytes::of(&hir, 0)
    }

    #[test]
    fn airtable_pat_is_judged_first_by_its_dot() {
        let f = of(r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}");
        assert_eq!(f.tests.first().map(|t| t.0), Some(17));
        assert!(!f.may_match_at(b"the path to the pattern file", 4));
        assert!(f.may_match_at(b"x patAbcdefghijklm0.0123abcd", 2));
        // Past the text's end nothing is rejected.
        assert!(f.may_match_at(b"pat", 0));
    }

    #[test]
    fn a_left_boundary_is_one_byte_before_or_the_start() {
        let prefix = regex_syntax::parse(r"(?:^|[^0-9A-Za-z_-])").expect("test pattern");
        let f = of(r"re_[a-z]{4}").with_prefix(&prefix);
        assert!(!f.may_match_at(b"are_good", 1));
        assert!(f.may_match_at(b"re_good", 0));
        assert!(f.may_match_at(b"x re_good", 2));
        let lines = regex_syntax::parse(r"(?m:^)x:").expect("test pattern");
        let f = of(r"re_").with_prefix(&lines);
        assert!(f.may_match_at(b"a\nx:re_", 4));
        assert!(!f.may_match_at(b"a\ny:re_", 4));
    }

    #[test]
    fn offsets_before_from_are_not_tested() {
        let hir = regex_syntax::parse(r"pat[0-9]\.").expect("test pattern");
        assert_eq!(
            FixedBytes::of(&hir, 3)
                .tests
                .iter()
                .map(|t| t.0)
                .collect::<Vec<_>>(),
            [4, 3]
        );
    }

    #[test]
    fn a_variable_run_ends_the_fixed_offsets() {
        let f = of(r"ab[0-9]+c");
        // a, b, one digit; `c` is at no fixed offset.
        assert!(f.may_match_at(b"ab1xc", 0));
        assert!(!f.may_match_at(b"abxc", 0));
        assert!(f.len() <= 3);
    }

    #[test]
    fn non_ascii_classes_and_alternations_stop_the_tests() {
        assert_eq!(of(r"ab(?:c|dd)e").len(), 2);
        assert_eq!(of(r"a\w{4}").len(), 1); // Unicode \w is several bytes
        assert_eq!(of(r"(?-u:\w){4}z").len(), 5);
        // Unicode case folding adds non-ASCII letters (K: the Kelvin sign).
        assert_eq!(of(r"(?i)sk-").len(), 0);
    }

    /// Every string a pattern matches passes its tests. Each pattern's
    /// sample match is mutated (bytes replaced, inserted, deleted, from an
    /// alphabet of the patterns' own bytes); every mutant the regex still
    /// matches, anchored, must pass, and the tests must reject some of the
    /// others (or they test nothing).
    #[test]
    fn never_rejects_a_match() {
        let cases = [
            (r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}", "patAbcdefghij0123.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            (r"(?i-u)sk-[a-z0-9]{4}_?[A-Z]{2,3}x", "SK-ab12_QRSx"),
            (r"://[^\s:/@]{1,64}:[^\s/@]{1,64}@", "://user:pw@"),
            (r"re_[A-Za-z0-9_]{8}\b[ .]x", "re_abcd_123 x"),
            (r"eyJ[A-Za-z0-9_-]{10,}\.eyJ", "eyJabcdefghij_k.eyJ"),
            (r"(?-u:\b)ghp_[0-9A-Za-z]{36}", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
            (r"x{3}[ab]{2,2}(?:y|z)", "xxxaby"),
        ];
        // Each with a left boundary before it: the occurrence is where the
        // rest begins, found by matching the rest at every offset.
        let boundaries = [
            r"(?:^|[^0-9A-Za-z_-])",
            r"(?m:^)",
            r"[a-z]{2}\s",
            r"(?:^|[\s=])",
        ];
        let alphabet = b"patxyzAB09._-:/@ \nskre_eyJghpabfQ";
        let mut rng = XorShift64::new(0x5eed_f1bd);
        for (pattern, sample) in cases {
            for boundary in boundaries {
                let prefix = regex_syntax::parse(boundary).expect("test boundary");
                let f = of(pattern).with_prefix(&prefix);
                let re = regex::bytes::Regex::new(&format!("(?:{boundary})(?P<k>{pattern})"))
                    .expect("pattern");
                let seed = format!("ab\n{sample}");
                assert!(re.is_match(seed.as_bytes()), "{boundary}{pattern}: sample");
                let (mut matched, mut rejected) = (0, 0);
                for _ in 0..4_000 {
                    let mut text = seed.as_bytes().to_vec();
                    for _ in 0..1 + rng.next_u64() % 3 {
                        let at = (rng.next_u64() % (text.len() as u64 + 1)) as usize;
                        let b = alphabet[(rng.next_u64() % alphabet.len() as u64) as usize];
                        match rng.next_u64() % 3 {
                            0 if at < text.len() => text[at] = b,
                            1 => text.insert(at, b),
                            _ if at < text.len() => {
                                text.remove(at);
                            }
                            _ => {}
                        }
                    }
                    let mut occurrences = Vec::new();
                    for caps in re.captures_iter(&text) {
                        let k = caps.name("k").expect("group k").start();
                        matched += 1;
                        occurrences.push(k);
                        assert!(
                            f.may_match_at(&text, k),
                            "{boundary}{pattern} rejected a match at {k}: {:?}",
                            String::from_utf8_lossy(&text)
                        );
                    }
                    rejected += (0..text.len())
                        .filter(|o| !occurrences.contains(o) && !f.may_match_at(&text, *o))
                        .count();
                }
                assert!(
                    matched > 100 && rejected > 100,
                    "{boundary}{pattern}: {matched} matched, {rejected} rejected"
                );
            }
        }
    }
}
