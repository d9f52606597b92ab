//! Shannon entropy, used to tell random-looking credentials from placeholders
//! such as `xxxxxxxx` or `your-api-key-here` for rules with a `min_entropy`.

/// Shannon entropy of `bytes` in bits per byte (0.0 for empty input, at most 8.0).
///
/// Computed as `log2(n) - Σ c·log2(c) / n` over the byte counts `c`, with
/// `c·log2(c)` read from a table for small counts: one logarithm per call
/// instead of one per distinct byte (a token has about 64), which was most
/// of a finding's verdict on finding-dense text.
pub fn shannon_entropy(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let table = c_log2_c_table();
    let len = bytes.len() as f64;
    let mut sum = 0.0f64;
    for &c in counts.iter().filter(|&&c| c > 1) {
        sum += match table.get(c as usize) {
            Some(&v) => v,
            None => c_log2_c(c),
        };
    }
    let h = len.log2() - sum / len;
    // Rounding may leave a hair below 0 for a text of one repeated byte.
    h.max(0.0) as f32
}

/// `c·log2(c)`.
fn c_log2_c(c: u32) -> f64 {
    let c = f64::from(c);
    c * c.log2()
}

/// Counts below this read `c·log2(c)` from the table.
const TABLE_LEN: usize = 4096;

fn c_log2_c_table() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..TABLE_LEN as u32).map(c_log2_c).collect())
}

#[cfg(test)]
mod tests {
    use super::shannon_entropy;

    #[test]
    fn entropy_of_known_inputs() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaaaaaa"), 0.0);
        assert!((shannon_entropy(b"abababab") - 1.0).abs() < 1e-6);
        assert!((shannon_entropy(b"0123456789abcdef") - 4.0).abs() < 1e-6);
        let all: Vec<u8> = (0..=255u8).collect();
        assert!((shannon_entropy(&all) - 8.0).abs() < 1e-5);
    }

    /// The table form equals the textbook `-Σ p·log2(p)` (to float
    /// rounding), for counts inside and beyond the table.
    #[test]
    fn entropy_equals_the_textbook_sum() {
        let textbook = |bytes: &[u8]| {
            let mut counts = [0u32; 256];
            for &b in bytes {
                counts[usize::from(b)] += 1;
            }
            let len = bytes.len() as f64;
            let mut h = 0.0f64;
            for &c in counts.iter().filter(|&&c| c > 0) {
                let p = f64::from(c) / len;
                h -= p * p.log2();
            }
            h as f32
        };
        let mut rng = crate::core::test_rng::XorShift64::new(0x2545_f491_4f6c_dd1d);
        for len in [1usize, 2, 7, 40, 333, 5000, 20_000] {
            for spread in [1u64, 2, 16, 64, 256] {
                let bytes: Vec<u8> = (0..len).map(|_| (rng.next_u64() % spread) as u8).collect();
                let (a, b) = (shannon_entropy(&bytes), textbook(&bytes));
                assert!(
                    (a - b).abs() < 1e-5,
                    "len {len} spread {spread}: {a} vs {b}"
                );
            }
        }
    }
}
