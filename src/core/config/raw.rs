//! The config as written (a `config.json` file, or the explicit options):
//! its keys, the JSON types each takes, defaults, bounds and docs, defined
//! once. The validator takes its known keys from here (so the "unknown key,
//! did you mean" check cannot drift from the docs), `config.schema.json`
//! (editor validation) and the README's config table are generated from
//! here (`npm run docs`; `node scripts/docs.mjs --check` keeps them current).
//!
//! The validator does not deserialize into these types: it checks every key
//! of the merged layers at once, accepts what the environment layer gives
//! (strings), and its messages name the field, the expected type and the
//! fix, never the value (a token can sit in the wrong key). A test holds the
//! two to the same JSON types.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::env::ENV_KEYS;
use super::model::*;
use crate::core::finding::Severity;
use crate::core::scan::ModelText;
use crate::core::shape::ShapeThresholds;

/// The defaults of the `exfil_*` keys.
static SHAPE: LazyLock<ShapeThresholds> = LazyLock::new(ShapeThresholds::default);

/// The configuration of traffic-guardian, a detect-and-log HTTP/HTTPS proxy
/// for NanoClaw agent containers. Every key is optional; `null` means the
/// default.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "traffic-guardian config")]
#[allow(dead_code)] // Read through serde and schemars only.
pub struct RawConfig {
    /// `off` (nothing listens) or `detect`. There is no blocking mode.
    #[schemars(extend("default" = DEFAULT_MODE))]
    mode: Option<Mode>,
    /// `host:port`, `[::1]:port` or `http://host:port`; port 0 = any free
    /// port. A non-loopback address warns and requires runtime credentials.
    #[schemars(extend("default" = DEFAULT_LISTEN))]
    listen: Option<String>,
    /// Created 0700; all state lives here.
    #[schemars(extend("x-default-text" = format!("`~/{DEFAULT_HOME_SUBDIR}`")))]
    home: Option<String>,
    /// Created 0700; `findings.jsonl` is 0600.
    #[schemars(extend("x-default-text" = format!("`<home>/{DEFAULT_LOG_SUBDIR}`")))]
    log_dir: Option<String>,
    /// Bytes of each message inspected.
    #[schemars(extend("default" = DEFAULT_MAX_SCAN_BYTES, "minimum" = MIN_MAX_SCAN_BYTES, "maximum" = MAX_MAX_SCAN_BYTES))]
    max_scan_bytes: Option<Size>,
    /// Who goes first when the cores are busy. `background`: forwarding;
    /// the scan threads run at nice 10 and skip what they cannot take, which
    /// `status` shows as unscanned (overload) and traffic never slows.
    /// `normal`: the scan threads share busy cores with forwarding, so a
    /// load on the host (an agent's build, or one spinning the CPU on
    /// purpose) leaves less unscanned, and traffic slows under it instead.
    /// Takes effect at start.
    #[schemars(extend("default" = ScanPriority::Background))]
    scan_priority: Option<ScanPriority>,
    /// `full`, `short` or `none` (the environment variable also takes
    /// `true`/`false`). Only shortens or drops snippets: secret redaction
    /// cannot be turned off.
    #[schemars(extend("default" = DEFAULT_REDACT_SNIPPETS))]
    redact_snippets: Option<SnippetMode>,
    /// HTTPS inspection (MITM with the guardian's own CA).
    #[schemars(extend("x-default-text" = "off"))]
    mitm: Option<RawMitm>,
    /// PEM file of extra roots trusted for upstream TLS.
    ca_bundle: Option<String>,
    /// `http://user:token@host:port`: chain in front of an existing proxy,
    /// for runtimes without their own (NanoClaw's integration gives each
    /// group its own OneCLI credentials automatically).
    upstream_proxy: Option<String>,
    /// Proxy credentials that attribute findings to a runtime:
    /// `[{"name": "<group folder>", "token": "<16–256 URL-safe chars>"}]`.
    #[schemars(extend("default" = []))]
    runtimes: Option<Vec<RawRuntime>>,
    /// Clients without valid runtime credentials get 407 (access control of
    /// the proxy, not traffic blocking).
    #[schemars(extend("x-default-text" = "`false` on loopback, `true` otherwise"))]
    require_auth: Option<bool>,
    /// Hosts, IPs or CIDRs the pivot guard lets clients reach (by default
    /// the proxy refuses the host's loopback, link-local and cloud-metadata
    /// addresses and the addresses of its own interfaces, docker bridge
    /// included).
    #[schemars(extend("default" = []))]
    allow_private_destinations: Option<Vec<String>>,
    /// Rule id → extra hosts where that credential is expected traffic.
    #[schemars(extend("default" = {}))]
    expected_destinations: Option<BTreeMap<String, Vec<String>>>,
    /// Seconds during which a repeated finding is counted, not logged
    /// again; 0 disables folding.
    #[schemars(extend("default" = DEFAULT_DEDUP_WINDOW_SECS, "minimum" = MIN_DEDUP_WINDOW_SECS, "maximum" = MAX_DEDUP_WINDOW_SECS))]
    dedup_window_secs: Option<u64>,
    /// Size at which the findings log rotates.
    #[schemars(extend("default" = DEFAULT_ROTATE_BYTES, "minimum" = MIN_ROTATE_BYTES, "maximum" = MAX_ROTATE_BYTES))]
    rotate_bytes: Option<Size>,
    /// Rotated files kept.
    #[schemars(extend("default" = DEFAULT_ROTATE_KEEP, "minimum" = MIN_ROTATE_KEEP, "maximum" = MAX_ROTATE_KEEP))]
    rotate_keep: Option<u64>,
    /// Findings kept in memory for queries.
    #[schemars(extend("default" = DEFAULT_RING_CAPACITY, "minimum" = MIN_RING_CAPACITY, "maximum" = MAX_RING_CAPACITY))]
    ring_capacity: Option<u64>,
    /// Milliseconds given to in-flight connections at stop.
    #[schemars(extend("default" = DEFAULT_SHUTDOWN_GRACE_MS, "minimum" = MIN_SHUTDOWN_GRACE_MS, "maximum" = MAX_SHUTDOWN_GRACE_MS))]
    shutdown_grace_ms: Option<u64>,
    /// `host:port` for Prometheus text at `/metrics` (e.g.
    /// `127.0.0.1:9464`): findings by rule, severity, direction and group, a
    /// scan-time histogram, scan queue depth, unscanned bytes. Loopback only
    /// unless `metrics_allow_remote`. Grafana dashboard:
    /// `examples/grafana-dashboard.json`.
    #[schemars(extend("x-default-text" = "none (off)", "examples" = [EXAMPLE_METRICS_LISTEN]))]
    metrics_listen: Option<String>,
    /// `true` lets `metrics_listen` be a non-loopback address (firewall it).
    #[schemars(extend("default" = false))]
    metrics_allow_remote: Option<bool>,
    /// Local alert hook. The command (no shell, environment `PATH` and
    /// `LANG` only) gets each redacted finding at or above `min_severity` as
    /// JSON on stdin; failures, timeouts and drops are counted in status and
    /// metrics. `check-config` shows the command: keep credentials out of
    /// its arguments.
    on_finding: Option<RawHook>,
    /// Findings in the text a model API streams back (the agent's own model
    /// explaining, e.g. an install with `curl … | sh`): `low` reports them at
    /// severity low, `full` at the rule's severity, `off` not at all. Tool
    /// calls the model streams are always reported in full, as
    /// `model_tool_call`. Model APIs: `api.anthropic.com`, `api.openai.com`,
    /// Gemini, Azure OpenAI, Mistral, Groq, DeepSeek, xAI, OpenRouter,
    /// Together, Fireworks, Cohere, Perplexity.
    #[schemars(extend("default" = ModelText::default()))]
    model_text: Option<ModelText>,
    /// More model API hosts (exact, or `.suffix` for a domain and its
    /// subdomains), e.g. a local LLM gateway.
    #[schemars(extend("default" = []))]
    model_hosts: Option<Vec<String>>,
    /// `false` (or `traffic-guardian start --no-inspect`) runs the bare
    /// proxy: same build, access control and counters, but nothing is
    /// scanned and nothing is found. A benchmarking aid only; the banner,
    /// `status` and the MCP status tool say "inspection OFF — benchmarking
    /// aid, finds nothing".
    #[schemars(extend("default" = true))]
    inspect: Option<bool>,
    /// A file of `NAME=value` lines (`.env` style: `#` comments, `export`,
    /// quotes) holding secrets the host knows. Must be owned by you and mode
    /// 0600, refused otherwise (the error names the field and `chmod 600
    /// <file>`). Values of 8–256 bytes are kept only as keyed hashes
    /// (shorter ones are skipped with a warning); any occurrence going out
    /// (raw, reversed, base64 standard/URL-safe at any alignment, hex,
    /// percent- or JSON-escaped, split across frames) is a critical
    /// `known_secret` finding whose snippet names `NAME`, never the value.
    /// `createTrafficGuardian({ knownSecrets: { NAME: value } })` registers
    /// values the same way.
    known_secrets_file: Option<String>,
    /// `NAME` → hosts (exact or `.suffix`) where sending that known secret
    /// is expected (e.g. the database's own host).
    #[schemars(extend("default" = {}))]
    known_secret_hosts: Option<BTreeMap<String, Vec<String>>>,
    /// The sliding window of the volume/shape detectors, seconds.
    #[schemars(extend("default" = SHAPE.window_secs, "minimum" = MIN_EXFIL_WINDOW_SECS, "maximum" = MAX_EXFIL_WINDOW_SECS))]
    exfil_window_secs: Option<u64>,
    /// Request bytes to one destination host per window before a
    /// `volume_anomaly`.
    #[schemars(extend("default" = SHAPE.dest_bytes, "minimum" = MIN_EXFIL_BYTES, "maximum" = MAX_EXFIL_BYTES))]
    exfil_dest_bytes: Option<Size>,
    /// Request bytes from one group (runtime) per window before a
    /// `volume_anomaly`.
    #[schemars(extend("default" = SHAPE.group_bytes, "minimum" = MIN_EXFIL_BYTES, "maximum" = MAX_EXFIL_BYTES))]
    exfil_group_bytes: Option<Size>,
    /// High-entropy URL fragments (path segments, query values; hex digests
    /// and UUIDs excluded) to one host per window before a
    /// `fragmented_exfil`.
    #[schemars(extend("default" = SHAPE.dest_fragments, "minimum" = MIN_EXFIL_COUNT, "maximum" = MAX_EXFIL_COUNT))]
    exfil_dest_fragments: Option<u64>,
    /// Unique high-entropy subdomain labels of one registrable domain per
    /// window before a `dns_label_exfil`.
    #[schemars(extend("default" = SHAPE.dns_unique_labels, "minimum" = MIN_EXFIL_COUNT, "maximum" = MAX_EXFIL_COUNT))]
    exfil_dns_labels: Option<u64>,
    /// The JSON Schema this file follows, for editors (ignored by the
    /// guardian).
    #[serde(rename = "$schema")]
    schema: Option<String>,
}

/// A byte count, or a number with a binary suffix: `512k`, `4m`, `1MiB`
/// (1k = 1024).
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Size {
    Bytes(u64),
    Text(String),
}

/// HTTPS inspection. Inspection happens only when `enabled` and the client
/// is covered by `trusted_runtimes` (its container mounts the CA).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawMitm {
    /// Turns inspection on.
    #[schemars(extend("default" = false))]
    enabled: Option<bool>,
    /// Runtime names whose containers mount the CA, or `["*"]`; required
    /// when MITM is on.
    #[schemars(extend("default" = []))]
    trusted_runtimes: Option<Vec<String>>,
    /// Hosts tunnelled blind (exact, or `.suffix` for a domain and its
    /// subdomains; `*.suffix` is refused with that hint), e.g.
    /// certificate-pinned APIs.
    #[schemars(extend("default" = []))]
    exclude_hosts: Option<Vec<String>>,
}

/// One runtime's proxy credentials.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawRuntime {
    /// The NanoClaw group folder name (1–64 of `A-Z a-z 0-9 _ -`).
    name: String,
    /// The proxy password of that runtime, URL-safe characters (e.g.
    /// `openssl rand -hex 24`).
    #[schemars(length(min = MIN_TOKEN_LEN, max = MAX_TOKEN_LEN))]
    token: String,
}

/// The `on_finding` hook.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawHook {
    /// Argv, no shell; the first element an absolute path, e.g.
    /// `["/usr/local/bin/notify-finding", "--channel", "ops"]`.
    command: Vec<String>,
    /// Findings at this severity or worse run the hook.
    #[schemars(extend("default" = DEFAULT_HOOK_MIN_SEVERITY))]
    min_severity: Option<Severity>,
    /// A run is killed after this many milliseconds.
    #[schemars(extend("default" = DEFAULT_HOOK_TIMEOUT_MS, "minimum" = MIN_HOOK_TIMEOUT_MS, "maximum" = MAX_HOOK_TIMEOUT_MS))]
    timeout_ms: Option<u64>,
    /// Runs at once.
    #[schemars(extend("default" = DEFAULT_HOOK_MAX_CONCURRENT, "minimum" = MIN_HOOK_MAX_CONCURRENT, "maximum" = MAX_HOOK_MAX_CONCURRENT))]
    max_concurrent: Option<u64>,
    /// Findings waiting for a free run; more are dropped (and counted).
    #[schemars(extend("default" = DEFAULT_HOOK_MAX_QUEUE, "minimum" = MIN_HOOK_MAX_QUEUE, "maximum" = MAX_HOOK_MAX_QUEUE))]
    max_queue: Option<u64>,
}

/// The keys serde accepts for `T`: the field list its derived `Deserialize`
/// hands to `deserialize_struct`.
fn struct_keys<T: for<'de> Deserialize<'de>>() -> Vec<&'static str> {
    use serde::de::{Error as _, Visitor};
    type Error = serde::de::value::Error;
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            *self.0 = fields;
            Err(Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields.iter().copied().filter(|k| *k != "$schema").collect()
}

/// Keys accepted at the top level of the file and overrides (`$schema`
/// is accepted too, and ignored).
pub static TOP_LEVEL_KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(struct_keys::<RawConfig>);
/// Keys accepted inside `on_finding`.
pub static HOOK_KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(struct_keys::<RawHook>);
/// Keys accepted inside `mitm`.
pub static MITM_KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(struct_keys::<RawMitm>);
/// Keys accepted inside each `runtimes[]` entry.
pub static RUNTIME_KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(struct_keys::<RawRuntime>);

/// The JSON Schema of a config file, with each key's environment variable
/// (`x-env`) where it has one. Pretty-printed, ending in a newline, as
/// `config.schema.json` ships.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(RawConfig).to_value();
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for (var, key) in ENV_KEYS {
            if let Some(Value::Object(p)) = props.get_mut(key) {
                p.insert("x-env".into(), Value::from(var));
            }
        }
    }
    // JSON objects here are sorted by key; `x-order` keeps the order of the
    // definition above for the README.
    for (at, keys) in [
        ("/properties", &TOP_LEVEL_KEYS),
        ("/$defs/RawMitm/properties", &MITM_KEYS),
        ("/$defs/RawHook/properties", &HOOK_KEYS),
        ("/$defs/RawRuntime/properties", &RUNTIME_KEYS),
    ] {
        for (i, key) in keys.iter().enumerate() {
            if let Some(Value::Object(p)) = schema.pointer_mut(&format!("{at}/{key}")) {
                p.insert("x-order".into(), Value::from(i));
            }
        }
    }
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

/// Whether `value` has the JSON types of a config file (keys, nesting and
/// leaf types; not bounds or formats). The path of the first mismatch
/// otherwise.
#[cfg(test)]
pub(crate) fn shape_check(value: &Value) -> Result<(), String> {
    serde_path_to_error::deserialize::<_, RawConfig>(value)
        .map(|_| ())
        .map_err(|e| e.path().to_string())
}
