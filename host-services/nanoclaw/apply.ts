/**
 * Applies the edit list of edits.ts to a NanoClaw checkout: detects the
 * release line from its package.json, computes every file's new text in
 * memory, refuses (writing nothing) when an anchor is missing, skips edits
 * already present (a second run changes nothing), and renders a unified
 * diff for `--dry-run`. Also renders the same edits as INSTALL.md text.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { writeFileAtomicSync } from '../atomic.js';
import { NANOCLAW_PLANS, type NanoclawEdit, type NanoclawLine, type NanoclawPlan } from './edits.js';

export class NanoclawApplyError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'NanoclawApplyError';
  }
}

export interface FileChange {
  file: string;
  before: string | undefined;
  after: string;
}

export interface ApplyPlanResult {
  line: NanoclawLine;
  version: string;
  changes: FileChange[];
  /** Edits already present (skipped). */
  skipped: NanoclawEdit[];
  plan: NanoclawPlan;
}

/** v1 or v2 from the checkout's package.json (`name: nanoclaw`, `version`). */
export function detectNanoclaw(dir: string): { line: NanoclawLine; version: string } {
  const pkgPath = join(dir, 'package.json');
  let pkg: { name?: unknown; version?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as typeof pkg;
  } catch (err) {
    throw new NanoclawApplyError(
      `${pkgPath}: cannot read it as JSON (${err instanceof Error ? err.message : String(err)})`,
      'pass the root of a NanoClaw checkout (the directory holding its package.json)',
    );
  }
  const version = typeof pkg.version === 'string' ? pkg.version : '';
  if (pkg.name !== 'nanoclaw') {
    throw new NanoclawApplyError(`${pkgPath}: package name is ${JSON.stringify(pkg.name)}, not "nanoclaw"`, 'pass the root of a NanoClaw checkout');
  }
  const major = /^(\d+)\./.exec(version)?.[1];
  if (major === '1') return { line: 'v1', version };
  if (major === '2') return { line: 'v2', version };
  throw new NanoclawApplyError(
    `${pkgPath}: NanoClaw version ${JSON.stringify(version)} is neither 1.x nor 2.x`,
    'this release supports NanoClaw v1 (1.2.21 and later) and v2 (2.0.x); apply the edits in INSTALL.md by hand',
  );
}

const norm = (s: string): string => s.trim();

function textLines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n');
}

/** Whether `needle` lines occur as a contiguous block in `hay` (whitespace-trimmed compare). */
function containsBlock(hay: readonly string[], needle: readonly string[]): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (norm(hay[i + j] as string) !== norm(needle[j] as string)) continue outer;
    return true;
  }
  return false;
}

function findAnchor(lines: readonly string[], anchor: string): number {
  return lines.findIndex((l) => norm(l) === norm(anchor));
}

/** Index of the last line of the statement starting at `start`. */
function statementEnd(lines: readonly string[], start: number): number {
  const indent = /^\s*/.exec(lines[start] as string)?.[0] ?? '';
  for (let i = start; i < lines.length; i++) {
    const l = lines[i] as string;
    const sameIndent = (/^\s*/.exec(l)?.[0] ?? '') === indent;
    if ((i === start || sameIndent) && l.trimEnd().endsWith(';')) return i;
  }
  return -1;
}

/** Applies one edit to `lines` in place; `false` when already present. Throws on a missing anchor. */
function applyEdit(lines: string[], e: NanoclawEdit, version: string): boolean {
  const insert = textLines(e.text);
  const anchor = e.anchor ?? '';
  const missing = (): NanoclawApplyError =>
    new NanoclawApplyError(
      `${e.file}: anchor line not found: ${JSON.stringify(anchor)} (NanoClaw ${version})`,
      `nothing was changed. Your checkout differs from the release this was checked on; apply this edit by hand (INSTALL.md lists it: ${e.why}), then run apply again to do the rest`,
    );
  if (e.kind === 'replace') {
    if (containsBlock(lines, insert)) return false;
    const at = findAnchor(lines, anchor);
    if (at < 0) throw missing();
    lines.splice(at, 1, ...insert);
    return true;
  }
  if (containsBlock(lines, insert)) return false;
  const at = findAnchor(lines, anchor);
  if (at < 0) throw missing();
  if (e.kind === 'before') lines.splice(at, 0, ...insert);
  else if (e.kind === 'after') lines.splice(at + 1, 0, ...insert);
  else {
    const end = statementEnd(lines, at);
    if (end < 0) throw new NanoclawApplyError(`${e.file}: the statement at ${JSON.stringify(anchor)} does not end with ";"`, 'apply this edit by hand (INSTALL.md lists it)');
    lines.splice(end + 1, 0, ...insert);
  }
  return true;
}

/** Everything `apply` would write, computed without writing. */
export function planNanoclawApply(dir: string): ApplyPlanResult {
  const { line, version } = detectNanoclaw(dir);
  const plan = NANOCLAW_PLANS[line];
  const files = new Map<string, { before: string | undefined; lines: string[]; eol: boolean }>();
  const skipped: NanoclawEdit[] = [];
  for (const e of plan.edits) {
    const path = join(dir, e.file);
    if (e.kind === 'create') {
      const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
      if (current === e.text) {
        skipped.push(e);
        continue;
      }
      if (current !== undefined) {
        throw new NanoclawApplyError(
          `${e.file}: the file exists and differs from this release's version`,
          'nothing was changed. Move it aside (or merge by hand with INSTALL.md), then run apply again',
        );
      }
      files.set(e.file, { before: undefined, lines: textLines(e.text), eol: true });
      continue;
    }
    let f = files.get(e.file);
    if (!f) {
      if (!existsSync(path)) {
        throw new NanoclawApplyError(`${e.file}: file not found in ${dir} (NanoClaw ${version})`, 'nothing was changed. Is this the root of a NanoClaw checkout?');
      }
      const before = readFileSync(path, 'utf8');
      f = { before, lines: textLines(before), eol: before.endsWith('\n') };
      files.set(e.file, f);
    }
    if (!applyEdit(f.lines, e, version)) skipped.push(e);
  }
  const changes: FileChange[] = [];
  for (const [file, f] of files) {
    const after = f.lines.join('\n') + (f.eol ? '\n' : '');
    if (after !== f.before) changes.push({ file, before: f.before, after });
  }
  return { line, version, changes, skipped, plan };
}

/** Writes the planned changes (tmp + rename per file). */
export function writeNanoclawChanges(dir: string, changes: readonly FileChange[]): void {
  for (const c of changes) {
    const path = join(dir, c.file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomicSync(path, c.after);
  }
}

/** A unified diff (3 lines of context) of one change. */
export function unifiedDiff(c: FileChange, context = 3): string {
  const a = c.before === undefined ? [] : textLines(c.before);
  const b = textLines(c.after);
  // LCS table (files are a few hundred lines).
  const n = a.length;
  const m = b.length;
  const dp: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = dp[i] as Uint32Array;
      row[j] = a[i] === b[j] ? ((dp[i + 1] as Uint32Array)[j + 1] as number) + 1 : Math.max((dp[i + 1] as Uint32Array)[j] as number, row[j + 1] as number);
    }
  }
  type Op = { t: ' ' | '-' | '+'; s: string };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ t: ' ', s: a[i] as string });
      i++;
      j++;
    } else if (j < m && (i >= n || ((dp[i] as Uint32Array)[j + 1] as number) >= ((dp[i + 1] as Uint32Array)[j] as number))) {
      ops.push({ t: '+', s: b[j++] as string });
    } else {
      ops.push({ t: '-', s: a[i++] as string });
    }
  }
  const changed = ops.flatMap((o, idx) => (o.t === ' ' ? [] : [idx]));
  const out = [`--- ${c.before === undefined ? '/dev/null' : `a/${c.file}`}`, `+++ b/${c.file}`];
  let g = 0;
  while (g < changed.length) {
    let last = g;
    while (last + 1 < changed.length && (changed[last + 1] as number) - (changed[last] as number) <= 2 * context) last++;
    const start = Math.max(0, (changed[g] as number) - context);
    const stop = Math.min(ops.length, (changed[last] as number) + context + 1);
    let aStart = 0;
    let bStart = 0;
    for (let q = 0; q < start; q++) {
      if ((ops[q] as Op).t !== '+') aStart++;
      if ((ops[q] as Op).t !== '-') bStart++;
    }
    const hunk = ops.slice(start, stop);
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${aLen === 0 ? aStart : aStart + 1},${aLen} +${bLen === 0 ? bStart : bStart + 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.t}${o.s}`);
    g = last + 1;
  }
  return `${out.join('\n')}\n`;
}

/** The edits of one line as INSTALL.md shows them (file, anchor, verbatim text). */
export function renderEditsMarkdown(line: NanoclawLine): string {
  const plan = NANOCLAW_PLANS[line];
  const where: Record<NanoclawEdit['kind'], string> = {
    create: 'New file',
    after: 'After the line',
    'after-statement': 'After the statement that starts with',
    before: 'Before the line',
    replace: 'Replace the line',
  };
  const lang = (file: string): string => (file.endsWith('.ts') ? 'ts' : '');
  const out: string[] = [];
  out.push(`Checked against NanoClaw ${plan.versions}.`, '', 'First:', '', '```bash', ...plan.before, '```', '');
  plan.edits.forEach((e, n) => {
    out.push(`${n + 1}. \`${e.file}\` — ${e.why}.`);
    if (e.kind === 'create') out.push(`   ${where.create}:`);
    else out.push(`   ${where[e.kind]} \`${e.anchor ?? ''}\`${e.kind === 'replace' ? ' with' : ', insert'}:`);
    out.push('', '```' + lang(e.file), e.text.replace(/\n$/, ''), '```', '');
  });
  out.push('Then:', '', '```bash', ...plan.after, '```');
  return `${out.join('\n')}\n`;
}
