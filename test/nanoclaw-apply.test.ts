/**
 * `traffic-guardian nanoclaw apply` on fixture trees that hold only the
 * anchor lines of NanoClaw v1 1.2.52 / v2 2.0.64 (test/fixtures/nanoclaw-*;
 * not NanoClaw code): detection, the edits, idempotency, dry-run diff,
 * refusal on a missing anchor (nothing written), and INSTALL.md showing
 * exactly the edits the command applies.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildCliIfStale } from './helpers/cli-sandbox.js';

import { detectNanoclaw, planNanoclawApply, renderEditsMarkdown, unifiedDiff } from '../host-services/nanoclaw/apply.js';
import { NANOCLAW_PLANS, type NanoclawLine } from '../host-services/nanoclaw/edits.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'host-services', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'tg-nanoclaw-'));


beforeAll(() => {
  buildCliIfStale();
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env['PATH'] ?? '', HOME: tmp, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let n = 0;
function copyFixture(line: NanoclawLine): string {
  const dir = join(tmp, `${line}-${n++}`);
  cpSync(join(ROOT, 'test', 'fixtures', `nanoclaw-${line}`), dir, { recursive: true });
  return dir;
}

/** Every file under `dir` with its contents. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe.each(['v1', 'v2'] as const)('nanoclaw apply (%s fixture)', (line) => {
  it('detects the line and makes every edit, each at its anchor', () => {
    const dir = copyFixture(line);
    expect(detectNanoclaw(dir).line).toBe(line);
    const r = run(['nanoclaw', 'apply', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`(${line})`);
    for (const e of NANOCLAW_PLANS[line].edits) {
      const text = readFileSync(join(dir, e.file), 'utf8');
      if (e.kind === 'create') {
        expect(text).toBe(e.text);
        continue;
      }
      const lines = text.split('\n');
      const inserted = e.text.split('\n');
      const at = lines.findIndex((l) => l === inserted[0]);
      expect(at, `${e.file}: ${e.text}`).toBeGreaterThanOrEqual(0);
      if (e.kind === 'after') expect(lines[at - 1]?.trim()).toBe(e.anchor);
      if (e.kind === 'before') expect(lines[at + inserted.length]?.trim()).toBe(e.anchor);
      if (e.kind === 'replace') expect(lines.some((l) => l.trim() === e.anchor)).toBe(false);
      if (e.kind === 'after-statement') {
        // After the closing line of the multi-line call, not inside it.
        expect(lines[at - 1]?.trim()).toBe(');');
        expect(lines.slice(0, at).some((l) => l.trim() === e.anchor)).toBe(true);
      }
    }
    // The printed next steps name the line's own package manager.
    expect(r.stdout).toContain(line === 'v1' ? 'npm install @clawsec/traffic-guardian' : 'pnpm add @clawsec/traffic-guardian');
    if (line === 'v2') expect(r.stdout).toContain('bun add @clawsec/traffic-guardian');
  });

  it('is idempotent: a second run changes nothing', () => {
    const dir = copyFixture(line);
    expect(run(['nanoclaw', 'apply', dir]).code).toBe(0);
    const once = snapshot(dir);
    const again = run(['nanoclaw', 'apply', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already applied: nothing to change');
    expect(snapshot(dir)).toEqual(once);
    expect(planNanoclawApply(dir).changes).toEqual([]);
  });

  it('--dry-run prints a unified diff and writes nothing', () => {
    const dir = copyFixture(line);
    const before = snapshot(dir);
    const r = run(['nanoclaw', 'apply', dir, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    for (const e of NANOCLAW_PLANS[line].edits) {
      expect(r.stdout).toContain(`+++ b/${e.file}`);
      for (const l of e.text.replace(/\n$/, '').split('\n')) expect(r.stdout).toContain(`+${l}`);
      if (e.kind === 'replace') expect(r.stdout).toContain(`-  ${e.anchor}`);
    }
    expect(r.stdout).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/m);
    expect(r.stdout).toContain('--- /dev/null');
    expect(r.stdout).toContain('nothing was written');
  });

  it('refuses with the file and the missing anchor, and writes nothing', () => {
    const dir = copyFixture(line);
    const e = NANOCLAW_PLANS[line].edits.find((x) => x.kind !== 'create' && x.file.startsWith('src/container-runner'));
    if (!e?.anchor) throw new Error('fixture plan has no container-runner edit');
    const path = join(dir, e.file);
    writeFileSync(path, readFileSync(path, 'utf8').replace(e.anchor, '// (moved away by a local change)'));
    const before = snapshot(dir);
    const r = run(['nanoclaw', 'apply', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${e.file}: anchor line not found: ${JSON.stringify(e.anchor)}`);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('nanoclaw apply: other refusals', () => {
  it('refuses a directory that is not a NanoClaw checkout, or an unknown major version', () => {
    const dir = join(tmp, 'not-nanoclaw');
    cpSync(join(ROOT, 'test', 'fixtures', 'nanoclaw-v1'), dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    const r = run(['nanoclaw', 'apply', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/package name is "other", not "nanoclaw"/);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'nanoclaw', version: '3.0.0' }));
    expect(run(['nanoclaw', 'apply', dir]).stderr).toMatch(/neither 1\.x nor 2\.x/);
    expect(run(['nanoclaw', 'apply']).code).toBe(2);
  });

  it('refuses to overwrite a file it would create when that file differs', () => {
    const dir = copyFixture('v1');
    writeFileSync(join(dir, 'src', 'traffic-guardian.ts'), '// a local file\n');
    const r = run(['nanoclaw', 'apply', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('src/traffic-guardian.ts: the file exists and differs');
    expect(readFileSync(join(dir, 'src', 'traffic-guardian.ts'), 'utf8')).toBe('// a local file\n');
  });

  it('diffs a multi-hunk change with correct line numbers', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'].join('\n') + '\n';
    const after = ['a', 'X', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'Y', 'k'].join('\n') + '\n';
    const d = unifiedDiff({ file: 'f.ts', before, after });
    expect(d).toBe(['--- a/f.ts', '+++ b/f.ts', '@@ -1,4 +1,5 @@', ' a', '+X', ' b', ' c', ' d', '@@ -8,4 +9,5 @@', ' h', ' i', ' j', '+Y', ' k', ''].join('\n'));
  });
});

describe('INSTALL.md', () => {
  it.each(['v1', 'v2'] as const)('shows exactly the %s edits the command applies (verbatim, with file and anchor)', (line) => {
    const install = readFileSync(join(ROOT, 'INSTALL.md'), 'utf8');
    const start = `<!-- nanoclaw-edits:${line}:begin (generated: traffic-guardian nanoclaw edits --line ${line}) -->\n`;
    const end = `<!-- nanoclaw-edits:${line}:end -->`;
    const a = install.indexOf(start);
    const b = install.indexOf(end);
    expect(a, `INSTALL.md lacks the ${line} edit block`).toBeGreaterThanOrEqual(0);
    expect(install.slice(a + start.length, b)).toBe(renderEditsMarkdown(line));
    expect(run(['nanoclaw', 'edits', '--line', line]).stdout).toBe(renderEditsMarkdown(line));
  });
});
