/**
 * No group loses its network because of the guardian (issue #14 item 3),
 * against the real addon and real loopback sockets:
 *  - a group that registers at run time gets a credential when its container
 *    is wired, without a restart, and is attributed (no 407 with require_auth);
 *  - with the guardian off or failed to start, the container args stay as
 *    NanoClaw built them (its normal network, OneCLI included);
 *  - each group's traffic reaches the upstream proxy (OneCLI) with that
 *    group's own credentials, for plain HTTP and for CONNECT tunnels.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { connect, type AddressInfo, type Socket } from 'node:net';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createTrafficGuardian, type TrafficGuardianService } from '../host-services/lifecycle.js';
import { detectConfig, isolatedEnv, makeTempHome, recordingLogger, type TempHome } from './helpers/guardian.js';
import { proxiedRequest, waitFor, type ProxyTarget } from './helpers/proxy-client.js';
import { fakeRuntimeToken, findLeaks, makeSecretSet } from './helpers/secrets.js';
import { makeTestPki, startHttpsUpstream } from './helpers/tls.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

/** A stand-in for OneCLI's gateway: records the credentials of each request and forwards it. */
interface FakeGateway {
  port: number;
  seen: { kind: 'http' | 'connect'; auth: string | undefined; target: string }[];
  close(): Promise<void>;
}

async function startFakeGateway(): Promise<FakeGateway> {
  const seen: FakeGateway['seen'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push({ kind: 'http', auth: authOf(req.headers), target: req.url ?? '' });
    const u = new URL(req.url ?? '');
    const fwd = request({ host: u.hostname, port: Number(u.port), path: u.pathname + u.search, method: req.method, headers: { host: u.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push({ kind: 'connect', auth: authOf(req.headers), target: req.url ?? '' });
    const [host, port] = (req.url ?? '').split(':');
    const up = connect({ host, port: Number(port) }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function authOf(h: IncomingHttpHeaders): string | undefined {
  const v = h['proxy-authorization'];
  if (!v) return undefined;
  return Buffer.from(v.replace(/^Basic /, ''), 'base64').toString('utf8');
}

/** docker-style args as NanoClaw v1 builds them, OneCLI's inline proxy included. */
function nanoclawArgs(oneCliProxy?: string): string[] {
  const args = ['run', '-i', '--rm', '--name', 'nanoclaw-g-1', '-e', 'TZ=UTC'];
  if (oneCliProxy) args.push('-e', `HTTPS_PROXY=${oneCliProxy}`, '-e', `HTTP_PROXY=${oneCliProxy}`, '-e', 'NODE_EXTRA_CA_CERTS=/tmp/onecli-ca.pem');
  args.push('-v', '/host/ipc:/workspace/ipc', 'nanoclaw-agent:latest');
  return args;
}

/** The proxy a wired container would use, from the values handed to the spawned CLI. */
function proxyFromEnv(env: Record<string, string>): ProxyTarget {
  const u = new URL(env['HTTP_PROXY'] ?? '');
  return { host: u.hostname, port: Number(u.port), auth: { runtime: decodeURIComponent(u.username), token: decodeURIComponent(u.password) } };
}

/** CONNECT through the guardian, then one HTTP/1.1 request inside the tunnel. */
function tunnelGet(proxy: ProxyTarget, authority: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const auth = proxy.auth ? 'Basic ' + Buffer.from(`${proxy.auth.runtime}:${proxy.auth.token}`).toString('base64') : undefined;
    const req = request({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: authority, headers: auth ? { 'proxy-authorization': auth } : {} });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, body: '' });
        return;
      }
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('utf8')));
      socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), body: data.split('\r\n\r\n')[1] ?? '' }));
      socket.write(`GET /tunnelled HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    });
    req.on('error', reject);
    req.end();
  });
}

let origin: Upstream;
let gateway: FakeGateway;
beforeAll(async () => {
  origin = await startUpstream();
  gateway = await startFakeGateway();
});
afterAll(async () => {
  await origin.close();
  await gateway.close();
});

let t: TempHome;
let svc: TrafficGuardianService | undefined;
beforeEach(async () => {
  t = await makeTempHome();
  gateway.seen.length = 0;
});
afterEach(async () => {
  await svc?.stop();
  svc = undefined;
  await t.cleanup();
});

describe('runtime credentials (groups registered while NanoClaw runs)', () => {
  it('mints a credential for a group unknown at start, registers it live, and attributes its traffic (no 407)', async () => {
    const logger = recordingLogger();
    // require_auth on, no runtime declared: before #14 every such group got 407.
    svc = createTrafficGuardian({ env: isolatedEnv(t.home), config: detectConfig(t.home, [], { require_auth: true }), logger });
    const started = await svc.start();
    expect(started.started).toBe(true);

    const anonymous = await proxiedRequest({ host: '127.0.0.1', port: started.started ? started.info.port : 0 }, origin.url('/x'));
    expect(anonymous.status).toBe(407);

    const args = nanoclawArgs();
    const env = await svc.wireContainerArgs(args, 'whatsapp_new-group', { proxyHost: '127.0.0.1' });
    expect(Object.keys(env)).toContain('HTTP_PROXY');
    // Flags sit right after `run`, so the image (and v2's `-c` command) stays last.
    expect(args[0]).toBe('run');
    expect(args[1]).toBe('-e');
    expect(args.at(-1)).toBe('nanoclaw-agent:latest');
    expect(args).toContain('HTTP_PROXY');
    // Values travel in the env, never on the command line.
    const proxy = proxyFromEnv(env);
    expect(args.join(' ')).not.toContain(proxy.auth?.token ?? 'missing');

    const res = await proxiedRequest(proxy, origin.url('/ok'));
    expect(res.status).toBe(200);
    const st = svc.status();
    expect('config' in st ? st.config.runtimes : []).toContain('whatsapp_new-group');

    // A second container of the same group keeps the same credential (the first one's stays valid).
    const env2 = await svc.wireContainerArgs(nanoclawArgs(), 'whatsapp_new-group', { proxyHost: '127.0.0.1' });
    expect(env2['HTTP_PROXY']).toBe(env['HTTP_PROXY']);
    expect(findLeaks(logger.text(), [proxy.auth?.token ?? ''])).toEqual([]);
  });

  it('leaves the container args untouched when the guardian is off or failed to start', async () => {
    const off = createTrafficGuardian({ env: isolatedEnv(t.home), config: { home: t.home, mode: 'off' } });
    await off.start();
    const onecli = `http://x:${fakeRuntimeToken()}@host.docker.internal:10255`;
    const args = nanoclawArgs(onecli);
    const before = [...args];
    expect(await off.wireContainerArgs(args, 'main')).toEqual({});
    expect(args).toEqual(before);

    // Port taken: start fails, the container is not wired.
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as AddressInfo).port;
    try {
      svc = createTrafficGuardian({ env: isolatedEnv(t.home), config: detectConfig(t.home, [], { listen: `127.0.0.1:${port}` }) });
      const r = await svc.start();
      expect(r.started).toBe(false);
      const args2 = nanoclawArgs(onecli);
      expect(await svc.wireContainerArgs(args2, 'main')).toEqual({});
      expect(args2).toEqual(before);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });

  it("sends each group's traffic upstream with that group's own OneCLI credentials", async () => {
    const logger = recordingLogger();
    const globalToken = fakeRuntimeToken();
    svc = createTrafficGuardian({
      env: isolatedEnv(t.home),
      // A global upstream with other credentials: per-group ones must win over it.
      config: detectConfig(t.home, [], { upstream_proxy: `http://global:${globalToken}@127.0.0.1:${gateway.port}` }),
      logger,
    });
    expect((await svc.start()).started).toBe(true);

    const tokA = fakeRuntimeToken();
    const tokB = fakeRuntimeToken();
    // Containers reach OneCLI as host.docker.internal; the guardian, on the host, as 127.0.0.1.
    const argsA = nanoclawArgs(`http://x:${tokA}@host.docker.internal:${gateway.port}`);
    const argsB = nanoclawArgs(`http://x:${tokB}@host.docker.internal:${gateway.port}`);
    const envA = await svc.wireContainerArgs(argsA, 'alpha', { proxyHost: '127.0.0.1' });
    const envB = await svc.wireContainerArgs(argsB, 'beta', { proxyHost: '127.0.0.1' });
    // OneCLI's inline proxy values are replaced by the guardian's (names only); its CA stays.
    for (const a of [argsA, argsB]) {
      expect(a.join(' ')).not.toMatch(/HTTPS?_PROXY=/);
      expect(a).toContain('NODE_EXTRA_CA_CERTS=/tmp/onecli-ca.pem');
    }

    const pa = proxyFromEnv(envA);
    const pb = proxyFromEnv(envB);
    expect((await proxiedRequest(pa, origin.url('/a'))).status).toBe(200);
    expect((await proxiedRequest(pb, origin.url('/b'))).status).toBe(200);
    expect((await tunnelGet(pa, origin.authority)).status).toBe(200);
    expect((await tunnelGet(pb, origin.authority)).status).toBe(200);

    const byTarget = (k: string) => gateway.seen.filter((s) => s.target.includes(k) || (k === 'tunnel' && s.kind === 'connect'));
    expect(byTarget('/a').map((s) => s.auth)).toEqual([`x:${tokA}`]);
    expect(byTarget('/b').map((s) => s.auth)).toEqual([`x:${tokB}`]);
    expect(gateway.seen.filter((s) => s.kind === 'connect').map((s) => s.auth)).toEqual([`x:${tokA}`, `x:${tokB}`]);
    // Nobody's traffic went with the global credential, and no credential reached the logs or status.
    expect(gateway.seen.some((s) => s.auth?.includes(globalToken))).toBe(false);
    const visible = `${logger.text()}\n${JSON.stringify(svc.status())}`;
    expect(findLeaks(visible, [tokA, tokB, globalToken, pa.auth?.token ?? '', pb.auth?.token ?? ''])).toEqual([]);

    // A group without its own upstream keeps the global one.
    const envC = await svc.wireContainerArgs(nanoclawArgs(), 'gamma', { proxyHost: '127.0.0.1' });
    expect((await proxiedRequest(proxyFromEnv(envC), origin.url('/c'))).status).toBe(200);
    expect(byTarget('/c').map((s) => s.auth)).toEqual([`global:${globalToken}`]);
  });

  it("intercepted HTTPS of a group also goes upstream with that group's own credentials", async () => {
    const pki = makeTestPki(t.home);
    const tls = await startHttpsUpstream(pki);
    const secrets = makeSecretSet();
    try {
      svc = createTrafficGuardian({
        env: isolatedEnv(t.home),
        config: detectConfig(t.home, [], { mitm: { enabled: true, trusted_runtimes: ['*'] }, ca_bundle: pki.caCertPath }),
      });
      expect((await svc.start()).started).toBe(true);
      const tok = fakeRuntimeToken();
      const env = await svc.wireContainerArgs(nanoclawArgs(`http://x:${tok}@host.docker.internal:${gateway.port}`), 'delta', { proxyHost: '127.0.0.1' });
      const mount = svc.wiring('delta').mounts[0];
      if (!mount) throw new Error('no CA mount with MITM on');
      const bundle = (env['CURL_CA_BUNDLE'] ?? '').replace(mount.containerPath, mount.hostPath);
      const body = `token=${secrets.openai}`;
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          'curl',
          ['-sS', '--max-time', '10', '--proxy', env['HTTPS_PROXY'] ?? '', '--cacert', bundle, '--data', body, `https://127.0.0.1:${tls.port}/up`],
          { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeout: 15_000 },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        );
      });
      expect(out).toBe('secure-ok');
      expect(tls.bodies.at(-1)).toBe(body);
      // The guardian decrypted it (a finding for delta) and re-opened it through OneCLI with delta's token.
      await waitFor(() => svc?.findings({ sources: ['delta'] }).findings.find((f) => f.protocol === 'https'));
      expect(gateway.seen.filter((s) => s.kind === 'connect').map((s) => [s.auth, s.target])).toEqual([[`x:${tok}`, `127.0.0.1:${tls.port}`]]);
    } finally {
      await svc?.stop();
      await tls.close();
    }
  });

  it('refuses a bad runtime name with a message naming it, never the token', async () => {
    svc = createTrafficGuardian({ env: isolatedEnv(t.home), config: detectConfig(t.home) });
    const token = fakeRuntimeToken();
    expect(() => svc?.addRuntime('../escape', { token })).toThrow(/INVALID_RUNTIME.*escape.*group folder/);
    try {
      svc.addRuntime('../escape', { token });
    } catch (e) {
      expect(String(e)).not.toContain(token);
    }
  });
});
