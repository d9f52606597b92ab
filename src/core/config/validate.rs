//! The one validator: merges the layers, checks every field, looks at the
//! filesystem (read-only) and builds both the typed config and the masked
//! `effective` view. Messages never contain token or credential values.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::env::{self, ENV_CONFIG, ENV_HOME, ENV_PREFIX};
use super::model::*;
use super::port::{ConfigFs, FileKind};
use super::raw::{HOOK_KEYS, MITM_KEYS, RUNTIME_KEYS, TOP_LEVEL_KEYS};
use super::suggest;
use super::{ConfigInput, ConfigIssue, ConfigReport};
use crate::core::scan::ModelText;

/// Where a value came from; decides relative-path bases and message notes.
#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    Env(&'static str),
    Overrides,
}

#[derive(Default)]
struct Issues {
    errors: Vec<ConfigIssue>,
    warnings: Vec<ConfigIssue>,
}

impl Issues {
    fn error(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.errors.push(ConfigIssue {
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        });
    }
    fn warn(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.warnings.push(ConfigIssue {
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        });
    }
    fn type_error(&mut self, field: &str, expected: &str, got: &Value) {
        self.error(
            field,
            format!("{field} must be {expected}, got {}", kind(got)),
            format!("write {field} as {expected}"),
        );
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Quotes a user-supplied (non-secret) value for a message, bounded.
fn q(s: &str) -> String {
    let cut: String = s.chars().take(64).collect();
    let more = if s.chars().count() > 64 { "…" } else { "" };
    format!("\"{}{more}\"", cut.escape_debug())
}

/// The whole check. Called by `super::check` inside a panic guard.
pub(crate) fn run(input: &ConfigInput, fs: &dyn ConfigFs) -> ConfigReport {
    let mut is = Issues::default();
    let mut sources = vec!["defaults".to_string()];
    let env_map = &input.env;

    // Overrides layer.
    let mut overrides = match &input.overrides {
        Value::Null => Map::new(),
        Value::Object(m) => m.clone(),
        other => {
            is.error(
                "overrides",
                format!(
                    "explicit options must be a JSON object, got {}",
                    kind(other)
                ),
                "pass an object such as {\"mode\": \"detect\"}, or nothing",
            );
            Map::new()
        }
    };
    strip_unknown(&mut overrides, "explicit options", &mut is);

    // Env layer, and a nudge about misspelt guardian variables.
    let (env_layer, env_from) = env::env_layer(env_map);
    for name in env_map.keys() {
        if name.starts_with(ENV_PREFIX) && !env::known_vars().any(|k| k == name) {
            is.warn(
                name.clone(),
                format!(
                    "unknown environment variable {name}{}",
                    suggest::suffix(name, env::known_vars())
                ),
                format!(
                    "the guardian reads only: {}",
                    env::known_vars().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }

    // Home as known before reading the file, to find `<home>/config.json`.
    let pre_home = match overrides.get("home") {
        Some(Value::String(s)) => env::resolve_path(s, env_map, None, &|| fs.working_dir()).ok(),
        _ => match env::var(env_map, ENV_HOME) {
            Some(h) => env::resolve_path(h, env_map, None, &|| fs.working_dir()).ok(),
            None => env::default_home(env_map),
        },
    };

    // File layer.
    let (file_path, explicit) = if let Some(p) = &input.config_path {
        (resolve_input_path(p, env_map, fs), true)
    } else if let Some(p) = env::var(env_map, ENV_CONFIG) {
        (resolve_input_path(Path::new(p), env_map, fs), true)
    } else {
        (
            pre_home.as_ref().map(|h| h.join(DEFAULT_CONFIG_FILE_NAME)),
            false,
        )
    };
    let mut file_layer = Map::new();
    let mut file_used: Option<PathBuf> = None;
    if let Some(path) = file_path {
        if let Some(mut layer) = load_file(&path, explicit, &mut is, fs) {
            strip_unknown(
                &mut layer,
                &format!("config file {}", path.display()),
                &mut is,
            );
            check_file_mode(&path, &layer, &mut is, fs);
            sources.push(format!("file:{}", path.display()));
            file_layer = layer;
            file_used = Some(path);
        }
    }
    if !env_layer.is_empty() || env::var(env_map, ENV_CONFIG).is_some() {
        sources.push("env".to_string());
    }
    if !overrides.is_empty() {
        sources.push("overrides".to_string());
    }

    // Merge: defaults < file < env < overrides.
    let mut merged = Map::new();
    let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
    if let Some(fp) = &file_used {
        merge(
            &mut merged,
            file_layer,
            "",
            &|_| Origin::File(fp.clone()),
            &mut origins,
        );
    }
    merge(
        &mut merged,
        env_layer,
        "",
        &|k| {
            env_from
                .get(k)
                .map_or(Origin::Overrides, |v| Origin::Env(v))
        },
        &mut origins,
    );
    merge(
        &mut merged,
        overrides,
        "",
        &|_| Origin::Overrides,
        &mut origins,
    );

    let mut v = Validator {
        is,
        fs,
        env: env_map,
        merged: &merged,
        origins: &origins,
        eff: masked_raw(&merged),
    };
    let config = v.validate();
    let Validator { is, eff, .. } = v;
    let ok = is.errors.is_empty() && config.is_some();
    ConfigReport {
        ok,
        errors: is.errors,
        warnings: is.warnings,
        effective: Value::Object(eff),
        config: if ok { config } else { None },
        sources,
    }
}

fn resolve_input_path(
    p: &Path,
    env_map: &BTreeMap<String, String>,
    fs: &dyn ConfigFs,
) -> Option<PathBuf> {
    match p.to_str() {
        Some(s) => env::resolve_path(s, env_map, None, &|| fs.working_dir()).ok(),
        None if p.is_absolute() => Some(p.to_path_buf()),
        None => fs.working_dir().ok().map(|c| c.join(p)),
    }
}

fn load_file(
    path: &Path,
    explicit: bool,
    is: &mut Issues,
    fs: &dyn ConfigFs,
) -> Option<Map<String, Value>> {
    let shown = path.display();
    let meta = match fs.metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            is.error(
                "config_file",
                format!("config file {shown} does not exist"),
                format!("fix the path given by the caller or {ENV_CONFIG}, or unset it to use <home>/{DEFAULT_CONFIG_FILE_NAME}"),
            );
            return None;
        }
        Err(e) => {
            is.error(
                "config_file",
                format!("cannot read config file {shown}: {e}"),
                "check the path and its permissions",
            );
            return None;
        }
    };
    if meta.kind != FileKind::Regular {
        // Devices and FIFOs report no size and can block or never end.
        let what = if meta.kind == FileKind::Dir {
            "a directory"
        } else {
            "not a regular file"
        };
        is.error(
            "config_file",
            format!("config file {shown} is {what}"),
            "point at a JSON file",
        );
        return None;
    }
    if meta.len > MAX_CONFIG_FILE_BYTES {
        is.error(
            "config_file",
            format!(
                "config file {shown} is {} bytes; the limit is {MAX_CONFIG_FILE_BYTES}",
                meta.len
            ),
            "a guardian config is a small JSON object; check that the path is right",
        );
        return None;
    }
    let text = match fs.read_bounded(path, MAX_CONFIG_FILE_BYTES) {
        Ok(b) => match String::from_utf8(b) {
            Ok(t) => t,
            Err(_) => {
                is.error(
                    "config_file",
                    format!("config file {shown} is not UTF-8 text"),
                    "save it as UTF-8 JSON",
                );
                return None;
            }
        },
        Err(e) => {
            is.error(
                "config_file",
                format!("cannot read config file {shown}: {e}"),
                "check its permissions",
            );
            return None;
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Some(m),
        Ok(other) => {
            is.error(
                "config_file",
                format!(
                    "config file {shown} must hold a JSON object, got {}",
                    kind(&other)
                ),
                "wrap the settings in { … }",
            );
            None
        }
        Err(e) => {
            // serde_json's syntax messages name the problem and position,
            // never the content, so they are safe to pass on.
            is.error(
                "config_file",
                format!(
                    "config file {shown} is not valid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
                "fix the JSON syntax there (comments and trailing commas are not allowed)",
            );
            None
        }
    }
}

/// A config others can write could turn the guardian off or redirect it;
/// one others can read leaks the tokens it holds.
fn check_file_mode(path: &Path, layer: &Map<String, Value>, is: &mut Issues, fs: &dyn ConfigFs) {
    #[cfg(unix)]
    {
        let Ok(meta) = fs.metadata(path) else { return };
        let mode = meta.mode & 0o777;
        let holds_secrets = layer.contains_key("runtimes") || layer.contains_key("upstream_proxy");
        if mode & 0o002 != 0 {
            // Anyone could rewrite it: e.g. point `upstream_proxy` or
            // `ca_bundle` somewhere of their choosing. Refused, not warned.
            is.error(
                "config_file",
                format!(
                    "config file {} is writable by every user (mode {mode:04o}); anyone could change what the \
                     guardian does",
                    path.display()
                ),
                format!(
                    "chmod 600 {} (and check that its contents are still yours)",
                    path.display()
                ),
            );
        } else if mode & 0o020 != 0 {
            is.warn(
                "config_file",
                format!(
                    "config file {} is writable by its group (mode {mode:04o})",
                    path.display()
                ),
                format!("chmod 600 {}", path.display()),
            );
        } else if holds_secrets && mode & 0o044 != 0 {
            is.warn(
                "config_file",
                format!(
                    "config file {} holds credentials and is readable by other users (mode {mode:04o})",
                    path.display()
                ),
                format!("chmod 600 {}", path.display()),
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, layer, is, fs);
}

/// Drops unknown keys (reporting each with a suggestion) so they cause no
/// follow-on errors.
fn strip_unknown(layer: &mut Map<String, Value>, source: &str, is: &mut Issues) {
    layer.retain(|k, v| {
        if k == "$schema" {
            return false;
        }
        if !TOP_LEVEL_KEYS.contains(&k.as_str()) {
            unknown_key(k, k, &TOP_LEVEL_KEYS, source, is);
            return false;
        }
        match (k.as_str(), v) {
            ("mitm", Value::Object(m)) => m.retain(|mk, _| {
                let ok = MITM_KEYS.contains(&mk.as_str());
                if !ok {
                    unknown_key(&format!("mitm.{mk}"), mk, &MITM_KEYS, source, is);
                }
                ok
            }),
            ("on_finding", Value::Object(m)) => m.retain(|hk, _| {
                let ok = HOOK_KEYS.contains(&hk.as_str());
                if !ok {
                    unknown_key(&format!("on_finding.{hk}"), hk, &HOOK_KEYS, source, is);
                }
                ok
            }),
            ("runtimes", Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::Object(m) = item {
                        m.retain(|rk, _| {
                            let ok = RUNTIME_KEYS.contains(&rk.as_str());
                            if !ok {
                                unknown_key(
                                    &format!("runtimes[{i}].{rk}"),
                                    rk,
                                    &RUNTIME_KEYS,
                                    source,
                                    is,
                                );
                            }
                            ok
                        });
                    }
                }
            }
            _ => {}
        }
        true
    });
}

fn unknown_key(field: &str, key: &str, known: &[&str], source: &str, is: &mut Issues) {
    is.error(
        field,
        format!(
            "unknown key {}{} (in {source})",
            q(key),
            suggest::suffix(key, known.iter().copied())
        ),
        format!(
            "fix the spelling or remove it; known keys here: {}",
            known.join(", ")
        ),
    );
}

/// Later layers win; `mitm` merges per key; `null` resets a key to its default.
fn merge(
    dst: &mut Map<String, Value>,
    src: Map<String, Value>,
    prefix: &str,
    origin: &dyn Fn(&str) -> Origin,
    origins: &mut BTreeMap<String, Origin>,
) {
    for (k, v) in src {
        let path = format!("{prefix}{k}");
        match v {
            Value::Null => {
                dst.remove(&k);
                origins.retain(|p, _| p != &path && !p.starts_with(&format!("{path}.")));
            }
            Value::Object(m) if prefix.is_empty() && k == "mitm" => {
                let entry = dst
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(d) = entry {
                    merge(d, m, &format!("{path}."), origin, origins);
                }
                origins.insert(path, origin(&k));
            }
            other => {
                origins.insert(path.clone(), origin(&k));
                dst.insert(k, other);
            }
        }
    }
}

/// The merged layers with secrets hidden, used for fields that fail to
/// validate (valid fields are replaced by their normalized form).
fn masked_raw(merged: &Map<String, Value>) -> Map<String, Value> {
    let mut eff = merged.clone();
    if let Some(r) = eff.get_mut("runtimes") {
        *r = match r.take() {
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|it| match it {
                        Value::Object(mut m) => {
                            if m.contains_key("token") {
                                m.insert("token".into(), Value::from(MASK));
                            }
                            Value::Object(m)
                        }
                        _ => Value::from(MASK),
                    })
                    .collect(),
            ),
            _ => Value::from(MASK),
        };
    }
    if let Some(u) = eff.get_mut("upstream_proxy") {
        if !u.is_null() {
            *u = Value::from(MASK);
        }
    }
    if let Some(Value::String(l)) = eff.get("listen") {
        if l.contains('@') {
            eff.insert("listen".into(), Value::from(MASK));
        }
    }
    eff
}

struct Validator<'a> {
    is: Issues,
    fs: &'a dyn ConfigFs,
    env: &'a BTreeMap<String, String>,
    merged: &'a Map<String, Value>,
    origins: &'a BTreeMap<String, Origin>,
    eff: Map<String, Value>,
}

impl Validator<'_> {
    fn note(&self, path: &str) -> String {
        match self.origins.get(path) {
            Some(Origin::Env(v)) => format!(" (from {v})"),
            Some(Origin::File(p)) => format!(" (from config file {})", p.display()),
            Some(Origin::Overrides) => " (from explicit options)".to_string(),
            None => String::new(),
        }
    }

    fn base_dir(&self, path: &str) -> Option<PathBuf> {
        match self.origins.get(path) {
            Some(Origin::File(p)) => p.parent().map(Path::to_path_buf),
            _ => None,
        }
    }

    fn put<T: Serialize>(&mut self, key: &str, v: &Option<T>) {
        if let Some(v) = v {
            if let Ok(j) = serde_json::to_value(v) {
                self.eff.insert(key.to_string(), j);
            }
        }
    }

    fn validate(&mut self) -> Option<GuardianConfig> {
        let mode = self.mode();
        self.put("mode", &mode);
        let listen = self.listen();
        self.put("listen", &listen.map(|a| a.to_string()));
        let home = self.home();
        self.put("home", &home);
        let log_dir = self.log_dir(home.as_deref());
        self.put("log_dir", &log_dir);
        let max_scan_bytes = self.bounded(
            "max_scan_bytes",
            DEFAULT_MAX_SCAN_BYTES,
            MIN_MAX_SCAN_BYTES,
            MAX_MAX_SCAN_BYTES,
            true,
        );
        self.put("max_scan_bytes", &max_scan_bytes);
        let redact = self.redact();
        self.put("redact_snippets", &redact);
        let runtimes = self.runtimes();
        self.put("runtimes", &runtimes);
        let mitm = self.mitm(runtimes.as_deref());
        self.put("mitm", &mitm);
        let ca_bundle = self.ca_bundle();
        if let Some(c) = &ca_bundle {
            self.put("ca_bundle", &Some(c));
        }
        let upstream = self.upstream();
        if let Some(u) = &upstream {
            self.put("upstream_proxy", &Some(u));
        }
        let require_auth = self.require_auth(listen, runtimes.as_deref());
        self.put("require_auth", &require_auth);
        let allow = self.allow_private();
        self.put("allow_private_destinations", &allow);
        let expected = self.expected();
        self.put("expected_destinations", &expected);
        let dedup = self.bounded(
            "dedup_window_secs",
            DEFAULT_DEDUP_WINDOW_SECS,
            MIN_DEDUP_WINDOW_SECS,
            MAX_DEDUP_WINDOW_SECS,
            false,
        );
        self.put("dedup_window_secs", &dedup);
        let rotate_bytes = self.bounded(
            "rotate_bytes",
            DEFAULT_ROTATE_BYTES,
            MIN_ROTATE_BYTES,
            MAX_ROTATE_BYTES,
            true,
        );
        self.put("rotate_bytes", &rotate_bytes);
        let rotate_keep = self.bounded(
            "rotate_keep",
            DEFAULT_ROTATE_KEEP,
            MIN_ROTATE_KEEP,
            MAX_ROTATE_KEEP,
            false,
        );
        self.put("rotate_keep", &rotate_keep);
        let ring = self.bounded(
            "ring_capacity",
            DEFAULT_RING_CAPACITY,
            MIN_RING_CAPACITY,
            MAX_RING_CAPACITY,
            false,
        );
        self.put("ring_capacity", &ring);
        let grace = self.bounded(
            "shutdown_grace_ms",
            DEFAULT_SHUTDOWN_GRACE_MS,
            MIN_SHUTDOWN_GRACE_MS,
            MAX_SHUTDOWN_GRACE_MS,
            false,
        );
        self.put("shutdown_grace_ms", &grace);
        let hook = self.on_finding();
        if let Some(h) = &hook {
            self.eff.insert(
                "on_finding".into(),
                serde_json::to_value(h).unwrap_or(Value::Null),
            );
        }
        let model_text = self.model_text();
        self.put("model_text", &model_text);
        let scan_priority = self.scan_priority();
        self.put("scan_priority", &scan_priority);
        let model_hosts = self.host_list(
            "model_hosts",
            self.merged.get("model_hosts").cloned().as_ref(),
        );
        self.put("model_hosts", &model_hosts);
        let known_file = self.known_secrets_file();
        if let Some(k) = &known_file {
            self.put("known_secrets_file", &Some(k));
        }
        let known_hosts = self.known_secret_hosts();
        self.put("known_secret_hosts", &known_hosts);
        let d = crate::core::shape::ShapeThresholds::default();
        let mut shape = |key: &str, default: u64, min: u64, max: u64, sizes: bool| {
            let v = self.bounded(key, default, min, max, sizes);
            self.put(key, &v);
            v
        };
        let exfil_window = shape(
            "exfil_window_secs",
            d.window_secs,
            MIN_EXFIL_WINDOW_SECS,
            MAX_EXFIL_WINDOW_SECS,
            false,
        );
        let (min_b, max_b) = (MIN_EXFIL_BYTES, MAX_EXFIL_BYTES);
        let exfil_dest_bytes = shape("exfil_dest_bytes", d.dest_bytes, min_b, max_b, true);
        let exfil_group_bytes = shape("exfil_group_bytes", d.group_bytes, min_b, max_b, true);
        let exfil_fragments = shape(
            "exfil_dest_fragments",
            u64::from(d.dest_fragments),
            MIN_EXFIL_COUNT,
            MAX_EXFIL_COUNT,
            false,
        );
        let exfil_labels = shape(
            "exfil_dns_labels",
            u64::from(d.dns_unique_labels),
            MIN_EXFIL_COUNT,
            MAX_EXFIL_COUNT,
            false,
        );
        let metrics = self.metrics(listen);
        if let Some((addr, remote)) = &metrics {
            self.eff.insert(
                "metrics_listen".into(),
                addr.map_or(Value::Null, |a| Value::from(a.to_string())),
            );
            self.eff
                .insert("metrics_allow_remote".into(), Value::from(*remote));
        }

        let inspect = self.inspect();
        self.put("inspect", &inspect);

        if let Some(h) = &home {
            self.check_dir("home", h);
        }
        if let Some(l) = &log_dir {
            self.check_dir("log_dir", l);
        }

        Some(GuardianConfig {
            mode: mode?,
            listen: listen?,
            home: home?,
            log_dir: log_dir?,
            max_scan_bytes: usize::try_from(max_scan_bytes?).ok()?,
            scan_priority: scan_priority?,
            redact_snippets: redact?,
            mitm: mitm?,
            ca_bundle: ca_bundle.unwrap_or(None),
            upstream_proxy: upstream.unwrap_or(None),
            runtimes: runtimes?,
            require_auth: require_auth?,
            allow_private_destinations: allow?,
            expected_destinations: expected?,
            dedup_window_secs: dedup?,
            rotate_bytes: rotate_bytes?,
            rotate_keep: u32::try_from(rotate_keep?).ok()?,
            ring_capacity: usize::try_from(ring?).ok()?,
            shutdown_grace_ms: grace?,
            metrics_listen: metrics?.0,
            model_text: model_text?,
            model_hosts: model_hosts?,
            metrics_allow_remote: metrics?.1,
            on_finding: hook?,
            inspect: inspect?,
            known_secrets_file: known_file?,
            known_secret_hosts: known_hosts?,
            exfil_shape: crate::core::shape::ShapeThresholds {
                window_secs: exfil_window?,
                dest_bytes: exfil_dest_bytes?,
                group_bytes: exfil_group_bytes?,
                dest_fragments: u32::try_from(exfil_fragments?).ok()?,
                dns_unique_labels: u32::try_from(exfil_labels?).ok()?,
            },
        })
        .filter(|_| self.is.errors.is_empty())
        .or_else(|| {
            if self.is.errors.is_empty() {
                // Every failed field reports an error; this is a guard only.
                self.is.error(
                    "",
                    "internal error: a field failed without an error",
                    "report this as a bug",
                );
            }
            None
        })
    }

    fn mode(&mut self) -> Option<Mode> {
        match self.merged.get("mode") {
            None => Some(DEFAULT_MODE),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "off" => Some(Mode::Off),
                "detect" => Some(Mode::Detect),
                _ => {
                    let note = self.note("mode");
                    self.is.error(
                        "mode",
                        format!(
                            "mode {}{note} is not supported: blocking does not exist in this version — \
                             the guardian only detects and logs (detect-and-log only) and always forwards \
                             traffic unchanged; the modes are \"off\" and \"detect\"",
                            q(s)
                        ),
                        "use \"detect\" to detect and log, or \"off\"",
                    );
                    None
                }
            },
            Some(v) => {
                self.is
                    .type_error("mode", "a string (\"off\" or \"detect\")", v);
                None
            }
        }
    }

    fn listen(&mut self) -> Option<SocketAddr> {
        let raw = match self.merged.get("listen") {
            None => DEFAULT_LISTEN.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                self.is.type_error(
                    "listen",
                    "a string such as \"127.0.0.1:8118\" or \"http://127.0.0.1:8118\"",
                    v,
                );
                return None;
            }
        };
        match parse_listen(&raw) {
            Ok(a) => Some(a),
            Err((msg, hint)) => {
                let note = self.note("listen");
                self.is
                    .error("listen", format!("listen address{note} {msg}"), hint);
                None
            }
        }
    }

    fn path_field(&mut self, key: &str, s: &str) -> Option<PathBuf> {
        let base = self.base_dir(key);
        match env::resolve_path(s, self.env, base.as_deref(), &|| self.fs.working_dir()) {
            Ok(p) => Some(p),
            Err(p) => {
                let (what, hint) = p.describe();
                let note = self.note(key);
                self.is.error(key, format!("{key}{note} {what}"), hint);
                None
            }
        }
    }

    fn home(&mut self) -> Option<PathBuf> {
        match self.merged.get("home") {
            Some(Value::String(s)) => self.path_field("home", s),
            Some(v) => {
                self.is.type_error("home", "a directory path string", v);
                None
            }
            None => match env::default_home(self.env) {
                Some(h) => Some(h),
                None => {
                    self.is.error(
                        "home",
                        format!("cannot work out the home directory: neither {ENV_HOME} nor HOME is set"),
                        format!("set {ENV_HOME} (or \"home\" in the config) to a host-side directory"),
                    );
                    None
                }
            },
        }
    }

    fn log_dir(&mut self, home: Option<&Path>) -> Option<PathBuf> {
        match self.merged.get("log_dir") {
            Some(Value::String(s)) => self.path_field("log_dir", s),
            Some(v) => {
                self.is.type_error("log_dir", "a directory path string", v);
                None
            }
            None => home.map(|h| h.join(DEFAULT_LOG_SUBDIR)),
        }
    }

    fn bounded(&mut self, key: &str, default: u64, min: u64, max: u64, sizes: bool) -> Option<u64> {
        let n = match self.merged.get(key) {
            None => return Some(default),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(n) => n,
                None => {
                    self.is.error(
                        key,
                        format!("{key}{} must be a whole number ≥ 0", self.note(key)),
                        format!(
                            "use a value between {} and {}",
                            human(min, sizes),
                            human(max, sizes)
                        ),
                    );
                    return None;
                }
            },
            Some(Value::String(s)) if sizes => match parse_size(s) {
                Some(n) => n,
                None => {
                    self.is.error(
                        key,
                        format!("{key} {}{} is not a size", q(s), self.note(key)),
                        "write a byte count such as 1048576, or a number with a suffix: 512k, 1m, 1MiB, 4MB \
                         (k/m/g are binary: 1k = 1024)",
                    );
                    return None;
                }
            },
            Some(v) => {
                let expected = if sizes {
                    "an integer or a size string such as \"1m\""
                } else {
                    "an integer"
                };
                self.is.type_error(key, expected, v);
                return None;
            }
        };
        if n < min || n > max {
            self.is.error(
                key,
                format!(
                    "{key} {n}{} is out of bounds: it must be between {} and {}",
                    self.note(key),
                    human(min, sizes),
                    human(max, sizes)
                ),
                format!(
                    "use a value between {min} and {max}, or remove it for the default {default}"
                ),
            );
            return None;
        }
        Some(n)
    }

    fn model_text(&mut self) -> Option<ModelText> {
        self.choice(
            "model_text",
            &ModelText::ALL,
            ModelText::default(),
            "use \"low\" (the default: what a model API streams as text is reported at low \
             severity), \"full\" (the rule's own severity) or \"off\"; tool calls the model \
             streams are always reported in full, as model_tool_call",
        )
    }

    fn scan_priority(&mut self) -> Option<ScanPriority> {
        self.choice(
            "scan_priority",
            &ScanPriority::ALL,
            ScanPriority::default(),
            "use \"background\" (the default: on busy cores forwarding goes first and what \
             the scan threads cannot take is counted as unscanned) or \"normal\" (scanning \
             shares busy cores with forwarding: less unscanned, slower traffic under load)",
        )
    }

    /// A key whose value is one of `choices`' names (any case, trimmed):
    /// `default` when absent; otherwise an error naming the choices, with a
    /// did-you-mean and `hint`.
    fn choice<T: Copy>(
        &mut self,
        key: &str,
        choices: &[(&'static str, T)],
        default: T,
        hint: &str,
    ) -> Option<T> {
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        match self.merged.get(key) {
            None => Some(default),
            Some(Value::String(s)) => {
                let t = s.trim().to_ascii_lowercase();
                if let Some((_, v)) = choices.iter().find(|(n, _)| *n == t) {
                    return Some(*v);
                }
                self.is.error(
                    key,
                    format!(
                        "{key} {} is not one of {}{}",
                        q(s),
                        quoted.join(", "),
                        suggest::suffix(s, names.iter().copied())
                    ),
                    hint,
                );
                None
            }
            Some(v) => {
                let expected = match quoted.split_last() {
                    Some((last, [])) => last.clone(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                };
                self.is
                    .type_error(key, &format!("a string ({expected})"), v);
                None
            }
        }
    }

    fn redact(&mut self) -> Option<SnippetMode> {
        match self.merged.get("redact_snippets") {
            None => Some(DEFAULT_REDACT_SNIPPETS),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "full" => Some(SnippetMode::Full),
                "short" => Some(SnippetMode::Short),
                "none" => Some(SnippetMode::None),
                _ => {
                    let note = self.note("redact_snippets");
                    self.is.error(
                        "redact_snippets",
                        format!(
                            "redact_snippets {}{note} is not one of \"full\", \"short\", \"none\"{}",
                            q(s),
                            suggest::suffix(s, ["full", "short", "none"])
                        ),
                        "use \"full\", \"short\" or \"none\" (the environment variable also takes true/false); \
                         secrets inside snippets are always redacted and that cannot be turned off — this \
                         setting only controls how much surrounding context a snippet keeps",
                    );
                    None
                }
            },
            Some(v) => {
                self.is.type_error(
                    "redact_snippets",
                    "a string (\"full\", \"short\" or \"none\")",
                    v,
                );
                None
            }
        }
    }

    /// The string entries of a list and whether every entry was a string
    /// (entries of the wrong type are reported; the rest still get checked).
    fn string_items(&mut self, field: &str, v: Option<&Value>) -> (Vec<(String, String)>, bool) {
        match v {
            None => (Vec::new(), true),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, it) in items.iter().enumerate() {
                    let f = format!("{field}[{i}]");
                    match it {
                        Value::String(s) => out.push((f, s.clone())),
                        other => {
                            self.is.type_error(&f, "a string", other);
                            ok = false;
                        }
                    }
                }
                (out, ok)
            }
            Some(other) => {
                self.is.type_error(field, "an array of strings", other);
                (Vec::new(), false)
            }
        }
    }

    fn string_list(&mut self, field: &str, v: Option<&Value>) -> Option<Vec<(String, String)>> {
        let (items, ok) = self.string_items(field, v);
        ok.then_some(items)
    }

    fn host_list(&mut self, field: &str, v: Option<&Value>) -> Option<Vec<HostPattern>> {
        let (items, mut ok) = self.string_items(field, v);
        let mut out = Vec::new();
        for (f, s) in items {
            match parse_host_pattern(&s) {
                Ok(p) => out.push(p),
                Err((msg, hint)) => {
                    self.is.error(f, format!("host {} {msg}", q(&s)), hint);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn runtimes(&mut self) -> Option<Vec<Runtime>> {
        let items = match self.merged.get("runtimes") {
            None => return Some(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(v) => {
                self.is
                    .type_error("runtimes", "an array of {\"name\", \"token\"} objects", v);
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        let mut tokens: Vec<(usize, &str)> = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let Value::Object(m) = it else {
                self.is.type_error(
                    &format!("runtimes[{i}]"),
                    "an object {\"name\", \"token\"}",
                    it,
                );
                ok = false;
                continue;
            };
            let name = match m.get("name") {
                Some(Value::String(s)) => {
                    if !valid_runtime_name(s) {
                        self.is.error(
                            format!("runtimes[{i}].name"),
                            format!("runtime name {} is not a valid NanoClaw group folder name", q(s)),
                            "use 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit (the group's folder name)",
                        );
                        None
                    } else if let Some(j) = names.get(s.as_str()) {
                        self.is.error(
                            format!("runtimes[{i}].name"),
                            format!(
                                "runtime name {} is declared twice (also runtimes[{j}])",
                                q(s)
                            ),
                            "declare each runtime once",
                        );
                        None
                    } else {
                        names.insert(s.clone(), i);
                        Some(s.clone())
                    }
                }
                Some(v) => {
                    self.is
                        .type_error(&format!("runtimes[{i}].name"), "a string", v);
                    None
                }
                None => {
                    self.is.error(
                        format!("runtimes[{i}].name"),
                        format!("runtimes[{i}] has no name"),
                        "add \"name\": the NanoClaw group folder name, e.g. \"main\"",
                    );
                    None
                }
            };
            let token = match m.get("token") {
                Some(Value::String(t)) => self
                    .token(i, t, &tokens)
                    .inspect(|_| tokens.push((i, t.as_str()))),
                Some(v) => {
                    self.is
                        .type_error(&format!("runtimes[{i}].token"), "a string", v);
                    None
                }
                None => {
                    self.is.error(
                        format!("runtimes[{i}].token"),
                        format!("runtimes[{i}] has no token"),
                        format!("add \"token\": a random secret of at least {MIN_TOKEN_LEN} characters, e.g. from `openssl rand -hex 24`"),
                    );
                    None
                }
            };
            match (name, token) {
                (Some(name), Some(token)) => out.push(Runtime { name, token }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Checks one token. Never puts the token (or part of it) in a message.
    fn token(&mut self, i: usize, t: &str, seen: &[(usize, &str)]) -> Option<SecretString> {
        let field = format!("runtimes[{i}].token");
        let gen = "generate one with `openssl rand -hex 24`";
        let len = t.chars().count();
        if len < MIN_TOKEN_LEN {
            self.is.error(
                field,
                format!("token of runtimes[{i}] is too short ({len} characters; at least {MIN_TOKEN_LEN} are needed)"),
                gen,
            );
            return None;
        }
        if len > MAX_TOKEN_LEN {
            self.is.error(
                field,
                format!("token of runtimes[{i}] is too long ({len} characters; at most {MAX_TOKEN_LEN})"),
                gen,
            );
            return None;
        }
        if !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        {
            self.is.error(
                field,
                format!(
                    "token of runtimes[{i}] contains characters other than A-Z a-z 0-9 - _ . ~ \
                     (it is embedded in the container's proxy URL)"
                ),
                gen,
            );
            return None;
        }
        if let Some((j, _)) = seen.iter().find(|(_, s)| *s == t) {
            self.is.error(
                field,
                format!("runtimes[{i}] has the same token as runtimes[{j}]; findings could not be told apart"),
                format!("give each runtime its own token; {gen}"),
            );
            return None;
        }
        Some(SecretString::new(t))
    }

    fn mitm(&mut self, runtimes: Option<&[Runtime]>) -> Option<MitmConfig> {
        let m = match self.merged.get("mitm") {
            None => return Some(MitmConfig::default()),
            Some(Value::Object(m)) => m,
            Some(v) => {
                self.is.type_error(
                    "mitm",
                    "an object {\"enabled\", \"trusted_runtimes\", \"exclude_hosts\"}",
                    v,
                );
                return None;
            }
        };
        let enabled = match m.get("enabled") {
            None => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => {
                self.is.type_error("mitm.enabled", "a boolean", v);
                None
            }
        };
        let exclude = self.host_list("mitm.exclude_hosts", m.get("exclude_hosts"));
        let trusted = self.string_list("mitm.trusted_runtimes", m.get("trusted_runtimes"));
        let trusted =
            trusted.and_then(|list| self.trusted(list, runtimes, enabled.unwrap_or(false)));
        Some(MitmConfig {
            enabled: enabled?,
            trusted_runtimes: trusted?,
            exclude_hosts: exclude?,
        })
    }

    fn trusted(
        &mut self,
        list: Vec<(String, String)>,
        runtimes: Option<&[Runtime]>,
        enabled: bool,
    ) -> Option<TrustedRuntimes> {
        if list.iter().any(|(_, n)| n == TRUST_ALL_RUNTIMES) {
            if list.len() > 1 {
                self.is.error(
                    "mitm.trusted_runtimes",
                    "\"*\" already covers every client and cannot be mixed with runtime names",
                    "use either [\"*\"] or a list of runtime names",
                );
                return None;
            }
            return Some(TrustedRuntimes::All);
        }
        if enabled && list.is_empty() {
            self.is.error(
                "mitm.trusted_runtimes",
                "HTTPS inspection is enabled but no runtime is trusted: inspection needs per-runtime trust, \
                 because only containers that mount the guardian's CA certificate accept the certificates it \
                 presents (any other client would see TLS failures)",
                "list the runtimes whose containers mount the guardian CA, e.g. [\"main\"], or [\"*\"] if every \
                 client does; or set mitm.enabled to false",
            );
            return None;
        }
        // Names are checked against the declared runtimes; when `runtimes`
        // itself failed, that error is enough.
        let declared: Option<Vec<&str>> =
            runtimes.map(|r| r.iter().map(|r| r.name.as_str()).collect());
        let mut names = Vec::new();
        let mut ok = true;
        for (f, n) in list {
            if let Some(decl) = &declared {
                if !decl.contains(&n.as_str()) {
                    self.is.error(
                        f,
                        format!(
                            "{} is not a declared runtime{}",
                            q(&n),
                            suggest::suffix(&n, decl.iter().copied())
                        ),
                        "declare it under runtimes (name + token), or fix the name",
                    );
                    ok = false;
                    continue;
                }
            }
            if !names.contains(&n) {
                names.push(n);
            }
        }
        ok.then_some(TrustedRuntimes::Named(names))
    }

    fn ca_bundle(&mut self) -> Option<Option<PathBuf>> {
        let s = match self.merged.get("ca_bundle") {
            None => return Some(None),
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                self.is
                    .type_error("ca_bundle", "a path string to a PEM file", v);
                return None;
            }
        };
        let path = self.path_field("ca_bundle", &s)?;
        let note = self.note("ca_bundle");
        match inspect_ca_bundle(&path, self.fs) {
            Ok(stats) => {
                if stats.unparsable > 0 {
                    self.is.warn(
                        "ca_bundle",
                        format!(
                            "CA bundle {}{note}: {} section(s) could not be parsed and will be ignored",
                            path.display(),
                            stats.unparsable
                        ),
                        "remove or fix the broken PEM blocks",
                    );
                }
                if stats.expired > 0 {
                    self.is.warn(
                        "ca_bundle",
                        format!(
                            "CA bundle {}{note}: {} certificate(s) are outside their validity period",
                            path.display(),
                            stats.expired
                        ),
                        "replace expired roots; connections relying on them will fail",
                    );
                }
                if stats.private_keys > 0 {
                    self.is.warn(
                        "ca_bundle",
                        format!(
                            "CA bundle {}{note} contains a private key; it is ignored, but a bundle of trust roots \
                             should hold certificates only",
                            path.display()
                        ),
                        "remove the private key from that file and keep it somewhere private",
                    );
                }
                Some(Some(path))
            }
            Err((msg, hint)) => {
                self.is.error(
                    "ca_bundle",
                    format!("CA bundle {}{note} {msg}", path.display()),
                    hint,
                );
                None
            }
        }
    }

    fn upstream(&mut self) -> Option<Option<UpstreamProxy>> {
        match self.merged.get("upstream_proxy") {
            None => Some(None),
            Some(Value::String(s)) => match parse_upstream(s) {
                Ok(u) => Some(Some(u)),
                Err((msg, hint)) => {
                    let note = self.note("upstream_proxy");
                    self.is.error(
                        "upstream_proxy",
                        format!("upstream_proxy{note} {msg}"),
                        hint,
                    );
                    None
                }
            },
            Some(v) => {
                self.is.type_error(
                    "upstream_proxy",
                    "a URL string such as \"http://user:token@host:port\"",
                    v,
                );
                None
            }
        }
    }

    /// `inspect` (default true). `false` runs the bare proxy: nothing is
    /// scanned and nothing is found (a benchmarking baseline), said loudly.
    fn inspect(&mut self) -> Option<bool> {
        match self.merged.get("inspect") {
            None => Some(true),
            Some(Value::Bool(b)) => {
                if !*b {
                    self.is.warn(
                        "inspect",
                        "inspect is false: inspection OFF, benchmarking aid, finds nothing. Traffic is \
                         forwarded and counted but never scanned",
                        "remove \"inspect\": false (or --no-inspect) to detect secrets and injections again",
                    );
                }
                Some(*b)
            }
            Some(v) => {
                self.is.type_error("inspect", "a boolean", v);
                None
            }
        }
    }

    fn require_auth(
        &mut self,
        listen: Option<SocketAddr>,
        runtimes: Option<&[Runtime]>,
    ) -> Option<bool> {
        let explicit = match self.merged.get("require_auth") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => {
                self.is.type_error("require_auth", "a boolean", v);
                return None;
            }
        };
        let listen = listen?;
        let loopback = canonical(listen.ip()).is_loopback();
        if !loopback {
            self.is.warn(
                "listen",
                format!(
                    "listen address {listen} is not loopback: anything that can reach it can use the proxy. \
                     This is needed when containers cannot reach the host's loopback — on Docker/Linux \
                     containers reach the host through the docker0 bridge (e.g. 172.17.0.1) — and it is why \
                     runtime credentials are then required (see require_auth)"
                ),
                "bind to the bridge address rather than 0.0.0.0 where possible, firewall the port, and declare \
                 runtimes with tokens",
            );
        }
        let effective = explicit.unwrap_or(!loopback);
        // Count declared entries even if some are invalid: their own errors
        // say what is wrong, this check is about none being declared.
        let declared = match self.merged.get("runtimes") {
            Some(Value::Array(a)) => a.len(),
            _ => runtimes.map_or(0, <[Runtime]>::len),
        };
        if effective && declared == 0 {
            // Not an error: NanoClaw's integration mints and registers each
            // group's credential when its container starts (addRuntime), so
            // no group ever gets 407 for lack of a declared token.
            let why = if loopback {
                "require_auth is true".to_string()
            } else {
                format!(
                    "listen address {listen} is not loopback, so runtime credentials are required"
                )
            };
            self.is.warn(
                "require_auth",
                format!(
                    "{why} and no runtimes are declared: only containers wired at run time (NanoClaw's \
                     wireContainerArgs mints each group's credential) can use the proxy; any other client gets 407"
                ),
                "that is the normal NanoClaw setup; for other clients declare runtimes with tokens, e.g. \
                 \"runtimes\": [{\"name\": \"main\", \"token\": \"<openssl rand -hex 24>\"}], or set \
                 \"require_auth\": false explicitly",
            );
        }
        if !loopback && explicit == Some(false) {
            self.is.warn(
                "require_auth",
                format!(
                    "require_auth is false on the non-loopback address {listen}: any client that can reach it can \
                     relay traffic through the proxy, and findings are attributed to client addresses only"
                ),
                "declare runtimes with tokens and remove \"require_auth\": false",
            );
        }
        Some(effective)
    }

    /// A whole number in `[min, max]` inside a nested object.
    fn nested_bounded(
        &mut self,
        field: &str,
        v: Option<&Value>,
        default: u64,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        match v {
            None => Some(default),
            Some(Value::Number(n)) => match n.as_u64().filter(|n| (min..=max).contains(n)) {
                Some(n) => Some(n),
                None => {
                    self.is.error(
                        field,
                        format!("{field} is {n}, outside {min} – {max}"),
                        format!("use a whole number between {min} and {max}"),
                    );
                    None
                }
            },
            Some(v) => {
                self.is.type_error(field, "a whole number", v);
                None
            }
        }
    }

    /// `on_finding`: absent or null is no hook.
    fn on_finding(&mut self) -> Option<Option<FindingHook>> {
        let m = match self.merged.get("on_finding") {
            None | Some(Value::Null) => return Some(None),
            Some(Value::Object(m)) => m.clone(),
            Some(v) => {
                self.is.type_error(
                    "on_finding",
                    "an object {\"command\": [\"/absolute/path\", \"arg\", …], \"min_severity\", \"timeout_ms\", \"max_concurrent\", \"max_queue\"}",
                    v,
                );
                return None;
            }
        };
        let command = match m.get("command") {
            None => {
                self.is.error(
                    "on_finding.command",
                    "on_finding has no command",
                    "give the command as an array, e.g. \"command\": [\"/usr/local/bin/notify-finding\"]; it gets the redacted finding as JSON on stdin",
                );
                None
            }
            Some(v @ Value::Array(_)) => {
                let items = self.string_list("on_finding.command", Some(v));
                items.and_then(|items| self.hook_command(items))
            }
            Some(v) => {
                self.is.type_error(
                    "on_finding.command",
                    "an array of strings (argv; no shell), e.g. [\"/usr/local/bin/notify-finding\", \"--channel\", \"ops\"]",
                    v,
                );
                None
            }
        };
        let min_severity = match m.get("min_severity") {
            None => Some(DEFAULT_HOOK_MIN_SEVERITY),
            Some(Value::String(s)) => match s.parse::<crate::core::finding::Severity>() {
                Ok(sev) => Some(sev),
                Err(e) => {
                    self.is.error(
                        "on_finding.min_severity",
                        e.to_string(),
                        "use low, medium, high or critical (that level or worse runs the hook)",
                    );
                    None
                }
            },
            Some(v) => {
                self.is.type_error(
                    "on_finding.min_severity",
                    "a string (low, medium, high, critical)",
                    v,
                );
                None
            }
        };
        let timeout_ms = self.nested_bounded(
            "on_finding.timeout_ms",
            m.get("timeout_ms"),
            DEFAULT_HOOK_TIMEOUT_MS,
            MIN_HOOK_TIMEOUT_MS,
            MAX_HOOK_TIMEOUT_MS,
        );
        let max_concurrent = self.nested_bounded(
            "on_finding.max_concurrent",
            m.get("max_concurrent"),
            DEFAULT_HOOK_MAX_CONCURRENT,
            MIN_HOOK_MAX_CONCURRENT,
            MAX_HOOK_MAX_CONCURRENT,
        );
        let max_queue = self.nested_bounded(
            "on_finding.max_queue",
            m.get("max_queue"),
            DEFAULT_HOOK_MAX_QUEUE,
            MIN_HOOK_MAX_QUEUE,
            MAX_HOOK_MAX_QUEUE,
        );
        Some(Some(FindingHook {
            command: command?,
            min_severity: min_severity?,
            timeout_ms: timeout_ms?,
            max_concurrent: max_concurrent?,
            max_queue: max_queue?,
        }))
    }

    /// argv with an absolute, existing, executable first element (no PATH
    /// lookup, no shell). Looks at the filesystem read-only.
    fn hook_command(&mut self, items: Vec<(String, String)>) -> Option<Vec<String>> {
        let Some((_, program)) = items.first() else {
            self.is.error(
                "on_finding.command",
                "on_finding.command is empty",
                "give the program's absolute path first, e.g. [\"/usr/local/bin/notify-finding\"]",
            );
            return None;
        };
        if items.iter().any(|(_, a)| a.contains('\0')) {
            self.is.error(
                "on_finding.command",
                "on_finding.command contains a NUL character",
                "remove it",
            );
            return None;
        }
        let path = Path::new(program);
        if !path.is_absolute() {
            self.is.error(
                "on_finding.command[0]",
                format!("on_finding.command[0] {} is not an absolute path (the hook runs without a shell or PATH lookup)", q(program)),
                "give the full path, e.g. \"/usr/local/bin/notify-finding\" (`command -v NAME` prints it)",
            );
            return None;
        }
        match self.fs.metadata(path) {
            Ok(m) if m.kind == FileKind::Regular => {
                #[cfg(unix)]
                {
                    if m.mode & 0o111 == 0 {
                        self.is.error(
                            "on_finding.command[0]",
                            format!("{} is not executable", path.display()),
                            format!("chmod +x {}", path.display()),
                        );
                        return None;
                    }
                }
            }
            Ok(_) => {
                self.is.error(
                    "on_finding.command[0]",
                    format!("{} is not a file", path.display()),
                    "give the path of the program to run",
                );
                return None;
            }
            Err(e) => {
                self.is.error(
                    "on_finding.command[0]",
                    format!("cannot use {}: {e}", path.display()),
                    "check the path exists and is readable by the guardian's user",
                );
                return None;
            }
        }
        Some(items.into_iter().map(|(_, a)| a).collect())
    }

    /// `metrics_listen` (absent or null: off) and `metrics_allow_remote`.
    /// The metrics name rules, groups and traffic volumes, so they stay on
    /// loopback unless the operator explicitly allows another address.
    fn metrics(&mut self, listen: Option<SocketAddr>) -> Option<(Option<SocketAddr>, bool)> {
        let remote = match self.merged.get("metrics_allow_remote") {
            None => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => {
                self.is.type_error("metrics_allow_remote", "a boolean", v);
                None
            }
        };
        let raw = match self.merged.get("metrics_listen") {
            None | Some(Value::Null) => return remote.map(|r| (None, r)),
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                self.is.type_error(
                    "metrics_listen",
                    &format!(
                        "a string such as \"{EXAMPLE_METRICS_LISTEN}\" (or null for no metrics)"
                    ),
                    v,
                );
                return None;
            }
        };
        let note = self.note("metrics_listen");
        let addr = match parse_listen(&raw) {
            Ok(a) => a,
            Err((msg, _)) => {
                self.is.error(
                    "metrics_listen",
                    format!("metrics address{note} {msg}"),
                    format!("use host:port, e.g. \"{EXAMPLE_METRICS_LISTEN}\", or remove the key to serve no metrics"),
                );
                return None;
            }
        };
        let remote = remote?;
        if !canonical(addr.ip()).is_loopback() && !remote {
            self.is.error(
                "metrics_listen",
                format!(
                    "metrics address {addr}{note} is not loopback: the metrics name rules, groups and traffic \
                     volumes to anyone who can reach it"
                ),
                format!(
                    "use a loopback address such as \"{EXAMPLE_METRICS_LISTEN}\" and scrape through an SSH tunnel \
                     or a local agent, or set \"metrics_allow_remote\": true and firewall the port"
                ),
            );
            return None;
        }
        if let Some(l) = listen.filter(|l| l.port() != 0 && *l == addr) {
            self.is.error(
                "metrics_listen",
                format!("metrics address {addr} is the proxy's own listen address {l}"),
                format!("give the metrics their own port, e.g. \"{EXAMPLE_METRICS_LISTEN}\""),
            );
            return None;
        }
        Some((Some(addr), remote))
    }

    fn allow_private(&mut self) -> Option<Vec<AllowedDestination>> {
        let (items, mut ok) = self.string_items(
            "allow_private_destinations",
            self.merged.get("allow_private_destinations"),
        );
        let mut out = Vec::new();
        for (f, s) in items {
            match parse_allowed(&s) {
                Ok(a) => {
                    if covers_metadata(&a) {
                        self.is.warn(
                            f.clone(),
                            format!(
                                "{} lets containers reach a cloud metadata service, which hands out the host's \
                                 cloud credentials",
                                q(&s)
                            ),
                            "remove it unless a container truly needs the metadata service",
                        );
                    }
                    out.push(a);
                }
                Err((msg, hint)) => {
                    self.is.error(f, format!("{} {msg}", q(&s)), hint);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// The operator's `NAME=value` file: owner-only (0600) and well-formed.
    /// Read here only to check it; values are dropped at once and never
    /// appear in a message.
    fn known_secrets_file(&mut self) -> Option<Option<PathBuf>> {
        const KEY: &str = "known_secrets_file";
        let s = match self.merged.get(KEY) {
            None | Some(Value::Null) => return Some(None),
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                self.is.type_error(
                    KEY,
                    "a path string to a file of NAME=value lines (mode 0600)",
                    v,
                );
                return None;
            }
        };
        let path = self.path_field(KEY, &s)?;
        let note = self.note(KEY);
        let shown = path.display().to_string();
        let text = match self.fs.read_private_text(&path) {
            Ok(t) => t,
            Err((msg, hint)) => {
                self.is
                    .error(KEY, format!("{KEY} {shown}{note} {msg}"), hint);
                return None;
            }
        };
        let (pairs, errors, warnings) = crate::core::known_secrets::parse_secrets_file(&text);
        drop(pairs);
        drop(text);
        for w in warnings {
            self.is.warn(
                KEY,
                format!("{KEY} {shown} line {}: {}", w.line, w.message),
                "remove that line, or register a longer value",
            );
        }
        let ok = errors.is_empty();
        for e in errors {
            self.is.error(
                KEY,
                format!("{KEY} {shown} line {}: {}", e.line, e.message),
                "write one NAME=value per line (blank lines and # comments are allowed)",
            );
        }
        ok.then_some(Some(path))
    }

    fn known_secret_hosts(&mut self) -> Option<BTreeMap<String, Vec<HostPattern>>> {
        const KEY: &str = "known_secret_hosts";
        let m = match self.merged.get(KEY) {
            None => return Some(BTreeMap::new()),
            Some(Value::Object(m)) => m,
            Some(v) => {
                self.is.type_error(
                    KEY,
                    "an object mapping known secret names to lists of host names",
                    v,
                );
                return None;
            }
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (name, hosts) in m {
            let field = format!("{KEY}.{name}");
            if !crate::core::known_secrets::valid_name(name) {
                self.is.error(
                    &field,
                    format!("{KEY} has an invalid name {}", q(name)),
                    "use the NAME of a line of known_secrets_file (A-Z a-z 0-9 _ . -)",
                );
                ok = false;
                continue;
            }
            match self.host_list(&field, Some(hosts)) {
                Some(list) => {
                    out.insert(name.clone(), list);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn expected(&mut self) -> Option<BTreeMap<String, Vec<HostPattern>>> {
        let m = match self.merged.get("expected_destinations") {
            None => return Some(BTreeMap::new()),
            Some(Value::Object(m)) => m,
            Some(v) => {
                self.is.type_error(
                    "expected_destinations",
                    "an object mapping rule ids to lists of host names",
                    v,
                );
                return None;
            }
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (rule, hosts) in m {
            let field = format!("expected_destinations.{rule}");
            if rule.trim().is_empty() {
                self.is.error(
                    "expected_destinations",
                    "expected_destinations has an empty rule id",
                    "use a rule id such as \"ai_api_key\"",
                );
                ok = false;
                continue;
            }
            match self.host_list(&field, Some(hosts)) {
                Some(list) => {
                    out.insert(rule.clone(), list);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Read-only checks; `prepare_dirs` does the fixing at start.
    fn check_dir(&mut self, field: &str, dir: &Path) {
        match self.fs.metadata(dir) {
            Ok(meta) => {
                if meta.kind != FileKind::Dir {
                    self.is.error(
                        field,
                        format!("{field} {} exists but is not a directory", dir.display()),
                        "point it at a directory, or move that file away",
                    );
                    return;
                }
                #[cfg(unix)]
                {
                    let me = self.fs.euid();
                    if meta.uid != me {
                        self.is.error(
                            field,
                            format!(
                                "{field} {} is owned by uid {}, not by the current user (uid {me}); its owner could \
                                 read or alter the guardian's keys and findings",
                                dir.display(),
                                meta.uid
                            ),
                            "chown it to the user that runs NanoClaw, or choose another directory",
                        );
                        return;
                    }
                    if !self.fs.can_write_dir(dir) {
                        self.is.error(
                            field,
                            format!(
                                "{field} {} is not writable by the current user: it is on a read-only mount, or \
                                 its mode denies its owner write access",
                                dir.display()
                            ),
                            format!(
                                "on a read-only mount, set {field} to a writable directory; otherwise chmod u+rwx {}",
                                dir.display()
                            ),
                        );
                        return;
                    }
                    let mode = meta.mode & 0o777;
                    if mode & 0o077 != 0 {
                        self.is.warn(
                            field,
                            format!(
                                "{field} {} is too open (mode {mode:04o}); the guardian will tighten it to 0700 at \
                                 start",
                                dir.display()
                            ),
                            format!("chmod 700 {} (or let start do it)", dir.display()),
                        );
                    }
                }
            }
            Err(e) if missing(&e) => {
                let mut anc = dir.parent();
                while let Some(a) = anc {
                    match self.fs.metadata(a) {
                        Ok(m) if m.kind != FileKind::Dir => {
                            self.is.error(
                                field,
                                format!(
                                    "{field} {} cannot be created: {} is not a directory",
                                    dir.display(),
                                    a.display()
                                ),
                                "choose a path whose parents are directories",
                            );
                            return;
                        }
                        Ok(_) => {
                            if !self.fs.can_write_dir(a) {
                                self.is.error(
                                    field,
                                    format!(
                                        "{field} {} does not exist and cannot be created: its nearest existing \
                                         parent {} is not writable by the current user",
                                        dir.display(),
                                        a.display()
                                    ),
                                    "create it yourself with mode 0700, or choose a directory under one you own",
                                );
                            }
                            return;
                        }
                        Err(e) if missing(&e) => anc = a.parent(),
                        Err(e) => {
                            self.is.error(
                                field,
                                format!(
                                    "{field} {}: cannot inspect {}: {e}",
                                    dir.display(),
                                    a.display()
                                ),
                                "check the permissions of the parent directories",
                            );
                            return;
                        }
                    }
                }
            }
            Err(e) => self.is.error(
                field,
                format!("cannot inspect {field} {}: {e}", dir.display()),
                "check the permissions of the directory and its parents",
            ),
        }
    }
}

/// Not there (or a path component is a file, which the ancestor walk reports).
fn missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Renders a bound, with a binary unit for byte sizes.
fn human(n: u64, sizes: bool) -> String {
    if !sizes {
        return n.to_string();
    }
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (f, u) in UNITS {
        if n >= f && n.is_multiple_of(f) {
            return format!("{n} ({} {u})", n / f);
        }
    }
    n.to_string()
}

/// `1048576`, `512k`, `1m`, `1MiB`, `4MB`, `2 g`. Suffixes are binary
/// (1k = 1024): these are buffer limits, and operators mean powers of two.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = (s.get(..split)?, s.get(split..)?.trim());
    if num.is_empty() {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// `host:port`, `[v6]:port`, or `http://host:port[/]`. Hosts are IP
/// literals or `localhost` (the guardian binds; it does not resolve names).
pub(crate) fn parse_listen(raw: &str) -> Result<SocketAddr, (String, String)> {
    let s = raw.trim();
    let example = "write host:port, e.g. 127.0.0.1:8118, [::1]:8118 or http://172.17.0.1:8118";
    if s.is_empty() {
        return Err(("is empty".into(), example.into()));
    }
    if s.contains('@') {
        return Err((
            "contains credentials (user:password@); the listen address takes none".into(),
            "remove the user:password@ part — proxy credentials belong in runtimes[].token".into(),
        ));
    }
    let hostport = match s.find("://") {
        Some(i) => {
            let scheme = s.get(..i).unwrap_or("");
            if !scheme.eq_ignore_ascii_case("http") {
                return Err((
                    format!(
                        "uses the scheme {}; the guardian listens for plain HTTP proxy requests (HTTPS goes \
                         through CONNECT)",
                        q(scheme)
                    ),
                    "write http://host:port or host:port".into(),
                ));
            }
            let rest = s.get(i + 3..).unwrap_or("");
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            if rest.contains(['/', '?', '#']) {
                return Err((
                    "has a path, query or fragment; only host and port are used".into(),
                    example.into(),
                ));
            }
            rest
        }
        None => s,
    };
    let (host, port) = if let Some(after) = hostport.strip_prefix('[') {
        let Some((h, tail)) = after.split_once(']') else {
            return Err((
                "has an unclosed [ in its IPv6 address".into(),
                example.into(),
            ));
        };
        let Some(p) = tail.strip_prefix(':') else {
            return Err(("has no port".into(), example.into()));
        };
        let ip: Ipv6Addr = h.parse().map_err(|_| {
            (
                format!("has an invalid IPv6 address {}", q(h)),
                example.to_string(),
            )
        })?;
        (IpAddr::V6(ip), p)
    } else {
        let Some((h, p)) = hostport.rsplit_once(':') else {
            return Err(("has no port".into(), example.into()));
        };
        if h.contains(':') {
            return Err((
                "is an IPv6 address without brackets".into(),
                "put IPv6 addresses in brackets: [::1]:8118".into(),
            ));
        }
        let ip = if h.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            match h.parse::<Ipv4Addr>() {
                Ok(ip) => IpAddr::V4(ip),
                Err(_) => {
                    return Err((
                        format!("has host {} which is not an IP address; the guardian binds to an address, it does not resolve names", q(h)),
                        "use 127.0.0.1 (default), the docker0 bridge address such as 172.17.0.1, or 0.0.0.0 for all interfaces".into(),
                    ))
                }
            }
        };
        (ip, p)
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
        return Err((
            format!(
                "has port {} which is not a number between 0 and 65535",
                q(port)
            ),
            example.into(),
        ));
    }
    let port: u16 = port.parse().map_err(|_| {
        (
            format!(
                "has port {} which is not a number between 0 and 65535",
                q(port)
            ),
            example.to_string(),
        )
    })?;
    Ok(SocketAddr::new(host, port))
}

/// Validates an upstream proxy URL of the config, where the port is
/// always written. Errors never include the URL: it may carry credentials.
pub(crate) fn parse_upstream(raw: &str) -> Result<UpstreamProxy, (String, String)> {
    parse_upstream_url(raw, UpstreamPort::Required)
}

/// Whether an upstream proxy URL must name its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamPort {
    /// The config file: the port is always written.
    Required,
    /// A URL handed over at run time (a runtime's own gateway, whose URL
    /// went through WHATWG serialisation, which drops a default `:80`):
    /// a missing port is the scheme's default.
    SchemeDefault,
}

/// The one parser of upstream proxy URLs (`scheme://[user[:pass]@]host:port`):
/// userinfo is percent-decoded (RFC 3986). Errors never include the URL:
/// it may carry credentials.
pub fn parse_upstream_url(
    raw: &str,
    port_rule: UpstreamPort,
) -> Result<UpstreamProxy, (String, String)> {
    let hint = "write it as http://user:token@host:port (or https://…)".to_string();
    let s = raw.trim();
    let url =
        url::Url::parse(s).map_err(|e| (format!("is not a valid URL ({e})"), hint.clone()))?;
    let scheme = url.scheme().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(("must start with http:// or https://".into(), hint));
    }
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_string(),
        _ => return Err(("has no host".into(), hint)),
    };
    let port = match url.port() {
        Some(p) => p,
        None if authority_has_port(s) || port_rule == UpstreamPort::SchemeDefault => {
            url.port_or_known_default().unwrap_or(0)
        }
        None => return Err(("has no port".into(), hint)),
    };
    if !(url.path().is_empty() || url.path() == "/")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err((
            "has a path, query or fragment; a proxy URL is only scheme, credentials, host and port"
                .into(),
            hint,
        ));
    }
    let username = Some(percent_decode(url.username())).filter(|u| !u.is_empty());
    let password = url.password().map(|p| SecretString::new(percent_decode(p)));
    Ok(UpstreamProxy {
        scheme,
        host,
        port,
        username,
        password,
    })
}

/// Whether the authority of `scheme://authority/...` names a port, since
/// `Url::port` hides default ports such as `:80`.
fn authority_has_port(s: &str) -> bool {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = rest.get(..end).unwrap_or("");
    let hostport = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let after_host = match hostport.rfind(']') {
        Some(i) => hostport.get(i + 1..).unwrap_or(""),
        None => hostport
            .find(':')
            .and_then(|i| hostport.get(i..))
            .unwrap_or(""),
    };
    after_host
        .strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Decodes the `%XX` escapes of URL userinfo (invalid escapes stay as
/// written), with the scanner's percent decoder.
fn percent_decode(s: &str) -> String {
    match crate::core::decode::percent_decode(s.as_bytes()) {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => s.to_owned(),
    }
}

fn valid_runtime_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_RUNTIME_NAME_LEN
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

fn valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

/// `api.example.com`, `.example.com` (domain and subdomains), or an IP.
pub(crate) fn parse_host_pattern(raw: &str) -> Result<HostPattern, (String, String)> {
    let hint = "write a host name such as api.example.com, or .example.com for a domain and its subdomains";
    let s = raw.trim().to_ascii_lowercase();
    let s = s.strip_suffix('.').unwrap_or(&s);
    if let Some(rest) = s.strip_prefix("*.") {
        return Err((
            "uses a * wildcard".into(),
            format!("write .{rest} to match the domain and its subdomains"),
        ));
    }
    if s.contains("://") || s.contains('/') {
        return Err(("is a URL, not a host name".into(), hint.into()));
    }
    let bare = s.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(HostPattern::Exact(ip.to_string()));
    }
    if s.contains(':') {
        return Err((
            "includes a port; only the host name is matched".into(),
            hint.into(),
        ));
    }
    if let Some(rest) = s.strip_prefix('.') {
        if valid_hostname(rest) {
            return Ok(HostPattern::Suffix(rest.to_string()));
        }
    } else if valid_hostname(s) {
        return Ok(HostPattern::Exact(s.to_string()));
    }
    Err(("is not a valid host name".into(), hint.into()))
}

/// `host`, `host:port`, an IP, `[v6]:port`, or a CIDR.
pub(crate) fn parse_allowed(raw: &str) -> Result<AllowedDestination, (String, String)> {
    let hint = "write a host, host:port, an IP address, [v6]:port, or a CIDR such as 10.0.0.0/8";
    let s = raw.trim();
    let bad = |what: &str| Err((what.to_string(), hint.to_string()));
    if let Some((net, prefix)) = s.split_once('/') {
        let Ok(net) = net.parse::<IpAddr>() else {
            return bad("is not a CIDR: the address is invalid");
        };
        let max = if net.is_ipv4() { 32 } else { 128 };
        match prefix.parse::<u8>() {
            Ok(p) if p <= max => return Ok(AllowedDestination::Cidr { net, prefix: p }),
            _ => return bad("is not a CIDR: the prefix length is invalid"),
        }
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(AllowedDestination::Ip { ip, port: None });
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        if sa.port() == 0 {
            return bad("has port 0");
        }
        return Ok(AllowedDestination::Ip {
            ip: sa.ip(),
            port: Some(sa.port()),
        });
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => match p.parse::<u16>() {
            Ok(p) if p != 0 && !h.contains(':') => (h, Some(p)),
            _ => return bad("has an invalid port"),
        },
        None => (s, None),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if !valid_hostname(&host) {
        return bad("is not a valid host name");
    }
    Ok(AllowedDestination::Host { host, port })
}

fn covers_metadata(a: &AllowedDestination) -> bool {
    let meta_ips: [IpAddr; 2] = [
        IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
    ];
    match a {
        AllowedDestination::Host { host, .. } => {
            host == "metadata.google.internal" || host == "metadata" || host == "instance-data"
        }
        AllowedDestination::Ip { ip, .. } => meta_ips.iter().any(|m| canonical(*ip) == *m),
        AllowedDestination::Cidr { net, prefix } => {
            meta_ips.iter().any(|m| cidr_contains(*net, *prefix, *m))
        }
    }
}

#[derive(Debug, Default)]
struct BundleStats {
    certs: usize,
    unparsable: usize,
    expired: usize,
    private_keys: usize,
}

fn inspect_ca_bundle(path: &Path, fs: &dyn ConfigFs) -> Result<BundleStats, (String, String)> {
    let meta = fs.metadata(path).map_err(|e| {
        (
            format!("cannot be read: {e}"),
            "check the path and its permissions".to_string(),
        )
    })?;
    if meta.kind == FileKind::Dir {
        return Err(("is a directory".into(), "point at a PEM file".into()));
    }
    // Devices and FIFOs report no size and can block or never end.
    if meta.kind != FileKind::Regular {
        return Err(("is not a regular file".into(), "point at a PEM file".into()));
    }
    if meta.len > MAX_CA_BUNDLE_BYTES {
        return Err((
            format!("is {} bytes; the limit is {MAX_CA_BUNDLE_BYTES}", meta.len),
            "give a PEM bundle of the extra roots only".into(),
        ));
    }
    let bytes = fs.read_bounded(path, MAX_CA_BUNDLE_BYTES).map_err(|e| {
        (
            format!("cannot be read: {e}"),
            "check its permissions".to_string(),
        )
    })?;
    let now = x509_parser::time::ASN1Time::from_timestamp(fs.now_unix()).ok();
    let mut stats = BundleStats::default();
    let mut rd: &[u8] = &bytes;
    for item in rustls_pemfile::read_all(&mut rd) {
        match item {
            Ok(rustls_pemfile::Item::X509Certificate(der)) => {
                match x509_parser::parse_x509_certificate(der.as_ref()) {
                    Ok((_, cert)) => {
                        stats.certs += 1;
                        if now.is_some_and(|t| !cert.validity().is_valid_at(t)) {
                            stats.expired += 1;
                        }
                    }
                    Err(_) => stats.unparsable += 1,
                }
            }
            Ok(
                rustls_pemfile::Item::Pkcs1Key(_)
                | rustls_pemfile::Item::Pkcs8Key(_)
                | rustls_pemfile::Item::Sec1Key(_),
            ) => stats.private_keys += 1,
            Ok(_) => {}
            Err(_) => {
                // A malformed section: count it and stop, the rest of the
                // stream cannot be trusted to be aligned.
                stats.unparsable += 1;
                break;
            }
        }
    }
    if stats.certs == 0 {
        return Err((
            "contains no parsable certificate".into(),
            "give a PEM file with one or more -----BEGIN CERTIFICATE----- blocks (DER files are not accepted)".into(),
        ));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    //! The validator against an in-memory filesystem: it sees files only
    //! through the port, so facts no test user could set up on a real disk
    //! (another owner, a FIFO) are plain data here. The tests against real
    //! temp dirs are in `storage/config_fs/tests.rs`.

    use super::super::port::FileFacts;
    use super::*;
    use std::cell::RefCell;
    use std::io;

    const ME: u32 = 1000;

    #[derive(Default)]
    struct MemFs {
        entries: BTreeMap<PathBuf, (FileFacts, Vec<u8>)>,
        reads: RefCell<Vec<PathBuf>>,
    }

    impl MemFs {
        fn dir(mut self, p: &str, mode: u32, uid: u32) -> Self {
            let f = FileFacts {
                kind: FileKind::Dir,
                mode,
                uid,
                len: 0,
            };
            self.entries.insert(PathBuf::from(p), (f, Vec::new()));
            self
        }
        fn file(mut self, p: &str, kind: FileKind, mode: u32, body: &str) -> Self {
            let f = FileFacts {
                kind,
                mode,
                uid: ME,
                len: body.len() as u64,
            };
            self.entries
                .insert(PathBuf::from(p), (f, body.as_bytes().to_vec()));
            self
        }
    }

    impl ConfigFs for MemFs {
        fn metadata(&self, path: &Path) -> io::Result<FileFacts> {
            self.entries
                .get(path)
                .map(|e| e.0)
                .ok_or_else(|| io::ErrorKind::NotFound.into())
        }
        fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
            self.reads.borrow_mut().push(path.to_path_buf());
            let (_, body) = self.entries.get(path).ok_or(io::ErrorKind::NotFound)?;
            Ok(body.iter().take(limit as usize).copied().collect())
        }
        fn read_private_text(&self, path: &Path) -> Result<String, (String, String)> {
            self.reads.borrow_mut().push(path.to_path_buf());
            Err(("is not here".into(), "none".into()))
        }
        fn working_dir(&self) -> io::Result<PathBuf> {
            Ok(PathBuf::from("/work"))
        }
        fn euid(&self) -> u32 {
            ME
        }
        fn now_unix(&self) -> i64 {
            1_800_000_000
        }
        fn can_write_dir(&self, path: &Path) -> bool {
            self.metadata(path).is_ok_and(|f| f.mode & 0o200 != 0)
        }
    }

    fn input(pairs: &[(&str, &str)]) -> ConfigInput {
        ConfigInput {
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ConfigInput::default()
        }
    }

    #[test]
    fn files_are_seen_only_through_the_port() {
        let fs = MemFs::default()
            .dir("/g", 0o700, ME)
            .dir("/work", 0o755, ME)
            .file(
                "/work/c.json",
                FileKind::Regular,
                0o600,
                r#"{"mode": "detect"}"#,
            );
        let r = run(&input(&[(ENV_HOME, "/g"), (ENV_CONFIG, "c.json")]), &fs);
        assert!(r.ok, "{:?}", r.errors);
        assert_eq!(r.sources, vec!["defaults", "file:/work/c.json", "env"]);
        assert_eq!(*fs.reads.borrow(), vec![PathBuf::from("/work/c.json")]);
    }

    #[test]
    fn a_fifo_is_refused_unread_and_a_home_of_another_owner_is_an_error() {
        let fs = MemFs::default().dir("/g", 0o700, ME + 1).file(
            "/g/config.json",
            FileKind::Other,
            0o600,
            "{}",
        );
        let r = run(&input(&[(ENV_HOME, "/g")]), &fs);
        assert!(fs.reads.borrow().is_empty(), "{:?}", fs.reads.borrow());
        let msgs: Vec<&str> = r.errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            msgs.contains(&"config file /g/config.json is not a regular file"),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m
                    .contains("home /g is owned by uid 1001, not by the current user (uid 1000)")),
            "{msgs:?}"
        );
    }
}
