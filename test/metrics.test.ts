/**
 * Prometheus `/metrics`: off by default; with `metrics_listen` on loopback,
 * a real guardian proxies real loopback traffic and the exposition is parsed
 * by a real Prometheus text-format parser (parse-prometheus-text-format).
 * Counters by rule/severity/direction/group, the scan-time histogram, queue
 * depth and unscanned bytes are checked against the work done (counted, not
 * timed). No secret, snippet or destination appears in the metrics.
 */
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkTrafficConfig, createTrafficGuardian, type TrafficGuardianService } from '@clawsec/traffic-guardian';

import { proxiedRequest } from './helpers/proxy-client.js';
import { fakeAwsAccessKeyId, findLeaks } from './helpers/secrets.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

interface Family {
  name: string;
  type: string;
  help: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[];
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AWS = fakeAwsAccessKeyId();

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics_listen config', () => {
  it('is off by default and loopback-only unless allowed', () => {
    const home = mkdtempSync(join(tmpdir(), 'tg-metrics-cfg-'));
    const base = { env: {}, config: { home } };
    expect((checkTrafficConfig(base).effective as Record<string, unknown>)['metrics_listen']).toBeNull();
    const remote = checkTrafficConfig({ ...base, config: { home, metrics_listen: '0.0.0.0:9464' } });
    expect(remote.ok).toBe(false);
    expect(remote.errors[0]?.field).toBe('metrics_listen');
    expect(remote.errors[0]?.hint).toContain('metrics_allow_remote');
    expect(checkTrafficConfig({ ...base, config: { home, metrics_listen: '0.0.0.0:9464', metrics_allow_remote: true } }).ok).toBe(true);
  });
});

describe('/metrics with real traffic', () => {
  let upstream: Upstream;
  let svc: TrafficGuardianService;
  let proxyPort = 0;
  let metricsPort = 0;
  const home = mkdtempSync(join(tmpdir(), 'tg-metrics-'));

  beforeAll(async () => {
    upstream = await startUpstream();
    svc = createTrafficGuardian({
      env: {},
      config: { mode: 'detect', home, listen: '127.0.0.1:0', metrics_listen: '127.0.0.1:0', allow_private_destinations: ['127.0.0.1'], dedup_window_secs: 0, shutdown_grace_ms: 200 },
    });
    const r = await svc.start();
    if (!r.started) throw new Error(r.message);
    proxyPort = r.info.port;
    const st = svc.status();
    metricsPort = Number(/:(\d+)$/.exec(st.metrics_listen ?? '')?.[1]);
    expect(metricsPort).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await svc.stop();
    await upstream.close();
  });

  it('serves the text format that a real parser reads, with counts that match the work', async () => {
    const N = 3;
    for (let i = 0; i < N; i++) {
      const res = await proxiedRequest({ host: '127.0.0.1', port: proxyPort }, upstream.url(`/up${i}`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aws: AWS, i }),
      });
      expect(res.status).toBe(200);
    }
    // Findings are emitted once the scan threads finish: poll by count, not time.
    let families: Family[] = [];
    let text = '';
    // Up to 800 polls (20 s and more; 200, about 5 s, was within reach of a
    // loaded box): the findings are expected.
    for (let tries = 0; tries < 800; tries++) {
      const r = await get(metricsPort, '/metrics');
      expect(r.status).toBe(200);
      expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      text = r.body;
      families = parsePrometheus(text);
      const f = families.find((x) => x.name === 'traffic_guardian_findings_total');
      const total = (f?.metrics ?? []).reduce((a, m) => a + Number(m.value), 0);
      if (total >= N) break;
      await new Promise((r2) => setTimeout(r2, 25));
    }
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const f of families) {
      expect(f.help.length).toBeGreaterThan(0);
      expect(['counter', 'gauge', 'histogram']).toContain(f.type.toLowerCase());
    }
    const findings = byName.get('traffic_guardian_findings_total');
    expect(findings?.type).toBe('COUNTER');
    const aws = findings?.metrics.find((m) => m.labels?.['rule'] === 'aws_access_key_id');
    expect(aws?.labels).toEqual({ rule: 'aws_access_key_id', severity: 'high', direction: 'outbound', group: '127.0.0.1' });
    expect(Number(aws?.value)).toBe(N);

    const hist = byName.get('traffic_guardian_scan_duration_seconds');
    expect(hist?.type).toBe('HISTOGRAM');
    const h = hist?.metrics[0];
    // Object keys put integer-like bounds ("1", "5") first: order by bound.
    const buckets = Object.entries(h?.buckets ?? {}).sort(([a], [b]) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)));
    expect(buckets.length).toBe(11);
    const counts = buckets.map(([, v]) => Number(v));
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // cumulative
    expect(Number(h?.buckets?.['+Inf'])).toBe(Number(h?.count));
    expect(Number(h?.count)).toBeGreaterThanOrEqual(N); // at least one scan job per request body
    expect(Number(h?.sum)).toBeGreaterThan(0);

    const requests = Number(byName.get('traffic_guardian_requests_total')?.metrics[0]?.value);
    expect(requests).toBe(N);
    const scanned = byName.get('traffic_guardian_scanned_bytes_total')?.metrics.find((m) => m.labels?.['direction'] === 'outbound');
    expect(Number(scanned?.value)).toBeGreaterThan(0);
    expect(byName.get('traffic_guardian_scan_queue_bytes')?.type).toBe('GAUGE');
    expect(byName.get('traffic_guardian_unscanned_bytes_total')?.metrics.map((m) => m.labels?.['reason']).sort()).toEqual(['binary', 'max_scan_bytes', 'overload', 'stream_budget']);
    expect(Number(byName.get('traffic_guardian_up')?.metrics[0]?.value)).toBe(1);

    // Nothing from the traffic itself: no secret, no destination, no snippet.
    expect(findLeaks(text, [AWS])).toEqual([]);
    expect(text).not.toContain(upstream.authority);
    expect(text).not.toContain('REDACTED');
  });

  it('answers only GET/HEAD /metrics', async () => {
    expect((await get(metricsPort, '/')).status).toBe(404);
    expect((await get(metricsPort, '/metrics', 'POST')).status).toBe(405);
    const head = await get(metricsPort, '/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('a Grafana dashboard ships in the repo and queries only metrics that exist', async () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'examples', 'grafana-dashboard.json'), 'utf8')) as { title: string; panels: { targets?: { expr: string }[] }[] };
    expect(dash.title).toContain('traffic guardian');
    const exposed = new Set(parsePrometheus((await get(metricsPort, '/metrics')).body).map((f) => f.name));
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(4);
    for (const e of exprs) {
      for (const m of e.match(/traffic_guardian_[a-z_]+/g) ?? []) expect(exposed.has(m.replace(/_(bucket|sum|count)$/, '')), `${m} in ${e}`).toBe(true);
    }
  });
});
