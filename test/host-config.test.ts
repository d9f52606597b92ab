/**
 * Config through the host layer and the real addon validator: precedence
 * (file < env < overrides), `block` rejected, secrets masked in `effective`,
 * errors and warnings surfaced with field and hint, and only the guardian's
 * own env vars handed to the addon.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { buildConfigInput, checkTrafficConfig, effectiveView, formatConfigIssues } from '../host-services/config.js';
import { createTrafficGuardian } from '../host-services/lifecycle.js';
import { detectConfig, isolatedEnv, makeRuntimes, makeTempHome, recordingLogger, type TempHome } from './helpers/guardian.js';
import { fakeAwsAccessKeyId, fakeRuntimeToken } from './helpers/secrets.js';

let t: TempHome;
beforeEach(async () => {
  t = await makeTempHome();
});
afterEach(async () => {
  await t.cleanup();
});

function fields(issues: { field: string }[]): string[] {
  return issues.map((i) => i.field);
}

describe('buildConfigInput', () => {
  it('passes only guardian variables (and HOME) to the addon', () => {
    const secret = fakeAwsAccessKeyId();
    const input = buildConfigInput({
      env: {
        HOME: t.home,
        NANOCLAW_TRAFFIC_GUARDIAN_MODE: 'detect',
        AWS_ACCESS_KEY_ID: secret,
        ANTHROPIC_API_KEY: 'sk-ant-whatever',
        UNSET: undefined,
      },
      configPath: join(t.home, 'c.json'),
      config: { listen: '127.0.0.1:0' },
    });
    expect(input.env).toEqual({ HOME: t.home, NANOCLAW_TRAFFIC_GUARDIAN_MODE: 'detect' });
    expect(JSON.stringify(input)).not.toContain(secret);
    expect(input.config_path).toBe(join(t.home, 'c.json'));
    expect(input.overrides).toEqual({ listen: '127.0.0.1:0' });
  });
});

describe('checkTrafficConfig (real addon)', () => {
  it('defaults to mode off and the defaults come from the addon', () => {
    const r = checkTrafficConfig({ env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_HOME: t.home }) });
    expect(r.ok).toBe(true);
    const v = effectiveView(r);
    expect(v.mode).toBe('off');
    expect(v.home).toBe(t.home);
    expect(v.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(v.log_dir.startsWith(t.home)).toBe(true);
  });

  it('applies file < env < overrides', async () => {
    const file = join(t.home, 'config.json');
    await writeFile(file, JSON.stringify({ mode: 'detect', listen: '127.0.0.1:18001', max_scan_bytes: 4096 }), { mode: 0o600 });
    const env = isolatedEnv(t.home, {
      NANOCLAW_TRAFFIC_GUARDIAN_HOME: t.home,
      NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: file,
      NANOCLAW_TRAFFIC_GUARDIAN_PROXY_URL: '127.0.0.1:18002',
    });
    const fromFileAndEnv = effectiveView(checkTrafficConfig({ env }));
    expect(fromFileAndEnv.mode).toBe('detect'); // file
    expect(fromFileAndEnv.listen).toBe('127.0.0.1:18002'); // env beats file
    const withOverride = checkTrafficConfig({ env, config: { listen: '127.0.0.1:18003' } });
    expect(withOverride.ok).toBe(true);
    expect(effectiveView(withOverride).listen).toBe('127.0.0.1:18003'); // overrides beat env
    expect((withOverride.effective as Record<string, unknown>)['max_scan_bytes']).toBe(4096);
    const envMode = checkTrafficConfig({ env: { ...env, NANOCLAW_TRAFFIC_GUARDIAN_MODE: 'off' } });
    expect(effectiveView(envMode).mode).toBe('off'); // env beats file
  });

  it('an explicit configPath wins over NANOCLAW_TRAFFIC_GUARDIAN_CONFIG', async () => {
    const a = join(t.home, 'a.json');
    const b = join(t.home, 'b.json');
    await writeFile(a, JSON.stringify({ max_scan_bytes: 2048 }), { mode: 0o600 });
    await writeFile(b, JSON.stringify({ max_scan_bytes: 8192 }), { mode: 0o600 });
    const r = checkTrafficConfig({
      env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_HOME: t.home, NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: a }),
      configPath: b,
    });
    expect(r.ok).toBe(true);
    expect((r.effective as Record<string, unknown>)['max_scan_bytes']).toBe(8192);
  });

  it('rejects mode block, saying blocking does not exist', () => {
    for (const how of ['env', 'override'] as const) {
      const r =
        how === 'env'
          ? checkTrafficConfig({ env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_HOME: t.home, NANOCLAW_TRAFFIC_GUARDIAN_MODE: 'block' }) })
          : checkTrafficConfig({ env: isolatedEnv(t.home), config: { home: t.home, mode: 'block' } });
      expect(r.ok, how).toBe(false);
      const issue = r.errors.find((e) => e.field.includes('mode'));
      expect(issue, JSON.stringify(r.errors)).toBeDefined();
      expect(`${issue?.message} ${issue?.hint}`.toLowerCase()).toMatch(/block/);
    }
  });

  it('masks runtime tokens and upstream credentials in effective', () => {
    const runtimes = makeRuntimes('alpha', 'beta');
    const upstreamToken = fakeRuntimeToken();
    const r = checkTrafficConfig({
      env: isolatedEnv(t.home),
      config: detectConfig(t.home, runtimes, { upstream_proxy: `http://x:${upstreamToken}@127.0.0.1:10255` }),
    });
    expect(r.ok, formatConfigIssues(r.errors)).toBe(true);
    const text = JSON.stringify(r);
    for (const rt of runtimes) expect(text).not.toContain(rt.token);
    expect(text).not.toContain(upstreamToken);
    expect(text).toContain('****');
    expect(effectiveView(r).runtimes).toEqual(['alpha', 'beta']);
  });

  it('surfaces errors with field and hint, and a non-loopback bind as a warning', () => {
    const bad = checkTrafficConfig({
      env: isolatedEnv(t.home),
      config: { home: t.home, mode: 'detect', listen: '127.0.0.1:99999', max_scan_bytes: 10, lisen: 'x' },
    });
    expect(bad.ok).toBe(false);
    const f = fields(bad.errors).join(' ');
    expect(f).toMatch(/listen/);
    expect(f).toMatch(/max_scan_bytes/);
    expect(f).toMatch(/lisen/);
    const unknown = bad.errors.find((e) => e.field.includes('lisen'));
    expect(`${unknown?.message} ${unknown?.hint}`).toMatch(/listen/); // did-you-mean
    for (const e of bad.errors) expect(typeof e.hint).toBe('string');
    expect(formatConfigIssues(bad.errors).split('\n')).toHaveLength(bad.errors.length);

    // A non-loopback bind requires runtime credentials: without declared runtimes that is a
    // warning (NanoClaw's integration mints each group's at container start), never an error.
    const open = checkTrafficConfig({ env: isolatedEnv(t.home), config: { home: t.home, mode: 'detect', listen: '0.0.0.0:0' } });
    expect(open.ok, formatConfigIssues(open.errors)).toBe(true);
    expect((open.effective as Record<string, unknown>)['require_auth']).toBe(true);
    expect(fields(open.warnings).join(' ')).toMatch(/require_auth/);
    const exposed = checkTrafficConfig({
      env: isolatedEnv(t.home),
      config: detectConfig(t.home, makeRuntimes('alpha'), { listen: '0.0.0.0:0' }),
    });
    expect(exposed.ok, formatConfigIssues(exposed.errors)).toBe(true);
    const w = exposed.warnings.find((i) => i.field === 'listen');
    expect(w?.message).toMatch(/not loopback/);
    expect(w?.hint.length).toBeGreaterThan(10);
  });

  it('reports bad addresses, CA bundles and upstream proxies, and a too-open home', async () => {
    const garbage = join(t.home, 'garbage.pem');
    await writeFile(garbage, 'not a certificate');
    const r = checkTrafficConfig({
      env: isolatedEnv(t.home),
      config: { home: t.home, mode: 'detect', listen: 'nonsense', ca_bundle: garbage, upstream_proxy: 'ftp://gateway' },
    });
    expect(r.ok).toBe(false);
    const byField = new Map(r.errors.map((e) => [e.field, e]));
    expect(byField.get('listen')?.hint).toMatch(/host:port/);
    expect(byField.get('ca_bundle')?.message).toMatch(/certificate/);
    expect(byField.get('upstream_proxy')?.message).toMatch(/http/);
    const missing = checkTrafficConfig({
      env: isolatedEnv(t.home),
      config: { home: t.home, ca_bundle: join(t.home, 'missing.pem') },
    });
    expect(missing.errors.find((e) => e.field === 'ca_bundle')?.message).toMatch(/cannot be read/);

    const { chmod } = await import('node:fs/promises');
    await chmod(t.home, 0o777);
    const open = checkTrafficConfig({ env: isolatedEnv(t.home), config: { home: t.home } });
    expect(open.warnings.find((w) => w.field === 'home')?.message).toMatch(/too open/);
    await chmod(t.home, 0o700);
  });

  it('requires per-runtime trust configuration for MITM', () => {
    const r = checkTrafficConfig({
      env: isolatedEnv(t.home),
      config: { home: t.home, mode: 'detect', mitm: { enabled: true } },
    });
    expect(r.ok).toBe(false);
    expect(fields(r.errors).join(' ')).toMatch(/mitm/);
  });
});

describe('invalid config through the service', () => {
  it('start() reports the errors without throwing and logs no secret', async () => {
    const logger = recordingLogger();
    const token = fakeRuntimeToken();
    const svc = createTrafficGuardian({
      env: isolatedEnv(t.home),
      config: { home: t.home, mode: 'block', runtimes: [{ name: 'alpha', token }] },
      logger,
    });
    const res = await svc.start();
    expect(res.started).toBe(false);
    if (!res.started) {
      expect(res.reason).toBe('invalid_config');
      expect(res.message).toMatch(/mode/);
    }
    expect(svc.running).toBe(false);
    const s = svc.status();
    expect(s.running).toBe(false);
    expect(s.state).toBe('failed');
    expect(logger.calls.some((c) => c.level === 'error')).toBe(true);
    expect(logger.text()).not.toContain(token);
    expect(JSON.stringify(s)).not.toContain(token);
  });
});
