//! Fake secrets in real formats, random at every call: the rule
//! catalogue's template expander (`core::rules::template`), so tests and
//! rule examples spell formats one way and no secret is committed.

use traffic_guardian::system::expand_template as expand;

/// `len` characters of `A-Za-z0-9` (with at least one letter and one digit).
pub fn token(len: usize) -> String {
    expand(&format!("«alnum:{len}»")).text
}

/// `len` characters of `a-z0-9`: a DNS label.
pub fn label(len: usize) -> String {
    expand(&format!("«loalnum:{len}»")).text
}

/// `len` lowercase hex digits (`openssl rand -hex`).
pub fn hex(len: usize) -> String {
    expand(&format!("«hex:{len}»")).text
}

/// An AWS access key id (`AKIA` and 16 base32 characters), redrawn while
/// under 3 bits of entropy (one draw in 5,000): the built-in rule ignores a
/// key under 2.5 bits (one draw in 18 million) as a placeholder, and a test
/// that expects the key found must not fail on such a draw.
pub fn aws_key_id() -> String {
    loop {
        let key = expand("AKIA«b32:16»").text;
        if traffic_guardian::core::rules::entropy::shannon_entropy(key.as_bytes()) >= 3.0 {
            return key;
        }
    }
}

/// A classic GitHub personal access token (`ghp_` and 36 alphanumerics).
pub fn github_token() -> String {
    expand("ghp_«alnum:36»").text
}
