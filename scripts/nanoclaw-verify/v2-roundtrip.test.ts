// Temporary round-trip check on a real NanoClaw v2 2.0.64 tree after `nanoclaw apply`
// (copied into src/ to run with v2's own test setup, removed afterwards).
import Database from 'better-sqlite3';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { describe, expect, it, vi } from 'vitest';

fs.rmSync('/tmp/nc-v2-roundtrip-data', { recursive: true, force: true });
fs.mkdirSync('/tmp/nc-v2-roundtrip-data', { recursive: true });

vi.mock('./config.js', async () => {
  const actual = await vi.importActual<typeof import('./config.js')>('./config.js');
  return { ...actual, DATA_DIR: '/tmp/nc-v2-roundtrip-data' };
});

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-v2rt-'));
fs.chmodSync(home, 0o700);
fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ allow_private_destinations: ['127.0.0.1'] }), { mode: 0o600 });
process.env.NANOCLAW_TRAFFIC_GUARDIAN_HOME = home;
process.env.NANOCLAW_TRAFFIC_GUARDIAN_MODE = 'detect';
process.env.NANOCLAW_TRAFFIC_GUARDIAN_PROXY_URL = '127.0.0.1:0';

import { initTestDb, runMigrations, createAgentGroup, createMessagingGroup } from './db/index.js';
import { resolveSession, outboundDbPath, inboundDbPath } from './session-manager.js';
import { deliverSessionMessages, setDeliveryAdapter } from './delivery.js';

describe('traffic guardian round trip on v2', () => {
  it('proxy finding -> container tool -> delivery action -> redacted answer', async () => {
    runMigrations(initTestDb());
    const now = new Date().toISOString();
    createAgentGroup({ id: 'ag-1', name: 'Family', folder: 'family-chat', agent_provider: null, created_at: now });
    createMessagingGroup({ id: 'mg-1', channel_type: 'telegram', platform_id: 'telegram:1', name: 'c', is_group: 0, unknown_sender_policy: 'public', created_at: now });
    const { session } = resolveSession('ag-1', 'mg-1', null, 'shared');
    setDeliveryAdapter({ deliver: async () => undefined } as never);

    await import('./modules/traffic-guardian/index.js');
    const { trafficGuardian, wireTrafficContainer } = await import('./modules/traffic-guardian/service.js');
    const started = await trafficGuardian.start();
    expect(started.started).toBe(true);

    const args = ['run', '--rm', '--name', 'n', '-e', 'TZ=UTC', '--entrypoint', 'bash', 'nanoclaw-agent:v2', '-c', 'exec bun run /app/src/index.ts'];
    const env = await wireTrafficContainer(args, 'family-chat');
    // Flags before the image; the image and its -c command stay last.
    expect(args.slice(-3)).toEqual(['nanoclaw-agent:v2', '-c', 'exec bun run /app/src/index.ts']);
    expect(args.indexOf('HTTP_PROXY')).toBeLessThan(args.indexOf('nanoclaw-agent:v2'));

    const origin = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const port = (origin.address() as { port: number }).port;
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let key = 'AKIA';
    for (let i = 0; i < 16; i++) key += A[Math.floor(Math.random() * A.length)];
    const proxy = new URL(env.HTTP_PROXY!);
    const auth = 'Basic ' + Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64');
    const body = `aws_access_key_id=${key}`;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: Number(proxy.port), method: 'POST', path: `http://127.0.0.1:${port}/u`, headers: { host: `127.0.0.1:${port}`, 'proxy-authorization': auth, 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
    for (let i = 0; i < 100 && trafficGuardian.findings().findings.length === 0; i++) await new Promise((r) => setTimeout(r, 50));

    // The container tool, with the exchange the applied container module uses, over the real session DBs.
    const { trafficToolsV2 } = await import('@clawsec/traffic-guardian/mcp-tools');
    const tools = trafficToolsV2({
      exchange: async (request) => {
        const out = new Database(outboundDbPath('ag-1', session.id));
        out.prepare(`INSERT INTO messages_out (id, timestamp, kind, content) VALUES (?, datetime('now'), 'system', ?)`).run(request.requestId, JSON.stringify(request));
        out.close();
        await deliverSessionMessages(session);
        const inb = new Database(inboundDbPath('ag-1', session.id));
        const row = inb.prepare('SELECT content FROM messages_in WHERE content LIKE ?').get(`%"questionId":"${request.requestId}"%`) as { content: string } | undefined;
        inb.close();
        return row ? (JSON.parse(row.content) as { result: unknown }).result : undefined;
      },
    });
    const findings = tools.find((t) => t.tool.name === 'clawsec_traffic_findings')!;
    const r = await findings.handler({});
    const text = JSON.stringify(r);
    console.log((r.content[0] as { text: string }).text);
    expect(text).toMatch(/aws_access_key_id/);
    expect(text).toContain('family-chat');
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(4));
    await trafficGuardian.stop();
    origin.close();
  });
});
