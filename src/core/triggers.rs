//! Where the local views (percent, form, JSON, HTML, `\xNN`, shell,
//! unicode) would change a text, found in one pass.
//!
//! Each 64-byte block is classified once (SIMD compares) for every byte a
//! trigger starts with: `%`, `\`, `&`, `$`, empty quotes (`''`, `""`),
//! `}$` and non-ASCII bytes, and, in blocks holding one, for the one or
//! two bytes that must follow it (a `%` two hex digits, a `&` a `#` or a
//! lowercase letter). Blocks with none of them cost only the compares;
//! in the others each such byte is judged in order by its view's own test
//! (`decode::percent_escape_at`, `decode::backslash_at`,
//! `decode::html_entity_at`, `normalize::shell_shape_at`,
//! `normalize::shell_trigger_at`, `normalize::dollar_pair_at`,
//! `normalize::unicode_char_at`). The lists are those of one search per
//! view (tested against such searches below).

use std::ops::Range;

use crate::core::decode::{self, BackslashTriggers};
use crate::core::normalize;

/// The triggers of each local view in a text, each list in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Triggers {
    /// `%XX` escapes (the percent and form views).
    pub percent: Vec<Range<usize>>,
    /// JSON escapes worth decoding (see [`BackslashTriggers`]).
    pub json: Vec<Range<usize>>,
    /// Escaped line breaks before a command or a chat turn (see
    /// [`BackslashTriggers::json_line`]).
    pub json_line: Vec<Range<usize>>,
    /// Runs of `\xNN` or `\ooo` (octal) escapes.
    pub hex: Vec<Range<usize>>,
    /// HTML entities.
    pub html: Vec<Range<usize>>,
    /// The shell view's triggers: its shapes, `$x$` pairs and
    /// backslash-newlines inside a word.
    pub shell: Vec<Range<usize>>,
    /// Characters the unicode view changes.
    pub unicode: Vec<Range<usize>>,
}

impl Triggers {
    /// Whether no local view would change the text.
    pub fn is_empty(&self) -> bool {
        self.percent.is_empty()
            && self.json.is_empty()
            && self.json_line.is_empty()
            && self.hex.is_empty()
            && self.html.is_empty()
            && self.shell.is_empty()
            && self.unicode.is_empty()
    }
}

const PERCENT: u8 = 1;
const BACKSLASH: u8 = 2;
const AMP: u8 = 4;
const SHELL: u8 = 8;
const UNICODE: u8 = 16;
const ALL: u8 = PERCENT | BACKSLASH | AMP | SHELL | UNICODE;

/// Every view's triggers in `text`.
pub fn find(text: &[u8]) -> Triggers {
    search(text, ALL)
}

/// The shell view's shapes and `$x$` pairs in `text`, in order (without
/// backslash-newlines).
pub fn shell(text: &[u8]) -> Vec<Range<usize>> {
    search(text, SHELL).shell
}

/// Bytes a block's masks are judged from: the block's 64 and the two after
/// it (zeros past the text's end, where no trigger can reach).
const WINDOW: usize = 66;

/// Bit i of each mask: byte i of a 64-byte block may start that kind of
/// trigger, judged from the byte and the two after it. The exact test of
/// each view still follows per candidate; this only keeps the bytes that
/// cannot start a trigger (`&&`, `%s`, `$(`, `\n`, lone quotes) from
/// reaching it, as they did on code, minified scripts and binary bodies.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Masks {
    /// `%` before two hex digits.
    percent: u64,
    /// `\` before `u`, `/`, `"`, `x`, a newline, another backslash, `n`,
    /// `r`, `t` (JSON line breaks) or `0`-`3` (octal escapes).
    backslash: u64,
    /// `&` before `#` or a lowercase letter.
    amp: u64,
    /// The first byte of `''`, `""`, `}$`, `$@`, `$*`, `$I`, `${I`, `$x$`.
    shell: u64,
    /// Non-ASCII bytes.
    high: u64,
}

impl Masks {
    /// The masks from compares of the window at byte `k` on (`eq(k, b)`:
    /// the mask of byte `b` in bytes `k..k + 64`; `within(k, lo, hi, fold)`:
    /// of bytes in `lo..=hi`, ASCII-lowercased first when `fold`) and the
    /// block's non-ASCII mask: the one formula for the SIMD paths (the
    /// scalar one below stays the tests' independent reference). A kind's
    /// following bytes are compared only in blocks holding that kind's
    /// byte: every compare is a pass over the whole text, and most blocks
    /// of prose and HTML hold none.
    #[inline(always)]
    fn from_compares(
        eq: impl Fn(usize, u8) -> u64,
        within: impl Fn(usize, u8, u8, bool) -> u64,
        high: u64,
    ) -> Masks {
        #[inline(always)]
        fn when(raw: u64, qualify: impl FnOnce() -> u64) -> u64 {
            if raw == 0 {
                0
            } else {
                raw & qualify()
            }
        }
        let (eq0, eq1, eq2) = (|b| eq(0, b), |b| eq(1, b), |b| eq(2, b));
        let hex = |k| within(k, b'0', b'9', false) | within(k, b'a', b'f', true);
        let percent = when(eq0(b'%'), || hex(1) & hex(2));
        let backslash = when(eq0(b'\\'), || {
            eq1(b'u')
                | eq1(b'/')
                | eq1(b'"')
                | eq1(b'x')
                | eq1(b'\n')
                | eq1(b'\\')
                | eq1(b'n')
                | eq1(b'r')
                | eq1(b't')
                | within(1, b'0', b'3', false)
        });
        let amp = when(eq0(b'&'), || eq1(b'#') | within(1, b'a', b'z', false));
        let dollar = when(eq0(b'$'), || {
            eq1(b'@')
                | eq1(b'*')
                | eq1(b'I')
                | (eq1(b'{') & eq2(b'I'))
                | ((within(1, b'a', b'z', true) | eq1(b'_')) & eq2(b'$'))
        });
        let quotes = when(eq0(b'\''), || eq1(b'\''))
            | when(eq0(b'"'), || eq1(b'"'))
            | when(eq0(b'}'), || eq1(b'$'));
        Masks {
            percent,
            backslash,
            amp,
            shell: dollar | quotes,
            high,
        }
    }
}

/// The masks of one block, byte by byte: where AVX2 is missing, and the
/// reference the SIMD masks are tested against.
fn masks_scalar(window: &[u8; WINDOW]) -> Masks {
    let mut m = Masks::default();
    for i in 0..64 {
        let (b, n1, n2) = (window[i], window[i + 1], window[i + 2]);
        let bit = 1u64 << i;
        let shell = match b {
            b'\'' | b'"' => n1 == b,
            b'}' => n1 == b'$',
            b'$' => {
                matches!(n1, b'@' | b'*' | b'I')
                    || (n1 == b'{' && n2 == b'I')
                    || ((n1.is_ascii_alphabetic() || n1 == b'_') && n2 == b'$')
            }
            _ => false,
        };
        if shell {
            m.shell |= bit;
        }
        match b {
            b'%' if n1.is_ascii_hexdigit() && n2.is_ascii_hexdigit() => m.percent |= bit,
            b'\\'
                if matches!(
                    n1,
                    b'u' | b'/' | b'"' | b'x' | b'\n' | b'\\' | b'n' | b'r' | b't' | b'0'..=b'3'
                ) =>
            {
                m.backslash |= bit
            }
            b'&' if n1 == b'#' || n1.is_ascii_lowercase() => m.amp |= bit,
            0x80.. => m.high |= bit,
            _ => {}
        }
    }
    m
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use super::{Masks, WINDOW};

    /// The masks of one block with AVX2 compares. Call only when the CPU
    /// has AVX2.
    #[cfg(test)]
    pub(super) fn masks(window: &[u8; WINDOW]) -> Masks {
        // SAFETY: the caller checked AVX2 at run time.
        unsafe { masks_avx2(window) }
    }

    /// [`super::search_with`] compiled for AVX2, the block masks inlined
    /// into its loop. Call only when the CPU has AVX2.
    pub(super) fn search(text: &[u8], kinds: u8) -> super::Triggers {
        // SAFETY: the caller checked AVX2 at run time.
        unsafe { search_avx2(text, kinds) }
    }

    /// The masks of one block with AVX-512BW compares. Call only when the
    /// CPU has AVX-512BW.
    #[cfg(test)]
    pub(super) fn masks512(window: &[u8; WINDOW]) -> Masks {
        // SAFETY: the caller checked AVX-512BW at run time.
        unsafe { masks_avx512(window) }
    }

    /// [`super::search_with`] with AVX-512BW block masks. Call only when
    /// the CPU has AVX-512BW.
    pub(super) fn search512(text: &[u8], kinds: u8) -> super::Triggers {
        // SAFETY: the caller checked AVX-512BW at run time.
        unsafe { search_avx512(text, kinds) }
    }

    #[target_feature(enable = "avx512bw")]
    unsafe fn search_avx512(text: &[u8], kinds: u8) -> super::Triggers {
        // SAFETY: AVX-512BW is enabled for this function (the caller checked).
        super::search_with(text, kinds, |window| unsafe { masks_avx512(window) })
    }

    /// One compare per mask, straight into a 64-bit mask register: the
    /// AVX2 masks take two compares, two moves and a shift each.
    #[target_feature(enable = "avx512bw")]
    #[inline]
    unsafe fn masks_avx512(window: &[u8; WINDOW]) -> Masks {
        use std::arch::x86_64::{
            __m512i, _mm512_cmpeq_epi8_mask, _mm512_cmple_epu8_mask, _mm512_loadu_si512,
            _mm512_movepi8_mask, _mm512_or_si512, _mm512_set1_epi8, _mm512_sub_epi8,
        };
        // SAFETY (whole block): AVX-512BW is enabled for this function and
        // the caller checked the CPU; the loads read window[0..64],
        // window[1..65] and window[2..66] of a 66-byte array.
        unsafe {
            let x: [__m512i; 3] =
                [0, 1, 2].map(|k| _mm512_loadu_si512(window.as_ptr().add(k).cast()));
            // Bytes in lo..=hi: one unsigned compare after a subtraction.
            let within = |k: usize, lo: u8, hi: u8, fold: bool| {
                let v = if fold {
                    _mm512_or_si512(x[k], _mm512_set1_epi8(0x20))
                } else {
                    x[k]
                };
                _mm512_cmple_epu8_mask(
                    _mm512_sub_epi8(v, _mm512_set1_epi8(lo as i8)),
                    _mm512_set1_epi8((hi - lo) as i8),
                )
            };
            Masks::from_compares(
                |k, b| _mm512_cmpeq_epi8_mask(x[k], _mm512_set1_epi8(b as i8)),
                within,
                _mm512_movepi8_mask(x[0]),
            )
        }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn search_avx2(text: &[u8], kinds: u8) -> super::Triggers {
        // SAFETY: AVX2 is enabled for this function (the caller checked).
        super::search_with(text, kinds, |window| unsafe { masks_avx2(window) })
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn masks_avx2(window: &[u8; WINDOW]) -> Masks {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
            _mm256_or_si256, _mm256_set1_epi8, _mm256_sub_epi8,
        };
        // SAFETY (whole block): AVX2 is enabled for this function and the
        // caller checked the CPU; the loads read 32 bytes at offsets 0, 32,
        // 1, 33, 2 and 34 of a 66-byte array.
        unsafe {
            let load = |at: usize| -> [__m256i; 2] {
                [
                    _mm256_loadu_si256(window.as_ptr().add(at).cast()),
                    _mm256_loadu_si256(window.as_ptr().add(at + 32).cast()),
                ]
            };
            let x = [load(0), load(1), load(2)];
            let bits = |v: [__m256i; 2]| {
                u64::from(_mm256_movemask_epi8(v[0]) as u32)
                    | (u64::from(_mm256_movemask_epi8(v[1]) as u32) << 32)
            };
            // Bytes in lo..=hi: x - lo is at most hi - lo (unsigned) when
            // the minimum of the two is x - lo.
            let within = |k: usize, lo: u8, hi: u8, fold: bool| {
                let (l, span) = (
                    _mm256_set1_epi8(lo as i8),
                    _mm256_set1_epi8((hi - lo) as i8),
                );
                bits(x[k].map(|v| {
                    let v = if fold {
                        _mm256_or_si256(v, _mm256_set1_epi8(0x20))
                    } else {
                        v
                    };
                    let d = _mm256_sub_epi8(v, l);
                    _mm256_cmpeq_epi8(_mm256_min_epu8(d, span), d)
                }))
            };
            Masks::from_compares(
                |k, b| bits(x[k].map(|v| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b as i8)))),
                within,
                bits(x[0]),
            )
        }
    }
}

#[cfg(test)]
fn block_masks_fn() -> fn(&[u8; WINDOW]) -> Masks {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return simd::masks;
    }
    masks_scalar
}

fn search(text: &[u8], kinds: u8) -> Triggers {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") {
        return simd::search512(text, kinds);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return simd::search(text, kinds);
    }
    search_with(text, kinds, masks_scalar)
}

#[inline(always)]
fn search_with(text: &[u8], kinds: u8, masks_of: impl Fn(&[u8; WINDOW]) -> Masks) -> Triggers {
    let on = |k: u8| if kinds & k != 0 { u64::MAX } else { 0 };
    let (percent_on, backslash_on, amp_on, shell_on, unicode_on) =
        (on(PERCENT), on(BACKSLASH), on(AMP), on(SHELL), on(UNICODE));
    let mut t = Triggers::default();
    let mut escapes = BackslashTriggers::default();
    // Positions before which each sequential search skips its bytes.
    let mut backslash_resume = 0usize;
    let mut shape_resume = 0usize;
    let mut unicode_resume = 0usize;
    let mut malformed = 0usize;
    let mut unicode_live = true;
    let mut padded: [u8; WINDOW];
    let mut at = 0usize;
    while at < text.len() {
        let window: &[u8; WINDOW] = match text.get(at..).and_then(|r| r.first_chunk::<WINDOW>()) {
            Some(window) => window,
            None => {
                // The last block or two: zero bytes trigger nothing.
                let rest = text.get(at..).unwrap_or_default();
                padded = [0u8; WINDOW];
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let m = masks_of(window);
        // A non-ASCII run walked from the previous block goes on here.
        let unicode_bits = if unicode_live {
            m.high & decode::below_cleared(unicode_resume.saturating_sub(at))
        } else {
            0
        };
        let mut candidates = (m.percent & percent_on)
            | (m.backslash & backslash_on)
            | (m.amp & amp_on)
            | (m.shell & shell_on)
            | (unicode_bits & unicode_on);
        while candidates != 0 {
            let i = at + candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            let Some(&b) = text.get(i) else { break };
            match b {
                b'%' => t.percent.extend(decode::percent_escape_at(text, i)),
                b'\\' if i >= backslash_resume => {
                    backslash_resume = decode::backslash_at(text, i, &mut escapes);
                }
                b'&' => t.html.extend(decode::html_entity_at(text, i)),
                b'\'' | b'"' | b'}' | b'$' => {
                    if i >= shape_resume {
                        if let Some(len) = normalize::shell_shape_at(text, i) {
                            shape_resume = i + len;
                            t.shell.extend(normalize::shell_trigger_at(text, i));
                        }
                    }
                    if b == b'$' {
                        t.shell.extend(normalize::dollar_pair_at(text, i));
                    }
                }
                0x80.. => {
                    if !unicode_live || i < unicode_resume {
                        continue;
                    }
                    // Walk the whole run of non-ASCII bytes here: its bytes
                    // are no other view's trigger, so their bits are cleared.
                    let mut j = i;
                    while unicode_live && text.get(j).is_some_and(|&b| b >= 0x80) {
                        match normalize::unicode_char_at(text, j) {
                            Some((len, trigger)) => {
                                j += len;
                                t.unicode.extend(trigger);
                            }
                            None => {
                                malformed += 1;
                                j += 1;
                                if malformed >= normalize::MAX_MALFORMED {
                                    unicode_live = false;
                                }
                            }
                        }
                    }
                    unicode_resume = j;
                    candidates &= decode::below_cleared(j - at);
                }
                _ => {}
            }
        }
        at += 64;
    }
    t.json = escapes.json;
    t.json_line = escapes.json_line;
    t.hex = escapes.hex;
    if !escapes.continuation.is_empty() {
        // Both lists are in order, and no two triggers start at one byte.
        t.shell.extend(escapes.continuation);
        t.shell.sort_unstable_by_key(|r| r.start);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One search per view, as the views were found before this module:
    /// the reference the one-pass search must equal.
    fn reference(text: &[u8]) -> Triggers {
        let percent = memchr::memchr_iter(b'%', text)
            .filter_map(|i| decode::percent_escape_at(text, i))
            .collect();
        let html = memchr::memchr_iter(b'&', text)
            .filter_map(|i| decode::html_entity_at(text, i))
            .collect();
        let mut escapes = BackslashTriggers::default();
        let mut resume = 0usize;
        for i in memchr::memchr_iter(b'\\', text) {
            if i >= resume {
                resume = decode::backslash_at(text, i, &mut escapes);
            }
        }
        let mut shell = reference_shell(text);
        shell.extend(escapes.continuation);
        shell.sort_unstable_by_key(|r| r.start);
        Triggers {
            percent,
            json: escapes.json,
            json_line: escapes.json_line,
            hex: escapes.hex,
            html,
            shell,
            unicode: reference_unicode(text),
        }
    }

    /// The shell shapes by a leftmost-first multi-literal search, then the
    /// `$x$` pairs by a `$` search.
    fn reference_shell(text: &[u8]) -> Vec<Range<usize>> {
        let pats = ["''", "\"\"", "$@", "$*", "$IFS", "${IFS}", "}${"];
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(pats)
            .expect("fixed literals");
        let mut out: Vec<Range<usize>> = ac
            .find_iter(text)
            .filter_map(|m| normalize::shell_trigger_at(text, m.start()))
            .collect();
        out.extend(
            memchr::memchr_iter(b'$', text).filter_map(|i| normalize::dollar_pair_at(text, i)),
        );
        out.sort_unstable_by_key(|r| r.start);
        out
    }

    /// A walk over the non-ASCII characters, stopping after
    /// `MAX_MALFORMED` malformed sequences.
    fn reference_unicode(text: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = 0usize;
        let mut malformed = 0usize;
        while i < text.len() {
            if text[i].is_ascii() {
                i += 1;
                continue;
            }
            match normalize::unicode_char_at(text, i) {
                Some((len, trigger)) => {
                    out.extend(trigger);
                    i += len;
                }
                None => {
                    malformed += 1;
                    if malformed >= normalize::MAX_MALFORMED {
                        break;
                    }
                    i += 1;
                }
            }
        }
        out
    }

    #[test]
    fn simd_masks_equal_the_byte_test_for_every_byte_and_follower_at_every_position() {
        let mut kinds: Vec<fn(&[u8; WINDOW]) -> Masks> = vec![block_masks_fn()];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512bw") {
            kinds.push(simd::masks512);
        }
        // Every byte, followed by each byte a trigger test looks at (and
        // the neighbours of their ranges), at every position of a block,
        // the last two reaching into the two bytes after it.
        let followers: Vec<u8> = b"$'\"{}@*I_#ux/\\\n09afAFgGzZ`[@ \0"
            .iter()
            .copied()
            .chain([0x7f, 0x80, 0xff])
            .collect();
        for &masks_of in &kinds {
            for b in 0..=255u8 {
                for &n1 in &followers {
                    for &n2 in &followers {
                        for pos in 0..64 {
                            let mut window = [b'a'; WINDOW];
                            window[pos] = b;
                            window[pos + 1] = n1;
                            window[pos + 2] = n2;
                            assert_eq!(
                                masks_of(&window),
                                masks_scalar(&window),
                                "{b:#x} {n1:#x} {n2:#x} at {pos}"
                            );
                        }
                    }
                }
            }
        }
        // Every pair of bytes once, at one position.
        for &masks_of in &kinds {
            for b in 0..=255u8 {
                for n1 in 0..=255u8 {
                    let mut window = [b' '; WINDOW];
                    window[10] = b;
                    window[11] = n1;
                    window[12] = b'$';
                    assert_eq!(masks_of(&window), masks_scalar(&window), "{b:#x} {n1:#x}");
                }
            }
        }
    }

    /// Pieces that make triggers, near-triggers and their neighbours.
    const PIECES: &[&str] = &[
        "%",
        "%2F",
        "%4",
        "%zz",
        "\\",
        "\\\\",
        "\\u0041",
        "\\/",
        "\\\"$",
        "\\\"`",
        "\\\"x",
        "\\x41",
        "\\x4",
        "\\\n",
        "&",
        "&amp;",
        "&#47;",
        "&#x2F;",
        "&nbsp;",
        "&&",
        "&dollar;",
        "'",
        "''",
        "'''",
        "\"",
        "\"\"",
        "\"\"\"",
        "$",
        "$@",
        "$*",
        "$IFS",
        "${IFS}",
        "${",
        "}${",
        "}$",
        "}",
        "$a$",
        "$a$b$c",
        "$_$",
        "$1$",
        "a",
        "b",
        "c9",
        " ",
        "\n",
        ";",
        "=",
        "/",
        "-",
        "é",
        "а",
        "\u{200b}",
        "\u{e0041}",
        "ｆ",
        "中文",
        "\u{80}",
        "\u{ff}",
        "\u{3b1}x",
    ];

    fn shaped() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec());
        let raw = prop::collection::vec(any::<u8>(), 0..4);
        let part = prop_oneof![8 => piece, 1 => raw];
        prop::collection::vec(part, 0..120).prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn one_pass_equals_one_search_per_view(text in shaped()) {
            prop_assert_eq!(find(&text), reference(&text));
            prop_assert_eq!(search_with(&text, ALL, masks_scalar), reference(&text));
            let shapes: Vec<Range<usize>> = reference_shell(&text);
            prop_assert_eq!(shell(&text), shapes);
        }

        #[test]
        fn one_pass_equals_one_search_per_view_on_random_bytes(
            text in prop::collection::vec(any::<u8>(), 0..400)
        ) {
            prop_assert_eq!(find(&text), reference(&text));
        }
    }

    #[test]
    fn one_pass_equals_one_search_per_view_across_block_edges() {
        // Every piece at every offset around the 64-byte block edges, in
        // prose, JSON, HTML and minified-script surroundings.
        let grounds = [
            "The quick brown fox jumps over the lazy dog, again and again. ",
            "{\"role\":\"user\",\"content\":\"\",\"n\":1,\"s\":\"a\\\"b\"}",
            "<p class=\"x\">a &lt; b &amp;&amp; c</p><a href=\"/q?x=1&y=%20\">",
            "function(a,b){return a&&b?$(a).x(''):b||\"\"}var $=jQuery;",
        ];
        for ground in grounds {
            for piece in PIECES {
                for at in 56..72 {
                    let mut text: Vec<u8> = ground.repeat(3).into_bytes();
                    let at = at.min(text.len());
                    text.splice(at..at, piece.bytes());
                    text.splice(at - 1..at - 1, piece.bytes());
                    assert_eq!(find(&text), reference(&text), "{piece:?} at {at}");
                }
            }
        }
    }

    #[test]
    fn unicode_search_stops_after_malformed_bytes_like_a_walk() {
        let mut text = vec![0xffu8; normalize::MAX_MALFORMED - 1];
        text.extend("x\u{200b}y".bytes());
        assert_eq!(find(&text).unicode.len(), 1);
        let mut text = vec![0xffu8; normalize::MAX_MALFORMED];
        text.extend("x\u{200b}y".bytes());
        assert_eq!(find(&text).unicode, Vec::<Range<usize>>::new());
        assert_eq!(find(&text), reference(&text));
    }
}
