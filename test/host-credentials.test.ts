/**
 * Runtime credentials and the home layout come from the addon (issue #15
 * item 4), against the real addon:
 *  - the host gets each runtime's token from the same config layers the
 *    validator merges (defaults < file < environment < overrides), the
 *    environment included: a config file named with `~`, a blank variable,
 *    the home's own config file;
 *  - those tokens reach no IPC reply and no MCP tool answer, for any request
 *    type, from the main group or another;
 *  - every path TypeScript uses in a home is the addon's `homeLayout`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { caPublicLayout, homeLayout } from '@clawsec/traffic-guardian/addon';

import { buildConfigInput, resolveRuntimeTokens } from '../host-services/config.js';
import { handleTrafficRequest } from '../host-services/ipc/handler.js';
import { CA_PUBLIC_DIR_NAME, STATUS_FILE_NAME, createTrafficGuardian } from '../host-services/lifecycle.js';
import { TRAFFIC_REQUEST_TYPES } from '../mcp-tools/contract.js';
import { trafficToolsV2 } from '../mcp-tools/index.js';
import { detectConfig, isolatedEnv, makeRuntimes, makeTempHome, type TempHome } from './helpers/guardian.js';
import { fakeRuntimeToken } from './helpers/secrets.js';

let t: TempHome;

beforeEach(async () => {
  t = await makeTempHome('tg-cred-');
});

afterEach(async () => {
  await t.cleanup();
});

async function writeConfig(path: string, config: Record<string, unknown>): Promise<void> {
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
}

function tokensOf(opts: Parameters<typeof buildConfigInput>[0]): Record<string, string> {
  return Object.fromEntries(resolveRuntimeTokens(buildConfigInput(opts)));
}

describe('resolveRuntimeTokens (the addon resolves, every layer honoured)', () => {
  it('reads the file NANOCLAW_TRAFFIC_GUARDIAN_CONFIG names, ~ expanded with the env HOME', async () => {
    const [alpha] = makeRuntimes('alpha');
    await mkdir(join(t.home, 'cfg'), { mode: 0o700 });
    await writeConfig(join(t.home, 'cfg', 'guardian.json'), detectConfig(t.home, [alpha!]));
    const env = isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: '~/cfg/guardian.json' });
    expect(tokensOf({ env })).toEqual({ alpha: alpha!.token });
  });

  it('a blank NANOCLAW_TRAFFIC_GUARDIAN_CONFIG is unset: the home from the env supplies config.json', async () => {
    const [alpha, beta] = makeRuntimes('alpha', 'beta');
    const home = join(t.home, 'guardian');
    await mkdir(home, { mode: 0o700 });
    await writeConfig(homeLayout(home).config_file, { mode: 'detect', runtimes: [alpha, beta] });
    const env = isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_HOME: home, NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: '  ' });
    expect(tokensOf({ env })).toEqual({ alpha: alpha!.token, beta: beta!.token });
  });

  it('overrides win over the file, and an explicit configPath over the env', async () => {
    const [fromFile] = makeRuntimes('alpha');
    const [fromOther] = makeRuntimes('gamma');
    const [fromOverride] = makeRuntimes('beta');
    const envFile = join(t.home, 'env.json');
    const explicit = join(t.home, 'explicit.json');
    await writeConfig(envFile, detectConfig(t.home, [fromFile!]));
    await writeConfig(explicit, detectConfig(t.home, [fromOther!]));
    const env = isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: envFile });
    expect(tokensOf({ env })).toEqual({ alpha: fromFile!.token });
    expect(tokensOf({ env, configPath: explicit })).toEqual({ gamma: fromOther!.token });
    expect(tokensOf({ env, config: { runtimes: [fromOverride] } })).toEqual({ beta: fromOverride!.token });
  });

  it('an invalid config yields no credentials', () => {
    const env = isolatedEnv(t.home);
    const bad = { ...detectConfig(t.home, [{ name: 'alpha', token: 'short' }]) };
    expect(tokensOf({ env, config: bad })).toEqual({});
  });

  it('wiring gives the container the token the env-named file declares', async () => {
    const [alpha] = makeRuntimes('alpha');
    const file = join(t.home, 'env.json');
    await writeConfig(file, detectConfig(t.home, [alpha!]));
    const svc = createTrafficGuardian({ env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: file }) });
    const w = svc.wiring('alpha');
    expect(w.proxyUrl).toContain(`alpha:${alpha!.token}@`);
    expect(w.proxyUrlMasked).not.toContain(alpha!.token);
    expect(JSON.stringify(w.maskedEnv)).not.toContain(alpha!.token);
  });
});

describe('runtime credentials never reach an IPC or MCP answer', () => {
  it('no reply of any request type, for main or another group, holds a token', async () => {
    const declared = makeRuntimes('main', 'alpha');
    const file = join(t.home, 'env.json');
    await writeConfig(file, detectConfig(t.home, declared));
    const svc = createTrafficGuardian({ env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: file }) });
    const started = await svc.start();
    expect(started.started).toBe(true);
    try {
      // A credential minted at run time, and one the host passes explicitly.
      const minted = svc.addRuntime('beta');
      const given = fakeRuntimeToken();
      svc.addRuntime('gamma', { token: given });
      const tokens = [...declared.map((r) => r.token), minted, given];
      // The host itself does get the declared ones (from the env-named file).
      const resolved = resolveRuntimeTokens(buildConfigInput({ env: isolatedEnv(t.home, { NANOCLAW_TRAFFIC_GUARDIAN_CONFIG: file }) }));
      expect([...resolved.values()].sort()).toEqual(declared.map((r) => r.token).sort());

      const answers: string[] = [];
      for (const group of ['main', 'alpha', 'beta']) {
        const isMain = group === 'main';
        // IPC (v1 task files and v2 actions share this handler).
        for (const type of TRAFFIC_REQUEST_TYPES) {
          const reply = await handleTrafficRequest({ type, requestId: `r-${group}-${type}` }, { sourceGroup: group, isMain, service: svc });
          expect(reply.success, `${group} ${type}`).toBe(true);
          answers.push(JSON.stringify(reply));
        }
        // MCP: the container's tools, answered in-process by the same handler.
        const tools = trafficToolsV2({
          exchange: (req) => handleTrafficRequest(req, { sourceGroup: group, isMain, service: svc }),
          timeoutMs: 5_000,
        });
        for (const tool of tools) {
          const r = await tool.handler({});
          expect(r.isError ?? false, `${group} ${tool.tool.name}`).toBe(false);
          answers.push(JSON.stringify(r));
        }
      }
      expect(answers).toHaveLength(3 * (TRAFFIC_REQUEST_TYPES.length * 2));
      const all = answers.join('\n');
      // The check can fail: the answers do name the runtimes.
      expect(all).toContain('alpha');
      for (const token of tokens) expect(all).not.toContain(token);
    } finally {
      await svc.stop();
    }
  });
});

describe('homeLayout (paths defined once, in Rust)', () => {
  it('holds every file the host uses, inside the home', () => {
    const l = homeLayout(t.home);
    const paths = [l.ca_dir, l.ignore_file, l.status_file, l.pid_file, l.fingerprint_key_file, l.canary_file, l.config_file, l.ca_public.dir];
    for (const p of paths) expect(p.startsWith(`${t.home}/`), p).toBe(true);
    expect(new Set(paths).size).toBe(paths.length);
    expect(l.ca_public).toEqual(caPublicLayout(l.ca_public.dir));
    expect(l.ca_public.cert_file).toBe(join(l.ca_public.dir, 'ca.pem'));
    expect(l.ca_public.bundle_file).toBe(join(l.ca_public.dir, 'bundle.pem'));
  });

  it('the exported names are the layout relative to the home', () => {
    expect(join(t.home, STATUS_FILE_NAME)).toBe(homeLayout(t.home).status_file);
    expect(join(t.home, CA_PUBLIC_DIR_NAME)).toBe(homeLayout(t.home).ca_public.dir);
    expect(STATUS_FILE_NAME).toBe('status.json');
    expect(CA_PUBLIC_DIR_NAME).toBe('ca-public');
  });

  it('the service writes its status file where the layout says', async () => {
    const svc = createTrafficGuardian({ env: isolatedEnv(t.home), config: detectConfig(t.home) });
    expect((await svc.start()).started).toBe(true);
    try {
      expect(svc.statusFile).toBe(homeLayout(t.home).status_file);
    } finally {
      await svc.stop();
    }
  });
});
