//! The guardian's configuration: one model, one validator, shared by
//! `checkConfig` and start so they can never disagree.
//!
//! Sources, later wins: built-in defaults < JSON config file < environment
//! (`NANOCLAW_TRAFFIC_GUARDIAN_*`) < explicit overrides. [`check_with`] never
//! starts or creates anything, and looks at files only through the
//! [`ConfigFs`] it is given ([`crate::storage::config_fs::check`] passes
//! the real one); [`crate::storage::prepare_dirs`] is the one step with side
//! effects, run at start. Secrets (runtime tokens, upstream proxy
//! credentials) never appear in messages, `effective`, Debug or errors.

mod env;
mod model;
mod port;
mod raw;
pub(crate) mod suggest;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use env::{
    ENV_CA_BUNDLE, ENV_CONFIG, ENV_HOME, ENV_KEYS, ENV_LOG, ENV_LOG_DIR, ENV_MAX_SCAN_BYTES,
    ENV_MODE, ENV_PREFIX, ENV_PROXY_URL, ENV_REDACT_SNIPPETS,
};
pub use model::*;
pub use port::{ConfigFs, FileFacts, FileKind};
#[cfg(test)]
pub(crate) use raw::shape_check;
pub use raw::{json_schema, HOOK_KEYS, MITM_KEYS, RUNTIME_KEYS, TOP_LEVEL_KEYS};
pub use validate::parse_size;
#[cfg(test)]
pub(crate) use validate::run as check_unguarded;
#[cfg(test)]
pub(crate) use validate::{parse_allowed, parse_host_pattern};
pub use validate::{parse_upstream_url, UpstreamPort};

/// What to validate. `env` is passed in (not read from the process) so the
/// host decides what the guardian sees and tests stay hermetic.
#[derive(Clone, Default)]
pub struct ConfigInput {
    /// Environment variables (`HOME` and `NANOCLAW_TRAFFIC_GUARDIAN_*` are read).
    pub env: BTreeMap<String, String>,
    /// Config file; else `NANOCLAW_TRAFFIC_GUARDIAN_CONFIG`, else `<home>/config.json` if present.
    pub config_path: Option<PathBuf>,
    /// Explicit options (a JSON object, or null), highest precedence.
    pub overrides: serde_json::Value,
}

/// Lists env names only: the host environment holds unrelated secrets.
impl fmt::Debug for ConfigInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigInput")
            .field("env_keys", &self.env.keys().collect::<Vec<_>>())
            .field("config_path", &self.config_path)
            .field("overrides", &"<not shown>")
            .finish()
    }
}

/// One problem, addressed to the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigIssue {
    /// Dotted path, e.g. `mitm.trusted_runtimes`, `runtimes[1].token`, `config_file`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// The result of [`check`].
#[derive(Debug, Clone, Serialize)]
pub struct ConfigReport {
    /// No errors (warnings allowed).
    pub ok: bool,
    /// Problems that prevent start.
    pub errors: Vec<ConfigIssue>,
    /// Problems worth knowing that do not prevent start.
    pub warnings: Vec<ConfigIssue>,
    /// Merged config: defaults filled in, paths resolved, secrets masked.
    pub effective: serde_json::Value,
    /// The typed config, only when `ok`.
    #[serde(skip)]
    pub config: Option<GuardianConfig>,
    /// Layers that contributed: `defaults`, `file:/path`, `env`, `overrides`.
    pub sources: Vec<String>,
}

impl ConfigReport {
    /// The typed config, or every error at once.
    pub fn into_result(self) -> Result<GuardianConfig, ConfigError> {
        match self.config {
            Some(c) if self.ok => Ok(c),
            _ => Err(ConfigError::Invalid {
                issues: self.errors,
            }),
        }
    }
}

/// Why the guardian cannot use its configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Validation failed.
    #[error("invalid configuration: {}", summarize(.issues))]
    Invalid {
        /// The errors, as in the report.
        issues: Vec<ConfigIssue>,
    },
    /// A directory could not be created or tightened.
    #[error("cannot prepare {}: {source}", .path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A path that must be a directory is something else.
    #[error("{} exists but is not a directory", .path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
}

fn summarize(issues: &[ConfigIssue]) -> String {
    if issues.is_empty() {
        return "no details".into();
    }
    issues
        .iter()
        .map(|i| format!("{}: {}", i.field, i.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Validates without starting or creating anything, asking `fs` about the
/// files the config names. Never panics: an internal bug surfaces as an
/// error in the report.
pub fn check_with(input: &ConfigInput, fs: &dyn ConfigFs) -> ConfigReport {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| validate::run(input, fs))) {
        Ok(r) => r,
        Err(_) => ConfigReport {
            ok: false,
            errors: vec![ConfigIssue {
                field: String::new(),
                message: "internal error while checking the configuration".into(),
                hint: "report this as a bug".into(),
            }],
            warnings: Vec::new(),
            effective: serde_json::Value::Null,
            config: None,
            sources: Vec::new(),
        },
    }
}
