//! Reading a rule's `secret` group without a capture search.
//!
//! A token rule's pattern is `LEFT (?P<secret>BODY) RIGHT` (see the `token!`
//! macro): its left boundary consumes at most one byte, of a class the body
//! never starts with, and its right boundary at most one byte, of a class
//! the body never ends with. In any match of such a pattern, whether a
//! boundary took a byte is read off that byte alone, so the secret's range
//! follows from the whole match's range: a plain search (no capture
//! search, which on finding-dense text was a third of the rule matching
//! time) gives the same secret. [`SecretTrim::of`] recognises that shape
//! in the pattern's syntax and proves the class conditions; every other
//! pattern gets `None` and keeps its capture search.

use super::byte_set::ByteSet;
use regex_syntax::hir::{Class, Hir, HirKind};

/// How to cut a rule's `secret` group out of a whole match (see the module
/// documentation).
#[derive(Debug, Clone)]
pub struct SecretTrim {
    /// The bytes the left boundary consumes (empty: it consumes none).
    left: ByteSet,
    /// The bytes the right boundary consumes (empty: it consumes none).
    right: ByteSet,
}

impl SecretTrim {
    /// The trim of `pattern` (parsed as the registry compiles it: bytes, no
    /// Unicode), or `None` when its `secret` group cannot be read off a
    /// whole match.
    pub fn of(pattern: &str) -> Option<SecretTrim> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        Self::of_hir(&hir)
    }

    fn of_hir(hir: &Hir) -> Option<SecretTrim> {
        let HirKind::Concat(items) = hir.kind() else {
            return None;
        };
        let is_secret = |h: &Hir| matches!(h.kind(), HirKind::Capture(c) if c.name.as_deref() == Some("secret"));
        let k = items.iter().position(is_secret)?;
        if items.iter().filter(|h| is_secret(h)).count() != 1 {
            return None;
        }
        let HirKind::Capture(secret) = items[k].kind() else {
            return None;
        };
        let body = &secret.sub;
        // A body that may match nothing leaves a boundary byte ambiguous.
        if body.properties().minimum_len().is_none_or(|n| n == 0) {
            return None;
        }
        let left = boundary(&items[..k])?;
        let right = boundary(&items[k + 1..])?;
        let mut first = ByteSet::EMPTY;
        edge(body, &mut first, false)?;
        let mut last = ByteSet::EMPTY;
        edge(body, &mut last, true)?;
        (left.is_disjoint(&first) && right.is_disjoint(&last)).then_some(SecretTrim { left, right })
    }

    /// The `secret` group of a match at `full` in `text`.
    pub fn secret(&self, text: &[u8], full: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let mut s = full;
        if !self.left.is_empty() && text.get(s.start).is_some_and(|&b| self.left.contains(b)) {
            s.start += 1;
        }
        if !self.right.is_empty()
            && s.end > s.start
            && text.get(s.end - 1).is_some_and(|&b| self.right.contains(b))
        {
            s.end -= 1;
        }
        s
    }
}

/// The bytes a run of boundary items consumes: zero-width assertions, and
/// at most one item that takes either no byte or one byte of a class (a
/// class, or an alternation of classes and assertions). `None` for any
/// other shape.
fn boundary(items: &[Hir]) -> Option<ByteSet> {
    let mut consuming = 0;
    let mut set = ByteSet::EMPTY;
    for item in items {
        match item.kind() {
            HirKind::Look(_) => {}
            HirKind::Class(Class::Bytes(c)) => {
                consuming += 1;
                for r in c.ranges() {
                    set.add_range(r.start(), r.end());
                }
            }
            HirKind::Alternation(branches) => {
                consuming += 1;
                for b in branches {
                    match b.kind() {
                        HirKind::Look(_) => {}
                        HirKind::Class(Class::Bytes(c)) => {
                            for r in c.ranges() {
                                set.add_range(r.start(), r.end());
                            }
                        }
                        _ => return None,
                    }
                }
            }
            _ => return None,
        }
    }
    (consuming <= 1).then_some(set)
}

/// Adds to `set` every byte a match of `h` can start with (`rev`: end
/// with); returns whether `h` can match the empty string. `None` for a
/// Unicode class (never built here: the registry parses bytes).
fn edge(h: &Hir, set: &mut ByteSet, rev: bool) -> Option<bool> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(true),
        HirKind::Literal(lit) => {
            let b = if rev { lit.0.last() } else { lit.0.first() };
            match b {
                Some(&b) => {
                    set.add(b);
                    Some(false)
                }
                None => Some(true),
            }
        }
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                set.add_range(r.start(), r.end());
            }
            Some(false)
        }
        HirKind::Class(Class::Unicode(_)) => None,
        HirKind::Repetition(r) => {
            let nullable = edge(&r.sub, set, rev)?;
            Some(nullable || r.min == 0)
        }
        HirKind::Capture(c) => edge(&c.sub, set, rev),
        HirKind::Concat(items) => {
            let mut step = |item: &Hir| edge(item, set, rev);
            if rev {
                for item in items.iter().rev() {
                    if !step(item)? {
                        return Some(false);
                    }
                }
            } else {
                for item in items {
                    if !step(item)? {
                        return Some(false);
                    }
                }
            }
            Some(true)
        }
        HirKind::Alternation(branches) => {
            let mut nullable = false;
            for b in branches {
                nullable |= edge(b, set, rev)?;
            }
            Some(nullable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SecretTrim;

    #[test]
    fn token_shapes_are_trimmed() {
        let t = SecretTrim::of(r"(?:^|[^0-9A-Za-z_-])(?P<secret>ghp_[A-Za-z0-9]{36})(?-u:\b)")
            .expect("token shape");
        let text = b" ghp_x";
        assert_eq!(t.secret(text, 0..6), 1..6);
        assert_eq!(t.secret(b"ghp_x", 0..5), 0..5);
        let open = SecretTrim::of(
            r"(?:^|[^0-9A-Za-z_-])(?P<secret>eyJ[A-Za-z0-9_-]{10}\.[A-Za-z0-9_-]{10})(?:[^0-9A-Za-z_-]|$)",
        )
        .expect("open token shape");
        assert_eq!(open.secret(b"\"eyJ.\"", 0..6), 1..5);
        assert_eq!(open.secret(b"\"eyJ.-", 0..6), 1..6);
    }

    #[test]
    fn ambiguous_shapes_keep_the_capture_search() {
        // The body may start with a byte the left boundary takes.
        assert!(SecretTrim::of(r"(?:^|[^0-9A-Za-z_-])(?P<secret>\.?abc)(?-u:\b)").is_none());
        // ... or end with one the right boundary takes.
        assert!(SecretTrim::of(r"(?:^|[^a-z])(?P<secret>abc\.?)(?:[^a-z]|$)").is_none());
        // A body that can be empty.
        assert!(SecretTrim::of(r"(?:^|[^a-z])(?P<secret>a*)(?-u:\b)").is_none());
        // Context before the group that is more than one boundary byte.
        assert!(SecretTrim::of(r"key=(?P<secret>[a-z]{8})").is_none());
        assert!(SecretTrim::of(r"[^a-z][^a-z](?P<secret>[a-z]{8})").is_none());
        // No secret group.
        assert!(SecretTrim::of(r"[^a-z][a-z]{8}").is_none());
    }
}
