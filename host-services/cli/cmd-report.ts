/**
 * `traffic-guardian report`: a summary of a period's findings (counts by
 * pattern, severity, destination and source; first and last seen; the
 * destinations that received secrets) as text, Markdown or JSON.
 */
import type { Finding } from '@clawsec/traffic-guardian/addon';

import { chmodSync, writeFileSync } from 'node:fs';

import { renderHtml } from './report-html.js';
import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import { CliError, EXIT, UsageError, colorEnabled, didYouMean, note, termWidth, paint, requirePaths, safeText, table, type Io, type Paint } from './common.js';
import { SEVERITIES } from './format.js';
import { collectFindings, ignoreQuery, queryFromFlags } from './store.js';

/** The `report` command line: options, help and typed values. */
export const reportCli = () =>
  withConfig(
    cliCommand('report', 'summary of a period: by pattern, severity, destination, source')
      .usage('[--since AGE|TIME] [--format text|md|json|html] [--out FILE]')
      .description(
        `Summarises the findings of a period: totals, first and last seen, counts by
severity, threat type, pattern, destination and source, and the destinations
that received secrets (EXFIL). Occurrences count repeats folded into one
finding by deduplication.`,
      )
      .option('--since <age|time>', 'period start (default 24h): 15m, 1h, 7d, 2w or an ISO time')
      .option('--until <age|time>', 'period end (default now)')
      .option('--type <type>', 'only EXFIL or INJECTION')
      .option('--source <name>', 'only one source (runtime name or client address)')
      .option('--include-ignored', 'count findings suppressed by `traffic-guardian ignore` too')
      .option(
        '--format <format>',
        'text (default), md (Markdown, for tickets and PRs), json, or html: one self-contained page (no script, nothing loaded from anywhere) with a timeline, breakdowns and top findings',
      )
      .option('--json', 'the same as --format json')
      .option('-o, --out <file>', 'write the report to FILE (mode 0600) instead of stdout')
      .option('--top <n>', 'rows per table (default 10)'),
    'config file (to find log_dir)',
  ).addHelpText(
    'after',
    afterHelp(`
Exit status: 0 ok, 1 error, 2 usage error.

Examples:
  traffic-guardian report
  traffic-guardian report --since 7d --format md > guardian-week.md
  traffic-guardian report --since 2026-01-01T00:00:00Z --format json | jq .top_exfil_destinations
  traffic-guardian report --since 7d --format html --out guardian-week.html`),
  );

export type ReportOptions = OptionsOf<typeof reportCli>;

export const reportCommand = (run: Runner) => reportCli().action((opts) => run((io) => runReport(opts, io)));

/** Hard bound on findings read for one report (memory stays bounded). */
const MAX_REPORT_FINDINGS = 200_000;

interface Bucket {
  key: string;
  findings: number;
  occurrences: number;
  first_seen: string;
  last_seen: string;
  patterns?: string[];
}

export interface Report {
  since: string;
  until: string | null;
  generated_at: string;
  total_findings: number;
  total_occurrences: number;
  truncated: boolean;
  /** Findings of the period matching the suppression list (left out unless includes_ignored). */
  ignored: number;
  includes_ignored: boolean;
  first_seen: string | null;
  last_seen: string | null;
  by_severity: Record<string, number>;
  by_threat_type: Record<string, number>;
  by_pattern: Bucket[];
  by_destination: Bucket[];
  by_source: Bucket[];
  top_exfil_destinations: Bucket[];
}

function bump(map: Map<string, Bucket & { pset?: Set<string> }>, key: string, f: Finding, withPatterns = false): void {
  let b = map.get(key);
  if (!b) {
    b = { key, findings: 0, occurrences: 0, first_seen: f.timestamp, last_seen: f.timestamp };
    if (withPatterns) b.pset = new Set();
    map.set(key, b);
  }
  b.findings += 1;
  b.occurrences += Math.max(1, f.count);
  if (f.timestamp < b.first_seen) b.first_seen = f.timestamp;
  if (f.timestamp > b.last_seen) b.last_seen = f.timestamp;
  b.pset?.add(f.pattern);
}

function sorted(map: Map<string, Bucket & { pset?: Set<string> }>): Bucket[] {
  return [...map.values()]
    .map(({ pset, ...b }) => (pset ? { ...b, patterns: [...pset].sort() } : b))
    .sort((a, b) => b.occurrences - a.occurrences || b.findings - a.findings || a.key.localeCompare(b.key));
}

export function buildReport(findings: readonly Finding[], since: string, until: string | null, truncated: boolean): Report {
  const bySev: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  const byType: Record<string, number> = { EXFIL: 0, INJECTION: 0 };
  const pattern = new Map<string, Bucket>();
  const dest = new Map<string, Bucket>();
  const source = new Map<string, Bucket>();
  const exfil = new Map<string, Bucket & { pset?: Set<string> }>();
  let first: string | null = null;
  let last: string | null = null;
  let occ = 0;
  for (const f of findings) {
    const n = Math.max(1, f.count);
    occ += n;
    bySev[f.severity] = (bySev[f.severity] ?? 0) + n;
    byType[f.threat_type] = (byType[f.threat_type] ?? 0) + n;
    bump(pattern, f.pattern, f);
    bump(dest, f.dest || '(unknown)', f);
    bump(source, f.source || '(unknown)', f);
    if (f.threat_type === 'EXFIL') bump(exfil, f.dest || '(unknown)', f, true);
    if (first === null || f.timestamp < first) first = f.timestamp;
    if (last === null || f.timestamp > last) last = f.timestamp;
  }
  return {
    since,
    until,
    generated_at: new Date().toISOString(),
    total_findings: findings.length,
    total_occurrences: occ,
    truncated,
    ignored: 0,
    includes_ignored: false,
    first_seen: first,
    last_seen: last,
    by_severity: bySev,
    by_threat_type: byType,
    by_pattern: sorted(pattern),
    by_destination: sorted(dest),
    by_source: sorted(source),
    top_exfil_destinations: sorted(exfil),
  };
}

/** Escapes a cell for a Markdown table. */
function md(s: string): string {
  return safeText(s, 120).replace(/\|/g, '\\|').replace(/`/g, "'");
}

function renderMarkdown(r: Report, top: number): string {
  const out: string[] = [];
  out.push(`# Traffic guardian report`);
  out.push('');
  out.push(`Period: since \`${md(r.since)}\`${r.until ? ` until \`${md(r.until)}\`` : ''} (generated ${r.generated_at})`);
  out.push('');
  out.push(`- Findings: **${r.total_findings}** (occurrences ${r.total_occurrences})${r.truncated ? ` — only the newest ${MAX_REPORT_FINDINGS} were read` : ''}`);
  if (r.ignored > 0) out.push(`- Suppressed (\`traffic-guardian ignore\`): ${r.ignored}${r.includes_ignored ? ' (included below)' : ' (not included below)'}`);
  out.push(`- EXFIL: ${r.by_threat_type['EXFIL'] ?? 0} · INJECTION: ${r.by_threat_type['INJECTION'] ?? 0}`);
  out.push(`- Severity: ${SEVERITIES.slice().reverse().map((s) => `${s} ${r.by_severity[s] ?? 0}`).join(' · ')}`);
  out.push(`- First seen: ${r.first_seen ?? '—'} · Last seen: ${r.last_seen ?? '—'}`);
  const section = (title: string, rows: Bucket[], keyName: string, withPatterns = false) => {
    out.push('');
    out.push(`## ${title}`);
    out.push('');
    if (rows.length === 0) {
      out.push('None.');
      return;
    }
    out.push(`| ${keyName} | Findings | Occurrences | First seen | Last seen |${withPatterns ? ' Patterns |' : ''}`);
    out.push(`|---|---:|---:|---|---|${withPatterns ? '---|' : ''}`);
    for (const b of rows.slice(0, top)) {
      out.push(`| \`${md(b.key)}\` | ${b.findings} | ${b.occurrences} | ${b.first_seen} | ${b.last_seen} |${withPatterns ? ` ${(b.patterns ?? []).map(md).join(', ')} |` : ''}`);
    }
  };
  section('Destinations receiving secrets (EXFIL)', r.top_exfil_destinations, 'Destination', true);
  section('By pattern', r.by_pattern, 'Pattern');
  section('By destination', r.by_destination, 'Destination');
  section('By source', r.by_source, 'Source');
  return `${out.join('\n')}\n`;
}

function renderText(r: Report, top: number, p: Paint, maxWidth?: number): string {
  const out: string[] = [];
  out.push(p.bold(`Traffic guardian report — since ${safeText(r.since)}${r.until ? ` until ${safeText(r.until)}` : ''}`));
  out.push(`  findings     ${r.total_findings} (occurrences ${r.total_occurrences})${r.truncated ? p.yellow(` — only the newest ${MAX_REPORT_FINDINGS} were read`) : ''}`);
  if (r.ignored > 0) out.push(`  suppressed   ${r.ignored}${r.includes_ignored ? ' (included)' : ' (not included; --include-ignored counts them)'}`);
  out.push(`  by type      EXFIL ${r.by_threat_type['EXFIL'] ?? 0}, INJECTION ${r.by_threat_type['INJECTION'] ?? 0}`);
  out.push(`  by severity  ${SEVERITIES.slice().reverse().map((s) => p.severity(s, `${s} ${r.by_severity[s] ?? 0}`)).join(', ')}`);
  out.push(`  first seen   ${r.first_seen ?? '—'}`);
  out.push(`  last seen    ${r.last_seen ?? '—'}`);
  if (r.total_findings === 0) return `${out.join('\n')}\n`;
  const section = (title: string, rows: Bucket[], keyName: string, withPatterns = false) => {
    if (rows.length === 0) return;
    out.push('');
    out.push(p.bold(title));
    const headers = [keyName, 'FINDINGS', 'OCCURRENCES', 'LAST SEEN', ...(withPatterns ? ['PATTERNS'] : [])];
    const body = rows.slice(0, top).map((b) => [
      safeText(b.key, 60),
      String(b.findings),
      String(b.occurrences),
      b.last_seen,
      ...(withPatterns ? [(b.patterns ?? []).map((x) => safeText(x, 40)).join(', ')] : []),
    ]);
    out.push(table(headers, body, p, undefined, maxWidth === undefined ? undefined : maxWidth - 2).trimEnd().replace(/^/gm, '  '));
    if (rows.length > top) out.push(p.dim(`  … and ${rows.length - top} more (--top N)`));
  };
  section('Destinations receiving secrets (EXFIL)', r.top_exfil_destinations, 'DESTINATION', true);
  section('By pattern', r.by_pattern, 'PATTERN');
  section('By destination', r.by_destination, 'DESTINATION');
  section('By source', r.by_source, 'SOURCE');
  return `${out.join('\n')}\n`;
}

export function runReport(values: ReportOptions, io: Io): number {
  const format = values.json === true ? 'json' : (values.format ?? 'text');
  if (!['text', 'md', 'markdown', 'json', 'html'].includes(format)) throw new UsageError(`--format ${JSON.stringify(format)} is not a format`, didYouMean(format, ['text', 'md', 'json', 'html'], 'use text, md, json or html'));
  const outFile = values.out;
  if (outFile === '') throw new UsageError('--out needs a file path');
  const topRaw = values.top;
  if (topRaw !== undefined && (!/^\d{1,4}$/.test(topRaw) || Number(topRaw) < 1)) throw new UsageError(`--top ${JSON.stringify(topRaw)} is not a positive number`);
  const top = topRaw === undefined ? 10 : Number(topRaw);
  const filters = queryFromFlags(values, { since: '24h' });
  const { view } = requirePaths(io, values);
  const q = { ...filters, ...ignoreQuery(view.home, values) };
  const stats = { ignored: 0 };
  const findings = collectFindings(io, view.log_dir, q, MAX_REPORT_FINDINGS, stats);
  const r = buildReport(findings, values.since ?? '24h', values.until ?? null, findings.length >= MAX_REPORT_FINDINGS);
  r.ignored = stats.ignored;
  r.includes_ignored = q.include_ignored === true;
  let text: string;
  if (format === 'json') text = `${JSON.stringify(r, null, 2)}\n`;
  else if (format === 'md' || format === 'markdown') text = renderMarkdown(r, top);
  else if (format === 'html') text = renderHtml(r, findings, top);
  else text = renderText(r, top, paint(colorEnabled(io.stdout, io.env) && outFile === undefined), outFile === undefined ? termWidth(io) : undefined);
  if (outFile === undefined) {
    io.stdout.write(text);
    return EXIT.OK;
  }
  try {
    // Owner-only: redacted, but it still says what went where.
    writeFileSync(outFile, text, { mode: 0o600 });
    chmodSync(outFile, 0o600);
  } catch (err) {
    throw new CliError(`cannot write ${outFile}: ${(err as Error).message}`, 'check the directory exists and is writable');
  }
  note(io, `wrote ${safeText(outFile, 400)} (${r.total_findings} finding${r.total_findings === 1 ? '' : 's'})\n`, 'stderr');
  return EXIT.OK;
}
