/**
 * A private home and log directory for running the real compiled CLI, with
 * every output kept so a test can check that no secret appears in any.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'host-services', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  tmp: string;
  home: string;
  logs: string;
  /** Every stdout and stderr so far. */
  outputs: string[];
  env(extra?: Record<string, string>): Record<string, string>;
  run(args: string[], extra?: Record<string, string>): CliRun;
}

export function cliSandbox(prefix: string): CliSandbox {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const home = join(tmp, 'home');
  const logs = join(tmp, 'logs');
  mkdirSync(home, { recursive: true });
  mkdirSync(logs, { recursive: true });
  const outputs: string[] = [];
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: tmp,
    NANOCLAW_TRAFFIC_GUARDIAN_HOME: home,
    NANOCLAW_TRAFFIC_GUARDIAN_LOG_DIR: logs,
    ...extra,
  });
  const run = (args: string[], extra: Record<string, string> = {}): CliRun => {
    const r = spawnSync(process.execPath, [CLI_BIN, ...args], { env: env(extra), encoding: 'utf8', timeout: 20_000 });
    outputs.push(r.stdout, r.stderr);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { tmp, home, logs, outputs, env, run };
}
