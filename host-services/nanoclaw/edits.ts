/**
 * The one list of edits that integrates the guardian into a NanoClaw
 * checkout, per release line. `traffic-guardian nanoclaw apply` applies it,
 * INSTALL.md shows it (test/nanoclaw-apply.test.ts proves both agree), and
 * the add-traffic-guardian skill points to it. Every anchor is a whole line
 * of NanoClaw's own source (v1 1.2.21+ incl. 1.2.52, v2 2.0.x incl. 2.0.64);
 * the inserted text is this project's code.
 */

export type NanoclawLine = 'v1' | 'v2';

export interface NanoclawEdit {
  /** Path relative to the NanoClaw checkout. */
  file: string;
  /**
   * `create`: a new file with `text` (no anchor).
   * `after`: `text` goes after the anchor line.
   * `after-statement`: after the statement that starts at the anchor line
   *   (its first line at the anchor's indentation that ends with `;`).
   * `before`: `text` goes before the anchor line.
   * `replace`: the anchor line becomes `text`.
   */
  kind: 'create' | 'after' | 'after-statement' | 'before' | 'replace';
  /** A whole line of the file, compared without surrounding whitespace. */
  anchor?: string;
  text: string;
  /** One line: what the edit is for. */
  why: string;
}

export interface NanoclawPlan {
  line: NanoclawLine;
  /** Which releases the anchors were checked against. */
  versions: string;
  /** Commands the operator runs (package installs, rebuilds); `apply` only prints them. */
  before: string[];
  after: string[];
  edits: NanoclawEdit[];
}

const V1_HOST_MODULE = `/**
 * Traffic guardian (@clawsec/traffic-guardian): a detect-and-log proxy in
 * front of this host's containers. Off (nothing listens, containers are not
 * touched) unless NANOCLAW_TRAFFIC_GUARDIAN_MODE=detect or "mode": "detect"
 * in ~/.config/nanoclaw/traffic-guardian/config.json.
 */
import { createTrafficGuardian, handleTrafficIpc } from '@clawsec/traffic-guardian';

import { DATA_DIR } from './config.js';
import { readonlyMountArgs } from './container-runtime.js';
import { logger } from './logger.js';

export const trafficGuardian = createTrafficGuardian({ logger });

/**
 * Points one container at the guardian with the group's own credential
 * (minted on first use) and keeps OneCLI's per-agent proxy as its upstream.
 * Returns the values for the spawned CLI's env; a no-op when the guardian
 * is off or failed to start.
 */
export function wireTrafficContainer(args: string[], groupFolder: string): Promise<Record<string, string>> {
  return trafficGuardian.wireContainerArgs(args, groupFolder, { mountArgs: readonlyMountArgs });
}

/** Answers the container's clawsec_traffic_* tasks (never throws). */
export async function handleTrafficTask(data: unknown, sourceGroup: string, isMain: boolean): Promise<void> {
  await handleTrafficIpc(data, sourceGroup, isMain, { service: trafficGuardian, dataDir: DATA_DIR, logger });
}
`;

const V2_HOST_SERVICE = `/**
 * Traffic guardian (@clawsec/traffic-guardian): a detect-and-log proxy in
 * front of this host's containers. Off (nothing listens, containers are not
 * touched) unless NANOCLAW_TRAFFIC_GUARDIAN_MODE=detect or "mode": "detect"
 * in ~/.config/nanoclaw/traffic-guardian/config.json.
 */
import { createTrafficGuardian } from '@clawsec/traffic-guardian';

import { readonlyMountArgs } from '../../container-runtime.js';
import { log } from '../../log.js';

export const trafficGuardian = createTrafficGuardian({ log });

/**
 * Points one container at the guardian with the agent group's own
 * credential (minted on first use) and keeps OneCLI's per-agent proxy as its
 * upstream. The flags go right after \`run\`, before the image and its
 * \`-c\` command. Returns the values for the spawned CLI's env; a no-op when
 * the guardian is off or failed to start.
 */
export function wireTrafficContainer(args: string[], groupFolder: string): Promise<Record<string, string>> {
  return trafficGuardian.wireContainerArgs(args, groupFolder, { mountArgs: readonlyMountArgs });
}
`;

const V2_HOST_MODULE = `/**
 * Traffic guardian module: starts and stops the guardian with the host and
 * answers the container tools' system actions. Each agent group sees only
 * its own findings (v2 has no main group).
 */
import { fromMsgDataLogger, registerTrafficActionsV2 } from '@clawsec/traffic-guardian';

import { getAgentGroup } from '../../db/agent-groups.js';
import { registerDeliveryAction } from '../../delivery.js';
import { log } from '../../log.js';
import { onShutdown } from '../../response-registry.js';
import { writeSystemResponse } from '../../session-manager.js';
import { trafficGuardian } from './service.js';

void trafficGuardian.start(); // never throws; a no-op in mode off
onShutdown(() => trafficGuardian.stop());

registerTrafficActionsV2(registerDeliveryAction, {
  service: trafficGuardian,
  // Identity from the session (trusted), never from the message content.
  identify: (session) => ({ sourceGroup: getAgentGroup(session.agent_group_id)?.folder ?? session.agent_group_id, isMain: false }),
  reply: (response, session) =>
    writeSystemResponse(session.agent_group_id, session.id, response.requestId, response.success ? 'ok' : 'error', { ...response }),
  logger: fromMsgDataLogger(log),
});
`;

const V2_CONTAINER_TOOLS = `/**
 * Traffic guardian tools (clawsec_traffic_status, _findings, _check_config):
 * a system action to the host, answered in inbound.db like a question.
 */
import { trafficToolsV2 } from '@clawsec/traffic-guardian/mcp-tools';

import { findQuestionResponse, markCompleted } from '../db/messages-in.js';
import { writeMessageOut } from '../db/messages-out.js';
import { registerTools } from './server.js';

registerTools(
  trafficToolsV2({
    exchange: async (request, { timeoutMs }) => {
      writeMessageOut({ id: request.requestId, kind: 'system', content: JSON.stringify(request) });
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const row = findQuestionResponse(request.requestId);
        if (row) {
          markCompleted([row.id]);
          return (JSON.parse(row.content) as { result?: unknown }).result;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return undefined;
    },
  }),
);
`;

export const NANOCLAW_PLANS: Record<NanoclawLine, NanoclawPlan> = {
  v1: {
    line: 'v1',
    versions: '1.2.21 – 1.2.52 (checked on 1.2.52, commit b8cf30830)',
    before: ['npm install @clawsec/traffic-guardian', '(cd container/agent-runner && npm install @clawsec/traffic-guardian)'],
    after: ['npm run build', './container/build.sh', 'rm -rf data/sessions/*/agent-runner-src   # groups re-copy the runner source'],
    edits: [
      { file: 'src/traffic-guardian.ts', kind: 'create', text: V1_HOST_MODULE, why: 'one guardian per host: lifecycle, container wiring, IPC answers' },
      {
        file: 'src/index.ts',
        kind: 'after',
        anchor: "import { startIpcWatcher } from './ipc.js';",
        text: "import { trafficGuardian } from './traffic-guardian.js';",
        why: 'the shared instance',
      },
      {
        file: 'src/index.ts',
        kind: 'after',
        anchor: 'async function main(): Promise<void> {',
        text: '  await trafficGuardian.start(); // never throws; a no-op in mode off',
        why: 'start before the IPC watcher and any container',
      },
      {
        file: 'src/index.ts',
        kind: 'after',
        anchor: 'await queue.shutdown(10000);',
        text: '    await trafficGuardian.stop();',
        why: 'stop with the host (final status file)',
      },
      {
        file: 'src/ipc.ts',
        kind: 'after',
        anchor: "import { logger } from './logger.js';",
        text: "import { handleTrafficTask } from './traffic-guardian.js';",
        why: 'the IPC handler',
      },
      {
        file: 'src/ipc.ts',
        kind: 'after',
        anchor: 'switch (data.type) {',
        text: [
          "    case 'clawsec_traffic_status':",
          "    case 'clawsec_traffic_findings':",
          "    case 'clawsec_traffic_check_config':",
          '      await handleTrafficTask(data, sourceGroup, isMain);',
          '      break;',
        ].join('\n'),
        why: 'answer the three container tools (trusted sourceGroup/isMain only)',
      },
      {
        file: 'src/container-runner.ts',
        kind: 'after',
        anchor: "import { logger } from './logger.js';",
        text: "import { wireTrafficContainer } from './traffic-guardian.js';",
        why: 'the container wiring',
      },
      {
        file: 'src/container-runner.ts',
        kind: 'after-statement',
        anchor: 'const containerArgs = await buildContainerArgs(',
        text: '  const trafficEnv = await wireTrafficContainer(containerArgs, group.folder);',
        why: "point the container at the guardian; OneCLI's per-agent proxy becomes its upstream",
      },
      {
        file: 'src/container-runner.ts',
        kind: 'after',
        anchor: 'const container = spawn(CONTAINER_RUNTIME_BIN, containerArgs, {',
        text: '      env: { ...process.env, ...trafficEnv },',
        why: 'proxy values travel in the env, not on the command line',
      },
      {
        file: 'container/agent-runner/src/ipc-mcp-stdio.ts',
        kind: 'after',
        anchor: "import { CronExpressionParser } from 'cron-parser';",
        text: "import { registerTrafficTools } from '@clawsec/traffic-guardian/mcp-tools';",
        why: 'the container tools',
      },
      {
        file: 'container/agent-runner/src/ipc-mcp-stdio.ts',
        kind: 'before',
        anchor: 'await server.connect(transport);',
        text: [
          'registerTrafficTools(server, {',
          '  writeIpcFile,',
          '  tasksDir: TASKS_DIR,',
          "  resultsDir: path.join(IPC_DIR, 'clawsec_results'),",
          '});',
        ].join('\n'),
        why: 'register clawsec_traffic_{status,findings,check_config} on the nanoclaw MCP server',
      },
    ],
  },
  v2: {
    line: 'v2',
    versions: '2.0.x (checked on 2.0.64)',
    before: ['pnpm add @clawsec/traffic-guardian', '(cd container/agent-runner && bun add @clawsec/traffic-guardian)   # bun, never npm: the image runs bun install --frozen-lockfile'],
    after: ['pnpm run build', './container/build.sh'],
    edits: [
      { file: 'src/modules/traffic-guardian/service.ts', kind: 'create', text: V2_HOST_SERVICE, why: 'one guardian per host and its container wiring' },
      { file: 'src/modules/traffic-guardian/index.ts', kind: 'create', text: V2_HOST_MODULE, why: 'lifecycle and the three delivery actions' },
      {
        file: 'src/modules/index.ts',
        kind: 'after',
        anchor: "import './self-mod/index.js';",
        text: "import './traffic-guardian/index.js';",
        why: 'load the module from the modules barrel',
      },
      {
        file: 'src/container-runner.ts',
        kind: 'after',
        anchor: "import { log } from './log.js';",
        text: "import { wireTrafficContainer } from './modules/traffic-guardian/service.js';",
        why: 'the container wiring',
      },
      {
        file: 'src/container-runner.ts',
        kind: 'after-statement',
        anchor: 'const args = await buildContainerArgs(',
        text: '  const trafficEnv = await wireTrafficContainer(args, agentGroup.folder);',
        why: "point the container at the guardian (flags before the image); OneCLI's per-agent proxy becomes its upstream",
      },
      {
        file: 'src/container-runner.ts',
        kind: 'replace',
        anchor: "const container = spawn(CONTAINER_RUNTIME_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });",
        text: "  const container = spawn(CONTAINER_RUNTIME_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...trafficEnv } });",
        why: 'proxy values travel in the env, not on the command line',
      },
      { file: 'container/agent-runner/src/mcp-tools/traffic-guardian.ts', kind: 'create', text: V2_CONTAINER_TOOLS, why: 'the container tools (run under bun)' },
      {
        file: 'container/agent-runner/src/mcp-tools/index.ts',
        kind: 'after',
        anchor: "import './self-mod.js';",
        text: "import './traffic-guardian.js';",
        why: 'load the tools from the tools barrel',
      },
    ],
  },
};
