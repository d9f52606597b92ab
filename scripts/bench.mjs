#!/usr/bin/env node
// `npm run bench`: what the guardian costs, measured in one run on loopback.
// Builds the release bench binaries, runs the proxy bench (direct / bare
// proxy / guardian, plain HTTP and HTTPS with MITM) and the criterion
// detector bench, then writes BENCHMARKS.md with absolute figures, the
// ratios guardian/bare and guardian/direct, the targets and the machine,
// and target/bench/result.json (the issue-18 ratios and targets, machine, load).
//
// Options (after `npm run bench --`):
//   --quick        short windows (a smoke run); writes target/bench/BENCHMARKS.quick.md
//                  and target/bench/result.quick.json instead
//   --skip-scanner do not run the criterion detector bench
//   --scanner      only the quick detector table on the realistic corpus
//                  (examples/scan_corpus.rs: class × direction, MB/s, a few
//                  seconds); later arguments go to it (e.g. --secs 1 --rules)
//   anything else  passed to the proxy bench (e.g. --rounds 3, --only sse)
// Benchmarks are not tests: nothing here runs in `npm test` or CI.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const skipScanner = args.includes('--skip-scanner');
const proxyArgs = args.filter((a) => a !== '--skip-scanner');
const scannerOnly = args.includes('--scanner');
const started = new Date();
const t0 = Date.now();

function sh(cmd, cmdArgs) {
  try {
    return execFileSync(cmd, cmdArgs, { encoding: 'utf8', cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const hostTriple = sh('rustc', ['-vV'])
  .split('\n')
  .find((l) => l.startsWith('host: '))
  ?.slice(6)
  .trim();
if (!hostTriple) {
  console.error('bench: could not read the host target from `rustc -vV`; is the Rust toolchain installed?');
  process.exit(2);
}

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    /* not Linux */
  }
  return cpus()[0]?.model ?? 'unknown';
}

const machine = {
  cpu: cpuModel(),
  cores: cpus().length,
  memGiB: (totalmem() / 2 ** 30).toFixed(1),
  kernel: `${process.platform} ${release()}`,
  rustc: sh('rustc', ['-V']),
  node: process.version,
  commit: sh('git', ['rev-parse', '--short', 'HEAD']),
  loadBefore: loadavg().map((x) => x.toFixed(2)),
};

// 0. `--scanner`: the quick detector table on the realistic corpus, then stop.
if (scannerOnly) {
  const exArgs = ['run', '--quiet', '--release', '--features', 'mimalloc', '--target', hostTriple, '--example', 'scan_corpus', '--'];
  exArgs.push(...args.filter((a) => a !== '--scanner'));
  console.log(`▶ cargo ${exArgs.join(' ')}`);
  console.log(`  commit ${machine.commit}; ${machine.cpu}, ${machine.cores} cores; load average ${machine.loadBefore.join(' / ')}`);
  const r = spawnSync('cargo', exArgs, { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

// 1. Build both bench binaries once (release profile, shared artefacts),
// with the allocator the addon ships (`build:addon` enables `mimalloc`).
console.log(`▶ build: cargo bench --no-run --features mimalloc --target ${hostTriple}`);
const build = spawnSync(
  'cargo',
  ['bench', '--no-run', '--features', 'mimalloc', '--target', hostTriple, '--message-format=json-render-diagnostics'],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 2 ** 20 },
);
if (build.status !== 0) {
  console.error('bench: build failed');
  process.exit(1);
}
const exes = {};
for (const line of build.stdout.split('\n')) {
  if (!line.startsWith('{')) continue;
  try {
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.executable && m.target?.kind?.includes('bench')) {
      exes[m.target.name] = m.executable;
    }
  } catch {
    /* not a JSON line */
  }
}
for (const name of ['proxy', 'scanner']) {
  if (!exes[name]) {
    console.error(`bench: cargo did not report the ${name} bench executable`);
    process.exit(1);
  }
}

// 2. The proxy bench: its last stdout line is the JSON summary.
console.log(`\n▶ proxy bench: ${exes.proxy} ${proxyArgs.join(' ')}`);
const proxyRun = spawnSync(exes.proxy, proxyArgs, {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 256 * 2 ** 20,
});
if (proxyRun.status !== 0) {
  console.error('bench: proxy bench failed');
  process.exit(1);
}
const lastLine = proxyRun.stdout.trim().split('\n').pop() ?? '';
let proxy;
try {
  proxy = JSON.parse(lastLine);
} catch {
  console.error('bench: proxy bench did not end with a JSON summary');
  process.exit(1);
}

// 3. The detector bench (criterion); estimates are read from its JSON files.
const sizes = [4096, 65536, 1048576];
const detector = [];
const corpusClasses = ['docs', 'code', 'api_json', 'html', 'minified_js', 'base64', 'binary'];
const corpusScan = [];
if (!skipScanner) {
  const critHome = mkdtempSync(join(tmpdir(), 'tg-criterion-'));
  const critArgs = ['--bench', '--warm-up-time', quick ? '0.3' : '1', '--measurement-time', quick ? '0.7' : '2'];
  // Quick mode: the 1 MiB synthetic figures and the realistic corpus only.
  if (quick) critArgs.push('corpus|/1048576$');
  console.log(`\n▶ detector bench: ${exes.scanner} ${critArgs.join(' ')}`);
  const scan = spawnSync(exes.scanner, critArgs, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CRITERION_HOME: critHome, ...(quick ? { TG_BENCH_QUICK: '1' } : {}) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (scan.status !== 0) {
    console.error('bench: detector bench failed');
    process.exit(1);
  }
  for (const direction of ['outbound', 'inbound']) {
    for (const kind of ['benign', 'hits']) {
      for (const size of sizes) {
        const f = join(critHome, `scan_${direction}`, kind, String(size), 'new', 'estimates.json');
        if (!existsSync(f)) continue;
        const est = JSON.parse(readFileSync(f, 'utf8'));
        const ns = est.median.point_estimate;
        detector.push({ direction, kind, size, ns, mbs: (size / ns) * 1e3 });
      }
    }
    for (const cls of corpusClasses) {
      const dir = join(critHome, `corpus_${direction}`, cls, 'new');
      if (!existsSync(join(dir, 'estimates.json'))) continue;
      const ns = JSON.parse(readFileSync(join(dir, 'estimates.json'), 'utf8')).median.point_estimate;
      const bytes = JSON.parse(readFileSync(join(dir, 'benchmark.json'), 'utf8')).throughput?.Bytes ?? 0;
      corpusScan.push({ direction, cls, bytes, ns, mbs: (bytes / ns) * 1e3 });
    }
  }
  rmSync(critHome, { recursive: true, force: true });
}
machine.loadAfter = loadavg().map((x) => x.toFixed(2));
const elapsedS = Math.round((Date.now() - t0) / 1000);

// 4. Tables.
const get = (scenario, scheme, variant) =>
  proxy.results.find((r) => r.scenario === scenario && r.scheme === scheme && r.variant === variant);
const fmt = (x, d = 0) => (x === undefined || x === null || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
const ratio = (a, b) => (a && b ? `${((a / b) * 100).toFixed(0)}%` : '–');
const ms = (us) => (us === undefined || us === null ? '–' : (us / 1000).toFixed(2));
const schemes = [...new Set(proxy.results.map((r) => r.scheme))];
// The share of the bytes offered to the scan pool that the guardian really
// scanned in a scenario (the rest was skipped under overload and counted;
// `benches/proxy.rs`, `Coverage`). Scan threads run below the forwarding
// workers (nice 10): on saturated cores forwarding wins, so a throughput
// ratio is the cost of inspection only when (nearly) everything was scanned.
const FULL_SCAN = 0.99;
const scannedOf = (g) => g?.scan?.scanned_fraction;
const pct = (f) => (f === undefined || f === null ? '–' : `${(f * 100).toFixed(f < 0.995 && f > 0.99 ? 1 : 0)}%`);
const fullyScanned = (g) => (scannedOf(g) ?? 1) >= FULL_SCAN;
const withScan = (value, g) => (scannedOf(g) === undefined || scannedOf(g) === null ? value : `${value} (scanned ${pct(scannedOf(g))})`);
const label = { http: 'HTTP', https: 'HTTPS (MITM)' };

const lines = [];
const out = (s = '') => lines.push(s);

function throughputTable(title, scenario, metric, unit, digits) {
  const rows = [];
  for (const scheme of schemes) {
    const [d, b, g] = ['direct', 'bare', 'guardian'].map((v) => get(scenario, scheme, v));
    if (!d || !b || !g) continue;
    rows.push(
      `| ${label[scheme]} | ${fmt(d[metric], digits)} | ${fmt(b[metric], digits)} | ${fmt(g[metric], digits)} | **${ratio(g[metric], b[metric])}** | ${ratio(g[metric], d[metric])} | ${pct(scannedOf(g))} | ${d.errors + b.errors + g.errors} |`,
    );
  }
  if (!rows.length) return;
  out(`**${title}** (${unit})`);
  out();
  out(`| | direct | bare proxy | guardian | guardian / bare | guardian / direct | guardian scanned | errors |`);
  out(`|---|---:|---:|---:|---:|---:|---:|---:|`);
  rows.forEach((r) => out(r));
  out();
}

function latencyTable(title, scenario) {
  const rows = [];
  for (const scheme of schemes) {
    for (const v of ['direct', 'bare', 'guardian']) {
      const r = get(scenario, scheme, v);
      if (!r) continue;
      const b = get(scenario, scheme, 'bare');
      const d = get(scenario, scheme, 'direct');
      const added = v === 'guardian' ? `${ms(r.latency.p99_us - b.latency.p99_us)} / ${ms(r.latency.p99_us - d.latency.p99_us)}` : '';
      rows.push(
        `| ${label[scheme]} | ${v} | ${fmt(r.req_s)} | ${ms(r.latency.p50_us)} | ${ms(r.latency.p99_us)} | ${ms(r.latency.p999_us)} | ${added} |`,
      );
    }
  }
  if (!rows.length) return;
  out(`**${title}** (latency in ms)`);
  out();
  out(`| | | req/s | p50 | p99 | p99.9 | p99 added vs bare / vs direct |`);
  out(`|---|---|---:|---:|---:|---:|---:|`);
  rows.forEach((r) => out(r));
  out();
}

// Targets from issue 8.
const targets = [];
function target(name, value, ok, detail) {
  targets.push({ name, value, ok, detail });
}
for (const scheme of schemes) {
  const b = get('small_saturation', scheme, 'bare');
  const g = get('small_saturation', scheme, 'guardian');
  if (b && g) target(`small requests req/s, ${label[scheme]}: guardian ≥ 90% of bare, all scanned`, withScan(ratio(g.req_s, b.req_s), g), g.req_s >= 0.9 * b.req_s && fullyScanned(g));
}
for (const scheme of schemes) {
  for (const sc of ['download_1m_identity', 'download_1m_gzip']) {
    const b = get(sc, scheme, 'bare');
    const g = get(sc, scheme, 'guardian');
    if (b && g)
      target(
        `1 MiB ${sc.endsWith('gzip') ? 'gzip' : 'identity'} download MB/s, ${label[scheme]}: guardian ≥ 80% of bare, all scanned`,
        withScan(ratio(g.mb_s, b.mb_s), g),
        g.mb_s >= 0.8 * b.mb_s && fullyScanned(g),
      );
  }
}
for (const scheme of schemes) {
  const b = get('small_fixed_rate', scheme, 'bare');
  const g = get('small_fixed_rate', scheme, 'guardian');
  if (b && g) {
    const added = (g.latency.p99_us - b.latency.p99_us) / 1000;
    target(`p99 added over bare at ${proxy.plan.rate} req/s, ${label[scheme]}: ≤ 1 ms, all scanned`, withScan(`${added.toFixed(2)} ms`, g), added <= 1 && fullyScanned(g));
  }
}
for (const scheme of schemes) {
  const d = get('sse', scheme, 'direct');
  const b = get('sse', scheme, 'bare');
  const g = get('sse', scheme, 'guardian');
  if (d && g) {
    const vsDirect = (g.latency.p50_us - d.latency.p50_us) / 1000;
    const vsBare = b ? (g.latency.p50_us - b.latency.p50_us) / 1000 : NaN;
    target(
      `SSE first event added (median, vs direct), ${label[scheme]}: ≤ 5 ms`,
      `${vsDirect.toFixed(2)} ms (vs bare ${vsBare.toFixed(2)} ms)`,
      vsDirect <= 5,
    );
  }
}
for (const m of proxy.memory ?? []) {
  if (m.variant !== 'guardian') continue;
  const mb = (m.peak_rss_kb * 1024) / 1e6;
  target(
    `peak RSS with ${m.connections} idle connections, ${label[m.scheme]}: ≤ 150 MB`,
    `${mb.toFixed(1)} MB`,
    mb <= 150 && m.connections === proxy.plan.idle_conns,
  );
}
for (const dir of ['outbound', 'inbound']) {
  const benign = detector.filter((x) => x.direction === dir && x.kind === 'benign');
  if (!benign.length) continue;
  const worst = benign.reduce((a, b) => (a.mbs < b.mbs ? a : b));
  target(`detector on benign text, ${dir}, one core: ≥ 1 GB/s (worst size)`, `${(worst.mbs / 1000).toFixed(2)} GB/s at ${worst.size} B`, worst.mbs >= 1000);
}

// Targets from issue 18 (realistic payloads; the bare proxy is the same
// guardian with `inspect: false`, i.e. `traffic-guardian start --no-inspect`).
const targets18 = [];
function target18(id, name, value, ok, detail = {}) {
  targets18.push({ id, name, value, ok, ...detail });
}
{
  const pair = (scenario, scheme) => [get(scenario, scheme, 'bare'), get(scenario, scheme, 'guardian')];
  for (const scheme of schemes) {
    for (const [sc, what] of [
      ['download_1m_identity', 'identity'],
      ['download_1m_gzip', 'gzip'],
    ]) {
      const [b, g] = pair(sc, scheme);
      if (b && g) {
        target18(`${sc}_${scheme}`, `1 MiB JSON download, ${what}, ${label[scheme]}: guardian ≥ 50% of bare req/s, all scanned`, withScan(ratio(g.req_s, b.req_s), g), g.req_s >= 0.5 * b.req_s && fullyScanned(g), {
          bare_req_s: b.req_s,
          guardian_req_s: g.req_s,
          ratio: g.req_s / b.req_s,
          scanned_fraction: scannedOf(g),
        });
      }
    }
  }
  for (const scheme of schemes) {
    const u = get('small_saturation', scheme, 'guardian');
    const l = get('small_under_download', scheme, 'guardian');
    if (u && l) {
      const r = l.req_s / u.req_s;
      const p99 = u.latency.p99_us ? l.latency.p99_us / u.latency.p99_us : NaN;
      target18(`small_under_download_req_s_${scheme}`, `1 KiB GETs while ${proxy.plan.transfer_conns} connections download 1 MiB, ${label[scheme]}: guardian ≥ 80% of its unloaded req/s, all scanned`, withScan(ratio(l.req_s, u.req_s), l), r >= 0.8 && fullyScanned(l), {
        unloaded_req_s: u.req_s,
        loaded_req_s: l.req_s,
        ratio: r,
        scanned_fraction: scannedOf(l),
      });
      target18(`small_under_download_p99_${scheme}`, `the same, p99 ≤ 2× unloaded, ${label[scheme]}`, `${fmt(p99, 2)}×`, p99 <= 2, {
        unloaded_p99_us: u.latency.p99_us,
        loaded_p99_us: l.latency.p99_us,
        ratio: p99,
      });
    }
  }
  for (const [sc, scheme, name] of [
    ['small_saturation', 'http', '1 KiB GETs, HTTP'],
    ['upload_64k', 'http', '64 KiB JSON POSTs, HTTP'],
    ['small_saturation', 'https', '1 KiB GETs, HTTPS (MITM)'],
  ]) {
    const [b, g] = pair(sc, scheme);
    if (b && g) {
      target18(`${sc}_${scheme}`, `${name}: guardian ≥ 90% of bare req/s, all scanned`, withScan(ratio(g.req_s, b.req_s), g), g.req_s >= 0.9 * b.req_s && fullyScanned(g), {
        bare_req_s: b.req_s,
        guardian_req_s: g.req_s,
        ratio: g.req_s / b.req_s,
        scanned_fraction: scannedOf(g),
      });
    }
  }
  for (const m of proxy.load_memory ?? []) {
    if (m.variant !== 'guardian') continue;
    const mb = (m.peak_rss_kb * 1024) / 1e6;
    target18(`peak_rss_under_downloads_${m.scheme}`, `peak RSS under the download load, ${label[m.scheme]}: ≤ 200 MB`, `${mb.toFixed(1)} MB`, mb <= 200, { peak_rss_mb: mb });
  }
}

const cmd = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
out('# Benchmarks');
out();
out('What the traffic guardian costs, measured on loopback in one run: the same traffic sent **direct** to the origin, through the **bare proxy** (the same guardian, same build and config, with `inspect: false` — what `traffic-guardian start --no-inspect` runs: the same connection loop, MITM on for every client, pivot guard and CA bundle, nothing scanned) and through the **guardian** (`Guardian::from_input`: mode `detect`, the full built-in rule set, findings store). HTTPS goes through MITM on both proxies.');
out();
out(`- Command: \`${cmd}\`${quick ? ' (quick mode: short windows, indicative only)' : ''}`);
out(`- Date: ${started.toISOString()} — commit \`${machine.commit}\` — total time ${elapsedS} s`);
out(`- Allocator: \`${proxy.plan.allocator ?? 'system'}\` (the addon's: \`build:addon\` and this bench build with \`--features mimalloc\`; src/allocator.rs)`);
out(`- Guardian's \`scan_priority\`: \`${proxy.plan.scan_priority ?? 'background'}\` (\`background\`, the default: scan threads at nice 10, below forwarding; \`normal\`: at the process's priority; \`npm run bench -- --scan-priority normal\`)`);
out(`- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB RAM, ${machine.kernel}; ${machine.rustc}; node ${machine.node}`);
out(`- Load average (1/5/15 min) before: ${machine.loadBefore.join(' / ')}, after: ${machine.loadAfter.join(' / ')} (after includes the bench's own client, origin and proxies)`);
// Only the load before the run tells of other work: the bench itself keeps
// every core busy, so the load after it is above the core count even alone.
if (Number(machine.loadBefore[0]) > 0.5) {
  out(
    `- **The machine was not idle**: its 1-minute load average was above 0.5 before the run, so other work (other processes, or the tail of earlier runs) may have overlapped the measurement. Client, origin and proxy all run on the same ${machine.cores} cores, so absolute figures are low and noisy; the ratios are the figures to read — every scenario runs the three variants in interleaved rounds (order alternated) so that load changes hit them alike.`,
  );
}
out();
out('## Targets (issue 18: realistic payloads, bare = the same build with inspect off)');
out();
out(
  `A throughput target counts as met only when the guardian also scanned at least ${FULL_SCAN * 100}% of the bytes it forwarded in that scenario. ${(proxy.plan.scan_priority ?? 'background') === 'normal' ? "Scan threads ran at the process's priority (\`scan_priority: normal\`), sharing busy cores with forwarding; their queues are bounded, and what the pool cannot take is skipped and counted as \`unscanned_overload_bytes\`." : 'Scan threads run at nice 10 (\`scan_priority: background\`, the default), below the forwarding workers, and their queues are bounded: on saturated cores forwarding goes first and the pool skips what it cannot take, counting it as \`unscanned_overload_bytes\` (never slowing traffic).'} A ratio reached that way is not the cost of inspection, so each figure below shows how much was scanned (\`benches/proxy.rs\`, \`Coverage\`: scanned ÷ (scanned + skipped under overload), from the guardian's own counters around its runs).`,
);
out();
out('| target | measured | |');
out('|---|---|---|');
for (const t of targets18) out(`| ${t.name} | ${t.value} | ${t.ok ? 'met' : '**missed**'} |`);
out();
out('## Targets (issue 8)');
out();
out('| target | measured | |');
out('|---|---|---|');
for (const t of targets) out(`| ${t.name} | ${t.value} | ${t.ok ? 'met' : '**missed**'} |`);
out();
const p = proxy.plan;
{
  // Issue 18: the ratios on realistic payloads, one line each.
  out('## Realistic payloads (issue 18)');
  out();
  out(`Uploads are a ${p.upload_len / 1024} KiB OpenAI chat-completion request (messages and tools), downloads a 1 MiB Anthropic Messages response (text and tool_use blocks), both with real documentation text from this machine (\`benches/common/corpus.rs\`). The bare proxy is the same guardian with \`inspect: false\` (\`start --no-inspect\`).`);
  out();
  out('| measure | bare proxy | guardian | guardian / bare | guardian scanned |');
  out('|---|---:|---:|---:|---:|');
  const row = (name, scenario, scheme, metric, unit, digits = 0) => {
    const b = get(scenario, scheme, 'bare');
    const g = get(scenario, scheme, 'guardian');
    if (b && g) out(`| ${name} (${unit}) | ${fmt(b[metric], digits)} | ${fmt(g[metric], digits)} | **${ratio(g[metric], b[metric])}** | ${pct(scannedOf(g))} |`);
  };
  for (const scheme of schemes) {
    row(`1 MiB chat JSON download, identity, ${label[scheme]}`, 'download_1m_identity', scheme, 'req_s', 'req/s', 1);
    row(`1 MiB chat JSON download, gzip, ${label[scheme]}`, 'download_1m_gzip', scheme, 'req_s', 'req/s', 1);
  }
  row('1 KiB GET, HTTP', 'small_saturation', 'http', 'req_s', 'req/s');
  row('64 KiB chat JSON POST, HTTP', 'upload_64k', 'http', 'req_s', 'req/s');
  row('1 KiB GET, HTTPS (MITM)', 'small_saturation', 'https', 'req_s', 'req/s');
  out();
  const loaded = [];
  for (const scheme of schemes) {
    for (const v of ['bare', 'guardian']) {
      const u = get('small_saturation', scheme, v);
      const l = get('small_under_download', scheme, v);
      if (!u || !l) continue;
      loaded.push(
        `| ${label[scheme]} | ${v} | ${fmt(u.req_s)} | ${fmt(l.req_s)} | **${ratio(l.req_s, u.req_s)}** | ${ms(u.latency.p99_us)} | ${ms(l.latency.p99_us)} | **${u.latency.p99_us ? (l.latency.p99_us / u.latency.p99_us).toFixed(1) : '–'}×** | ${v === 'guardian' ? pct(scannedOf(l)) : ''} | ${l.errors} |`,
      );
    }
  }
  if (loaded.length) {
    out(`**1 KiB GETs (${p.conns} connections) while ${p.transfer_conns} connections download 1 MiB chat JSON through the same proxy**, against the same proxy unloaded (the small-GET saturation run)`);
    out();
    out('| | | req/s unloaded | req/s under downloads | loaded / unloaded | p99 unloaded (ms) | p99 under downloads (ms) | p99 loaded / unloaded | guardian scanned under downloads | errors |');
    out('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    loaded.forEach((r) => out(r));
    out();
  }
  if (proxy.load_memory?.length) {
    out(`**Peak RSS under download load** (${p.transfer_conns} connections downloading the 1 MiB chat JSON, identity then gzip, ${p.transfer_window_s}s each; the proxy alone in a child process; MB = 10^6 bytes)`);
    out();
    out('| | | RSS at start | RSS after | peak RSS (VmHWM) | MB/s identity | MB/s gzip (decoded) | errors |');
    out('|---|---|---:|---:|---:|---:|---:|---:|');
    for (const m of proxy.load_memory) {
      out(
        `| ${label[m.scheme]} | ${m.variant} | ${fmt((m.before_rss_kb * 1024) / 1e6, 1)} | ${fmt((m.rss_kb * 1024) / 1e6, 1)} | ${fmt((m.peak_rss_kb * 1024) / 1e6, 1)} | ${fmt(m.mb_s_identity)} | ${fmt(m.mb_s_gzip)} | ${m.errors} |`,
      );
    }
    out();
  }
  if (corpusScan.length) {
    out('**Detector on the realistic corpus** (`cargo bench --bench scanner -- corpus`: criterion, one thread, `scan_message` over 1 MiB pieces, default options; median; MB/s = 10^6 bytes/s; the synthetic figure beside it is `scan_*/benign/1048576`)');
    out();
    out('| class | bytes | outbound MB/s | inbound MB/s |');
    out('|---|---:|---:|---:|');
    for (const cls of corpusClasses) {
      const o = corpusScan.find((x) => x.cls === cls && x.direction === 'outbound');
      const i = corpusScan.find((x) => x.cls === cls && x.direction === 'inbound');
      if (!o && !i) continue;
      out(`| ${cls} | ${(o ?? i).bytes} | ${fmt(o?.mbs)} | ${fmt(i?.mbs)} |`);
    }
    const syn = (dir) => detector.find((d) => d.direction === dir && d.kind === 'benign' && d.size === 1048576);
    out(`| synthetic benign (1 MiB, \`scan_text\`) | 1048576 | ${fmt(syn('outbound')?.mbs)} | ${fmt(syn('inbound')?.mbs)} |`);
    out();
  }
}
out('## Proxy');
out();
out(
  `Load generator: a hyper HTTP/1.1 client in the bench binary (\`benches/proxy.rs\`), keep-alive connections with TCP_NODELAY; origin: hyper on 127.0.0.1, HTTPS with a leaf signed by a CA made with rcgen at bench time (given to both proxies as \`ca_bundle\`). ${p.rounds} interleaved rounds per scenario; ${p.warmup_s}s warm-up per round.`,
);
out();
throughputTable(`Small GETs (${p.small_len} B responses) at saturation, ${p.conns} connections, ${p.window_s}s per variant`, 'small_saturation', 'req_s', 'req/s', 0);
latencyTable(`Small GETs at saturation, ${p.conns} connections`, 'small_saturation');
latencyTable(`Small GETs at a fixed ${p.rate} req/s (open loop over ${p.rate_conns} connections)`, 'small_fixed_rate');
throughputTable(`64 KiB JSON POST uploads, ${p.transfer_conns} connections`, 'upload_64k', 'mb_s', 'MB/s of request body', 0);
throughputTable(`1 MiB JSON downloads, identity, ${p.transfer_conns} connections`, 'download_1m_identity', 'mb_s', 'MB/s', 0);
throughputTable(
  `1 MiB JSON downloads, gzip (${(p.download_gzip_wire_len / 1024).toFixed(0)} KiB on the wire), ${p.transfer_conns} connections`,
  'download_1m_gzip',
  'mb_s',
  'MB/s of decoded body: the guardian inflates and scans the full MiB, the client and the bare proxy do not',
  0,
);
{
  // CPU time is not inflated by other processes on a shared machine: the
  // guardian's added CPU per request / per MB is its cost in absolute terms.
  const rows = [];
  const cpuRows = [
    ['small_saturation', 'small GET at saturation', 'cpu_us_per_req', 'µs / request'],
    ['small_fixed_rate', `small GET at ${proxy.plan.rate} req/s`, 'cpu_us_per_req', 'µs / request'],
    ['upload_64k', '64 KiB upload', 'cpu_ms_per_mb', 'ms / MB'],
    ['download_1m_identity', '1 MiB download, identity', 'cpu_ms_per_mb', 'ms / MB'],
    ['download_1m_gzip', '1 MiB download, gzip', 'cpu_ms_per_mb', 'ms / MB (decoded)'],
  ];
  for (const [sc, title, metric, unit] of cpuRows) {
    for (const scheme of schemes) {
      const [d, b, g] = ['direct', 'bare', 'guardian'].map((v) => get(sc, scheme, v));
      if (!d || !b || !g || d[metric] == null) continue;
      rows.push(
        `| ${title} | ${label[scheme]} | ${unit} | ${fmt(d[metric], 1)} | ${fmt(b[metric], 1)} | ${fmt(g[metric], 1)} | **${fmt(g[metric] - b[metric], 1)}** | ${pct(scannedOf(g))} |`,
      );
    }
  }
  if (rows.length) {
    out('**CPU cost** (user + system CPU time of the whole bench process — load generator, origin and proxy — inside the measurement windows, divided by the work done; unlike wall-clock figures this is not inflated by other processes, so "guardian − bare" is the guardian\'s own cost — for the share it scanned: bytes skipped under overload cost nothing, and what was still queued at the window\'s end is scanned after it)');
    out();
    out('| scenario | | unit | direct | bare proxy | guardian | guardian − bare | guardian scanned |');
    out('|---|---|---|---:|---:|---:|---:|---:|');
    rows.forEach((r) => out(r));
    out();
  }
}
{
  const rows = [];
  for (const scheme of schemes) {
    for (const v of ['direct', 'bare', 'guardian']) {
      const r = get('sse', scheme, v);
      if (!r) continue;
      const d = get('sse', scheme, 'direct');
      rows.push(
        `| ${label[scheme]} | ${v} | ${ms(r.latency.p50_us)} | ${ms(r.latency.max_us)} | ${ms(r.event_latency?.p50_us)} | ${ms(r.event_latency?.p99_us)} | ${v === 'direct' ? '' : `${ms(r.latency.p50_us - d.latency.p50_us)} / ${ms(r.event_latency?.p50_us - d.event_latency?.p50_us)}`} | ${r.errors} |`,
      );
    }
  }
  if (rows.length) {
    out(`**SSE**: ${p.sse_streams} concurrent streams × ${p.rounds} rounds, ${p.sse_events} events ${p.sse_every_ms} ms apart (latency in ms; event latency = origin timestamp → client)`);
    out();
    out('| | | first event p50 | first event max | event p50 | event p99 | added vs direct: first event / event p50 | errors |');
    out('|---|---|---:|---:|---:|---:|---:|---:|');
    rows.forEach((r) => out(r));
    out();
  }
}
if (proxy.memory?.length) {
  out(`**Memory with ${p.idle_conns} idle keep-alive connections** (each made one request, then stays open; the proxy runs alone in a child process, so the figure is the proxy's own; MB = 10^6 bytes)`);
  out();
  out('| | | connections held | RSS at start | RSS with connections | peak RSS (VmHWM) |');
  out('|---|---|---:|---:|---:|---:|');
  for (const m of proxy.memory) {
    out(
      `| ${label[m.scheme]} | ${m.variant} | ${m.connections}${m.failed ? ` (${m.failed} failed)` : ''} | ${fmt((m.before_rss_kb * 1024) / 1e6, 1)} | ${fmt((m.rss_kb * 1024) / 1e6, 1)} | ${fmt((m.peak_rss_kb * 1024) / 1e6, 1)} |`,
    );
  }
  out();
}
const c = proxy.guardian_counters;
out(
  `Guardian counters over the run: ${c.requests} requests, ${(c.bytes_scanned_outbound / 1e6).toFixed(0)} MB scanned outbound, ${(c.bytes_scanned_inbound / 1e6).toFixed(0)} MB scanned inbound, ${c.findings_emitted} findings (the payloads are benign), ${c.truncated_messages} truncated, ${c.decode_failures} decode failures, ${c.upstream_errors} upstream errors.`,
);
out();
if (detector.length) {
  out('## Detector only');
  out();
  out('`cargo bench --bench scanner` (criterion, one thread, full built-in rule set; median; MB/s = 10^6 bytes/s):');
  out();
  out('| direction | text | 4 KiB | 64 KiB | 1 MiB |');
  out('|---|---|---:|---:|---:|');
  for (const dir of ['outbound', 'inbound']) {
    for (const kind of ['benign', 'hits']) {
      const cells = sizes.map((s) => {
        const x = detector.find((d) => d.direction === dir && d.kind === kind && d.size === s);
        return x ? `${fmt(x.mbs)} MB/s` : '–';
      });
      out(`| ${dir} | ${kind === 'hits' ? 'a hit every 2 KiB' : 'benign'} | ${cells.join(' | ')} |`);
    }
  }
  out();
}
const notesFile = join(root, 'benches', 'common', 'ANALYSIS.md');
if (existsSync(notesFile)) {
  out(readFileSync(notesFile, 'utf8').trim());
  out();
}

const md = `${lines.join('\n')}\n`;
const outDir = join(root, 'target', 'bench');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, quick ? 'proxy.quick.json' : 'proxy.json'), `${JSON.stringify(proxy, null, 2)}\n`);
// One JSON result of the run: the issue-18 ratios and targets, the machine.
const result = {
  command: cmd,
  quick,
  date: started.toISOString(),
  elapsed_s: elapsedS,
  machine,
  targets_issue18: targets18,
  targets_issue8: targets,
  detector_corpus: corpusScan,
  proxy_file: join(outDir, quick ? 'proxy.quick.json' : 'proxy.json'),
};
const resultPath = join(outDir, quick ? 'result.quick.json' : 'result.json');
writeFileSync(resultPath, `${JSON.stringify(result, null, 2)}\n`);
const mdPath = quick ? join(outDir, 'BENCHMARKS.quick.md') : join(root, 'BENCHMARKS.md');
writeFileSync(mdPath, md);
console.log(`\n${md}`);
console.log('issue 18 targets:');
console.table(targets18.map((t) => ({ target: t.name, measured: t.value, met: t.ok ? 'met' : 'MISSED' })));
console.log(`bench: wrote ${mdPath} and ${resultPath}`);
