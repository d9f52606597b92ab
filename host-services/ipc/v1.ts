/**
 * NanoClaw v1 adapter: called from `processTaskIpc`'s `case` labels with the
 * task NanoClaw parsed from `data/ipc/<group>/tasks/*.json`. The reply goes
 * to `<dataDir>/ipc/<sourceGroup>/clawsec_results/<requestId>.json` — the
 * container sees it as `/workspace/ipc/clawsec_results/<requestId>.json` —
 * and nowhere else: the path is built only from the trusted `sourceGroup`
 * and a validated id, the results dir must be a real directory (not a
 * symlink planted by the container), and the file is created exclusively
 * and renamed into place so a polling reader never sees half a reply.
 */
import { chmod, lstat, mkdir, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

import { RESULTS_DIR_NAME, isValidGroupFolder, isValidRequestId, type TrafficResponse } from '../../mcp-tools/contract.js';
import { writeFileAtomic } from '../atomic.js';
import type { TrafficLogger } from '../lifecycle.js';
import { handleTrafficRequest, type TrafficServiceLike } from './handler.js';

export interface TrafficIpcDeps {
  service: TrafficServiceLike;
  /** NanoClaw's `DATA_DIR` (`<cwd>/data`). */
  dataDir: string;
  logger?: TrafficLogger;
  /** Upper bound for answering one task (default 5000 ms). */
  timeoutMs?: number;
}

export type TrafficIpcOutcome =
  | { replied: true; path: string; success: boolean }
  | { replied: false; reason: string };

const silent: TrafficLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Results dir for a group; `undefined` when the group name is not a valid folder. */
export function resultsDirFor(dataDir: string, sourceGroup: string): string | undefined {
  if (!isValidGroupFolder(sourceGroup)) return undefined;
  return join(resolve(dataDir), 'ipc', sourceGroup, RESULTS_DIR_NAME);
}

/**
 * Makes sure `<groupDir>/clawsec_results` is a real directory inside the
 * group dir, creating it with the group dir's permission bits (which NanoClaw
 * chose so its container user can read and delete files there).
 */
async function ensureResultsDir(groupDir: string, resultsDir: string): Promise<void> {
  const g = await lstat(groupDir);
  if (!g.isDirectory()) throw new Error('group IPC directory is missing or not a directory');
  try {
    await mkdir(resultsDir, { mode: g.mode & 0o777 });
    await chmod(resultsDir, g.mode & 0o777);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const r = await lstat(resultsDir);
  if (r.isSymbolicLink() || !r.isDirectory()) {
    throw new Error(`${RESULTS_DIR_NAME} is not a plain directory (a symlink or file was planted there)`);
  }
  const [realGroup, realResults] = await Promise.all([realpath(groupDir), realpath(resultsDir)]);
  if (realResults !== join(realGroup, RESULTS_DIR_NAME)) {
    throw new Error(`${RESULTS_DIR_NAME} resolves outside the group IPC directory`);
  }
}

/**
 * Writes `value` to `dir/name` atomically, 0644: an exclusively created
 * unique tmp (never follows a planted symlink), fsync, rename.
 */
export async function writeReplyAtomic(dir: string, name: string, value: unknown): Promise<string> {
  const final = join(dir, name);
  if (!final.startsWith(dir + sep)) throw new Error('reply path escapes the results directory');
  await writeFileAtomic(final, JSON.stringify(value), { mode: 0o644 });
  return final;
}

function withDeadline(p: Promise<TrafficResponse>, ms: number, requestId: string): Promise<TrafficResponse> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<TrafficResponse>((resolveTimeout) => {
    t = setTimeout(
      () =>
        resolveTimeout({
          schema: 'clawsec-traffic-ipc/v1',
          requestId,
          success: false,
          error: { code: 'timeout', message: `the host did not finish within ${ms} ms` },
        }),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/**
 * Handles one NanoClaw v1 task. Never throws; returns what happened (NanoClaw
 * can ignore it). A task without a usable id cannot be answered: it is
 * logged and dropped.
 */
export async function handleTrafficIpc(
  data: unknown,
  sourceGroup: string,
  isMain: boolean,
  deps: TrafficIpcDeps,
): Promise<TrafficIpcOutcome> {
  const logger = deps.logger ?? silent;
  try {
    const resultsDir = resultsDirFor(deps.dataDir, sourceGroup);
    const type =
      data && typeof data === 'object' ? String((data as Record<string, unknown>)['type'] ?? '').slice(0, 64) : '';
    if (!resultsDir) {
      logger.warn({ type }, 'traffic guardian IPC: rejected task from an invalid source group');
      return { replied: false, reason: 'invalid source group' };
    }
    const rawId = data && typeof data === 'object' ? (data as Record<string, unknown>)['requestId'] : undefined;
    if (!isValidRequestId(rawId)) {
      logger.warn(
        { sourceGroup, type, requestIdType: typeof rawId },
        'traffic guardian IPC: rejected task without a usable requestId (no reply possible)',
      );
      return { replied: false, reason: 'no usable requestId' };
    }
    const timeoutMs = Math.max(50, deps.timeoutMs ?? 5000);
    const response = await withDeadline(
      handleTrafficRequest(data, { sourceGroup, isMain: isMain === true, service: deps.service }),
      timeoutMs,
      rawId,
    );
    const groupDir = join(resolve(deps.dataDir), 'ipc', sourceGroup);
    await ensureResultsDir(groupDir, resultsDir);
    const path = await writeReplyAtomic(resultsDir, `${rawId}.json`, response);
    if (response.success) {
      logger.debug?.({ sourceGroup, type, requestId: rawId }, 'traffic guardian IPC: answered');
    } else {
      logger.warn(
        { sourceGroup, type, requestId: rawId, code: response.error.code },
        'traffic guardian IPC: answered with an error',
      );
    }
    return { replied: true, path, success: response.success };
  } catch (err) {
    logger.error(
      { sourceGroup: isValidGroupFolder(sourceGroup) ? sourceGroup : '(invalid)', err: err instanceof Error ? err.message : String(err) },
      'traffic guardian IPC: could not reply',
    );
    return { replied: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Whether a task type belongs to the traffic guardian (for a `default:` branch). */
export function isTrafficTaskType(type: unknown): boolean {
  return type === 'clawsec_traffic_status' || type === 'clawsec_traffic_findings' || type === 'clawsec_traffic_check_config';
}
