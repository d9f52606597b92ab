/**
 * `traffic-guardian start`: the guardian in the foreground, through the same
 * `createTrafficGuardian` service NanoClaw uses. Running it is the
 * operator's opt-in, so it runs in `detect` mode whatever the config's mode
 * says. The addon does not hold Node's event loop, so an interval keeps the
 * process alive until SIGINT/SIGTERM, which stop the service cleanly.
 */
import { chmodSync, createWriteStream, fstatSync, fchmodSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

import { homeLayout } from '@clawsec/traffic-guardian/addon';
import type { Finding, GuardianStatus, ReloadResult } from '@clawsec/traffic-guardian/addon';

import { checkTrafficConfig, effectiveView } from '../config.js';
import { createTrafficGuardian, type ServiceStatus, type TrafficLogger } from '../lifecycle.js';
import { parseListen, type ContainerWiring } from '../wiring.js';
import { afterHelp, cliCommand, withConfig, withVerbosity, type OptionsOf, type Runner } from './command.js';
import {
  CliError,
  EXIT,
  UsageError,
  colorEnabled,
  configOptions,
  formatBytes,
  formatDuration,
  paint,
  printError,
  safeText,
  type Io,
  type Paint,
} from './common.js';
import { INSPECTION_OFF, readStatus } from './cmd-status.js';
import { findingLine } from './format.js';

/** The `start` command line: options, help and typed values. */
export const startCli = () =>
  withVerbosity(
    withConfig(
      cliCommand('start', 'run the guardian in the foreground (detect mode) and show findings live')
        .usage('[--config FILE] [--listen HOST:PORT] [--home DIR] [--mitm --trust-runtime NAME|*] [--no-inspect] [--json]')
        .description(
          `Runs the guardian in the foreground: an HTTP/HTTPS proxy that detects
secrets leaving your containers (EXFIL) and prompt-injection payloads coming
back (INJECTION), and writes redacted findings to <log_dir>/findings.jsonl.
It never blocks and never alters traffic.

Running \`start\` is your explicit opt-in: it runs in "detect" mode even when
the config's mode is "off" (the default, under which NanoClaw starts nothing).

The banner shows the listen address, home, findings file, the CA fingerprint
when HTTPS inspection is on, and the exact container environment to use
(tokens masked). On a terminal, findings appear as they happen with a live
counter line; otherwise one plain line per finding. Ctrl-C (or SIGTERM) stops
cleanly and prints a summary. SIGHUP (or \`traffic-guardian reload\`) re-reads
the config file and environment and applies them to new connections without
a restart; an invalid config is rejected and the running one kept (see
\`traffic-guardian reload --help\` for which keys need a restart). The pid is
kept in <home>/guardian.pid while running.`,
        ),
      'JSON config file (see `traffic-guardian check-config`)',
      'guardian home (CA, status file, default log dir)',
    )
      .option('-l, --listen <host:port>', 'listen address (default from the config: 127.0.0.1:8118; 127.0.0.1:0 picks a free port)')
      .option('--mitm', "inspect HTTPS (creates the guardian's own CA on first use)")
      .option(
        '--trust-runtime <name>',
        'runtime whose containers mount the CA (repeatable; * = every client); required with --mitm unless the config lists mitm.trusted_runtimes',
        (v: string, all: string[] | undefined) => [...(all ?? []), v],
      )
      .option(
        '--no-inspect',
        'inspection OFF: the bare proxy (same build, same access control) that scans nothing and finds nothing. A benchmarking aid to measure the guardian\'s cost side by side; never use it to protect anything',
      )
      .option('--json', 'JSONL events on stdout: started, finding, reload, stopped')
      .option(
        '--log-file <file>',
        'write the output (banner, findings, summary; with --json the events) to FILE instead of stdout, appended, mode 0600; warnings and errors go to FILE and to stderr. For service managers (see INSTALL.md)',
      ),
    'findings only: no banner, counter line or summary',
    "the guardian's own diagnostics on stderr (-v info, -vv debug; NANOCLAW_TRAFFIC_GUARDIAN_LOG wins when set)",
  ).addHelpText(
    'after',
    afterHelp(`
Exit status: 0 stopped cleanly, 1 error (invalid config, port in use, …), 2 usage error.

Examples:
  traffic-guardian start
  traffic-guardian start --listen 172.17.0.1:8118 --config ~/.config/nanoclaw/traffic-guardian/config.json
  traffic-guardian start --listen 127.0.0.1:0 --mitm --trust-runtime '*'
  traffic-guardian start --json | jq -c 'select(.event == "finding") | .finding.pattern'
  traffic-guardian start --json --log-file /var/log/traffic-guardian/events.jsonl`),
  );

export type StartOptions = OptionsOf<typeof startCli>;

export const startCommand = (run: Runner) => startCli().action((opts) => run((io) => runStart(opts, io)));

const ENV_LOG = 'NANOCLAW_TRAFFIC_GUARDIAN_LOG';

/**
 * Opens the --log-file for appending, owner-only (findings are redacted but
 * still say what went where). A file others can read is tightened to 0600.
 */
function openLogFile(path: string): NodeJS.WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
    if ((fstatSync(fd).mode & 0o077) !== 0) fchmodSync(fd, 0o600);
  } catch (err) {
    throw new CliError(`cannot open the log file ${path}: ${(err as Error).message}`, 'check the directory exists and is writable by this user');
  }
  // The stream owns the descriptor from here.
  const ws = createWriteStream(path, { fd, flags: 'a' });
  return ws as unknown as NodeJS.WriteStream;
}

/** A stream that writes to both (the log file and stderr, for warnings and errors). */
function tee(file: NodeJS.WriteStream, stderr: NodeJS.WriteStream): NodeJS.WriteStream {
  const both = Object.create(file) as NodeJS.WriteStream;
  both.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr.write(chunk);
    return (file.write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as NodeJS.WriteStream['write'];
  Object.defineProperty(both, 'isTTY', { value: false });
  return both;
}

/** Waits until everything written to the log file is on disk. */
function closeLog(ws: NodeJS.WriteStream | undefined): Promise<void> {
  if (!ws) return Promise.resolve();
  return new Promise((resolve) => ws.end(() => resolve()));
}

/** Whether something already listens on host:port (a bind probe; nothing is sent). */
function portInUse(host: string, port: number): Promise<boolean> {
  if (port === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

/** Records this process as the home's guardian (what `traffic-guardian reload` signals). */
function writePidFile(file: string): void {
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Removes the pid file if it still names this process. */
function removePidFile(file: string | undefined): void {
  if (!file) return;
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
  } catch {
    // already gone
  }
}

function running(s: ServiceStatus): s is ServiceStatus & GuardianStatus {
  return 'counters' in s;
}

function counterLine(s: GuardianStatus, p: Paint): string {
  const c = s.counters;
  const total = c.findings_exfil + c.findings_injection;
  return (
    `${p.dim(formatDuration(s.uptime_ms))}  requests ${p.bold(String(c.requests))}  ` +
    `findings ${total > 0 ? p.bold(p.red(String(total))) : '0'} ` +
    p.dim(`(${p.severity('critical', `C${c.findings_critical}`)} ${p.severity('high', `H${c.findings_high}`)} ${p.severity('medium', `M${c.findings_medium}`)} ${p.severity('low', `L${c.findings_low}`)})`) +
    `  scanned ↑${formatBytes(c.bytes_scanned_outbound)} ↓${formatBytes(c.bytes_scanned_inbound)}`
  );
}

function envLines(w: ContainerWiring): string[] {
  const lines = Object.entries(w.maskedEnv).map(([k, v]) => `${k}=${v}`);
  for (const m of w.mounts) lines.push(`mount ${m.hostPath} -> ${m.containerPath} (read-only directory)`);
  return lines;
}

export async function runStart(values: StartOptions, io: Io): Promise<number> {
  const logFile = values.logFile;
  if (logFile === '') throw new UsageError('--log-file needs a file path');
  const level = io.verbosity ?? 0;
  // The addon reads its log level once, when the first guardian is created.
  if (level > 0 && !io.env[ENV_LOG]) process.env[ENV_LOG] = level > 1 ? 'debug' : 'info';
  const quiet = level < 0;
  const json = values.json === true;
  const overrides: Record<string, unknown> = { mode: 'detect' };
  const listenFlag = values.listen;
  if (listenFlag !== undefined) {
    try {
      parseListen(listenFlag);
    } catch {
      throw new UsageError(`--listen ${JSON.stringify(listenFlag)} is not HOST:PORT`, 'e.g. --listen 127.0.0.1:8118, --listen 172.17.0.1:8118 or --listen 127.0.0.1:0');
    }
    overrides['listen'] = listenFlag;
  }
  const trust = values.trustRuntime ?? [];
  if (trust.length > 0 && values.mitm !== true) throw new UsageError('--trust-runtime only applies with --mitm');
  if (!values.inspect) overrides['inspect'] = false;
  if (values.mitm === true) overrides['mitm'] = { enabled: true, ...(trust.length > 0 ? { trusted_runtimes: trust } : {}) };
  const opts = configOptions(io, values, overrides);
  const logStream = logFile !== undefined ? openLogFile(logFile) : undefined;
  try {
    return await runGuardian(logStream ? { ...io, stdout: logStream, stderr: tee(logStream, io.stderr) } : io, { values, opts, json, quiet, listenFlag, trust });
  } finally {
    await closeLog(logStream);
  }
}

async function runGuardian(
  io: Io,
  a: { values: StartOptions; opts: ReturnType<typeof configOptions>; json: boolean; quiet: boolean; listenFlag: string | undefined; trust: string[] },
): Promise<number> {
  const { values, opts, json, quiet, listenFlag, trust } = a;
  const pOut = paint(colorEnabled(io.stdout, io.env));
  const tty = io.stdout.isTTY === true && !json && !quiet;
  const emit = (event: Record<string, unknown>) => io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);

  const report = checkTrafficConfig(opts);
  if (!report.ok) {
    if (json) emit({ event: 'error', message: 'invalid config', errors: report.errors });
    for (const e of report.errors) printError(io, `config ${safeText(e.field, 120)}: ${safeText(e.message, 600)}`, safeText(e.hint, 600));
    if (values.mitm === true && trust.length === 0 && report.errors.some((e) => e.field.startsWith('mitm.trusted_runtimes'))) {
      io.stderr.write("with --mitm, add --trust-runtime NAME for each runtime whose containers mount the CA, or --trust-runtime '*'\n");
    }
    io.stderr.write('run `traffic-guardian check-config` to see every issue\n');
    return EXIT.ERROR;
  }

  // One guardian per home: a second would share the status file, store and CA.
  const home0 = effectiveView(report).home;
  if (home0) {
    const other = readStatus(home0);
    if (other.running && other.status && other.status.pid !== process.pid) {
      const where = 'listen' in other.status && other.status.listen ? ` on ${other.status.listen}` : '';
      const what = `a guardian is already running for ${home0} (pid ${other.status.pid}${where})`;
      if (json) emit({ event: 'error', message: what });
      printError(io, safeText(what, 600), 'stop it first (Ctrl-C in its terminal, or stop NanoClaw), or use another --home');
      return EXIT.ERROR;
    }
  }

  // Live display state: findings print above a counter line redrawn in place.
  let lineShown = false;
  let lastStatus: GuardianStatus | undefined;
  const clearLine = () => {
    if (tty && lineShown) io.stdout.write('\r\x1b[2K');
    lineShown = false;
  };
  const drawLine = () => {
    if (!tty || !lastStatus) return;
    io.stdout.write(`\r\x1b[2K${counterLine(lastStatus, pOut)}`);
    lineShown = true;
  };
  const byPattern = new Map<string, number>();
  const onFinding = (f: Finding) => {
    byPattern.set(f.pattern, (byPattern.get(f.pattern) ?? 0) + Math.max(1, f.count));
    if (json) {
      emit({ event: 'finding', finding: f });
      return;
    }
    clearLine();
    io.stdout.write(`${findingLine(f, pOut)}\n`);
    drawLine();
  };
  const logger: TrafficLogger = {
    info: () => undefined,
    warn: (obj, msg) => {
      if (msg === 'traffic guardian finding') return;
      const detail = (obj as Record<string, unknown>)['err'] ?? (obj as Record<string, unknown>)['hint'];
      if (json) emit({ event: 'warning', message: msg ?? '', ...(typeof detail === 'string' ? { detail } : {}) });
      else {
        clearLine();
        io.stderr.write(`warning: ${safeText(msg ?? '', 400)}${typeof detail === 'string' ? ` — ${safeText(detail, 400)}` : ''}\n`);
        drawLine();
      }
    },
    error: () => undefined,
  };

  const service = createTrafficGuardian({ ...opts, onFinding, logger, statusIntervalMs: 2000 });
  const result = await service.start();
  if (!result.started) {
    let what = result.message;
    let hint: string | undefined;
    if (result.reason === 'start_failed') {
      const listen = (service.status() as Partial<GuardianStatus>).listen ?? listenFlag ?? String((report.effective as Record<string, unknown>)['listen'] ?? '');
      let host = '127.0.0.1';
      let port = 0;
      try {
        ({ host, port } = parseListen(listen));
      } catch {
        // keep the raw message
      }
      if (/in use|EADDRINUSE|os error (98|48)/i.test(result.message) || (port > 0 && (await portInUse(host, port)))) {
        what = `port ${port} on ${host} is already in use (another guardian, or another program)`;
        hint = `stop that program, or pick another port: --listen ${host}:0 (any free port) or --listen ${host}:${port === 65535 ? port - 1 : port + 1}`;
      } else if (/permission|EACCES|os error 13/i.test(result.message)) {
        hint = 'ports below 1024 need privileges; use a port above 1024';
      } else if (/assign|EADDRNOTAVAIL|os error 99|os error 49/i.test(result.message)) {
        hint = `${host} is not an address of this host: check \`traffic-guardian setup\` for the address your container runtime needs`;
      }
    } else if (result.reason === 'invalid_config') {
      hint = 'run `traffic-guardian check-config` to see every issue';
    }
    if (json) emit({ event: 'error', message: what, ...(hint ? { hint } : {}) });
    printError(io, safeText(what, 800), hint);
    return EXIT.ERROR;
  }

  const info = result.info;
  const st0 = service.status();
  const home = running(st0) ? st0.home : '';
  let pidFile: string | undefined;
  if (home) {
    try {
      writePidFile(homeLayout(home).pid_file);
      pidFile = homeLayout(home).pid_file;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'cannot write the pid file; `traffic-guardian reload` will not find this guardian (SIGHUP still works)');
    }
  }
  const findingsFile = running(st0) ? st0.findings_file : '';
  let wiring: ContainerWiring | undefined;
  const perRuntime: { name: string; url: string }[] = [];
  try {
    wiring = service.wiring();
    for (const rt of running(st0) ? st0.config.runtimes : []) perRuntime.push({ name: rt, url: service.wiring(rt).proxyUrlMasked });
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'cannot compute the container wiring');
  }
  if (json) {
    emit({
      event: 'started',
      listen: info.address,
      port: info.port,
      mode: info.mode,
      home,
      findings_file: findingsFile,
      status_file: service.statusFile ?? null,
      https: info.https,
      inspect: running(st0) ? st0.inspect : true,
      ...(running(st0) && !st0.inspect ? { warning: INSPECTION_OFF } : {}),
      wiring: wiring ? { env: wiring.maskedEnv, mounts: wiring.mounts, warnings: wiring.warnings, runtimes: perRuntime } : null,
    });
  } else if (!quiet) {
    const p = pOut;
    const lines = [
      `${p.green('●')} ${p.bold('traffic guardian')} listening on ${p.bold(info.address)}  ${p.dim(`(mode ${info.mode}: detect and log, never blocks)`)}`,
      `  home           ${safeText(home, 400)}`,
      `  findings file  ${safeText(findingsFile, 400)}`,
      `  https          ${info.https.mitm ? `inspected (MITM) — CA fingerprint ${safeText(info.https.ca_fingerprint ?? '?')}` : 'tunnelled, not inspected (--mitm to inspect)'}`,
    ];
    if (running(st0) && !st0.inspect) lines.push(`  ${p.bold(p.red('inspection'))}     ${p.red(INSPECTION_OFF)}`);
    if (st0.metrics_listen) lines.push(`  metrics        http://${safeText(st0.metrics_listen)}/metrics`);
    if (st0.metrics_error) lines.push(`  ${p.yellow('metrics')}        not served: ${safeText(st0.metrics_error, 400)}`);
    if (info.https.mitm && info.https.ca_cert_path) lines.push(`  CA public cert ${safeText(info.https.ca_cert_path, 400)}`);
    if (wiring) {
      lines.push('', p.bold('Container wiring') + p.dim(' (tokens masked; `traffic-guardian setup` explains each step)'));
      for (const l of envLines(wiring)) lines.push(`  ${safeText(l, 600)}`);
      for (const r of perRuntime) lines.push(`  runtime ${safeText(r.name)}: HTTP_PROXY=HTTPS_PROXY=${safeText(r.url, 300)}`);
      for (const w of wiring.warnings) lines.push(`  ${p.yellow('note:')} ${safeText(w, 600)}`);
    }
    lines.push('', p.dim(`try: curl -x http://${info.address} http://example.com -I   ·   Ctrl-C to stop`), '');
    io.stdout.write(`${lines.join('\n')}\n`);
  }

  return new Promise<number>((resolve) => {
    let exitCode: number = EXIT.OK;
    const refresh = () => {
      const s = service.status();
      if (running(s)) lastStatus = s;
      // The proxy died under us (e.g. its listener failed): say why, then stop.
      if (!stopping && !s.running) {
        const why = running(s) ? (s.last_error ?? s.store_error ?? s.state) : (s.reason ?? s.state);
        clearLine();
        if (json) emit({ event: 'error', message: `the guardian stopped unexpectedly: ${why}` });
        printError(io, `the guardian stopped unexpectedly: ${safeText(why, 600)}`, 'check the address and the log dir, then start again');
        exitCode = EXIT.ERROR;
        stop('SIGTERM');
        return;
      }
      if (tty) drawLine();
    };
    let stopping = false;
    // Keeps the event loop alive while the proxy runs (the addon does not).
    const timer = setInterval(refresh, 1000);
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.stderr.write(`\n${signal} again: exiting without waiting for the proxy to drain\n`);
        process.exit(EXIT.ERROR);
      }
      stopping = true;
      clearInterval(timer);
      clearLine();
      if (!json && !quiet && exitCode === EXIT.OK) io.stderr.write(pOut.dim(`${signal}: stopping…\n`));
      const before = service.status();
      service
        .stop()
        .catch((err: unknown) => {
          printError(io, `stop failed: ${(err as Error).message}`);
        })
        .then(() => {
          const after = service.status();
          const s = running(after) ? after : running(before) ? before : undefined;
          const uptime = running(before) ? before.uptime_ms : 0;
          removePidFile(pidFile);
          if (json || !quiet) summary(io, json, pOut, s, uptime, byPattern, findingsFile, emit);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.off('SIGHUP', reload);
          resolve(exitCode);
        });
    };
    // SIGHUP: re-read the config (the service validates, applies or rejects).
    const reload = () => {
      if (stopping) return;
      const r: ReloadResult = service.reload();
      clearLine();
      if (json) {
        emit({ event: 'reload', applied: r.applied, ...(r.error ? { error: r.error } : {}), issues: r.issues, restart_needed: r.restart_needed });
      } else if (r.applied) {
        if (!quiet) {
          io.stderr.write(pOut.dim(`SIGHUP: configuration reloaded; applies to new connections\n`));
          if (r.restart_needed.length > 0) io.stderr.write(`warning: changed but not applied until a restart: ${r.restart_needed.map((k) => safeText(k, 60)).join(', ')}\n`);
        }
      } else {
        printError(io, 'config reload rejected: the running configuration is kept');
        if (r.issues.length > 0) for (const e of r.issues) io.stderr.write(`  config ${safeText(e.field, 120)}: ${safeText(e.message, 600)}${e.hint ? ` (${safeText(e.hint, 600)})` : ''}\n`);
        else io.stderr.write(`  ${safeText(r.error ?? 'unknown error', 1200)}\n`);
      }
      refresh();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', reload);
    refresh();
  });
}

function summary(
  io: Io,
  json: boolean,
  p: Paint,
  s: GuardianStatus | undefined,
  uptimeMs: number,
  byPattern: Map<string, number>,
  findingsFile: string,
  emit: (e: Record<string, unknown>) => void,
): void {
  const c = s?.counters;
  const patterns = Object.fromEntries([...byPattern.entries()].sort((a, b) => b[1] - a[1]));
  const data = {
    uptime_ms: uptimeMs,
    requests: c?.requests ?? 0,
    responses: c?.responses ?? 0,
    connections: c?.connections ?? 0,
    bytes_scanned_outbound: c?.bytes_scanned_outbound ?? 0,
    bytes_scanned_inbound: c?.bytes_scanned_inbound ?? 0,
    findings: {
      total: (c?.findings_exfil ?? 0) + (c?.findings_injection ?? 0),
      by_type: { EXFIL: c?.findings_exfil ?? 0, INJECTION: c?.findings_injection ?? 0 },
      by_severity: { critical: c?.findings_critical ?? 0, high: c?.findings_high ?? 0, medium: c?.findings_medium ?? 0, low: c?.findings_low ?? 0 },
      by_pattern: patterns,
      written: c?.findings_written ?? 0,
    },
    findings_file: findingsFile,
  };
  if (json) {
    emit({ event: 'stopped', summary: data });
    return;
  }
  const f = data.findings;
  const lines = [
    `${p.bold('traffic guardian stopped')} after ${formatDuration(uptimeMs)}`,
    `  requests       ${data.requests} (connections ${data.connections})`,
    `  scanned        out ${formatBytes(data.bytes_scanned_outbound)}, in ${formatBytes(data.bytes_scanned_inbound)}`,
    `  findings       ${f.total} (EXFIL ${f.by_type.EXFIL}, INJECTION ${f.by_type.INJECTION})`,
    `  by severity    ${(['critical', 'high', 'medium', 'low'] as const).map((k) => p.severity(k, `${k} ${f.by_severity[k]}`)).join(', ')}`,
  ];
  const top = Object.entries(patterns).slice(0, 8);
  if (top.length > 0) lines.push(`  by pattern     ${top.map(([k, v]) => `${safeText(k, 60)} ${v}`).join(', ')}`);
  lines.push(`  findings file  ${safeText(findingsFile, 400)}`);
  if (f.total > 0) lines.push(p.dim('  review: traffic-guardian findings --since 24h   ·   traffic-guardian report'));
  io.stdout.write(`${lines.join('\n')}\n`);
}

