//! Fuzz checks for the guardian's core, shared by the libFuzzer targets
//! (`fuzz_targets/*.rs`, run with `cargo fuzz run <name>`) and by the
//! `fuzz_random` driver (seeded random inputs for a time budget, for machines
//! where libFuzzer cannot be built).
//!
//! Every check panics on a broken promise: a crash, a decoded copy larger
//! than its cap, a snippet that still holds a credential-like run, a secret
//! from a config echoed in a report, or a streamed body whose findings depend
//! on where the frames were split.

use arbitrary::{Arbitrary, Unstructured};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use traffic_guardian::core::config::{ConfigInput, ENV_KEYS, TOP_LEVEL_KEYS};
use traffic_guardian::core::decode::{self, parse_content_encoding, DecodeStop, StreamDecoder};
use traffic_guardian::core::finding::{Direction, Finding};
use traffic_guardian::core::redact::SnippetMode;
use traffic_guardian::core::rules::registry::builtin_specs;
use traffic_guardian::core::rules::template::expand_with;
use traffic_guardian::core::scan::{Detector, DetectorOptions, MessageHead, ScanContext};
use traffic_guardian::storage::config_fs;

/// The test support shared with the integration tests and the benchmarks.
#[path = "../../test-support/mod.rs"]
mod support;
pub use support::encode::encode;

/// A fixed key: fingerprints must be comparable between runs of one input.
const KEY: [u8; 32] = [7u8; 32];

fn make_detector(max_scan_bytes: usize, mode: SnippetMode) -> Arc<Detector> {
    match Detector::builtin(DetectorOptions {
        max_scan_bytes,
        snippet_mode: mode,
        fingerprint_key: KEY,
        expected_destinations: BTreeMap::new(),
        ..traffic_guardian::system::detector_options()
    }) {
        Ok(d) => Arc::new(d),
        Err(e) => panic!("built-in rules must compile: {e}"),
    }
}

/// Detectors are expensive to build: one per (size, mode), built once.
fn detector(small: bool, mode: SnippetMode) -> Arc<Detector> {
    static CELLS: [OnceLock<Arc<Detector>>; 6] = [const { OnceLock::new() }; 6];
    let m = match mode {
        SnippetMode::Full => 0,
        SnippetMode::Short => 1,
        SnippetMode::None => 2,
    };
    let (i, size) = if small { (m + 3, 1024) } else { (m, 1 << 20) };
    Arc::clone(CELLS[i].get_or_init(|| make_detector(size, mode)))
}

fn mode_of(b: u8) -> SnippetMode {
    match b % 3 {
        0 => SnippetMode::Full,
        1 => SnippetMode::Short,
        _ => SnippetMode::None,
    }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'_' | b'-')
}

/// The redaction promise, checked on every finding: once the
/// `[REDACTED:…]` markers are removed, no snippet holds a credential-like
/// run (≥ 8 token bytes mixing letters and digits, or ≥ 24 token bytes).
pub fn assert_finding_safe(f: &Finding) {
    assert!(!f.pattern.is_empty(), "finding without a rule id");
    assert!(
        f.fingerprint.len() == 16 && f.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()),
        "fingerprint is not 16 hex digits: {:?}",
        f.fingerprint
    );
    assert!(
        f.snippet.len() <= 4096,
        "snippet of {} bytes",
        f.snippet.len()
    );
    let mut s = f.snippet.clone();
    while let Some(start) = s.find("[REDACTED:") {
        let end = s[start..].find(']').map_or(s.len(), |e| start + e + 1);
        s.replace_range(start..end, " ");
    }
    let s = s.replace("[MASKED]", " ");
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_token(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let (mut alpha, mut digit) = (false, false);
        while i < bytes.len() && is_token(bytes[i]) {
            alpha |= bytes[i].is_ascii_alphabetic();
            digit |= bytes[i].is_ascii_digit();
            i += 1;
        }
        let len = i - start;
        assert!(
            !(len >= 24 || (len >= 8 && alpha && digit)),
            "snippet of {} keeps a credential-like run of {len} bytes",
            f.pattern
        );
    }
}

fn ctx(direction: Direction) -> ScanContext {
    ScanContext::new(direction, "http", "fuzz", "fuzz.example:443")
}

fn direction_of(b: u8) -> Direction {
    if b & 1 == 0 {
        Direction::Outbound
    } else {
        Direction::Inbound
    }
}

/// The scanner on arbitrary bytes, both directions, every snippet mode;
/// and a catalogue example planted (on a line of its own) in arbitrary text
/// is still found: the same rule and fingerprint as when it stands alone.
pub fn scan_text(data: &[u8]) {
    let Some((&sel, text)) = data.split_first() else {
        return;
    };
    let direction = direction_of(sel);
    let d = detector(false, mode_of(sel >> 1));
    for f in d.scan_text(&ctx(direction), "fuzz", text) {
        assert_finding_safe(&f);
    }
    let mut u = Unstructured::new(text);
    let Ok(which) = u.arbitrary::<u16>() else {
        return;
    };
    let Some(plant) = plant_of(direction, which, &mut u) else {
        return;
    };
    let rest = u.take_rest();
    let cut = rest.len() / 2;
    let body = [&rest[..cut], b"\n", &plant, b"\n", &rest[cut..]].concat();
    assert_plant_found(
        &d,
        direction,
        &plant,
        &d.scan_text(&ctx(direction), "fuzz", &body),
    );
}

/// A catalogue example for `direction`, its placeholders filled from `u`.
fn plant_of(direction: Direction, which: u16, u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let plants: Vec<&str> = plants()
        .iter()
        .filter(|(d, _)| *d == direction)
        .map(|(_, t)| *t)
        .collect();
    let t = plants.get(usize::from(which) % plants.len().max(1))?;
    Some(fill_template(t, u))
}

/// What `plant` raises on its own must be raised (same rule, same
/// fingerprint) where it was planted: arbitrary bytes around it, on other
/// lines, must not hide it. Plants that raise nothing alone prove nothing.
fn assert_plant_found(d: &Detector, direction: Direction, plant: &[u8], found: &[Finding]) {
    // On a line of its own, as it is planted: a rule may look at what
    // precedes a value (`?path=` vs. a bare mention). Compared by rule: a
    // rule with a long gap (a PuTTY key's body) may reach into the next lines.
    let line = [b"\n", plant, b"\n"].concat();
    let alone: BTreeSet<String> = d
        .scan_text(&ctx(direction), "fuzz", &line)
        .into_iter()
        .map(|f| f.pattern)
        .collect();
    if alone.is_empty() {
        return;
    }
    let got: BTreeSet<String> = found.iter().map(|f| f.pattern.clone()).collect();
    assert!(
        !alone.is_disjoint(&got),
        "planted {:?} raises {alone:?} alone but nothing of it when planted (got {got:?})",
        String::from_utf8_lossy(plant)
    );
}

/// `percent_decode` against a reference decoder.
pub fn decode_percent(data: &[u8]) {
    let got = decode::percent_decode(data);
    let mut want = Vec::with_capacity(data.len());
    let mut changed = false;
    let mut i = 0;
    while i < data.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if data[i] == b'%' && i + 2 < data.len() {
            if let (Some(h), Some(l)) = (hex(data[i + 1]), hex(data[i + 2])) {
                want.push((h * 16 + l) as u8);
                i += 3;
                changed = true;
                continue;
            }
        }
        want.push(data[i]);
        i += 1;
    }
    assert_eq!(got, changed.then_some(want), "percent_decode disagrees");
}

/// `json_unescape`: never grows the text, only triggers on `\u` or `\/`.
pub fn decode_json(data: &[u8]) {
    let got = decode::json_unescape(data);
    let trigger = data.windows(2).any(|w| w == b"\\u" || w == b"\\/");
    assert_eq!(got.is_some(), trigger, "json_unescape trigger");
    if let Some(out) = got {
        assert!(out.len() <= data.len(), "json_unescape grew the text");
    }
}

/// `html_unescape`: output shorter than input whenever it decoded something.
pub fn decode_html(data: &[u8]) {
    if let Some(out) = decode::html_unescape(data) {
        assert!(out.len() < data.len(), "html_unescape did not shrink");
        assert!(data.contains(&b'&'));
    }
}

/// `base64_segments`: bounded output, and an embedded base64 text is found.
pub fn decode_base64(data: &[u8]) {
    if let Some(out) = decode::base64_segments(data) {
        // Each run decodes to at most 3/4 of its characters, and a wrapped
        // block's lines appear twice (the block, then each line): with the
        // separators, under twice the text.
        assert!(
            out.len() <= 2 * data.len(),
            "base64 view over twice its text"
        );
    }
    // Planting: a text encoded as base64 between separators is revealed.
    let mut u = Unstructured::new(data);
    let Ok(words) = <Vec<u8>>::arbitrary(&mut u) else {
        return;
    };
    let plain: Vec<u8> = words.iter().map(|b| b'a' + (b % 26)).take(120).collect();
    if plain.len() < 18 {
        return;
    }
    let b64 = base64_std(&plain);
    let text = [b"x=".as_slice(), b64.as_bytes(), b" end"].concat();
    let out = decode::base64_segments(&text).unwrap_or_default();
    assert!(
        out.windows(plain.len()).any(|w| w == plain.as_slice()),
        "planted base64 text not revealed"
    );
}

fn base64_std(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                s.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

const CODINGS: [&str; 5] = ["gzip", "deflate", "br", "zstd", "x-gzip"];

/// Splits `data` at arbitrary points chosen by `u`.
fn split<'a>(u: &mut Unstructured<'_>, data: &'a [u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = u.int_in_range(0..=rest.len()).unwrap_or(rest.len());
        let (a, b) = rest.split_at(n.max(1).min(rest.len()));
        parts.push(a);
        rest = b;
    }
    parts
}

#[derive(Debug, Arbitrary)]
struct StreamCase {
    /// Codings in the order applied (indexes into `CODINGS`).
    codings: Vec<u8>,
    raw_deflate: bool,
    /// Feed `payload` itself (garbage to the decoder) instead of encoding it.
    garbage: bool,
    cap: u16,
    payload: Vec<u8>,
    splits: Vec<u8>,
}

/// `StreamDecoder` with random stacked codings, caps and chunking: output
/// never exceeds the cap, is always a prefix of the payload, and is the
/// whole payload when the cap leaves room for every stage.
pub fn stream_decoder(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(case) = StreamCase::arbitrary(&mut u) else {
        return;
    };
    let applied: Vec<&str> = case
        .codings
        .iter()
        .take(3)
        .map(|c| CODINGS[usize::from(*c) % CODINGS.len()])
        .collect();
    let header = applied.join(", ");
    let undo = match parse_content_encoding(&header) {
        Ok(u) => u,
        Err(e) => panic!("{header:?} must parse: {e}"),
    };
    assert_eq!(undo.len(), applied.len());
    let cap = usize::from(case.cap).max(1);
    let body = if case.garbage {
        case.payload.clone()
    } else {
        let mut b = case.payload.clone();
        for c in &applied {
            b = encode(c, &b, case.raw_deflate);
        }
        b
    };
    if undo.is_empty() {
        // Identity: nothing to decode (the inspector uses no decoder then).
        return;
    }
    let mut dec = StreamDecoder::new(&undo, cap);
    let mut su = Unstructured::new(&case.splits);
    let mut out = Vec::new();
    for part in split(&mut su, &body) {
        out.extend(dec.push(part));
        assert!(
            out.len() <= cap,
            "decoded {} bytes past cap {cap} ({header:?}, garbage {}, stopped {:?})",
            out.len(),
            case.garbage,
            dec.stopped()
        );
    }
    out.extend(dec.finish());
    assert!(
        out.len() <= cap,
        "decoded {} bytes past cap {cap} at finish ({header:?}, garbage {}, stopped {:?}, body {:?})",
        out.len(),
        case.garbage,
        dec.stopped(),
        body
    );
    if !case.garbage {
        assert!(
            case.payload.starts_with(&out),
            "decoded bytes are not a prefix of the payload ({header})"
        );
        // Every stage's output (intermediate encodings included) fits the cap.
        let room = case.payload.len() * 2 + 1024;
        if cap >= room {
            assert_eq!(dec.stopped(), None, "{header}: stopped early");
            assert_eq!(out, case.payload, "{header}: payload not restored");
        }
        if out.len() < case.payload.len() {
            assert_eq!(
                dec.stopped(),
                Some(DecodeStop::Capped),
                "{header}: short without cap"
            );
        }
    }
}

#[derive(Debug, Arbitrary)]
struct MessageCase {
    sel: u8,
    method: String,
    url: String,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    encoding: Option<Vec<u8>>,
    encode_body: bool,
    body: Vec<u8>,
}

/// The whole-message scan with arbitrary head and body.
pub fn scan_message(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(case) = MessageCase::arbitrary(&mut u) else {
        return;
    };
    let small = case.sel & 8 != 0;
    let d = detector(small, mode_of(case.sel >> 1));
    let mut headers: Vec<(&str, &[u8])> = case
        .headers
        .iter()
        .take(32)
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let mut body = case.body.clone();
    let coding_header;
    if let Some(enc) = &case.encoding {
        if case.encode_body {
            let c = CODINGS[usize::from(enc.first().copied().unwrap_or(0)) % CODINGS.len()];
            body = encode(c, &body, false);
            coding_header = c.as_bytes().to_vec();
        } else {
            coding_header = enc.clone();
        }
        headers.push(("content-encoding", &coding_header));
    }
    let head = MessageHead {
        method: Some(case.method.as_str()).filter(|_| case.sel & 16 != 0),
        url: Some(case.url.as_str()),
        status: Some(case.status),
        headers,
    };
    let (findings, stats) = d.scan_message(&ctx(direction_of(case.sel)), &head, &body);
    assert!(stats.scanned_bytes <= d.max_scan_bytes() as u64);
    for f in &findings {
        assert_finding_safe(f);
        assert_ne!(f.location, "header:proxy-authorization");
    }
}

/// Example texts of the built-in rules with their `«class:len»`
/// placeholders filled from fuzz bytes: realistic findings to plant.
fn plants() -> &'static [(Direction, &'static str)] {
    static P: OnceLock<Vec<(Direction, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        builtin_specs()
            .flat_map(|s| s.examples.iter().map(|e| (s.threat.direction(), *e)))
            .collect()
    })
}

fn fill_template(t: &str, u: &mut Unstructured<'_>) -> Vec<u8> {
    // The catalogue's own expander, with fuzz bytes choosing the characters.
    let mut pick = |_n: usize| u.arbitrary::<u8>().unwrap_or(0);
    expand_with(t, &mut pick)
        .map(|e| e.text.into_bytes())
        .unwrap_or_else(|_| t.as_bytes().to_vec())
}

#[derive(Debug, Arbitrary)]
enum Piece {
    Bytes(Vec<u8>),
    Plant(u16),
    PlantPercent(u16),
    PlantBase64(u16),
    /// Base64 wrapped into lines (width and break kind from the byte).
    PlantBase64Wrapped(u16, u8),
    Sep(u8),
}

/// Builds a body for `direction` from arbitrary pieces and planted
/// examples; returns it with each planted piece as it appears in the body
/// (raw, percent- or base64-encoded).
fn build_planted_body(u: &mut Unstructured<'_>, direction: Direction) -> (Vec<u8>, Vec<Vec<u8>>) {
    let pieces: Vec<Piece> = u.arbitrary().unwrap_or_default();
    let plants: Vec<&str> = plants()
        .iter()
        .filter(|(d, _)| *d == direction)
        .map(|(_, t)| *t)
        .collect();
    let mut body = Vec::new();
    let mut planted = Vec::new();
    for p in pieces.into_iter().take(64) {
        let mut at = body.len();
        let mut own_paragraph = false;
        let is_plant = !matches!(p, Piece::Bytes(_) | Piece::Sep(_));
        let pick = |i: u16| plants.get(usize::from(i) % plants.len().max(1)).copied();
        match p {
            Piece::Bytes(b) => body.extend(b.into_iter().take(2048)),
            Piece::Plant(i) => {
                if let Some(t) = pick(i) {
                    // A paragraph of its own: rules that read the paragraph
                    // around an anchor judge it with its neighbours (a
                    // security write-up beside an order makes it a quote),
                    // and unrelated plants are no one paragraph.
                    body.push(b'\n');
                    at = body.len();
                    body.extend(fill_template(t, u));
                    own_paragraph = true;
                }
            }
            Piece::PlantPercent(i) => {
                if let Some(t) = pick(i) {
                    for b in fill_template(t, u) {
                        body.extend(format!("%{b:02X}").bytes());
                    }
                }
            }
            Piece::PlantBase64(i) => {
                if let Some(t) = pick(i) {
                    body.extend(base64_std(&fill_template(t, u)).bytes());
                }
            }
            Piece::PlantBase64Wrapped(i, shape) => {
                if let Some(t) = pick(i) {
                    let width = 40 + 4 * usize::from(shape % 10);
                    let line_break = ["\n", "\r\n", "\\n", "\\r\\n"][usize::from(shape / 10 % 4)];
                    let encoded = base64_std(&fill_template(t, u));
                    let lines: Vec<&str> = encoded
                        .as_bytes()
                        .chunks(width)
                        .filter_map(|c| std::str::from_utf8(c).ok())
                        .collect();
                    // Blank lines around it: a same-width line of the piece
                    // before, or a short line of the piece after, would join
                    // the block and glue its bytes to the planted value. The
                    // lines alone still show what per-line decoding showed;
                    // only a value across a wrap needs the block whole.
                    body.push(b'\n');
                    body.extend(lines.join(line_break).bytes());
                    body.push(b'\n');
                }
            }
            Piece::Sep(s) => body.push(b" \n\t&=;,\"'{}"[usize::from(s) % 11]),
        }
        if is_plant && body.len() > at {
            planted.push(body[at..].to_vec());
        }
        body.push(b'\n');
        if own_paragraph {
            body.push(b'\n');
        }
        if body.len() > 256 * 1024 {
            break;
        }
    }
    (body, planted)
}

/// What is compared between split and whole: which rule saw which value.
type Seen = BTreeSet<(String, String)>;

fn feed_all(d: &Arc<Detector>, direction: Direction, enc: Option<&str>, parts: &[&[u8]]) -> Seen {
    let mut insp = d.body_inspector(ctx(direction), "body", enc);
    let mut found = Vec::new();
    for p in parts {
        found.extend(insp.feed(p));
    }
    found.extend(insp.finish());
    for f in &found {
        assert_finding_safe(f);
    }
    found
        .into_iter()
        .map(|f| (f.pattern, f.fingerprint))
        .collect()
}

/// One streaming-split case: the body, its encoding and where it was split.
#[derive(Debug, Clone)]
pub struct SplitCase {
    pub direction: Direction,
    pub encoding: Option<&'static str>,
    pub body: Vec<u8>,
    pub cuts: Vec<usize>,
    /// The examples planted in `body`, as they appear there.
    pub planted: Vec<Vec<u8>>,
}

/// Runs a split case; returns the findings only one side produced
/// (`(whole_only, split_only)`), empty when the property holds.
pub fn split_mismatch(case: &SplitCase) -> (Seen, Seen) {
    let d = detector(false, SnippetMode::Full);
    let wire = match case.encoding {
        Some(c) => encode(c, &case.body, false),
        None => case.body.clone(),
    };
    let whole = feed_all(&d, case.direction, case.encoding, &[&wire]);
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut last = 0;
    for &c in &case.cuts {
        let c = c.min(wire.len());
        if c > last {
            parts.push(&wire[last..c]);
            last = c;
        }
    }
    parts.push(&wire[last..]);
    let split = feed_all(&d, case.direction, case.encoding, &parts);
    (
        whole.difference(&split).cloned().collect(),
        split.difference(&whole).cloned().collect(),
    )
}

/// Decodes a split case from fuzz bytes.
pub fn split_case(data: &[u8]) -> Option<SplitCase> {
    let mut u = Unstructured::new(data);
    let sel: u8 = u.arbitrary().ok()?;
    let direction = direction_of(sel);
    let encoding = match (sel >> 1) % 4 {
        0 | 1 => None,
        2 => Some("gzip"),
        _ => Some("br"),
    };
    let (body, planted) = build_planted_body(&mut u, direction);
    let wire_len = match encoding {
        Some(c) => encode(c, &body, false).len(),
        None => body.len(),
    };
    let mut cuts: Vec<usize> = Vec::new();
    let n: u8 = u.arbitrary().ok()?;
    for _ in 0..(n % 32) {
        cuts.push(u.int_in_range(0..=wire_len).ok()?);
    }
    cuts.sort_unstable();
    Some(SplitCase {
        direction,
        encoding,
        body,
        cuts,
        planted,
    })
}

/// Streaming inspection with arbitrary frame splits finds exactly what one
/// frame holding the whole body finds (compared by rule and fingerprint).
pub fn body_split(data: &[u8]) {
    let Some(case) = split_case(data) else {
        return;
    };
    let (whole_only, split_only) = split_mismatch(&case);
    // Both sides missing a planted example is a miss too, not agreement.
    let d = detector(false, SnippetMode::Full);
    let mut insp = d.body_inspector(ctx(case.direction), "body", None);
    let mut whole = insp.feed(&case.body);
    whole.extend(insp.finish());
    for plant in &case.planted {
        assert_plant_found(&d, case.direction, plant, &whole);
    }
    if !whole_only.is_empty() || !split_only.is_empty() {
        panic!(
            "split changes findings: whole only {whole_only:?}, split only {split_only:?}; \
             direction {:?}, encoding {:?}, cuts {:?}, body {:?}",
            case.direction,
            case.encoding,
            case.cuts,
            String::from_utf8_lossy(&case.body)
        );
    }
}

/// Arbitrary JSON, depth-limited, biased toward the config's own keys.
fn json_value(u: &mut Unstructured<'_>, depth: u8) -> serde_json::Value {
    use serde_json::Value;
    let k: u8 = u.arbitrary().unwrap_or(0);
    match k % 8 {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary().unwrap_or(false)),
        2 => Value::from(u.arbitrary::<i64>().unwrap_or(0)),
        3 => Value::from(u.arbitrary::<f64>().unwrap_or(0.0)),
        4 | 5 => Value::String(u.arbitrary::<String>().unwrap_or_default()),
        6 if depth > 0 => Value::Array(
            (0..u.int_in_range(0..=4u8).unwrap_or(0))
                .map(|_| json_value(u, depth - 1))
                .collect(),
        ),
        7 if depth > 0 => {
            let mut m = serde_json::Map::new();
            for _ in 0..u.int_in_range(0..=5u8).unwrap_or(0) {
                let key = if u.arbitrary::<bool>().unwrap_or(false) {
                    let names = [
                        "enabled",
                        "trusted_runtimes",
                        "exclude_hosts",
                        "name",
                        "token",
                        "host",
                        "port",
                    ];
                    names[usize::from(u.arbitrary::<u8>().unwrap_or(0)) % names.len()].to_owned()
                } else {
                    u.arbitrary::<String>().unwrap_or_default()
                };
                m.insert(key, json_value(u, depth - 1));
            }
            Value::Object(m)
        }
        _ => Value::String(String::new()),
    }
}

/// Whether a string, taken as a path the config would open, lands in a
/// pseudo-file system (`/dev`, `/proc`, `/sys`, `/run`), where a read can
/// hang or never end (`/dev/zero`, `/proc/kmsg`). Resolved lexically from the
/// working directory and `~` (HOME is a non-existent directory), so only
/// such paths are guarded and every other input is explored.
fn is_special_path(s: &str) -> bool {
    use std::path::{Component, Path, PathBuf};
    let s = s.trim();
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let joined = match s.strip_prefix('~') {
        Some(rest) => {
            PathBuf::from("/nonexistent-guardian-fuzz-home").join(rest.trim_start_matches('/'))
        }
        None => base.join(s),
    };
    let mut norm = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                norm.pop();
            }
            Component::Normal(p) => norm.push(p),
            _ => {}
        }
    }
    ["/dev", "/proc", "/sys", "/run"]
        .iter()
        .any(|p| norm.starts_with(Path::new(p)))
}

/// Points every string that names a pseudo-file somewhere harmless.
fn guard_special_paths(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if is_special_path(s) => {
            *s = format!("/nonexistent-guardian-fuzz{}", s.trim());
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(guard_special_paths),
        serde_json::Value::Object(m) => m.values_mut().for_each(guard_special_paths),
        _ => {}
    }
}

/// Config parsing with arbitrary overrides and environment: never panics
/// (an internal panic surfaces as "internal error"), and a runtime token or
/// proxy password given once never appears in the report.
pub fn config_check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let raw_text = u.arbitrary::<bool>().unwrap_or(false);
    let overrides = if raw_text {
        let t: String = u.arbitrary().unwrap_or_default();
        serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t))
    } else {
        let mut m = serde_json::Map::new();
        for _ in 0..u.int_in_range(0..=8u8).unwrap_or(0) {
            let key = TOP_LEVEL_KEYS
                [usize::from(u.arbitrary::<u8>().unwrap_or(0)) % TOP_LEVEL_KEYS.len()];
            m.insert(key.to_owned(), json_value(&mut u, 3));
        }
        serde_json::Value::Object(m)
    };
    let mut env = BTreeMap::new();
    env.insert(
        "HOME".to_owned(),
        "/nonexistent-guardian-fuzz-home".to_owned(),
    );
    for _ in 0..u.int_in_range(0..=4u8).unwrap_or(0) {
        let (name, _) = ENV_KEYS[usize::from(u.arbitrary::<u8>().unwrap_or(0)) % ENV_KEYS.len()];
        env.insert(name.to_owned(), u.arbitrary::<String>().unwrap_or_default());
    }
    let mut overrides = overrides;
    guard_special_paths(&mut overrides);
    for v in env.values_mut() {
        if is_special_path(v) {
            *v = format!("/nonexistent-guardian-fuzz{}", v.trim());
        }
    }
    let serialized = overrides.to_string();
    let input = ConfigInput {
        env,
        config_path: None,
        overrides,
    };
    let report = config_fs::check(&input);
    assert!(
        !report.errors.iter().any(|e| e.field.is_empty()
            && e.message == "internal error while checking the configuration"
            && e.hint == "report this as a bug"),
        "config::check panicked internally"
    );
    let shown = match serde_json::to_string(&report) {
        Ok(s) => s,
        Err(e) => panic!("report must serialise: {e}"),
    };
    let debug = format!("{:?}", report.config);
    // Secrets given exactly once must not come back.
    let mut secrets = Vec::new();
    if let Some(rts) = input.overrides.get("runtimes").and_then(|r| r.as_array()) {
        for r in rts {
            if let Some(t) = r.get("token").and_then(|t| t.as_str()) {
                secrets.push(t.to_owned());
            }
        }
    }
    for s in secrets {
        if s.len() < 12 || serialized.matches(s.as_str()).count() != 1 {
            continue;
        }
        let escaped = serde_json::Value::String(s.clone()).to_string();
        let inner = &escaped[1..escaped.len() - 1];
        // The report may contain the same text for other reasons (a key
        // name, a default): check against a run where the token is replaced.
        let mut other = input.clone();
        replace_string(&mut other.overrides, &s, "tgfuzz-replaced-token");
        let baseline = serde_json::to_string(&config_fs::check(&other)).unwrap_or_default();
        if baseline.contains(inner) {
            continue;
        }
        if let Some(at) = shown.find(inner) {
            let from = shown[..at]
                .char_indices()
                .rev()
                .nth(120)
                .map_or(0, |(i, _)| i);
            let to = (at + inner.len() + 40).min(shown.len());
            let to = (to..=shown.len())
                .find(|&i| shown.is_char_boundary(i))
                .unwrap_or(shown.len());
            panic!(
                "a runtime token was echoed by config::check: token {inner:?} in …{}… (overrides {serialized})",
                &shown[from..to]
            );
        }
        assert!(
            !debug.contains(&s),
            "a runtime token is in the typed config's Debug"
        );
    }
}

fn replace_string(v: &mut serde_json::Value, from: &str, to: &str) {
    match v {
        serde_json::Value::String(x) if x == from => *x = to.to_owned(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_string(x, from, to)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|x| replace_string(x, from, to)),
        _ => {}
    }
}

/// A target by name (for the random driver).
pub fn target(name: &str) -> Option<fn(&[u8])> {
    Some(match name {
        "scan_text" => scan_text,
        "decode_percent" => decode_percent,
        "decode_json" => decode_json,
        "decode_html" => decode_html,
        "decode_base64" => decode_base64,
        "stream_decoder" => stream_decoder,
        "scan_message" => scan_message,
        "body_split" => body_split,
        "config_check" => config_check,
        _ => return None,
    })
}

/// Every target name, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: [&str; 9] = [
    "scan_text",
    "decode_percent",
    "decode_json",
    "decode_html",
    "decode_base64",
    "stream_decoder",
    "scan_message",
    "body_split",
    "config_check",
];
