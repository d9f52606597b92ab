/**
 * The `on_finding` hook: a local command the operator configures, run for
 * each finding at or above `min_severity` with the redacted finding as JSON
 * on stdin. It is bounded (a time limit per run, a number of runs at once,
 * a queue) and never delays traffic: findings reach it after the proxy has
 * forwarded the bytes, and a full queue drops (and counts) rather than
 * waits. The command runs without a shell, with a minimal environment (none
 * of the guardian's variables, which may hold runtime tokens), and gets
 * only what findings hold: redacted snippets and keyed fingerprints.
 */
import { spawn } from 'node:child_process';

import type { Finding } from '@clawsec/traffic-guardian/addon';

export interface HookConfig {
  command: string[];
  min_severity: string;
  timeout_ms: number;
  max_concurrent: number;
  max_queue: number;
}

export interface HookCounters {
  /** Runs that exited 0. */
  hook_runs: number;
  /** Runs that could not start or exited non-zero. */
  hook_failures: number;
  /** Runs killed at `timeout_ms`. */
  hook_timeouts: number;
  /** Findings not handed to the hook because the queue was full. */
  hook_dropped: number;
  /** Findings waiting for a free run now. */
  hook_queued: number;
}

interface WarnLogger {
  warn(obj: Record<string, unknown>, msg?: string): void;
}

const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** Reads `on_finding` from the addon's effective config view (null when absent). */
export function hookFromEffective(v: unknown): HookConfig | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const cmd = o['command'];
  if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((x) => typeof x === 'string')) return undefined;
  const n = (k: string, d: number) => (typeof o[k] === 'number' ? (o[k] as number) : d);
  return {
    command: cmd as string[],
    min_severity: typeof o['min_severity'] === 'string' ? (o['min_severity'] as string) : 'high',
    timeout_ms: n('timeout_ms', 5000),
    max_concurrent: n('max_concurrent', 2),
    max_queue: n('max_queue', 100),
  };
}

export class FindingHookRunner {
  private readonly queue: string[] = [];
  private readonly running = new Set<ReturnType<typeof spawn>>();
  private readonly c: HookCounters = { hook_runs: 0, hook_failures: 0, hook_timeouts: 0, hook_dropped: 0, hook_queued: 0 };
  private closed = false;
  private warned = false;

  constructor(
    private readonly cfg: HookConfig,
    private readonly logger: WarnLogger,
  ) {}

  /** Hands a finding to the hook if it is severe enough; never blocks. */
  offer(f: Finding): void {
    if (this.closed) return;
    if ((RANK[f.severity] ?? 0) < (RANK[this.cfg.min_severity] ?? 2)) return;
    const json = `${JSON.stringify(f)}\n`;
    if (this.running.size < this.cfg.max_concurrent) {
      this.run(json);
      return;
    }
    if (this.queue.length >= this.cfg.max_queue) {
      this.c.hook_dropped++;
      this.warnOnce('on_finding queue full: findings are dropped for the hook (still stored)', 'raise on_finding.max_concurrent or max_queue, or make the command faster');
      return;
    }
    this.queue.push(json);
  }

  counters(): HookCounters {
    return { ...this.c, hook_queued: this.queue.length };
  }

  /** Stops taking findings, forgets the queue, kills runs still going. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    for (const child of this.running) child.kill('SIGKILL');
  }

  private warnOnce(msg: string, hint: string): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn({ hint }, `traffic guardian: ${msg}`);
  }

  private next(): void {
    if (this.closed) return;
    while (this.running.size < this.cfg.max_concurrent && this.queue.length > 0) {
      const json = this.queue.shift();
      if (json !== undefined) this.run(json);
    }
  }

  private run(json: string): void {
    const [program, ...args] = this.cfg.command;
    if (program === undefined) return;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, args, {
        stdio: ['pipe', 'ignore', 'ignore'],
        shell: false,
        // Only what a program needs to run: none of the guardian's variables.
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' },
      });
    } catch (err) {
      this.c.hook_failures++;
      this.warnOnce(`on_finding command failed to start: ${(err as Error).message}`, 'check on_finding.command (`traffic-guardian check-config`)');
      return;
    }
    this.running.add(child);
    let timedOut = false;
    let done = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, this.cfg.timeout_ms);
    timer.unref();
    const finish = (ok: boolean, why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.running.delete(child);
      if (timedOut) {
        this.c.hook_timeouts++;
        this.warnOnce(`on_finding command killed after ${this.cfg.timeout_ms} ms`, 'make it faster, or raise on_finding.timeout_ms');
      } else if (ok) this.c.hook_runs++;
      else {
        this.c.hook_failures++;
        this.warnOnce(`on_finding command failed: ${why ?? 'unknown'}`, 'run it by hand with a finding on stdin to see why');
      }
      this.next();
    };
    child.on('error', (err) => finish(false, err.message));
    child.on('exit', (code, signal) => finish(code === 0, signal ? `killed by ${signal}` : `exit status ${code}`));
    // A command that does not read stdin is not an error.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(json);
  }
}
