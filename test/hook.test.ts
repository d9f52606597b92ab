/**
 * The `on_finding` hook with a real guardian and real loopback traffic:
 * the command gets each finding at or above min_severity as redacted JSON
 * on stdin, with none of the guardian's environment; traffic is forwarded
 * unchanged whatever the hook does; failures, timeouts and a full queue are
 * counted (by polling counters, not by timing). No secret reaches the hook.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTrafficGuardian, type TrafficGuardianService } from '@clawsec/traffic-guardian';

import { proxiedRequest, waitFor } from './helpers/proxy-client.js';
import { fakeAwsAccessKeyId, fakeRuntimeToken, findLeaks } from './helpers/secrets.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const AWS = fakeAwsAccessKeyId();
const ENV_TOKEN = fakeRuntimeToken();
const tmp = mkdtempSync(join(tmpdir(), 'tg-hook-'));
// The guardian runs in this process: the hook must not inherit its environment.
process.env['TG_HOOK_TEST_TOKEN'] = ENV_TOKEN;

/** An executable script (absolute path, as the config requires) run by this Node. */
function script(name: string, body: string): string {
  const p = join(tmp, name);
  writeFileSync(p, `#!${process.execPath}\n${body}\n`);
  chmodSync(p, 0o700);
  return p;
}

const recorder = script(
  'record.mjs',
  `import { appendFileSync } from 'node:fs';
let s = '';
process.stdin.setEncoding('utf8').on('data', (d) => (s += d)).on('end', () => {
  appendFileSync(process.argv[2], JSON.stringify({ stdin: s, env: process.env }) + '\\n');
});`,
);
const failing = script('fail.mjs', `process.stdin.resume(); process.stdin.on('end', () => process.exit(3));`);
const hanging = script('hang.mjs', `setInterval(() => {}, 1000);`);

describe('on_finding hook', () => {
  let upstream: Upstream;
  const services: TrafficGuardianService[] = [];
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(async () => {
    for (const s of services) await s.stop();
    await upstream.close();
  });

  async function guardian(onFinding: Record<string, unknown>): Promise<{ svc: TrafficGuardianService; send: (i: number) => Promise<void> }> {
    const home = mkdtempSync(join(tmpdir(), 'tg-hook-home-'));
    const svc = createTrafficGuardian({
      env: {},
      config: { mode: 'detect', home, listen: '127.0.0.1:0', allow_private_destinations: ['127.0.0.1'], dedup_window_secs: 0, shutdown_grace_ms: 200, on_finding: onFinding },
    });
    services.push(svc);
    const r = await svc.start();
    if (!r.started) throw new Error(r.message);
    const port = r.info.port;
    const send = async (i: number) => {
      const body = JSON.stringify({ aws: AWS, i });
      const res = await proxiedRequest({ host: '127.0.0.1', port }, upstream.url(`/h${i}`), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
      expect(upstream.received.at(-1)?.body).toBe(body); // forwarded unchanged
    };
    return { svc, send };
  }

  const hookOf = (svc: TrafficGuardianService) => svc.status().hook;

  it('gets the redacted finding as JSON on stdin, with a minimal environment', async () => {
    const out = join(tmp, 'calls.jsonl');
    // Hook timeouts far above a Node start on a loaded box (the default 5 s is
    // not): these runs must finish, not time out.
    const { svc, send } = await guardian({ command: [recorder, out], min_severity: 'high', timeout_ms: 30_000 });
    await send(1);
    await waitFor(() => hookOf(svc)?.hook_runs === 1 && existsSync(out), 10_000);
    const [call] = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stdin: string; env: Record<string, string> });
    const f = JSON.parse(call?.stdin ?? '{}') as Record<string, unknown>;
    expect(f).toMatchObject({ schema_version: 'clawsec-traffic-finding/v1', pattern: 'aws_access_key_id', severity: 'high', direction: 'outbound' });
    expect(Object.keys(call?.env ?? {}).sort()).toEqual(['LANG', 'PATH']);
    expect(findLeaks(readFileSync(out, 'utf8'), [AWS, ENV_TOKEN])).toEqual([]);
  });

  it('skips findings below min_severity', async () => {
    const out = join(tmp, 'critical-only.jsonl');
    const { svc, send } = await guardian({ command: [recorder, out], min_severity: 'critical' });
    await send(2);
    await waitFor(() => (svc.status() as { counters?: { findings_emitted: number } }).counters?.findings_emitted === 1, 10_000);
    expect(hookOf(svc)).toMatchObject({ hook_runs: 0, hook_failures: 0, hook_dropped: 0 });
    expect(existsSync(out)).toBe(false);
  });

  it('counts failures and kills runs at timeout_ms', async () => {
    const bad = await guardian({ command: [failing], min_severity: 'low', timeout_ms: 30_000 });
    await bad.send(3);
    await waitFor(() => hookOf(bad.svc)?.hook_failures === 1, 10_000);
    const slow = await guardian({ command: [hanging], min_severity: 'low', timeout_ms: 100 });
    await slow.send(4);
    await waitFor(() => hookOf(slow.svc)?.hook_timeouts === 1, 10_000);
    expect(hookOf(slow.svc)?.hook_runs).toBe(0);
  });

  it('a full queue drops and counts; traffic keeps flowing', async () => {
    const { svc, send } = await guardian({ command: [hanging], min_severity: 'low', timeout_ms: 60_000, max_concurrent: 1, max_queue: 1 });
    for (let i = 10; i < 14; i++) await send(i);
    // One runs (hanging), one waits, the rest are dropped.
    await waitFor(() => {
      const h = hookOf(svc);
      return h && h.hook_queued === 1 && h.hook_dropped === 2;
    }, 10_000);
    await svc.stop();
    expect(hookOf(svc)?.hook_queued).toBe(0);
  });
});
