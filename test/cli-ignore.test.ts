/**
 * Suppression and baselines through the real compiled CLI: `ignore add /
 * list / remove` on a home whose store holds findings made by the real
 * scanner from fake secrets; `findings`, `report` and `status` leave
 * suppressed findings out (and count them) unless `--include-ignored`;
 * `scan --baseline` reports only what is new. No output and no file holds
 * a secret.
 */

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { cliSandbox } from './helpers/cli-sandbox.js';
import { fakeAnthropicKey, fakeAwsAccessKeyId, findLeaks } from './helpers/secrets.js';

const AWS = fakeAwsAccessKeyId();
const ANTHROPIC = fakeAnthropicKey();
const SECRETS = [AWS, ANTHROPIC];
const sandbox = cliSandbox('tg-ignore-');
const { tmp, outputs, run } = sandbox;
const HOME = sandbox.home;
const LOGS = sandbox.logs;
const env = sandbox.env;

function jsonl(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function request(host: string, body: object): string {
  return `POST http://${host}/upload HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(body)}`;
}

/** Real findings from the real scanner, stored as a running guardian would (ids, groups and times set here). */
function seedStore(): Record<string, unknown>[] {
  const awsReq = join(tmp, 'aws.http');
  const antReq = join(tmp, 'ant.http');
  writeFileSync(awsReq, request('collector.example', { aws_access_key_id: AWS }));
  writeFileSync(antReq, request('paste.example', { key: ANTHROPIC }));
  const [aws] = jsonl(run(['scan', awsReq, '--json']).stdout);
  const [ant] = jsonl(run(['scan', antReq, '--json']).stdout);
  expect(aws?.['pattern']).toBe('aws_access_key_id');
  expect(ant?.['threat_type']).toBe('EXFIL');
  const now = Date.now();
  const at = (minsAgo: number) => new Date(now - minsAgo * 60_000).toISOString();
  const stored = [
    { ...aws, id: 'tgf_000000000000000a', source: 'grp1', timestamp: at(30) },
    { ...aws, id: 'tgf_000000000000000b', source: 'grp1', timestamp: at(20) },
    { ...ant, id: 'tgf_000000000000000c', source: 'grp2', timestamp: at(10) },
  ];
  writeFileSync(join(LOGS, 'findings.jsonl'), stored.map((f) => JSON.stringify(f)).join('\n') + '\n');
  return stored;
}

describe('ignore', () => {
  const stored = seedStore();
  const awsDest = String(stored[0]?.['dest']);
  const antDest = String(stored[2]?.['dest']);
  const ignoreFile = join(HOME, 'ignore.json');
  let entryId = '';

  it('starts empty; add by finding id suppresses every finding of that value and rule', () => {
    expect(run(['ignore', 'list']).stdout).toContain('no ignore entries');
    const add = run(['ignore', 'add', 'tgf_000000000000000a', '--reason', 'revoked test key']);
    expect(add.code, add.stderr).toBe(0);
    entryId = /added (ign_[0-9a-f]{12})/.exec(add.stdout)?.[1] ?? '';
    expect(entryId).not.toBe('');
    expect(statSync(ignoreFile).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(ignoreFile, 'utf8')) as { schema_version: string; entries: Record<string, unknown>[] };
    expect(doc.schema_version).toBe('clawsec-traffic-ignore/v1');
    expect(doc.entries[0]).toMatchObject({ id: entryId, finding_id: 'tgf_000000000000000a', fingerprint: stored[0]?.['fingerprint'], rule: 'aws_access_key_id', reason: 'revoked test key' });
    outputs.push(readFileSync(ignoreFile, 'utf8'));

    const list = run(['ignore', 'list']);
    expect(list.stdout).toContain(entryId);
    expect(list.stdout).toContain('revoked test key');
    expect((JSON.parse(run(['ignore', 'list', '--json']).stdout) as unknown[]).length).toBe(1);
  });

  it('findings and report leave suppressed findings out and say how many; --include-ignored brings them back', () => {
    const f = run(['findings', '--json']);
    expect(f.code).toBe(0);
    expect(jsonl(f.stdout).map((x) => x['id'])).toEqual(['tgf_000000000000000c']);
    expect(f.stderr).toContain('2 more suppressed');
    const table = run(['findings']);
    expect(table.stdout).toContain('2 more suppressed by `traffic-guardian ignore`; --include-ignored lists them');
    const all = run(['findings', '--json', '--include-ignored']);
    expect(jsonl(all.stdout).map((x) => x['id'])).toEqual(['tgf_000000000000000c', 'tgf_000000000000000b', 'tgf_000000000000000a']);

    const r = JSON.parse(run(['report', '--format', 'json']).stdout) as { total_findings: number; ignored: number; includes_ignored: boolean };
    expect(r).toMatchObject({ total_findings: 1, ignored: 2, includes_ignored: false });
    const ri = JSON.parse(run(['report', '--format', 'json', '--include-ignored']).stdout) as { total_findings: number; ignored: number };
    expect(ri).toMatchObject({ total_findings: 3, ignored: 2 });
    expect(run(['report']).stdout).toMatch(/suppressed\s+2 \(not included/);
  });

  it('status counts suppressed findings, running or not', () => {
    const s = run(['status', '--json']);
    expect(JSON.parse(s.stdout)).toMatchObject({ running: false, ignored: { entries: 1, findings: 2 } });
    expect(run(['status']).stdout).toContain('ignored: 2 stored findings suppressed by 1 entry');
  });

  it('a duplicate is refused; --dest / --rule / --source narrow; remove restores', () => {
    const dup = run(['ignore', 'add', 'tgf_000000000000000b']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain(`already ignored by entry ${entryId}`);
    // The other finding by a bare host (any port) and its source group.
    const host = antDest.replace(/:\d+$/, '');
    const other = run(['ignore', 'add', '--dest', host, '--source', 'grp2']);
    expect(other.code, other.stderr).toBe(0);
    expect(jsonl(run(['findings', '--json']).stdout)).toEqual([]);
    // A non-matching source leaves it listed.
    const wrongGroup = run(['ignore', 'add', '--dest', awsDest, '--source', 'nobody']);
    expect(wrongGroup.code).toBe(0);
    const otherId = /added (ign_[0-9a-f]{12})/.exec(other.stdout)?.[1] ?? '';
    expect(run(['ignore', 'remove', otherId]).code).toBe(0);
    expect(jsonl(run(['findings', '--json']).stdout).map((x) => x['id'])).toEqual(['tgf_000000000000000c']);
    expect(run(['ignore', 'remove', entryId]).code).toBe(0);
    expect(jsonl(run(['findings', '--json']).stdout).length).toBe(3);
  });

  it('mistakes are usage errors or errors that name the fix', () => {
    const none = run(['ignore', 'add', '--reason', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('needs a finding id or fingerprint');
    const missing = run(['ignore', 'add', 'tgf_ffffffffffffffff']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('copy the id from `traffic-guardian findings`');
    const garbage = run(['ignore', 'add', 'hello']);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('neither a finding id nor a fingerprint');
    const rule = run(['ignore', 'add', '--rule', 'aws_acess_key_id']);
    expect(rule.code).toBe(2);
    expect(rule.stderr).toContain('did you mean "aws_access_key_id"');
    expect(run(['ignore', 'remove', 'ign_000000000000']).code).toBe(1);
    expect(run(['ignore', 'frobnicate']).code).toBe(2);
    writeFileSync(ignoreFile, 'not json');
    const broken = run(['findings']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('fix or delete it');
    writeFileSync(ignoreFile, JSON.stringify({ schema_version: 'clawsec-traffic-ignore/v1', entries: [] }));
  });
});

describe('scan --baseline', () => {
  it('reports only findings not in the baseline; exit 3 only for new ones', () => {
    const entry = (host: string, body: object) => ({
      request: { method: 'POST', url: `https://${host}/upload`, headers: [{ name: 'Content-Type', value: 'application/json' }], postData: { mimeType: 'application/json', text: JSON.stringify(body) } },
      response: { status: 200, headers: [], content: { text: 'ok' } },
    });
    const har = (entries: object[]) => JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries } });
    const first = join(tmp, 'first.har');
    const second = join(tmp, 'second.har');
    writeFileSync(first, har([entry('collector.example', { aws_access_key_id: AWS })]));
    writeFileSync(second, har([entry('collector.example', { aws_access_key_id: AWS }), entry('paste.example', { key: ANTHROPIC })]));
    const base = run(['scan', first, '--json']);
    expect(base.code).toBe(3);
    const baseline = join(tmp, 'baseline.jsonl');
    writeFileSync(baseline, base.stdout);

    const same = run(['scan', first, '--baseline', baseline]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no new findings');
    expect(same.stdout).toContain('(1 more in the baseline)');

    const grown = run(['scan', second, '--baseline', baseline, '--json']);
    expect(grown.code).toBe(3);
    const fresh = jsonl(grown.stdout);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((f) => f['pattern'] !== 'aws_access_key_id')).toBe(true);

    expect(run(['scan', first, '--baseline', join(tmp, 'nope.jsonl')]).stderr).toContain('does not exist');
    writeFileSync(join(tmp, 'bad.jsonl'), 'nope\n');
    expect(run(['scan', first, '--baseline', join(tmp, 'bad.jsonl')]).stderr).toContain('line 1 is not JSON');
  });
});

describe('hygiene', () => {
  it('no secret in any output or in the ignore file', () => {
    outputs.push(readFileSync(join(HOME, 'ignore.json'), 'utf8'));
    expect(findLeaks(outputs.join('\n'), SECRETS)).toEqual([]);
  });
});
