/**
 * `traffic-guardian nanoclaw apply <dir> [--dry-run]`: integrates the
 * guardian into a NanoClaw checkout with the edits INSTALL.md lists (one
 * list, host-services/nanoclaw/edits.ts). `nanoclaw edits [--line v1|v2]`
 * prints them as INSTALL.md does.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { homeLayout } from '@clawsec/traffic-guardian/addon';

import { NanoclawApplyError, planNanoclawApply, renderEditsMarkdown, unifiedDiff, writeNanoclawChanges } from '../nanoclaw/apply.js';
import { planKnownEnv, writeKnownEnv, type KnownEnvResult } from '../nanoclaw/known-env.js';
import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import { CliError, EXIT, UsageError, requirePaths, type Io } from './common.js';

/** The `nanoclaw` command line: options, help and typed values. */
export const nanoclawCli = () =>
  withConfig(
    cliCommand('nanoclaw', 'apply the integration edits to a NanoClaw v1/v2 checkout (--dry-run: diff)')
      .usage(
        `apply <nanoclaw-dir> [--dry-run] [--known-env]
       traffic-guardian nanoclaw edits --line v1|v2`,
      )
      .description(
        `apply   detects NanoClaw v1 (1.2.21+) or v2 (2.0.x) from <dir>/package.json
        and makes the integration edits INSTALL.md lists: new files, and
        lines inserted at named anchor lines. It writes nothing when any
        anchor is missing (and names the file and the line), and a second
        run changes nothing. It never installs packages or rebuilds: it
        prints those commands.
edits   prints the edits of one line as Markdown (what INSTALL.md shows).`,
      )
      .argument('[action]', 'apply or edits')
      .argument('[nanoclaw-dir]', 'apply: the NanoClaw checkout')
      .option('--dry-run', 'print a unified diff instead of writing')
      .option(
        '--known-env',
        'also register the values of <dir>/.env as known secrets named by their keys: they are written only to <home>/nanoclaw-env.secrets (0600) for "known_secrets_file"; only the names are printed',
      )
      .option('--line <line>', 'v1 or v2 (edits)'),
    'config file (to find the home, with --known-env)',
    'guardian home (with --known-env)',
  )
    .allowExcessArguments()
    .addHelpText(
      'after',
      afterHelp(`
Examples:
  traffic-guardian nanoclaw apply ~/nanoclaw --dry-run
  traffic-guardian nanoclaw apply ~/nanoclaw
  traffic-guardian nanoclaw apply ~/nanoclaw --known-env
  traffic-guardian nanoclaw edits --line v2`),
    );

export type NanoclawOptions = OptionsOf<typeof nanoclawCli>;

export const nanoclawCommand = (run: Runner) => nanoclawCli().action((_action, _dir, opts, cmd) => run((io) => runNanoclaw(cmd.args, opts, io)));

export function runNanoclaw(positionals: string[], values: NanoclawOptions, io: Io): number {
  const [sub, dir, ...extra] = positionals;
  if (sub === 'edits') {
    const line = values.line;
    if (line !== 'v1' && line !== 'v2') throw new UsageError('nanoclaw edits needs --line v1 or --line v2');
    io.stdout.write(renderEditsMarkdown(line));
    return EXIT.OK;
  }
  if (sub !== 'apply') throw new UsageError(`unknown nanoclaw subcommand ${JSON.stringify(sub ?? '')}`, 'use `nanoclaw apply <dir>` or `nanoclaw edits --line v1|v2`');
  if (dir === undefined || extra.length > 0) throw new UsageError('nanoclaw apply takes exactly one directory', 'e.g. traffic-guardian nanoclaw apply ~/nanoclaw --dry-run');
  const root = resolve(dir);
  let result;
  try {
    result = planNanoclawApply(root);
  } catch (err) {
    if (err instanceof NanoclawApplyError) throw new CliError(err.message, err.hint);
    throw err;
  }
  const dry = values.dryRun === true;
  const knownEnv = values.knownEnv === true;
  const envPath = join(root, '.env');
  if (knownEnv && !existsSync(envPath)) throw new CliError(`--known-env: ${envPath} does not exist`, 'NanoClaw keeps its host secrets in the .env at the root of the checkout; create it or leave out --known-env');
  const home = knownEnv ? homeLayout(requirePaths(io, values).view.home).home : '';
  io.stdout.write(`NanoClaw ${result.version} (${result.line}) at ${root}\n`);
  if (result.changes.length === 0) {
    io.stdout.write('already applied: nothing to change\n');
    if (knownEnv) reportKnownEnv(io, dry ? planKnownEnv(envPath, home) : writeKnownEnv(envPath, home), dry);
    return EXIT.OK;
  }
  if (dry) {
    for (const c of result.changes) io.stdout.write(unifiedDiff(c));
    if (knownEnv) reportKnownEnv(io, planKnownEnv(envPath, home), true);
    io.stdout.write(`dry run: ${result.changes.length} file(s) would change; nothing was written\n`);
    return EXIT.OK;
  }
  writeNanoclawChanges(root, result.changes);
  if (knownEnv) reportKnownEnv(io, writeKnownEnv(envPath, home), false);
  for (const c of result.changes) io.stdout.write(`${c.before === undefined ? 'created' : 'edited '} ${c.file}\n`);
  io.stdout.write(`\nInstall the package (if not done yet):\n${result.plan.before.map((l) => `  ${l}`).join('\n')}\n`);
  io.stdout.write(`Then rebuild:\n${result.plan.after.map((l) => `  ${l}`).join('\n')}\n`);
  return EXIT.OK;
}

/** Names and counts only: a value is never printed. */
function reportKnownEnv(io: Io, r: KnownEnvResult, dry: boolean): void {
  io.stdout.write(`${dry ? 'would register' : 'registered'} ${r.names.length} .env value(s) as known secrets${r.names.length ? `: ${r.names.join(', ')}` : ''}\n`);
  for (const s of r.skipped) io.stdout.write(`  skipped ${s.name}: ${s.reason}\n`);
  if (dry) return;
  io.stdout.write(`  written to ${r.file} (0600). Point the guardian at it: "known_secrets_file": ${JSON.stringify(r.file)} in its config, then \`traffic-guardian reload\`\n`);
}
