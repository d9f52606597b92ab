/**
 * Container-side IPC client and the shared contract, against a real temp
 * filesystem. No addon needed: the "host" here is the test writing replies.
 */
import { mkdir, readdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createTrafficGuardian, type TrafficGuardianService } from '../host-services/lifecycle.js';
import { registerTrafficTools, trafficToolsV2 } from '../mcp-tools/index.js';
import {
  CheckConfigDataSchema,
  FindingsDataSchema,
  StatusDataSchema,
  FindingsRequestSchema,
  IPC_SCHEMA,
  SinceSchema,
  TrafficRequestSchema,
  isValidRequestId,
  newRequestId,
  type StatusData,
} from '../mcp-tools/contract.js';
import { callTrafficHost, writeTaskFileAtomic } from '../mcp-tools/ipc-client.js';
import { normalizeTimeBound } from '@clawsec/traffic-guardian/addon';
import { detectConfig, isolatedEnv, makeRuntimes, makeTempHome, type TempHome } from './helpers/guardian.js';
import { makeNanoclawDataDir, type NanoclawDataDir } from './helpers/ipc-dir.js';
import { nanoclawWatcher, type Watcher } from './helpers/nanoclaw-watcher.js';
import { proxiedRequest, proxyTargetFromUrl, waitFor } from './helpers/proxy-client.js';
import { findLeaks, makeSecretSet, type SecretSet } from './helpers/secrets.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

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
  // 2,000 polls (20 s and more; 200, about 2 s, was within reach of a loaded box).
  for (let i = 0; i < 2000; i++) {
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

  it('accepts only times the host parses: the container grammar is a subset of the addon\'s', () => {
    const hostAccepts = (v: string): boolean => {
      try {
        normalizeTimeBound(v);
        return true;
      } catch {
        return false;
      }
    };
    const values: string[] = [];
    for (const unit of ['ms', 's', 'm', 'h', 'd', 'w', 'y', 'H', '']) {
      for (const n of ['0', '1', '15', '24', '999999', '1000000', '-1', '1.5', ' 1']) values.push(`${n}${unit}`);
    }
    values.push(
      '2026-04-26T00:00:00Z',
      '2026-04-26T00:00:00.000Z',
      '2026-04-26T00:00:00+02:00',
      '2026-04-26T00:00:00',
      '2026-04-26',
      '2026-04-26 00:00:00Z',
      '2026-04-26T00:00Z',
      '2026-04-26T00:00+02:00',
      '2026-04-26T00:00:00.123456789Z',
      'yesterday',
      '',
    );
    let accepted = 0;
    for (const v of values) {
      if (!SinceSchema.safeParse(v).success) continue;
      accepted++;
      expect(hostAccepts(v), v).toBe(true);
    }
    // The check can fail: both sides accept the documented forms.
    expect(accepted).toBeGreaterThanOrEqual(4 * 5 + 3);
    for (const v of ['yesterday', '1y', '2026-04-26T00:00:00', '']) expect(hostAccepts(v), v).toBe(false);
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
    // 20 s: the call must succeed, however slowly a loaded box gets through the steps.
    const ctx = { tasksDir: dir.tasksDir(GROUP), resultsDir: dir.resultsDir(GROUP), timeoutMs: 20_000, pollMs: 20 };
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
    // The broken reply must be written before the timeout, or the answer is
    // `timeout`: 600 ms was within reach of a loaded box's event loop.
    const ctx = { tasksDir: dir.tasksDir(GROUP), resultsDir: dir.resultsDir(GROUP), timeoutMs: 3_000, pollMs: 20 };
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
    // Waited at least its timeout (a lower bound load can only lengthen); no upper bound on a busy machine.
    expect(elapsed).toBeGreaterThanOrEqual(390);
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

// ---------------------------------------------------------------------------
// The tools through the real MCP SDK, answered by the real host handler and
// a real guardian that saw real traffic.
// ---------------------------------------------------------------------------

describe('MCP tools with the real SDK, host and guardian', () => {
  const MAIN = 'main';
  const runtimes = makeRuntimes('alpha', 'beta');
  let home: TempHome;
  let ipc: NanoclawDataDir;
  let upstream: Upstream;
  let svc: TrafficGuardianService;
  let secrets: SecretSet;
  let watcher: Watcher;
  const closers: Array<() => Promise<void>> = [];
  /** Every tool result of this block, checked for leaks at the end. */
  const results: unknown[] = [];

  async function connectTools(group: string, opts: { timeoutMs?: number } = {}): Promise<Client> {
    const server = new McpServer({ name: 'nanoclaw', version: '0.0.0-test' });
    const names = registerTrafficTools(server, {
      tasksDir: ipc.tasksDir(group),
      resultsDir: ipc.resultsDir(group),
      timeoutMs: opts.timeoutMs ?? 5_000,
      pollMs: 25,
    });
    expect(names).toHaveLength(3);
    const [clientT, serverT] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'test-agent', version: '0.0.0' });
    await Promise.all([server.connect(serverT), client.connect(clientT)]);
    closers.push(async () => {
      await client.close();
      await server.close();
    });
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    await client.listTools(); // lets the client cache output schemas and validate structured content
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    results.push(r);
    return r;
  }

  function text(r: CallToolResult): string {
    return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  }

  beforeAll(async () => {
    home = await makeTempHome();
    ipc = await makeNanoclawDataDir([MAIN, 'alpha', 'beta']);
    upstream = await startUpstream();
    secrets = makeSecretSet();
    svc = createTrafficGuardian({ env: isolatedEnv(home.home), config: detectConfig(home.home, runtimes) });
    const res = await svc.start();
    if (!res.started) throw new Error(`guardian did not start: ${JSON.stringify(res)}`);
    const alpha = proxyTargetFromUrl(svc.wiring('alpha', { proxyHost: '127.0.0.1' }).proxyUrl);
    const beta = proxyTargetFromUrl(svc.wiring('beta', { proxyHost: '127.0.0.1' }).proxyUrl);
    await proxiedRequest(alpha, upstream.url('/leak'), {
      method: 'POST',
      headers: { 'x-api-key': secrets.anthropic },
      body: `aws_access_key_id=${secrets.aws}&token=${secrets.openai}`,
    });
    await proxiedRequest(beta, upstream.url('/leak-b'), { headers: { authorization: `Bearer ${secrets.github}` } });
    await waitFor(() => {
      const f = svc.findings({ limit: 1000 }).findings;
      return f.some((x) => x.source === 'alpha') && f.some((x) => x.source === 'beta');
    });
    watcher = nanoclawWatcher(ipc.dataDir, MAIN, { service: svc });
    watcher.start(25);
  });

  afterAll(async () => {
    await watcher?.stop();
    for (const c of closers) await c();
    await svc?.stop();
    const all = JSON.stringify(results);
    expect(findLeaks(all, secrets.all)).toEqual([]);
    for (const r of runtimes) expect(all).not.toContain(r.token);
    await upstream?.close();
    await ipc?.cleanup();
    await home?.cleanup();
  });

  it('tools/list shows the three tools with input and output schemas and read-only annotations', async () => {
    const client = await connectTools('alpha');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'clawsec_traffic_check_config',
      'clawsec_traffic_findings',
      'clawsec_traffic_status',
    ]);
    for (const t of tools) {
      expect(t.description?.length ?? 0).toBeGreaterThan(80);
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type).toBe('object');
      expect(t.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    }
    const findings = tools.find((t) => t.name === 'clawsec_traffic_findings')!;
    const props = findings.inputSchema.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(props).sort()).toEqual(['cursor', 'direction', 'limit', 'min_severity', 'since', 'threat_type']);
    expect(props['limit']).toMatchObject({ minimum: 1, maximum: 200 });
    expect(props['direction']?.['enum']).toEqual(['outbound', 'inbound']);
  });

  it('status returns structured content that validates against its output schema', async () => {
    const client = await connectTools('alpha');
    const r = await call(client, 'clawsec_traffic_status');
    expect(r.isError ?? false).toBe(false);
    const data = StatusDataSchema.parse(r.structuredContent);
    expect(data.running).toBe(true);
    expect(data.caller).toEqual({ group: 'alpha', is_main: false, runtime_declared: true });
    expect(text(r)).toMatch(/running in detect mode/);
  });

  it('findings come back redacted and only for the calling group', async () => {
    const alpha = await connectTools('alpha');
    const r = await call(alpha, 'clawsec_traffic_findings', { limit: 50, direction: 'outbound' });
    expect(r.isError ?? false, text(r)).toBe(false);
    const data = FindingsDataSchema.parse(r.structuredContent);
    expect(data.findings.length).toBeGreaterThan(0);
    expect(data.findings.every((f) => f.source === 'alpha' && f.direction === 'outbound')).toBe(true);
    expect(text(r)).toMatch(/finding\(s\) \(this group only\)/);
    const beta = await connectTools('beta');
    const rb = await call(beta, 'clawsec_traffic_findings', {});
    const db = FindingsDataSchema.parse(rb.structuredContent);
    expect(db.findings.every((f) => f.source === 'beta')).toBe(true);
    const main = await connectTools(MAIN);
    const rm = await call(main, 'clawsec_traffic_findings', { min_severity: 'low' });
    const dm = FindingsDataSchema.parse(rm.structuredContent);
    expect(new Set(dm.findings.map((f) => f.source))).toEqual(new Set(['alpha', 'beta']));
  });

  it('check_config returns the validated, masked config', async () => {
    const client = await connectTools(MAIN);
    const r = await call(client, 'clawsec_traffic_check_config');
    const data = CheckConfigDataSchema.parse(r.structuredContent);
    expect(data.ok).toBe(true);
    expect(text(r)).toMatch(/Configuration is valid/);
  });

  it('rejects invalid arguments through the schema', async () => {
    const client = await connectTools('alpha');
    for (const args of [{ limit: 500 }, { limit: 0 }, { direction: 'sideways' }, { since: 'soon' }, { extra: 1 }]) {
      const r = await call(client, 'clawsec_traffic_findings', args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      expect(text(r)).toMatch(/validation|Invalid/i);
    }
    const s = await call(client, 'clawsec_traffic_status', { verbose: true });
    expect(s.isError).toBe(true);
  });

  it('a missing host gives the timeout error', async () => {
    const lonely = await makeNanoclawDataDir(['solo']);
    try {
      const server = new McpServer({ name: 'nanoclaw', version: '0' });
      registerTrafficTools(server, { tasksDir: lonely.tasksDir('solo'), resultsDir: lonely.resultsDir('solo'), timeoutMs: 400, pollMs: 20 });
      const [c, s] = InMemoryTransport.createLinkedPair();
      const client = new Client({ name: 't', version: '0' });
      await Promise.all([server.connect(s), client.connect(c)]);
      const r = (await client.callTool({ name: 'clawsec_traffic_status', arguments: {} })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/timeout.*did not answer within 400 ms/s);
      await client.close();
      await server.close();
    } finally {
      await lonely.cleanup();
    }
  });

  it('a malformed result file gives a clear error', async () => {
    const odd = await makeNanoclawDataDir(['odd']);
    try {
      const server = new McpServer({ name: 'nanoclaw', version: '0' });
      // 3 s, not 600 ms: the truncated file must land before the timeout.
      registerTrafficTools(server, { tasksDir: odd.tasksDir('odd'), resultsDir: odd.resultsDir('odd'), timeoutMs: 3_000, pollMs: 20 });
      const [c, s] = InMemoryTransport.createLinkedPair();
      const client = new Client({ name: 't', version: '0' });
      await Promise.all([server.connect(s), client.connect(c)]);
      const pending = client.callTool({ name: 'clawsec_traffic_findings', arguments: {} }) as Promise<CallToolResult>;
      // A broken host: answers with a truncated file.
      const { task } = await nextTask(odd.tasksDir('odd'));
      await mkdir(odd.resultsDir('odd'), { recursive: true });
      await writeFile(join(odd.resultsDir('odd'), `${String(task['requestId'])}.json`), '{"schema":"clawsec-traffic-ipc/v1","requ');
      const r = await pending;
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/malformed reply/);
      await client.close();
      await server.close();
    } finally {
      await odd.cleanup();
    }
  });

  it('v2 { tool, handler } objects work over the same IPC and validate their own arguments', async () => {
    const tools = trafficToolsV2({ tasksDir: ipc.tasksDir('alpha'), resultsDir: ipc.resultsDir('alpha'), timeoutMs: 5_000, pollMs: 25 });
    expect(tools.map((t) => t.tool.name)).toEqual(['clawsec_traffic_status', 'clawsec_traffic_findings', 'clawsec_traffic_check_config']);
    const findings = tools[1]!;
    expect(findings.tool.inputSchema['type']).toBe('object');
    const ok = await findings.handler({ limit: 10 });
    results.push(ok);
    expect(ok.isError ?? false).toBe(false);
    expect(FindingsDataSchema.parse(ok.structuredContent).findings.every((f) => f.source === 'alpha')).toBe(true);
    const bad = await findings.handler({ limit: 1000 });
    expect(bad.isError).toBe(true);
    // An exchange-based v2 transport that never answers.
    const silent = trafficToolsV2({ exchange: async () => undefined, timeoutMs: 50 });
    const r = await silent[0]!.handler({});
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/did not answer/);
  });
});
