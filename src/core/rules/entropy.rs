//! Shannon entropy, used to tell random-looking credentials from placeholders
//! such as `xxxxxxxx` or `your-api-key-here` for rules with a `min_entropy`.

/// Shannon entropy of `bytes` in bits per byte (0.0 for empty input, at most 8.0).
pub fn shannon_entropy(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
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
}
