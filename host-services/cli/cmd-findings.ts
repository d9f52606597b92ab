/**
 * `traffic-guardian findings`: the stored findings (redacted by the addon
 * when they were written) as a table or JSONL, newest first; `--follow`
 * tails new ones by polling the store, so it works whichever process runs
 * the guardian.
 */
import type { Finding } from '@clawsec/traffic-guardian/addon';

import { csvHeader, csvRow, listFormat, toSarif } from './export.js';
import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import { EXIT, UsageError, colorEnabled, termWidth, note as printNote, paint, requirePaths, safeText, type Io } from './common.js';
import { findingLine, findingsTable } from './format.js';
import { collectFindings, ignoreQuery, ignoredNote, parseLimit, pollFindings, queryFromFlags } from './store.js';

/** The `findings` command line: options, help and typed values. */
export const findingsCli = () =>
  withConfig(
    cliCommand('findings', 'list stored findings (table or JSONL), or --follow new ones')
      .usage('[filters] [--limit N] [--json|--format F] [--follow]')
      .description(
        `Lists stored findings, newest first: time, severity, type, pattern, source,
destination and a redacted snippet. Secrets are never shown: the store holds
only redacted snippets and keyed fingerprints.`,
      )
      .option('--since <age|time>', 'only findings since 15m, 1h, 7d, 2w or an ISO time')
      .option('--until <age|time>', 'only findings before this')
      .option('--severity <level>', 'low, medium, high or critical — that level or worse')
      .option('--type <type>', 'EXFIL (secrets going out) or INJECTION (payloads coming in)')
      .option('--direction <dir>', 'outbound or inbound')
      .option('--pattern <rule-id>', 'one rule (see `traffic-guardian rules`)')
      .option('--source <name>', 'one source (runtime name or client address)')
      .option('--include-ignored', 'also list findings suppressed by `traffic-guardian ignore`')
      .option('-n, --limit <n>', 'at most N findings (default 50; 10 before --follow)')
      .option('--json', 'one finding per line (JSONL, schema clawsec-traffic-finding/v1)')
      .option('--format <format>', 'table (default), json (= --json), sarif (SARIF 2.1.0; not with --follow) or csv')
      .option('-f, --follow', 'after the listing, print new findings as they are written (Ctrl-C stops)'),
    'config file (to find log_dir)',
  ).addHelpText(
    'after',
    afterHelp(`
Exit status: 0 ok (with or without findings), 1 error, 2 usage error.

Examples:
  traffic-guardian findings --since 1h
  traffic-guardian findings --type EXFIL --severity high --limit 20
  traffic-guardian findings --json --since 24h | jq -r .dest | sort | uniq -c
  traffic-guardian findings --follow
  traffic-guardian findings --since 7d --format csv > findings.csv
  traffic-guardian findings --since 24h --format sarif > guardian.sarif`),
  );

export type FindingsOptions = OptionsOf<typeof findingsCli>;

export const findingsCommand = (run: Runner) => findingsCli().action((opts) => run((io) => runFindings(opts, io)));

const FOLLOW_INTERVAL_MS = 1000;

export async function runFindings(values: FindingsOptions, io: Io): Promise<number> {
  const filters = queryFromFlags(values);
  const follow = values.follow === true;
  const fmt = listFormat(values);
  const json = fmt === 'json';
  if (fmt === 'sarif' && follow) throw new UsageError('--format sarif is one document and cannot --follow', 'use --format json or csv with --follow');
  const limit = parseLimit(values.limit, follow ? 10 : 50);
  const { view } = requirePaths(io, values);
  const q = { ...filters, ...ignoreQuery(view.home, values) };
  const p = paint(colorEnabled(io.stdout, io.env));

  const startedAt = new Date().toISOString();
  const stats = { ignored: 0 };
  const findings = collectFindings(io, view.log_dir, q, limit, stats);
  const note = ignoredNote(stats.ignored, q.include_ignored === true);
  if (json || fmt === 'csv') {
    const list = follow ? findings.slice().reverse() : findings;
    if (fmt === 'csv') io.stdout.write(csvHeader());
    for (const f of list) io.stdout.write(json ? `${JSON.stringify(f)}\n` : csvRow(f));
  } else if (fmt === 'sarif') {
    io.stdout.write(`${JSON.stringify(toSarif(findings), null, 2)}\n`);
  } else if (follow) {
    for (const f of findings.slice().reverse()) io.stdout.write(`${findingLine(f, p)}\n`);
  } else if (findings.length === 0) {
    io.stdout.write(`no findings${q.since ? ` since ${safeText(q.since)}` : ''} in ${safeText(view.log_dir, 400)}\n`);
  } else {
    io.stdout.write(findingsTable(findings, p, termWidth(io)));
    if (findings.length === limit) printNote(io, p.dim(`(showing the newest ${limit}; use --limit or --since to see more)\n`));
  }
  // On stderr for JSON so the stream stays one finding per line.
  if (note) printNote(io, `${p.dim(note)}\n`, fmt === 'text' ? 'stdout' : 'stderr');
  if (!follow) return EXIT.OK;

  if (fmt === 'text') printNote(io, p.dim(`following ${view.log_dir}/findings.jsonl — Ctrl-C to stop\n`), 'stderr');
  return followFindings(io, view.log_dir, q, findings, startedAt, (f) =>
    io.stdout.write(json ? `${JSON.stringify(f)}\n` : fmt === 'csv' ? csvRow(f) : `${findingLine(f, p)}\n`),
  );
}

/** Polls every second for unseen ids until SIGINT/SIGTERM; resolves with exit 0. */
function followFindings(
  io: Io,
  logDir: string,
  q: ReturnType<typeof queryFromFlags>,
  initial: Finding[],
  startedAt: string,
  print: (f: Finding) => void,
): Promise<number> {
  const seen = new Map<string, number>();
  let since = startedAt;
  for (const f of initial) {
    seen.set(f.id, Date.parse(f.timestamp));
    if (f.timestamp > since) since = f.timestamp;
  }
  // Findings written in the same second as `since` may sort either side of
  // it; look back a little and rely on the id set for duplicates.
  const lookBack = (ts: string) => new Date(Math.max(0, Date.parse(ts) - 5000)).toISOString();
  return new Promise((resolve) => {
    let failed = false;
    const tick = () => {
      try {
        const fresh = pollFindings(logDir, q, lookBack(since));
        failed = false;
        for (const f of fresh) {
          if (seen.has(f.id)) continue;
          seen.set(f.id, Date.parse(f.timestamp));
          if (f.timestamp > since) since = f.timestamp;
          print(f);
        }
        const cutoff = Date.parse(since) - 60_000;
        if (seen.size > 10_000) for (const [id, t] of seen) if (t < cutoff) seen.delete(id);
      } catch (err) {
        if (!failed) io.stderr.write(`warning: ${(err as Error).message} — retrying every second\n`);
        failed = true;
      }
    };
    const timer = setInterval(tick, FOLLOW_INTERVAL_MS);
    const stop = () => {
      clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(EXIT.OK);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
