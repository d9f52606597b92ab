//! The sampled filter must report exactly the keywords a plain
//! case-insensitive substring search finds: recall is the whole contract.

use super::*;
use crate::core::finding::Direction;
use crate::core::rules::registry::builtin_for;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::OnceLock;

fn naive(keywords: &[Vec<u8>], text: &[u8]) -> BTreeSet<usize> {
    let lower = text.to_ascii_lowercase();
    keywords
        .iter()
        .enumerate()
        .filter(|(_, k)| lower.windows(k.len()).any(|w| w == k.as_slice()))
        .map(|(i, _)| i)
        .collect()
}

/// The keywords found, by the SIMD path (where the CPU has it) and by the
/// scalar path, which must agree.
fn sampled(filter: &KeywordFilter, text: &[u8]) -> BTreeSet<usize> {
    let mut both = [true, false].map(|use_simd| {
        let mut out = BTreeSet::new();
        filter.scan_with(
            text,
            |k, _| {
                out.insert(k);
                false
            },
            false,
            use_simd && simd::available(),
        );
        out
    });
    assert_eq!(both[0], both[1], "SIMD and scalar paths differ");
    let every = occurrences(filter, text);
    let from_every: BTreeSet<usize> = every.iter().map(|&(k, _)| k).collect();
    assert_eq!(both[0], from_every, "presence and occurrence scans differ");
    std::mem::take(&mut both[0])
}

/// Every (keyword, start) a plain case-insensitive search finds.
fn naive_occurrences(keywords: &[Vec<u8>], text: &[u8]) -> BTreeSet<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut out = BTreeSet::new();
    for (i, k) in keywords.iter().enumerate() {
        for (at, w) in lower.windows(k.len()).enumerate() {
            if w == k.as_slice() {
                out.insert((i, at));
            }
        }
    }
    out
}

/// Every occurrence, by both paths, which must agree, each reported once.
fn occurrences(filter: &KeywordFilter, text: &[u8]) -> BTreeSet<(usize, usize)> {
    let mut both = [true, false].map(|use_simd| {
        let mut out = Vec::new();
        filter.scan_with(
            text,
            |k, at| {
                out.push((k, at));
                false
            },
            true,
            use_simd && simd::available(),
        );
        let set: BTreeSet<(usize, usize)> = out.iter().copied().collect();
        assert_eq!(set.len(), out.len(), "an occurrence was reported twice");
        set
    });
    assert_eq!(both[0], both[1], "SIMD and scalar occurrence paths differ");
    std::mem::take(&mut both[0])
}

/// Random blocks of `N` bytes, mostly letters and keyword punctuation with
/// a built-in keyword planted in every third, so real hits happen.
fn random_blocks<const N: usize>(seed: u64, count: u32) -> impl Iterator<Item = [u8; N]> {
    let mut rng = crate::core::test_rng::XorShift64::new(seed);
    let (kws, _) = builtin(Direction::Outbound);
    (0..count).map(move |round| {
        let mut next = || rng.next_u64();
        let mut bytes = [0u8; N];
        for b in bytes.iter_mut() {
            *b = match next() % 8 {
                0 => (next() % 256) as u8,
                1 => b"_-.:/~ "[(next() % 7) as usize],
                _ => b'a' + (next() % 26) as u8,
            };
        }
        if round % 3 == 0 {
            let kw = &kws[(next() % kws.len() as u64) as usize];
            let at = (next() % (N as u64 - 8)) as usize;
            let n = kw.len().min(N - at);
            bytes[at..at + n].copy_from_slice(&kw[..n]);
        }
        bytes
    })
}

#[test]
fn simd_window_test_equals_the_scalar_one() {
    if !simd::available() {
        return; // nothing to compare on this CPU
    }
    let (_, filter) = builtin(Direction::Outbound);
    let mut hits = 0u32;
    for bytes in random_blocks::<24>(0x2545_f491_4f6c_dd1d, 200_000) {
        let mask = simd::hits8(&filter.table, &bytes);
        for k in 0..8 {
            let w = window_at(&bytes, 2 * k) | FOLD;
            assert_eq!(mask >> k & 1 == 1, filter.hit(w), "{bytes:?} window {k}");
        }
        hits += mask.count_ones();
    }
    assert!(hits > 10_000, "the test planted too few hits: {hits}");
}

#[test]
fn avx512_window_test_equals_the_scalar_one() {
    let (_, filter) = builtin(Direction::Outbound);
    let mut hits = 0u32;
    for bytes in random_blocks::<64>(0x9e37_79b9_7f4a_7c15, 100_000) {
        let Some(mask) = simd::hits16(&filter.table, &bytes) else {
            return; // nothing to compare on this CPU
        };
        for k in 0..16 {
            let w = window_at(&bytes, 2 * k) | FOLD;
            assert_eq!(mask >> k & 1 == 1, filter.hit(w), "{bytes:?} window {k}");
        }
        hits += mask.count_ones();
    }
    assert!(hits > 10_000, "the test planted too few hits: {hits}");
}

/// The built-in keywords of `direction` and their filter, built once.
fn builtin(direction: Direction) -> &'static (Vec<Vec<u8>>, KeywordFilter) {
    static OUT: OnceLock<(Vec<Vec<u8>>, KeywordFilter)> = OnceLock::new();
    static IN: OnceLock<(Vec<Vec<u8>>, KeywordFilter)> = OnceLock::new();
    let cell = match direction {
        Direction::Outbound => &OUT,
        Direction::Inbound => &IN,
    };
    cell.get_or_init(|| {
        let kws = builtin_keywords(direction);
        let filter = KeywordFilter::new(&kws).expect("built-in keywords compile");
        (kws, filter)
    })
}

fn builtin_keywords(direction: Direction) -> Vec<Vec<u8>> {
    let mut kws: Vec<Vec<u8>> = builtin_for(direction)
        .flat_map(|s| s.keywords.iter().map(|k| k.as_bytes().to_vec()))
        .collect();
    kws.sort();
    kws.dedup();
    kws
}

/// Flips the case of the letters selected by `mask`, cycling through it.
fn recase(bytes: &[u8], mask: u64) -> Vec<u8> {
    bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if mask >> (i % 64) & 1 == 1 {
                b.to_ascii_uppercase()
            } else {
                b
            }
        })
        .collect()
}

#[test]
fn every_builtin_keyword_is_found_at_every_offset_and_both_ends() {
    for direction in [Direction::Outbound, Direction::Inbound] {
        let (kws, filter) = builtin(direction);
        for (i, kw) in kws.iter().enumerate() {
            for case in [0u64, u64::MAX, 0x5555_5555_5555_5555] {
                let kw = recase(kw, case);
                // Alone, then behind 0..=17 bytes of filler and before 0..=3.
                assert!(sampled(filter, &kw).contains(&i), "{kw:?} alone");
                for lead in 0..=17 {
                    for tail in 0..=3 {
                        let mut text = vec![b'~'; lead];
                        text.extend_from_slice(&kw);
                        text.extend(std::iter::repeat_n(b'~', tail));
                        assert!(
                            sampled(filter, &text).contains(&i),
                            "{:?} at {lead} with {tail} after",
                            String::from_utf8_lossy(&kw)
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn keywords_shorter_than_three_bytes_are_refused() {
    let err = KeywordFilter::new(&["ok", "fine"]).expect_err("too short");
    assert!(err.to_string().contains("\"ok\""), "{err}");
}

#[test]
fn returning_true_stops_the_scan() {
    let filter = KeywordFilter::new(&["alpha", "beta"]).expect("compiles");
    let mut calls = 0;
    filter.scan(b"alpha beta alpha beta", |_| {
        calls += 1;
        true
    });
    assert_eq!(calls, 1);
}

/// Text pieces that stress the sampler: keywords in any case, their
/// prefixes and suffixes (near misses), bytes that fold onto letters under
/// `| 0x20`, and random bytes.
fn piece(kws: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = kws.len();
    let kws2 = kws.clone();
    prop_oneof![
        (0..n, any::<u64>()).prop_map(move |(i, m)| recase(&kws[i], m)),
        (0..n, any::<bool>(), 1usize..6).prop_map(move |(i, head, cut)| {
            let k = &kws2[i];
            let cut = cut.min(k.len() - 1);
            if head {
                k[..k.len() - cut].to_vec()
            } else {
                k[cut..].to_vec()
            }
        }),
        proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'@'), Just(b'_'), Just(0x7f), Just(b' ')],
            0..9
        ),
    ]
}

fn text(kws: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(piece(kws), 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn outbound_sampling_equals_substring_search(t in text(builtin_keywords(Direction::Outbound))) {
        let (kws, filter) = builtin(Direction::Outbound);
        prop_assert_eq!(sampled(filter, &t), naive(kws, &t));
        prop_assert_eq!(occurrences(filter, &t), naive_occurrences(kws, &t));
    }

    #[test]
    fn inbound_sampling_equals_substring_search(t in text(builtin_keywords(Direction::Inbound))) {
        let (kws, filter) = builtin(Direction::Inbound);
        prop_assert_eq!(sampled(filter, &t), naive(kws, &t));
        prop_assert_eq!(occurrences(filter, &t), naive_occurrences(kws, &t));
    }

    #[test]
    fn arbitrary_keywords_equal_substring_search(
        kws in proptest::collection::vec(proptest::collection::vec(
            prop_oneof![b'a'..=b'f', Just(b'_'), Just(b'.'), Just(0u8), Just(0xffu8)], 3..9), 1..12),
        t in proptest::collection::vec(
            prop_oneof![b'a'..=b'f', b'A'..=b'F', Just(b'_'), Just(b'.'), Just(0u8), Just(0xffu8), Just(b'\x7f')], 0..200),
    ) {
        let kws: Vec<Vec<u8>> = kws.into_iter().map(|k| k.to_ascii_lowercase()).collect();
        let filter = KeywordFilter::new(&kws).expect("compiles");
        prop_assert_eq!(sampled(&filter, &t), naive(&kws, &t));
        prop_assert_eq!(occurrences(&filter, &t), naive_occurrences(&kws, &t));
    }
}

/// The first test (two bits per window in one word) lets few windows
/// through by collision: each is a branch and a second lookup in the scan
/// loop. Counted over 200,000 fixed pseudo-random folded windows, not timed.
#[test]
fn the_first_test_passes_few_windows_by_collision() {
    for direction in [Direction::Outbound, Direction::Inbound] {
        let (_, filter) = builtin(direction);
        let mut rng = crate::core::test_rng::XorShift64::new(0x1234_5678);
        let (mut tried, mut collided) = (0u32, 0u32);
        while tried < 200_000 {
            let w = rng.next_u64() as u32 | FOLD;
            if filter.probes.contains_key(&w) {
                continue; // a keyword's own window
            }
            tried += 1;
            collided += u32::from(filter.hit(w));
        }
        // One bit in 128 KiB let about 1.5 % through; two in a word, ~0.2 %.
        assert!(
            collided < tried / 200,
            "{direction:?}: {collided} of {tried} windows pass the first test"
        );
    }
}

/// Binary search over the generated table needs it sorted, without repeats.
#[test]
fn common_trigrams_are_sorted_by_trigram() {
    assert!(COMMON_TRIGRAMS.windows(2).all(|p| p[0].0 < p[1].0));
    assert!(COMMON_TRIGRAMS.len() >= 1024);
}

/// A keyword is sampled where ordinary words do not hold its windows:
/// `ltai` not on `lta` (every `delta` of a stream), `bkagent_` not on
/// `kage` or `agen` (every `package`, `agent`). Counted: no window of such
/// text, at any offset, passes both tables of a filter of that keyword.
#[test]
fn keywords_are_sampled_where_ordinary_words_do_not_hold_them() {
    for (kw, words) in [
        (
            "ltai",
            "data: {\"type\":\"content_block_delta\",\"delta\":{}}\n\n",
        ),
        ("bkagent_", "package agent user_agent client_id agents "),
        (
            ".git-credentials",
            "https://github.com/a/b.git credentials ",
        ),
    ] {
        let filter = KeywordFilter::new(&[kw]).expect("compiles");
        let text = words.repeat(4);
        let passing: Vec<usize> = (0..text.len())
            .filter(|&i| {
                let w = window_at(text.as_bytes(), i) | FOLD;
                filter.hit(w) && filter.hit2(w)
            })
            .collect();
        assert!(
            passing.is_empty(),
            "{kw}: windows at {passing:?} of {words:?} pass"
        );
    }
}

/// Texts of many blocks: the AVX-512 loop tests blocks in batches of 4 KiB
/// and handles their hits after, so keywords are planted across and right
/// beside batch boundaries, and every occurrence must still be reported.
#[test]
fn long_texts_report_every_occurrence_across_batches() {
    for direction in [Direction::Outbound, Direction::Inbound] {
        let (kws, filter) = builtin(direction);
        let mut rng = crate::core::test_rng::XorShift64::new(0x51ab_1e5e_ed00_0001);
        let mut text: Vec<u8> = (0..40_000)
            .map(|_| b"etaoin shrdlu_-.:/"[(rng.next_u64() % 18) as usize])
            .collect();
        let plant = |text: &mut Vec<u8>, at: usize, kw: &[u8]| {
            if let Some(slot) = text.get_mut(at..at + kw.len()) {
                slot.copy_from_slice(kw);
            }
        };
        for (i, kw) in kws.iter().enumerate() {
            let near_boundary = 4096 * (1 + i % 9) + (i % 11) - 5;
            plant(&mut text, near_boundary, kw);
            let anywhere = (rng.next_u64() % 39_900) as usize;
            plant(&mut text, anywhere, kw);
        }
        assert_eq!(
            occurrences(filter, &text),
            naive_occurrences(kws, &text),
            "{direction:?}"
        );
        assert_eq!(sampled(filter, &text), naive(kws, &text), "{direction:?}");
    }
}

#[test]
fn failed_verifications_count_windows_without_their_keyword() {
    let filter = KeywordFilter::new(&["exfiltrate", "curl"]).expect("compiles");
    let mut failed = [0u64; 2];
    // Only the keywords themselves: every sampled window holds its keyword.
    filter.failed_verifications(b"curl x exfiltrate curl exfiltrate", &mut failed);
    assert_eq!(failed, [0, 0]);
    // Each sampled window of each keyword, alone at an even offset and
    // padded so the keyword cannot occur: one failure per window placed.
    for (&window, &(from, to)) in &filter.probes {
        let probes = &filter.probe_list[from as usize..to as usize];
        let bytes = window.to_le_bytes();
        if !bytes.iter().all(|b| b.is_ascii_lowercase()) {
            continue; // a free byte folded to a non-letter: not a text window
        }
        let mut text = b"%%%%".to_vec();
        text.extend_from_slice(&bytes);
        text.extend_from_slice(b"%%%%");
        let mut failed = [0u64; 2];
        filter.failed_verifications(&text, &mut failed);
        for p in probes {
            let k = usize::from(p.keyword);
            let keyword = &filter.keywords[k];
            if text
                .windows(keyword.len())
                .any(|w| w.eq_ignore_ascii_case(keyword))
            {
                continue; // the window is the keyword itself
            }
            assert!(
                failed[k] >= 1,
                "window {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}
