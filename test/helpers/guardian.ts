/**
 * Test fixtures for a real guardian: a private temp home, a config that
 * listens on an ephemeral loopback port and may reach the loopback upstream
 * (the pivot guard refuses loopback destinations by default), runtimes with
 * freshly generated tokens, and a logger that records every call so tests can
 * prove no secret reached it.
 */
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { TrafficLogger } from '../../host-services/lifecycle.js';
import { fakeRuntimeToken } from './secrets.js';

export interface TempHome {
  home: string;
  cleanup(): Promise<void>;
}

export async function makeTempHome(prefix = 'tg-home-'): Promise<TempHome> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  await chmod(home, 0o700);
  return { home, cleanup: () => rm(home, { recursive: true, force: true }) };
}

export interface RuntimeCred {
  name: string;
  token: string;
}

export function makeRuntimes(...names: string[]): RuntimeCred[] {
  return names.map((name) => ({ name, token: fakeRuntimeToken() }));
}

/** Overrides for a detect-mode guardian on 127.0.0.1:0 that may reach 127.0.0.1 upstreams. */
export function detectConfig(home: string, runtimes: RuntimeCred[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: 'detect',
    listen: '127.0.0.1:0',
    home,
    allow_private_destinations: ['127.0.0.1'],
    runtimes: runtimes.map((r) => ({ name: r.name, token: r.token })),
    shutdown_grace_ms: 200,
    ...extra,
  };
}

/** An env with nothing of the host's own guardian settings leaking into tests. */
export function isolatedEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: home, ...extra };
}

export interface LogCall {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: object;
  msg?: string;
}

export interface RecordingLogger extends TrafficLogger {
  calls: LogCall[];
  text(): string;
}

export function recordingLogger(): RecordingLogger {
  const calls: LogCall[] = [];
  const rec =
    (level: LogCall['level']) =>
    (obj: object, msg?: string): void => {
      calls.push({ level, obj, msg });
    };
  return {
    calls,
    info: rec('info'),
    warn: rec('warn'),
    error: rec('error'),
    debug: rec('debug'),
    text: () => calls.map((c) => `${c.level} ${JSON.stringify(c.obj)} ${c.msg ?? ''}`).join('\n'),
  };
}
