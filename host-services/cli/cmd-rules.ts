/**
 * `traffic-guardian rules`: the built-in rule registry as the addon reports
 * it. `--markdown` prints the README's rule table, so the documentation is
 * generated from the registry rather than maintained by hand.
 */
import { ruleCatalog } from '@clawsec/traffic-guardian/addon';

import { afterHelp, cliCommand, type OptionsOf, type Runner } from './command.js';
import { EXIT, UsageError, colorEnabled, termWidth, paint, safeText, table, type Io } from './common.js';

/** The `rules` command line: options, help and typed values. */
export const rulesCli = () =>
  cliCommand('rules', 'the built-in detection rules (--markdown for the README table)')
    .usage('[--type EXFIL|INJECTION] [--json | --markdown]')
    .description(
      `Lists the built-in detection rules: id (the \`pattern\` of a finding), threat
type, severity, kind and description. EXFIL rules run on outbound traffic
(requests leaving containers), INJECTION rules on inbound traffic (responses
coming back). "secret" rules redact and fingerprint what they match;
"indicator" rules match a command or payload shape; "derived" kinds come
from where a rule matched (model_tool_call: a command in a tool call a model
streams back).`,
    )
    .option('--type <type>', 'only EXFIL or INJECTION rules')
    .option('--json', 'the registry as a JSON array (includes expected_hosts)')
    .option('--markdown', 'the Markdown table used in README.md')
    .addHelpText(
      'after',
      afterHelp(`
Examples:
  traffic-guardian rules
  traffic-guardian rules --type INJECTION
  traffic-guardian rules --markdown > docs/rules.md`),
    );

export type RulesOptions = OptionsOf<typeof rulesCli>;

export const rulesCommand = (run: Runner) => rulesCli().action((opts) => run((io) => runRules(opts, io)));

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function runRules(values: RulesOptions, io: Io): number {
  if (values.json && values.markdown) throw new UsageError('--json and --markdown cannot be combined');
  const typeRaw = values.type;
  const type = typeRaw?.toUpperCase();
  if (type !== undefined && type !== 'EXFIL' && type !== 'INJECTION') throw new UsageError(`--type ${JSON.stringify(typeRaw)} is not a threat type`, 'use EXFIL or INJECTION');
  const rules = ruleCatalog().filter((r) => type === undefined || r.threat_type === type);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(rules, null, 2)}\n`);
    return EXIT.OK;
  }
  if (values.markdown) {
    const lines = ['| Rule id | Threat | Severity | Kind | Description |', '|---|---|---|---|---|'];
    for (const r of rules) {
      lines.push(`| \`${mdCell(r.id)}\` | ${r.threat_type} | ${r.severity} | ${r.kind} | ${mdCell(r.description)} |`);
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.OK;
  }
  const p = paint(colorEnabled(io.stdout, io.env));
  const rows = rules.map((r) => [safeText(r.id, 60), r.threat_type, p.severity(r.severity), r.kind, safeText(r.description, 200)]);
  io.stdout.write(table(['RULE', 'THREAT', 'SEVERITY', 'KIND', 'DESCRIPTION'], rows, p, undefined, termWidth(io)));
  const exfil = rules.filter((r) => r.threat_type === 'EXFIL').length;
  io.stdout.write(p.dim(`${rules.length} rules (${exfil} EXFIL, ${rules.length - exfil} INJECTION)\n`));
  return EXIT.OK;
}
