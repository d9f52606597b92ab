/**
 * `report --format html`: one self-contained page (no script, no external
 * asset; a Content-Security-Policy forbids loading anything) with a
 * timeline of findings (inline SVG), breakdowns by rule, severity,
 * destination and group, and the top findings with their context. Every
 * value from traffic is HTML-escaped after `safeText`.
 */
import type { Finding } from '@clawsec/traffic-guardian/addon';

import { packageVersion, safeText } from './common.js';
import { SEVERITIES } from './format.js';

/** What the HTML page needs from a report (see cmd-report's `Report`). */
export interface HtmlReportInput {
  since: string;
  until: string | null;
  generated_at: string;
  total_findings: number;
  total_occurrences: number;
  truncated: boolean;
  ignored: number;
  includes_ignored: boolean;
  first_seen: string | null;
  last_seen: string | null;
  by_severity: Record<string, number>;
  by_threat_type: Record<string, number>;
  by_pattern: { key: string; findings: number; occurrences: number; last_seen: string }[];
  by_destination: { key: string; findings: number; occurrences: number; last_seen: string }[];
  by_source: { key: string; findings: number; occurrences: number; last_seen: string }[];
}

const SEV_COLOR: Record<string, string> = { critical: '#8e24aa', high: '#d32f2f', medium: '#f9a825', low: '#0288d1' };
const SEV_RANK: Record<string, number> = { critical: 3, high: 2, medium: 1, low: 0 };
const TIMELINE_BUCKETS = 48;

export function esc(value: unknown, max = 300): string {
  return safeText(value, max).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A stacked bar chart of occurrences per time bucket and severity, as inline SVG. */
export function timelineSvg(findings: readonly Finding[], startMs: number, endMs: number): string {
  const W = 960;
  const H = 220;
  const padL = 44;
  const padB = 28;
  const plotW = W - padL - 8;
  const plotH = H - padB - 10;
  const span = Math.max(1, endMs - startMs);
  const buckets = Array.from({ length: TIMELINE_BUCKETS }, () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<string, number>);
  for (const f of findings) {
    const t = Date.parse(f.timestamp);
    if (Number.isNaN(t)) continue;
    const i = Math.min(TIMELINE_BUCKETS - 1, Math.max(0, Math.floor(((t - startMs) / span) * TIMELINE_BUCKETS)));
    const b = buckets[i];
    if (b) b[f.severity] = (b[f.severity] ?? 0) + Math.max(1, f.count);
  }
  const max = Math.max(1, ...buckets.map((b) => Object.values(b).reduce((a, x) => a + x, 0)));
  const bw = plotW / TIMELINE_BUCKETS;
  const parts: string[] = [];
  buckets.forEach((b, i) => {
    let y = 10 + plotH;
    for (const s of SEVERITIES) {
      const n = b[s] ?? 0;
      if (n === 0) continue;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(`<rect x="${(padL + i * bw + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${SEV_COLOR[s]}"><title>${n} ${s}</title></rect>`);
    }
  });
  const axis = [
    `<line x1="${padL}" y1="${10 + plotH}" x2="${W - 8}" y2="${10 + plotH}" stroke="#888"/>`,
    `<line x1="${padL}" y1="10" x2="${padL}" y2="${10 + plotH}" stroke="#888"/>`,
    `<text x="${padL - 6}" y="16" text-anchor="end">${max}</text>`,
    `<text x="${padL - 6}" y="${10 + plotH}" text-anchor="end">0</text>`,
    `<text x="${padL}" y="${H - 8}">${esc(new Date(startMs).toISOString().slice(0, 16).replace('T', ' '))}Z</text>`,
    `<text x="${W - 8}" y="${H - 8}" text-anchor="end">${esc(new Date(endMs).toISOString().slice(0, 16).replace('T', ' '))}Z</text>`,
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="Findings over time by severity" class="timeline">${axis.join('')}${parts.join('')}</svg>`;
}

function bucketTable(title: string, keyName: string, rows: HtmlReportInput['by_pattern'], top: number): string {
  if (rows.length === 0) return `<section><h2>${esc(title)}</h2><p class="none">None.</p></section>`;
  const max = Math.max(1, ...rows.map((r) => r.occurrences));
  const body = rows
    .slice(0, top)
    .map(
      (r) =>
        `<tr><td class="key">${esc(r.key, 200)}</td><td class="n">${r.findings}</td><td class="n">${r.occurrences}</td>` +
        `<td class="bar"><span style="width:${((r.occurrences / max) * 100).toFixed(1)}%"></span></td><td>${esc(r.last_seen, 40)}</td></tr>`,
    )
    .join('');
  const more = rows.length > top ? `<p class="none">… and ${rows.length - top} more</p>` : '';
  return `<section><h2>${esc(title)}</h2><table><thead><tr><th>${esc(keyName)}</th><th>Findings</th><th>Occurrences</th><th></th><th>Last seen</th></tr></thead><tbody>${body}</tbody></table>${more}</section>`;
}

function topFindings(findings: readonly Finding[], top: number): Finding[] {
  return findings
    .slice()
    .sort((a, b) => (SEV_RANK[b.severity] ?? 0) - (SEV_RANK[a.severity] ?? 0) || Math.max(1, b.count) - Math.max(1, a.count) || b.timestamp.localeCompare(a.timestamp))
    .slice(0, top);
}

export function renderHtml(r: HtmlReportInput, findings: readonly Finding[], top: number): string {
  const now = Date.parse(r.generated_at);
  const first = r.first_seen ? Date.parse(r.first_seen) : now;
  const last = r.last_seen ? Date.parse(r.last_seen) : now;
  const start = Math.min(first, last);
  const end = Math.max(last, start + 60_000);
  const sev = SEVERITIES.slice()
    .reverse()
    .map((s) => `<span class="chip" style="border-color:${SEV_COLOR[s]}"><b style="color:${SEV_COLOR[s]}">${s}</b> ${r.by_severity[s] ?? 0}</span>`)
    .join(' ');
  const sevRows = SEVERITIES.slice()
    .reverse()
    .map((s) => ({ key: s, findings: findings.filter((f) => f.severity === s).length, occurrences: r.by_severity[s] ?? 0, last_seen: findings.find((f) => f.severity === s)?.timestamp ?? '—' }))
    .filter((x) => x.findings > 0);
  const topRows = topFindings(findings, top)
    .map(
      (f) =>
        `<tr><td>${esc(f.timestamp, 30)}</td><td><b style="color:${SEV_COLOR[f.severity] ?? '#333'}">${esc(f.severity)}</b></td><td>${esc(f.threat_type)}</td>` +
        `<td class="key">${esc(f.pattern, 80)}${f.count > 1 ? ` ×${f.count}` : ''}</td><td>${esc(f.source, 80)}</td><td>${esc(f.dest || '?', 120)}</td>` +
        `<td>${esc(f.location, 80)}${f.decoded ? ` <i>[${esc(f.decoded, 40)}]</i>` : ''}</td><td class="snip">${esc(f.snippet, 240)}</td></tr>`,
    )
    .join('');
  const period = `since ${esc(r.since)}${r.until ? ` until ${esc(r.until)}` : ''}`;
  const notes: string[] = [];
  if (r.truncated) notes.push('Only the newest findings were read (the report has a bound); narrow --since.');
  if (r.ignored > 0) notes.push(`${r.ignored} finding${r.ignored === 1 ? '' : 's'} suppressed by <code>traffic-guardian ignore</code> ${r.includes_ignored ? 'are included' : 'are not included (--include-ignored)'}.`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Traffic guardian report — ${period}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222;background:#fff;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#666;margin-bottom:16px}.chip{display:inline-block;border:1px solid;border-radius:12px;padding:1px 10px;margin-right:4px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:140px}
.card .v{font-size:22px;font-weight:600}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.key{font-family:ui-monospace,monospace;word-break:break-all}
td.snip{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all;max-width:380px}
td.bar{width:20%}td.bar span{display:block;height:10px;background:#90a4ae;border-radius:2px}
.timeline{width:100%;height:auto;font-size:11px;fill:#555}.none{color:#888}.notes{background:#fff8e1;border:1px solid #ffe082;padding:8px 12px;border-radius:6px}
.legend span{margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
</style>
</head>
<body>
<h1>Traffic guardian report</h1>
<div class="meta">${period} · generated ${esc(r.generated_at)} · traffic-guardian ${esc(packageVersion())} · snippets are redacted; no secret is in this file</div>
${notes.length > 0 ? `<p class="notes">${notes.join(' ')}</p>` : ''}
<div class="cards">
<div class="card"><div>Findings</div><div class="v" id="total-findings">${r.total_findings}</div></div>
<div class="card"><div>Occurrences</div><div class="v">${r.total_occurrences}</div></div>
<div class="card"><div>EXFIL</div><div class="v">${r.by_threat_type['EXFIL'] ?? 0}</div></div>
<div class="card"><div>INJECTION</div><div class="v">${r.by_threat_type['INJECTION'] ?? 0}</div></div>
</div>
<p>${sev}</p>
<section><h2>Timeline</h2>
<div class="legend">${SEVERITIES.slice()
    .reverse()
    .map((s) => `<span><i style="background:${SEV_COLOR[s]}"></i>${s}</span>`)
    .join('')}</div>
${timelineSvg(findings, start, end)}
<p class="meta">First seen ${esc(r.first_seen ?? '—')} · last seen ${esc(r.last_seen ?? '—')}</p>
</section>
${bucketTable('By severity', 'Severity', sevRows, top)}
${bucketTable('By rule', 'Rule', r.by_pattern, top)}
${bucketTable('By destination', 'Destination', r.by_destination, top)}
${bucketTable('By group (source)', 'Group', r.by_source, top)}
<section><h2>Top findings</h2>${
    topRows
      ? `<table><thead><tr><th>Time</th><th>Severity</th><th>Type</th><th>Rule</th><th>Source</th><th>Destination</th><th>Location</th><th>Snippet (redacted)</th></tr></thead><tbody>${topRows}</tbody></table>`
      : '<p class="none">None.</p>'
  }</section>
</body>
</html>
`;
}
