/**
 * `traffic-guardian rules`: the built-in rule registry as the addon reports
 * it. `--markdown` prints the README's rule table, so the documentation is
 * generated from the registry rather than maintained by hand.
 */
import { ruleCatalog } from '@clawsec/traffic-guardian/addon';

import { EXIT, UsageError, colorEnabled, termWidth, optBool, optString, paint, parse, safeText, table, type Io } from './common.js';

export const RULES_HELP = `Usage: traffic-guardian rules [--type EXFIL|INJECTION] [--json | --markdown]

Lists the built-in detection rules: id (the \`pattern\` of a finding), threat
type, severity, kind and description. EXFIL rules run on outbound traffic
(requests leaving containers), INJECTION rules on inbound traffic (responses
coming back). "secret" rules redact and fingerprint what they match;
"indicator" rules match a command or payload shape; "derived" kinds come
from where a rule matched (model_tool_call: a command in a tool call a model
streams back).

Options:
      --type TYPE     only EXFIL or INJECTION rules
      --json          the registry as a JSON array (includes expected_hosts)
      --markdown      the Markdown table used in README.md
  -h, --help          show this help

Examples:
  traffic-guardian rules
  traffic-guardian rules --type INJECTION
  traffic-guardian rules --markdown > docs/rules.md
`;

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function runRules(args: string[], io: Io): number {
  const { values } = parse(args, { json: { type: 'boolean' }, markdown: { type: 'boolean' }, type: { type: 'string' } });
  if (optBool(values, 'help')) {
    io.stdout.write(RULES_HELP);
    return EXIT.OK;
  }
  if (optBool(values, 'json') && optBool(values, 'markdown')) throw new UsageError('--json and --markdown cannot be combined');
  const typeRaw = optString(values, 'type');
  const type = typeRaw?.toUpperCase();
  if (type !== undefined && type !== 'EXFIL' && type !== 'INJECTION') throw new UsageError(`--type ${JSON.stringify(typeRaw)} is not a threat type`, 'use EXFIL or INJECTION');
  const rules = ruleCatalog().filter((r) => type === undefined || r.threat_type === type);
  if (optBool(values, 'json')) {
    io.stdout.write(`${JSON.stringify(rules, null, 2)}\n`);
    return EXIT.OK;
  }
  if (optBool(values, 'markdown')) {
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
