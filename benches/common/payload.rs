//! Deterministic, benign small payloads: prose-like text from a fixed
//! vocabulary (no rule of the detector fires) for the 1 KiB responses and
//! SSE events, and gzip. The upload and download bodies are realistic
//! chat-completion JSON from `corpus.rs`.

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

pub use super::corpus::Rng;

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

/// gzip of `data` at the default level (what web servers typically send).
pub fn gzip(data: &[u8]) -> Bytes {
    Bytes::from(super::support::encode::gzip(data))
}
