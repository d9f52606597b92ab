//! Example templates: fake secrets are never written into the source. A rule
//! example such as `"x-api-key: sk-ant-api03-«b64url:93»AA"` is expanded at
//! test time, each `«CLASS:LEN»` becoming a fresh random run of that class.
//!
//! Classes: `alnum` (A-Za-z0-9), `upper`, `lower`, `digit`, `hex` (0-9a-f),
//! `uhex` (0-9A-F), `upalnum` (A-Z0-9), `loalnum` (a-z0-9), `b32` (A-Z2-7,
//! as in AWS key ids), `bech32u` (upper-case bech32, as in age keys), `b64` (A-Za-z0-9+/), `b64url` (A-Za-z0-9_-).

/// An expanded template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The text with every placeholder replaced.
    pub text: String,
    /// Every generated run, in order (what redaction must never leak).
    pub random_parts: Vec<String>,
}

/// A template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unterminated placeholder at byte {0}")]
    Unterminated(usize),
    #[error("placeholder `{0}` is not CLASS:LEN")]
    Malformed(String),
    #[error("unknown character class `{0}`")]
    UnknownClass(String),
    #[error("random source failed: {0}")]
    Random(String),
}

const OPEN: char = '«';
const CLOSE: char = '»';

/// The alphabet of a class name.
fn alphabet(class: &str) -> Option<&'static [u8]> {
    Some(match class {
        "alnum" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "upper" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "lower" => b"abcdefghijklmnopqrstuvwxyz",
        "digit" => b"0123456789",
        "hex" => b"0123456789abcdef",
        "uhex" => b"0123456789ABCDEF",
        "upalnum" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "loalnum" => b"abcdefghijklmnopqrstuvwxyz0123456789",
        "b32" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "bech32u" => b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
        "b64" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "b64url" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
        _ => return None,
    })
}

/// Expands a template with `pick(n)` supplying indexes (taken modulo `n`).
///
/// Runs of length ≥ 2 from an alphabet holding both digits and letters are
/// forced to contain at least one of each, so they look like real keys.
pub fn expand_with(
    template: &str,
    pick: &mut impl FnMut(usize) -> u8,
) -> Result<Expanded, TemplateError> {
    let mut text = String::with_capacity(template.len() + 64);
    let mut random_parts = Vec::new();
    let mut rest = template;
    let mut offset = 0usize;
    while let Some(start) = rest.find(OPEN) {
        text.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len_utf8()..];
        let end = after
            .find(CLOSE)
            .ok_or(TemplateError::Unterminated(offset + start))?;
        let spec = &after[..end];
        let (class, len) = spec
            .split_once(':')
            .ok_or_else(|| TemplateError::Malformed(spec.to_string()))?;
        let len: usize = len
            .parse()
            .map_err(|_| TemplateError::Malformed(spec.to_string()))?;
        if len == 0 || len > 65_536 {
            return Err(TemplateError::Malformed(spec.to_string()));
        }
        let alpha =
            alphabet(class).ok_or_else(|| TemplateError::UnknownClass(class.to_string()))?;
        let part = random_run(alpha, len, pick);
        text.push_str(&part);
        random_parts.push(part);
        let consumed = start + OPEN.len_utf8() + end + CLOSE.len_utf8();
        offset += consumed;
        rest = &rest[consumed..];
    }
    if let Some(pos) = rest.find(CLOSE) {
        return Err(TemplateError::Unterminated(offset + pos));
    }
    text.push_str(rest);
    Ok(Expanded { text, random_parts })
}

fn random_run(alpha: &[u8], len: usize, pick: &mut impl FnMut(usize) -> u8) -> String {
    let n = alpha.len();
    let mut run: Vec<u8> = (0..len).map(|_| alpha[usize::from(pick(n)) % n]).collect();
    let digits: Vec<u8> = alpha.iter().copied().filter(u8::is_ascii_digit).collect();
    let letters: Vec<u8> = alpha
        .iter()
        .copied()
        .filter(u8::is_ascii_alphabetic)
        .collect();
    if len >= 2 && !digits.is_empty() && !letters.is_empty() {
        if !run.iter().any(u8::is_ascii_digit) {
            let at = usize::from(pick(len)) % len;
            run[at] = digits[usize::from(pick(digits.len())) % digits.len()];
        }
        if !run.iter().any(u8::is_ascii_alphabetic) {
            // Overwrite a byte that is not the only digit (len >= 2).
            let digit_count = run.iter().filter(|b| b.is_ascii_digit()).count();
            let at = if digit_count > 1 || !run[len - 1].is_ascii_digit() {
                len - 1
            } else {
                0
            };
            run[at] = letters[usize::from(pick(letters.len())) % letters.len()];
        }
    }
    // Every byte comes from an ASCII alphabet.
    String::from_utf8_lossy(&run).into_owned()
}

/// Unbiased index in `0..n` (n ≤ 256) from a byte source, by rejection.
fn uniform(n: usize, mut byte: impl FnMut() -> u8) -> u8 {
    let n = n.clamp(1, 256);
    let limit = 256 - (256 % n);
    loop {
        let b = usize::from(byte());
        if b < limit {
            return (b % n) as u8;
        }
    }
}

/// Expands a template with bytes from `fill` (the OS's, in
/// `crate::system::try_expand_template`), drawn 256 at a time.
pub fn try_expand_from(
    template: &str,
    fill: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<Expanded, TemplateError> {
    let mut buf = [0u8; 256];
    let mut used = buf.len();
    let mut failure: Option<String> = None;
    let out = expand_with(template, &mut |n| {
        uniform(n, || {
            if used == buf.len() {
                if let Err(e) = fill(&mut buf) {
                    failure.get_or_insert(e);
                }
                used = 0;
            }
            let b = buf[used];
            used += 1;
            b
        })
    })?;
    match failure {
        Some(e) => Err(TemplateError::Random(e)),
        None => Ok(out),
    }
}

/// Expands a template reproducibly from `seed` (splitmix64), for tests that
/// must replay the same values.
pub fn expand_seeded(template: &str, seed: u64) -> Result<Expanded, TemplateError> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 56) as u8
    };
    expand_with(template, &mut |n| uniform(n, &mut next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::{expand_template as expand, try_expand_template as try_expand};

    #[test]
    fn expands_classes_with_lengths_and_records_parts() {
        let e = expand("k=AKIA«b32:16»&x=«hex:8»;");
        assert_eq!(e.random_parts.len(), 2);
        assert_eq!(e.random_parts[0].len(), 16);
        assert!(e.random_parts[0]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        assert!(e.random_parts[1]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(
            e.text,
            format!("k=AKIA{}&x={};", e.random_parts[0], e.random_parts[1])
        );
    }

    #[test]
    fn runs_mix_digits_and_letters_when_the_class_allows() {
        for seed in 0..500u64 {
            let e = expand_seeded("«alnum:2»«hex:3»«upalnum:4»«digit:3»«upper:3»", seed).unwrap();
            for p in &e.random_parts[..3] {
                assert!(p.bytes().any(|b| b.is_ascii_digit()), "{p}");
                assert!(p.bytes().any(|b| b.is_ascii_alphabetic()), "{p}");
            }
            assert!(e.random_parts[3].bytes().all(|b| b.is_ascii_digit()));
            assert!(e.random_parts[4].bytes().all(|b| b.is_ascii_uppercase()));
        }
    }

    #[test]
    fn seeded_is_reproducible_and_random_differs() {
        assert_eq!(
            expand_seeded("«b64:40»", 7).unwrap(),
            expand_seeded("«b64:40»", 7).unwrap()
        );
        assert_ne!(expand("«b64url:40»").text, expand("«b64url:40»").text);
    }

    #[test]
    fn malformed_templates_are_errors() {
        assert!(matches!(
            try_expand("a«alnum:4"),
            Err(TemplateError::Unterminated(_))
        ));
        assert!(matches!(
            try_expand("a»"),
            Err(TemplateError::Unterminated(_))
        ));
        assert!(matches!(
            try_expand("«alnum»"),
            Err(TemplateError::Malformed(_))
        ));
        assert!(matches!(
            try_expand("«alnum:x»"),
            Err(TemplateError::Malformed(_))
        ));
        assert!(matches!(
            try_expand("«alnum:0»"),
            Err(TemplateError::Malformed(_))
        ));
        assert!(matches!(
            try_expand("«nope:3»"),
            Err(TemplateError::UnknownClass(_))
        ));
        assert_eq!(try_expand("plain").unwrap().text, "plain");
    }
}
