//! Tests of the whole check against the real filesystem: every error and
//! warning, precedence, masking, filesystem checks against real temp dirs.

use std::collections::BTreeMap;
use std::fs;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;
use crate::core::config::*;
use crate::storage::prepare_dirs;

/// A fake runtime token in the real format (`openssl rand -hex 24`),
/// different on every call and every run.
fn fake_token() -> String {
    crate::system::expand_template("«hex:48»").text
}

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
}

impl Env {
    /// A private temp root with `user/` as $HOME and `guardian/` (0700) as home.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
        fs::create_dir(root.join("user")).unwrap();
        let home = root.join("guardian");
        fs::create_dir(&home).unwrap();
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).unwrap();
        Env {
            _dir: dir,
            root,
            home,
        }
    }

    fn input(&self) -> ConfigInput {
        let mut env = BTreeMap::new();
        env.insert(
            "HOME".to_string(),
            self.root.join("user").display().to_string(),
        );
        env.insert(ENV_HOME.to_string(), self.home.display().to_string());
        ConfigInput {
            env,
            config_path: None,
            overrides: Value::Null,
        }
    }

    fn with(&self, overrides: Value) -> ConfigReport {
        let mut i = self.input();
        i.overrides = overrides;
        check(&i)
    }

    fn write_config(&self, name: &str, v: &str) -> PathBuf {
        let p = self.root.join(name);
        fs::write(&p, v).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        p
    }
}

fn errs<'a>(r: &'a ConfigReport, field: &str) -> Vec<&'a ConfigIssue> {
    r.errors.iter().filter(|i| i.field == field).collect()
}

fn warns<'a>(r: &'a ConfigReport, field: &str) -> Vec<&'a ConfigIssue> {
    r.warnings.iter().filter(|i| i.field == field).collect()
}

#[track_caller]
fn assert_err(r: &ConfigReport, field: &str, needle: &str) -> ConfigIssue {
    let found = errs(r, field);
    let hit = found
        .iter()
        .find(|i| i.message.contains(needle) || i.hint.contains(needle));
    match hit {
        Some(i) => {
            assert!(!r.ok && r.config.is_none());
            assert!(!i.hint.is_empty(), "every issue has a hint: {i:?}");
            (*i).clone()
        }
        None => panic!(
            "no error on {field} containing {needle:?}; errors: {:#?}",
            r.errors
        ),
    }
}

#[track_caller]
fn assert_warn(r: &ConfigReport, field: &str, needle: &str) -> ConfigIssue {
    match warns(r, field).iter().find(|i| i.message.contains(needle)) {
        Some(i) => (*i).clone(),
        None => panic!(
            "no warning on {field} containing {needle:?}; warnings: {:#?}",
            r.warnings
        ),
    }
}

#[track_caller]
fn assert_ok(r: &ConfigReport) -> &GuardianConfig {
    assert!(r.ok, "expected ok, errors: {:#?}", r.errors);
    r.config.as_ref().unwrap()
}

#[test]
fn defaults_without_any_config() {
    let e = Env::new();
    let mut i = e.input();
    i.env.remove(ENV_HOME);
    let r = check(&i);
    let c = assert_ok(&r);
    assert_eq!(c.mode, Mode::Off);
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.home, e.root.join("user").join(DEFAULT_HOME_SUBDIR));
    assert_eq!(c.log_dir, c.home.join(DEFAULT_LOG_SUBDIR));
    assert_eq!(c.max_scan_bytes as u64, DEFAULT_MAX_SCAN_BYTES);
    assert_eq!(c.redact_snippets, SnippetMode::Full);
    assert_eq!(c.mitm, MitmConfig::default());
    assert!(!c.require_auth);
    assert_eq!(c.dedup_window_secs, DEFAULT_DEDUP_WINDOW_SECS);
    assert_eq!(c.rotate_bytes, DEFAULT_ROTATE_BYTES);
    assert_eq!(u64::from(c.rotate_keep), DEFAULT_ROTATE_KEEP);
    assert_eq!(c.ring_capacity as u64, DEFAULT_RING_CAPACITY);
    assert_eq!(c.shutdown_grace_ms, DEFAULT_SHUTDOWN_GRACE_MS);
    assert_eq!(r.sources, vec!["defaults"]);
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
    // effective shows every key with its default.
    let eff = r.effective.as_object().unwrap();
    for &k in TOP_LEVEL_KEYS.iter() {
        assert!(eff.contains_key(k), "effective lacks {k}: {eff:?}");
    }
    assert_eq!(eff.len(), TOP_LEVEL_KEYS.len());
    assert!(eff["ca_bundle"].is_null() && eff["upstream_proxy"].is_null());
    assert_eq!(eff["mode"], "off");
    assert_eq!(eff["listen"], DEFAULT_LISTEN);
    assert_eq!(eff["home"], json!(c.home));
    assert_eq!(eff["max_scan_bytes"], 1048576);
    assert_eq!(eff["require_auth"], false);
    assert_eq!(
        eff["mitm"],
        json!({"enabled": false, "trusted_runtimes": [], "exclude_hosts": []})
    );
    // check created nothing.
    assert!(!c.home.exists());
}

#[test]
fn no_home_at_all_is_an_error() {
    let r = check(&ConfigInput::default());
    assert_err(
        &r,
        "home",
        "neither NANOCLAW_TRAFFIC_GUARDIAN_HOME nor HOME",
    );
}

#[test]
fn block_and_other_modes_are_rejected() {
    let e = Env::new();
    for bad in ["block", "BLOCK", "enforce", "detetc", ""] {
        let r = e.with(json!({ "mode": bad }));
        let i = assert_err(&r, "mode", "blocking does not exist in this version");
        assert!(i.message.contains("detect-and-log only"), "{i:?}");
        assert!(i.hint.contains("use \"detect\""), "{i:?}");
    }
    let mut i = e.input();
    i.env.insert(ENV_MODE.into(), "block".into());
    let r = check(&i);
    assert_err(&r, "mode", "(from NANOCLAW_TRAFFIC_GUARDIAN_MODE)");
    assert_eq!(
        assert_ok(&e.with(json!({"mode": " Detect "}))).mode,
        Mode::Detect
    );
    assert_err(&e.with(json!({"mode": true})), "mode", "must be a string");
}

#[test]
fn precedence_file_env_overrides() {
    let e = Env::new();
    let file = e.write_config(
        "cfg.json",
        r#"{"mode":"detect","listen":"127.0.0.1:9001","max_scan_bytes":2048,"redact_snippets":"short"}"#,
    );
    let mut i = e.input();
    i.config_path = Some(file.clone());
    let r = check(&i);
    let c = assert_ok(&r);
    assert_eq!(c.listen.port(), 9001);
    // NANOCLAW_TRAFFIC_GUARDIAN_HOME is set, so env contributes too.
    assert_eq!(
        r.sources,
        vec![
            "defaults".to_string(),
            format!("file:{}", file.display()),
            "env".to_string()
        ]
    );

    i.env
        .insert(ENV_PROXY_URL.into(), "http://127.0.0.1:9002".into());
    i.env.insert(ENV_REDACT_SNIPPETS.into(), "false".into());
    let r = check(&i);
    let c = assert_ok(&r);
    assert_eq!(c.listen.port(), 9002, "env beats file");
    assert_eq!(c.redact_snippets, SnippetMode::None, "env beats file");
    assert_eq!(c.max_scan_bytes, 2048, "file beats defaults");
    assert_eq!(c.mode, Mode::Detect);

    i.overrides = json!({"listen": "127.0.0.1:9003", "redact_snippets": "full"});
    let r = check(&i);
    let c = assert_ok(&r);
    assert_eq!(c.listen.port(), 9003, "overrides beat env");
    assert_eq!(c.redact_snippets, SnippetMode::Full);
    assert_eq!(r.sources.last().map(String::as_str), Some("overrides"));
    assert!(r.sources.contains(&"env".to_string()));

    // null in overrides resets to the default, whatever lower layers said.
    i.overrides = json!({"listen": null});
    assert_eq!(assert_ok(&check(&i)).listen.to_string(), DEFAULT_LISTEN);
}

#[test]
fn config_file_discovery_and_errors() {
    let e = Env::new();
    // <home>/config.json is picked up when present.
    fs::write(
        e.home.join(DEFAULT_CONFIG_FILE_NAME),
        r#"{"mode": "detect"}"#,
    )
    .unwrap();
    let r = check(&e.input());
    assert_eq!(assert_ok(&r).mode, Mode::Detect);
    assert!(r.sources.iter().any(|s| s.ends_with("config.json")));

    // An explicitly named file that is missing is an error (env or input).
    let mut i = e.input();
    i.env.insert(
        ENV_CONFIG.into(),
        e.root.join("nope.json").display().to_string(),
    );
    assert_err(&check(&i), "config_file", "does not exist");
    let mut i = e.input();
    i.config_path = Some(e.root.join("missing.json"));
    assert_err(&check(&i), "config_file", "does not exist");

    // env _CONFIG is used.
    let p = e.write_config("env.json", r#"{"rotate_keep": 7}"#);
    let mut i = e.input();
    i.env.insert(ENV_CONFIG.into(), p.display().to_string());
    assert_eq!(assert_ok(&check(&i)).rotate_keep, 7);

    // Syntax errors carry line and column.
    let p = e.write_config("bad.json", "{\n  \"mode\": \"detect\",\n}\n");
    let mut i = e.input();
    i.config_path = Some(p);
    let issue = assert_err(
        &check(&i),
        "config_file",
        "is not valid JSON at line 3, column 1",
    );
    assert!(issue.message.contains("line 3"));

    let p = e.write_config("arr.json", "[1,2]");
    let mut i = e.input();
    i.config_path = Some(p);
    assert_err(&check(&i), "config_file", "must hold a JSON object");

    let mut i = e.input();
    i.config_path = Some(e.root.clone());
    assert_err(&check(&i), "config_file", "is a directory");
}

#[test]
fn config_file_permission_warnings() {
    let e = Env::new();
    let t = fake_token();
    let p = e.write_config(
        "c.json",
        &json!({"runtimes": [{"name": "main", "token": t}]}).to_string(),
    );
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    let mut i = e.input();
    i.config_path = Some(p.clone());
    let r = check(&i);
    assert_ok(&r);
    assert_warn(
        &r,
        "config_file",
        "holds credentials and is readable by other users",
    );
    // World-writable: anyone could rewrite it, so it is refused.
    fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).unwrap();
    let e = assert_err(&check(&i), "config_file", "writable by every user");
    assert!(
        e.hint.contains(&format!("chmod 600 {}", p.display())),
        "{e:?}"
    );
    fs::set_permissions(&p, fs::Permissions::from_mode(0o620)).unwrap();
    assert_warn(&check(&i), "config_file", "writable by its group");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(warns(&check(&i), "config_file").is_empty());
}

#[test]
fn unknown_keys_get_did_you_mean() {
    let e = Env::new();
    let p = e.write_config(
        "c.json",
        r#"{"max_scan_byte": 2048, "mitm": {"enabeld": true}, "runtimes": [{"name": "main", "tokn": "x"}]}"#,
    );
    let mut i = e.input();
    i.config_path = Some(p);
    let r = check(&i);
    let issue = assert_err(&r, "max_scan_byte", "unknown key");
    assert!(
        issue
            .message
            .starts_with("unknown key \"max_scan_byte\" — did you mean \"max_scan_bytes\"?"),
        "{issue:?}"
    );
    assert_err(&r, "mitm.enabeld", "did you mean \"enabled\"?");
    assert_err(&r, "runtimes[0].tokn", "did you mean \"token\"?");

    let r = e.with(json!({"lsiten": "127.0.0.1:1", "totally_different": 1}));
    assert_err(&r, "lsiten", "did you mean \"listen\"?");
    let far = assert_err(&r, "totally_different", "unknown key");
    assert!(!far.message.contains("did you mean"));
    assert!(far.hint.contains("known keys here"));

    let r = e.with(json!({"maxScanBytes": 2048}));
    assert_err(&r, "maxScanBytes", "did you mean \"max_scan_bytes\"?");

    let mut i = e.input();
    i.env.insert(
        "NANOCLAW_TRAFFIC_GUARDIAN_MAX_SCAN_BYTE".into(),
        "1m".into(),
    );
    let r = check(&i);
    assert!(r.ok);
    assert_warn(
        &r,
        "NANOCLAW_TRAFFIC_GUARDIAN_MAX_SCAN_BYTE",
        "did you mean \"NANOCLAW_TRAFFIC_GUARDIAN_MAX_SCAN_BYTES\"?",
    );
    // The documented diagnostics variable is known, not "did you mean HOME".
    let mut i = e.input();
    i.env
        .insert("NANOCLAW_TRAFFIC_GUARDIAN_LOG".into(), "debug".into());
    let r = check(&i);
    assert!(
        r.warnings
            .iter()
            .all(|w| !w.field.contains("NANOCLAW_TRAFFIC_GUARDIAN_LOG")),
        "{:#?}",
        r.warnings
    );

    assert_err(&e.with(json!([1])), "overrides", "must be a JSON object");
}

#[test]
fn wrong_types_name_field_and_type() {
    let e = Env::new();
    let r = e.with(json!({
        "listen": 8118, "mitm": {"enabled": "yes"}, "max_scan_bytes": true, "runtimes": {},
        "require_auth": "no", "rotate_keep": -1, "ring_capacity": 1.5, "home": 3,
        "expected_destinations": [], "allow_private_destinations": "localhost", "upstream_proxy": 1,
        "ca_bundle": false, "redact_snippets": false, "dedup_window_secs": "300"
    }));
    assert_err(&r, "listen", "listen must be a string");
    assert_err(
        &r,
        "mitm.enabled",
        "mitm.enabled must be a boolean, got a string",
    );
    assert_err(&r, "max_scan_bytes", "must be an integer or a size string");
    assert_err(&r, "runtimes", "must be an array");
    assert_err(&r, "require_auth", "must be a boolean");
    assert_err(&r, "rotate_keep", "whole number");
    assert_err(&r, "ring_capacity", "whole number");
    assert_err(&r, "home", "must be a directory path string");
    assert_err(&r, "expected_destinations", "must be an object");
    assert_err(
        &r,
        "allow_private_destinations",
        "must be an array of strings",
    );
    assert_err(&r, "upstream_proxy", "must be a URL string");
    assert_err(&r, "ca_bundle", "must be a path string");
    assert_err(&r, "redact_snippets", "must be a string");
    assert_err(&r, "dedup_window_secs", "must be an integer, got a string");
    assert_err(&e.with(json!({"mitm": []})), "mitm", "must be an object");
    assert_err(
        &e.with(json!({"mitm": {"trusted_runtimes": [1]}})),
        "mitm.trusted_runtimes[0]",
        "must be a string",
    );
}

/// The raw definition (schema, README table, known keys) and the
/// validator agree: a config setting every key passes both, and each wrong
/// type the validator names also fails the schema's types at that path.
#[test]
fn raw_definition_agrees_with_validator() {
    let e = Env::new();
    let full = json!({
        "$schema": "./config.schema.json",
        "mode": "detect", "listen": "127.0.0.1:0", "home": e.home, "log_dir": e.home.join("logs"),
        "max_scan_bytes": "2m", "redact_snippets": "short",
        "mitm": {"enabled": true, "trusted_runtimes": ["main"], "exclude_hosts": [".example.com"]},
        "upstream_proxy": "http://127.0.0.1:3128",
        "runtimes": [{"name": "main", "token": fake_token()}], "require_auth": true,
        "allow_private_destinations": ["localhost:3000"],
        "expected_destinations": {"openai_api_key": ["api.example.com"]},
        "dedup_window_secs": 60, "rotate_bytes": 1048576, "rotate_keep": 3, "ring_capacity": 500,
        "shutdown_grace_ms": 100, "metrics_listen": "127.0.0.1:0", "metrics_allow_remote": false,
        "on_finding": {"command": ["/bin/true"], "min_severity": "critical", "timeout_ms": 1000,
                       "max_concurrent": 1, "max_queue": 5},
        "model_text": "full", "model_hosts": ["llm.example.com"], "inspect": true,
        "scan_priority": "normal",
        "known_secret_hosts": {"DB_PASSWORD": ["db.example.com"]},
        "exfil_window_secs": 600, "exfil_dest_bytes": "512m", "exfil_group_bytes": 1073741824,
        "exfil_dest_fragments": 200, "exfil_dns_labels": 30
    });
    let keys = full.as_object().unwrap();
    // Every key but the two files that must exist on disk.
    assert_eq!(keys.len() + 2, TOP_LEVEL_KEYS.len() + 1);
    let r = e.with(full.clone());
    assert!(r.ok, "{:#?}", r.errors);
    assert_eq!(crate::core::config::shape_check(&full), Ok(()));

    for (key, bad, path) in [
        ("listen", json!(8118), "listen"),
        ("mitm", json!({"enabled": "yes"}), "mitm.enabled"),
        ("max_scan_bytes", json!(true), "max_scan_bytes"),
        ("runtimes", json!({}), "runtimes"),
        ("require_auth", json!("no"), "require_auth"),
        ("rotate_keep", json!(-1), "rotate_keep"),
        ("ring_capacity", json!(1.5), "ring_capacity"),
        ("home", json!(3), "home"),
        ("expected_destinations", json!([]), "expected_destinations"),
        (
            "allow_private_destinations",
            json!("localhost"),
            "allow_private_destinations",
        ),
        ("upstream_proxy", json!(1), "upstream_proxy"),
        ("ca_bundle", json!(false), "ca_bundle"),
        ("redact_snippets", json!(false), "redact_snippets"),
        ("dedup_window_secs", json!("300"), "dedup_window_secs"),
        ("mitm", json!([]), "mitm"),
        (
            "mitm",
            json!({"trusted_runtimes": [1]}),
            "mitm.trusted_runtimes[0]",
        ),
        (
            "on_finding",
            json!({"command": "/bin/true"}),
            "on_finding.command",
        ),
        ("model_text", json!(1), "model_text"),
        ("scan_priority", json!(1), "scan_priority"),
    ] {
        let one = json!({ key: bad });
        assert_eq!(
            crate::core::config::shape_check(&one).map_err(|p| p.replace(".[", "[")),
            Err(path.to_string()),
            "{one}"
        );
        assert_err(&e.with(one), path, "must be");
    }
    // Unknown keys are unknown to both.
    assert!(crate::core::config::shape_check(&json!({"lsiten": 1})).is_err());
}

/// The scan threads' priority: background unless told, the value checked
/// with the field named and the two choices explained.
#[test]
fn scan_priority_defaults_to_background_and_names_its_choices() {
    use crate::core::config::ScanPriority;
    let e = Env::new();
    let r = e.with(json!({}));
    assert_eq!(assert_ok(&r).scan_priority, ScanPriority::Background);
    let r = e.with(json!({"scan_priority": " Normal "}));
    assert_eq!(assert_ok(&r).scan_priority, ScanPriority::Normal);
    let issue = assert_err(
        &e.with(json!({"scan_priority": "backgruond"})),
        "scan_priority",
        "is not one of",
    );
    assert!(issue.message.contains("\"background\""), "{issue:?}");
    assert!(issue.hint.contains("unscanned"), "{issue:?}");
}

#[test]
fn schema_lists_every_key_with_docs_defaults_and_env() {
    let schema: Value = serde_json::from_str(&json_schema()).unwrap();
    let props = schema["properties"].as_object().unwrap();
    let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
    keys.retain(|k| *k != "$schema");
    let mut known = TOP_LEVEL_KEYS.clone();
    keys.sort_unstable();
    known.sort_unstable();
    assert_eq!(keys, known);
    assert_eq!(schema["additionalProperties"], false);
    for (k, p) in props {
        let d = p["description"].as_str().unwrap_or_default();
        assert!(d.len() > 10, "{k} has no description: {p}");
    }
    assert_eq!(props["max_scan_bytes"]["default"], DEFAULT_MAX_SCAN_BYTES);
    assert_eq!(props["max_scan_bytes"]["maximum"], MAX_MAX_SCAN_BYTES);
    assert_eq!(props["listen"]["x-env"], ENV_PROXY_URL);
    assert_eq!(props["mode"]["default"], "off");
    for (var, key) in ENV_KEYS {
        assert_eq!(props[key]["x-env"], var, "{key}");
    }
}

#[test]
fn size_suffixes_and_bounds() {
    use crate::core::config::parse_size;
    assert_eq!(parse_size("1048576"), Some(1048576));
    assert_eq!(parse_size("512k"), Some(512 * 1024));
    assert_eq!(parse_size("1m"), Some(1 << 20));
    assert_eq!(parse_size("1MiB"), Some(1 << 20));
    assert_eq!(parse_size("4MB"), Some(4 << 20));
    assert_eq!(parse_size(" 2 g "), Some(2 << 30));
    assert_eq!(parse_size("0.5m"), None);
    assert_eq!(parse_size("m"), None);
    assert_eq!(parse_size("12 parsecs"), None);
    assert_eq!(parse_size("99999999999999999999k"), None);

    let e = Env::new();
    let mut i = e.input();
    i.env.insert(ENV_MAX_SCAN_BYTES.into(), "512k".into());
    assert_eq!(assert_ok(&check(&i)).max_scan_bytes, 512 * 1024);
    i.env.insert(ENV_MAX_SCAN_BYTES.into(), "lots".into());
    assert_err(&check(&i), "max_scan_bytes", "is not a size");
    for bad in [json!(512), json!("65m"), json!(0)] {
        let r = e.with(json!({ "max_scan_bytes": bad }));
        let issue = assert_err(&r, "max_scan_bytes", "out of bounds");
        assert!(
            issue.message.contains("1024") && issue.message.contains("67108864 (64 MiB)"),
            "{issue:?}"
        );
    }
    assert_eq!(
        assert_ok(&e.with(json!({"max_scan_bytes": "64MiB"}))).max_scan_bytes,
        64 << 20
    );
    assert_eq!(
        assert_ok(&e.with(json!({"max_scan_bytes": 1024}))).max_scan_bytes,
        1024
    );
    assert_eq!(
        assert_ok(&e.with(json!({"rotate_bytes": "64k"}))).rotate_bytes,
        65536
    );
}

#[test]
fn other_numeric_bounds() {
    let e = Env::new();
    for (k, bad, good) in [
        ("dedup_window_secs", json!(86401), json!(0)),
        ("rotate_bytes", json!("32k"), json!("1g")),
        ("rotate_keep", json!(0), json!(100)),
        ("ring_capacity", json!(99), json!(1_000_000)),
        ("shutdown_grace_ms", json!(60001), json!(0)),
    ] {
        assert_err(&e.with(json!({ k: bad })), k, "out of bounds");
        let r = e.with(json!({ k: good }));
        assert_ok(&r);
    }
}

#[test]
fn listen_forms() {
    let e = Env::new();
    for (raw, want) in [
        ("127.0.0.1:8118", "127.0.0.1:8118"),
        ("http://127.0.0.1:9000", "127.0.0.1:9000"),
        ("HTTP://127.0.0.1:9000/", "127.0.0.1:9000"),
        ("[::1]:0", "[::1]:0"),
        ("http://[::1]:8118", "[::1]:8118"),
        ("localhost:7000", "127.0.0.1:7000"),
    ] {
        let r = e.with(json!({ "listen": raw }));
        assert_eq!(assert_ok(&r).listen.to_string(), want, "{raw}");
        assert_eq!(r.effective["listen"], want);
    }
    for (raw, needle) in [
        ("127.0.0.1", "has no port"),
        ("127.0.0.1:70000", "not a number between 0 and 65535"),
        ("127.0.0.1:", "not a number"),
        ("::1:8118", "without brackets"),
        ("[::1:8118", "unclosed"),
        ("[::zz]:1", "invalid IPv6"),
        ("https://127.0.0.1:8118", "plain HTTP"),
        ("example.com:80", "not an IP address"),
        ("http://127.0.0.1:8118/path", "path"),
        ("", "is empty"),
    ] {
        assert_err(&e.with(json!({ "listen": raw })), "listen", needle);
    }
    let t = fake_token();
    let r = e.with(json!({ "listen": format!("http://u:{t}@127.0.0.1:1") }));
    assert_err(&r, "listen", "contains credentials");
    assert!(!serde_json::to_string(&r).unwrap().contains(&t));
    assert_eq!(r.effective["listen"], MASK);
}

#[test]
fn metrics_are_off_by_default_and_loopback_unless_allowed() {
    let e = Env::new();
    let r = e.with(json!({}));
    let c = assert_ok(&r);
    assert_eq!((c.metrics_listen, c.metrics_allow_remote), (None, false));
    assert!(r.effective["metrics_listen"].is_null());
    assert_eq!(r.effective["metrics_allow_remote"], false);
    assert!(assert_ok(&e.with(json!({ "metrics_listen": null })))
        .metrics_listen
        .is_none());
    for raw in [EXAMPLE_METRICS_LISTEN, "[::1]:0", "localhost:9100"] {
        let r = e.with(json!({ "metrics_listen": raw }));
        let c = assert_ok(&r);
        assert!(
            c.metrics_listen.is_some_and(|a| a.ip().is_loopback()),
            "{raw}"
        );
        assert_eq!(
            r.effective["metrics_listen"],
            json!(c.metrics_listen.map(|a| a.to_string()))
        );
    }
    // Not loopback: refused with the two ways out.
    let i = assert_err(
        &e.with(json!({ "metrics_listen": "0.0.0.0:9464" })),
        "metrics_listen",
        "is not loopback",
    );
    assert!(
        i.hint.contains("127.0.0.1:9464") && i.hint.contains("metrics_allow_remote"),
        "{}",
        i.hint
    );
    let r = e.with(json!({ "metrics_listen": "0.0.0.0:9464", "metrics_allow_remote": true }));
    assert_eq!(assert_ok(&r).metrics_listen.map(|a| a.port()), Some(9464));
    // The proxy's own address, bad forms and types.
    assert_err(
        &e.with(json!({ "listen": "127.0.0.1:9464", "metrics_listen": "127.0.0.1:9464" })),
        "metrics_listen",
        "the proxy's own listen address",
    );
    assert_err(
        &e.with(json!({ "metrics_listen": "127.0.0.1" })),
        "metrics_listen",
        "has no port",
    );
    assert_err(
        &e.with(json!({ "metrics_listen": 9464 })),
        "metrics_listen",
        "must be a string",
    );
    assert_err(
        &e.with(json!({ "metrics_listen": "127.0.0.1:9464", "metrics_allow_remote": "yes" })),
        "metrics_allow_remote",
        "must be a boolean",
    );
}

#[test]
fn on_finding_hook_is_typed_bounded_and_needs_an_absolute_executable() {
    let e = Env::new();
    let r = e.with(json!({}));
    assert!(assert_ok(&r).on_finding.is_none());
    assert!(r.effective["on_finding"].is_null());
    let script = e.write_config("hook.sh", "#!/bin/sh\ncat >/dev/null\n");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o700)).unwrap();
    let prog = script.to_string_lossy().to_string();
    let r = e.with(json!({ "on_finding": { "command": [prog, "--channel", "ops"] } }));
    let h = assert_ok(&r).on_finding.clone().unwrap();
    assert_eq!(
        h.command,
        vec![prog.clone(), "--channel".into(), "ops".into()]
    );
    assert_eq!(
        (h.min_severity, h.timeout_ms, h.max_concurrent, h.max_queue),
        (
            DEFAULT_HOOK_MIN_SEVERITY,
            DEFAULT_HOOK_TIMEOUT_MS,
            DEFAULT_HOOK_MAX_CONCURRENT,
            DEFAULT_HOOK_MAX_QUEUE
        )
    );
    assert_eq!(r.effective["on_finding"]["min_severity"], "high");
    let r = e.with(json!({ "on_finding": { "command": [prog], "min_severity": "Critical", "timeout_ms": 100, "max_concurrent": 1, "max_queue": 0 } }));
    assert_eq!(
        assert_ok(&r).on_finding.as_ref().map(|h| h.max_queue),
        Some(0)
    );
    for (v, field, needle) in [
        (
            json!({ "on_finding": { "command": ["notify"] } }),
            "on_finding.command[0]",
            "not an absolute path",
        ),
        (
            json!({ "on_finding": { "command": [] } }),
            "on_finding.command",
            "is empty",
        ),
        (
            json!({ "on_finding": {} }),
            "on_finding.command",
            "has no command",
        ),
        (
            json!({ "on_finding": { "command": "/bin/true" } }),
            "on_finding.command",
            "must be an array",
        ),
        (
            json!({ "on_finding": { "command": ["/nonexistent/hook"] } }),
            "on_finding.command[0]",
            "cannot use",
        ),
        (
            json!({ "on_finding": { "command": [prog.clone()], "min_severity": "urgent" } }),
            "on_finding.min_severity",
            "unknown severity",
        ),
        (
            json!({ "on_finding": { "command": [prog.clone()], "timeout_ms": 10 } }),
            "on_finding.timeout_ms",
            "outside 100",
        ),
        (
            json!({ "on_finding": { "command": [prog.clone()], "max_concurrent": 0 } }),
            "on_finding.max_concurrent",
            "outside 1",
        ),
        (
            json!({ "on_finding": true }),
            "on_finding",
            "must be an object",
        ),
    ] {
        assert_err(&e.with(v), field, needle);
    }
    fs::set_permissions(&script, fs::Permissions::from_mode(0o600)).unwrap();
    let i = assert_err(
        &e.with(json!({ "on_finding": { "command": [prog.clone()] } })),
        "on_finding.command[0]",
        "is not executable",
    );
    assert!(i.hint.starts_with("chmod +x"), "{}", i.hint);
    assert_err(
        &e.with(json!({ "on_finding": { "command": [prog], "comand": 1 } })),
        "on_finding.comand",
        "",
    );
}

#[test]
fn non_loopback_requires_auth() {
    let e = Env::new();
    // No declared runtime is a warning, not an error: NanoClaw's integration
    // registers each group's credential at container start (#14 item 3).
    let r = e.with(json!({"listen": "0.0.0.0:8118"}));
    assert!(assert_ok(&r).require_auth);
    let issue = assert_warn(
        &r,
        "require_auth",
        "not loopback, so runtime credentials are required",
    );
    assert!(
        issue.hint.contains("declare runtimes") && issue.hint.contains("\"require_auth\": false")
    );
    let w = assert_warn(&r, "listen", "is not loopback");
    assert!(
        w.message.contains("docker0") && w.message.contains("172.17.0.1"),
        "{w:?}"
    );

    let t = fake_token();
    let r = e.with(
        json!({"listen": "http://172.17.0.1:8118", "runtimes": [{"name": "main", "token": t}]}),
    );
    let c = assert_ok(&r);
    assert!(c.require_auth && !c.listen_is_loopback());
    assert_eq!(r.effective["require_auth"], true);
    assert_warn(&r, "listen", "docker0");

    let r = e.with(json!({"listen": "0.0.0.0:8118", "require_auth": false}));
    assert!(!assert_ok(&r).require_auth);
    assert_warn(&r, "require_auth", "any client that can reach it");

    let r = e.with(json!({"require_auth": true}));
    assert!(assert_ok(&r).require_auth);
    assert_warn(&r, "require_auth", "only containers wired at run time");
    let r =
        e.with(json!({"require_auth": true, "runtimes": [{"name": "a", "token": fake_token()}]}));
    assert!(assert_ok(&r).require_auth);
    assert!(r.warnings.is_empty());
    // IPv6 loopback and v4-mapped loopback count as loopback.
    assert!(!assert_ok(&e.with(json!({"listen": "[::ffff:127.0.0.1]:1"}))).require_auth);
}

#[test]
fn mitm_needs_per_runtime_trust() {
    let e = Env::new();
    let r = e.with(json!({"mitm": {"enabled": true}}));
    let issue = assert_err(&r, "mitm.trusted_runtimes", "no runtime is trusted");
    assert!(issue.hint.contains("mount the guardian CA"), "{issue:?}");

    let rt = json!([{"name": "main", "token": fake_token()}, {"name": "family-chat", "token": fake_token()}]);
    let r =
        e.with(json!({"runtimes": rt, "mitm": {"enabled": true, "trusted_runtimes": ["mian"]}}));
    assert_err(
        &r,
        "mitm.trusted_runtimes[0]",
        "\"mian\" is not a declared runtime — did you mean \"main\"?",
    );

    let r = e.with(
        json!({"runtimes": rt, "mitm": {"enabled": true, "trusted_runtimes": ["main"],
        "exclude_hosts": ["Pinned.Example.com.", ".apple.com"]}}),
    );
    let c = assert_ok(&r);
    assert!(c.mitm_applies_to(Some("main")));
    assert!(!c.mitm_applies_to(Some("family-chat")));
    assert!(!c.mitm_applies_to(None));
    assert_eq!(
        r.effective["mitm"]["exclude_hosts"],
        json!(["pinned.example.com", ".apple.com"])
    );

    let r = e.with(json!({"mitm": {"enabled": true, "trusted_runtimes": ["*"]}}));
    assert!(assert_ok(&r).mitm_applies_to(None));
    assert_eq!(r.effective["mitm"]["trusted_runtimes"], json!(["*"]));
    assert_err(
        &e.with(
            json!({"runtimes": rt, "mitm": {"enabled": true, "trusted_runtimes": ["*", "main"]}}),
        ),
        "mitm.trusted_runtimes",
        "cannot be mixed",
    );
    assert_err(
        &e.with(json!({"mitm": {"exclude_hosts": ["*.example.com"]}})),
        "mitm.exclude_hosts[0]",
        "wildcard",
    );
    // File mitm and override mitm merge per key.
    let p = e.write_config("m.json", r#"{"mitm": {"trusted_runtimes": ["*"]}}"#);
    let mut i = e.input();
    i.config_path = Some(p);
    i.overrides = json!({"mitm": {"enabled": true}});
    assert!(assert_ok(&check(&i)).mitm.enabled);
}

#[test]
fn runtime_validation() {
    let e = Env::new();
    let t1 = fake_token();
    let r = e.with(json!({"runtimes": [
        {"name": "main", "token": t1},
        {"name": "main", "token": fake_token()},
        {"name": "-bad", "token": fake_token()},
        {"name": "x".repeat(65), "token": fake_token()},
        {"name": "short", "token": "abc123"},
        {"name": "dup", "token": t1},
        {"name": "chars", "token": format!("{}:{}", &t1[..10], &t1[10..])},
        {"name": "notoken"},
        {"token": fake_token()},
        "main"
    ]}));
    assert_err(&r, "runtimes[1].name", "declared twice");
    assert_err(
        &r,
        "runtimes[2].name",
        "not a valid NanoClaw group folder name",
    );
    assert_err(&r, "runtimes[3].name", "not a valid");
    assert_err(&r, "runtimes[4].token", "too short (6 characters");
    assert_err(&r, "runtimes[5].token", "same token as runtimes[0]");
    assert_err(&r, "runtimes[6].token", "characters other than");
    assert_err(&r, "runtimes[7].token", "has no token");
    assert_err(&r, "runtimes[8].name", "has no name");
    assert_err(&r, "runtimes[9]", "must be an object");
    let all = serde_json::to_string(&r).unwrap();
    assert!(
        !all.contains(&t1) && !all.contains(&t1[10..]),
        "token leaked: {all}"
    );
    assert_eq!(r.effective["runtimes"][0]["token"], MASK);
    assert_eq!(r.effective["runtimes"][9], MASK);
    let err = r.clone().into_result().unwrap_err().to_string();
    assert!(err.contains("declared twice") && !err.contains(&t1));
}

#[test]
fn secrets_are_masked_everywhere() {
    let e = Env::new();
    let (t1, t2, up) = (fake_token(), fake_token(), fake_token());
    let r = e.with(json!({
        "listen": "0.0.0.0:0",
        "runtimes": [{"name": "main", "token": t1}, {"name": "ops", "token": t2}],
        "upstream_proxy": format!("http://onecli:{up}@127.0.0.1:10254")
    }));
    let c = assert_ok(&r).clone();
    assert_eq!(
        r.effective["runtimes"],
        json!([{"name": "main", "token": "****"}, {"name": "ops", "token": "****"}])
    );
    assert_eq!(
        r.effective["upstream_proxy"],
        "http://onecli:****@127.0.0.1:10254"
    );
    let everything = format!(
        "{}{:?}{:?}{}{:?}",
        serde_json::to_string(&r).unwrap(),
        r,
        c,
        serde_json::to_string(&c).unwrap(),
        c.upstream_proxy
    );
    for s in [&t1, &t2, &up] {
        assert!(!everything.contains(s.as_str()), "secret leaked");
    }
    assert!(everything.contains("onecli:****@127.0.0.1:10254"));
    // …but the real values are there for the code that needs them.
    assert_eq!(c.runtimes[1].token.expose(), t2);
    assert_eq!(
        c.runtime_for_token(&t1).map(|r| r.name.as_str()),
        Some("main")
    );
    assert!(c.runtime_for_token(&t1[..47]).is_none());
    let u = c.upstream_proxy.as_ref().unwrap();
    assert_eq!(u.password.as_ref().unwrap().expose(), up);
    assert_eq!(u.username.as_deref(), Some("onecli"));
    assert_eq!(u.authority(), "127.0.0.1:10254");
}

#[test]
fn upstream_proxy_validation() {
    let e = Env::new();
    let up = fake_token();
    for (raw, needle) in [
        (
            format!("ftp://u:{up}@h:1"),
            "must start with http:// or https://",
        ),
        (format!("http://u:{up}@proxy.internal"), "has no port"),
        (format!("http://u:{up}@proxy:1/path"), "path"),
        (format!("u:{up}@proxy:1"), "http://"),
        (format!("http://u:{up}@:1"), "valid URL"),
        ("not a url".to_string(), "valid URL"),
    ] {
        let r = e.with(json!({ "upstream_proxy": raw }));
        assert_err(&r, "upstream_proxy", needle);
        let all = format!("{}{:?}", serde_json::to_string(&r).unwrap(), r);
        assert!(!all.contains(&up), "credential leaked for {needle}");
        assert_eq!(r.effective["upstream_proxy"], MASK);
    }
    let r = e.with(json!({"upstream_proxy": "http://gw.local:80"}));
    let u = assert_ok(&r).upstream_proxy.clone().unwrap();
    assert_eq!((u.port, u.username, u.password), (80, None, None));
    assert_eq!(r.effective["upstream_proxy"], "http://gw.local:80");
    let r = e.with(json!({"upstream_proxy": format!("https://{up}@[::1]:8443/")}));
    let u = assert_ok(&r).upstream_proxy.clone().unwrap();
    assert_eq!(u.authority(), "[::1]:8443");
    assert_eq!(r.effective["upstream_proxy"], "https://****@[::1]:8443");
    let r = e.with(json!({"upstream_proxy": "http://a%40b:p%3Aw@h:1"}));
    let u = assert_ok(&r).upstream_proxy.clone().unwrap();
    assert_eq!(u.username.as_deref(), Some("a@b"));
    assert_eq!(u.password.unwrap().expose(), "p:w");
}

#[test]
fn redact_snippets_values() {
    let e = Env::new();
    let mut i = e.input();
    for (v, want) in [
        ("yes", SnippetMode::Full),
        ("1", SnippetMode::Full),
        ("TRUE", SnippetMode::Full),
        ("off", SnippetMode::None),
        ("0", SnippetMode::None),
        ("short", SnippetMode::Short),
        ("none", SnippetMode::None),
    ] {
        i.env.insert(ENV_REDACT_SNIPPETS.into(), v.into());
        assert_eq!(assert_ok(&check(&i)).redact_snippets, want, "{v}");
    }
    i.env.insert(ENV_REDACT_SNIPPETS.into(), "shrot".into());
    let issue = assert_err(&check(&i), "redact_snippets", "did you mean \"short\"?");
    assert!(issue.hint.contains("cannot be turned off"), "{issue:?}");
    // Env booleans are an env convenience; the file takes the words.
    assert_err(
        &e.with(json!({"redact_snippets": "yes"})),
        "redact_snippets",
        "cannot be turned off",
    );
}

#[test]
fn private_destination_allow_list() {
    let e = Env::new();
    let r = e.with(json!({"allow_private_destinations":
        ["localhost:3000", "host.docker.internal", "10.0.0.0/8", "[::1]:8080", "fe80::1", "127.0.0.1"]}));
    let c = assert_ok(&r);
    assert_eq!(c.allow_private_destinations.len(), 6);
    assert!(c.allow_private_destinations.iter().any(|a| a.allows(
        "x",
        "10.9.9.9".parse().unwrap(),
        1
    )));
    assert_eq!(
        r.effective["allow_private_destinations"],
        json!([
            "localhost:3000",
            "host.docker.internal",
            "10.0.0.0/8",
            "[::1]:8080",
            "fe80::1",
            "127.0.0.1"
        ])
    );
    for (i, bad) in [
        "10.0.0.0/33",
        "300.1.1.1/8",
        "host:99999",
        "bad host",
        "a..b",
        "h:0",
    ]
    .iter()
    .enumerate()
    {
        let r = e.with(json!({ "allow_private_destinations": [bad] }));
        assert!(
            !errs(&r, "allow_private_destinations[0]").is_empty(),
            "case {i} {bad} accepted"
        );
    }
    let r = e.with(json!({"allow_private_destinations": ["169.254.0.0/16"]}));
    assert_ok(&r);
    assert_warn(&r, "allow_private_destinations[0]", "metadata");
    assert!(covers("169.254.169.254:80"));
    assert!(covers("metadata.google.internal"));
    assert!(!covers("127.0.0.1:80"));
}

fn covers(entry: &str) -> bool {
    let e = Env::new();
    !warns(
        &e.with(json!({"allow_private_destinations": [entry]})),
        "allow_private_destinations[0]",
    )
    .is_empty()
}

#[test]
fn expected_destinations_are_validated_and_exposed() {
    let e = Env::new();
    let r = e.with(json!({"expected_destinations": {
        "ai_api_key": ["api.mycorp-llm.com", ".internal.example"],
        "custom_rule": []
    }}));
    let c = assert_ok(&r);
    assert_eq!(
        c.expected_destinations.keys().collect::<Vec<_>>(),
        ["ai_api_key", "custom_rule"]
    );
    assert!(c.expected_destinations["ai_api_key"]
        .iter()
        .any(|p| p.matches("x.internal.example")));
    let r = e.with(json!({"expected_destinations": {"ai_api_key": ["https://x.com/", "a:443", "-bad-.com", 4], "": []}}));
    assert_err(&r, "expected_destinations.ai_api_key[0]", "is a URL");
    assert_err(&r, "expected_destinations.ai_api_key[1]", "port");
    assert_err(
        &r,
        "expected_destinations.ai_api_key[2]",
        "not a valid host name",
    );
    assert_err(
        &r,
        "expected_destinations.ai_api_key[3]",
        "must be a string",
    );
    assert_err(&r, "expected_destinations", "empty rule id");
}

#[test]
fn paths_tilde_relative_and_log_dir() {
    let e = Env::new();
    let r = e.with(json!({"home": "~/tg", "log_dir": "~/tg-logs"}));
    let c = assert_ok(&r);
    assert_eq!(c.home, e.root.join("user/tg"));
    assert_eq!(c.log_dir, e.root.join("user/tg-logs"));
    // Relative paths in a file are relative to the file's directory.
    fs::create_dir(e.root.join("etc")).unwrap();
    let p = e.write_config("etc/c.json", r#"{"log_dir": "logs-here"}"#);
    let mut i = e.input();
    i.config_path = Some(p);
    assert_eq!(assert_ok(&check(&i)).log_dir, e.root.join("etc/logs-here"));
    let mut i = e.input();
    i.env
        .insert(ENV_LOG_DIR.into(), e.root.join("L").display().to_string());
    assert_eq!(assert_ok(&check(&i)).log_dir, e.root.join("L"));
    assert_err(&e.with(json!({"home": "~root/x"})), "home", "~user");
    assert_err(&e.with(json!({"log_dir": ""})), "log_dir", "is empty");
}

#[test]
fn filesystem_checks() {
    let e = Env::new();
    // Too open: a warning, since start tightens it.
    fs::set_permissions(&e.home, fs::Permissions::from_mode(0o755)).unwrap();
    let r = check(&e.input());
    assert_ok(&r);
    let w = assert_warn(&r, "home", "too open (mode 0755)");
    assert!(w.message.contains("tighten it to 0700 at start"));
    fs::set_permissions(&e.home, fs::Permissions::from_mode(0o700)).unwrap();

    let logs = e.home.join("logs");
    fs::create_dir(&logs).unwrap();
    fs::set_permissions(&logs, fs::Permissions::from_mode(0o770)).unwrap();
    assert_warn(&check(&e.input()), "log_dir", "too open (mode 0770)");
    fs::set_permissions(&logs, fs::Permissions::from_mode(0o700)).unwrap();
    assert!(check(&e.input()).warnings.is_empty());

    // Not writable: the fix names both causes and the key, not a chmod 700
    // that cannot help on a read-only mount. (root writes through modes.)
    if sys_euid() != 0 {
        fs::set_permissions(&logs, fs::Permissions::from_mode(0o500)).unwrap();
        let err = assert_err(&check(&e.input()), "log_dir", "read-only mount");
        assert!(
            err.hint.contains("set log_dir to a writable directory"),
            "{err:?}"
        );
        assert!(
            err.hint
                .contains(&format!("chmod u+rwx {}", logs.display())),
            "{err:?}"
        );
        assert!(!err.hint.contains("chmod 700"), "{err:?}");
        fs::set_permissions(&logs, fs::Permissions::from_mode(0o700)).unwrap();
    } else {
        eprintln!("skipped the read-only log_dir case: root writes regardless of mode");
    }

    // A file where a directory should be.
    let f = e.root.join("file");
    fs::write(&f, "x").unwrap();
    assert_err(&e.with(json!({"home": f})), "home", "is not a directory");
    assert_err(
        &e.with(json!({"log_dir": f.join("sub/logs")})),
        "log_dir",
        "cannot be created",
    );

    // Unwritable parent of a home to be created: an error for anyone but
    // root, whom the kernel lets write anyway.
    let locked = e.root.join("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o500)).unwrap();
    let r = e.with(json!({"home": locked.join("a/b")}));
    let root = sys_euid() == 0;
    assert_eq!(!errs(&r, "home").is_empty(), !root, "{:#?}", r.errors);
    if !root {
        assert_err(&r, "home", "nearest existing parent");
        // An existing but unwritable home.
        let r = e.with(json!({"home": locked}));
        assert_err(&r, "home", "not writable");
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o700)).unwrap();

    // Owned by someone else: only root can set that up.
    if root {
        let other = e.root.join("other");
        fs::create_dir(&other).unwrap();
        std::os::unix::fs::chown(&other, Some(65534), Some(65534)).unwrap();
        assert_err(
            &e.with(json!({"home": other})),
            "home",
            "owned by uid 65534",
        );
    }
}

fn sys_euid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // A file we just created is owned by our effective uid.
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().metadata().unwrap().uid()
}

#[test]
fn prepare_dirs_creates_and_tightens() {
    let e = Env::new();
    let home = e.root.join("new/home");
    let r = e.with(json!({"home": home, "log_dir": home.join("logs")}));
    let c = assert_ok(&r).clone();
    assert!(!home.exists(), "check must not create anything");
    prepare_dirs(&c).unwrap();
    for d in [&c.home, &c.log_dir] {
        assert_eq!(fs::metadata(d).unwrap().permissions().mode() & 0o777, 0o700);
    }
    fs::set_permissions(&c.home, fs::Permissions::from_mode(0o755)).unwrap();
    prepare_dirs(&c).unwrap();
    assert_eq!(
        fs::metadata(&c.home).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut bad = c.clone();
    bad.log_dir = e.root.join("afile");
    fs::write(&bad.log_dir, "x").unwrap();
    let err = prepare_dirs(&bad).unwrap_err();
    assert!(matches!(err, ConfigError::NotADirectory { .. }), "{err}");
}

/// Minimal DER certificate builder: x509-parser does not verify signatures,
/// so a structurally valid certificate is enough to test bundle parsing.
mod der {
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 128 {
            out.push(n as u8);
        } else if n < 256 {
            out.extend([0x81, n as u8]);
        } else {
            out.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(content);
        out
    }
    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }
    pub fn cert(not_before: &str, not_after: &str) -> Vec<u8> {
        let sig_alg = seq(&[hex("06092A864886F70D01010B"), vec![0x05, 0x00]]);
        let name = seq(&[tlv(
            0x31,
            &seq(&[hex("0603550403"), tlv(0x0c, b"test root")]),
        )]);
        let mut point = vec![0x00, 0x04];
        point.extend([7u8; 64]);
        let spki = seq(&[
            seq(&[hex("06072A8648CE3D0201"), hex("06082A8648CE3D030107")]),
            tlv(0x03, &point),
        ]);
        let tbs = seq(&[
            tlv(0xa0, &[0x02, 0x01, 0x02]),
            vec![0x02, 0x01, 0x01],
            sig_alg.clone(),
            name.clone(),
            seq(&[
                tlv(0x17, not_before.as_bytes()),
                tlv(0x17, not_after.as_bytes()),
            ]),
            name,
            spki,
        ]);
        seq(&[tbs, sig_alg, tlv(0x03, &[0x00, 1, 2, 3, 4])])
    }
    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    pub fn pem(label: &str, der: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut b64 = String::new();
        for ch in der.chunks(3) {
            let n = (u32::from(ch[0]) << 16)
                | (u32::from(*ch.get(1).unwrap_or(&0)) << 8)
                | u32::from(*ch.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= ch.len() {
                    b64.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
                } else {
                    b64.push('=');
                }
            }
        }
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }
}

#[test]
fn ca_bundle_checks() {
    let e = Env::new();
    let good = der::pem("CERTIFICATE", &der::cert("000101000000Z", "491231235959Z"));
    let expired = der::pem("CERTIFICATE", &der::cert("000101000000Z", "010101000000Z"));
    let write = |name: &str, body: &str| -> PathBuf {
        let p = e.root.join(name);
        fs::write(&p, body).unwrap();
        p
    };
    let p = write("good.pem", &good);
    let mut i = e.input();
    i.env.insert(ENV_CA_BUNDLE.into(), p.display().to_string());
    let r = check(&i);
    assert_eq!(assert_ok(&r).ca_bundle.as_deref(), Some(p.as_path()));
    assert_eq!(r.effective["ca_bundle"], json!(p));
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);

    let r = e.with(json!({"ca_bundle": write("two.pem", &format!("{good}{expired}"))}));
    assert_ok(&r);
    assert_warn(&r, "ca_bundle", "outside their validity period");

    let key = der::pem("PRIVATE KEY", b"not really a key");
    let r = e.with(json!({"ca_bundle": write("key.pem", &format!("{good}{key}"))}));
    assert_ok(&r);
    assert_warn(&r, "ca_bundle", "contains a private key");

    let broken = der::pem("CERTIFICATE", b"garbage bytes, not DER");
    let r = e.with(json!({"ca_bundle": write("mixed.pem", &format!("{good}{broken}"))}));
    assert_ok(&r);
    assert_warn(&r, "ca_bundle", "could not be parsed");

    assert_err(
        &e.with(json!({"ca_bundle": write("broken.pem", &broken)})),
        "ca_bundle",
        "no parsable certificate",
    );
    assert_err(
        &e.with(json!({"ca_bundle": write("text.pem", "hello")})),
        "ca_bundle",
        "no parsable certificate",
    );
    assert_err(
        &e.with(json!({"ca_bundle": e.root.join("absent.pem")})),
        "ca_bundle",
        "cannot be read",
    );
    assert_err(
        &e.with(json!({"ca_bundle": e.root})),
        "ca_bundle",
        "is a directory",
    );
    let unreadable = write("unreadable.pem", &good);
    fs::set_permissions(&unreadable, fs::Permissions::from_mode(0o000)).unwrap();
    let r = e.with(json!({ "ca_bundle": unreadable }));
    assert_eq!(r.ok, sys_euid() == 0, "{:#?}", r.errors);
}

#[test]
fn debug_of_input_hides_env_values() {
    let e = Env::new();
    let mut i = e.input();
    let t = fake_token();
    i.env.insert("ANTHROPIC_API_KEY".into(), t.clone());
    i.overrides = json!({"runtimes": [{"name": "m", "token": t}]});
    let d = format!("{i:?}");
    assert!(d.contains("ANTHROPIC_API_KEY") && !d.contains(&t));
}

/// Arbitrary JSON in every slot must produce a report, not a panic. Runs
/// the validator directly (not through `check`'s panic guard).
#[test]
fn hostile_overrides_never_panic() {
    let e = Env::new();
    let mut rng = crate::core::test_rng::XorShift64::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next_u64();
    fn value(depth: u32, next: &mut dyn FnMut() -> u64) -> Value {
        let strs = [
            "",
            "~",
            "~x",
            "0.0.0.0:0",
            "[::]:99999",
            "http://",
            "http://[::1",
            "*",
            ".",
            "..",
            "1k",
            "99999999999g",
            "ß",
            "\u{202e}",
            "a:b:c",
            "[",
            "]:1",
            "/",
            "%zz",
            "http://u:p@h:1",
            "\0",
        ];
        match next() % 8 {
            0 => Value::Null,
            1 => Value::Bool(next().is_multiple_of(2)),
            2 => json!(next() as i64),
            3 => json!((next() % 1000) as f64 / 7.0),
            4 => Value::from(strs[(next() % strs.len() as u64) as usize]),
            5 if depth < 3 => {
                Value::Array((0..next() % 4).map(|_| value(depth + 1, next)).collect())
            }
            6 if depth < 3 => {
                let keys = TOP_LEVEL_KEYS
                    .iter()
                    .chain(MITM_KEYS.iter())
                    .chain(RUNTIME_KEYS.iter());
                let keys: Vec<&&str> = keys.collect();
                Value::Object(
                    (0..next() % 5)
                        .map(|_| {
                            (
                                keys[(next() % keys.len() as u64) as usize].to_string(),
                                value(depth + 1, next),
                            )
                        })
                        .collect(),
                )
            }
            _ => Value::from(format!("{}", next())),
        }
    }
    for _ in 0..3000 {
        let mut i = e.input();
        let mut o = serde_json::Map::new();
        for _ in 0..(next() % 6) {
            let k = TOP_LEVEL_KEYS[(next() % TOP_LEVEL_KEYS.len() as u64) as usize];
            o.insert(k.to_string(), value(0, &mut next));
        }
        i.overrides = Value::Object(o);
        let r = crate::core::config::check_unguarded(&i, &SystemConfigFs);
        assert_eq!(r.ok, r.errors.is_empty());
        assert_eq!(r.ok, r.config.is_some());
    }
}

#[test]
fn report_serializes_with_expected_shape() {
    let e = Env::new();
    let r = e.with(json!({"mode": "block"}));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["errors"][0]["field"].is_string() && v["errors"][0]["hint"].is_string());
    assert!(v.get("config").is_none());
    assert!(v["effective"].is_object() && v["sources"].is_array());
    let _ = Path::new("");
}

#[test]
fn device_files_and_fifos_are_refused_without_reading_them() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("bundle.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    for path in [std::path::PathBuf::from("/dev/zero"), fifo] {
        let input = ConfigInput {
            env: [("HOME".to_owned(), tmp.path().display().to_string())].into(),
            config_path: None,
            overrides: serde_json::json!({ "home": tmp.path().join("tg"), "ca_bundle": path }),
        };
        let report = check(&input);
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.field == "ca_bundle" && e.message.contains("not a regular file")),
            "{:?}",
            report.errors
        );
        let input = ConfigInput {
            env: [("HOME".to_owned(), tmp.path().display().to_string())].into(),
            config_path: Some(path.clone()),
            overrides: serde_json::Value::Null,
        };
        let report = check(&input);
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.message.contains("not a regular file")),
            "{:?}",
            report.errors
        );
    }
}

#[test]
fn inspect_defaults_to_true_and_false_is_the_loud_bare_proxy() {
    let e = Env::new();
    let r = e.with(json!({}));
    assert!(assert_ok(&r).inspect);
    assert_eq!(r.effective["inspect"], true);
    assert!(!r.warnings.iter().any(|w| w.field == "inspect"));
    let r = e.with(json!({ "inspect": false }));
    assert!(!assert_ok(&r).inspect);
    assert_eq!(r.effective["inspect"], false);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.field == "inspect" && w.message.contains("benchmarking aid, finds nothing")),
        "{:?}",
        r.warnings
    );
    assert_err(&e.with(json!({ "inspect": "no" })), "inspect", "a boolean");
}
