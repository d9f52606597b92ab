//! Where in a JSON document a byte is, written in JSONPath notation
//! (`$.data.items[2].key`), for finding locations like
//! `body:json:$.messages[0].content`. A location tracker, not a JSONPath
//! query engine: it never selects anything.
//!
//! Bodies are scanned in frames, so the tracker is streaming: it follows the
//! document's structure byte by byte (skipping string contents with
//! `memchr`), keeping only the open containers and their current keys. A
//! scanner that needs the path at some later offset clones the tracker and
//! advances the clone; findings are rare, so the clone is too. Anything that
//! is not well-formed JSON switches the tracker off for good and locations
//! stay plain.

use memchr::memchr2;

/// Deeper documents are not tracked (their paths would not read well).
const MAX_DEPTH: usize = 32;
/// Keys longer than this are cut and marked with `…` (after masking, so a
/// credential crossing the cut is judged whole).
const MAX_KEY: usize = 48;
/// How much of a key is read before masking; the rest is dropped.
const MAX_KEY_READ: usize = 512;

#[derive(Debug, Clone)]
enum Frame {
    Object {
        /// The key whose value comes next or is being read (empty: none
        /// yet). Kept and overwritten, so keys cost no allocation.
        key: Vec<u8>,
        /// Between `:` and the value's end.
        in_value: bool,
        /// Between the key's closing quote and `:`.
        after_key: bool,
    },
    Array {
        index: u64,
    },
}

/// Bytes outside strings that need no structural handling.
#[derive(Clone, Copy)]
enum Plain {
    Blank,
    /// Part of a number or of `true`/`false`/`null`.
    Scalar,
    Other,
}

static PLAIN: [Plain; 256] = {
    let mut t = [Plain::Other; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_whitespace() {
            Plain::Blank
        } else if c.is_ascii_digit()
            || c.is_ascii_lowercase()
            || c == b'-'
            || c == b'+'
            || c == b'.'
            || c == b'E'
        {
            Plain::Scalar
        } else {
            Plain::Other
        };
        b += 1;
    }
    t
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Str {
    Outside,
    Key,
    Value,
}

#[derive(Debug, Clone)]
struct Tracker {
    stack: Vec<Frame>,
    /// Key buffers of closed objects, reused by the next ones.
    spare_keys: Vec<Vec<u8>>,
    string: Str,
    escaped: bool,
    key: Vec<u8>,
    key_cut: bool,
}

/// A streaming JSON path tracker. `None` inside: not JSON (or gave up).
#[derive(Debug, Clone)]
pub struct JsonLocator {
    inner: Option<Tracker>,
    /// Whether the first non-blank byte has been seen.
    started: bool,
}

impl Default for JsonLocator {
    fn default() -> Self {
        JsonLocator::new()
    }
}

impl JsonLocator {
    pub fn new() -> JsonLocator {
        JsonLocator {
            inner: Some(Tracker {
                stack: Vec::new(),
                spare_keys: Vec::new(),
                string: Str::Outside,
                escaped: false,
                key: Vec::new(),
                key_cut: false,
            }),
            started: false,
        }
    }

    /// Whether the bytes so far are (the start of) JSON documents.
    pub fn is_tracking(&self) -> bool {
        self.inner.is_some() && self.started
    }

    /// Follows `bytes`, the next part of the document.
    pub fn advance(&mut self, bytes: &[u8]) {
        let Some(t) = self.inner.as_mut() else {
            return;
        };
        let mut i = 0;
        while i < bytes.len() {
            if t.string != Str::Outside {
                if t.escaped {
                    t.escaped = false;
                    t.push_key_byte(bytes[i]);
                    i += 1;
                    continue;
                }
                // Keys and short values end within a few bytes, where a
                // plain loop beats memchr's setup; long values use memchr.
                let rest = &bytes[i..];
                let near = rest.iter().take(16).position(|&b| b == b'"' || b == b'\\');
                let stop = match near {
                    Some(p) => Some(p),
                    None if rest.len() <= 16 => None,
                    None => memchr2(b'"', b'\\', &rest[16..]).map(|p| p + 16),
                };
                match stop {
                    None => {
                        t.push_key_bytes(rest);
                        return;
                    }
                    Some(p) => {
                        t.push_key_bytes(&rest[..p]);
                        if rest[p] == b'\\' {
                            t.escaped = true;
                        } else {
                            t.end_string();
                        }
                        i += p + 1;
                    }
                }
                continue;
            }
            // Outside strings: skip blanks and scalars in a tight loop.
            let in_container = self.started && !t.stack.is_empty();
            let mut b = bytes[i];
            loop {
                match PLAIN[usize::from(b)] {
                    Plain::Blank => {}
                    Plain::Scalar if in_container => {}
                    _ => break,
                }
                i += 1;
                match bytes.get(i) {
                    Some(&next) => b = next,
                    None => return,
                }
            }
            i += 1;
            if !self.started {
                if b != b'{' && b != b'[' {
                    self.inner = None;
                    return;
                }
                self.started = true;
            }
            if !t.structural(b) {
                self.inner = None;
                return;
            }
        }
    }

    /// The path of the value being read (for an offset inside a key: of the
    /// object holding it), or `None` when not tracking.
    pub fn path(&self) -> Option<String> {
        let t = self.inner.as_ref().filter(|_| self.started)?;
        let mut out = String::from("$");
        let depth = t.stack.len();
        for (level, frame) in t.stack.iter().enumerate() {
            match frame {
                Frame::Array { index } => out.push_str(&format!("[{index}]")),
                Frame::Object { key, in_value, .. } => {
                    // Inside a key (or between values) the innermost
                    // object's key does not belong to the path yet.
                    let innermost = level + 1 == depth;
                    let current = !innermost || (*in_value && t.string != Str::Key);
                    if current && !key.is_empty() {
                        push_key(&mut out, key);
                    }
                }
            }
        }
        Some(out)
    }
}

impl Tracker {
    fn push_key_byte(&mut self, b: u8) {
        self.push_key_bytes(&[b]);
    }

    fn push_key_bytes(&mut self, bytes: &[u8]) {
        if self.string != Str::Key || bytes.is_empty() {
            return;
        }
        let room = MAX_KEY_READ.saturating_sub(self.key.len());
        if bytes.len() > room {
            self.key_cut = true;
        }
        self.key.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn end_string(&mut self) {
        if self.string == Str::Key {
            if std::mem::take(&mut self.key_cut) {
                // Longer than MAX_KEY_READ: push_key cuts it at MAX_KEY.
                self.key.extend_from_slice("…".as_bytes());
            }
            if let Some(Frame::Object {
                key: slot,
                after_key,
                ..
            }) = self.stack.last_mut()
            {
                slot.clear();
                slot.extend_from_slice(&self.key);
                *after_key = true;
            }
        }
        self.string = Str::Outside;
    }

    /// Handles one byte outside strings; `false` if it cannot be JSON.
    fn structural(&mut self, b: u8) -> bool {
        match b {
            b'{' | b'[' => {
                if self.stack.len() >= MAX_DEPTH {
                    return false;
                }
                self.stack.push(if b == b'{' {
                    Frame::Object {
                        key: self.spare_keys.pop().unwrap_or_default(),
                        in_value: false,
                        after_key: false,
                    }
                } else {
                    Frame::Array { index: 0 }
                });
            }
            b'}' => match self.stack.pop() {
                Some(Frame::Object { mut key, .. }) => {
                    key.clear();
                    self.spare_keys.push(key);
                }
                _ => return false,
            },
            b']' => {
                if !matches!(self.stack.pop(), Some(Frame::Array { .. })) {
                    return false;
                }
            }
            b',' => match self.stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object {
                    key,
                    in_value,
                    after_key,
                }) => {
                    key.clear();
                    *in_value = false;
                    *after_key = false;
                }
                None => return false,
            },
            b':' => match self.stack.last_mut() {
                Some(Frame::Object {
                    in_value,
                    after_key,
                    ..
                }) if *after_key => {
                    *after_key = false;
                    *in_value = true;
                }
                _ => return false,
            },
            b'"' => {
                self.string = match self.stack.last() {
                    Some(Frame::Object {
                        after_key: true, ..
                    }) => return false,
                    Some(Frame::Object {
                        in_value: false, ..
                    }) => Str::Key,
                    Some(_) => Str::Value,
                    None => return false,
                };
                self.key.clear();
            }
            // Numbers, true, false, null: nothing to follow.
            b'0'..=b'9' | b'-' | b'+' | b'.' | b'a'..=b'z' | b'E' => {
                if self.stack.is_empty() {
                    return false;
                }
            }
            _ => return false,
        }
        true
    }
}

/// Appends `.key`, or `['key']` when the key is not a plain name. Key text
/// goes through the snippet masking, so a credential used as a key never
/// reaches a location.
fn push_key(out: &mut String, key: &[u8]) {
    let mut masked = crate::core::redact::mask_plain(key);
    if masked.chars().count() > MAX_KEY {
        masked = masked.chars().take(MAX_KEY).collect::<String>() + "…";
    }
    let plain = !masked.is_empty()
        && masked
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !masked.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        out.push('.');
        out.push_str(&masked);
    } else {
        out.push_str("['");
        for c in masked.chars() {
            if c == '\'' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("']");
    }
}

#[cfg(test)]
mod tests;
