/**
 * A stand-in for NanoClaw v1's IPC watcher: scans `data/ipc/<group>/tasks`,
 * skips `*.tmp`, parses each task, routes the traffic guardian's types to
 * `handleTrafficIpc` (as the `case` labels in `processTaskIpc` do) and
 * deletes the task; unparsable tasks move to `data/ipc/errors`, as NanoClaw does.
 */
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { handleTrafficIpc, type TrafficIpcDeps, type TrafficIpcOutcome } from '../../host-services/ipc/v1.js';

export interface Watcher {
  /** One pass over every group; resolves when all tasks are handled. */
  pass(): Promise<TrafficIpcOutcome[]>;
  /** Polls every `intervalMs` until stopped. */
  start(intervalMs?: number): void;
  stop(): Promise<void>;
  outcomes: TrafficIpcOutcome[];
}

export function nanoclawWatcher(dataDir: string, mainGroup: string, deps: Omit<TrafficIpcDeps, 'dataDir'>): Watcher {
  const outcomes: TrafficIpcOutcome[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function pass(): Promise<TrafficIpcOutcome[]> {
    const done: TrafficIpcOutcome[] = [];
    const ipc = join(dataDir, 'ipc');
    const groups = (await readdir(ipc, { withFileTypes: true }).catch(() => []))
      .filter((d) => d.isDirectory() && d.name !== 'errors')
      .map((d) => d.name);
    for (const group of groups) {
      const tasks = join(ipc, group, 'tasks');
      const files = (await readdir(tasks).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
      for (const f of files) {
        const path = join(tasks, f);
        let data: unknown;
        try {
          data = JSON.parse(await readFile(path, 'utf8'));
        } catch {
          await mkdir(join(ipc, 'errors'), { recursive: true });
          await rename(path, join(ipc, 'errors', `${group}-${f}`)).catch(() => undefined);
          continue;
        }
        const outcome = await handleTrafficIpc(data, group, group === mainGroup, { ...deps, dataDir });
        done.push(outcome);
        outcomes.push(outcome);
        await unlink(path).catch(() => undefined);
      }
    }
    return done;
  }

  function loop(intervalMs: number): void {
    if (stopped) return;
    running = pass().finally(() => {
      if (!stopped) timer = setTimeout(() => loop(intervalMs), intervalMs);
    });
  }

  return {
    pass,
    outcomes,
    start(intervalMs = 50) {
      stopped = false;
      loop(intervalMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}
