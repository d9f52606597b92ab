/**
 * The host's one way to replace a file atomically: a unique hidden tmp file
 * in the same directory, created exclusively (`wx`: a symlink or file planted
 * at that name makes the write fail instead of being followed), written,
 * fsynced, given its mode, then renamed over the target. On any failure the
 * tmp file is removed and the target is left as it was.
 *
 * A maintained package (write-file-atomic) was weighed: it opens its tmp file
 * with `w`, which follows a symlink planted there, and some of these files
 * live in directories a container can write (IPC replies).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /**
   * Permission bits of the written file, applied whatever the umask. Without
   * it the file is created 0666 less the umask, like `writeFileSync`.
   */
  mode?: number;
}

function tmpPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or never created
  }
}

/** Replaces `path` with `data` atomically (see the module doc). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const tmp = tmpPathFor(path);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o666);
  try {
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
      if (opts.mode !== undefined) fchmodSync(fd, opts.mode);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
}

/** The same, without blocking the event loop. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tmpPathFor(path);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o666);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
      if (opts.mode !== undefined) await fh.chmod(opts.mode);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
