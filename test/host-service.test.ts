/**
 * The lifecycle through the service, with real traffic through the real
 * proxy to a real loopback upstream: start, attribute, detect, status file,
 * wiring, stop. And mode `off` starting nothing at all.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createTrafficGuardian, type TrafficGuardianService } from '../host-services/lifecycle.js';
import { buildWiring, wiringToDockerArgs, wiringToSpawn } from '../host-services/wiring.js';
import { detectConfig, isolatedEnv, makeRuntimes, makeTempHome, recordingLogger, type TempHome } from './helpers/guardian.js';
import { proxiedRequest, proxyTargetFromUrl, waitFor } from './helpers/proxy-client.js';
import { findLeaks, makeSecretSet } from './helpers/secrets.js';
import { makeTestPki, startHttpsUpstream } from './helpers/tls.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

function execFileP(cmd: string, args: string[], opts: { env: Record<string, string> }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { ...opts, timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(async () => {
  await upstream.close();
});

let t: TempHome;
let svc: TrafficGuardianService | undefined;
beforeEach(async () => {
  t = await makeTempHome();
});
afterEach(async () => {
  await svc?.stop();
  svc = undefined;
  await t.cleanup();
});

describe('mode off', () => {
  it('starts nothing, logs once, writes nothing', async () => {
    const port = await freePort();
    const logger = recordingLogger();
    svc = createTrafficGuardian({
      env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_HOME: t.home }),
      config: { listen: `127.0.0.1:${port}` },
      logger,
    });
    const first = await svc.start();
    const second = await svc.start();
    expect(first).toMatchObject({ started: false, reason: 'mode_off' });
    expect(second).toMatchObject({ started: false, reason: 'mode_off' });
    expect(logger.calls.filter((c) => c.level === 'info' && /mode off/.test(c.msg ?? ''))).toHaveLength(1);
    expect(svc.running).toBe(false);
    expect(await canConnect(port)).toBe(false);
    const s = svc.status();
    expect(s.running).toBe(false);
    expect(s.mode).toBe('off');
    expect(existsSync(join(t.home, 'status.json'))).toBe(false);
    await svc.stop(); // no-op
    expect(existsSync(join(t.home, 'status.json'))).toBe(false);
  });
});

describe('mode off touches no disk', () => {
  it('status, findings, checkConfig, wiring, start and stop create no home, key, logs or CA export', async () => {
    // A home that does not exist yet: anything that creates files would create it.
    const home = join(t.home, 'not-created');
    svc = createTrafficGuardian({
      env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_HOME: home }),
      config: { mitm: { enabled: true, trusted_runtimes: ['alpha'] }, runtimes: makeRuntimes('alpha'), require_auth: true },
    });
    const s = svc.status();
    expect(s).toMatchObject({ state: 'stopped', running: false, mode: 'off', reason: 'mode off' });
    expect(svc.findings({ limit: 10 }).findings).toEqual([]);
    expect(svc.checkConfig().ok).toBe(true);
    expect(svc.wiring('alpha').mounts).toEqual([]);
    expect(await svc.start()).toMatchObject({ started: false, reason: 'mode_off' });
    svc.status();
    await svc.stop();
    expect(svc.statusFile).toBeUndefined();
    expect(existsSync(home)).toBe(false);
    expect(await readdir(t.home)).toEqual([]);
  });
});

describe('lifecycle with real traffic', () => {
  it('starts, attributes and detects, keeps status.json fresh, stops', async () => {
    const runtimes = makeRuntimes('alpha');
    const alpha = runtimes[0]!;
    const secrets = makeSecretSet();
    const logger = recordingLogger();
    const seen: string[] = [];
    svc = createTrafficGuardian({
      env: isolatedEnv(t.home),
      config: detectConfig(t.home, runtimes),
      logger,
      statusIntervalMs: 300,
      onFinding: (f) => seen.push(f.pattern),
    });
    const res = await svc.start();
    expect(res.started, JSON.stringify(res)).toBe(true);
    if (!res.started) return;
    expect(res.info.port).toBeGreaterThan(0);
    expect(svc.running).toBe(true);
    expect(await svc.start()).toMatchObject({ started: true }); // idempotent
    // Without HTTPS inspection the start log names no CA (no `ca_fingerprint: undefined` noise).
    const started = logger.calls.find((c) => /traffic guardian started/.test(c.msg ?? ''));
    expect(started?.obj).toBeDefined();
    expect(Object.keys(started?.obj ?? {})).not.toContain('ca_fingerprint');

    // Real traffic: a secret in a header and another in the body, as runtime alpha.
    const w = svc.wiring('alpha', { proxyHost: '127.0.0.1' });
    expect(w.env['HTTP_PROXY']).toBe(`http://alpha:${alpha.token}@127.0.0.1:${res.info.port}`);
    const proxy = proxyTargetFromUrl(w.env['HTTP_PROXY']!);
    const body = JSON.stringify({ note: 'exfil', key: secrets.aws, other: secrets.anthropic });
    const r = await proxiedRequest(proxy, upstream.url('/upload'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': secrets.github },
      body,
    });
    expect(r.status).toBe(200);
    // Forwarded unchanged (never blocked, never altered).
    const got = upstream.received.at(-1);
    expect(got?.body).toBe(body);
    expect(got?.headers['x-api-key']).toBe(secrets.github);
    expect(got?.headers['proxy-authorization']).toBeUndefined();

    const page = await waitFor(() => {
      const p = svc!.findings({ threat_type: 'EXFIL' });
      return p.findings.some((f) => f.pattern.includes('aws')) ? p : undefined;
    });
    for (const f of page.findings) {
      expect(f.source).toBe('alpha');
      expect(f.dest).toBe(upstream.authority);
      expect(f.direction).toBe('outbound');
    }
    expect(findLeaks(JSON.stringify(page), secrets.all)).toEqual([]);
    // The hook is called from the event loop, after the store has the finding.
    await waitFor(() => seen.length > 0);
    expect(seen.length).toBeGreaterThan(0);

    // Status in memory and on disk.
    const s = svc.status();
    expect(s.running).toBe(true);
    expect(s.pid).toBe(process.pid);
    if ('counters' in s) expect(s.counters.requests).toBeGreaterThanOrEqual(1);
    const statusPath = join(t.home, 'status.json');
    expect(svc.statusFile).toBe(statusPath);
    const st = await stat(statusPath);
    expect(st.mode & 0o777).toBe(0o600);
    const first = JSON.parse(await readFile(statusPath, 'utf8')) as Record<string, unknown>;
    expect(first['running']).toBe(true);
    expect(first['pid']).toBe(process.pid);
    await waitFor(async () => {
      const again = JSON.parse(await readFile(statusPath, 'utf8')) as Record<string, unknown>;
      return again['updated_at'] !== first['updated_at'];
    }, 3_000);
    const statusText = await readFile(statusPath, 'utf8');
    expect(statusText).not.toContain(alpha.token);
    expect(findLeaks(statusText, secrets.all)).toEqual([]);

    // Stop: nothing listens any more, the status file says so.
    await svc.stop();
    expect(svc.running).toBe(false);
    expect(await canConnect(res.info.port)).toBe(false);
    const last = JSON.parse(await readFile(statusPath, 'utf8')) as Record<string, unknown>;
    expect(last['running']).toBe(false);
    // Findings survive the stop (JSONL store).
    expect(svc.findings({ threat_type: 'EXFIL' }).findings.length).toBeGreaterThan(0);
    await svc.stop(); // idempotent

    // The logger saw lifecycle events, never a secret or a token.
    const logText = logger.text();
    expect(logText).toMatch(/started/);
    expect(logText).toMatch(/stopped/);
    expect(logText).not.toContain(alpha.token);
    expect(findLeaks(logText, secrets.all)).toEqual([]);
  });

  it('restarts after a stop', async () => {
    svc = createTrafficGuardian({ env: isolatedEnv(t.home), config: detectConfig(t.home) });
    const a = await svc.start();
    expect(a.started).toBe(true);
    await svc.stop();
    const b = await svc.start();
    expect(b.started).toBe(true);
    if (!b.started) return;
    const r = await proxiedRequest({ host: '127.0.0.1', port: b.info.port }, upstream.url('/again'));
    expect(r.status).toBe(200);
  });

  it('refuses unauthenticated clients with 407 when require_auth is on, and attributes by token', async () => {
    const runtimes = makeRuntimes('alpha');
    svc = createTrafficGuardian({ env: isolatedEnv(t.home), config: detectConfig(t.home, runtimes, { require_auth: true }) });
    const res = await svc.start();
    expect(res.started).toBe(true);
    if (!res.started) return;
    const anon = await proxiedRequest({ host: '127.0.0.1', port: res.info.port }, upstream.url('/anon'));
    expect(anon.status).toBe(407);
    const wrong = await proxiedRequest(
      { host: '127.0.0.1', port: res.info.port, auth: { runtime: 'alpha', token: 'x'.repeat(32) } },
      upstream.url('/wrong'),
    );
    expect(wrong.status).toBe(407);
    const ok = await proxiedRequest(proxyTargetFromUrl(svc.wiring('alpha', { proxyHost: '127.0.0.1' }).proxyUrl), upstream.url('/ok'));
    expect(ok.status).toBe(200);
    const w = svc.wiring(undefined, { proxyHost: '127.0.0.1' });
    expect(w.warnings.join(' ')).toMatch(/require_auth/);
  });
});

describe('wiring', () => {
  it('gives the exact container env, masks credentials, and rejects unknown runtimes', async () => {
    const runtimes = makeRuntimes('alpha');
    svc = createTrafficGuardian({ env: isolatedEnv(t.home), config: detectConfig(t.home, runtimes) });
    const res = await svc.start();
    if (!res.started) throw new Error('not started');
    const w = svc.wiring('alpha');
    const tok = runtimes[0]!.token;
    expect(w.proxyUrl).toBe(`http://alpha:${tok}@host.docker.internal:${res.info.port}`);
    expect(w.proxyUrlMasked).toBe(`http://alpha:****@host.docker.internal:${res.info.port}`);
    expect(w.env['HTTPS_PROXY']).toBe(w.proxyUrl);
    expect(w.env['NO_PROXY']).toContain('localhost');
    expect(w.env['NODE_USE_ENV_PROXY']).toBe('1');
    expect(w.secretKeys).toEqual(expect.arrayContaining(['HTTP_PROXY', 'HTTPS_PROXY']));
    expect(JSON.stringify(w.maskedEnv)).not.toContain(tok);
    expect(w.env['NODE_EXTRA_CA_CERTS']).toBeUndefined(); // no MITM
    expect(w.mounts).toEqual([]);
    expect(w.warnings.join(' ')).toMatch(/loopback/);
    expect(() => svc!.wiring('nobody')).toThrow(/unknown runtime/);
  });

  it('with MITM mounts a directory holding only public certificates', async () => {
    const runtimes = makeRuntimes('alpha');
    svc = createTrafficGuardian({
      env: isolatedEnv(t.home),
      config: detectConfig(t.home, runtimes, { mitm: { enabled: true, trusted_runtimes: ['alpha'] } }),
    });
    const res = await svc.start();
    expect(res.started, JSON.stringify(res)).toBe(true);
    if (!res.started) return;
    expect(res.info.https.mitm).toBe(true);
    const w = svc.wiring('alpha', { proxyHost: '172.17.0.1' });
    expect(w.mounts).toHaveLength(1);
    const m = w.mounts[0]!;
    expect(m.readonly).toBe(true);
    expect(m.hostPath.startsWith(t.home)).toBe(true);
    const files = await readdir(m.hostPath);
    expect(files).toContain('ca.pem');
    for (const f of files) {
      const text = await readFile(join(m.hostPath, f), 'utf8');
      expect(text).not.toMatch(/PRIVATE KEY/);
    }
    expect(w.env['NODE_EXTRA_CA_CERTS']).toBe(`${m.containerPath}/ca.pem`);
    for (const k of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) {
      expect(w.env[k]?.startsWith(`${m.containerPath}/`), k).toBe(true);
    }
    expect(w.proxyUrl).toContain('@172.17.0.1:');
  });

  it('with MITM, a curl using the wired proxy and mounted CA is inspected; an untrusted runtime is tunnelled', async () => {
    const runtimes = makeRuntimes('alpha', 'beta');
    const pki = makeTestPki(t.home);
    const upstreamTls = await startHttpsUpstream(pki);
    const secrets = makeSecretSet();
    try {
      svc = createTrafficGuardian({
        env: isolatedEnv(t.home),
        config: detectConfig(t.home, runtimes, {
          mitm: { enabled: true, trusted_runtimes: ['alpha'] },
          ca_bundle: pki.caCertPath,
        }),
      });
      const res = await svc.start();
      expect(res.started, JSON.stringify(res)).toBe(true);
      const wa = svc.wiring('alpha', { proxyHost: '127.0.0.1' });
      const mount = wa.mounts[0]!;
      // The container would read these through the mount; curl here reads the same files on the host.
      const bundleOnHost = wa.env['CURL_CA_BUNDLE']!.replace(mount.containerPath, mount.hostPath);
      const url = `https://127.0.0.1:${upstreamTls.port}/upload`;
      const body = `token=${secrets.openai}`;
      const out = await execFileP('curl', ['-sS', '--max-time', '10', '--proxy', wa.env['HTTPS_PROXY']!, '--cacert', bundleOnHost, '--data', body, url], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      });
      expect(out.stdout).toBe('secure-ok');
      expect(upstreamTls.bodies.at(-1)).toBe(body); // forwarded unchanged
      const found = await waitFor(() => svc!.findings({ sources: ['alpha'] }).findings.find((f) => f.protocol === 'https'));
      expect(found.dest).toBe(`127.0.0.1:${upstreamTls.port}`);
      expect(JSON.stringify(found)).not.toContain(secrets.openai);

      // beta is not in trusted_runtimes: its HTTPS is tunnelled with the upstream's real certificate.
      const wb = svc.wiring('beta', { proxyHost: '127.0.0.1' });
      const outB = await execFileP('curl', ['-sS', '--max-time', '10', '--proxy', wb.env['HTTPS_PROXY']!, '--cacert', pki.caCertPath, '--data', `token=${secrets.github}`, url], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      });
      expect(outB.stdout).toBe('secure-ok');
      await new Promise((r) => setTimeout(r, 300));
      expect(svc.findings({ sources: ['beta'] }).findings.filter((f) => f.protocol === 'https')).toEqual([]);
    } finally {
      await svc?.stop();
      await upstreamTls.close();
    }
  });

  it('buildWiring handles bind addresses and runtimes without tokens', () => {
    const docker0 = buildWiring({ listen: '172.17.0.1:8118', mitm: false });
    expect(docker0.proxyUrl).toBe('http://172.17.0.1:8118');
    expect(docker0.secretKeys).toEqual([]);
    expect(docker0.warnings).toEqual([]);
    const any = buildWiring({ listen: '0.0.0.0:8118', mitm: false, runtime: 'alpha' });
    expect(any.proxyUrl).toBe('http://host.docker.internal:8118');
    expect(any.warnings.join(' ')).toMatch(/no proxy token/);
    const v6 = buildWiring({ listen: '[fd00::1]:8118', mitm: false, runtime: 'a', token: 'tok/with:odd@chars' });
    expect(v6.proxyUrl).toBe('http://a:tok%2Fwith%3Aodd%40chars@[fd00::1]:8118');
    // Spawn form: names on the command line, values only in the child env.
    const spawnForm = wiringToSpawn(v6);
    expect(spawnForm.args.join(' ')).not.toContain('tok');
    expect(spawnForm.args).toEqual(expect.arrayContaining(['-e', 'HTTPS_PROXY']));
    expect(spawnForm.env['HTTPS_PROXY']).toBe(v6.proxyUrl);
    expect(wiringToDockerArgs(v6).join(' ')).not.toContain('tok%2F');
    expect(wiringToDockerArgs(v6, { reveal: true }).join(' ')).toContain('tok%2F');
    const mitmNoCa = buildWiring({ listen: '172.17.0.1:8118', mitm: true });
    expect(mitmNoCa.mounts).toEqual([]);
    expect(mitmNoCa.warnings.join(' ')).toMatch(/CA/);
  });
});
