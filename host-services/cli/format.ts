/**
 * How a finding looks on a terminal. Findings arrive already redacted by the
 * addon; every field is still passed through `safeText` because snippets,
 * destinations and sources come from traffic.
 */
import type { Finding } from '@clawsec/traffic-guardian/addon';

import { safeText, table, type Paint } from './common.js';

const SEV_WIDTH = 8;

/** `HH:MM:SS` local time for live lines; full timestamp elsewhere. */
export function shortTime(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return safeText(ts, 24);
  return d.toTimeString().slice(0, 8);
}

/** `2026-11-23 20:41:07` (UTC, second precision) for tables. */
export function tableTime(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return safeText(ts, 24);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** One line per finding: time, severity, threat, pattern, source → dest, snippet. */
export function findingLine(f: Finding, p: Paint): string {
  const sev = p.severity(f.severity, f.severity.toUpperCase().padEnd(SEV_WIDTH));
  const threat = f.threat_type === 'EXFIL' ? p.red('EXFIL    ') : p.yellow('INJECTION');
  const count = f.count > 1 ? p.dim(` ×${f.count}`) : '';
  const decoded = f.decoded ? p.dim(` [${safeText(f.decoded, 40)}]`) : '';
  // Which request: `POST /upload/[MASKED]/x → 404` (redacted path; proxy findings only).
  const req = [f.method, f.path, f.status !== undefined && f.status !== null ? `→ ${f.status}` : undefined].filter((x) => x !== undefined && x !== null && x !== '');
  const request = req.length > 0 ? p.dim(` (${req.map((x) => safeText(x, 120)).join(' ')})`) : '';
  return (
    `${p.dim(shortTime(f.timestamp))} ${sev} ${threat} ${p.bold(safeText(f.pattern, 60))}${count} ` +
    `${safeText(f.source || '?', 60)} → ${safeText(f.dest || '?', 80)} ${p.dim(safeText(f.location, 40))}${decoded}${request} ` +
    `${safeText(f.snippet, 160)}`
  );
}

/** The findings table: time, severity, type, pattern, source, dest, snippet. */
export function findingsTable(findings: readonly Finding[], p: Paint, maxWidth?: number): string {
  const rows = findings.map((f) => [
    tableTime(f.timestamp),
    p.severity(f.severity),
    f.threat_type,
    safeText(f.pattern, 40) + (f.count > 1 ? ` ×${f.count}` : ''),
    safeText(f.source, 32),
    safeText(f.dest || '?', 48),
    safeText(f.snippet, 120),
  ]);
  return table(['TIME', 'SEVERITY', 'TYPE', 'PATTERN', 'SOURCE', 'DEST', 'SNIPPET'], rows, p, undefined, maxWidth);
}

/** The addon's enums as run-time lists (checked against its types in the contract). */
export { DIRECTIONS, SEVERITIES, THREATS, isOneOf } from '../../mcp-tools/contract.js';
