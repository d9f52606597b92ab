//! A fixed-seed xorshift generator for the crate's unit tests: the same
//! draws every run (a test's outcome never depends on chance), and no OS
//! randomness inside `core` (see `tests/core_boundary.rs`).

/// Marsaglia's 64-bit xorshift (13, 7, 17).
pub(crate) struct XorShift64(u64);

impl XorShift64 {
    /// A generator from `seed` (made odd: zero is a fixed point).
    pub(crate) fn new(seed: u64) -> Self {
        XorShift64(seed | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// `n` bytes, each the low byte of one draw.
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
