// Node's fetch (undici) through the real guardian, as a Node agent in a
// container uses it: HTTPS decrypted with the exported CA. (undici tunnels
// plain http:// through CONNECT too; plaintext inside a tunnel is not yet
// inspected — see README "Limitations". Absolute-form HTTP clients are
// covered by the host-service and CLI tests.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch, ProxyAgent } from 'undici';
import { Guardian, type Finding } from '@clawsec/traffic-guardian/addon';
import { detectConfig, isolatedEnv } from './helpers/guardian.js';
import { fakeAwsAccessKeyId } from './helpers/secrets.js';
import { makeTestPki, startHttpsUpstream, type HttpsUpstream } from './helpers/tls.js';

describe('Node fetch (undici ProxyAgent) through the guardian', () => {
  let dir: string;
  let httpsUpstream: HttpsUpstream;
  let guardian: Guardian;
  let proxyUrl: string;
  let caPem: string;
  const seen: Finding[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tg-fetch-'));
    const pki = makeTestPki(dir);
    httpsUpstream = await startHttpsUpstream(pki);
    const home = join(dir, 'home');
    guardian = new Guardian({
      env: isolatedEnv(home),
      overrides: detectConfig(home, [], { mitm: { enabled: true, trusted_runtimes: ['*'] }, ca_bundle: pki.caCertPath }),
    });
    const info = await guardian.start((f) => seen.push(f));
    proxyUrl = `http://${info.address}`;
    expect(info.https.mitm).toBe(true);
    caPem = readFileSync(info.https.ca_cert_path ?? '', 'utf8');
  });

  afterAll(async () => {
    await guardian.stop();
    await httpsUpstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('inspects HTTPS inside MITM when the client trusts the exported CA', async () => {
    const key = fakeAwsAccessKeyId();
    const agent = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: caPem } });
    const res = await fetch(`https://127.0.0.1:${httpsUpstream.port}/submit`, {
      method: 'POST',
      body: `token=${key}`,
      dispatcher: agent,
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('secure-ok');
    await agent.close();
    expect(httpsUpstream.bodies).toContain(`token=${key}`);
    await expect.poll(() => seen.some((f) => f.pattern === 'aws_access_key_id' && f.protocol === 'https')).toBe(true);
    expect(JSON.stringify(seen)).not.toContain(key.slice(4));
  });
});
