/**
 * Findings in the formats other tools read: SARIF 2.1.0 (code-scanning
 * dashboards, GitHub) and CSV (spreadsheets). Findings are already redacted;
 * text from traffic is still neutralised (control characters, and the
 * leading `= + - @` that spreadsheets would run as a formula).
 */
import { ruleCatalog } from '@clawsec/traffic-guardian/addon';
import type { Finding, RuleInfo } from '@clawsec/traffic-guardian/addon';

import { UsageError, didYouMean, packageVersion, safeText } from './common.js';

export const SARIF_VERSION = '2.1.0';
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** Output formats of `scan` and `findings`. */
export type ListFormat = 'text' | 'json' | 'sarif' | 'csv';
const LIST_FORMATS: readonly ListFormat[] = ['text', 'json', 'sarif', 'csv'];

/** `--format` (with `--json` as a synonym for json); `table` is text. */
export function listFormat(values: { format?: string | undefined; json?: boolean | undefined }): ListFormat {
  const raw = values.format;
  const json = values.json === true;
  if (raw === undefined) return json ? 'json' : 'text';
  const f = String(raw).toLowerCase();
  const v = f === 'table' ? 'text' : f === 'jsonl' ? 'json' : f;
  if (!(LIST_FORMATS as readonly string[]).includes(v)) throw new UsageError(`--format ${JSON.stringify(safeText(raw, 40))} is not a format`, didYouMean(v, LIST_FORMATS, 'use text, json, sarif or csv'));
  if (json && v !== 'json') throw new UsageError(`--json and --format ${v} contradict each other`, 'pass one of them');
  return v as ListFormat;
}

const LEVEL: Record<string, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };
/** GitHub code scanning reads `security-severity` (0–10) to rank results. */
const SECURITY_SEVERITY: Record<string, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

function sarifRule(r: RuleInfo): Record<string, unknown> {
  return {
    id: r.id,
    name: r.id,
    shortDescription: { text: r.description },
    defaultConfiguration: { level: LEVEL[r.severity] ?? 'warning' },
    properties: { tags: ['security', r.threat_type], 'security-severity': SECURITY_SEVERITY[r.severity] ?? '5.0', threat_type: r.threat_type, kind: r.kind },
  };
}

export interface SarifOptions {
  /** The scanned file (scan), as given; a result's artifact. */
  artifact?: string;
  /** Notes on what was not scanned. */
  notifications?: string[];
}

/** One SARIF 2.1.0 log with one run. */
export function toSarif(findings: readonly Finding[], opts: SarifOptions = {}): Record<string, unknown> {
  const rules = ruleCatalog();
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = findings.map((f) => {
    const where = `${f.direction === 'outbound' ? 'to' : 'from'} ${f.dest || '?'}`;
    const result: Record<string, unknown> = {
      ruleId: f.pattern,
      level: LEVEL[f.severity] ?? 'warning',
      message: {
        text: safeText(`${f.threat_type} ${f.severity}: ${f.pattern} ${where} (source ${f.source || '?'}, ${f.location}${f.decoded ? `, decoded ${f.decoded}` : ''}): ${f.snippet}`, 2000),
      },
      locations: [
        {
          ...(opts.artifact ? { physicalLocation: { artifactLocation: { uri: encodeURI(opts.artifact) } } } : {}),
          logicalLocations: [{ name: safeText(f.dest || '?', 300), kind: 'resource', fullyQualifiedName: safeText(`${f.dest || '?'}/${f.location}`, 400) }],
        },
      ],
      partialFingerprints: { 'trafficGuardianFingerprint/v1': f.fingerprint || f.id },
      properties: {
        id: f.id,
        severity: f.severity,
        threat_type: f.threat_type,
        direction: f.direction,
        protocol: f.protocol,
        source: safeText(f.source, 300),
        dest: safeText(f.dest, 300),
        location: safeText(f.location, 200),
        count: f.count,
        timestamp: f.timestamp,
        ...(f.decoded ? { decoded: safeText(f.decoded, 200) } : {}),
      },
    };
    const i = index.get(f.pattern);
    if (i !== undefined) result['ruleIndex'] = i;
    return result;
  });
  const notes = opts.notifications ?? [];
  return {
    $schema: SARIF_SCHEMA,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: 'traffic-guardian',
            semanticVersion: packageVersion(),
            informationUri: 'https://clawsec.prompt.security',
            rules: rules.map(sarifRule),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            ...(notes.length > 0 ? { toolExecutionNotifications: notes.map((n) => ({ level: 'warning', message: { text: safeText(n, 2000) } })) } : {}),
          },
        ],
        ...(opts.artifact ? { artifacts: [{ location: { uri: encodeURI(opts.artifact) } }] } : {}),
        results,
      },
    ],
  };
}

export const CSV_COLUMNS = ['timestamp', 'id', 'severity', 'threat_type', 'pattern', 'direction', 'protocol', 'source', 'dest', 'location', 'count', 'decoded', 'fingerprint', 'snippet'] as const;

/** One RFC 4180 cell: quoted when needed; a formula-looking start is defused. */
export function csvCell(value: unknown): string {
  let s = safeText(value, 4000);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(f: Finding): string {
  const rec = f as unknown as Record<string, unknown>;
  return `${CSV_COLUMNS.map((c) => csvCell(rec[c] ?? '')).join(',')}\r\n`;
}
