/** `traffic-guardian check-config`: validates the layered config without starting anything. */
import type { ConfigIssue } from '@clawsec/traffic-guardian/addon';

import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import { EXIT, colorEnabled, loadConfig, paint, safeText, type Io } from './common.js';

/** The `check-config` command line: options, help and typed values. */
export const checkConfigCli = () =>
  withConfig(
    cliCommand('check-config', 'validate the configuration without starting anything')
      .usage('[--config FILE] [--home DIR] [--json]')
      .description(
        `Validates the guardian configuration exactly as \`start\` (and NanoClaw) would —
built-in defaults < config file < NANOCLAW_TRAFFIC_GUARDIAN_* env < options —
without starting anything. Lists each error and warning with the field, the
problem and how to fix it. Secrets (runtime tokens, proxy credentials) are
shown masked.`,
      ),
    'JSON config file (default: $NANOCLAW_TRAFFIC_GUARDIAN_CONFIG, else <home>/config.json when present)',
    'guardian home (default: $NANOCLAW_TRAFFIC_GUARDIAN_HOME, else ~/.config/nanoclaw/traffic-guardian)',
  )
    .option('--json', 'print the report as JSON {ok, errors, warnings, effective, sources}')
    .addHelpText(
      'after',
      afterHelp(`
Exit status: 0 valid, 1 invalid, 2 usage error.

Examples:
  traffic-guardian check-config
  traffic-guardian check-config --config ./guardian.json
  traffic-guardian check-config --json | jq .errors`),
    );

export type CheckConfigOptions = OptionsOf<typeof checkConfigCli>;

export const checkConfigCommand = (run: Runner) => checkConfigCli().action((opts) => run((io) => runCheckConfig(opts, io)));

export function runCheckConfig(values: CheckConfigOptions, io: Io): number {
  const { report, view } = loadConfig(io, values);
  if (values.json === true) {
    const out = {
      ok: report.ok,
      errors: report.errors,
      warnings: report.warnings,
      effective: report.effective,
      sources: report.sources,
    };
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return report.ok ? EXIT.OK : EXIT.ERROR;
  }
  const p = paint(colorEnabled(io.stdout, io.env));
  const lines: string[] = [];
  lines.push(
    report.ok
      ? `${p.green('✔ config is valid')} ${p.dim(`(sources: ${report.sources.map((s) => safeText(s)).join(', ')})`)}`
      : `${p.red(`✘ config is invalid: ${report.errors.length} error${report.errors.length === 1 ? '' : 's'}`)} ${p.dim(`(sources: ${report.sources.map((s) => safeText(s)).join(', ')})`)}`,
  );
  if (report.ok) {
    lines.push(`  mode      ${view.mode}${view.mode === 'off' ? p.dim('  (NanoClaw starts nothing; `traffic-guardian start` runs in detect mode)') : ''}`);
    lines.push(`  listen    ${safeText(view.listen)}`);
    lines.push(`  home      ${safeText(view.home, 400)}`);
    lines.push(`  log dir   ${safeText(view.log_dir, 400)}`);
    lines.push(`  https     ${view.mitm_enabled ? 'inspected (MITM)' : 'tunnelled, not inspected'}`);
    lines.push(`  runtimes  ${view.runtimes.length > 0 ? view.runtimes.map((r) => safeText(r)).join(', ') : p.dim('none')}${view.require_auth ? ' (auth required)' : ''}`);
  }
  const issue = (kind: 'error' | 'warning', i: ConfigIssue) => {
    const tag = kind === 'error' ? p.red('error  ') : p.yellow('warning');
    lines.push(`  ${tag} ${p.bold(safeText(i.field, 120))}: ${safeText(i.message, 600)}`);
    if (i.hint) lines.push(`          ${p.dim('fix:')} ${safeText(i.hint, 600)}`);
  };
  if (report.errors.length > 0) {
    lines.push('');
    lines.push(p.bold('Errors'));
    for (const e of report.errors) issue('error', e);
  }
  if (report.warnings.length > 0) {
    lines.push('');
    lines.push(p.bold('Warnings'));
    for (const w of report.warnings) issue('warning', w);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return report.ok ? EXIT.OK : EXIT.ERROR;
}
