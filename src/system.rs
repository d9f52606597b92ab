//! The process's wall clock and OS randomness, in one place at the edge.
//!
//! Detection ([`crate::core`]) reads neither: a [`Detector`] takes its
//! fingerprint key and a [`FindingStamp`] (each finding's id and time) in
//! its [`DetectorOptions`]. This module supplies the real ones; a test may
//! pass its own. Storage ([`crate::storage`]), the proxy and the binding
//! take the time from here too.
//!
//! [`Detector`]: crate::core::scan::Detector

use crate::core::finding::{format_timestamp, FindingStamp};
use crate::core::rules::template::{self, Expanded, TemplateError};
use crate::core::scan::DetectorOptions;
use std::sync::Arc;

/// Fills `buf` with bytes from the OS's random source.
pub fn fill_random(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buf)
}

/// 32 random bytes from the OS. Falls back to a time-derived key only if the
/// OS has no randomness, which makes fingerprints weaker but never fails.
pub fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    if getrandom::fill(&mut k).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        k[..16].copy_from_slice(&t.to_le_bytes());
    }
    k
}

/// The current time as RFC 3339 UTC with milliseconds, e.g. `2026-04-26T00:00:00.000Z`.
pub fn timestamp_now() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

/// The current time in unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A fresh finding id: `tgf_` and 16 hex digits, unique in the process and
/// unpredictable across processes. A random per-process key (read from the
/// OS once) is mixed with a counter through a bijection (splitmix64), so a
/// finding costs no system call: on finding-dense text (bodies full of
/// JWTs) one `getrandom` per finding was a measurable share of the scan.
pub fn new_finding_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static KEY: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let key = *KEY.get_or_init(|| {
        let k = random_key();
        u64::from_le_bytes([k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]])
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // splitmix64 of key + n: distinct n give distinct ids.
    let mut z = key.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // Written by hand: `format!` was a visible share of a finding's cost.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(20);
    id.push_str("tgf_");
    for shift in (0..16).rev() {
        id.push(char::from(HEX[((z >> (shift * 4)) & 15) as usize]));
    }
    id
}

/// The process's finding stamp: [`new_finding_id`] and [`timestamp_now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemStamp;

impl FindingStamp for SystemStamp {
    fn finding_id(&self) -> String {
        new_finding_id()
    }

    fn timestamp(&self) -> String {
        timestamp_now()
    }
}

/// Default detector options with a fresh random fingerprint key and the
/// [`SystemStamp`] (a guardian uses its home's key file instead).
pub fn detector_options() -> DetectorOptions {
    DetectorOptions::new(random_key(), Arc::new(SystemStamp))
}

/// Expands an example template with OS randomness (see
/// [`template`]).
pub fn try_expand_template(t: &str) -> Result<Expanded, TemplateError> {
    template::try_expand_from(t, &mut |buf| fill_random(buf).map_err(|e| e.to_string()))
}

/// Test-support shorthand for [`try_expand_template`].
///
/// # Panics
/// On a malformed template or unknown class. Only for tests and fixtures
/// written in this crate, never for input-derived data.
pub fn expand_template(t: &str) -> Expanded {
    match try_expand_template(t) {
        Ok(e) => e,
        Err(e) => panic!("bad example template {t:?}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_millisecond_precision_and_utc_suffix() {
        assert!(timestamp_now().ends_with('Z'));
        assert_eq!(timestamp_now().len(), 24);
    }

    #[test]
    fn finding_ids_are_tgf_and_16_hex_digits_and_distinct() {
        let (a, b) = (new_finding_id(), new_finding_id());
        assert_ne!(a, b);
        for id in [a, b] {
            let hex = id.strip_prefix("tgf_").unwrap_or_default();
            assert_eq!(hex.len(), 16, "{id}");
            assert!(u64::from_str_radix(hex, 16).is_ok(), "{id}");
            assert!(hex.bytes().all(|c| !c.is_ascii_uppercase()), "{id}");
        }
    }
}
