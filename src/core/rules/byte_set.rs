//! A set of byte values, one bit each: the classes the rule compiler reads
//! off patterns (a token's boundary bytes, the class at a fixed offset).

/// A set of bytes.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ByteSet([u64; 4]);

impl ByteSet {
    pub(crate) const EMPTY: ByteSet = ByteSet([0; 4]);

    /// The set holding `b` alone.
    pub(crate) fn single(b: u8) -> ByteSet {
        let mut set = ByteSet::EMPTY;
        set.add(b);
        set
    }

    pub(crate) fn add(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    pub(crate) fn add_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.add(b);
        }
    }

    /// Adds every member of `other`.
    pub(crate) fn union_with(&mut self, other: &ByteSet) {
        self.0.iter_mut().zip(other.0).for_each(|(s, o)| *s |= o);
    }

    #[inline]
    pub(crate) fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    pub(crate) fn is_disjoint(&self, other: &ByteSet) -> bool {
        self.0.iter().zip(other.0).all(|(a, b)| a & b == 0)
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == ByteSet::EMPTY
    }

    /// How many bytes the set holds.
    pub(crate) fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

impl std::fmt::Debug for ByteSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ByteSet({} bytes)", self.len())
    }
}
