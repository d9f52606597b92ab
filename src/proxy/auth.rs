//! Runtime attribution: a client may present `Proxy-Authorization: Basic
//! base64(runtime:token)` (or any user name with the token as password); the
//! finding's `source` is then the runtime name instead of the client address.
//! This is access control of the proxy itself, not traffic filtering.

use std::sync::{Arc, RwLock};

use base64::Engine as _;

use crate::core::config::UpstreamProxy;

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

/// One known runtime: its name, its token, and (optionally) the upstream
/// proxy its traffic goes through with its own credentials.
#[derive(Clone)]
struct Entry {
    name: String,
    token: Vec<u8>,
    upstream: Option<Arc<UpstreamProxy>>,
}

/// Known runtime credentials. Clones share one table, so a runtime added
/// while the proxy runs is recognised by the next request (no restart).
#[derive(Clone, Default)]
pub struct RuntimeAuth {
    runtimes: Arc<RwLock<Vec<Entry>>>,
}

impl std::fmt::Debug for RuntimeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeAuth")
            .field("runtimes", &self.names())
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

/// Why a runtime could not be added. Never carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeAuthError {
    #[error("runtime name {0:?} is not a valid NanoClaw group folder name; use 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit")]
    Name(String),
    #[error("the token of runtime {0:?} must be {MIN_TOKEN_LEN}-{MAX_TOKEN_LEN} characters of A-Z a-z 0-9 - _ . ~; generate one with `openssl rand -hex 24`")]
    Token(String),
    #[error("the token of runtime {0:?} is already used by runtime {1:?}; give each runtime its own token")]
    TokenInUse(String, String),
}

/// Token bounds (the config validator's, so both paths accept the same tokens).
use crate::core::config::{MAX_RUNTIME_NAME_LEN, MAX_TOKEN_LEN, MIN_TOKEN_LEN};

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_RUNTIME_NAME_LEN
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

fn valid_token(t: &str) -> bool {
    (MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

impl RuntimeAuth {
    pub fn new(runtimes: &[(String, String)]) -> Self {
        let entries = runtimes
            .iter()
            .filter(|(_, token)| !token.is_empty())
            .map(|(n, t)| Entry {
                name: n.clone(),
                token: t.as_bytes().to_vec(),
                upstream: None,
            })
            .collect();
        RuntimeAuth {
            runtimes: Arc::new(RwLock::new(entries)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        // A poisoned lock only means a writer panicked mid-push; the Vec is still valid.
        self.runtimes.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a runtime, or replaces the token and upstream of one with the
    /// same name. Takes effect for the next request, running or not.
    pub fn add(
        &self,
        name: &str,
        token: &str,
        upstream: Option<UpstreamProxy>,
    ) -> Result<(), RuntimeAuthError> {
        if !valid_name(name) {
            return Err(RuntimeAuthError::Name(name.to_owned()));
        }
        if !valid_token(token) {
            return Err(RuntimeAuthError::Token(name.to_owned()));
        }
        let mut table = self.runtimes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(other) = table
            .iter()
            .find(|e| e.name != name && ct_eq(&e.token, token.as_bytes()))
        {
            return Err(RuntimeAuthError::TokenInUse(
                name.to_owned(),
                other.name.clone(),
            ));
        }
        let entry = Entry {
            name: name.to_owned(),
            token: token.as_bytes().to_vec(),
            upstream: upstream.map(Arc::new),
        };
        match table.iter_mut().find(|e| e.name == name) {
            Some(slot) => *slot = entry,
            None => table.push(entry),
        }
        Ok(())
    }

    /// Forgets a runtime: its token is refused from the next request on.
    pub fn remove(&self, name: &str) {
        let mut table = self.runtimes.write().unwrap_or_else(|e| e.into_inner());
        table.retain(|e| e.name != name);
    }

    /// Names of the known runtimes (never their tokens).
    pub fn names(&self) -> Vec<String> {
        self.read().iter().map(|e| e.name.clone()).collect()
    }

    /// The runtime's own upstream proxy, if it was given one.
    pub fn upstream_for(&self, name: &str) -> Option<Arc<UpstreamProxy>> {
        self.read()
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.upstream.clone())
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
        let table = self.read();
        let mut token_only: Option<&str> = None;
        for e in table.iter() {
            if ct_eq(pass, &e.token) {
                if ct_eq(user, e.name.as_bytes()) {
                    return AuthOutcome::Runtime(e.name.clone());
                }
                token_only.get_or_insert(e.name.as_str());
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

    #[test]
    fn runtimes_added_later_are_recognised_by_every_clone() {
        let auth = RuntimeAuth::new(&[]);
        let clone = auth.clone();
        let tok = "t0k3n-for-group-one-0123";
        assert_eq!(
            clone.check(Some(&basic(&format!("one:{tok}")))),
            AuthOutcome::Invalid
        );
        let up =
            super::super::settings::parse_upstream_proxy("http://agent-one:secret-one@127.0.0.1:9")
                .unwrap();
        auth.add("one", tok, Some(up)).unwrap();
        assert_eq!(
            clone.check(Some(&basic(&format!("one:{tok}")))),
            AuthOutcome::Runtime("one".into())
        );
        assert!(clone.upstream_for("one").is_some());
        // Replacing keeps one entry and drops the old token.
        let tok2 = "another-token-for-one-456";
        auth.add("one", tok2, None).unwrap();
        assert_eq!(clone.names(), vec!["one".to_string()]);
        assert_eq!(
            clone.check(Some(&basic(&format!("one:{tok}")))),
            AuthOutcome::Invalid
        );
        assert!(clone.upstream_for("one").is_none());
        // Bad input names the runtime, never the token.
        let e = auth.add("two", tok2, None).unwrap_err();
        assert_eq!(e, RuntimeAuthError::TokenInUse("two".into(), "one".into()));
        assert!(!e.to_string().contains(tok2));
        assert!(matches!(
            auth.add("../x", tok, None),
            Err(RuntimeAuthError::Name(_))
        ));
        let e = auth.add("two", "short", None).unwrap_err();
        assert!(matches!(e, RuntimeAuthError::Token(_)) && !e.to_string().contains("short"));
    }
}
