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

import { afterHelp, cliCommand, usageHelp, withConfig, type OptionsOf, type Runner } from './command.js';
import { CliError, EXIT, UsageError, colorEnabled, didYouMean, isQuiet, paint, requirePaths, safeText, table, termWidth, type Io } from './common.js';

const KINDS = ['aws', 'github', 'anthropic', 'openai', 'slack', 'generic'];
const CANARY_ID = /^can_[0-9a-f]{12}$/;

/** The `canary` command line: options, help and typed values. */
export const canaryCli = () =>
  withConfig(
    cliCommand('canary', 'mint, list and retire canary credentials planted in a group (any sighting is critical)')
      .usage(
        `new --group GROUP --kind ${KINDS.join('|')} [--json]
       traffic-guardian canary list [--json]
       traffic-guardian canary retire CANARY_ID`,
      )
      .description(
        `A canary is a fake credential in the provider's real format, minted for one
NanoClaw group and planted where an agent could find it (the group's .env,
a config file in its workspace). Nothing legitimate ever sends it: the
guardian reports any sighting, to any host (its own provider's included),
as a critical \`canary_token\` finding naming the group and the canary id.`,
      )
      .argument(
        '[action]',
        `new: mint one; prints the value ONCE as NAME=value lines: copy it into the group's environment now. The home keeps only keyed hashes (<home>/canaries.json, mode 0600), so it cannot be shown again. Restart the guardian to load it
list: the canaries (id, group, kind, created_at)
retire: stop watching for CANARY_ID`,
      )
      .argument('[canary-id]', 'retire: the canary to stop watching for (can_…, from `canary list`)')
      .option('--group <group>', 'new: the NanoClaw group it is planted in (A-Z a-z 0-9 _ . -)')
      .option('--kind <kind>', `new: ${KINDS.join(', ')}`)
      .option('--json', 'new: print {info, lines} as JSON; list: the canaries as JSON'),
  )
    .allowExcessArguments()
    .addHelpText(
      'after',
      afterHelp(`
Exit status: 0 ok, 1 error (e.g. no such canary), 2 usage error.

Examples:
  traffic-guardian canary new --group main --kind aws >> groups/main/.env
  traffic-guardian canary list
  traffic-guardian canary retire can_0123456789ab`),
    );

export type CanaryOptions = OptionsOf<typeof canaryCli>;

export const canaryCommand = (run: Runner) =>
  canaryCli().action((action, _id, opts, cmd) =>
    run((io) => (action === undefined ? usageHelp(cmd) : runCanary(action, cmd.args.slice(1), opts, io))),
  );

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

export function runCanary(sub: string, positionals: string[], values: CanaryOptions, io: Io): number {
  const subs = ['new', 'list', 'retire'];
  if (!subs.includes(sub)) throw new UsageError(`unknown canary command ${JSON.stringify(sub)}`, didYouMean(sub, subs, 'use new, list or retire'));
  const quiet = isQuiet(io);
  const json = values.json === true;
  if (sub !== 'new') {
    for (const f of ['group', 'kind'] as const) if (values[f] !== undefined) throw new UsageError(`--${f} is only for \`canary new\``);
  }
  const { view } = requirePaths(io, values);
  const home = homeLayout(view.home).home;
  if (sub === 'new') {
    if (positionals.length > 0) throw new UsageError('canary new takes no arguments', 'use --group and --kind');
    const group = values.group;
    const kind = values.kind;
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
