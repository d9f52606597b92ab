//! What the guardian costs: the same loopback traffic sent direct to the
//! origin, through the bare proxy (the same guardian, same build and config,
//! with `inspect: false`, what `traffic-guardian start --no-inspect` runs)
//! and through the full guardian (config → detector, store, proxy; built-in
//! rules), for plain HTTP and HTTPS with MITM.
//!
//! Run: `npm run bench` (builds, runs this and the scanner bench, writes
//! BENCHMARKS.md), or directly:
//! `cargo bench --bench proxy --target x86_64-unknown-linux-gnu -- [--quick]`.
//! The last line printed is a JSON summary. Memory with many idle
//! connections is measured in a child process per proxy (this binary
//! re-executed with `--rss-child`), so the figure is the proxy's alone.
//! `--scan-priority normal` runs the guardian with that `scan_priority`
//! (default `background`, the config's default).
//! Built with `--features mimalloc` (as `npm run bench` does), the process
//! runs the addon's allocator; without it, the system's.
use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use hyper::Method;
use serde_json::{json, Value};

use traffic_guardian::core::config::ConfigInput;
use traffic_guardian::home_guardian::HomeGuardian;
use traffic_guardian::proxy::StartInfo;

mod common;

use common::client::{exchange, tls_trusting, Scheme, Sender, Target, Variant};
use common::measure::{closed_loop, fixed_rate, percentiles, sse, Sample, Shape};
use common::upstream::{self, Payloads, DOWNLOAD_LEN, SMALL_LEN, UPLOAD_LEN};
use common::{BenchError, BenchResult};

/// Durations and sizes of one run.
#[derive(Debug, Clone)]
struct Plan {
    quick: bool,
    rounds: u32,
    warmup: Duration,
    window: Duration,
    transfer_window: Duration,
    conns: usize,
    transfer_conns: usize,
    rate: f64,
    rate_conns: usize,
    sse_streams: usize,
    sse_events: u64,
    sse_every_ms: u64,
    idle_conns: usize,
    only: Option<Vec<String>>,
    /// `--variants` (for profiling one of them); all by default.
    variants: Option<Vec<String>>,
    schemes: Vec<Scheme>,
    /// The guardian's `scan_priority` (`--scan-priority`).
    scan_priority: String,
}

impl Plan {
    fn from_args(args: &[String]) -> BenchResult<Plan> {
        let quick = args.iter().any(|a| a == "--quick");
        let value = |name: &str| -> Option<&String> {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
        };
        let num = |name: &str, default: f64| -> BenchResult<f64> {
            match value(name) {
                Some(v) => Ok(v.parse::<f64>().map_err(|e| format!("{name}: {e}"))?),
                None => Ok(default),
            }
        };
        let secs = |name: &str, full: f64, short: f64| -> BenchResult<Duration> {
            Ok(Duration::from_secs_f64(num(
                name,
                if quick { short } else { full },
            )?))
        };
        let schemes = match value("--scheme").map(String::as_str) {
            Some("http") => vec![Scheme::Http],
            Some("https") => vec![Scheme::Https],
            _ => vec![Scheme::Http, Scheme::Https],
        };
        Ok(Plan {
            quick,
            rounds: num("--rounds", if quick { 1.0 } else { 2.0 })? as u32,
            warmup: secs("--warmup", 0.5, 0.2)?,
            window: secs("--window", 3.0, 0.5)?,
            transfer_window: secs("--transfer-window", 2.0, 0.4)?,
            conns: num("--conns", 64.0)? as usize,
            transfer_conns: num("--transfer-conns", 8.0)? as usize,
            rate: num("--rate", 2000.0)?,
            rate_conns: num("--rate-conns", 32.0)? as usize,
            sse_streams: num("--sse-streams", 8.0)? as usize,
            sse_events: num("--sse-events", if quick { 10.0 } else { 40.0 })? as u64,
            sse_every_ms: num("--sse-every-ms", 25.0)? as u64,
            idle_conns: num("--idle", 1000.0)? as usize,
            only: value("--only").map(|v| v.split(',').map(str::to_string).collect()),
            scan_priority: value("--scan-priority")
                .cloned()
                .unwrap_or_else(|| "background".into()),
            variants: value("--variants").map(|v| v.split(',').map(str::to_string).collect()),
            schemes,
        })
    }

    fn runs(&self, v: Variant) -> bool {
        self.variants
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == v.as_str()))
    }

    fn wants(&self, scenario: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == scenario))
    }
}

fn main() {
    // The addon's allocator options, as Node's load of it sets them (the
    // allocator itself is the library's, with `--features mimalloc`).
    traffic_guardian::allocator::tune();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if let Some(kind) = args
        .iter()
        .position(|a| a == "--rss-child")
        .and_then(|i| args.get(i + 1))
    {
        rss_child(kind, &args)
    } else {
        Plan::from_args(&args).and_then(run)
    };
    if let Err(e) = result {
        eprintln!("proxy bench failed: {e}");
        std::process::exit(1);
    }
}

fn runtime() -> BenchResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The full guardian, configured the way an operator would (mode detect,
/// MITM for every client, the origin's CA as `ca_bundle`); with `inspect`
/// false it is the bare proxy of `traffic-guardian start --no-inspect`.
fn guardian(
    home: &Path,
    origin_ca: &Path,
    inspect: bool,
    scan_priority: &str,
) -> BenchResult<HomeGuardian> {
    let input = ConfigInput {
        env: BTreeMap::new(),
        config_path: None,
        overrides: json!({
            "mode": "detect",
            "home": home,
            "listen": "127.0.0.1:0",
            "allow_private_destinations": ["127.0.0.1"],
            "mitm": { "enabled": true, "trusted_runtimes": ["*"] },
            "ca_bundle": origin_ca,
            "inspect": inspect,
            "scan_priority": scan_priority,
        }),
    };
    Ok(HomeGuardian::from_input(&input)?)
}

fn addr_of(info: &StartInfo) -> BenchResult<SocketAddr> {
    Ok(format!("{}:{}", info.address, info.port).parse()?)
}

fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn mem_json() -> Value {
    json!({ "rss_kb": proc_status_kb("VmRSS:"), "hwm_kb": proc_status_kb("VmHWM:") })
}

/// Child mode: run one proxy, print where it listens and its memory, then
/// answer `rss` lines on stdin with its memory until stdin closes.
fn rss_child(kind: &str, args: &[String]) -> BenchResult<()> {
    let origin_ca = args
        .iter()
        .position(|a| a == "--ca-bundle")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .ok_or("--rss-child needs --ca-bundle")?;
    let scan_priority = args
        .iter()
        .position(|a| a == "--scan-priority")
        .and_then(|i| args.get(i + 1))
        .map_or("background", String::as_str);
    let rt = runtime()?;
    let home = tempfile::tempdir()?;
    let mut guard: Option<HomeGuardian> = None;
    let info = rt.block_on(async {
        let inspect = match kind {
            "bare" => false,
            "guardian" => true,
            other => return Err::<_, BenchError>(format!("unknown --rss-child {other}").into()),
        };
        let g = guardian(home.path(), &origin_ca, inspect, scan_priority)?;
        let info = g.start().await?;
        guard = Some(g);
        Ok(info)
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        json!({ "port": info.port, "ca": info.ca_cert_path, "mem": mem_json() })
    )?;
    out.flush()?;
    drop(out);
    for line in std::io::stdin().lock().lines() {
        if line?.trim() == "rss" {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", mem_json())?;
            out.flush()?;
        }
    }
    rt.block_on(async {
        if let Some(g) = &guard {
            let _ = g.stop().await;
        }
    });
    Ok(())
}

/// Everything the scenarios run against.
struct World {
    http_origin: SocketAddr,
    https_origin: SocketAddr,
    bare: SocketAddr,
    guardian: SocketAddr,
    tls_origin: tokio_rustls::TlsConnector,
    tls_bare: tokio_rustls::TlsConnector,
    tls_guardian: tokio_rustls::TlsConnector,
}

impl World {
    fn target(&self, variant: Variant, scheme: Scheme) -> Target {
        let proxy = match variant {
            Variant::Direct => None,
            Variant::Bare => Some(self.bare),
            Variant::Guardian => Some(self.guardian),
        };
        let (origin, tls) = match scheme {
            Scheme::Http => (self.http_origin, None),
            Scheme::Https => (
                self.https_origin,
                Some(match variant {
                    Variant::Direct => self.tls_origin.clone(),
                    Variant::Bare => self.tls_bare.clone(),
                    Variant::Guardian => self.tls_guardian.clone(),
                }),
            ),
        };
        Target {
            scheme,
            proxy,
            origin,
            tls,
        }
    }
}

/// Variant order per round: alternated so drift on a shared machine
/// does not always favour the same variant.
fn order(round: u32) -> [Variant; 3] {
    if round.is_multiple_of(2) {
        [Variant::Direct, Variant::Bare, Variant::Guardian]
    } else {
        [Variant::Guardian, Variant::Bare, Variant::Direct]
    }
}

fn latency_json(mut lat: Vec<u64>) -> Value {
    let p = percentiles(&mut lat);
    json!({ "n": p.n, "p50_us": p.p50, "p99_us": p.p99, "p999_us": p.p999, "max_us": p.max, "mean_us": p.mean })
}

fn sample_json(scenario: &str, scheme: Scheme, variant: Variant, s: Sample) -> Value {
    let extra = if s.extra_ns.is_empty() {
        Value::Null
    } else {
        latency_json(s.extra_ns.clone())
    };
    json!({
        "scenario": scenario,
        "scheme": scheme.as_str(),
        "variant": variant.as_str(),
        "completed": s.completed,
        "window_s": s.window.as_secs_f64(),
        "req_s": s.per_sec(),
        "mb_s": s.mb_per_sec(),
        "wire_mb_s": if s.window.is_zero() { 0.0 } else { s.wire_bytes as f64 / s.window.as_secs_f64() / 1e6 },
        "cpu_s": s.cpu_s,
        "cpu_us_per_req": if s.completed == 0 { Value::Null } else { json!(s.cpu_s * 1e6 / s.completed as f64) },
        "cpu_ms_per_mb": if s.bytes == 0 { Value::Null } else { json!(s.cpu_s * 1e3 / (s.bytes as f64 / 1e6)) },
        "errors": s.errors,
        "first_error": s.first_error,
        "latency": latency_json(s.lat_ns),
        "event_latency": extra,
    })
}

/// What the guardian scanned of what it forwarded in one scenario, from
/// its counters before and after each of its runs. Under overload the
/// pool skips bytes (counted, never waited for): a ratio to the bare proxy
/// means little unless it is read beside this.
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    scanned: u64,
    overload: u64,
    limit: u64,
    binary: u64,
    stream_budget: u64,
}

impl Coverage {
    fn of(g: &HomeGuardian) -> Coverage {
        let c = g.status().proxy.counters;
        let u = &c.scan.unscanned_bytes;
        Coverage {
            scanned: c.bytes_scanned_outbound + c.bytes_scanned_inbound,
            overload: u.overload,
            limit: u.limit,
            binary: u.binary,
            stream_budget: u.stream_budget,
        }
    }

    /// Adds what changed from `before` to `after`.
    fn add_delta(&mut self, before: Coverage, after: Coverage) {
        self.scanned += after.scanned.saturating_sub(before.scanned);
        self.overload += after.overload.saturating_sub(before.overload);
        self.limit += after.limit.saturating_sub(before.limit);
        self.binary += after.binary.saturating_sub(before.binary);
        self.stream_budget += after.stream_budget.saturating_sub(before.stream_budget);
    }

    /// Scanned bytes over those offered to the pool (scanned or skipped
    /// under overload); limits and binary bodies are skipped by design.
    /// Message heads count on both sides (their URL and header bytes).
    fn fraction(&self) -> Option<f64> {
        let offered = self.scanned + self.overload;
        (offered > 0).then(|| self.scanned as f64 / offered as f64)
    }

    fn json(&self) -> Value {
        json!({
            "scanned_bytes": self.scanned,
            "unscanned_overload_bytes": self.overload,
            "unscanned_limit_bytes": self.limit,
            "unscanned_binary_bytes": self.binary,
            "unscanned_stream_budget_bytes": self.stream_budget,
            "scanned_fraction": self.fraction(),
        })
    }
}

fn say(msg: &str) {
    eprintln!("[proxy bench] {msg}");
}

fn run(plan: Plan) -> BenchResult<()> {
    upstream::now_ns();
    let rt = runtime()?;
    rt.block_on(run_async(plan))
}

async fn run_async(plan: Plan) -> BenchResult<()> {
    let payloads = Arc::new(Payloads::new()?);
    let pki = upstream::make_pki()?;
    let http_origin = upstream::spawn_http(Arc::clone(&payloads)).await?;
    let https_origin = upstream::spawn_https(Arc::clone(&payloads), &pki).await?;

    let homes = tempfile::tempdir()?;
    let bhome = homes.path().join("bare");
    std::fs::create_dir_all(&bhome)?;
    let bare = guardian(&bhome, &pki.ca_pem_path, false, &plan.scan_priority)?;
    if bare.status().proxy.inspect {
        return Err("the bare proxy (inspect: false) reports inspection on".into());
    }
    let bare_info = bare.start().await?;
    let ghome = homes.path().join("guardian");
    std::fs::create_dir_all(&ghome)?;
    let guard = guardian(&ghome, &pki.ca_pem_path, true, &plan.scan_priority)?;
    let guard_info = guard.start().await?;
    let world = World {
        http_origin,
        https_origin,
        bare: addr_of(&bare_info)?,
        guardian: addr_of(&guard_info)?,
        tls_origin: tls_trusting(&pki.ca_pem_path)?,
        tls_bare: tls_trusting(
            bare_info
                .ca_cert_path
                .as_deref()
                .ok_or("bare proxy reports no CA")?,
        )?,
        tls_guardian: tls_trusting(
            guard_info
                .ca_cert_path
                .as_deref()
                .ok_or("guardian reports no CA")?,
        )?,
    };
    say(&format!(
        "origin http {} https {}, bare proxy {}, guardian {}",
        world.http_origin, world.https_origin, world.bare, world.guardian
    ));

    // Every path works (and MITM leaves are minted) before anything is timed.
    for scheme in [Scheme::Http, Scheme::Https] {
        for v in Variant::ALL {
            let t = world.target(v, scheme);
            let mut c = t
                .connect()
                .await
                .map_err(|e| format!("{} {}: connect: {e}", v.as_str(), scheme.as_str()))?;
            let (status, n) =
                exchange(&mut c, t.request(Method::GET, "/small", Bytes::new())?).await?;
            if status != 200 || n != SMALL_LEN {
                return Err(format!(
                    "{} {}: warm-up got status {status}, {n} bytes",
                    v.as_str(),
                    scheme.as_str()
                )
                .into());
            }
        }
    }

    let small = Shape {
        method: Method::GET,
        path: "/small".into(),
        body: Bytes::new(),
        expect_len: SMALL_LEN,
        logical_len: SMALL_LEN,
    };
    let upload_ack = format!("{{\"received\":{UPLOAD_LEN}}}").len();
    let upload = Shape {
        method: Method::POST,
        path: "/upload".into(),
        body: payloads.upload.clone(),
        expect_len: upload_ack,
        logical_len: UPLOAD_LEN,
    };
    let download = Shape {
        method: Method::GET,
        path: "/download".into(),
        body: Bytes::new(),
        expect_len: DOWNLOAD_LEN,
        logical_len: DOWNLOAD_LEN,
    };
    let download_gz = Shape {
        method: Method::GET,
        path: "/download-gzip".into(),
        body: Bytes::new(),
        expect_len: payloads.download_gz.len(),
        logical_len: DOWNLOAD_LEN,
    };

    let mut results: Vec<Value> = Vec::new();
    let rounds = plan.rounds.max(1);
    let per_round = |d: Duration| d / rounds;

    for &scheme in &plan.schemes {
        // (scenario name, runner) pairs, each run for every variant per round.
        let scenarios: [&str; 7] = [
            "small_saturation",
            "small_fixed_rate",
            "upload_64k",
            "download_1m_identity",
            "download_1m_gzip",
            "small_under_download",
            "sse",
        ];
        for scenario in scenarios {
            if !plan.wants(scenario) {
                continue;
            }
            let mut merged: BTreeMap<&str, Sample> = BTreeMap::new();
            let mut coverage = Coverage::default();
            for round in 0..rounds {
                // Small requests beside downloads compare each proxy with its
                // own unloaded figure: the direct variant adds nothing there.
                let skip_direct = scenario == "small_under_download";
                for v in order(round)
                    .into_iter()
                    .filter(|v| plan.runs(*v) && !(skip_direct && *v == Variant::Direct))
                {
                    let t = world.target(v, scheme);
                    let before = (v == Variant::Guardian).then(|| Coverage::of(&guard));
                    let s = match scenario {
                        "small_saturation" => {
                            closed_loop(&t, &small, plan.conns, plan.warmup, per_round(plan.window))
                                .await?
                        }
                        "small_fixed_rate" => {
                            fixed_rate(
                                &t,
                                &small,
                                plan.rate_conns,
                                plan.rate,
                                plan.warmup,
                                per_round(plan.window),
                            )
                            .await?
                        }
                        "upload_64k" => {
                            closed_loop(
                                &t,
                                &upload,
                                plan.transfer_conns,
                                plan.warmup,
                                per_round(plan.transfer_window),
                            )
                            .await?
                        }
                        "download_1m_identity" => {
                            closed_loop(
                                &t,
                                &download,
                                plan.transfer_conns,
                                plan.warmup,
                                per_round(plan.transfer_window),
                            )
                            .await?
                        }
                        "download_1m_gzip" => {
                            closed_loop(
                                &t,
                                &download_gz,
                                plan.transfer_conns,
                                plan.warmup,
                                per_round(plan.transfer_window),
                            )
                            .await?
                        }
                        "small_under_download" => {
                            // 1 KiB GETs while `transfer_conns` connections
                            // download 1 MiB bodies through the same proxy;
                            // the sample is the small requests'.
                            let (small_s, _) = tokio::try_join!(
                                closed_loop(
                                    &t,
                                    &small,
                                    plan.conns,
                                    plan.warmup,
                                    per_round(plan.window)
                                ),
                                closed_loop(
                                    &t,
                                    &download,
                                    plan.transfer_conns,
                                    plan.warmup,
                                    per_round(plan.window)
                                ),
                            )?;
                            small_s
                        }
                        _ => sse(&t, plan.sse_streams, plan.sse_events, plan.sse_every_ms).await?,
                    };
                    if let Some(before) = before {
                        // The backlog is scanned before the next variant
                        // runs, so it neither competes with that run for
                        // CPU nor leaves this run's coverage uncounted.
                        guard.scan_idle().await;
                        coverage.add_delta(before, Coverage::of(&guard));
                    }
                    merged.entry(v.as_str()).or_default().merge(s);
                }
            }
            for v in Variant::ALL {
                if let Some(s) = merged.remove(v.as_str()) {
                    let mut line = sample_json(scenario, scheme, v, s);
                    let scanned = if v == Variant::Guardian {
                        line["scan"] = coverage.json();
                        match coverage.fraction() {
                            Some(f) => format!("  scanned {:.1}%", f * 100.0),
                            None => String::new(),
                        }
                    } else {
                        String::new()
                    };
                    say(&format!(
                        "{scenario:<22} {:<5} {:<8} req/s {:>9.0}  MB/s {:>8.1}  p50 {:>8.1}us  p99 {:>8.1}us  errors {}{scanned}",
                        scheme.as_str(),
                        v.as_str(),
                        line["req_s"].as_f64().unwrap_or(0.0),
                        line["mb_s"].as_f64().unwrap_or(0.0),
                        line["latency"]["p50_us"].as_f64().unwrap_or(0.0),
                        line["latency"]["p99_us"].as_f64().unwrap_or(0.0),
                        line["errors"],
                    ));
                    results.push(line);
                }
            }
        }
    }

    let status = guard.status();
    let counters = json!({
        "requests": status.proxy.counters.requests,
        "mitm_connections": status.proxy.counters.mitm_connections,
        "bytes_scanned_outbound": status.proxy.counters.bytes_scanned_outbound,
        "bytes_scanned_inbound": status.proxy.counters.bytes_scanned_inbound,
        "truncated_messages": status.proxy.counters.truncated_messages,
        "decode_failures": status.proxy.counters.decode_failures,
        "upstream_errors": status.proxy.counters.upstream_errors,
        "findings_emitted": status.store.findings_emitted,
    });
    say(&format!("guardian counters: {counters}"));
    bare.stop().await?;
    guard.stop().await?;

    let mut memory = Vec::new();
    if plan.wants("idle_memory") {
        for &scheme in &plan.schemes {
            for kind in ["bare", "guardian"] {
                let m = child_memory(
                    kind,
                    scheme,
                    &world,
                    &pki.ca_pem_path,
                    &plan.scan_priority,
                    Load::Idle(plan.idle_conns),
                )
                .await
                .map_err(|e| format!("idle memory ({kind}, {}): {e}", scheme.as_str()))?;
                say(&format!("idle_memory {} {kind}: {m}", scheme.as_str()));
                memory.push(m);
            }
        }
    }

    // Peak RSS while `transfer_conns` connections download realistic 1 MiB
    // bodies (identity, then gzip) through the proxy in its own process.
    let mut load_memory = Vec::new();
    if plan.wants("load_memory") {
        for &scheme in &plan.schemes {
            for kind in ["bare", "guardian"] {
                let m = child_memory(
                    kind,
                    scheme,
                    &world,
                    &pki.ca_pem_path,
                    &plan.scan_priority,
                    Load::Downloads {
                        shapes: [&download, &download_gz],
                        conns: plan.transfer_conns,
                        warmup: plan.warmup,
                        window: plan.transfer_window,
                    },
                )
                .await
                .map_err(|e| {
                    format!("memory under downloads ({kind}, {}): {e}", scheme.as_str())
                })?;
                say(&format!("load_memory {} {kind}: {m}", scheme.as_str()));
                load_memory.push(m);
            }
        }
    }

    let summary = json!({
        "bench": "traffic-guardian proxy",
        "quick": plan.quick,
        "plan": {
            "rounds": rounds,
            "warmup_s": plan.warmup.as_secs_f64(),
            "window_s": plan.window.as_secs_f64(),
            "transfer_window_s": plan.transfer_window.as_secs_f64(),
            "conns": plan.conns,
            "transfer_conns": plan.transfer_conns,
            "rate": plan.rate,
            "rate_conns": plan.rate_conns,
            "sse_streams": plan.sse_streams,
            "sse_events": plan.sse_events,
            "sse_every_ms": plan.sse_every_ms,
            "idle_conns": plan.idle_conns,
            "scan_priority": plan.scan_priority,
            "allocator": traffic_guardian::allocator::settings().name,
            "small_len": SMALL_LEN,
            "upload_len": UPLOAD_LEN,
            "download_len": DOWNLOAD_LEN,
            "download_gzip_wire_len": payloads.download_gz.len(),
            "payloads": "realistic: 64 KiB OpenAI chat-completion request, 1 MiB Anthropic Messages response (benches/common/corpus.rs)",
        },
        "results": results,
        "memory": memory,
        "load_memory": load_memory,
        "guardian_counters": counters,
    });
    println!("{summary}");
    Ok(())
}

/// The child's next JSON line (30 s at most).
async fn next_line(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> BenchResult<Value> {
    // The child speaks one JSON object per line; a profiler wrapping it may
    // print lines of its own, which are skipped.
    loop {
        match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
            Ok(Some(l)) if !l.trim_start().starts_with('{') => continue,
            Ok(Some(l)) => return Ok(serde_json::from_str(&l)?),
            _ => return Err("child did not answer".into()),
        }
    }
}

/// What the proxy in the child process is given while its memory is read.
enum Load<'a> {
    /// `n` idle keep-alive connections, each after one small request.
    Idle(usize),
    /// Closed-loop downloads of each shape in turn over `conns` connections.
    Downloads {
        shapes: [&'a Shape; 2],
        conns: usize,
        warmup: Duration,
        window: Duration,
    },
}

/// Starts a child process running one proxy, puts `load` through it and
/// reads its memory (current and peak RSS).
async fn child_memory(
    kind: &str,
    scheme: Scheme,
    world: &World,
    origin_ca: &Path,
    scan_priority: &str,
    load: Load<'_>,
) -> BenchResult<Value> {
    let exe = std::env::current_exe()?;
    // `TG_BENCH_CHILD_WRAPPER=heaptrack` (or `valgrind --tool=massif`) runs the
    // measured proxy under a memory profiler; the figures then include it.
    let wrapper: Vec<String> = std::env::var("TG_BENCH_CHILD_WRAPPER")
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let mut child = command
        .arg("--rss-child")
        .arg(kind)
        .arg("--ca-bundle")
        .arg(origin_ca)
        .arg("--scan-priority")
        .arg(scan_priority)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("child stdin")?;
    let stdout = child.stdout.take().ok_or("child stdout")?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            match line {
                Ok(l) => {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    });
    let outcome = async {
        let ready = next_line(&mut rx).await?;
        let port = ready["port"].as_u64().ok_or("child reported no port")?;
        let proxy: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let tls = match scheme {
            Scheme::Http => None,
            Scheme::Https => Some(tls_trusting(Path::new(
                ready["ca"].as_str().ok_or("child reported no CA")?,
            ))?),
        };
        let base = world.target(Variant::Direct, scheme);
        let target = Target {
            proxy: Some(proxy),
            tls,
            ..base
        };
        let n = match load {
            Load::Idle(n) => n,
            Load::Downloads {
                shapes,
                conns,
                warmup,
                window,
            } => {
                let mut mb_s = Vec::new();
                let mut errors = 0;
                for shape in shapes {
                    let s = closed_loop(&target, shape, conns, warmup, window).await?;
                    errors += s.errors;
                    mb_s.push(s.mb_per_sec());
                }
                stdin.write_all(b"rss\n")?;
                stdin.flush()?;
                let loaded = next_line(&mut rx).await?;
                return Ok(json!({
                    "variant": kind,
                    "scheme": scheme.as_str(),
                    "connections": conns,
                    "mb_s_identity": mb_s.first(),
                    "mb_s_gzip": mb_s.get(1),
                    "errors": errors,
                    "before_rss_kb": ready["mem"]["rss_kb"],
                    "rss_kb": loaded["rss_kb"],
                    "peak_rss_kb": loaded["hwm_kb"],
                }));
            }
        };
        // Open and use every connection (bounded concurrency), then keep them idle.
        let opened: Vec<BenchResult<Sender>> = futures::stream::iter(0..n)
            .map(|_| {
                let t = target.clone();
                async move {
                    let mut c = t.connect().await?;
                    let (status, len) =
                        exchange(&mut c, t.request(Method::GET, "/small", Bytes::new())?).await?;
                    if status != 200 || len != SMALL_LEN {
                        return Err(format!("status {status}, {len} bytes").into());
                    }
                    Ok(c)
                }
            })
            .buffer_unordered(50)
            .collect()
            .await;
        let mut held = Vec::with_capacity(n);
        let mut failed = 0usize;
        let mut first_error = None;
        for c in opened {
            match c {
                Ok(c) => held.push(c),
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stdin.write_all(b"rss\n")?;
        stdin.flush()?;
        let loaded = next_line(&mut rx).await?;
        let idle = held.len();
        drop(held);
        Ok::<Value, BenchError>(json!({
            "variant": kind,
            "scheme": scheme.as_str(),
            "connections": idle,
            "failed": failed,
            "first_error": first_error,
            "before_rss_kb": ready["mem"]["rss_kb"],
            "rss_kb": loaded["rss_kb"],
            "peak_rss_kb": loaded["hwm_kb"],
        }))
    }
    .await;
    drop(stdin);
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    outcome
}
