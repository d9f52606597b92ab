use crate::core::config::{ConfigInput as CoreInput, ConfigIssue as CoreIssue};
use crate::home_guardian;
use napi_derive::napi;
use std::collections::HashMap;
use std::path::PathBuf;

/// What to validate: environment, an optional config file, explicit options.
#[napi(object)]
#[derive(Default)]
pub struct ConfigInput {
    /// Environment variables (`HOME` and `NANOCLAW_TRAFFIC_GUARDIAN_*` are read); pass `process.env`.
    pub env: Option<HashMap<String, String>>,
    /// Config file; else `NANOCLAW_TRAFFIC_GUARDIAN_CONFIG`, else `<home>/config.json` if present.
    #[napi(js_name = "config_path")]
    pub config_path: Option<String>,
    /// Explicit options (config keys), highest precedence.
    pub overrides: Option<serde_json::Value>,
    /// Secret values the host knows, looked for in outbound traffic (only by
    /// `new Guardian`): kept as keyed hashes, never returned, logged or stored.
    #[napi(js_name = "known_secrets")]
    pub known_secrets: Option<Vec<KnownSecretInput>>,
}

/// One secret value the host registers with the guardian.
#[napi(object)]
#[derive(Clone)]
pub struct KnownSecretInput {
    /// Shown in findings (`A-Z a-z 0-9 _ . -`, at most 64).
    pub name: String,
    /// The value (8 to 256 bytes). Never shown anywhere.
    pub value: String,
    /// Hosts (exact or `.suffix`) where sending it is expected traffic.
    #[napi(js_name = "expected_hosts")]
    pub expected_hosts: Option<Vec<String>>,
}

/// Moves the known secret values out of `input` (they never reach the
/// config validator or its `effective` view).
pub(crate) fn take_known_secrets(
    input: &mut ConfigInput,
) -> Vec<crate::home_guardian::KnownSecretValue> {
    input
        .known_secrets
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|k| crate::home_guardian::KnownSecretValue {
            name: k.name,
            value: crate::core::config::SecretString::new(k.value),
            expected_hosts: k.expected_hosts.unwrap_or_default(),
        })
        .collect()
}

impl From<ConfigInput> for CoreInput {
    fn from(i: ConfigInput) -> Self {
        CoreInput {
            env: i.env.unwrap_or_default().into_iter().collect(),
            config_path: i.config_path.map(PathBuf::from),
            overrides: i.overrides.unwrap_or(serde_json::Value::Null),
        }
    }
}

/// One configuration problem, addressed to the operator.
#[napi(object)]
pub struct ConfigIssue {
    /// Dotted path of the offending key, e.g. `mitm.trusted_runtimes`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl From<CoreIssue> for ConfigIssue {
    fn from(i: CoreIssue) -> Self {
        ConfigIssue {
            field: i.field,
            message: i.message,
            hint: i.hint,
        }
    }
}

/// The result of validating a configuration.
#[napi(object)]
pub struct ConfigReport {
    /// No errors (warnings allowed).
    pub ok: bool,
    pub errors: Vec<ConfigIssue>,
    pub warnings: Vec<ConfigIssue>,
    /// The merged config with defaults filled in and secrets masked.
    pub effective: serde_json::Value,
    /// Layers that contributed: `defaults`, `file:<path>`, `env`, `overrides`.
    pub sources: Vec<String>,
}

/// Validates a configuration without starting anything. The same
/// validator runs when a `Guardian` is constructed.
#[napi]
pub fn check_config(input: Option<ConfigInput>) -> ConfigReport {
    let report = home_guardian::check_config(&input.unwrap_or_default().into());
    ConfigReport {
        ok: report.ok,
        errors: report.errors.into_iter().map(ConfigIssue::from).collect(),
        warnings: report.warnings.into_iter().map(ConfigIssue::from).collect(),
        effective: report.effective,
        sources: report.sources,
    }
}

/// One runtime's proxy credential, as the validated config holds it.
#[napi(object)]
pub struct RuntimeCredential {
    /// The runtime (NanoClaw group folder) name.
    pub name: String,
    /// Its proxy token, unmasked.
    pub token: String,
}

/// The JSON Schema of a config file (`config.schema.json`, pretty-printed):
/// every key with its type, default, bounds, environment variable
/// (`x-env`) and documentation. The README's config table is generated from it.
#[napi]
pub fn config_schema() -> String {
    crate::core::config::json_schema()
}

/// Config keys a reload does not apply: it names them as needing a restart
/// (`reload` and its help list them from here).
#[napi]
pub fn restart_only_keys() -> Vec<String> {
    home_guardian::RESTART_ONLY_KEYS
        .iter()
        .map(|k| (*k).to_owned())
        .collect()
}

/// The runtime credentials of a configuration, resolved from the same
/// layers as `checkConfig` (defaults < file < env < overrides), with the
/// tokens unmasked: what the host needs to give each container its proxy
/// URL. Host side only: never send the result over IPC or MCP, never log
/// it. Empty when the config is invalid (nothing can start then).
#[napi]
pub fn runtime_credentials(input: Option<ConfigInput>) -> Vec<RuntimeCredential> {
    // `known_secrets` are not config: the conversion leaves them out.
    let report = home_guardian::check_config(&input.unwrap_or_default().into());
    match report.into_result() {
        Ok(config) => config
            .runtimes
            .into_iter()
            .map(|r| RuntimeCredential {
                name: r.name,
                token: r.token.expose().to_owned(),
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Shortest runtime token the validator accepts; `setup` asks for the same.
#[napi]
pub const MIN_TOKEN_LEN: u32 = crate::core::config::MIN_TOKEN_LEN as u32;
