//! Environment variables: names, and turning them into a config layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::model::{SnippetMode, DEFAULT_HOME_SUBDIR};

/// Prefix shared by every guardian variable.
pub const ENV_PREFIX: &str = "NANOCLAW_TRAFFIC_GUARDIAN_";
/// Home directory (all state lives here).
pub const ENV_HOME: &str = "NANOCLAW_TRAFFIC_GUARDIAN_HOME";
/// Config file path.
pub const ENV_CONFIG: &str = "NANOCLAW_TRAFFIC_GUARDIAN_CONFIG";
/// `off` | `detect`.
pub const ENV_MODE: &str = "NANOCLAW_TRAFFIC_GUARDIAN_MODE";
/// Listen address (usually `http://host:port`).
pub const ENV_PROXY_URL: &str = "NANOCLAW_TRAFFIC_GUARDIAN_PROXY_URL";
/// Extra upstream trust roots.
pub const ENV_CA_BUNDLE: &str = "NANOCLAW_TRAFFIC_GUARDIAN_CA_BUNDLE";
/// Findings log directory.
pub const ENV_LOG_DIR: &str = "NANOCLAW_TRAFFIC_GUARDIAN_LOG_DIR";
/// Scan limit (`1048576`, `512k`, `1m`, …).
pub const ENV_MAX_SCAN_BYTES: &str = "NANOCLAW_TRAFFIC_GUARDIAN_MAX_SCAN_BYTES";
/// Snippet mode; also true/1/yes (full) and false/0/no/off (none).
pub const ENV_REDACT_SNIPPETS: &str = "NANOCLAW_TRAFFIC_GUARDIAN_REDACT_SNIPPETS";

/// Diagnostics filter (`RUST_LOG` syntax); read by the logging setup, not a config key.
pub const ENV_LOG: &str = "NANOCLAW_TRAFFIC_GUARDIAN_LOG";

/// Variable → config key it sets. `_CONFIG` is not a key: it names the file.
pub const ENV_KEYS: [(&str, &str); 7] = [
    (ENV_HOME, "home"),
    (ENV_MODE, "mode"),
    (ENV_PROXY_URL, "listen"),
    (ENV_CA_BUNDLE, "ca_bundle"),
    (ENV_LOG_DIR, "log_dir"),
    (ENV_MAX_SCAN_BYTES, "max_scan_bytes"),
    (ENV_REDACT_SNIPPETS, "redact_snippets"),
];

/// Every variable the guardian reads.
pub(crate) fn known_vars() -> impl Iterator<Item = &'static str> {
    ENV_KEYS
        .iter()
        .map(|(v, _)| *v)
        .chain([ENV_CONFIG, ENV_LOG])
}

/// A variable's value, with empty (or blank) meaning unset, as shells make
/// `VAR=` easy to write by accident.
pub(crate) fn var<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The env layer and, per key, the variable that set it.
pub(crate) fn env_layer(
    env: &BTreeMap<String, String>,
) -> (Map<String, Value>, BTreeMap<String, &'static str>) {
    let mut layer = Map::new();
    let mut from = BTreeMap::new();
    for (name, key) in ENV_KEYS {
        let Some(v) = var(env, name) else { continue };
        let value = if key == "redact_snippets" {
            normalize_redact_env(v)
        } else {
            v.to_string()
        };
        layer.insert(key.to_string(), Value::String(value));
        from.insert(key.to_string(), name);
    }
    (layer, from)
}

/// Booleans are accepted from the environment for convenience: "true" keeps
/// full snippets, "false" drops them. Neither can disable secret redaction.
fn normalize_redact_env(v: &str) -> String {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => SnippetMode::Full.as_str().to_string(),
        "false" | "0" | "no" | "off" => SnippetMode::None.as_str().to_string(),
        _ => v.to_string(),
    }
}

/// Why a path could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathProblem {
    Empty,
    NoHomeForTilde,
    TildeUser,
    NoCwd,
    Nul,
}

impl PathProblem {
    pub(crate) fn describe(&self) -> (&'static str, &'static str) {
        match self {
            PathProblem::Empty => (
                "is empty",
                "give a directory path, or remove the key to use the default",
            ),
            PathProblem::NoHomeForTilde => (
                "starts with ~ but HOME is not set",
                "write the absolute path instead of ~",
            ),
            PathProblem::TildeUser => (
                "uses ~user, which is not supported",
                "write the absolute path instead of ~user",
            ),
            PathProblem::NoCwd => (
                "is relative and the current directory cannot be read",
                "write an absolute path",
            ),
            PathProblem::Nul => ("contains a NUL character", "remove the NUL character"),
        }
    }
}

/// Expands `~` with `HOME` from the given env and makes relative paths
/// absolute against `base` (the config file's directory for file values,
/// else the working directory `cwd` gives), so `effective` shows what will be used.
pub(crate) fn resolve_path(
    raw: &str,
    env: &BTreeMap<String, String>,
    base: Option<&Path>,
    cwd: &dyn Fn() -> std::io::Result<PathBuf>,
) -> Result<PathBuf, PathProblem> {
    if raw.trim().is_empty() {
        return Err(PathProblem::Empty);
    }
    if raw.contains('\0') {
        return Err(PathProblem::Nul);
    }
    let expanded = if raw == "~" || raw.starts_with("~/") {
        let home = var(env, "HOME").ok_or(PathProblem::NoHomeForTilde)?;
        let rest = raw.get(1..).unwrap_or("").trim_start_matches('/');
        if rest.is_empty() {
            PathBuf::from(home)
        } else {
            Path::new(home).join(rest)
        }
    } else if raw.starts_with('~') {
        return Err(PathProblem::TildeUser);
    } else {
        PathBuf::from(raw)
    };
    if expanded.is_absolute() {
        return Ok(expanded);
    }
    let base = match base {
        Some(b) => b.to_path_buf(),
        None => cwd().map_err(|_| PathProblem::NoCwd)?,
    };
    Ok(base.join(expanded))
}

/// `$HOME/.config/nanoclaw/traffic-guardian`, with HOME from the given env.
pub(crate) fn default_home(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    var(env, "HOME").map(|h| Path::new(h).join(DEFAULT_HOME_SUBDIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn no_cwd() -> std::io::Result<PathBuf> {
        Err(std::io::ErrorKind::NotFound.into())
    }

    #[test]
    fn tilde_and_relative() {
        let e = env(&[("HOME", "/home/op")]);
        assert_eq!(
            resolve_path("~", &e, None, &no_cwd).unwrap(),
            PathBuf::from("/home/op")
        );
        assert_eq!(
            resolve_path("~/x/y", &e, None, &no_cwd).unwrap(),
            PathBuf::from("/home/op/x/y")
        );
        assert_eq!(
            resolve_path("rel", &e, Some(Path::new("/etc/g")), &no_cwd).unwrap(),
            PathBuf::from("/etc/g/rel")
        );
        assert_eq!(
            resolve_path("~bob/x", &e, None, &no_cwd),
            Err(PathProblem::TildeUser)
        );
        assert_eq!(
            resolve_path("~/x", &env(&[]), None, &no_cwd),
            Err(PathProblem::NoHomeForTilde)
        );
        assert_eq!(
            resolve_path("  ", &e, None, &no_cwd),
            Err(PathProblem::Empty)
        );
        assert_eq!(
            resolve_path("rel", &e, None, &no_cwd),
            Err(PathProblem::NoCwd)
        );
        assert_eq!(
            resolve_path("rel", &e, None, &|| Ok(PathBuf::from("/w"))).unwrap(),
            PathBuf::from("/w/rel")
        );
    }

    #[test]
    fn env_layer_maps_and_normalizes() {
        let e = env(&[
            (ENV_PROXY_URL, "http://127.0.0.1:9000"),
            (ENV_REDACT_SNIPPETS, "No"),
            (ENV_MODE, ""),
        ]);
        let (layer, from) = env_layer(&e);
        assert_eq!(
            layer.get("listen"),
            Some(&Value::from("http://127.0.0.1:9000"))
        );
        assert_eq!(layer.get("redact_snippets"), Some(&Value::from("none")));
        assert!(!layer.contains_key("mode"), "empty variable means unset");
        assert_eq!(from.get("listen"), Some(&ENV_PROXY_URL));
    }
}
