//! Keyword prefilter: which of a few hundred keywords occur in a text,
//! compared ASCII case-insensitively, at well over 1 GB/s.
//!
//! An Aho-Corasick automaton over ~260 case-insensitive keywords walks every
//! byte (≈ 0.5 GB/s here, and SIMD literal searchers stop scaling past ~64
//! patterns), so the filter samples instead. Every keyword is at least
//! [`MIN_KEYWORD_LEN`] bytes long, so each occurrence covers a 4-byte window
//! starting at an even offset of the text, at one of two known positions
//! relative to the keyword. The filter hashes only those windows (every
//! second offset), tests each window against a Bloom filter of every window
//! a keyword can produce, then a second bit table, and verifies the rare
//! hits exactly.
//!
//! Each keyword is sampled on the pair of adjacent windows rarest in
//! ordinary text ([`COMMON_TRIGRAMS`], measured on text the benchmarks do
//! not use): a window may also stand one byte before the keyword or over its
//! last three bytes, with one free byte entered into the tables for all 256
//! values. Keywords shorter than 5 bytes have only such pairs. A window
//! inside common words (`kage` of `bkagent_` in every `package`) would send
//! the filter to verify, in vain, tens of thousands of times per MB.
//!
//! Windows are compared case-folded with `| 0x20` on every byte. That folds
//! ASCII letters and maps a few other bytes together too, which only adds
//! hits that the exact, case-insensitive verification then rejects.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

mod common_trigrams;
use common_trigrams::COMMON_TRIGRAMS;

/// Keywords shorter than this cannot be sampled at every second offset.
pub const MIN_KEYWORD_LEN: usize = 3;

/// log2 of the number of bits in the second test's table: 2^20 bits is
/// 128 KiB, small enough for L2, sparse enough (≈ 1.5 % of bits set by the
/// built-in rules) that most benign windows miss.
const TABLE_BITS: u32 = 20;

const TABLE_WORDS: usize = (1 << TABLE_BITS) / 64;

/// log2 of the first test's 32-bit words: 128 KiB. Two bits per window in
/// one word (a blocked Bloom filter) cost one gather per eight windows like
/// the single bit before, and let a ninth as many windows through by
/// collision (docs outbound: 0.24 % of windows instead of 2.1 %), each a
/// mispredicted branch and a second lookup: outbound +7…16 %.
const BLOCK_BITS: u32 = 15;
const BLOCKS: usize = 1 << BLOCK_BITS;

/// Multiplier whose product picks a window's two bits in its word.
const BIT_MULTIPLIER: u32 = 0x27D4_EB2F;

/// A window's word in the first test, and its two bits there.
#[inline(always)]
fn block(folded: u32) -> (usize, u32) {
    let word = (folded.wrapping_mul(HASH_MULTIPLIER) >> (32 - BLOCK_BITS)) as usize;
    let g = folded.wrapping_mul(BIT_MULTIPLIER);
    (word, (1 << (g >> 27)) | (1 << ((g >> 22) & 31)))
}

const FOLD: u32 = 0x2020_2020;

/// A keyword's window, as the table sees it.
#[derive(Debug, Clone, Copy)]
struct Probe {
    keyword: u16,
    /// The keyword starts this many bytes after the window (negative: before).
    start: i8,
}

/// Where in a 4-byte window a probe's known bytes are; the others are free.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// All 4 bytes belong to the keyword.
    Full,
    /// Bytes 0..3 do; byte 3 follows the keyword.
    Head,
    /// Bytes 1..4 do; byte 0 precedes the keyword.
    Tail,
}

/// A keyword shorter than [`MIN_KEYWORD_LEN`] or longer than `u16::MAX`
/// keywords in one set: both are defects in the rule catalogue.
#[derive(Debug, thiserror::Error)]
pub enum PrefilterError {
    #[error("keyword {0:?} is shorter than {MIN_KEYWORD_LEN} bytes")]
    TooShort(String),
    #[error("more than {} keywords", u16::MAX)]
    TooMany,
    #[error("keyword windows past offset 127")]
    TooLong,
}

/// The compiled filter over one set of keywords.
#[derive(Debug)]
pub struct KeywordFilter {
    /// The first test: a blocked Bloom filter, two bits per window in one
    /// 32-bit word (see [`BLOCK_BITS`]).
    table: Box<[u32; BLOCKS]>,
    /// The same windows under a second hash, one bit each: a window must
    /// pass both tests before its probes are looked up (a fifth of the
    /// first test's hits on docs stop here).
    table2: Box<[u64; TABLE_WORDS]>,
    /// For each folded window a keyword can produce (free bytes filled in
    /// all 256 ways), the range of `probe_list` to verify.
    probes: HashMap<u32, (u32, u32), BuildHasherDefault<WindowHasher>>,
    probe_list: Vec<Probe>,
    /// The keywords, lowercase.
    keywords: Vec<Box<[u8]>>,
}

/// The window `p` bytes after the start of `kw` (-1 to `kw.len() - 3`;
/// `kw` at least 3 bytes), folded: its shape, its bytes (a free one is
/// filled in later) and where the keyword starts relative to it. Before
/// the keyword, or over its last three bytes, a window has a free byte.
fn window_at_offset(kw: &[u8], p: isize) -> (Shape, u32, isize) {
    let b = |k: isize| {
        usize::try_from(k)
            .ok()
            .and_then(|k| kw.get(k))
            .copied()
            .unwrap_or(0)
    };
    let shape = if p < 0 {
        Shape::Tail
    } else if p + 4 > kw.len() as isize {
        Shape::Head
    } else {
        Shape::Full
    };
    let window = u32::from_le_bytes([b(p), b(p + 1), b(p + 2), b(p + 3)]) | FOLD;
    (shape, window, -p)
}

/// What a window with a free byte costs over its three known bytes' own
/// frequency, in log units: it enters the tables 256 times, so too many
/// of them make the first test let more windows through by collision.
const FREE_BYTE_COST: f32 = 1.4;

/// The second table's slot: another multiplier, so a collision in one
/// table is independent of the other.
#[inline(always)]
fn slot2(folded: u32) -> usize {
    (folded.wrapping_mul(0x85EB_CA77) >> (32 - TABLE_BITS)) as usize
}

/// Multiplicative hash of a folded window (the table slot is its top bits).
const HASH_MULTIPLIER: u32 = 0x9E37_79B1;

#[inline(always)]
fn read_u64(text: &[u8], at: usize) -> u64 {
    match text.get(at..at + 8) {
        Some(&[a, b, c, d, e, f, g, h]) => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
        _ => 0,
    }
}

#[inline(always)]
fn window_at(text: &[u8], i: usize) -> u32 {
    match text.get(i..i + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => {
            // Past the end: pad with spaces. A padded window can only start
            // a verification, which checks the real text bounds.
            let mut w = [b' '; 4];
            for (k, byte) in w.iter_mut().enumerate() {
                if let Some(&b) = text.get(i + k) {
                    *byte = b;
                }
            }
            u32::from_le_bytes(w)
        }
    }
}

impl KeywordFilter {
    /// Builds the filter. `keywords` are compared ASCII case-insensitively;
    /// each must be at least [`MIN_KEYWORD_LEN`] bytes.
    pub fn new<K: AsRef<[u8]>>(keywords: &[K]) -> Result<KeywordFilter, PrefilterError> {
        if keywords.len() > usize::from(u16::MAX) {
            return Err(PrefilterError::TooMany);
        }
        let mut filter = KeywordFilter {
            table: Box::new([0u32; BLOCKS]),
            table2: Box::new([0u64; TABLE_WORDS]),
            probes: HashMap::default(),
            probe_list: Vec::new(),
            keywords: Vec::with_capacity(keywords.len()),
        };
        let mut by_window: BTreeMap<u32, Vec<Probe>> = BTreeMap::new();
        for (index, kw) in keywords.iter().enumerate() {
            let kw = kw.as_ref().to_ascii_lowercase();
            if kw.len() < MIN_KEYWORD_LEN {
                return Err(PrefilterError::TooShort(
                    String::from_utf8_lossy(&kw).into_owned(),
                ));
            }
            let keyword = u16::try_from(index).map_err(|_| PrefilterError::TooMany)?;
            // Two windows, one byte apart, so an even offset meets one of
            // them: of all such pairs the keyword has, the two rarest in
            // ordinary text (see [`window_at_offset`]).
            let cost = |p: isize| {
                let (shape, _, _) = window_at_offset(&kw, p);
                let from = usize::try_from(p).unwrap_or(0);
                match shape {
                    Shape::Full => log_frequency(kw.get(from..from + 4).unwrap_or_default()),
                    Shape::Tail => log_frequency(kw.get(..3).unwrap_or_default()) + FREE_BYTE_COST,
                    Shape::Head => {
                        log_frequency(kw.get(from..).unwrap_or_default()) + FREE_BYTE_COST
                    }
                }
            };
            let pair_cost = |p: isize| {
                let (a, c) = (cost(p), cost(p + 1));
                (a.max(c), a + c)
            };
            let last = kw.len() as isize - 4;
            let p = (-1..=last)
                .min_by(|&x, &y| {
                    pair_cost(x)
                        .partial_cmp(&pair_cost(y))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .unwrap_or(-1);
            for p in [p, p + 1] {
                let (shape, window, start) = window_at_offset(&kw, p);
                let start = i8::try_from(start).map_err(|_| PrefilterError::TooLong)?;
                filter.add(&mut by_window, shape, window, keyword, start);
            }
            filter.keywords.push(kw.into_boxed_slice());
        }
        for (window, mut probes) in by_window {
            probes.sort_by_key(|p| (p.keyword, p.start));
            probes.dedup_by_key(|p| (p.keyword, p.start));
            let from =
                u32::try_from(filter.probe_list.len()).map_err(|_| PrefilterError::TooMany)?;
            filter.probe_list.extend(probes);
            let to = u32::try_from(filter.probe_list.len()).map_err(|_| PrefilterError::TooMany)?;
            filter.probes.insert(window, (from, to));
        }
        Ok(filter)
    }

    fn add(
        &mut self,
        by_window: &mut BTreeMap<u32, Vec<Probe>>,
        shape: Shape,
        window: u32,
        keyword: u16,
        start: i8,
    ) {
        let free: &[u32] = match shape {
            Shape::Full => &[0],
            // Every value of the free byte, folded the way the scan folds it.
            Shape::Head | Shape::Tail => &FREE_BYTES,
        };
        for &f in free {
            let filled = match shape {
                Shape::Full => window,
                Shape::Head => (window & 0x00FF_FFFF) | (f << 24),
                Shape::Tail => (window & 0xFFFF_FF00) | f,
            };
            let (word, bits) = block(filled);
            self.table[word % BLOCKS] |= bits;
            let s2 = slot2(filled);
            self.table2[(s2 / 64) % TABLE_WORDS] |= 1 << (s2 % 64);
            by_window
                .entry(filled)
                .or_default()
                .push(Probe { keyword, start });
        }
    }

    #[inline(always)]
    fn hit(&self, folded: u32) -> bool {
        let (word, bits) = block(folded);
        // `block` gives a word below BLOCKS, so the index is in bounds.
        self.table[word % BLOCKS] & bits == bits
    }

    /// Calls `found(keyword index)` once for each keyword occurring in
    /// `text`, until `found` returns `true` to stop the scan early.
    pub fn scan(&self, text: &[u8], mut found: impl FnMut(usize) -> bool) {
        self.scan_with(text, |k, _| found(k), false, simd::available());
    }

    /// Calls `found(keyword index, start)` for every occurrence of every
    /// keyword in `text`, in no particular order. The scanner runs each
    /// rule's regex only around its keywords' occurrences.
    pub fn occurrences(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        self.scan_with(
            text,
            |k, at| {
                found(k, at);
                false
            },
            true,
            simd::available(),
        );
    }

    /// [`scan`](Self::scan) or, with `every`, [`occurrences`](Self::occurrences),
    /// with the AVX2 path only when `use_simd` (and the CPU has it): the
    /// tests compare both paths.
    fn scan_with(
        &self,
        text: &[u8],
        found: impl FnMut(usize, usize) -> bool,
        every: bool,
        use_simd: bool,
    ) {
        let mut state = ScanState::new(self.keywords.len(), found, every);
        let mut i = 0usize;
        if use_simd {
            match simd::scan_blocks(self, text, &mut state) {
                Some(next) => i = next,
                None => return,
            }
        }
        // Four windows (offsets i, i+2, i+4, i+6) per 12 bytes read.
        let body_end = text.len().saturating_sub(11);
        while i < body_end {
            let lo = read_u64(text, i) | 0x2020_2020_2020_2020;
            let hi = read_u64(text, i + 4) | 0x2020_2020_2020_2020;
            let windows = [lo as u32, (lo >> 16) as u32, hi as u32, (hi >> 16) as u32];
            if self.hit(windows[0])
                | self.hit(windows[1])
                | self.hit(windows[2])
                | self.hit(windows[3])
            {
                for (k, &w) in windows.iter().enumerate() {
                    if self.hit(w) && self.hit2(w) && self.verify(text, i + 2 * k, w, &mut state) {
                        return;
                    }
                }
            }
            i += 8;
        }
        while i < text.len() {
            let w = window_at(text, i) | FOLD;
            if self.hit(w) && self.hit2(w) && self.verify(text, i, w, &mut state) {
                return;
            }
            i += 2;
        }
    }

    /// For profiling (`rule_cost --misses`), not scanning: adds to
    /// `failed[k]` how often keyword `k`'s sampled windows stand in `text`
    /// where `k` does not, each a verification that
    /// [`occurrences`](Self::occurrences) makes in vain. A keyword costs
    /// the scan there whatever rule owns it, so this is how a new keyword
    /// is judged before it lands.
    pub fn failed_verifications(&self, text: &[u8], failed: &mut [u64]) {
        for at in (0..text.len()).step_by(2) {
            let w = window_at(text, at) | FOLD;
            let Some(&(from, to)) = self.probes.get(&w) else {
                continue;
            };
            for p in self
                .probe_list
                .get(from as usize..to as usize)
                .unwrap_or_default()
            {
                if self.occurrence(text, at, p).is_none() {
                    if let Some(n) = failed.get_mut(usize::from(p.keyword)) {
                        *n += 1;
                    }
                }
            }
        }
    }

    /// Where probe `p`'s keyword starts, if it stands there in `text`
    /// (compared case-insensitively) for the window at `at`: the exact test
    /// behind both the scan's verification and `failed_verifications`.
    #[inline(always)]
    fn occurrence(&self, text: &[u8], at: usize, p: &Probe) -> Option<usize> {
        let start = at.checked_add_signed(isize::from(p.start))?;
        let kw = self.keywords.get(usize::from(p.keyword))?;
        text.get(start..start + kw.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(kw))
            .then_some(start)
    }

    /// The second table's test, inline in the scan loops, without a call.
    #[inline(always)]
    fn hit2(&self, folded: u32) -> bool {
        let s2 = slot2(folded);
        self.table2[(s2 / 64) % TABLE_WORDS] & (1 << (s2 % 64)) != 0
    }

    /// Checks the keywords that can produce window `w` at offset `at`, a
    /// window that hit both tables. Returns `true` when the caller asked to stop.
    #[cold]
    fn verify<F: FnMut(usize, usize) -> bool>(
        &self,
        text: &[u8],
        at: usize,
        w: u32,
        state: &mut ScanState<F>,
    ) -> bool {
        if state.is_settled(w) {
            return false;
        }
        let Some(&(from, to)) = self.probes.get(&w) else {
            state.settle(w); // a table collision: never a keyword
            return false;
        };
        let probes = self
            .probe_list
            .get(from as usize..to as usize)
            .unwrap_or_default();
        let mut open = false;
        for p in probes {
            let keyword = usize::from(p.keyword);
            if state.was_found(keyword) {
                continue;
            }
            match self.occurrence(text, at, p) {
                Some(start) => {
                    if state.report(keyword, start) {
                        return true;
                    }
                }
                None => open = true,
            }
        }
        // Looking for every occurrence, a window is never done with.
        if !open && !state.every {
            // Every keyword behind this window is found: it can add nothing.
            state.settle(w);
        }
        false
    }
}

/// One scan's memory: which keywords were reported, and a small cache of
/// windows that can no longer report anything. Repeated words (JSON keys,
/// `tokens`) would otherwise be looked up and compared at every occurrence.
struct ScanState<F> {
    found: F,
    /// Report every occurrence, not only each keyword's first.
    every: bool,
    reported_inline: [u64; 8],
    reported_heap: Vec<u64>,
    settled: [u32; SETTLED_SLOTS],
    settled_valid: u64,
}

const SETTLED_SLOTS: usize = 64;

impl<F: FnMut(usize, usize) -> bool> ScanState<F> {
    fn new(keywords: usize, found: F, every: bool) -> Self {
        let words = keywords.div_ceil(64);
        ScanState {
            found,
            every,
            reported_inline: [0; 8],
            reported_heap: if words > 8 {
                vec![0; words]
            } else {
                Vec::new()
            },
            settled: [0; SETTLED_SLOTS],
            settled_valid: 0,
        }
    }

    fn reported(&mut self) -> &mut [u64] {
        if self.reported_heap.is_empty() {
            &mut self.reported_inline
        } else {
            &mut self.reported_heap
        }
    }

    fn was_found(&mut self, keyword: usize) -> bool {
        !self.every
            && self
                .reported()
                .get(keyword / 64)
                .is_some_and(|w| w & (1 << (keyword % 64)) != 0)
    }

    /// Records `keyword` and tells the caller; returns `true` to stop.
    fn report(&mut self, keyword: usize, start: usize) -> bool {
        if let Some(w) = self.reported().get_mut(keyword / 64) {
            *w |= 1 << (keyword % 64);
        }
        (self.found)(keyword, start)
    }

    fn settled_slot(w: u32) -> usize {
        (w.wrapping_mul(0x85EB_CA6B) >> 26) as usize % SETTLED_SLOTS
    }

    fn is_settled(&self, w: u32) -> bool {
        let s = Self::settled_slot(w);
        self.settled_valid & (1 << s) != 0 && self.settled[s] == w
    }

    fn settle(&mut self, w: u32) {
        let s = Self::settled_slot(w);
        self.settled[s] = w;
        self.settled_valid |= 1 << s;
    }
}

/// Natural log of how often `bytes` (3 or 4 of them) can be expected in
/// ordinary text and code: lower means rarer, so a keyword is sampled
/// where its windows seldom occur in other words (`bkag` and the free
/// byte before `bka` for `bkagent_`, rather than `kage`, which every
/// `package` holds).
///
/// The estimate is the least frequency of its trigrams (an upper bound on
/// the window's own), from [`COMMON_TRIGRAMS`]; a trigram not listed counts
/// as half the least listed. Byte frequencies break ties among the rare.
fn log_frequency(bytes: &[u8]) -> f32 {
    // Pieces of words every API body and web page is full of: a window
    // inside one would send the filter to verify on every `"input_tokens"`.
    let common = COMMON_WORDS.iter().any(|w| {
        w.as_bytes()
            .windows(bytes.len())
            .any(|piece| piece.eq_ignore_ascii_case(bytes))
    });
    let penalty = if common { 6.0 } else { 0.0 };
    let least = bytes
        .windows(3)
        .map(trigram_per_million)
        .fold(f32::MAX, f32::min);
    penalty + least.ln() + 0.05 * log_byte_frequency(bytes)
}

/// Per million trigrams of ordinary text, how often `t` (compared folded)
/// occurs: from [`COMMON_TRIGRAMS`], or half its least entry when not listed.
fn trigram_per_million(t: &[u8]) -> f32 {
    let folded = t
        .iter()
        .fold(0u32, |key, &b| (key << 8) | u32::from(b | 0x20));
    match COMMON_TRIGRAMS.binary_search_by_key(&folded, |&(key, _)| key) {
        Ok(i) => COMMON_TRIGRAMS.get(i).map_or(1.0, |&(_, n)| n as f32),
        Err(_) => LEAST_LISTED as f32 / 2.0,
    }
}

/// The least frequency in [`COMMON_TRIGRAMS`].
const LEAST_LISTED: u32 = {
    let mut least = u32::MAX;
    let mut i = 0;
    while i < COMMON_TRIGRAMS.len() {
        if COMMON_TRIGRAMS[i].1 < least {
            least = COMMON_TRIGRAMS[i].1;
        }
        i += 1;
    }
    least
};

/// Natural log of a byte's rough frequency in mixed prose, JSON and code,
/// summed over `bytes`: `_`, digits and rare letters count as rarer than
/// `e` or a space.
fn log_byte_frequency(bytes: &[u8]) -> f32 {
    bytes
        .iter()
        .map(|&b| {
            let percent: f32 = match b.to_ascii_lowercase() {
                b' ' => 15.0,
                b'e' => 10.0,
                b't' | b'a' => 8.0,
                b'o' | b'i' | b'n' | b's' | b'r' => 6.5,
                b'h' | b'l' | b'd' | b'c' | b'u' | b'"' => 4.0,
                b'm' | b'p' | b'f' | b'g' | b'w' | b'y' | b'b' | b',' | b':' | b'.' => 2.0,
                b'k' => 1.5,
                b'0'..=b'9' | b'/' | b'-' | b'_' | b'=' | b'v' | b'<' | b'>' => 1.0,
                b'j' | b'x' | b'q' | b'z' => 0.15,
                _ => 0.3,
            };
            percent.ln()
        })
        .sum::<f32>()
}

/// Words common in JSON APIs, HTML, JavaScript and prose (see
/// [`log_frequency`]). Only the prefilter's speed depends on this list.
/// The trigram table comes from prose, so code words it misses are added
/// here when `rule_cost --misses` shows a keyword sampled inside one
/// (`supe` of every `super`, ` voi` of `void`, `hidd` of `hidden`, `bits`,
/// `t.co`), each kept only if the corpus's total falls.
const COMMON_WORDS: &[&str] = &[
    "access",
    "account",
    "application",
    "authorization",
    "authentication",
    "author",
    "click",
    "client",
    "config",
    "configuration",
    "content",
    "credential",
    "current",
    "security",
    "data",
    "delta",
    "discussed",
    "document",
    "function",
    ".git",
    "incident",
    "input",
    "output",
    "token",
    "tokens",
    "_token",
    "box-shadow",
    "message",
    "model",
    "password",
    "private",
    "public",
    "request",
    "response",
    "return",
    "secret",
    "server",
    "service",
    "session",
    "sha256",
    "static",
    "string",
    "text",
    "type",
    "user",
    "value",
    "variable",
    "override",
    "https",
    "http",
    "json",
    "key",
    "super",
    " void",
    "do not",
    "changed",
    "hidden",
    "t.co",
    "follow",
    "not found",
    "bits",
];

/// The window table test for sixteen windows at once with AVX-512 (F, BW
/// and VBMI), or eight with AVX2, where the CPU has them (checked at run
/// time): hashing and table probes are most of the scan's time, and SIMD
/// does a block of each in a few instructions.
mod simd {
    use super::{KeywordFilter, ScanState, BLOCKS};

    /// The SIMD part of a scan: AVX-512 blocks while 64 bytes remain, then
    /// AVX2 blocks while 24 do. Returns where the scalar loop goes on, or
    /// `None` when `found` asked to stop. Each loop is one function with
    /// its features, so the table test is inlined into it.
    #[cfg(target_arch = "x86_64")]
    pub(super) fn scan_blocks<F: FnMut(usize, usize) -> bool>(
        filter: &KeywordFilter,
        text: &[u8],
        state: &mut ScanState<F>,
    ) -> Option<usize> {
        let mut i = 0;
        if avx512_available() {
            // SAFETY: `avx512_available()` confirmed AVX-512 F, BW and VBMI.
            i = unsafe { scan_blocks_avx512(filter, text, state) }?;
        }
        // SAFETY: callers take this path only when `available()` confirmed AVX2.
        unsafe { scan_blocks_avx2(filter, text, state, i) }
    }

    #[cfg(target_arch = "x86_64")]
    fn avx512_available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
    }

    /// Sixteen windows (offsets i, i+2, .., i+30) per 64 bytes read, while
    /// 64 bytes remain: one gather of sixteen words instead of two of eight.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    unsafe fn scan_blocks_avx512<F: FnMut(usize, usize) -> bool>(
        filter: &KeywordFilter,
        text: &[u8],
        state: &mut ScanState<F>,
    ) -> Option<usize> {
        // Blocks are tested in batches without a branch on their result, and
        // the hits handled after: a branch per block mispredicted on every
        // block with a hit (a sixth of the 32-byte blocks of docs), each time
        // waiting out the gather's latency (docs and HTML +7…9 %, code
        // +10…12 %, measured against the AVX2 loop).
        const BATCH: usize = 128;
        let mut marked = [(0usize, 0u32); BATCH];
        let mut i = 0usize;
        loop {
            let mut n = 0usize;
            let mut tested = 0usize;
            while tested < BATCH {
                let Some(bytes) = text.get(i..i + 64).and_then(|b| b.first_chunk::<64>()) else {
                    break;
                };
                // SAFETY: this function has the features hits16_avx512 needs.
                let hits = unsafe { hits16_avx512(&filter.table, bytes) };
                if let Some(slot) = marked.get_mut(n) {
                    *slot = (i, hits);
                }
                n += usize::from(hits != 0);
                i += 32;
                tested += 1;
            }
            for &(block, hits) in marked.get(..n).unwrap_or_default() {
                if verify_hits(filter, text, state, block, hits) {
                    return None;
                }
            }
            if tested < BATCH {
                return Some(i);
            }
        }
    }

    /// Verifies the windows a block test let through (bit k: the window at
    /// `block + 2k`), for both SIMD loops. Returns `true` when `found` asked
    /// to stop.
    #[inline(always)]
    fn verify_hits<F: FnMut(usize, usize) -> bool>(
        filter: &KeywordFilter,
        text: &[u8],
        state: &mut ScanState<F>,
        block: usize,
        mut hits: u32,
    ) -> bool {
        while hits != 0 {
            let at = block + 2 * hits.trailing_zeros() as usize;
            hits &= hits - 1;
            let w = super::window_at(text, at) | super::FOLD;
            if filter.hit2(w) && filter.verify(text, at, w, state) {
                return true;
            }
        }
        false
    }

    /// Bit k set when the window at offset 2k of `bytes` (k < 16) hits
    /// `table`, exactly as `KeywordFilter::hit` decides.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    unsafe fn hits16_avx512(table: &[u32; BLOCKS], bytes: &[u8; 64]) -> u32 {
        use std::arch::x86_64::{
            _mm512_and_si512, _mm512_cmpeq_epi32_mask, _mm512_i32gather_epi32, _mm512_loadu_si512,
            _mm512_mullo_epi32, _mm512_or_si512, _mm512_permutexvar_epi8, _mm512_set1_epi32,
            _mm512_sllv_epi32, _mm512_srli_epi32,
        };
        // Byte 4k + j of the permuted vector is byte 2k + j of the text.
        const PICK: [u8; 64] = {
            let mut p = [0u8; 64];
            let mut n = 0;
            while n < 64 {
                p[n] = (2 * (n / 4) + n % 4) as u8;
                n += 1;
            }
            p
        };
        // SAFETY (whole block): both loads read 64 bytes of 64-byte arrays.
        // Gather indices are a product's top BLOCK_BITS bits, so below
        // BLOCKS, the table's length.
        unsafe {
            let v = _mm512_loadu_si512(bytes.as_ptr().cast());
            let pick = _mm512_loadu_si512(PICK.as_ptr().cast());
            let windows = _mm512_or_si512(
                _mm512_permutexvar_epi8(pick, v),
                _mm512_set1_epi32(super::FOLD as i32),
            );
            let words = _mm512_srli_epi32::<{ 32 - super::BLOCK_BITS }>(_mm512_mullo_epi32(
                windows,
                _mm512_set1_epi32(super::HASH_MULTIPLIER as i32),
            ));
            let g = _mm512_mullo_epi32(windows, _mm512_set1_epi32(super::BIT_MULTIPLIER as i32));
            let one = _mm512_set1_epi32(1);
            let bits = _mm512_or_si512(
                _mm512_sllv_epi32(one, _mm512_srli_epi32::<27>(g)),
                _mm512_sllv_epi32(
                    one,
                    _mm512_and_si512(_mm512_srli_epi32::<22>(g), _mm512_set1_epi32(31)),
                ),
            );
            let got = _mm512_i32gather_epi32::<4>(words, table.as_ptr().cast());
            u32::from(_mm512_cmpeq_epi32_mask(_mm512_and_si512(got, bits), bits))
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub(super) fn scan_blocks<F: FnMut(usize, usize) -> bool>(
        _filter: &KeywordFilter,
        _text: &[u8],
        _state: &mut ScanState<F>,
    ) -> Option<usize> {
        Some(0)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_blocks_avx2<F: FnMut(usize, usize) -> bool>(
        filter: &KeywordFilter,
        text: &[u8],
        state: &mut ScanState<F>,
        mut i: usize,
    ) -> Option<usize> {
        // Not batched like the AVX-512 loop: batched, this loop measured
        // 2-5 % slower.
        while let Some(bytes) = text.get(i..i + 24).and_then(|b| b.first_chunk::<24>()) {
            // SAFETY: this function has AVX2 enabled, as hits8_avx2 needs.
            let hits = unsafe { hits8_avx2(&filter.table, bytes) };
            if verify_hits(filter, text, state, i, hits) {
                return None;
            }
            i += 16;
        }
        Some(i)
    }

    #[cfg(target_arch = "x86_64")]
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub(super) fn available() -> bool {
        false
    }

    /// Bit k set when the window at offset 2k of `bytes` hits `table`,
    /// exactly as `KeywordFilter::hit` decides. Only call when
    /// [`available`] returned true. The scan inlines `hits8_avx2`; the
    /// tests compare this with `hit` directly.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(super) fn hits8(table: &[u32; BLOCKS], bytes: &[u8; 24]) -> u32 {
        // SAFETY: `available()` confirmed AVX2 before any call (scan_with
        // only takes this path then).
        unsafe { hits8_avx2(table, bytes) }
    }

    #[cfg(all(test, not(target_arch = "x86_64")))]
    pub(super) fn hits8(_table: &[u32; BLOCKS], _bytes: &[u8; 24]) -> u32 {
        0
    }

    /// The AVX-512 block test, for the tests to compare with `hit`: `None`
    /// where the CPU lacks AVX-512 F, BW or VBMI.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(super) fn hits16(table: &[u32; BLOCKS], bytes: &[u8; 64]) -> Option<u32> {
        // SAFETY: called only once `avx512_available()` confirmed the features.
        avx512_available().then(|| unsafe { hits16_avx512(table, bytes) })
    }

    #[cfg(all(test, not(target_arch = "x86_64")))]
    pub(super) fn hits16(_table: &[u32; BLOCKS], _bytes: &[u8; 64]) -> Option<u32> {
        None
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn hits8_avx2(table: &[u32; BLOCKS], bytes: &[u8; 24]) -> u32 {
        use std::arch::x86_64::{
            _mm256_and_si256, _mm256_castsi256_ps, _mm256_cmpeq_epi32, _mm256_i32gather_epi32,
            _mm256_movemask_ps, _mm256_mullo_epi32, _mm256_or_si256, _mm256_set1_epi32,
            _mm256_set_m128i, _mm256_setr_epi8, _mm256_shuffle_epi8, _mm256_sllv_epi32,
            _mm256_srli_epi32, _mm_loadu_si128,
        };
        // SAFETY (whole block): the two 16-byte loads read bytes[0..16] and
        // bytes[8..24] of a 24-byte array. Gather indices are a product's
        // top BLOCK_BITS bits, so below BLOCKS, the table's length.
        unsafe {
            let lo = _mm_loadu_si128(bytes.as_ptr().cast());
            let hi = _mm_loadu_si128(bytes.as_ptr().add(8).cast());
            let v = _mm256_set_m128i(hi, lo);
            // Windows at offsets 0, 2, 4, 6 of each 16-byte lane.
            let pick = _mm256_setr_epi8(
                0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7,
                6, 7, 8, 9,
            );
            let windows = _mm256_or_si256(
                _mm256_shuffle_epi8(v, pick),
                _mm256_set1_epi32(super::FOLD as i32),
            );
            let words = _mm256_srli_epi32::<{ 32 - super::BLOCK_BITS as i32 }>(_mm256_mullo_epi32(
                windows,
                _mm256_set1_epi32(super::HASH_MULTIPLIER as i32),
            ));
            let g = _mm256_mullo_epi32(windows, _mm256_set1_epi32(super::BIT_MULTIPLIER as i32));
            let one = _mm256_set1_epi32(1);
            let bits = _mm256_or_si256(
                _mm256_sllv_epi32(one, _mm256_srli_epi32::<27>(g)),
                _mm256_sllv_epi32(
                    one,
                    _mm256_and_si256(_mm256_srli_epi32::<22>(g), _mm256_set1_epi32(31)),
                ),
            );
            let got = _mm256_i32gather_epi32::<4>(table.as_ptr().cast(), words);
            let set = _mm256_cmpeq_epi32(_mm256_and_si256(got, bits), bits);
            _mm256_movemask_ps(_mm256_castsi256_ps(set)) as u32
        }
    }
}

/// Hashes the `u32` window keys of the probe maps with one multiply: the
/// default SipHash made lookups the largest cost of a verification.
#[derive(Debug, Default)]
pub(crate) struct WindowHasher(u64);

/// Integer keys hashed with one multiply (the confirm checks' caches by id).
pub(crate) type IntHasher = WindowHasher;

impl Hasher for WindowHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }

    fn write_u32(&mut self, key: u32) {
        self.write_u64(u64::from(key));
    }

    fn write_u64(&mut self, key: u64) {
        let p = (self.0 ^ key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = p ^ (p >> 32);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The 256 byte values folded with `| 0x20`, as `u32` for window building.
const FREE_BYTES: [u32; 256] = {
    let mut out = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        out[b] = (b as u32) | 0x20;
        b += 1;
    }
    out
};

#[cfg(test)]
mod tests;
