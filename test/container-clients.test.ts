/**
 * Container clients (issue 14 item 6): the one-line checks `setup` prints
 * tell, inside a container, whether traffic goes through the guardian; and
 * the Node 20 warning is true (Node 20's fetch goes around the proxy even
 * with NODE_USE_ENV_PROXY=1). Real guardian, real curl and Node, loopback
 * only: the check host has a label longer than DNS allows, so no lookup
 * ever leaves the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Guardian } from '@clawsec/traffic-guardian/addon';

import {
  CONTAINER_CHECK_HOST,
  CONTAINER_CLIENTS,
  NODE20_FETCH_WARNING,
  containerNodeCheck,
  containerShellCheck,
} from '../host-services/clients.js';
import { detectConfig, isolatedEnv, makeRuntimes } from './helpers/guardian.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'host-services', 'cli', 'main.js');
const OK = /^OK: traffic goes through the traffic guardian$/m;
const AUTH = /^reached the traffic guardian, but it answered 407/m;
const NOT = /^NOT through the traffic guardian/m;

const runtimes = makeRuntimes('alpha');
let dir: string;
let guardian: Guardian;
let address: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tg-clients-'));
  const home = join(dir, 'home');
  guardian = new Guardian({ env: isolatedEnv(home), overrides: detectConfig(home, runtimes, { require_auth: true }) });
  const info = await guardian.start();
  address = info.address;
});

afterAll(async () => {
  await guardian?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a check line in a clean environment: PATH plus only the given proxy variables. */
function inContainer(line: string, proxyEnv: Record<string, string>): string {
  const res = spawnSync('sh', ['-c', line], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...proxyEnv },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return `${res.stdout}${res.stderr}`;
}

function proxyVars(url: string): Record<string, string> {
  return { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, NODE_USE_ENV_PROXY: '1' };
}

describe('the one-line container check', () => {
  it('shell: OK through the guardian, 407 without the token, NOT without the proxy variables', () => {
    const alpha = runtimes[0]!;
    const withToken = proxyVars(`http://alpha:${alpha.token}@${address}`);
    expect(inContainer(containerShellCheck(), withToken)).toMatch(OK);
    expect(inContainer(containerShellCheck(), proxyVars(`http://${address}`))).toMatch(AUTH);
    expect(inContainer(containerShellCheck(), {})).toMatch(NOT);
    const bypass = inContainer(containerShellCheck(), {});
    expect(bypass).not.toMatch(OK);
  });

  it("node: reports what this Node's fetch does; on Node 20 it goes around the proxy, as setup warns", () => {
    const alpha = runtimes[0]!;
    const out = inContainer(
      containerNodeCheck().replace(/^node /, `'${process.execPath}' `),
      proxyVars(`http://alpha:${alpha.token}@${address}`),
    );
    const major = Number(process.versions.node.split('.')[0]);
    if (major === 20) {
      expect(out).toMatch(/NOT through the traffic guardian: fetch went direct/);
    } else {
      expect(out).toMatch(/OK: traffic goes through the traffic guardian|NOT through the traffic guardian: fetch went direct/);
    }
    expect(out).not.toContain(alpha.token);
  });
});

describe('setup names the clients and prints the checks', () => {
  it('text and JSON carry the client list, the Node 20 warning and both check lines', () => {
    const home = join(dir, 'setup-home');
    const env = { PATH: process.env['PATH'] ?? '', HOME: home, NANOCLAW_TRAFFIC_GUARDIAN_HOME: home, NO_COLOR: '1' };
    const text = spawnSync(process.execPath, [BIN, 'setup', '--runtime', 'docker-desktop'], { env, encoding: 'utf8' });
    expect(text.status).toBe(0);
    for (const c of ['curl', 'Python requests', 'git', 'Node 22+ fetch', 'Bun', "Claude agent's own HTTP client", 'Node 20 fetch']) {
      expect(text.stdout).toContain(c);
    }
    expect(text.stdout).toContain(NODE20_FETCH_WARNING);
    expect(text.stdout).toContain(containerShellCheck());
    expect(text.stdout).toContain(containerNodeCheck());
    const json = spawnSync(process.execPath, [BIN, 'setup', '--runtime', 'docker-desktop', '--json'], { env, encoding: 'utf8' });
    const d = JSON.parse(json.stdout) as { container_check: { shell: string; node: string }; clients: typeof CONTAINER_CLIENTS };
    expect(d.container_check).toEqual({ shell: containerShellCheck(), node: containerNodeCheck() });
    expect(d.clients.find((c) => c.client.startsWith('Node 20'))?.honours).toBe(false);
    expect(d.container_check.shell).toContain(CONTAINER_CHECK_HOST);
    expect(CONTAINER_CHECK_HOST.split('.')[0]!.length).toBeGreaterThan(63); // no DNS query can leave the machine
  });
});
