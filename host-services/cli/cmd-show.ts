/**
 * `traffic-guardian show <id>`: one stored finding with all its context
 * (method, redacted path, status, content type, size, decode chain,
 * connection and request ids), then every other finding of the same
 * exchange and of the same client connection. Everything shown is already
 * redacted by the addon; traffic-derived text still goes through `safeText`.
 */
import type { Finding } from '@clawsec/traffic-guardian/addon';

import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import { CliError, EXIT, UsageError, colorEnabled, formatBytes, paint, requirePaths, safeText, table, termWidth, type Io, type Paint } from './common.js';
import { collectFindings, ignoreQuery } from './store.js';

/** The `show` command line: options, help and typed values. */
export const showCli = () =>
  withConfig(
    cliCommand('show', 'one finding with its exchange context, and the others of that exchange')
      .usage('<finding-id> [--json]')
      .description(
        `Prints one stored finding with everything known about the exchange it came
from — method, redacted URL path (no query; credential-like segments shown
as [MASKED]), response status, content type, message size, decode chain,
connection and request ids — and lists every other finding of the same
exchange (same request id) and of the same client connection. No body and
no secret is ever shown.

The id may be shortened to any unique prefix (as \`findings\` prints it,
e.g. tgf_3fa1c0); suppressed findings are shown too.`,
      )
      .argument('[finding-id]', 'the finding id (tgf_…) or a unique prefix of it'),
    'config file (to find log_dir)',
  )
    .option('--json', '{finding, same_exchange, same_connection} as JSON')
    .allowExcessArguments()
    .addHelpText(
      'after',
      afterHelp(`
Exit status: 0 shown, 1 no such finding or error, 2 usage error (also an
ambiguous prefix).

Examples:
  traffic-guardian show tgf_3fa1c09e5d2b7a41
  traffic-guardian show tgf_3fa1 --json | jq .same_exchange[].pattern`),
    );

export type ShowOptions = OptionsOf<typeof showCli>;

export const showCommand = (run: Runner) =>
  showCli().action((_id, opts, cmd) => run((io) => runShow(cmd.args, opts, io)));

/** Where a finding was, as one line: `POST /upload/[MASKED]/x → 404`. */
export function requestLine(f: Finding): string {
  const parts = [f.method ?? '', f.path ?? ''].filter((x) => x !== '').map((x) => safeText(x, 200));
  if (f.status !== undefined && f.status !== null) parts.push(`→ ${f.status}`);
  return parts.join(' ');
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The finding `id` names (exactly or by a unique prefix); throws with a did-you-mean otherwise. */
export function resolveFinding(all: readonly Finding[], id: string): Finding {
  const exact = all.find((f) => f.id === id);
  if (exact) return exact;
  const byPrefix = all.filter((f) => f.id.startsWith(id));
  const ids = [...new Set(byPrefix.map((f) => f.id))];
  if (ids.length === 1) return byPrefix[0] as Finding;
  if (ids.length > 1) {
    const shown = ids.slice(0, 5).map((x) => safeText(x, 40)).join(', ');
    throw new UsageError(`the id prefix ${JSON.stringify(safeText(id, 60))} matches ${ids.length} findings (${shown}${ids.length > 5 ? ', …' : ''})`, 'give more characters of the id');
  }
  // Nearest ids: the longest shared prefix beyond `tgf_`.
  let best = 0;
  for (const f of all) best = Math.max(best, commonPrefix(f.id, id));
  const near = best > 4 ? [...new Set(all.filter((f) => commonPrefix(f.id, id) === best).map((f) => f.id))].slice(0, 3) : [];
  const hint = near.length > 0
    ? `did you mean ${near.map((x) => safeText(x, 40)).join(' or ')}? \`traffic-guardian findings\` lists the ids`
    : '`traffic-guardian findings` lists the ids (tgf_ + 16 hex digits)';
  throw new CliError(`no finding with id ${JSON.stringify(safeText(id, 60))}${all.length === 0 ? ' (the store has no findings)' : ''}`, hint);
}

function detail(f: Finding, p: Paint, width: number | undefined): string {
  const row = (k: string, v: string) => {
    const line = `  ${k.padEnd(13)}${v}`;
    return width !== undefined && [...line].length > width ? `${[...line].slice(0, width - 1).join('')}…` : line;
  };
  const lines = [
    `${p.bold(`finding ${safeText(f.id, 40)}`)}  ${p.severity(f.severity, f.severity.toUpperCase())} ${f.threat_type} ${p.bold(safeText(f.pattern, 60))}${f.count > 1 ? p.dim(` ×${f.count}`) : ''}`,
    row('time', safeText(f.timestamp, 40)),
    row('direction', `${f.direction} (${safeText(f.protocol, 20)})`),
    row('source', safeText(f.source || '?', 120)),
    row('dest', safeText(f.dest || '?', 200)),
  ];
  const req = requestLine(f);
  if (req) lines.push(row('request', req));
  if (f.content_type) lines.push(row('content type', safeText(f.content_type, 120)));
  if (f.size_bytes !== undefined && f.size_bytes !== null) lines.push(row('size', `${formatBytes(f.size_bytes)}${f.size_bytes >= 1024 ? ` (${f.size_bytes} bytes)` : ''}`));
  lines.push(row('location', safeText(f.location, 120)));
  if (f.decoded) lines.push(row('decoded', safeText(f.decoded, 120)));
  if (f.request_id) lines.push(row('exchange', `${safeText(f.request_id, 60)}${f.connection_id ? ` (connection ${safeText(f.connection_id, 60)})` : ''}`));
  lines.push(row('fingerprint', safeText(f.fingerprint, 80)));
  lines.push(row('snippet', safeText(f.snippet, 400)));
  if (!f.request_id) lines.push(p.dim('  (no exchange context: an offline scan, or written by a version before it was recorded)'));
  return `${lines.join('\n')}\n`;
}

/** Ids in tables are cut to this many characters: unique enough, and `show` takes a prefix. */
const SHORT_ID = 12;

function relatedTable(rows: readonly Finding[], p: Paint, width: number | undefined, withRequest: boolean): string {
  const headers = ['ID', 'SEVERITY', 'PATTERN', 'DIR', ...(withRequest ? ['REQUEST'] : []), 'LOCATION', 'SNIPPET'];
  return table(
    headers,
    rows.map((f) => [
      safeText(f.id, 40).slice(0, SHORT_ID),
      p.severity(f.severity),
      safeText(f.pattern, 40),
      f.direction === 'outbound' ? 'out' : 'in',
      ...(withRequest ? [`${safeText(f.request_id?.split('.').pop() ?? '', 12)} ${requestLine(f)}`.trim()] : []),
      safeText(f.location, 40),
      safeText(f.snippet, 120),
    ]),
    p,
    undefined,
    width,
  );
}

export function runShow(positionals: string[], values: ShowOptions, io: Io): number {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(positionals.length === 0 ? 'show needs a finding id' : 'show takes one finding id', 'e.g. traffic-guardian show tgf_3fa1c09e5d2b7a41 (`traffic-guardian findings` lists the ids)');
  const id = positionals[0].trim();
  const { view } = requirePaths(io, values);
  const all = collectFindings(io, view.log_dir, { ...ignoreQuery(view.home, { includeIgnored: true }) }, 1_000_000);
  const f = resolveFinding(all, id);
  const others = all.filter((o) => o.id !== f.id);
  const sameExchange = f.request_id ? others.filter((o) => o.request_id === f.request_id) : [];
  const sameConnection = f.connection_id ? others.filter((o) => o.connection_id === f.connection_id && o.request_id !== f.request_id) : [];
  // Oldest first: the order the exchange happened in.
  const byTime = (a: Finding, b: Finding) => a.timestamp.localeCompare(b.timestamp);
  sameExchange.sort(byTime);
  sameConnection.sort(byTime);
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify({ finding: f, same_exchange: sameExchange, same_connection: sameConnection }, null, 2)}\n`);
    return EXIT.OK;
  }
  const p = paint(colorEnabled(io.stdout, io.env));
  const width = termWidth(io);
  let out = detail(f, p, width);
  if (f.request_id) {
    out += `\n${p.bold(`Same exchange (${safeText(f.request_id, 60)})`)}: ${sameExchange.length === 0 ? 'no other finding' : `${sameExchange.length} more`}\n`;
    if (sameExchange.length > 0) out += relatedTable(sameExchange, p, width, false);
  }
  if (f.connection_id) {
    out += `\n${p.bold(`Same connection (${safeText(f.connection_id, 60)}), other exchanges`)}: ${sameConnection.length === 0 ? 'no finding' : `${sameConnection.length}`}\n`;
    if (sameConnection.length > 0) out += relatedTable(sameConnection, p, width, true);
  }
  io.stdout.write(out);
  return EXIT.OK;
}
