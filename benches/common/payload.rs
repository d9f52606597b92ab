//! Deterministic, benign payloads: prose-like text from a fixed vocabulary
//! (so gzip compresses it about as well as real API text, and no rule of
//! the detector fires), a 64 KiB JSON chat request, a 1 MiB JSON document.

use bytes::Bytes;

/// Everyday API/web words; nothing a secret or injection rule looks for.
const WORDS: &[&str] = &[
    "the",
    "model",
    "returns",
    "a",
    "list",
    "of",
    "items",
    "for",
    "each",
    "region",
    "with",
    "status",
    "and",
    "summary",
    "weekly",
    "update",
    "customer",
    "order",
    "shipping",
    "invoice",
    "total",
    "amount",
    "currency",
    "product",
    "category",
    "description",
    "image",
    "thumbnail",
    "release",
    "notes",
    "build",
    "version",
    "feature",
    "latency",
    "cache",
    "cluster",
    "node",
    "service",
    "deployment",
    "window",
    "button",
    "layout",
    "render",
    "component",
    "state",
    "effect",
    "value",
    "result",
    "message",
    "content",
    "weather",
    "garden",
    "river",
    "mountain",
    "coffee",
    "morning",
    "station",
    "library",
    "museum",
    "orchestra",
    "harvest",
    "bicycle",
    "meadow",
    "lantern",
];

/// xorshift64*: reproducible across runs and machines.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Sentences of vocabulary words, exactly `len` bytes, ASCII, no quotes.
pub fn text(len: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(len + 16);
    let mut in_sentence = 0;
    while out.len() < len {
        let w = WORDS.get(rng.below(WORDS.len())).copied().unwrap_or("the");
        out.push_str(w);
        in_sentence += 1;
        if in_sentence >= 8 + rng.below(8) {
            out.push_str(". ");
            in_sentence = 0;
        } else {
            out.push(' ');
        }
    }
    out.truncate(len);
    out
}

/// A chat-completion style JSON request of exactly `len` bytes.
pub fn json_upload(len: usize) -> Bytes {
    let prefix = r#"{"model":"bench-model","max_tokens":1024,"stream":false,"messages":[{"role":"user","content":""#;
    let suffix = r#""}]}"#;
    let body_len = len.saturating_sub(prefix.len() + suffix.len());
    let mut s = String::with_capacity(len);
    s.push_str(prefix);
    s.push_str(&text(body_len, 7));
    s.push_str(suffix);
    Bytes::from(s)
}

/// A JSON document of records, padded with trailing spaces to exactly `len` bytes.
pub fn json_document(len: usize) -> Bytes {
    let mut rng = Rng::new(11);
    let mut s = String::with_capacity(len);
    s.push_str(r#"{"items":["#);
    let close = "]}";
    let mut id = 0u64;
    loop {
        let title_len = 20 + rng.below(30);
        let body_len = 200 + rng.below(400);
        let rec = format!(
            r#"{}{{"id":{id},"title":"{}","price":{}.{:02},"body":"{}"}}"#,
            if id == 0 { "" } else { "," },
            text(title_len, rng.next_u64()),
            rng.below(500),
            rng.below(100),
            text(body_len, rng.next_u64()),
        );
        if s.len() + rec.len() + close.len() > len {
            break;
        }
        s.push_str(&rec);
        id += 1;
    }
    s.push_str(close);
    while s.len() < len {
        s.push(' ');
    }
    Bytes::from(s)
}

/// gzip of `data` at the default level (what web servers typically send).
pub fn gzip(data: &[u8]) -> std::io::Result<Bytes> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    Ok(Bytes::from(enc.finish()?))
}
