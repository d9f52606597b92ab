/**
 * `traffic-guardian status`: the state of the guardian running for this home
 * in another process (NanoClaw, or `traffic-guardian start`), read from the
 * owner-only `<home>/status.json` the service keeps fresh. A status whose
 * process is gone, or that stopped being refreshed, is reported as stale.
 */
import { readFileSync, statSync } from 'node:fs';

import { existsSync } from 'node:fs';

import { homeLayout, ignoreList, queryFindings } from '@clawsec/traffic-guardian/addon';
import type { GuardianStatus } from '@clawsec/traffic-guardian/addon';

import { STATUS_FILE_NAME, type ServiceStatus } from '../lifecycle.js';
import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import {
  EXIT,
  CliError,
  colorEnabled,
  formatBytes,
  formatDuration,
  isQuiet,
  paint,
  requirePaths,
  safeText,
  type Io,
} from './common.js';

/** The `status` command line: options, help and typed values. */
export const statusCli = () =>
  withConfig(
    cliCommand('status', 'is a guardian running for this home? counters and addresses')
      .usage('[--config FILE] [--home DIR] [--json]')
      .description(
        `Shows whether a guardian is running for this home (inside NanoClaw or a
\`traffic-guardian start\` in another terminal), from the owner-only status
file <home>/${STATUS_FILE_NAME} that a running guardian refreshes every few
seconds. A status file whose process has exited, or that has not been
refreshed recently, is reported as "not running (stale status from …)".`,
      ),
  )
    .option('--json', 'print {running, stale, reason, status} as JSON')
    .addHelpText(
      'after',
      afterHelp(`
With -q nothing is printed: the exit status is the answer.

Exit status: 0 running, 3 not running, 1 error, 2 usage error.

Examples:
  traffic-guardian status
  traffic-guardian status --json | jq .status.counters`),
    );

export type StatusOptions = OptionsOf<typeof statusCli>;

export const statusCommand = (run: Runner) => statusCli().action((opts) => run((io) => runStatus(opts, io)));

/** How the bare proxy (`inspect: false`, `start --no-inspect`) is named everywhere. */
export const INSPECTION_OFF = 'inspection OFF — benchmarking aid, finds nothing';

/** A status older than this is stale even if its pid exists (pids get reused). */
export const STALE_AFTER_MS = 15_000;

export interface StatusReading {
  running: boolean;
  stale: boolean;
  reason: string;
  file: string;
  status?: ServiceStatus;
}

function pidAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: exists but belongs to someone else — still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads and judges `<home>/status.json`. */
export function readStatus(home: string, now = Date.now()): StatusReading {
  const file = homeLayout(home).status_file;
  let text: string;
  try {
    if (statSync(file).size > 1024 * 1024) throw new CliError(`status file ${file} is unexpectedly large`, 'remove it; a running guardian rewrites it');
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { running: false, stale: false, reason: 'no guardian has run for this home (no status file)', file };
    if (code === 'EACCES') throw new CliError(`cannot read ${file} (permission denied)`, 'run as the user that runs the guardian');
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let status: ServiceStatus;
  try {
    status = JSON.parse(text) as ServiceStatus;
  } catch {
    return { running: false, stale: true, reason: 'the status file is not valid JSON (a crash mid-write?)', file };
  }
  const updated = Date.parse(String(status.updated_at));
  const age = Number.isNaN(updated) ? Infinity : now - updated;
  const alive = pidAlive(status.pid);
  const when = Number.isNaN(updated) ? 'an unknown time' : new Date(updated).toISOString();
  if (!status.running) {
    const why = status.reason && status.reason !== status.state ? `: ${status.reason}` : '';
    return { running: false, stale: false, reason: `not running (${status.state}${why}; last update ${when})`, file, status };
  }
  if (!alive) return { running: false, stale: true, reason: `not running (stale status from ${when}: process ${status.pid} has exited)`, file, status };
  if (age > STALE_AFTER_MS) {
    return { running: false, stale: true, reason: `not running (stale status from ${when}: not refreshed for ${formatDuration(age)})`, file, status };
  }
  return { running: true, stale: false, reason: 'running', file, status };
}

export interface IgnoredReading {
  /** Entries in the suppression list. */
  entries: number;
  /** Stored findings (all time) the list suppresses. */
  findings: number;
  error?: string;
}

/** How many entries the suppression list has and how many stored findings it hides. */
export function readIgnored(home: string, logDir: string): IgnoredReading {
  const file = homeLayout(home).ignore_file;
  try {
    const entries = ignoreList(file).length;
    if (entries === 0 || !existsSync(logDir)) return { entries, findings: 0 };
    return { entries, findings: queryFindings(logDir, { limit: 1, ignore_file: file }).ignored };
  } catch (err) {
    return { entries: 0, findings: 0, error: (err as Error).message };
  }
}

export function runStatus(values: StatusOptions, io: Io): number {
  const { view } = requirePaths(io, values);
  const r = readStatus(view.home);
  const ign = readIgnored(view.home, view.log_dir);
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify({ running: r.running, stale: r.stale, reason: r.reason, status_file: r.file, status: r.status ?? null, ignored: ign }, null, 2)}\n`);
    return r.running ? EXIT.OK : EXIT.ATTENTION;
  }
  // -q: the exit status is the answer (0 running, 3 not), like `systemctl is-active --quiet`.
  if (isQuiet(io)) return r.running && r.status && 'counters' in r.status ? EXIT.OK : EXIT.ATTENTION;
  const p = paint(colorEnabled(io.stdout, io.env));
  if (!r.running || !r.status || !('counters' in r.status)) {
    const ignLine = ign.entries > 0 ? `  ignored: ${ign.findings} stored finding${ign.findings === 1 ? '' : 's'} suppressed by ${ign.entries} entr${ign.entries === 1 ? 'y' : 'ies'}\n` : '';
    io.stdout.write(`${p.yellow('● not running')}  ${safeText(r.reason, 400)}\n  home: ${safeText(view.home, 400)}\n${ignLine}  start one with: traffic-guardian start\n`);
    return EXIT.ATTENTION;
  }
  const s = r.status;
  const c = s.counters;
  const lines = [
    `${p.green('● running')}  pid ${s.pid}, up ${formatDuration(s.uptime_ms)}, mode ${safeText(s.mode)}`,
    `  listen         ${safeText(s.listen ?? '?')}`,
    ...(s.inspect === false ? [`  ${p.red('inspection')}     ${p.red(INSPECTION_OFF)}`] : []),
    ...(s.metrics_listen ? [`  metrics        http://${safeText(s.metrics_listen)}/metrics`] : []),
    ...(s.hook ? [`  on_finding     runs ${s.hook.hook_runs}, failed ${s.hook.hook_failures}, timed out ${s.hook.hook_timeouts}, dropped ${s.hook.hook_dropped}, queued ${s.hook.hook_queued}`] : []),
    `  home           ${safeText(s.home, 400)}`,
    `  findings file  ${safeText(s.findings_file, 400)}`,
    `  https          ${s.https.mitm ? `inspected (MITM), CA ${safeText(s.https.ca_fingerprint ?? '?')}` : 'tunnelled, not inspected'}`,
    `  runtimes       ${s.config.runtimes.length > 0 ? s.config.runtimes.map((x) => safeText(x)).join(', ') : 'none'}${s.config.require_auth ? ' (auth required)' : ''}`,
    `  requests       ${c.requests} (connections ${c.connections}, tunnels ${c.tunnels}, websocket msgs ${c.websocket_messages})`,
    `  connections    open ${c.open_connections}; closed silent ${c.silent_connections_closed}, idle ${c.idle_connections_closed}`,
    `  scanned        out ${formatBytes(c.bytes_scanned_outbound)}, in ${formatBytes(c.bytes_scanned_inbound)}`,
    `  scan queue     ${formatBytes(c.scan_queue_bytes ?? 0)} now, peak ${formatBytes(c.scan_queue_peak_bytes ?? 0)}; scan time ${formatDuration(c.scan_time_ms ?? 0)}`,
    `  unscanned      overload ${formatBytes(c.unscanned_overload_bytes ?? 0)}, over max_scan_bytes ${formatBytes(c.unscanned_limit_bytes ?? 0)}, binary ${formatBytes(c.unscanned_binary_bytes ?? 0)}, long streams over their scan rate ${formatBytes(c.unscanned_stream_budget_bytes ?? 0)}`,
    `  findings       ${c.findings_exfil + c.findings_injection} (EXFIL ${c.findings_exfil}, INJECTION ${c.findings_injection}; ` +
      `${p.severity('critical', `critical ${c.findings_critical}`)}, ${p.severity('high', `high ${c.findings_high}`)}, ` +
      `${p.severity('medium', `medium ${c.findings_medium}`)}, ${p.severity('low', `low ${c.findings_low}`)})`,
  ];
  const problems: string[] = [];
  if (c.upstream_errors) problems.push(`upstream errors ${c.upstream_errors}`);
  if (c.auth_failures) problems.push(`auth failures ${c.auth_failures}`);
  if (c.pivot_refusals) problems.push(`refused private destinations ${c.pivot_refusals}`);
  if (c.unscanned_overload_bytes) {
    // A status file written before the key existed has no scan_priority: no hint then.
    const background = s.config.scan_priority === 'background';
    problems.push(
      `bytes not scanned because the scan threads were behind ${formatBytes(c.unscanned_overload_bytes)}` +
        (background ? ' (scan_priority "background": busy cores forward first; "normal" lets scanning share them)' : ''),
    );
  }
  if (c.truncated_messages) problems.push(`messages scanned partially (over max_scan_bytes) ${c.truncated_messages}`);
  if (c.client_protocol_errors) problems.push(`malformed client requests ${c.client_protocol_errors}`);
  if (c.client_timeouts) problems.push(`stalled clients cut off ${c.client_timeouts}`);
  if (c.upstream_timeouts) problems.push(`upstreams that never answered ${c.upstream_timeouts}`);
  if (c.rejected_total_cap || c.rejected_client_cap) {
    problems.push(`connections refused over the cap ${c.rejected_total_cap + c.rejected_client_cap} (total cap ${c.rejected_total_cap}, per-client cap ${c.rejected_client_cap})`);
  }
  if (c.write_errors) problems.push(`finding write errors ${c.write_errors}`);
  if (c.findings_pending) problems.push(`findings waiting to be written ${c.findings_pending}`);
  if (c.findings_dropped) problems.push(`findings dropped (retry queue full) ${c.findings_dropped}`);
  if (ign.entries > 0) lines.push(`  ignored        ${ign.findings} stored finding${ign.findings === 1 ? '' : 's'} suppressed by ${ign.entries} entr${ign.entries === 1 ? 'y' : 'ies'} (\`traffic-guardian ignore list\`); still counted above`);
  if (s.hook && (s.hook.hook_failures || s.hook.hook_timeouts || s.hook.hook_dropped)) {
    problems.push(`on_finding hook failed ${s.hook.hook_failures}, timed out ${s.hook.hook_timeouts}, dropped ${s.hook.hook_dropped}`);
  }
  if (s.metrics_error) problems.push(`metrics not served: ${safeText(s.metrics_error, 300)}`);
  if (ign.error) problems.push(`ignore list unreadable: ${safeText(ign.error, 300)}`);
  const rl = (s as { reload?: GuardianStatus['reload'] }).reload;
  if (rl && rl.applied + rl.rejected > 0) {
    const last = rl.last;
    const what = last ? (last.applied ? `applied${last.restart_needed.length > 0 ? ` (needs a restart: ${last.restart_needed.map((k) => safeText(k, 60)).join(', ')})` : ''}` : `rejected: ${safeText((last.issues[0] ? `${last.issues[0].field}: ${last.issues[0].message}` : last.error) ?? '', 300)}`) : '?';
    lines.push(`  reloads        ${rl.applied} applied, ${rl.rejected} rejected; last ${safeText(rl.last_at ?? '?')} ${what}`);
    if (last && !last.applied) problems.push('the last config reload was rejected (the running configuration is kept)');
  }
  if (problems.length > 0) lines.push(`  ${p.yellow('attention')}      ${problems.join(', ')}`);
  if (s.store_error) lines.push(`  ${p.red('store error')}    ${safeText(s.store_error, 400)}`);
  if (s.last_error) lines.push(`  ${p.red('last error')}     ${safeText(s.last_error, 400)}`);
  lines.push(`  updated        ${safeText(s.updated_at)}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.OK;
}
