/**
 * Prometheus metrics for fleets: a text-format (0.0.4) `/metrics` endpoint
 * on its own address (`metrics_listen`; off by default, loopback unless the
 * config explicitly allows more). Findings are counted by rule, severity,
 * direction and group as they are emitted; the guardian's counters (scan
 * time histogram, queue depth, unscanned bytes, …) are read per scrape.
 *
 * Labels carry only what findings already show (rule ids, severities,
 * source groups), never a snippet, a destination or a fingerprint. The
 * endpoint answers GET/HEAD /metrics and nothing else, and sends nothing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Finding, GuardianCounters } from '@clawsec/traffic-guardian/addon';

import type { HookCounters } from './hook.js';

/** Distinct finding label sets kept; later ones are counted under group="_other". */
export const MAX_FINDING_SERIES = 2000;
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Escapes a label value per the text format (backslash, quote, newline). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/**
 * The group label: the runtime name of an authenticated client, else the
 * client's address without its (per-connection) port.
 */
export function groupOf(source: string): string {
  if (!source) return 'unknown';
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(source);
  if (v6) return v6[1] ?? source;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(source);
  return v4 ? (v4[1] ?? source) : source;
}

/** Per-finding counters, bounded in cardinality. */
export class FindingCounters {
  private readonly series = new Map<string, { rule: string; severity: string; direction: string; group: string; n: number }>();

  observe(f: Pick<Finding, 'pattern' | 'severity' | 'direction' | 'source'>): void {
    let group = groupOf(f.source);
    let key = JSON.stringify([f.pattern, f.severity, f.direction, group]);
    if (!this.series.has(key) && this.series.size >= MAX_FINDING_SERIES) {
      group = '_other';
      key = JSON.stringify([f.pattern, f.severity, f.direction, group]);
    }
    const s = this.series.get(key);
    if (s) s.n++;
    else this.series.set(key, { rule: f.pattern, severity: f.severity, direction: f.direction, group, n: 1 });
  }

  lines(): string[] {
    const out = [
      '# HELP traffic_guardian_findings_total Findings emitted (after deduplication) by rule, severity, direction and source group.',
      '# TYPE traffic_guardian_findings_total counter',
    ];
    for (const s of this.series.values()) {
      out.push(`traffic_guardian_findings_total{rule="${label(s.rule)}",severity="${label(s.severity)}",direction="${label(s.direction)}",group="${label(s.group)}"} ${s.n}`);
    }
    return out;
  }
}

type Counters = Partial<GuardianCounters>;

function metric(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, v] of samples) out.push(`${name}${labels} ${num(v)}`);
}

/** The whole exposition: finding series plus the guardian's counters. */
export function renderMetrics(findings: FindingCounters, c: Counters | undefined, up: boolean, hook?: HookCounters): string {
  const out: string[] = [];
  metric(out, 'traffic_guardian_up', 'gauge', '1 while the proxy runs.', [['', up ? 1 : 0]]);
  out.push(...findings.lines());
  const v = (k: keyof GuardianCounters): number => {
    const x = c?.[k];
    return typeof x === 'number' ? x : 0;
  };
  metric(out, 'traffic_guardian_requests_total', 'counter', 'Requests proxied.', [['', v('requests')]]);
  metric(out, 'traffic_guardian_connections_total', 'counter', 'Client connections accepted.', [['', v('connections')]]);
  metric(out, 'traffic_guardian_open_connections', 'gauge', 'Client connections open now.', [['', v('open_connections')]]);
  metric(out, 'traffic_guardian_scanned_bytes_total', 'counter', 'Bytes scanned, by direction.', [
    ['{direction="outbound"}', v('bytes_scanned_outbound')],
    ['{direction="inbound"}', v('bytes_scanned_inbound')],
  ]);
  metric(out, 'traffic_guardian_unscanned_bytes_total', 'counter', 'Bytes forwarded unscanned, by reason.', [
    ['{reason="overload"}', v('unscanned_overload_bytes')],
    ['{reason="max_scan_bytes"}', v('unscanned_limit_bytes')],
    ['{reason="binary"}', v('unscanned_binary_bytes')],
    ['{reason="stream_budget"}', v('unscanned_stream_budget_bytes')],
  ]);
  metric(out, 'traffic_guardian_scan_queue_bytes', 'gauge', 'Bytes waiting for the scan threads now.', [['', v('scan_queue_bytes')]]);
  metric(out, 'traffic_guardian_scan_queue_peak_bytes', 'gauge', 'Highest scan queue depth seen (bytes).', [['', v('scan_queue_peak_bytes')]]);
  // The scan-time histogram, from the addon's cumulative buckets.
  const bounds = c?.scan_time_bucket_bounds ?? [];
  const counts = c?.scan_time_bucket_counts ?? [];
  out.push('# HELP traffic_guardian_scan_duration_seconds Time one scan job took on the scan threads.', '# TYPE traffic_guardian_scan_duration_seconds histogram');
  bounds.forEach((le, i) => out.push(`traffic_guardian_scan_duration_seconds_bucket{le="${num(le)}"} ${counts[i] ?? 0}`));
  out.push(`traffic_guardian_scan_duration_seconds_bucket{le="+Inf"} ${v('scan_jobs')}`);
  out.push(`traffic_guardian_scan_duration_seconds_sum ${num(v('scan_time_seconds'))}`);
  out.push(`traffic_guardian_scan_duration_seconds_count ${v('scan_jobs')}`);
  metric(out, 'traffic_guardian_truncated_messages_total', 'counter', 'Messages longer than max_scan_bytes (the rest forwarded unscanned).', [['', v('truncated_messages')]]);
  metric(out, 'traffic_guardian_upstream_errors_total', 'counter', 'Upstream connection or protocol errors.', [['', v('upstream_errors')]]);
  metric(out, 'traffic_guardian_auth_failures_total', 'counter', 'Clients refused for missing or wrong runtime credentials (407).', [['', v('auth_failures')]]);
  metric(out, 'traffic_guardian_pivot_refusals_total', 'counter', 'Requests refused for private destinations.', [['', v('pivot_refusals')]]);
  metric(out, 'traffic_guardian_rejected_connections_total', 'counter', 'Connections closed on accept over a cap.', [
    ['{cap="total"}', v('rejected_total_cap')],
    ['{cap="per_client"}', v('rejected_client_cap')],
  ]);
  metric(out, 'traffic_guardian_findings_written_total', 'counter', 'Findings written to the JSONL store.', [['', v('findings_written')]]);
  metric(out, 'traffic_guardian_finding_write_errors_total', 'counter', 'Failed finding writes.', [['', v('write_errors')]]);
  metric(out, 'traffic_guardian_findings_dropped_total', 'counter', 'Findings dropped because the retry queue was full.', [['', v('findings_dropped')]]);
  if (hook) {
    metric(out, 'traffic_guardian_hook_runs_total', 'counter', 'on_finding hook runs, by result.', [
      ['{result="ok"}', hook.hook_runs],
      ['{result="failed"}', hook.hook_failures],
      ['{result="timeout"}', hook.hook_timeouts],
    ]);
    metric(out, 'traffic_guardian_hook_dropped_total', 'counter', 'Findings not given to the on_finding hook (queue full).', [['', hook.hook_dropped]]);
    metric(out, 'traffic_guardian_hook_queued', 'gauge', 'Findings waiting for the on_finding hook.', [['', hook.hook_queued]]);
  }
  return `${out.join('\n')}\n`;
}

export interface MetricsServer {
  /** `host:port` actually bound. */
  address: string;
  close(): Promise<void>;
}

function hostPort(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  if (!m) throw new Error(`metrics_listen ${JSON.stringify(listen)} is not host:port`);
  return { host: m[1] ?? '', port: Number(m[2]) };
}

/** Serves `render()` at GET/HEAD /metrics on `listen` (validated by the addon). */
export function startMetricsServer(listen: string, render: () => string): Promise<MetricsServer> {
  const { host, port } = hostPort(listen);
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot render metrics: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // A scraper is fast or gone: slow clients do not hold sockets.
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.maxConnections = 32;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      server.unref();
      const a = server.address() as AddressInfo;
      resolve({
        address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
