/**
 * The short soak: `scripts/soak.mjs` with 2,000 requests over 100
 * connections through the real guardian (child process, so its RSS is its
 * own). Every planted secret and injection yields exactly one finding, every
 * JSONL line parses and none is lost across rotation, error counters stay
 * at zero except the deliberately hostile pivot-guard requests.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const SOAK = fileURLToPath(new URL('../scripts/soak.mjs', import.meta.url));

interface SoakSummary {
  requests: number;
  planted: number;
  missing: number;
  duplicated: number;
  torn_lines: number;
  jsonl_files: number;
  jsonl_lines: number;
  findings_emitted: number;
  findings_written: number;
  callback_count: number;
  counters: Record<string, number>;
  status_counts: Record<string, number>;
  failures: string[];
  ok: boolean;
}

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SOAK, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('soak (short)', () => {
  it('2,000 requests over 100 connections: nothing lost, nothing torn, no errors', async () => {
    const r = await runSoak(['--requests', '2000', '--connections', '100', '--json']);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let s: SoakSummary;
    try {
      s = JSON.parse(line) as SoakSummary;
    } catch {
      throw new Error(`soak printed no summary (exit ${r.code}): ${r.stderr.slice(-2000)}`);
    }
    expect(s.failures).toEqual([]);
    expect(s.ok).toBe(true);
    expect(r.code).toBe(0);
    expect(s.status_counts['200']).toBe(2000);
    expect(s.planted).toBe(200);
    expect(s.missing).toBe(0);
    expect(s.duplicated).toBe(0);
    expect(s.torn_lines).toBe(0);
    expect(s.jsonl_files).toBeGreaterThan(1); // the log rotated during the run
    expect(s.jsonl_lines).toBe(s.findings_written);
    expect(s.findings_written).toBe(s.findings_emitted);
    expect(s.callback_count).toBe(s.findings_emitted);
    expect(s.counters.upstream_errors).toBe(0);
    expect(s.counters.write_errors).toBe(0);
    expect(s.counters.pivot_refusals).toBe(10);
  }, 60_000);
});
