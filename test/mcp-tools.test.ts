/**
 * Container-side IPC client and the shared contract, against a real temp
 * filesystem. No addon needed: the "host" here is the test writing replies.
 */
import { mkdir, readdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  FindingsRequestSchema,
  IPC_SCHEMA,
  TrafficRequestSchema,
  isValidRequestId,
  newRequestId,
  type StatusData,
} from '../mcp-tools/contract.js';
import { callTrafficHost, writeTaskFileAtomic } from '../mcp-tools/ipc-client.js';
import { makeNanoclawDataDir, type NanoclawDataDir } from './helpers/ipc-dir.js';

const GROUP = 'team_alpha';

function statusData(): StatusData {
  return {
    running: true,
    state: 'running',
    mode: 'detect',
    uptime_ms: 1234,
    listen: '127.0.0.1:8118',
    https_inspection: false,
    require_auth: false,
    chained_upstream: false,
    max_scan_bytes: 1048576,
    redact_snippets: 'full',
    counters: { requests: 3 },
    caller: { group: GROUP, is_main: false, runtime_declared: true },
    runtimes: [GROUP],
  };
}

/** Waits for the one task file the client writes and returns it parsed. */
async function nextTask(dir: string): Promise<{ name: string; task: Record<string, unknown> }> {
  for (let i = 0; i < 200; i++) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
    const name = names[0];
    if (name !== undefined) {
      return { name, task: JSON.parse(await readFile(join(dir, name), 'utf8')) as Record<string, unknown> };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no task written');
}

describe('contract', () => {
  it('builds fresh ids of the documented shape', () => {
    const a = newRequestId('clawsec_traffic_findings');
    const b = newRequestId('clawsec_traffic_findings');
    expect(a).toMatch(/^clawsec-traffic-findings-\d{13}-[a-z0-9]{6}$/);
    expect(a).not.toBe(b);
    expect(newRequestId('clawsec_traffic_check_config')).toMatch(/^clawsec-traffic-check_config-/);
    expect(isValidRequestId(a)).toBe(true);
  });

  it.each(['../x', '..', 'a/b', 'a\\b', 'a.json', '', 'x'.repeat(129), 'a\u0000b', ' a', 'é'])(
    'rejects request id %j',
    (id) => {
      expect(isValidRequestId(id)).toBe(false);
      expect(TrafficRequestSchema.safeParse({ type: 'clawsec_traffic_status', requestId: id }).success).toBe(false);
    },
  );

  it('accepts NanoClaw envelope extras but not unknown fields', () => {
    const ok = TrafficRequestSchema.safeParse({
      type: 'clawsec_traffic_status',
      requestId: 'r1',
      groupFolder: 'other',
      isMain: true,
      timestamp: 'x',
    });
    expect(ok.success).toBe(true);
    const bad = TrafficRequestSchema.safeParse({ type: 'clawsec_traffic_status', requestId: 'r1', min_severtiy: 'high' });
    expect(bad.success).toBe(false);
  });

  it('validates findings filters', () => {
    const base = { type: 'clawsec_traffic_findings', requestId: 'r2' } as const;
    expect(FindingsRequestSchema.safeParse({ ...base, since: '15m', limit: 200, min_severity: 'high' }).success).toBe(true);
    expect(FindingsRequestSchema.safeParse({ ...base, since: '2026-04-26T00:00:00.000Z' }).success).toBe(true);
    expect(FindingsRequestSchema.safeParse({ ...base, since: '2026-04-26T00:00:00+02:00' }).success).toBe(true);
    for (const bad of [
      { since: 'yesterday' },
      { limit: 0 },
      { limit: 201 },
      { limit: 1.5 },
      { limit: '10' },
      { direction: 'sideways' },
      { threat_type: 'exfil' },
      { min_severity: 'severe' },
      { cursor: '' },
      { cursor: 'a b' },
      { cursor: 'x'.repeat(513) },
    ]) {
      expect(FindingsRequestSchema.safeParse({ ...base, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('ipc client', () => {
  let dir: NanoclawDataDir;
  beforeEach(async () => {
    dir = await makeNanoclawDataDir([GROUP]);
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  it('writes the task through the given writeIpcFile and reads, validates and deletes the reply', async () => {
    const writes: Array<{ dir: string; data: Record<string, unknown> }> = [];
    const ctx = {
      tasksDir: dir.tasksDir(GROUP),
      resultsDir: dir.resultsDir(GROUP),
      timeoutMs: 5_000,
      writeIpcFile: async (d: string, data: object) => {
        writes.push({ dir: d, data: data as Record<string, unknown> });
        return writeTaskFileAtomic(d, data);
      },
    };
    const pending = callTrafficHost('clawsec_traffic_findings', { limit: 5, min_severity: 'high' }, ctx);
    const { task } = await nextTask(dir.tasksDir(GROUP));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.dir).toBe(dir.tasksDir(GROUP));
    expect(task).toMatchObject({ type: 'clawsec_traffic_findings', limit: 5, min_severity: 'high' });
    const id = String(task['requestId']);
    expect(id).toMatch(/^clawsec-traffic-findings-\d+-[a-z0-9]{6}$/);
    await mkdir(dir.resultsDir(GROUP), { recursive: true });
    const file = join(dir.resultsDir(GROUP), `${id}.json`);
    await writeFile(
      `${file}.tmp`,
      JSON.stringify({
        schema: IPC_SCHEMA,
        requestId: id,
        success: true,
        data: { running: true, scope: 'own_group', returned: 0, findings: [] },
      }),
    );
    await rename(`${file}.tmp`, file);
    const result = await pending;
    expect(result.ok).toBe(true);
    if (result.ok && result.response.success) {
      expect(result.response.data).toEqual({ running: true, scope: 'own_group', returned: 0, findings: [] });
    } else {
      throw new Error('expected a successful reply');
    }
    expect(await readdir(dir.resultsDir(GROUP))).toEqual([]);
  });

  it('falls back to its own atomic writer and treats a half-written reply as not ready', async () => {
    const ctx = { tasksDir: dir.tasksDir(GROUP), resultsDir: dir.resultsDir(GROUP), timeoutMs: 5_000, pollMs: 20 };
    const started = Date.now();
    const pending = callTrafficHost('clawsec_traffic_status', {}, ctx);
    const { name, task } = await nextTask(dir.tasksDir(GROUP));
    expect(name).toMatch(/^\d+-[0-9a-f]{6}\.json$/);
    const id = String(task['requestId']);
    await mkdir(dir.resultsDir(GROUP), { recursive: true });
    const file = join(dir.resultsDir(GROUP), `${id}.json`);
    const full = JSON.stringify({ schema: IPC_SCHEMA, requestId: id, success: true, data: statusData() });
    // A non-atomic writer: first half now, the rest later.
    await writeFile(file, full.slice(0, Math.floor(full.length / 2)));
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(file, full);
    const result = await pending;
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await readdir(dir.resultsDir(GROUP))).toEqual([]);
  });

  it('reports a clear malformed-reply error when the file never parses', async () => {
    const ctx = { tasksDir: dir.tasksDir(GROUP), resultsDir: dir.resultsDir(GROUP), timeoutMs: 600, pollMs: 20 };
    const pending = callTrafficHost('clawsec_traffic_status', {}, ctx);
    const { task } = await nextTask(dir.tasksDir(GROUP));
    await mkdir(dir.resultsDir(GROUP), { recursive: true });
    await writeFile(join(dir.resultsDir(GROUP), `${String(task['requestId'])}.json`), '{"schema": "clawsec-traf');
    const result = await pending;
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('malformed_reply');
      expect(result.message).toMatch(/malformed reply/);
    }
    expect(await readdir(dir.resultsDir(GROUP))).toEqual([]);
  });

  it('rejects a complete reply that breaks the contract', async () => {
    const ctx = { tasksDir: dir.tasksDir(GROUP), resultsDir: dir.resultsDir(GROUP), timeoutMs: 3_000, pollMs: 20 };
    const cases: unknown[] = [
      { schema: 'other/v1', requestId: 'X', success: true, data: {} },
      { schema: IPC_SCHEMA, requestId: 'someone-else', success: true, data: statusData() },
      { schema: IPC_SCHEMA, requestId: '<ID>', success: true, data: { running: 'yes' } },
    ];
    for (const reply of cases) {
      const pending = callTrafficHost('clawsec_traffic_status', {}, ctx);
      const { name, task } = await nextTask(dir.tasksDir(GROUP));
      const id = String(task['requestId']);
      await mkdir(dir.resultsDir(GROUP), { recursive: true });
      const body = JSON.stringify(reply).replace('"X"', JSON.stringify(id)).replace('"<ID>"', JSON.stringify(id));
      await writeFile(join(dir.resultsDir(GROUP), `${id}.json`), body);
      const result = await pending;
      expect(result.ok, body).toBe(false);
      if (!result.ok) expect(result.code).toBe('malformed_reply');
      await import('node:fs/promises').then((fs) => fs.unlink(join(dir.tasksDir(GROUP), name)));
    }
  });

  it('passes a host error reply through as a value', async () => {
    const ctx = { tasksDir: dir.tasksDir(GROUP), resultsDir: dir.resultsDir(GROUP), timeoutMs: 3_000, pollMs: 20 };
    const pending = callTrafficHost('clawsec_traffic_findings', {}, ctx);
    const { task } = await nextTask(dir.tasksDir(GROUP));
    const id = String(task['requestId']);
    await mkdir(dir.resultsDir(GROUP), { recursive: true });
    await writeFile(
      join(dir.resultsDir(GROUP), `${id}.json`),
      JSON.stringify({ schema: IPC_SCHEMA, requestId: id, success: false, error: { code: 'query_failed', message: 'bad cursor' } }),
    );
    const result = await pending;
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.response).toMatchObject({ success: false, error: { code: 'query_failed' } });
  });

  it('times out with a clear message and withdraws its task when no host answers', async () => {
    const ctx = { tasksDir: dir.tasksDir(GROUP), resultsDir: dir.resultsDir(GROUP), timeoutMs: 400, pollMs: 20 };
    const started = Date.now();
    const result = await callTrafficHost('clawsec_traffic_check_config', {}, ctx);
    const elapsed = Date.now() - started;
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('timeout');
      expect(result.message).toMatch(/did not answer within 400 ms/);
      expect(result.message).toMatch(/not installed|busy/);
    }
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3_000);
    expect(await readdir(dir.tasksDir(GROUP))).toEqual([]);
  });

  it('reports a write failure instead of throwing', async () => {
    const ctx = {
      tasksDir: dir.tasksDir(GROUP),
      resultsDir: dir.resultsDir(GROUP),
      timeoutMs: 200,
      writeIpcFile: () => {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
    };
    const result = await callTrafficHost('clawsec_traffic_status', {}, ctx);
    expect(result).toMatchObject({ ok: false, code: 'write_failed' });
  });
});
