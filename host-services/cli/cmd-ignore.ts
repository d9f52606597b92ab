/**
 * `traffic-guardian ignore`: the operator's suppression list, like
 * gitleaks' `.gitleaksignore`. Entries live in the home's ignore file
 * (0600; the path comes from the addon's `homeLayout`). Suppressed findings
 * are still stored and counted; `findings` and `report` leave them out
 * unless `--include-ignored`.
 */
import { homeLayout, ignoreAdd, ignoreList, ignoreRemove, ruleCatalog } from '@clawsec/traffic-guardian/addon';
import type { Finding, IgnoreEntry } from '@clawsec/traffic-guardian/addon';

import { afterHelp, cliCommand, usageHelp, withConfig, type OptionsOf, type Runner } from './command.js';
import { CliError, EXIT, UsageError, colorEnabled, termWidth, didYouMean, isQuiet, paint, requirePaths, safeText, table, type Io } from './common.js';
import { findStoredFinding } from './store.js';

/** The `ignore` command line: options, help and typed values. */
export const ignoreCli = () =>
  withConfig(
    cliCommand('ignore', 'suppress known findings (add, list, remove); they stay counted')
      .usage(
        `add [FINDING_ID|FINGERPRINT] [--rule RULE_ID] [--dest HOST[:PORT]] [--source GROUP] [--reason TEXT]
       traffic-guardian ignore list [--json]
       traffic-guardian ignore remove IGNORE_ID`,
      )
      .description(
        `Keeps known, accepted findings (a test key, an expected upload) out of
\`findings\` and \`report\`. Suppressed findings are still written and
counted: \`status\` shows how many, and \`--include-ignored\` lists them.
The list is <home>/ignore.json (mode 0600); it holds fingerprints, rule ids
and destinations, never a secret.`,
      )
      .argument('[action]', 'add, list or remove')
      .argument(
        '[id]',
        `add: a finding's id (tgf_…, from \`findings\`): suppresses every finding of the same value (its keyed fingerprint) for the same rule; or a FINGERPRINT, 16 hex digits (a finding's "fingerprint"): every finding of that value
remove: the entry's id (ign_…, from \`ignore list\`)`,
      )
      .option('--rule <rule-id>', 'add: only this rule (`traffic-guardian rules` lists them)')
      .option('--dest <host[:port]>', 'add: only this destination (a bare host: any port)')
      .option('--source <group>', 'add: only this source (runtime name or client address)')
      .option('--reason <text>', 'add: why (shown by `ignore list`)')
      .option('--json', 'list: the entries as JSON'),
    'config file (to find the home and log_dir)',
  )
    .allowExcessArguments()
    .addHelpText(
      'after',
      afterHelp(`
For add, every criterion given must match. Without FINDING_ID or
FINGERPRINT, at least one of --rule, --dest, --source is needed.

Exit status: 0 ok, 1 error (e.g. no such entry), 2 usage error.

Examples:
  traffic-guardian ignore add tgf_0123456789abcdef --reason "revoked test key"
  traffic-guardian ignore add --rule generic_api_key --dest ci.internal.example:443
  traffic-guardian ignore list
  traffic-guardian ignore remove ign_0123456789ab`),
    );

export type IgnoreOptions = OptionsOf<typeof ignoreCli>;

export const ignoreCommand = (run: Runner) =>
  ignoreCli().action((action, _id, opts, cmd) =>
    run((io) => (action === undefined ? usageHelp(cmd) : runIgnore(action, cmd.args.slice(1), opts, io))),
  );

const FINDING_ID = /^tgf_[0-9a-f]{16}$/;
const FINGERPRINT = /^[0-9a-f]{16}$/;
const IGNORE_ID = /^ign_[0-9a-f]{12}$/;

function ignoreFile(io: Io, values: IgnoreOptions): { file: string; logDir: string } {
  const { view } = requirePaths(io, values);
  return { file: homeLayout(view.home).ignore_file, logDir: view.log_dir };
}

function addonCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'InvalidArg') throw new UsageError(e.message, 'see `traffic-guardian ignore --help`');
    throw new CliError(e.message);
  }
}

function describe(e: IgnoreEntry): string {
  const parts: string[] = [];
  if (e.fingerprint) parts.push(`fingerprint ${e.fingerprint}`);
  else if (e.finding_id) parts.push(`finding ${e.finding_id}`);
  if (e.rule) parts.push(`rule ${e.rule}`);
  if (e.dest) parts.push(`dest ${e.dest}`);
  if (e.source) parts.push(`source ${e.source}`);
  return safeText(parts.join(', '), 300);
}

export function runIgnore(sub: string, positionals: string[], values: IgnoreOptions, io: Io): number {
  const subs = ['add', 'list', 'remove'];
  if (!subs.includes(sub)) throw new UsageError(`unknown ignore command ${JSON.stringify(sub)}`, didYouMean(sub, subs, 'use add, list or remove'));
  const quiet = isQuiet(io);
  const p = paint(colorEnabled(io.stdout, io.env));
  if (sub !== 'add') {
    for (const f of ['rule', 'dest', 'source', 'reason'] as const) if (values[f] !== undefined) throw new UsageError(`--${f} is only for \`ignore add\``);
  }
  if (sub === 'list') {
    if (positionals.length > 0) throw new UsageError('ignore list takes no arguments');
    const { file } = ignoreFile(io, values);
    const entries = addonCall(() => ignoreList(file));
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return EXIT.OK;
    }
    if (entries.length === 0) {
      if (!quiet) io.stdout.write(`no ignore entries in ${safeText(file, 400)}\n`);
      return EXIT.OK;
    }
    const rows = entries.map((e) => [e.id ?? '?', describe(e), safeText(e.created_at ?? '', 24), safeText(e.reason ?? '', 120)]);
    io.stdout.write(table(['ID', 'MATCHES', 'ADDED', 'REASON'], rows, p, undefined, termWidth(io)));
    return EXIT.OK;
  }
  if (values.json === true) throw new UsageError('--json is only for `ignore list`');
  if (sub === 'remove') {
    if (positionals.length !== 1) throw new UsageError('ignore remove takes one entry id', '`traffic-guardian ignore list` shows the ids (ign_…)');
    const id = positionals[0] ?? '';
    if (!IGNORE_ID.test(id)) throw new UsageError(`${JSON.stringify(safeText(id, 60))} is not an ignore entry id`, 'ids look like ign_0123456789ab; `traffic-guardian ignore list` shows them');
    const { file } = ignoreFile(io, values);
    const gone = addonCall(() => ignoreRemove(file, id));
    if (!gone) throw new CliError(`no ignore entry ${id} in ${safeText(file, 400)}`, '`traffic-guardian ignore list` shows the ids');
    if (!quiet) io.stdout.write(`removed ${id} (${describe(gone)}); matching findings are listed again\n`);
    return EXIT.OK;
  }

  // add
  if (positionals.length > 1) throw new UsageError(`ignore add takes at most one finding id or fingerprint, got ${positionals.length}`);
  const target = positionals[0];
  const rule = values.rule;
  if (rule !== undefined) {
    const ids = ruleCatalog().map((r) => r.id);
    if (!ids.includes(rule)) throw new UsageError(`--rule ${JSON.stringify(rule)} is not a rule id`, didYouMean(rule, ids, '`traffic-guardian rules` lists the rule ids'));
  }
  const dest = values.dest;
  if (dest !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._*-]+)(:\d{1,5})?$/.test(dest)) {
    throw new UsageError(`--dest ${JSON.stringify(safeText(dest, 80))} is not a host or host:port`, 'e.g. --dest api.example.com or --dest api.example.com:443');
  }
  const entry: IgnoreEntry = {};
  if (rule !== undefined) entry.rule = rule;
  if (dest !== undefined) entry.dest = dest;
  const source = values.source;
  if (source !== undefined) entry.source = source;
  const reason = values.reason;
  if (reason !== undefined) entry.reason = reason;
  const { file, logDir } = ignoreFile(io, values);
  if (target !== undefined) {
    if (FINDING_ID.test(target)) {
      const f: Finding | undefined = findStoredFinding(logDir, target);
      if (!f) throw new CliError(`no finding ${target} in ${safeText(logDir, 400)}`, 'copy the id from `traffic-guardian findings`, or pass the finding\'s fingerprint');
      if (rule !== undefined && rule !== f.pattern) throw new UsageError(`finding ${target} is from rule ${f.pattern}, not ${rule}`, 'leave --rule out to use the finding\'s rule');
      entry.finding_id = f.id;
      if (f.fingerprint) entry.fingerprint = f.fingerprint;
      entry.rule = f.pattern;
    } else if (FINGERPRINT.test(target)) {
      entry.fingerprint = target;
    } else {
      throw new UsageError(`${JSON.stringify(safeText(target, 60))} is neither a finding id nor a fingerprint`, 'a finding id looks like tgf_0123456789abcdef, a fingerprint like 0123456789abcdef (both from `traffic-guardian findings --json`)');
    }
  }
  const added = addonCall(() => ignoreAdd(file, entry));
  if (!quiet) io.stdout.write(`added ${added.id}: ignoring findings with ${describe(added)}\n`);
  return EXIT.OK;
}
