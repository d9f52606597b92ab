//! Known-secret matching: values the host knows (a database password, an
//! internal token, a planted canary) found going out in any common encoding,
//! kept only as keyed hashes.
//!
//! At registration every value is expanded into its *forms* (raw, reversed,
//! base64 standard and URL-safe at the three alignments, hex, percent- and
//! JSON-escaped); each form is kept as an HMAC-SHA-256 digest (16 bytes) plus
//! 32-bit keyed hashes of its first few 6-byte grams for the prefilter. The
//! clear value is dropped (overwritten) before `register` returns.
//!
//! Matching a view costs one keyed multiply of a 6-byte gram and one bit
//! test every `stride` bytes (the stride is the shortest form's length minus
//! 5, capped at [`MAX_STRIDE`]): every form holds one gram starting at a
//! stride position within its first `stride` bytes, and that gram is
//! registered with its offset. A 128 KiB two-bit Bloom filter rejects nearly every
//! position; the rest look up a map of gram hashes and confirm a candidate
//! with the full keyed digest. Exact by construction: no false positive
//! beyond a 128-bit digest collision.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

/// Bytes of one prefilter gram: short, so the stride (shortest form minus
/// `GRAM - 1`) stays long for short values; 48 bits still make a real gram
/// hit in ordinary text rare.
const GRAM: usize = 6;
/// Most bytes between two sampled positions.
pub const MAX_STRIDE: usize = 32;
/// Shortest value accepted: shorter ones would match ordinary text.
pub const MIN_SECRET_LEN: usize = 8;
/// Longest value accepted: its longest form (hex) must still fit in the
/// scanner's carry between frames.
pub const MAX_SECRET_LEN: usize = 256;
/// Longest name accepted.
pub const MAX_NAME_LEN: usize = 64;
/// log2 of the prefilter's size in bits (128 KiB): small enough to stay in
/// a core's cache next to the rule automata.
const BITS_LOG2: u32 = 20;

/// How a registered value appeared in the scanned view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    Raw,
    Reversed,
    Base64,
    Base64Url,
    Hex,
    Percent,
    JsonEscaped,
}

impl Form {
    pub const fn as_str(self) -> &'static str {
        match self {
            Form::Raw => "raw",
            Form::Reversed => "reversed",
            Form::Base64 => "base64",
            Form::Base64Url => "base64url",
            Form::Hex => "hex",
            Form::Percent => "percent-encoded",
            Form::JsonEscaped => "json-escaped",
        }
    }
}

/// A value could not be registered. Never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KnownSecretError {
    #[error("known secret name \"{0}\" is not 1-64 of A-Z a-z 0-9 _ . -")]
    BadName(String),
    #[error("known secret {name} is {len} bytes; values of {MIN_SECRET_LEN} to {MAX_SECRET_LEN} bytes are matched (a shorter value would match ordinary text)")]
    BadLength { name: String, len: usize },
    #[error("known secret {name}: {message}")]
    BadHashes { name: String, message: String },
}

/// What a registered value is, for the finding it raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretLabel {
    /// An operator's secret: `known_secret`, named `name`, expected at
    /// `expected_hosts` (exact host or `.suffix`).
    Known {
        name: String,
        expected_hosts: Vec<String>,
    },
    /// A planted canary: `canary_token`, reported everywhere.
    Canary {
        id: String,
        group: String,
        kind: String,
    },
}

impl SecretLabel {
    /// The finding pattern this label raises.
    pub fn pattern(&self) -> &'static str {
        match self {
            SecretLabel::Known { .. } => KNOWN_SECRET_PATTERN,
            SecretLabel::Canary { .. } => CANARY_PATTERN,
        }
    }

    /// The name shown in findings: `NAME`, or `group/id` for a canary.
    pub fn display(&self) -> String {
        match self {
            SecretLabel::Known { name, .. } => name.clone(),
            SecretLabel::Canary { id, group, kind } => format!("{group}/{id} ({kind})"),
        }
    }

    /// Whether sending the value to `host` (lowercase) is expected traffic.
    pub fn expected_at(&self, host: &str) -> bool {
        let SecretLabel::Known { expected_hosts, .. } = self else {
            return false;
        };
        expected_hosts.iter().any(|e| host_matches(e, host))
    }
}

/// A finding pattern raised by a detector other than a regex rule: listed
/// with the rules (`traffic-guardian rules`, pattern filters) so filters and
/// suppressions accept it.
#[derive(Debug, Clone, Copy)]
pub struct DetectorPattern {
    pub id: &'static str,
    pub description: &'static str,
    pub severity: crate::core::finding::Severity,
    /// Shown as the rule's kind.
    pub kind: &'static str,
}

/// Every pattern raised outside the regex rules, defined once.
pub const DETECTOR_PATTERNS: &[DetectorPattern] = &[
    DetectorPattern {
        id: KNOWN_SECRET_PATTERN,
        description: "A value the host registered (known_secrets_file, createTrafficGuardian knownSecrets) leaving in any common encoding (raw, reversed, base64, hex, percent, JSON) to a host not expected for it; the snippet names it, never shows it",
        severity: crate::core::finding::Severity::Critical,
        kind: "known",
    },
    DetectorPattern {
        id: CANARY_PATTERN,
        description: "A canary credential (traffic-guardian canary new) seen in traffic to any host, its own provider's included; the snippet names the group and canary id",
        severity: crate::core::finding::Severity::Critical,
        kind: "canary",
    },
    DetectorPattern {
        id: crate::core::shape::VOLUME_PATTERN,
        description: "More request bytes to one destination, or from one group, within the sliding window (exfil_window_secs) than exfil_dest_bytes or exfil_group_bytes allow; the snippet summarises sizes",
        severity: crate::core::finding::Severity::High,
        kind: "shape",
    },
    DetectorPattern {
        id: crate::core::shape::DNS_LABEL_PATTERN,
        description: "Many unique high-entropy subdomain labels of one registrable domain within the window (data encoded in host names); the labels are masked",
        severity: crate::core::finding::Severity::High,
        kind: "shape",
    },
    DetectorPattern {
        id: crate::core::shape::FRAGMENTED_PATTERN,
        description: "Many high-entropy fragments (URL path segments, query values) sent to one destination within the window: a secret cut into small pieces",
        severity: crate::core::finding::Severity::High,
        kind: "shape",
    },
];

/// Finding pattern of an operator's known secret.
pub const KNOWN_SECRET_PATTERN: &str = "known_secret";
/// Finding pattern of a canary credential.
pub const CANARY_PATTERN: &str = "canary_token";

/// `entry` (exact host or `.suffix`) matches `host`.
pub fn host_matches(entry: &str, host: &str) -> bool {
    let entry = entry.trim();
    match entry.strip_prefix('.') {
        Some(suffix) => {
            host.eq_ignore_ascii_case(suffix)
                || (host.len() > suffix.len()
                    && host
                        .get(host.len() - suffix.len()..)
                        .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.')
        }
        None => host.eq_ignore_ascii_case(entry),
    }
}

/// Whether `name` is acceptable as a known secret's name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// One form as stored: its keyed hashes only. Serializable so a canary can
/// be recorded (by hash) when it is minted and loaded by the guardian later.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FormHash {
    /// [`Form::as_str`].
    pub form: String,
    pub len: u32,
    /// Confirmed on the ASCII-lowercased bytes (hex, hex-like values).
    pub fold: bool,
    /// HMAC-SHA-256 of the form, first 16 bytes, hex.
    pub digest: String,
    /// Keyed 32-bit hashes of the grams at offsets `0..grams.len()`.
    pub grams: Vec<u32>,
}

/// One occurrence of a registered value in a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHit {
    /// Index of the value's label ([`KnownSecrets::label`]).
    pub entry: usize,
    pub form: Form,
    pub range: Range<usize>,
}

struct FormRec {
    entry: u32,
    len: u32,
    form: Form,
    fold: bool,
    digest: [u8; 16],
    grams: Vec<u32>,
}

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type GramMap = HashMap<u32, Vec<(u32, u8)>, BuildHasherDefault<IdHasher>>;

/// Registered values, by keyed hash only. Build once, then share: `find`
/// takes `&self` and allocates only for hits.
pub struct KnownSecrets {
    mac: Hmac<Sha256>,
    /// Keys of the gram hash.
    k1: u64,
    k2: u64,
    labels: Vec<SecretLabel>,
    forms: Vec<FormRec>,
    stride: usize,
    /// Bytes of the shortest form.
    shortest: usize,
    bits: Box<[u64; BIT_WORDS]>,
    grams: GramMap,
}

/// Words of the prefilter bitset.
const BIT_WORDS: usize = 1 << (BITS_LOG2 - 6);

impl std::fmt::Debug for KnownSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownSecrets")
            .field("values", &self.labels.len())
            .field("forms", &self.forms.len())
            .field("stride", &self.stride)
            .finish()
    }
}

fn hmac_with(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    // new_from_slice never fails for HMAC; a zero key keeps this total.
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default())
}

impl KnownSecrets {
    /// An empty registry keyed by `key` (the guardian's fingerprint key, or
    /// a fresh random key). Hashes are only comparable under the same key.
    pub fn new(key: &[u8; 32]) -> KnownSecrets {
        let mac = hmac_with(key);
        let mut m = mac.clone();
        m.update(b"clawsec-known-secrets/gram-keys");
        let d = m.finalize().into_bytes();
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&d[i..i + 8]);
            u64::from_le_bytes(b)
        };
        KnownSecrets {
            mac,
            k1: word(0),
            k2: word(8) | 1,
            labels: Vec::new(),
            forms: Vec::new(),
            stride: MAX_STRIDE,
            shortest: usize::MAX,
            bits: zeroed_bits(),
            grams: GramMap::default(),
        }
    }

    /// Number of registered values (a canary counts once).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn label(&self, entry: usize) -> Option<&SecretLabel> {
        self.labels.get(entry)
    }

    /// Registers `value` under `label`. The value's forms are hashed and
    /// overwritten before this returns; `value` itself is the caller's.
    pub fn register(&mut self, label: SecretLabel, value: &[u8]) -> Result<(), KnownSecretError> {
        let forms = self.hash_forms(&label_name(&label), value)?;
        self.add_hashed(label, &forms)
    }

    /// The keyed hashes of every form of `value`, as [`FormHash`]es to be
    /// stored (for a canary) and given to [`KnownSecrets::add_hashed`] later
    /// under the same key.
    pub fn hash_forms(&self, name: &str, value: &[u8]) -> Result<Vec<FormHash>, KnownSecretError> {
        if value.len() < MIN_SECRET_LEN || value.len() > MAX_SECRET_LEN {
            return Err(KnownSecretError::BadLength {
                name: name.to_owned(),
                len: value.len(),
            });
        }
        let mut out: Vec<FormHash> = Vec::new();
        for (form, fold, mut bytes) in forms_of(value) {
            let digest = self.digest(&bytes, fold);
            let hex_digest = hex::encode(digest);
            if !out.iter().any(|f| f.digest == hex_digest) {
                let n = (bytes.len() + 1).saturating_sub(GRAM).min(MAX_STRIDE);
                let grams = (0..n).map(|o| self.gram_at(&bytes, o)).collect();
                out.push(FormHash {
                    form: form.as_str().to_owned(),
                    len: bytes.len() as u32,
                    fold,
                    digest: hex_digest,
                    grams,
                });
            }
            wipe(&mut bytes);
        }
        Ok(out)
    }

    /// Registers a value known only by its form hashes.
    pub fn add_hashed(
        &mut self,
        label: SecretLabel,
        forms: &[FormHash],
    ) -> Result<(), KnownSecretError> {
        let name = label_name(&label);
        let bad = |message: &str| KnownSecretError::BadHashes {
            name: name.clone(),
            message: message.to_owned(),
        };
        if let SecretLabel::Known { name, .. } = &label {
            if !valid_name(name) {
                return Err(KnownSecretError::BadName(name.chars().take(80).collect()));
            }
        }
        let entry = u32::try_from(self.labels.len()).map_err(|_| bad("too many values"))?;
        let mut recs = Vec::with_capacity(forms.len());
        for f in forms {
            let form = FORMS
                .iter()
                .find(|x| x.as_str() == f.form)
                .copied()
                .ok_or_else(|| bad("unknown form"))?;
            let mut digest = [0u8; 16];
            hex::decode_to_slice(&f.digest, &mut digest)
                .map_err(|_| bad("digest is not 32 hex digits"))?;
            let want = ((f.len as usize) + 1).saturating_sub(GRAM).min(MAX_STRIDE);
            if (f.len as usize) < GRAM || f.grams.len() != want {
                return Err(bad("gram count does not match the length"));
            }
            recs.push(FormRec {
                entry,
                len: f.len,
                form,
                fold: f.fold,
                digest,
                grams: f.grams.clone(),
            });
        }
        if recs.is_empty() {
            return Err(bad("no forms"));
        }
        let first = self.forms.len();
        self.labels.push(label);
        self.forms.extend(recs);
        for f in &self.forms[first..] {
            self.shortest = self.shortest.min(f.len as usize);
        }
        let stride = stride_for(self.forms[first..].iter().map(|f| f.len as usize));
        if first == 0 || stride < self.stride {
            // A shorter form samples more often: every form's grams again.
            self.stride = stride.min(if first == 0 { MAX_STRIDE } else { self.stride });
            self.bits.fill(0);
            self.grams = GramMap::default();
            self.index(0);
        } else {
            self.index(first);
        }
        Ok(())
    }

    /// Adds the prefilter grams of the forms from `first` on, at the current
    /// stride.
    fn index(&mut self, first: usize) {
        for (i, f) in self.forms.iter().enumerate().skip(first) {
            for (o, &g) in f.grams.iter().enumerate().take(self.stride) {
                let (w, m) = bits_of(g);
                self.bits[w] |= m;
                self.grams.entry(g).or_default().push((i as u32, o as u8));
            }
        }
    }

    /// The 32-bit keyed hash of the gram at `bytes[p..p + GRAM]` (ASCII
    /// letters folded, lossily); `p + GRAM <= bytes.len()`.
    #[inline(always)]
    fn gram_at(&self, bytes: &[u8], p: usize) -> u32 {
        let mut b = [0u8; 8];
        if let Some(w) = bytes.get(p..p + 8) {
            b.copy_from_slice(w);
        } else if let Some(w) = bytes.get(p..p + GRAM) {
            b[..GRAM].copy_from_slice(w);
        }
        self.gram_of(u64::from_le_bytes(b))
    }

    /// The gram hash of the low `GRAM` bytes of `word`: one keyed
    /// multiply, its high half.
    #[inline(always)]
    fn gram_of(&self, word: u64) -> u32 {
        let x = (word & GRAM_MASK) | 0x2020_2020_2020_2020;
        ((x ^ self.k1).wrapping_mul(self.k2) >> 32) as u32
    }

    fn digest(&self, bytes: &[u8], fold: bool) -> [u8; 16] {
        let mut m = self.mac.clone();
        m.update(b"clawsec-known-secrets/form\0");
        if fold {
            let mut buf = [0u8; 64];
            for chunk in bytes.chunks(64) {
                let n = chunk.len();
                for (d, s) in buf.iter_mut().zip(chunk) {
                    *d = s.to_ascii_lowercase();
                }
                m.update(&buf[..n]);
            }
            wipe(&mut buf);
        } else {
            m.update(bytes);
        }
        let d = m.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }

    /// Appends every occurrence of a registered value in `view`.
    pub fn find(&self, view: &[u8], out: &mut Vec<KnownHit>) {
        // A view shorter than every form cannot hold one.
        if self.forms.is_empty() || view.len() < self.shortest {
            return;
        }
        let stride = self.stride;
        let bits: &[u64; BIT_WORDS] = &self.bits;
        let mut p = 0;
        // Whole 8-byte words while they last; the gram is their low bytes.
        while let Some(w) = view.get(p..p + 8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            let g = self.gram_of(u64::from_le_bytes(b));
            let (w, m) = bits_of(g);
            if bits[w] & m == m {
                self.confirm(view, p, g, out);
            }
            p += stride;
        }
        while p + GRAM <= view.len() {
            let g = self.gram_at(view, p);
            let (w, m) = bits_of(g);
            if bits[w] & m == m {
                self.confirm(view, p, g, out);
            }
            p += stride;
        }
    }

    #[cold]
    fn confirm(&self, view: &[u8], p: usize, g: u32, out: &mut Vec<KnownHit>) {
        let Some(cands) = self.grams.get(&g) else {
            return;
        };
        for &(fi, off) in cands {
            let Some(f) = self.forms.get(fi as usize) else {
                continue;
            };
            let Some(start) = p.checked_sub(usize::from(off)) else {
                continue;
            };
            let end = start + f.len as usize;
            let Some(bytes) = view.get(start..end) else {
                continue;
            };
            if self.digest(bytes, f.fold) == f.digest {
                out.push(KnownHit {
                    entry: f.entry as usize,
                    form: f.form,
                    range: start..end,
                });
            }
        }
    }

    /// Whether `text` is, whole, one registered value in any form (used to
    /// mask host labels and path segments in what a finding shows).
    pub fn is_known(&self, text: &[u8]) -> bool {
        let mut hits = Vec::new();
        self.find(text, &mut hits);
        hits.iter().any(|h| h.range.len() == text.len())
    }
}

/// `(NAME, value)` pairs, errors, warnings of a `NAME=value` file.
pub type ParsedSecrets = (Vec<(String, Vec<u8>)>, Vec<LineIssue>, Vec<LineIssue>);

/// One problem in a `NAME=value` file, by line number; never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    pub line: usize,
    pub message: String,
}

/// Parses a file of `NAME=value` lines (`.env` style): blank lines and `#`
/// comments are skipped, `export ` is allowed, one pair of matching quotes
/// around the value is removed. Returns the pairs plus problems: malformed
/// lines and bad names are errors, values too short or too long to match are
/// warnings (skipped). Messages name the line and NAME, never the value.
pub fn parse_secrets_file(text: &str) -> ParsedSecrets {
    let mut pairs = Vec::new();
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").map_or(t, str::trim_start);
        let Some((name, value)) = t.split_once('=') else {
            errors.push(LineIssue {
                line,
                message: "is not NAME=value".to_owned(),
            });
            continue;
        };
        let name = name.trim();
        if !valid_name(name) {
            // Not quoted: on a line whose own `=` is missing (`NAME value`),
            // the text before the first `=` holds part of the value.
            errors.push(LineIssue {
                line,
                message: format!(
                    "the text before the first `=` is not a NAME (1-{MAX_NAME_LEN} of A-Z a-z 0-9 _ . -); not shown, as it may hold part of the value"
                ),
            });
            continue;
        }
        let mut value = value.trim();
        for quote in ['"', '\''] {
            if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
                value = &value[1..value.len() - 1];
                break;
            }
        }
        if value.len() < MIN_SECRET_LEN || value.len() > MAX_SECRET_LEN {
            warnings.push(LineIssue {
                line,
                message: format!(
                    "{name} is {} bytes and is not matched (values of {MIN_SECRET_LEN} to {MAX_SECRET_LEN} bytes are)",
                    value.len()
                ),
            });
            continue;
        }
        pairs.push((name.to_owned(), value.as_bytes().to_vec()));
    }
    (pairs, errors, warnings)
}

const FORMS: [Form; 7] = [
    Form::Raw,
    Form::Reversed,
    Form::Base64,
    Form::Base64Url,
    Form::Hex,
    Form::Percent,
    Form::JsonEscaped,
];

fn label_name(label: &SecretLabel) -> String {
    match label {
        SecretLabel::Known { name, .. } => name.clone(),
        SecretLabel::Canary { id, .. } => id.clone(),
    }
}

/// The sampling stride that gives every form of these lengths a sampled
/// gram within its registered ones.
fn stride_for(lens: impl Iterator<Item = usize>) -> usize {
    let shortest = lens.min().unwrap_or(GRAM);
    (shortest + 1).saturating_sub(GRAM).clamp(1, MAX_STRIDE)
}

/// An empty prefilter, built on the heap.
fn zeroed_bits() -> Box<[u64; BIT_WORDS]> {
    match vec![0u64; BIT_WORDS].into_boxed_slice().try_into() {
        Ok(b) => b,
        // The length is BIT_WORDS by construction.
        Err(_) => Box::new([0u64; BIT_WORDS]),
    }
}

/// The bytes of a little-endian word that make a gram.
const GRAM_MASK: u64 = (1 << (8 * GRAM)) - 1;

/// The prefilter word of gram hash `g` and its two bits in that word (a
/// blocked Bloom filter: one memory access, two bits per gram).
#[inline(always)]
fn bits_of(g: u32) -> (usize, u64) {
    let w = (g >> (32 - (BITS_LOG2 - 6))) as usize;
    (w, (1 << (g & 63)) | (1 << ((g >> 6) & 63)))
}

/// Overwrites a buffer that held a form of a secret.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    // Keeps the compiler from eliding the overwrite of a dead buffer.
    std::hint::black_box(&buf);
}

/// Values whose format is case-insensitive (hex digits, UUID-like) are
/// matched ASCII case-folded.
fn case_insensitive(value: &[u8]) -> bool {
    value.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-')
        && value.iter().filter(|b| b.is_ascii_hexdigit()).count() >= MIN_SECRET_LEN
}

/// Every form of `value`: (form, confirm case-folded, bytes).
fn forms_of(value: &[u8]) -> Vec<(Form, bool, Vec<u8>)> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let fold = case_insensitive(value);
    let mut out = vec![(Form::Raw, fold, value.to_vec())];
    let mut rev = value.to_vec();
    rev.reverse();
    out.push((Form::Reversed, fold, rev));
    // The chars of an encoding that depend on the value's bits only, with
    // `a` bytes of anything before it in its 3-byte group.
    for a in 0..3usize {
        let mut padded = vec![0u8; a];
        padded.extend_from_slice(value);
        let start = (8 * a).div_ceil(6);
        let end = (8 * (a + value.len())) / 6;
        for (form, engine) in [
            (Form::Base64, &STANDARD_NO_PAD),
            (Form::Base64Url, &URL_SAFE_NO_PAD),
        ] {
            let mut enc = engine.encode(&padded).into_bytes();
            let inner = enc.get(start..end).map(<[u8]>::to_vec).unwrap_or_default();
            wipe(&mut enc);
            if inner.len() >= GRAM {
                out.push((form, false, inner));
            }
        }
        wipe(&mut padded);
    }
    out.push((Form::Hex, true, hex::encode(value).into_bytes()));
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    if !value.iter().all(|&b| unreserved(b)) {
        for digits in [b"0123456789ABCDEF", b"0123456789abcdef"] {
            let mut pct = Vec::with_capacity(value.len() * 3);
            for &b in value {
                if unreserved(b) {
                    pct.push(b);
                } else {
                    pct.extend_from_slice(&[
                        b'%',
                        digits[usize::from(b >> 4)],
                        digits[usize::from(b & 15)],
                    ]);
                }
            }
            out.push((Form::Percent, false, pct));
        }
    }
    if let Ok(s) = std::str::from_utf8(value) {
        if let Ok(j) = serde_json::to_string(s) {
            let mut j = j.into_bytes();
            let inner = j
                .get(1..j.len().saturating_sub(1))
                .unwrap_or_default()
                .to_vec();
            wipe(&mut j);
            if inner.as_slice() != value {
                let slashed = escape_slashes(&inner);
                if slashed != inner {
                    out.push((Form::JsonEscaped, false, slashed));
                }
                out.push((Form::JsonEscaped, false, inner));
            } else if value.contains(&b'/') {
                let slashed = escape_slashes(value);
                out.push((Form::JsonEscaped, false, slashed));
            }
        }
    }
    out
}

/// `bytes` with every `/` written `\/`, as some JSON encoders write it.
fn escape_slashes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        if b == b'/' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests;
