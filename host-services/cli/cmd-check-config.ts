/** `traffic-guardian check-config`: validates the layered config without starting anything. */
import type { ConfigIssue } from '@clawsec/traffic-guardian/addon';

import { CONFIG_OPTIONS, EXIT, colorEnabled, loadConfig, optBool, paint, parse, safeText, type Io } from './common.js';

export const CHECK_CONFIG_HELP = `Usage: traffic-guardian check-config [--config FILE] [--home DIR] [--json]

Validates the guardian configuration exactly as \`start\` (and NanoClaw) would —
built-in defaults < config file < NANOCLAW_TRAFFIC_GUARDIAN_* env < options —
without starting anything. Lists each error and warning with the field, the
problem and how to fix it. Secrets (runtime tokens, proxy credentials) are
shown masked.

Options:
  -c, --config FILE   JSON config file (default: $NANOCLAW_TRAFFIC_GUARDIAN_CONFIG,
                      else <home>/config.json when present)
      --home DIR      guardian home (default: $NANOCLAW_TRAFFIC_GUARDIAN_HOME,
                      else ~/.config/nanoclaw/traffic-guardian)
      --json          print the report as JSON {ok, errors, warnings, effective, sources}
  -h, --help          show this help

Exit status: 0 valid, 1 invalid, 2 usage error.

Examples:
  traffic-guardian check-config
  traffic-guardian check-config --config ./guardian.json
  traffic-guardian check-config --json | jq .errors
`;

export function runCheckConfig(args: string[], io: Io): number {
  const { values } = parse(args, { ...CONFIG_OPTIONS, json: { type: 'boolean' } });
  if (optBool(values, 'help')) {
    io.stdout.write(CHECK_CONFIG_HELP);
    return EXIT.OK;
  }
  const { report, view } = loadConfig(io, values);
  if (optBool(values, 'json')) {
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
