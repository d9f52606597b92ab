/**
 * The host's one atomic-write helper: the target is replaced whole with the
 * mode asked for (whatever the umask), and a failed write leaves the target
 * as it was and no tmp file behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { writeFileAtomic, writeFileAtomicSync } from '../host-services/atomic.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tg-atomic-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomicSync / writeFileAtomic', () => {
  it('replaces the file whole, with the mode asked for', async () => {
    const path = join(dir, 'status.json');
    writeFileSync(path, 'old contents that are longer than the new ones', { mode: 0o644 });
    writeFileAtomicSync(path, '{"a":1}\n', { mode: 0o600 });
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, Buffer.from('b'), { mode: 0o644 });
    expect(readFileSync(path, 'utf8')).toBe('b');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['status.json']);
  });

  it('without a mode, creates like writeFileSync (0666 less the umask)', () => {
    const path = join(dir, 'plain.txt');
    writeFileAtomicSync(path, 'x');
    writeFileSync(join(dir, 'reference.txt'), 'x');
    expect(statSync(path).mode & 0o777).toBe(statSync(join(dir, 'reference.txt')).mode & 0o777);
  });

  it('a failed rename leaves the target as it was and no tmp file', async () => {
    const target = join(dir, 'taken');
    mkdirSync(join(target, 'inside'), { recursive: true });
    expect(() => writeFileAtomicSync(target, 'x', { mode: 0o600 })).toThrow();
    await expect(writeFileAtomic(target, 'x', { mode: 0o600 })).rejects.toThrow();
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});
