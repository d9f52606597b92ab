/**
 * `traffic-guardian nanoclaw apply --known-env` with real files: a NanoClaw
 * fixture checkout with a `.env` of fake values generated for this run. The
 * values reach only `<home>/nanoclaw-env.secrets` (0600), never stdout,
 * stderr or any other file; a guardian pointed at that file by
 * `known_secrets_file` reports a `.env` value leaving through the proxy as
 * `known_secret` named by its key, with the value in no finding.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildCliIfStale } from './helpers/cli-sandbox.js';

import { createTrafficGuardian, type TrafficGuardianService } from '../host-services/lifecycle.js';
import { detectConfig, isolatedEnv, makeTempHome, type TempHome } from './helpers/guardian.js';
import { proxiedRequest, waitFor } from './helpers/proxy-client.js';
import { fakeAnthropicKey, findLeaks } from './helpers/secrets.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'host-services', 'cli', 'main.js');


/** Every file under `dir`, as path → text. */
function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

let t: TempHome;
let checkout: string;
let home: string;
const values = {
  DB_PASSWORD: randomBytes(18).toString('base64url'),
  INTERNAL_TOKEN: `tok_${randomBytes(16).toString('hex')}`,
  ANTHROPIC_API_KEY: fakeAnthropicKey(),
};
// Too short to register. Between `~`s, which no other value (hex,
// base64url) or output holds: four bare hex digits turned up by chance
// inside the 32-hex INTERNAL_TOKEN written beside them, or the output,
// about one run in 2,000.
const short = `~${randomBytes(2).toString('hex')}~`;
let apply: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  buildCliIfStale();
  t = await makeTempHome('tg-known-env-');
  checkout = join(t.home, 'nanoclaw');
  home = join(t.home, 'guardian');
  cpSync(join(ROOT, 'test', 'fixtures', 'nanoclaw-v1'), checkout, { recursive: true });
  writeFileSync(
    join(checkout, '.env'),
    [
      '# NanoClaw host settings',
      `DB_PASSWORD=${values.DB_PASSWORD}`,
      `INTERNAL_TOKEN="${values.INTERNAL_TOKEN}"`,
      '',
      `ANTHROPIC_API_KEY='${values.ANTHROPIC_API_KEY}'`,
      `PIN=${short}`,
      `bad name=${randomBytes(12).toString('hex')}`,
      'ASSISTANT_NAME=',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, [BIN, 'nanoclaw', 'apply', checkout, '--known-env', '--home', home], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env['PATH'] ?? '', HOME: t.home, NO_COLOR: '1' },
  });
  apply = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}, 120_000);
afterAll(async () => t?.cleanup());

describe('nanoclaw apply --known-env', () => {
  it('registers the .env keys by name and prints no value', () => {
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('registered 3 .env value(s) as known secrets: DB_PASSWORD, INTERNAL_TOKEN, ANTHROPIC_API_KEY');
    expect(apply.stdout).toMatch(/skipped PIN: value is not 8-256 bytes/);
    // An invalid name is named by its line, never shown (it may hold value text).
    expect(apply.stdout).toContain('skipped (line 7): name is not');
    expect(apply.stdout).not.toContain('bad name');
    expect(findLeaks(apply.stdout + apply.stderr, [...Object.values(values), short])).toEqual([]);
  });

  it('writes the values to one 0600 file in the home and nowhere else', () => {
    const file = join(home, 'nanoclaw-env.secrets');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    for (const v of Object.values(values)) expect(text).toContain(v);
    expect(text).not.toContain(short);
    const env = join(checkout, '.env');
    const elsewhere = [...files(t.home)].filter(([p]) => p !== file && p !== env);
    expect(elsewhere.length).toBeGreaterThan(3); // the edited checkout
    expect(findLeaks(elsewhere.map(([, s]) => s).join('\n'), Object.values(values))).toEqual([]);
  });

  it('a second run rewrites the same file and still prints no value', () => {
    const r = spawnSync(process.execPath, [BIN, 'nanoclaw', 'apply', checkout, '--known-env', '--home', home], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env['PATH'] ?? '', HOME: t.home, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('already applied');
    expect(r.stdout).toContain('registered 3 .env value(s)');
    expect(findLeaks(r.stdout + r.stderr, Object.values(values))).toEqual([]);
    expect(readdirSync(home).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('--dry-run names what it would register and writes nothing', () => {
    const dir = join(t.home, 'dry');
    const dryHome = join(t.home, 'dry-home');
    cpSync(join(ROOT, 'test', 'fixtures', 'nanoclaw-v2'), dir, { recursive: true });
    writeFileSync(join(dir, '.env'), `ONECLI_API_KEY=${values.INTERNAL_TOKEN}\n`);
    const r = spawnSync(process.execPath, [BIN, 'nanoclaw', 'apply', dir, '--known-env', '--dry-run', '--home', dryHome], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env['PATH'] ?? '', HOME: t.home, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('would register 1 .env value(s) as known secrets: ONECLI_API_KEY');
    expect(findLeaks(r.stdout + r.stderr, Object.values(values))).toEqual([]);
    expect(existsSync(join(dryHome, 'nanoclaw-env.secrets'))).toBe(false);
  });

  describe('a guardian using the file', () => {
    let svc: TrafficGuardianService | undefined;
    let upstream: Upstream;
    afterAll(async () => {
      await svc?.stop();
      await upstream?.close();
    });

    it('finds a .env value leaving through the proxy as known_secret named by its key', async () => {
      upstream = await startUpstream();
      svc = createTrafficGuardian({
        env: isolatedEnv(t.home),
        config: detectConfig(home, [], { known_secrets_file: join(home, 'nanoclaw-env.secrets') }),
      });
      const started = await svc.start();
      if (!started.started) throw new Error(`guardian did not start: ${started.message}`);
      const body = JSON.stringify({ note: Buffer.from(`db=${values.DB_PASSWORD}`).toString('base64') });
      const r = await proxiedRequest({ host: '127.0.0.1', port: started.info.port }, upstream.url('/upload'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(r.status).toBe(200);
      const found = await waitFor(() => svc?.findings({ limit: 50 }).findings.find((f) => f.pattern === 'known_secret'));
      expect(found.severity).toBe('critical');
      expect(JSON.stringify(found)).toContain('DB_PASSWORD');
      expect(JSON.stringify(found)).not.toContain('INTERNAL_TOKEN');
      const all = JSON.stringify(svc.findings({ limit: 50 }));
      const logs = [...files(join(home, 'logs'))].map(([, s]) => s).join('\n');
      expect(findLeaks(all + logs, Object.values(values))).toEqual([]);
    });
  });
});
