/**
 * A temp directory shaped like NanoClaw v1's `data/`: `ipc/<group>/{tasks,
 * messages,input}` per group, and the container's view of one group's IPC
 * dir (what `/workspace/ipc` is inside its container).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NanoclawDataDir {
  root: string;
  dataDir: string;
  groupDir(group: string): string;
  tasksDir(group: string): string;
  resultsDir(group: string): string;
  cleanup(): Promise<void>;
}

export async function makeNanoclawDataDir(groups: readonly string[]): Promise<NanoclawDataDir> {
  const root = await mkdtemp(join(tmpdir(), 'tg-nanoclaw-'));
  const dataDir = join(root, 'data');
  const groupDir = (g: string): string => join(dataDir, 'ipc', g);
  for (const g of groups) {
    for (const sub of ['tasks', 'messages', 'input']) {
      await mkdir(join(groupDir(g), sub), { recursive: true, mode: 0o755 });
    }
  }
  return {
    root,
    dataDir,
    groupDir,
    tasksDir: (g) => join(groupDir(g), 'tasks'),
    resultsDir: (g) => join(groupDir(g), 'clawsec_results'),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
