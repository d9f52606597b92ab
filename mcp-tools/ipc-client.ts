/**
 * Container-side IPC client: drops a task file into NanoClaw's tasks dir and
 * waits for the host's reply in the results dir. The host renames replies
 * into place atomically, but a non-atomic writer (or a crash) could still
 * leave a half-written file, so an unparsable file is treated as "not ready"
 * until the deadline. Every failure is a value: this module never throws.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  IPC_SCHEMA,
  RESPONSE_DATA_SCHEMAS,
  TrafficResponseSchema,
  isValidRequestId,
  newRequestId,
  type TrafficRequestType,
  type TrafficResponseFor,
} from './contract.js';

/** NanoClaw v1's `writeIpcFile(dir, data)`; returns the file name it wrote. */
export type WriteIpcFile = (dir: string, data: object) => string | void | Promise<string | void>;

/** Where and how to talk to the host (NanoClaw v1 file IPC). No ambient globals. */
export interface IpcFileContext {
  /** NanoClaw's writer; when absent an equivalent tmp+rename writer is used. */
  writeIpcFile?: WriteIpcFile;
  /** `/workspace/ipc/tasks` in a NanoClaw v1 container. */
  tasksDir: string;
  /** `/workspace/ipc/clawsec_results` in a NanoClaw v1 container. */
  resultsDir: string;
  /** Total wait for the reply (default 10 s). */
  timeoutMs?: number;
  /** Poll interval (default 100 ms). */
  pollMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_POLL_MS = 100;

/** Why a call produced no usable reply. */
export type IpcFailureCode = 'timeout' | 'malformed_reply' | 'write_failed' | 'invalid_request';

export type IpcCallResult<T extends TrafficRequestType> =
  | { ok: true; requestId: string; response: TrafficResponseFor<T> }
  | { ok: false; requestId?: string; code: IpcFailureCode; message: string };

/**
 * Writes `data` as JSON to `<dir>/<Date.now()>-<rand6>.json` through a
 * `.tmp` file and a rename, so NanoClaw's watcher (which ignores `*.tmp`)
 * never reads a partial task. Returns the file name.
 */
export async function writeTaskFileAtomic(dir: string, data: object): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = `${Date.now()}-${randomBytes(3).toString('hex')}.json`;
  const final = join(dir, name);
  const tmp = `${final}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(data), { mode: 0o644 });
    await rename(tmp, final);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return name;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function clampMs(value: number | undefined, fallback: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Sends one request to the host and waits for its reply.
 * `args` are the request fields besides `type` and `requestId`.
 */
export async function callTrafficHost<T extends TrafficRequestType>(
  type: T,
  args: Record<string, unknown>,
  ctx: IpcFileContext,
): Promise<IpcCallResult<T>> {
  const timeoutMs = clampMs(ctx.timeoutMs, DEFAULT_TIMEOUT_MS, 1, 10 * 60_000);
  const pollMs = clampMs(ctx.pollMs, DEFAULT_POLL_MS, 5, 5_000);
  const requestId = newRequestId(type);
  if (!isValidRequestId(requestId)) {
    return { ok: false, code: 'invalid_request', message: 'could not build a valid request id' };
  }
  const task = { ...args, type, requestId };

  let taskFile: string | undefined;
  try {
    const written = ctx.writeIpcFile
      ? await ctx.writeIpcFile(ctx.tasksDir, task)
      : await writeTaskFileAtomic(ctx.tasksDir, task);
    if (typeof written === 'string' && written.length > 0) taskFile = written;
  } catch (err) {
    return {
      ok: false,
      requestId,
      code: 'write_failed',
      message: `could not write the request to the NanoClaw tasks directory (${describe(err)})`,
    };
  }

  const resultPath = join(ctx.resultsDir, `${requestId}.json`);
  const deadline = Date.now() + timeoutMs;
  let sawUnparsable = false;
  for (;;) {
    let text: string | undefined;
    try {
      text = await readFile(resultPath, 'utf8');
    } catch {
      text = undefined; // not there yet (or not readable yet)
    }
    if (text !== undefined) {
      let parsed: unknown;
      let parsedOk = false;
      try {
        parsed = JSON.parse(text);
        parsedOk = true;
      } catch {
        sawUnparsable = true; // half-written: keep waiting
      }
      if (parsedOk) {
        await unlink(resultPath).catch(() => undefined);
        return validateReply(type, requestId, parsed);
      }
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }

  if (sawUnparsable) {
    await unlink(resultPath).catch(() => undefined);
    return {
      ok: false,
      requestId,
      code: 'malformed_reply',
      message: `malformed reply: the host's reply for ${requestId} was not valid JSON after ${timeoutMs} ms`,
    };
  }
  // Withdraw the unanswered task so a host that wakes up later does not
  // leave an orphaned reply behind.
  if (taskFile !== undefined && !taskFile.includes('/') && !taskFile.includes('\\')) {
    await unlink(join(ctx.tasksDir, taskFile)).catch(() => undefined);
  }
  return {
    ok: false,
    requestId,
    code: 'timeout',
    message:
      `the NanoClaw host did not answer within ${timeoutMs} ms: the traffic guardian IPC handler is ` +
      'probably not installed on the host, or the host is busy. Try again later or ask the operator.',
  };
}

/** Checks a parsed reply against the contract for `type` and `requestId`. */
export function validateReply<T extends TrafficRequestType>(
  type: T,
  requestId: string,
  parsed: unknown,
): IpcCallResult<T> {
  const envelope = TrafficResponseSchema.safeParse(parsed);
  if (!envelope.success) {
    return {
      ok: false,
      requestId,
      code: 'malformed_reply',
      message: `malformed reply: the host's reply does not follow ${IPC_SCHEMA}`,
    };
  }
  if (envelope.data.requestId !== requestId) {
    return { ok: false, requestId, code: 'malformed_reply', message: 'malformed reply: the reply belongs to another request' };
  }
  if (!envelope.data.success) {
    return { ok: true, requestId, response: envelope.data };
  }
  const data = RESPONSE_DATA_SCHEMAS[type].safeParse(envelope.data.data);
  if (!data.success) {
    return {
      ok: false,
      requestId,
      code: 'malformed_reply',
      message: `malformed reply: the host's ${type} data does not match the contract`,
    };
  }
  const response = { schema: IPC_SCHEMA, requestId, success: true, data: data.data } as TrafficResponseFor<T>;
  return { ok: true, requestId, response };
}
