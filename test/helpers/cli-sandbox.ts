/**
 * A private home and log directory for running the real compiled CLI, with
 * every output kept so a test can check that no secret appears in any.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const CLI_BIN = join(ROOT, 'dist', 'host-services', 'cli', 'main.js');

function newestTsMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newestTsMtime(p));
    else if (e.name.endsWith('.ts')) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

/** Compiles the TypeScript if the CLI is missing or older than its sources. */
export function buildCliIfStale(): void {
  const stale = !existsSync(CLI_BIN) || statSync(CLI_BIN).mtimeMs < newestTsMtime(join(ROOT, 'host-services'));
  if (stale) {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], {
      stdio: 'inherit',
    });
  }
}

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
