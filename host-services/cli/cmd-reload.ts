/**
 * `traffic-guardian reload`: asks the `traffic-guardian start` serving this
 * home to re-read its configuration (SIGHUP to the pid in
 * `<home>/guardian.pid`), then waits for the status file to show the
 * outcome: applied to new connections, or rejected with the running
 * configuration kept. Only a `start` process is signalled: a guardian run
 * inside NanoClaw keeps no pid file (NanoClaw's own SIGHUP means something else).
 */
import { readFileSync } from 'node:fs';

import { homeLayout, restartOnlyKeys } from '@clawsec/traffic-guardian/addon';

import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import { CliError, EXIT, colorEnabled, isQuiet, paint, printError, requirePaths, safeText, type Io } from './common.js';
import { readStatus } from './cmd-status.js';

/** `words` joined by `, ` and broken into lines of at most `width` characters. */
function listLines(words: string[], width = 76): string {
  const lines: string[] = [];
  let line = '';
  for (const [i, w] of words.entries()) {
    const item = i < words.length - 1 ? `${w},` : `${w}.`;
    if (line && line.length + 1 + item.length > width) {
      lines.push(line);
      line = item;
    } else {
      line = line ? `${line} ${item}` : item;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** The `reload` command line: options, help and typed values. */
export const reloadCli = () =>
  withConfig(
    cliCommand('reload', 'make the running `start` re-read its config (SIGHUP); applied or rejected')
      .usage('[--config FILE] [--home DIR] [--json] [--timeout SECONDS]')
      .description(
        `Makes the running \`traffic-guardian start\` of this home re-read its config
file and environment (the same as \`kill -HUP <pid>\`), validate it and apply
it to connections accepted from then on. Connections already open keep the
configuration they started with.

Needing a restart (reported, not applied):
${listLines(restartOnlyKeys())}
Every other key (max_scan_bytes, redact_snippets, expected_destinations,
mitm.trusted_runtimes, mitm.exclude_hosts, require_auth, runtimes,
on_finding, …) is applied without one. Flags given to \`start\`
(--listen, --mitm, --trust-runtime) still apply on top of the file.

An invalid config is rejected: the running configuration is kept and every
problem is printed with its field. \`status\` shows the reload count and the
last result.`,
      ),
  )
    .option('--json', 'print the outcome as JSON')
    .option('--timeout <seconds>', 'how long to wait for the outcome (default 10)')
    .addHelpText(
      'after',
      afterHelp(`
Exit status: 0 applied, 1 rejected or no guardian to reload, 2 usage error.

Examples:
  traffic-guardian reload
  traffic-guardian reload --json | jq .restart_needed`),
    );

export type ReloadOptions = OptionsOf<typeof reloadCli>;

export const reloadCommand = (run: Runner) => reloadCli().action((opts) => run((io) => runReload(opts, io)));

interface ReloadSnapshot {
  applied: number;
  rejected: number;
  last?: { applied: boolean; error?: string | null; issues?: { field: string; message: string; hint: string }[]; restart_needed?: string[] } | null;
  last_at?: string | null;
}

function reloadOf(status: unknown): ReloadSnapshot | undefined {
  const r = (status as { reload?: ReloadSnapshot } | undefined)?.reload;
  return r && typeof r.applied === 'number' && typeof r.rejected === 'number' ? r : undefined;
}

function readPid(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runReload(values: ReloadOptions, io: Io): Promise<number> {
  const t = values.timeout;
  if (t !== undefined && !/^\d{1,4}$/.test(t)) throw new CliError(`--timeout ${JSON.stringify(t)} is not a number of seconds`, undefined, EXIT.USAGE);
  const timeoutMs = (t !== undefined ? Number(t) : 10) * 1000;
  const { view } = requirePaths(io, values);
  const pidFile = homeLayout(view.home).pid_file;
  const pid = readPid(pidFile);
  const noGuardian = 'start one with `traffic-guardian start`; a guardian run by NanoClaw takes config changes when NanoClaw restarts';
  if (pid === undefined) throw new CliError(`no \`traffic-guardian start\` is running for ${safeText(view.home, 400)} (no pid file ${safeText(pidFile, 400)})`, noGuardian);
  const before = readStatus(view.home);
  if (!before.running || before.status?.pid !== pid) {
    throw new CliError(`the guardian of ${safeText(view.home, 400)} is not running (${safeText(before.reason, 300)}; pid file names ${pid})`, noGuardian);
  }
  const seen = reloadOf(before.status);
  const count0 = seen ? seen.applied + seen.rejected : 0;
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    throw new CliError(`cannot signal the guardian (pid ${pid}): ${(err as Error).message}`, 'run as the user that runs the guardian');
  }
  // The guardian rewrites its status file right after the reload.
  const deadline = Date.now() + timeoutMs;
  let after: ReloadSnapshot | undefined;
  for (;;) {
    const r = readStatus(view.home);
    const snap = reloadOf(r.status);
    if (snap && snap.applied + snap.rejected > count0) {
      after = snap;
      break;
    }
    if (!r.running && r.status?.pid === pid) throw new CliError(`the guardian stopped instead of reloading (${safeText(r.reason, 300)})`);
    if (Date.now() > deadline) throw new CliError(`sent SIGHUP to pid ${pid} but its status file showed no reload within ${timeoutMs / 1000} s`, 'check the guardian\'s output; `traffic-guardian status` shows the last reload');
    await sleep(100);
  }
  const last = after.last ?? { applied: false, error: 'unknown outcome' };
  const restart = last.restart_needed ?? [];
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify({ pid, applied: last.applied, error: last.error ?? undefined, issues: last.issues ?? [], restart_needed: restart, reloads: { applied: after.applied, rejected: after.rejected }, at: after.last_at ?? undefined }, null, 2)}\n`);
    return last.applied ? EXIT.OK : EXIT.ERROR;
  }
  const p = paint(colorEnabled(io.stdout, io.env));
  if (last.applied) {
    if (!isQuiet(io)) {
      io.stdout.write(`${p.green('● reloaded')}  the guardian (pid ${pid}) applied the configuration to new connections\n`);
      if (restart.length > 0) io.stdout.write(`  ${p.yellow('not applied until a restart')}: ${restart.map((k) => safeText(k, 60)).join(', ')}\n`);
    }
    return EXIT.OK;
  }
  printError(io, 'reload rejected: the guardian keeps its running configuration');
  const issues = last.issues ?? [];
  if (issues.length > 0) for (const i of issues) io.stderr.write(`  config ${safeText(i.field, 120)}: ${safeText(i.message, 600)}${i.hint ? ` (${safeText(i.hint, 600)})` : ''}\n`);
  else io.stderr.write(`  ${safeText(last.error ?? '', 1200)}\n`);
  io.stderr.write('fix the config (`traffic-guardian check-config` shows every issue), then reload again\n');
  return EXIT.ERROR;
}
