/**
 * Durable findings through the real CLI binary and the MCP status text: a
 * torn line in the middle of the log is skipped with one warning and the
 * findings after it are listed; count records left by a crashed guardian
 * are added to the finding they name (and superseded by a summary that
 * carries them); status shows findings pending retry and dropped.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { renderStatus } from '../mcp-tools/tools.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'host-services', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'tg-durable-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let seq = 0;
function finding(fingerprint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return {
    schema_version: 'clawsec-traffic-finding/v1',
    platform: 'nanoclaw',
    id: `tgf_${String(seq).padStart(16, '0')}`,
    direction: 'outbound',
    protocol: 'http',
    threat_type: 'EXFIL',
    pattern: 'aws_access_key_id',
    severity: 'high',
    source: 'main',
    dest: 'paste.example:443',
    location: 'body',
    snippet: 'key=[REDACTED:aws_access_key_id]',
    fingerprint,
    count: 1,
    timestamp: new Date(Date.now() - 60_000 + seq).toISOString(),
    ...extra,
  };
}

function countRecord(findingId: unknown, count: number): string {
  return JSON.stringify({ schema_version: 'clawsec-traffic-count/v1', finding_id: findingId, count, timestamp: new Date().toISOString() });
}

function homeWithLog(name: string, lines: string[]): string {
  const home = join(tmp, name);
  mkdirSync(join(home, 'logs'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'logs', 'findings.jsonl'), lines.join(''), { mode: 0o600 });
  return home;
}

function run(args: string[], home: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp, NANOCLAW_TRAFFIC_GUARDIAN_HOME: home },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('findings and report on a damaged or crashed log', () => {
  it('skip a torn line mid-file with one warning and keep the findings after it', () => {
    const a = JSON.stringify(finding('a'));
    const b = JSON.stringify(finding('b'));
    const c = JSON.stringify(finding('c'));
    const d = JSON.stringify(finding('d'));
    // Half a line with the next finding glued onto it (the old full-disk
    // failure), and a torn piece on a line of its own.
    const home = homeWithLog('torn', [`${a}\n`, b.slice(0, b.length / 2), `${c}\n`, `${b.slice(0, 25)}\n`, `${d}\n`]);
    const r = run(['findings', '--json', '--limit', '1'], home);
    expect(r.code).toBe(0);
    const all = run(['findings', '--json'], home);
    expect(all.code).toBe(0);
    const fps = all.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { fingerprint: string }).fingerprint).sort();
    expect(fps).toEqual(['a', 'c', 'd']);
    expect(all.stderr.match(/warning: skipped 2 damaged lines/g)).toHaveLength(1);
    const report = run(['report', '--format', 'json'], home);
    expect((JSON.parse(report.stdout) as { total_findings: number }).total_findings).toBe(3);
    expect(report.stderr.match(/warning: skipped 2 damaged lines/g)).toHaveLength(1);
  });

  it('report adds count records a crashed guardian left, and never counts a superseded one twice', () => {
    const crashed = finding('same');
    const other = finding('other');
    // Checkpoints at 3 then 4 folded repeats; the guardian died before the summary.
    const home = homeWithLog('crash', [`${JSON.stringify(crashed)}\n`, `${countRecord(crashed['id'], 3)}\n`, `${JSON.stringify(other)}\n`, `${countRecord(crashed['id'], 4)}\n`]);
    const r = run(['report'], home);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/findings\s+2 \(occurrences 6\)/);
    expect(r.stderr).not.toContain('warning');
    const listed = run(['findings', '--json'], home).stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; count: number });
    expect(listed.find((f) => f.id === crashed['id'])?.count).toBe(5);

    // The same log where the summary (7 repeats) was written after all.
    const summary = finding('same', { count: 7, repeats_of: crashed['id'] });
    const done = homeWithLog('summary', [
      `${JSON.stringify(crashed)}\n`,
      `${countRecord(crashed['id'], 4)}\n`,
      `${JSON.stringify(other)}\n`,
      `${JSON.stringify(summary)}\n`,
    ]);
    expect(run(['report'], done).stdout).toMatch(/findings\s+3 \(occurrences 9\)/);
  });
});

describe('status shows findings pending retry and dropped', () => {
  const counters = {
    connections: 1, requests: 1, responses: 1, bytes_scanned_outbound: 0, bytes_scanned_inbound: 0,
    findings_exfil: 3, findings_injection: 0, findings_low: 0, findings_medium: 0, findings_high: 3, findings_critical: 0,
    truncated_messages: 0, decode_failures: 0, upstream_errors: 0, tunnels: 0, mitm_connections: 0, auth_failures: 0,
    pivot_refusals: 0, websocket_messages: 0, client_protocol_errors: 0, client_timeouts: 0, upstream_timeouts: 0,
    findings_emitted: 3, findings_written: 1, occurrences_folded: 0, write_errors: 2, findings_pending: 2, findings_dropped: 1,
  };

  it('in `traffic-guardian status`, human and --json', () => {
    const home = join(tmp, 'status');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const status = {
      running: true, state: 'running', pid: process.pid, updated_at: new Date().toISOString(), uptime_ms: 1000, mode: 'detect',
      listen: '127.0.0.1:1', home, log_dir: join(home, 'logs'), findings_file: join(home, 'logs', 'findings.jsonl'),
      https: { mitm: false }, counters, store_error: 'cannot write findings.jsonl: No space left on device',
      config: { max_scan_bytes: 1, redact_snippets: 'full', runtimes: [], require_auth: false },
    };
    writeFileSync(join(home, 'status.json'), JSON.stringify(status), { mode: 0o600 });
    const human = run(['status'], home);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('findings waiting to be written 2');
    expect(human.stdout).toContain('findings dropped (retry queue full) 1');
    const json = JSON.parse(run(['status', '--json'], home).stdout) as { status: { counters: Record<string, number> } };
    expect(json.status.counters).toMatchObject({ findings_pending: 2, findings_dropped: 1 });
  });

  it('in `traffic-guardian status`: bytes skipped under overload, with the scan priority that let them be skipped', () => {
    for (const [priority, hinted] of [['background', true], ['normal', false]] as const) {
      const home = join(tmp, `overload-${priority}`);
      mkdirSync(home, { recursive: true, mode: 0o700 });
      const status = {
        running: true, state: 'running', pid: process.pid, updated_at: new Date().toISOString(), uptime_ms: 1000, mode: 'detect',
        listen: '127.0.0.1:1', home, log_dir: join(home, 'logs'), findings_file: join(home, 'logs', 'findings.jsonl'),
        https: { mitm: false }, counters: { ...counters, unscanned_overload_bytes: 3 * 1024 * 1024 },
        config: { max_scan_bytes: 1, redact_snippets: 'full', scan_priority: priority, runtimes: [], require_auth: false },
      };
      writeFileSync(join(home, 'status.json'), JSON.stringify(status), { mode: 0o600 });
      const human = run(['status'], home).stdout;
      expect(human).toContain('bytes not scanned because the scan threads were behind 3.0 MiB');
      expect(human.includes('"normal" lets scanning share them')).toBe(hinted);
    }
  });

  it('in the MCP status answer', () => {
    const text = renderStatus({
      running: true, state: 'running', mode: 'detect', uptime_ms: 1000, listen: '127.0.0.1:1', https_inspection: false,
      require_auth: false, chained_upstream: false, max_scan_bytes: 1, redact_snippets: 'full', counters,
      caller: { group: 'main', is_main: true, runtime_declared: false }, runtimes: [],
    });
    expect(text).toContain('Findings not yet on disk: 2 waiting to be retried, 1 dropped (retry queue full).');
  });
});
