//! Typed errors of the proxy engine. Messages never contain traffic bytes,
//! header values or credentials, only addresses, paths and causes.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can go wrong when starting, stopping or preparing the proxy.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// `start` was called while the proxy is starting or running.
    #[error("the proxy is already {state}; stop it before starting again")]
    AlreadyRunning { state: &'static str },
    /// `stop` was called while the proxy is not running.
    #[error("the proxy is not running (state: {state})")]
    NotRunning { state: &'static str },
    /// The listen address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The CA directory or files could not be created, read or written.
    #[error("CA store error at {path}: {reason}")]
    CaStore { path: PathBuf, reason: String },
    /// Certificate or key material could not be generated or parsed.
    #[error("certificate error: {0}")]
    Certificate(String),
    /// The operator's extra CA bundle could not be read or holds no certificate.
    #[error("extra CA bundle {path}: {reason}")]
    CaBundle { path: PathBuf, reason: String },
    /// TLS configuration could not be built.
    #[error("TLS configuration error: {0}")]
    Tls(String),
    /// The upstream proxy URL is not usable.
    #[error("invalid upstream proxy: {0}")]
    UpstreamProxy(String),
    /// A setting is inconsistent (e.g. MITM on without a CA directory).
    #[error("invalid proxy settings: {0}")]
    Settings(String),
    /// The proxy task ended with an error.
    #[error("proxy server error: {0}")]
    Server(String),
}

/// The first error of type `E` in `err`'s chain of causes, `err` included.
pub(crate) fn error_in_chain<'a, E: StdError + 'static>(
    err: &'a (dyn StdError + 'static),
) -> Option<&'a E> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        cur = e.source();
    }
    None
}
