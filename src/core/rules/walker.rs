//! Hand-written finders for rules whose matches are long runs of one byte
//! class, where the regex's DFA is slowest: it takes a dependent table load
//! per byte (about 2 ns), forward and then backward over the match. A
//! walker reads the runs with a class table instead and returns exactly
//! the match the rule's regex returns in the same span; the tests below
//! compare the two on generated and mutated texts.

use std::ops::Range;

/// A rule's hand-written finder (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walker {
    /// `token!(r"eyJ[C]{10,1000}\.eyJ[C]{10,4000}\.[C]{10,1000}", open)`
    /// with `C` = `[A-Za-z0-9_-]`: the `jwt` rule. On JSON carrying tokens
    /// its regex was a sixth of the outbound scan.
    Jwt,
}

impl Walker {
    /// The leftmost match in `text[span]`, as the rule's regex finds it
    /// there: bytes outside `span` are not read, except that `^` and `$`
    /// hold only at the ends of `text`, as in the regex's look-arounds.
    pub fn find(self, text: &[u8], span: Range<usize>) -> Option<Range<usize>> {
        match self {
            Walker::Jwt => find_jwt(text, span),
        }
    }
}

/// `[A-Za-z0-9_-]`, a token byte (base64url).
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    t
};

fn is_token(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// The length of the run of token bytes starting at `at` in `hay`, if it
/// is at most `max`: a longer run is read only to `max + 1` bytes.
fn run_len(hay: &[u8], at: usize, max: usize) -> Option<usize> {
    let len = hay
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take(max + 1)
        .take_while(|&&b| is_token(b))
        .count();
    #[cfg(test)]
    tests::BYTES_READ.with(|n| n.set(n.get() + len + 1));
    (len <= max).then_some(len)
}

/// Linear in the span: an `eyJ` inside a run of token bytes fails the left
/// boundary before anything is read, so the header runs read belong to
/// different candidates and never overlap, and a run is read at most three
/// times (as one candidate's header, another's payload and a third's
/// signature), each time to at most its part's maximum.
fn find_jwt(text: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let end = span.end.min(text.len());
    // Only the span's bytes are readable, as for the regex.
    let hay = text.get(..end)?;
    let mut from = span.start;
    loop {
        let at = from + memchr::memmem::find(hay.get(from..)?, b"eyJ")?;
        // The left boundary: `^` at the start of the text, or one byte that
        // is not a token byte, inside the span.
        let start = if at == 0 {
            Some(0)
        } else if at > span.start && hay.get(at - 1).is_some_and(|&b| !is_token(b)) {
            Some(at - 1)
        } else {
            None
        };
        if let Some(start) = start {
            if let Some(stop) = jwt_body(hay, at, text.len()) {
                return Some(start..stop);
            }
        }
        from = at + 1;
    }
}

/// Where a match whose body starts at `at` (an `eyJ`) ends, if one does.
/// Each part's run is greedy and the byte after it (`.`, or the right
/// boundary) is never a token byte, so a run must be the whole maximal run
/// and within its bounds, or nothing matches from `at`.
fn jwt_body(hay: &[u8], at: usize, text_len: usize) -> Option<usize> {
    let header = at + run_len(hay, at, 1003).filter(|&n| n >= 13)?;
    if hay.get(header) != Some(&b'.') {
        return None;
    }
    let payload_at = header + 1;
    if hay.get(payload_at..payload_at + 3) != Some(b"eyJ") {
        return None;
    }
    let payload = payload_at + run_len(hay, payload_at, 4003).filter(|&n| n >= 13)?;
    if hay.get(payload) != Some(&b'.') {
        return None;
    }
    let signature_at = payload + 1;
    let signature = signature_at + run_len(hay, signature_at, 1000).filter(|&n| n >= 10)?;
    // The right boundary: one byte that is not a token byte (the run ended
    // on one inside the span), or `$` at the end of the text.
    if signature < hay.len() {
        Some(signature + 1)
    } else if signature == text_len {
        Some(signature)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Walker;
    use crate::core::rules::registry::{builtin_specs, RuleSet};
    use crate::core::test_rng::XorShift64;
    use regex_automata::Input;
    use std::cell::Cell;

    thread_local! {
        /// Bytes `run_len` read on this thread: the work the walker did.
        pub(super) static BYTES_READ: Cell<usize> = const { Cell::new(0) };
    }

    /// The walker's work is linear in the span (see `find_jwt`), counted
    /// in bytes read, on texts made to make a careless walker quadratic:
    /// one long run of `eyJ`s, and many near-JWTs whose runs are too long.
    #[test]
    fn walker_work_is_linear_in_the_span() {
        let mut near = Vec::new();
        for _ in 0..200 {
            near.extend_from_slice(b" eyJ");
            near.extend(std::iter::repeat_n(b'a', 990));
            near.extend_from_slice(b".eyJ");
            near.extend(std::iter::repeat_n(b'b', 4100));
        }
        let texts = [b"eyJ".repeat(100_000), b" eyJ".repeat(100_000), near];
        for text in texts {
            BYTES_READ.with(|n| n.set(0));
            let mut from = 0;
            while let Some(m) = Walker::Jwt.find(&text, from..text.len()) {
                from = m.end;
            }
            let read = BYTES_READ.with(Cell::get);
            assert!(
                read <= 4 * text.len(),
                "{read} bytes read for {}",
                text.len()
            );
        }
    }

    /// Every built-in rule with a walker, compiled as the scanner compiles it.
    fn walked_rules() -> Vec<(Walker, RuleSet)> {
        builtin_specs()
            .filter_map(|spec| {
                let walker = spec.walker?;
                Some((
                    walker,
                    RuleSet::compile([spec]).expect("built-in rule compiles"),
                ))
            })
            .collect()
    }

    /// A JWT-like text: runs of token bytes of lengths around every bound,
    /// joined by `.`, with `eyJ` where a part starts, mutated at random
    /// places by bytes that matter (`.`, token bytes, a quote, `eyJ`).
    fn jwt_like(rng: &mut XorShift64) -> Vec<u8> {
        let mut next = |n: u64| rng.next_u64() % n;
        let token = |r: u64| b"abcXYZ019_-eyJ"[(r % 14) as usize];
        let mut text = Vec::new();
        for _ in 0..=next(3) {
            text.extend_from_slice(&b" \"=.xa"[..=next(5) as usize]);
            // Token bytes after the part's `eyJ`, if it has one: each
            // part's run length meets its bounds from both sides.
            let lengths = [
                7, 9, 10, 12, 13, 14, 40, 997, 999, 1000, 1001, 1003, 1004, 4000, 4001, 4003,
            ];
            for part in 0..3 {
                if part < 2 || next(4) == 0 {
                    text.extend_from_slice(b"eyJ");
                }
                let len = lengths[next(lengths.len() as u64) as usize] + next(3) as usize;
                let len = if next(3) == 0 {
                    len
                } else {
                    10 + next(40) as usize
                };
                for _ in 0..len {
                    text.push(token(next(1 << 20)));
                }
                if part < 2 {
                    text.push(if next(12) == 0 { b'!' } else { b'.' });
                }
            }
        }
        for _ in 0..next(6) {
            if text.is_empty() {
                break;
            }
            let at = next(text.len() as u64) as usize;
            match next(4) {
                0 => text[at] = b'.',
                1 => text[at] = b'"',
                2 => text[at] = token(next(64)),
                _ => text.splice(at..at, *b"eyJ").for_each(drop),
            }
        }
        text
    }

    /// The walker returns the regex's leftmost match in every span: whole
    /// texts, and spans cut at random (a cut through a token or just before
    /// a boundary byte changes what may match).
    #[test]
    fn walkers_find_exactly_what_their_regex_finds() {
        let rules = walked_rules();
        assert!(!rules.is_empty(), "no built-in rule has a walker");
        let mut rng = XorShift64::new(0x6a77_7400_0000_0001);
        let mut matched = 0u32;
        for _ in 0..6_000 {
            let text = jwt_like(&mut rng);
            for (walker, set) in &rules {
                let regex = &set.rules()[0].regex;
                let len = text.len() as u64;
                let cut = |rng: &mut XorShift64| {
                    let a = (rng.next_u64() % (len + 1)) as usize;
                    let b = (rng.next_u64() % (len + 1)) as usize;
                    a.min(b)..a.max(b)
                };
                let spans = [0..text.len(), cut(&mut rng), cut(&mut rng), cut(&mut rng)];
                for span in spans {
                    let want = regex
                        .search(&Input::new(&text).span(span.clone()))
                        .map(|m| m.range());
                    let got = walker.find(&text, span.clone());
                    assert_eq!(
                        got,
                        want,
                        "{walker:?} in {span:?} of {:?}",
                        String::from_utf8_lossy(&text)
                    );
                    matched += u32::from(want.is_some());
                }
            }
        }
        assert!(matched > 2_000, "too few texts matched: {matched}");
    }
}
