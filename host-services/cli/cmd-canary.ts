/**
 * `traffic-guardian canary`: mint, list and retire canary credentials.
 * A canary is a fake credential in a real format (valid-looking checksum
 * where the format has one), planted in a NanoClaw group's environment or
 * files. The home keeps only its keyed hashes (<home>/canaries.json, 0600);
 * the value is printed once by `canary new` and never again. Any sighting in
 * traffic, its own provider's host included, is a critical `canary_token`
 * finding naming the group and the canary id.
 */
import { canaryList, canaryNew, canaryRetire, homeLayout } from '@clawsec/traffic-guardian/addon';
import type { CanaryInfo } from '@clawsec/traffic-guardian/addon';

import { CONFIG_OPTIONS, CliError, EXIT, UsageError, colorEnabled, didYouMean, isQuiet, optBool, optString, paint, parse, requirePaths, safeText, table, termWidth, type Io } from './common.js';

const KINDS = ['aws', 'github', 'anthropic', 'openai', 'slack', 'generic'];
const CANARY_ID = /^can_[0-9a-f]{12}$/;

export const CANARY_HELP = `Usage: traffic-guardian canary new --group GROUP --kind ${KINDS.join('|')} [--json]
       traffic-guardian canary list [--json]
       traffic-guardian canary retire CANARY_ID

A canary is a fake credential in the provider's real format, minted for one
NanoClaw group and planted where an agent could find it (the group's .env,
a config file in its workspace). Nothing legitimate ever sends it: the
guardian reports any sighting, to any host (its own provider's included),
as a critical \`canary_token\` finding naming the group and the canary id.

new:
      --group GROUP     the NanoClaw group it is planted in (A-Z a-z 0-9 _ . -)
      --kind KIND       ${KINDS.join(', ')}
      --json            print {info, lines} as JSON
  Prints the value ONCE as NAME=value lines: copy it into the group's
  environment now. The home keeps only keyed hashes (<home>/canaries.json,
  mode 0600), so it cannot be shown again. Restart the guardian to load it.
list:
      --json            the canaries (id, group, kind, created_at) as JSON
retire:
  CANARY_ID             stop watching for that canary (can_…, from \`canary list\`)

Options:
  -c, --config FILE     config file (to find the home)
      --home DIR        guardian home
  -h, --help            show this help

Exit status: 0 ok, 1 error (e.g. no such canary), 2 usage error.

Examples:
  traffic-guardian canary new --group main --kind aws >> groups/main/.env
  traffic-guardian canary list
  traffic-guardian canary retire can_0123456789ab
`;

function addonCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'InvalidArg') throw new UsageError(e.message, 'see `traffic-guardian canary --help`');
    throw new CliError(e.message);
  }
}

function row(c: CanaryInfo): string[] {
  return [safeText(c.id, 20), safeText(c.group, 64), safeText(c.kind, 12), safeText(c.created_at, 24)];
}

export function runCanary(args: string[], io: Io): number {
  const [sub, ...rest] = args;
  if (sub === undefined || args.includes('-h') || args.includes('--help')) {
    io.stdout.write(CANARY_HELP);
    return sub === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const subs = ['new', 'list', 'retire'];
  if (!subs.includes(sub)) throw new UsageError(`unknown canary command ${JSON.stringify(sub)}`, didYouMean(sub, subs, 'use new, list or retire'));
  const { values, positionals } = parse(rest, { ...CONFIG_OPTIONS, group: { type: 'string' }, kind: { type: 'string' }, json: { type: 'boolean' } }, true);
  const quiet = isQuiet(io);
  const json = optBool(values, 'json');
  if (sub !== 'new') {
    for (const f of ['group', 'kind']) if (values[f] !== undefined) throw new UsageError(`--${f} is only for \`canary new\``);
  }
  const { view } = requirePaths(io, values);
  const home = homeLayout(view.home).home;
  if (sub === 'new') {
    if (positionals.length > 0) throw new UsageError('canary new takes no arguments', 'use --group and --kind');
    const group = optString(values, 'group');
    const kind = optString(values, 'kind');
    if (group === undefined) throw new UsageError('canary new needs --group GROUP', 'the NanoClaw group the canary is planted in, e.g. --group main');
    if (kind === undefined) throw new UsageError('canary new needs --kind KIND', `one of ${KINDS.join(', ')}`);
    if (!KINDS.includes(kind)) throw new UsageError(`--kind ${JSON.stringify(safeText(kind, 40))} is not a canary kind`, didYouMean(kind, KINDS, `one of ${KINDS.join(', ')}`));
    const minted = addonCall(() => canaryNew(home, group, kind));
    if (json) {
      io.stdout.write(`${JSON.stringify(minted, null, 2)}\n`);
    } else {
      // The NAME=value lines alone on stdout, so `>> .env` plants them.
      for (const [name, value] of minted.lines) io.stdout.write(`${name}=${value}\n`);
    }
    if (!quiet) {
      io.stderr.write(
        `minted canary ${minted.info.id} (${minted.info.kind}) for group ${safeText(minted.info.group, 64)}; ` +
          'this is the only time its value is shown. Plant it in the group\'s environment or files, ' +
          'and restart the guardian to start watching for it.\n',
      );
    }
    return EXIT.OK;
  }
  if (sub === 'list') {
    if (positionals.length > 0) throw new UsageError('canary list takes no arguments');
    const list = addonCall(() => canaryList(home));
    if (json) {
      io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return EXIT.OK;
    }
    if (list.length === 0) {
      if (!quiet) io.stdout.write('no canaries; `traffic-guardian canary new --group G --kind K` mints one\n');
      return EXIT.OK;
    }
    const p = paint(colorEnabled(io.stdout, io.env));
    io.stdout.write(table(['ID', 'GROUP', 'KIND', 'CREATED'], list.map(row), p, undefined, termWidth(io)));
    return EXIT.OK;
  }
  // retire
  if (json) throw new UsageError('--json is for `canary new` and `canary list`');
  if (positionals.length !== 1) throw new UsageError('canary retire takes one canary id', '`traffic-guardian canary list` shows the ids (can_…)');
  const id = positionals[0] ?? '';
  if (!CANARY_ID.test(id)) throw new UsageError(`${JSON.stringify(safeText(id, 60))} is not a canary id`, 'ids look like can_0123456789ab; `traffic-guardian canary list` shows them');
  const gone = addonCall(() => canaryRetire(home, id));
  if (!gone) throw new CliError(`no canary ${id} in ${safeText(view.home, 400)}`, '`traffic-guardian canary list` shows the ids');
  if (!quiet) io.stdout.write(`retired ${gone.id} (${gone.kind}, group ${safeText(gone.group, 64)}); restart the guardian to stop watching for it\n`);
  return EXIT.OK;
}
