/**
 * Canary credentials through the real compiled CLI and a real guardian:
 * `canary new` prints a value in the provider's format once and records
 * only keyed hashes (0600); a guardian built on that home reports the
 * canary, wherever it goes, as a critical `canary_token` naming the group
 * and id; `canary list` (table and --json) and `canary retire` round-trip.
 * Apart from the one `canary new` output, no output or file holds a value.
 */
import { createServer, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Guardian, canaryNew } from '@clawsec/traffic-guardian/addon';
import type { Finding } from '@clawsec/traffic-guardian/addon';

import { cliSandbox } from './helpers/cli-sandbox.js';

const sandbox = cliSandbox('tg-canary-');
const { home, logs, run, outputs } = sandbox;

function post(proxyPort: number, target: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(target);
    const req = request(
      { host: '127.0.0.1', port: proxyPort, method: 'POST', path: target, headers: { host: u.host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('traffic-guardian canary', () => {
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  afterAll(() => upstream.close());

  let value = '';
  let id = '';

  it('new prints the value once in its real format and stores only hashes (0600)', () => {
    const r = run(['canary', 'new', '--group', 'main', '--kind', 'github']);
    expect(r.code, r.stderr).toBe(0);
    const m = /^GITHUB_TOKEN=(ghp_[0-9A-Za-z]{36})\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    value = m?.[1] ?? '';
    id = /minted canary (can_[0-9a-f]{12})/.exec(r.stderr)?.[1] ?? '';
    expect(id).not.toBe('');
    const file = join(home, 'canaries.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(id);
    expect(text).not.toContain(value);
    expect(text).not.toContain(value.slice(4));
  });

  it('new creates a missing home owner-only (0700), whatever the umask', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-canary-home-'));
    const old = process.umask(0o022);
    try {
      const fresh = join(dir, 'fresh', 'home');
      const minted = canaryNew(fresh, 'main', 'aws');
      expect(minted.info.id).toMatch(/^can_/);
      expect(statSync(fresh).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'fresh')).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(old);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('list shows it as a table and as JSON', () => {
    const t = run(['canary', 'list']);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(id);
    expect(t.stdout).toContain('main');
    expect(t.stdout).toContain('github');
    const j = run(['canary', 'list', '--json']);
    const list = JSON.parse(j.stdout) as { id: string; group: string; kind: string }[];
    expect(list).toEqual([expect.objectContaining({ id, group: 'main', kind: 'github' })]);
  });

  it('a guardian on that home reports the canary, encoded, as critical canary_token', async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const addr = upstream.address();
    const upPort = typeof addr === 'object' && addr ? addr.port : 0;
    const findings: Finding[] = [];
    const g = new Guardian({
      env: sandbox.env(),
      overrides: { mode: 'detect', listen: '127.0.0.1:0', home, log_dir: logs, allow_private_destinations: ['127.0.0.1'], dedup_window_secs: 0, shutdown_grace_ms: 200 },
    });
    const info = await g.start((f) => findings.push(f));
    const body = JSON.stringify({ note: Buffer.from(`token ${value}`).toString('base64') });
    expect(await post(info.port, `http://127.0.0.1:${upPort}/upload`, body)).toBe(200);
    // Up to 20 s (5 s was within reach of a loaded CI box); the finding is expected.
    for (let i = 0; i < 400 && !findings.some((f) => f.pattern === 'canary_token'); i++) await new Promise((r) => setTimeout(r, 50));
    await g.stop();
    const c = findings.find((f) => f.pattern === 'canary_token');
    expect(c, JSON.stringify(findings)).toBeDefined();
    expect(c?.severity).toBe('critical');
    expect(c?.snippet).toContain(`main/${id}`);
    const stored = readdirSync(logs)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('\n');
    expect(stored).toContain('canary_token');
    expect(stored).not.toContain(value);
    expect(JSON.stringify(findings)).not.toContain(value);
  });

  it('findings and report list it without the value; retire removes it', () => {
    const f = run(['findings', '--json']);
    expect(f.stdout).toContain('canary_token');
    const rep = run(['report']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toContain('canary_token');
    // The pattern filter and suppressions accept the new kind (rule ids are checked against the catalog).
    const only = run(['findings', '--pattern', 'canary_token', '--json']);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stdout).toContain('canary_token');
    const html = run(['report', '--format', 'html']);
    expect(html.code, html.stderr).toBe(0);
    expect(html.stdout).toContain('canary_token');
    const rules = run(['rules', '--json']);
    const ids = (JSON.parse(rules.stdout) as { id: string }[]).map((r) => r.id);
    for (const id of ['known_secret', 'canary_token', 'volume_anomaly', 'dns_label_exfil', 'fragmented_exfil']) expect(ids).toContain(id);
    const r = run(['canary', 'retire', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`retired ${id}`);
    expect(JSON.parse(run(['canary', 'list', '--json']).stdout)).toEqual([]);
    expect(run(['canary', 'retire', id]).code).toBe(1);
    expect(run(['canary', 'new', '--group', 'main', '--kind', 'nope']).code).toBe(2);
    // Every output but the one `canary new` that printed it is free of the value.
    const later = outputs.slice(2).join('\n');
    expect(later).not.toContain(value);
    expect(later).not.toContain(value.slice(-12));
  });
});
