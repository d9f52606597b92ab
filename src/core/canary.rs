//! Canary credentials: fake credentials in real formats, minted for one
//! NanoClaw group and planted in its environment or files. Only their keyed
//! form hashes are recorded (in the home's canary file, 0600, under the
//! fingerprint key); any sighting in traffic, to any host, is a critical
//! `canary_token` finding naming the group and the canary.
//!
//! Minting is pure given random bytes (the caller draws them); reading and
//! writing the file are the edges ([`crate::storage::canary_file`]).

use crate::core::known_secrets::{
    valid_name, FormHash, KnownSecretError, KnownSecrets, SecretLabel,
};
use serde::{Deserialize, Serialize};

/// The credential formats a canary can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CanaryKind {
    Aws,
    Github,
    Anthropic,
    Openai,
    Slack,
    Generic,
}

impl CanaryKind {
    pub const ALL: [CanaryKind; 6] = [
        CanaryKind::Aws,
        CanaryKind::Github,
        CanaryKind::Anthropic,
        CanaryKind::Openai,
        CanaryKind::Slack,
        CanaryKind::Generic,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CanaryKind::Aws => "aws",
            CanaryKind::Github => "github",
            CanaryKind::Anthropic => "anthropic",
            CanaryKind::Openai => "openai",
            CanaryKind::Slack => "slack",
            CanaryKind::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<CanaryKind> {
        CanaryKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// The environment variable(s) the value is usually planted in.
    pub fn env_names(self) -> &'static [&'static str] {
        match self {
            CanaryKind::Aws => &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
            CanaryKind::Github => &["GITHUB_TOKEN"],
            CanaryKind::Anthropic => &["ANTHROPIC_API_KEY"],
            CanaryKind::Openai => &["OPENAI_API_KEY"],
            CanaryKind::Slack => &["SLACK_BOT_TOKEN"],
            CanaryKind::Generic => &["API_KEY"],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error("canary group \"{0}\" is not 1-64 of A-Z a-z 0-9 _ . -")]
    BadGroup(String),
    #[error(transparent)]
    Hash(#[from] KnownSecretError),
}

/// One recorded canary: its identity and the keyed hashes of its value(s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryRecord {
    /// `can_` + 12 hex digits.
    pub id: String,
    pub group: String,
    pub kind: CanaryKind,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// One list of form hashes per planted value (AWS has two).
    pub values: Vec<Vec<FormHash>>,
}

/// A freshly minted canary: the value(s) to print once, as `NAME=value`
/// lines, and the record to store.
pub struct Minted {
    pub record: CanaryRecord,
    /// `(env name, value)`: printed once, then dropped.
    pub lines: Vec<(&'static str, String)>,
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Draws characters from `alphabet` with the caller's random bytes.
struct Draw<'a> {
    random: &'a [u8],
    pos: usize,
}

impl Draw<'_> {
    fn byte(&mut self) -> u8 {
        let b = self
            .random
            .get(self.pos % self.random.len().max(1))
            .copied()
            .unwrap_or(0);
        // Past the supplied bytes, mix the position in so runs do not repeat.
        let extra = (self.pos / self.random.len().max(1)) as u8;
        self.pos += 1;
        b.wrapping_add(extra.wrapping_mul(151))
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                // Rejection sampling keeps every character equally likely.
                let limit = 256 - 256 % alphabet.len();
                let mut b = usize::from(self.byte());
                let mut tries = 0;
                while b >= limit && tries < 8 {
                    b = usize::from(self.byte());
                    tries += 1;
                }
                char::from(alphabet[b % alphabet.len()])
            })
            .collect()
    }
}

/// CRC-32 (IEEE), as GitHub token checksums use.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `n` in base 62, left-padded with `0` to `width`.
pub fn base62(mut n: u32, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A GitHub personal access token: `ghp_`, 30 random base62 characters and
/// the 6-character base62 CRC-32 of those 30 (the format's own checksum).
pub fn github_token(random_part: &str) -> String {
    format!(
        "ghp_{random_part}{}",
        base62(crc32(random_part.as_bytes()), 6)
    )
}

/// Whether `token` is a `ghp_` token whose checksum is valid.
pub fn github_checksum_ok(token: &str) -> bool {
    let Some(rest) = token.strip_prefix("ghp_") else {
        return false;
    };
    rest.len() == 36 && rest.is_char_boundary(30) && github_token(&rest[..30]) == token
}

/// The value(s) of a canary of `kind`, from `random` (at least 64 bytes).
pub fn mint_values(kind: CanaryKind, random: &[u8]) -> Vec<(&'static str, String)> {
    let mut d = Draw { random, pos: 0 };
    let names = kind.env_names();
    match kind {
        CanaryKind::Aws => vec![
            (names[0], format!("AKIA{}", d.chars(BASE32, 16))),
            (names[1], d.chars(B64, 40)),
        ],
        CanaryKind::Github => vec![(names[0], github_token(&d.chars(BASE62, 30)))],
        CanaryKind::Anthropic => {
            vec![(names[0], format!("sk-ant-api03-{}AA", d.chars(B64URL, 93)))]
        }
        CanaryKind::Openai => vec![(
            names[0],
            format!(
                "sk-proj-{}T3BlbkFJ{}",
                d.chars(B64URL, 74),
                d.chars(B64URL, 74)
            ),
        )],
        CanaryKind::Slack => vec![(
            names[0],
            format!(
                "xoxb-{}-{}-{}",
                d.chars(b"0123456789", 12),
                d.chars(b"0123456789", 13),
                d.chars(BASE62, 24)
            ),
        )],
        CanaryKind::Generic => vec![(names[0], d.chars(BASE62, 40))],
    }
}

/// Mints a canary for `group`: values from `random`, id from `id_bytes`,
/// hashed under `key` (the home's fingerprint key).
pub fn mint(
    key: &[u8; 32],
    group: &str,
    kind: CanaryKind,
    random: &[u8],
    id_bytes: [u8; 6],
    created_at: String,
) -> Result<Minted, CanaryError> {
    if !valid_name(group) {
        return Err(CanaryError::BadGroup(group.chars().take(80).collect()));
    }
    let id = format!("can_{}", hex::encode(id_bytes));
    let lines = mint_values(kind, random);
    let ks = KnownSecrets::new(key);
    let values = lines
        .iter()
        .map(|(_, v)| ks.hash_forms(&id, v.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Minted {
        record: CanaryRecord {
            id,
            group: group.to_owned(),
            kind,
            created_at,
            values,
        },
        lines,
    })
}

/// Registers every canary of `records` with `ks` (hashed under the same key).
pub fn register_all(ks: &mut KnownSecrets, records: &[CanaryRecord]) -> Result<(), CanaryError> {
    for r in records {
        for forms in &r.values {
            ks.add_hashed(
                SecretLabel::Canary {
                    id: r.id.clone(),
                    group: r.group.clone(),
                    kind: r.kind.as_str().to_owned(),
                },
                forms,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_tokens_carry_a_valid_crc32_checksum() {
        // CRC-32 check value of the standard test vector.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let mut r = [0u8; 64];
        crate::system::fill_random(&mut r).unwrap();
        let v = mint_values(CanaryKind::Github, &r);
        let t = &v[0].1;
        assert_eq!(t.len(), 40);
        assert!(github_checksum_ok(t), "{t}");
        let mut broken = t.clone().into_bytes();
        broken[10] = if broken[10] == b'a' { b'b' } else { b'a' };
        assert!(!github_checksum_ok(&String::from_utf8(broken).unwrap()));
    }

    #[test]
    fn every_kind_has_its_real_shape() {
        let mut r = [0u8; 64];
        crate::system::fill_random(&mut r).unwrap();
        for kind in CanaryKind::ALL {
            for (_, v) in mint_values(kind, &r) {
                let ok = match kind {
                    CanaryKind::Aws => (v.starts_with("AKIA") && v.len() == 20) || v.len() == 40,
                    CanaryKind::Github => v.starts_with("ghp_"),
                    CanaryKind::Anthropic => v.starts_with("sk-ant-api03-") && v.ends_with("AA"),
                    CanaryKind::Openai => v.starts_with("sk-proj-") && v.contains("T3BlbkFJ"),
                    CanaryKind::Slack => v.starts_with("xoxb-"),
                    CanaryKind::Generic => v.len() == 40,
                };
                assert!(ok, "{kind:?}: {v}");
            }
        }
    }
}
