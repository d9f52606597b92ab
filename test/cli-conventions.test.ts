/**
 * CLI conventions through the real compiled binary: -q/-v on every
 * command, SARIF 2.1.0 and CSV output of `scan` and `findings` (SARIF
 * checked against the schema's required properties and enums), tables cut
 * to the terminal width, and `start --log-file` with real loopback traffic.
 * No output and no file holds a secret.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { proxiedRequest, waitFor } from './helpers/proxy-client.js';
import { CLI_BIN, cliSandbox } from './helpers/cli-sandbox.js';
import { fakeAnthropicKey, fakeAwsAccessKeyId, findLeaks } from './helpers/secrets.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const AWS = fakeAwsAccessKeyId();
const ANTHROPIC = fakeAnthropicKey();
const SECRETS = [AWS, ANTHROPIC];
const sandbox = cliSandbox('tg-conv-');
const { tmp, outputs, run } = sandbox;
const HOME = sandbox.home;
const LOGS = sandbox.logs;
const BIN = CLI_BIN;
const env = sandbox.env;

function jsonl(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** RFC 4180 reader, enough to check what the CLI writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

const request = (host: string, body: object) => `POST http://${host}/upload HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(body)}`;
const reqFile = join(tmp, 'two-secrets.http');
writeFileSync(reqFile, request('collector.example', { aws_access_key_id: AWS, key: ANTHROPIC }));

const COMMANDS = ['start', 'status', 'findings', 'report', 'ignore', 'scan', 'check-config', 'setup', 'ca', 'canary', 'rules'];

describe('-q and -v', () => {
  it('every command accepts both; together they are a usage error', () => {
    for (const cmd of COMMANDS) {
      for (const flag of cmd === 'findings' ? ['-q', '-v', '--quiet', '--verbose', '-vv'] : ['-q', '-v']) {
        const r = run([cmd, flag, '--help']);
        expect(r.code, `${cmd} ${flag}: ${r.stderr}`).toBe(0);
      }
      const both = run([cmd, '-q', '-v']);
      expect(both.code, cmd).toBe(2);
      expect(both.stderr).toContain('contradict');
    }
  });

  it('-q leaves results and drops notes; status -q answers by exit status alone', () => {
    const st = run(['status', '-q']);
    expect(st).toMatchObject({ code: 3, stdout: '', stderr: '' });
    const scan = run(['scan', reqFile]);
    expect(scan.stdout).toMatch(/\d+ findings? in /);
    const quiet = run(['scan', reqFile, '-q']);
    expect(quiet.code).toBe(3);
    expect(quiet.stdout).toContain('aws_access_key_id');
    expect(quiet.stdout).not.toMatch(/\d+ findings? in /);
    expect(run(['findings', '-q']).stdout).toContain('no findings');
  });

  it('-v says which paths were used; unexpected errors show their stack', () => {
    const v = run(['findings', '-v']);
    expect(v.code).toBe(0);
    expect(v.stderr).toContain(`verbose: home ${HOME}, log_dir ${LOGS}`);
    expect(run(['findings']).stderr).toBe('');
  });
});

/** The SARIF 2.1.0 schema's required properties and enums, for what we emit. */
function checkSarif(doc: Record<string, unknown>): void {
  expect(doc['version']).toBe('2.1.0');
  expect(typeof doc['$schema']).toBe('string');
  const runs = doc['runs'] as Record<string, unknown>[];
  expect(Array.isArray(runs) && runs.length).toBe(1);
  for (const r of runs) {
    const driver = (r['tool'] as Record<string, unknown>)['driver'] as Record<string, unknown>;
    expect(typeof driver['name']).toBe('string');
    const rules = driver['rules'] as Record<string, unknown>[];
    for (const rule of rules) {
      expect(typeof rule['id']).toBe('string');
      const lvl = (rule['defaultConfiguration'] as Record<string, unknown>)['level'];
      expect(['none', 'note', 'warning', 'error']).toContain(lvl);
    }
    for (const inv of (r['invocations'] as Record<string, unknown>[]) ?? []) {
      expect(typeof inv['executionSuccessful']).toBe('boolean');
      for (const n of (inv['toolExecutionNotifications'] as Record<string, unknown>[]) ?? []) expect(typeof (n['message'] as Record<string, unknown>)['text']).toBe('string');
    }
    for (const res of r['results'] as Record<string, unknown>[]) {
      const msg = res['message'] as Record<string, unknown>;
      expect(typeof msg['text'] === 'string' || typeof msg['id'] === 'string').toBe(true);
      expect(['none', 'note', 'warning', 'error']).toContain(res['level']);
      const idx = res['ruleIndex'] as number;
      expect(Number.isInteger(idx) && idx >= 0 && idx < rules.length).toBe(true);
      expect(rules[idx]?.['id']).toBe(res['ruleId']);
      for (const loc of res['locations'] as Record<string, unknown>[]) {
        const phys = loc['physicalLocation'] as Record<string, unknown> | undefined;
        if (phys) expect(typeof (phys['artifactLocation'] as Record<string, unknown>)['uri']).toBe('string');
        for (const l of (loc['logicalLocations'] as Record<string, unknown>[]) ?? []) expect(typeof l['name']).toBe('string');
      }
      for (const v of Object.values(res['partialFingerprints'] as Record<string, unknown>)) expect(typeof v).toBe('string');
      const props = res['properties'] as Record<string, unknown>;
      expect(typeof props).toBe('object');
    }
  }
}

describe('SARIF and CSV', () => {
  beforeAll(() => {
    const [aws, ant] = jsonl(run(['scan', reqFile, '--json']).stdout);
    const now = Date.now();
    const stored = [
      { ...aws, id: 'tgf_00000000000000a1', source: 'grp1', timestamp: new Date(now - 60_000).toISOString() },
      // A snippet a spreadsheet would run as a formula, with a quote and a comma.
      { ...ant, id: 'tgf_00000000000000a2', source: 'grp2', snippet: '=HYPERLINK("http://x.example","a,b")', timestamp: new Date(now - 30_000).toISOString() },
    ];
    writeFileSync(join(LOGS, 'findings.jsonl'), stored.map((f) => JSON.stringify(f)).join('\n') + '\n');
  });

  it('scan --format sarif is a valid SARIF 2.1.0 log; exit 3 with findings', () => {
    const r = run(['scan', reqFile, '--format', 'sarif']);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    checkSarif(doc);
    const results = (doc['runs'] as { results: { ruleId: string; locations: { physicalLocation?: { artifactLocation: { uri: string } } }[] }[] }[])[0]?.results ?? [];
    expect(results.map((x) => x.ruleId)).toContain('aws_access_key_id');
    expect(results[0]?.locations[0]?.physicalLocation?.artifactLocation.uri).toBe(encodeURI(reqFile));
    // Clean input: a SARIF log with no results, exit 0.
    const clean = join(tmp, 'clean.txt');
    writeFileSync(clean, 'nothing here\n');
    const c = run(['scan', clean, '--direction', 'outbound', '--format', 'sarif']);
    expect(c.code).toBe(0);
    checkSarif(JSON.parse(c.stdout) as Record<string, unknown>);
  });

  it('findings --format sarif and csv; formulas are defused; bad formats are usage errors', () => {
    const s = run(['findings', '--format', 'sarif']);
    expect(s.code).toBe(0);
    const doc = JSON.parse(s.stdout) as Record<string, unknown>;
    checkSarif(doc);
    expect(((doc['runs'] as { results: unknown[] }[])[0]?.results ?? []).length).toBe(2);

    const c = run(['findings', '--format', 'csv']);
    expect(c.code).toBe(0);
    const rows = parseCsv(c.stdout);
    expect(rows[0]).toEqual(['timestamp', 'id', 'severity', 'threat_type', 'pattern', 'direction', 'protocol', 'source', 'dest', 'location', 'count', 'decoded', 'fingerprint', 'snippet']);
    expect(rows.length).toBe(3);
    const formula = rows.find((r) => r[1] === 'tgf_00000000000000a2');
    expect(formula?.[13]).toBe(`'=HYPERLINK("http://x.example","a,b")`);
    expect(run(['scan', reqFile, '--format', 'csv']).stdout.split('\r\n')[0]).toBe(rows[0]?.join(','));

    expect(run(['findings', '--format', 'xml']).code).toBe(2);
    expect(run(['findings', '--format', 'sarf']).stderr).toContain('did you mean "sarif"');
    expect(run(['findings', '--format', 'sarif', '--follow']).code).toBe(2);
    expect(run(['scan', reqFile, '--json', '--format', 'csv']).code).toBe(2);
  });

  it('tables fit the terminal width (COLUMNS), cutting cells with …', () => {
    const wide = run(['findings']).stdout.split('\n');
    expect(Math.max(...wide.map((l) => l.length))).toBeGreaterThan(100);
    for (const cols of [60, 100]) {
      for (const args of [['findings'], ['rules'], ['report']]) {
        const out = run(args, { COLUMNS: String(cols) }).stdout;
        for (const line of out.split('\n')) expect(line.length, `${args.join(' ')} @${cols}: ${line}`).toBeLessThanOrEqual(cols);
      }
    }
    expect(run(['findings'], { COLUMNS: '60' }).stdout).toContain('…');
  });
});

describe('start --log-file', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('writes the events to a 0600 file, not stdout; an unusable path is an error on stderr', async () => {
    const logFile = join(tmp, 'guardian-events.jsonl');
    const home = join(tmp, 'start-home');
    const cfg = join(tmp, 'live.json');
    writeFileSync(cfg, JSON.stringify({ allow_private_destinations: ['127.0.0.1'] }), { mode: 0o600 });
    const child = spawn(process.execPath, [BIN, 'start', '--config', cfg, '--listen', '127.0.0.1:0', '--json', '--log-file', logFile], {
      env: env({ NANOCLAW_TRAFFIC_GUARDIAN_HOME: home, NANOCLAW_TRAFFIC_GUARDIAN_LOG_DIR: join(home, 'logs') }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const read = () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    try {
      const started = await waitFor(() => jsonl(read()).find((e) => e['event'] === 'started'), 15_000);
      const port = Number(started['port']);
      const res = await proxiedRequest({ host: '127.0.0.1', port }, upstream.url('/collect'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aws: AWS }),
      });
      expect(res.status).toBe(200);
      await waitFor(() => jsonl(read()).some((e) => e['event'] === 'finding'), 10_000);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const events = jsonl(read()).map((e) => e['event']);
    expect(events[0]).toBe('started');
    expect(events).toContain('finding');
    expect(events.at(-1)).toBe('stopped');
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    expect(out.stdout).toBe('');
    outputs.push(read(), out.stdout, out.stderr);

    // An unusable path is an error that names it, on stderr.
    const bad = run(['start', '--listen', '127.0.0.1:0', '--log-file', join(tmp, 'no-such-dir', 'x.log')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('cannot open the log file');
  });
});

describe('hygiene', () => {
  it('no secret in any output or log file', () => {
    expect(findLeaks(outputs.join('\n'), SECRETS)).toEqual([]);
  });
});
