/**
 * Reading the findings store from the CLI: flag validation shared by
 * `findings` and `report`, and paging through the addon's `queryFindings`
 * (pages of at most 1000) with a progress line on big logs.
 */
import { existsSync } from 'node:fs';

import { homeLayout, normalizeTimeBound, queryFindings, ruleCatalog } from '@clawsec/traffic-guardian/addon';
import type { Finding, FindingQuery } from '@clawsec/traffic-guardian/addon';

import { CliError, UsageError, didYouMean, printWarning, progress, safeText, type Io } from './common.js';
import { DIRECTIONS, SEVERITIES, THREATS, isOneOf } from './format.js';

/**
 * Accepts `90s`, `15m`, `1h`, `7d`, `2w` or an RFC 3339 time, with the
 * store's own parser (the addon's): an age stays an age (weeks as days), a
 * time is returned in UTC.
 */
export function checkTime(flag: string, value: string): string {
  try {
    return normalizeTimeBound(value);
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a time`, `use an age such as 15m, 1h, 7d, or an ISO time such as 2026-01-31T12:00:00Z`);
  }
}

/** The filter flags `findings` and `report` share (report has no severity, direction or pattern). */
export interface FilterFlags {
  since?: string | undefined;
  until?: string | undefined;
  severity?: string | undefined;
  type?: string | undefined;
  direction?: string | undefined;
  pattern?: string | undefined;
  source?: string | undefined;
}

/** Builds a query from the shared filter flags. */
export function queryFromFlags(values: FilterFlags, defaults: { since?: string } = {}): FindingQuery {
  const q: FindingQuery = {};
  const since = values.since ?? defaults.since;
  if (since !== undefined) q.since = checkTime('--since', since);
  const until = values.until;
  if (until !== undefined) q.until = checkTime('--until', until);
  const sev = values.severity;
  if (sev !== undefined) {
    const s = sev.toLowerCase();
    if (!isOneOf(SEVERITIES, s)) throw new UsageError(`--severity ${JSON.stringify(sev)} is not a severity`, didYouMean(s, SEVERITIES, `use one of ${SEVERITIES.join(', ')} (that level or worse)`));
    q.min_severity = s;
  }
  const type = values.type;
  if (type !== undefined) {
    const t = type.toUpperCase();
    if (!isOneOf(THREATS, t)) throw new UsageError(`--type ${JSON.stringify(type)} is not a threat type`, didYouMean(t, THREATS, 'use EXFIL or INJECTION'));
    q.threat_type = t;
  }
  const dir = values.direction;
  if (dir !== undefined) {
    const d = dir.toLowerCase();
    if (!isOneOf(DIRECTIONS, d)) throw new UsageError(`--direction ${JSON.stringify(dir)} is not a direction`, 'use outbound or inbound');
    q.direction = d;
  }
  const pattern = values.pattern;
  if (pattern !== undefined) {
    // Rule ids come from the addon's registry: an unknown one would match nothing, silently.
    const ids = ruleCatalog().map((r) => r.id);
    if (!ids.includes(pattern)) throw new UsageError(`--pattern ${JSON.stringify(pattern)} is not a rule id`, didYouMean(pattern, ids, '`traffic-guardian rules` lists the rule ids'));
    q.pattern = pattern;
  }
  const source = values.source;
  if (source !== undefined) q.sources = [source];
  return q;
}

export function parseLimit(value: string | undefined, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new UsageError(`--limit ${JSON.stringify(value)} is not a positive number`);
  return Math.min(Number(value), max);
}

function query(logDir: string, q: FindingQuery): ReturnType<typeof queryFindings> {
  try {
    return queryFindings(logDir, q);
  } catch (err) {
    throw new CliError(`cannot read findings in ${logDir}: ${(err as Error).message}`, 'check the log_dir setting and its permissions');
  }
}

/**
 * Up to `limit` findings matching `q`, newest first, paging with the
 * store's cursor. A missing log dir means no findings yet, not an error.
 */
export function collectFindings(io: Io, logDir: string, q: FindingQuery, limit: number, stats?: { ignored: number }): Finding[] {
  if (!existsSync(logDir)) return [];
  const out: Finding[] = [];
  const bar = progress(io);
  let cursor: string | undefined;
  // Every page reads the whole log, so each reports the same damaged lines.
  let skipped = 0;
  try {
    while (out.length < limit) {
      const page = query(logDir, { ...q, limit: Math.min(1000, limit - out.length), ...(cursor ? { cursor } : {}) });
      skipped = Math.max(skipped, page.skipped_lines ?? 0);
      // The first page counts over the whole query; later ones only past their cursor.
      if (stats && cursor === undefined) stats.ignored = page.ignored ?? 0;
      out.push(...page.findings);
      bar.update(`reading findings… ${out.length}`);
      if (!page.next_cursor || page.findings.length === 0) break;
      cursor = page.next_cursor;
    }
  } finally {
    bar.done();
  }
  if (skipped > 0) {
    printWarning(
      io,
      `skipped ${skipped} damaged line${skipped === 1 ? '' : 's'} in ${safeText(logDir, 400)}/findings*.jsonl (cut short by a crash or a full disk)`,
      'the findings around them are included',
    );
  }
  return out;
}

/** The suppression list applied to listings: `--include-ignored` lists suppressed findings too. */
export function ignoreQuery(home: string, values: { includeIgnored?: boolean | undefined }): Pick<FindingQuery, 'ignore_file' | 'include_ignored'> {
  return { ignore_file: homeLayout(home).ignore_file, include_ignored: values.includeIgnored === true };
}

/** `(N more suppressed by \`traffic-guardian ignore\`; --include-ignored lists them)` or ''. */
export function ignoredNote(n: number, included: boolean): string {
  if (n <= 0) return '';
  return included
    ? `(${n} of these ${n === 1 ? 'is' : 'are'} suppressed by \`traffic-guardian ignore\`)`
    : `(${n} more suppressed by \`traffic-guardian ignore\`; --include-ignored lists ${n === 1 ? 'it' : 'them'})`;
}

/** The stored finding with this id (suppressed or not), or undefined. */
export function findStoredFinding(logDir: string, id: string): Finding | undefined {
  if (!existsSync(logDir)) return undefined;
  let cursor: string | undefined;
  for (;;) {
    const page = query(logDir, { limit: 1000, ...(cursor ? { cursor } : {}) });
    const hit = page.findings.find((f) => f.id === id);
    if (hit) return hit;
    if (!page.next_cursor || page.findings.length === 0) return undefined;
    cursor = page.next_cursor;
  }
}

/** One poll for `--follow`: findings since `since`, oldest first. */
export function pollFindings(logDir: string, q: FindingQuery, since: string): Finding[] {
  if (!existsSync(logDir)) return [];
  const page = query(logDir, { ...q, since, limit: 1000 });
  return page.findings.slice().reverse();
}
