//! Runtime attribution: a client may present `Proxy-Authorization: Basic
//! base64(runtime:token)` (or any user name with the token as password); the
//! finding's `source` is then the runtime name instead of the client address.
//! This is access control of the proxy itself, not traffic filtering.

use base64::Engine as _;

/// Outcome of checking a client's `Proxy-Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// No credentials presented.
    Anonymous,
    /// Valid credentials for this runtime.
    Runtime(String),
    /// Credentials presented but not valid (malformed or unknown token).
    Invalid,
}

/// Known runtime credentials.
#[derive(Clone, Default)]
pub struct RuntimeAuth {
    runtimes: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for RuntimeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.runtimes.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("RuntimeAuth")
            .field("runtimes", &names)
            .finish()
    }
}

/// Compares two byte strings in time independent of where they differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl RuntimeAuth {
    pub fn new(runtimes: &[(String, String)]) -> Self {
        RuntimeAuth {
            runtimes: runtimes
                .iter()
                .filter(|(_, token)| !token.is_empty())
                .map(|(n, t)| (n.clone(), t.as_bytes().to_vec()))
                .collect(),
        }
    }

    /// Checks one `Proxy-Authorization` header value (or its absence).
    pub fn check(&self, header: Option<&[u8]>) -> AuthOutcome {
        let Some(value) = header else {
            return AuthOutcome::Anonymous;
        };
        let Some(decoded) = decode_basic(value) else {
            return AuthOutcome::Invalid;
        };
        let (user, pass) = match decoded.iter().position(|b| *b == b':') {
            Some(i) => (&decoded[..i], &decoded[i + 1..]),
            None => return AuthOutcome::Invalid,
        };
        // A name+token match wins over a token-only match.
        let mut token_only: Option<&str> = None;
        for (name, token) in &self.runtimes {
            if ct_eq(pass, token) {
                if ct_eq(user, name.as_bytes()) {
                    return AuthOutcome::Runtime(name.clone());
                }
                token_only.get_or_insert(name.as_str());
            }
        }
        match token_only {
            Some(name) => AuthOutcome::Runtime(name.to_string()),
            None => AuthOutcome::Invalid,
        }
    }
}

/// Decodes `Basic <base64>`; `None` if the scheme or encoding is wrong.
fn decode_basic(value: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, rest) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
        .into_bytes()
    }

    #[test]
    fn attribution() {
        let auth = RuntimeAuth::new(&[
            ("alpha".into(), "tok-a".into()),
            ("beta".into(), "tok-b".into()),
            ("empty".into(), String::new()),
        ]);
        assert_eq!(auth.check(None), AuthOutcome::Anonymous);
        assert_eq!(
            auth.check(Some(&basic("alpha:tok-a"))),
            AuthOutcome::Runtime("alpha".into())
        );
        assert_eq!(
            auth.check(Some(&basic("x:tok-b"))),
            AuthOutcome::Runtime("beta".into())
        );
        assert_eq!(auth.check(Some(&basic("alpha:nope"))), AuthOutcome::Invalid);
        assert_eq!(auth.check(Some(&basic("empty:"))), AuthOutcome::Invalid);
        assert_eq!(auth.check(Some(b"Bearer tok-a")), AuthOutcome::Invalid);
        assert_eq!(auth.check(Some(b"Basic !!!")), AuthOutcome::Invalid);
        assert!(!format!("{auth:?}").contains("tok-a"));
    }
}
