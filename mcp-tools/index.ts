/**
 * Container-side entry points. NanoClaw v1 calls `registerTrafficTools(server,
 * ctx)` from its MCP stdio server; NanoClaw v2 passes `trafficToolsV2(ctx)` to
 * its `registerTools([...])`. Everything the tools need comes through `ctx`.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import {
  isValidRequestId,
  newRequestId,
  type TrafficRequestType,
} from './contract.js';
import { callTrafficHost, validateReply, DEFAULT_TIMEOUT_MS, type IpcCallResult, type IpcFileContext } from './ipc-client.js';
import { TRAFFIC_TOOLS, type TrafficRequester, type TrafficToolSpec } from './tools.js';

export * from './contract.js';
export {
  callTrafficHost,
  writeTaskFileAtomic,
  validateReply,
  DEFAULT_POLL_MS,
  DEFAULT_TIMEOUT_MS,
  type IpcCallResult,
  type IpcFailureCode,
  type IpcFileContext,
  type WriteIpcFile,
} from './ipc-client.js';
export {
  TRAFFIC_TOOLS,
  statusTool,
  findingsTool,
  checkConfigTool,
  renderStatus,
  renderFindings,
  renderCheckConfig,
  type TrafficRequester,
  type TrafficToolSpec,
} from './tools.js';

/** The part of McpServer (SDK 1.x) used here; structural so another SDK copy fits. */
export interface ToolRegistrar {
  registerTool?: (
    name: string,
    config: {
      title?: string;
      description?: string;
      inputSchema?: z.ZodObject;
      outputSchema?: z.ZodObject;
      annotations?: TrafficToolSpec['annotations'];
    },
    cb: (args: Record<string, unknown>, extra: unknown) => Promise<CallToolResult>,
  ) => unknown;
  /** Older SDKs only have the deprecated `tool(...)`. */
  tool?: (...args: never[]) => unknown;
}

/** A requester over NanoClaw v1 file IPC. */
export function fileRequester(ctx: IpcFileContext): TrafficRequester {
  return (type, args) => callTrafficHost(type, args, ctx);
}

/**
 * Registers the three tools on NanoClaw v1's McpServer. Returns the names
 * registered (tools appear to the agent as `mcp__nanoclaw__<name>`).
 */
export function registerTrafficTools(server: ToolRegistrar, ctx: IpcFileContext): string[] {
  const request = fileRequester(ctx);
  const names: string[] = [];
  for (const spec of TRAFFIC_TOOLS) {
    const handler = (args: Record<string, unknown>): Promise<CallToolResult> => spec.run(args, request);
    if (typeof server.registerTool === 'function') {
      server.registerTool(
        spec.name,
        {
          title: spec.title,
          description: spec.description,
          inputSchema: spec.inputSchema,
          outputSchema: spec.outputSchema,
          annotations: spec.annotations,
        },
        handler,
      );
    } else if (typeof server.tool === 'function') {
      const legacy = server.tool as unknown as (
        name: string,
        description: string,
        shape: z.ZodRawShape,
        annotations: TrafficToolSpec['annotations'],
        cb: (args: Record<string, unknown>) => Promise<CallToolResult>,
      ) => unknown;
      legacy.call(server, spec.name, spec.description, spec.inputSchema.shape, spec.annotations, handler);
    } else {
      throw new TypeError('registerTrafficTools: server has neither registerTool nor tool');
    }
    names.push(spec.name);
  }
  return names;
}

/**
 * NanoClaw v2 transport: send `request` (a `{ type, requestId, ...args }`
 * object; v2 hosts dispatch on `action`, which is set to the same value) and
 * resolve with the host's raw reply, or `undefined` when none came in time.
 */
export type TrafficExchange = (
  request: Record<string, unknown> & { type: TrafficRequestType; action: TrafficRequestType; requestId: string },
  options: { timeoutMs: number },
) => Promise<unknown>;

export interface TrafficV2ExchangeContext {
  exchange: TrafficExchange;
  timeoutMs?: number;
}

/**
 * A JSON Schema object as the MCP SDK's `Tool` types `inputSchema` and
 * `outputSchema` (`type: 'object'` required), so a `TrafficToolV2` is
 * assignable to NanoClaw v2's `McpToolDefinition` without a cast.
 */
export interface ToolJsonSchema {
  type: 'object';
  properties?: { [key: string]: object };
  required?: string[];
  [key: string]: unknown;
}

/** MCP tool definition as NanoClaw v2's container `registerTools` takes it. */
export interface TrafficToolV2 {
  tool: {
    name: string;
    title: string;
    description: string;
    inputSchema: ToolJsonSchema;
    outputSchema: ToolJsonSchema;
    annotations: TrafficToolSpec['annotations'];
  };
  handler: (args: Record<string, unknown>) => Promise<CallToolResult>;
}

function exchangeRequester(ctx: TrafficV2ExchangeContext): TrafficRequester {
  const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return async <T extends TrafficRequestType>(type: T, args: Record<string, unknown>): Promise<IpcCallResult<T>> => {
    const requestId = newRequestId(type);
    if (!isValidRequestId(requestId)) {
      return { ok: false, code: 'invalid_request', message: 'could not build a valid request id' };
    }
    let reply: unknown;
    try {
      reply = await ctx.exchange({ ...args, type, action: type, requestId }, { timeoutMs });
    } catch (err) {
      return {
        ok: false,
        requestId,
        code: 'write_failed',
        message: `could not send the request to the host (${err instanceof Error ? err.message : String(err)})`,
      };
    }
    if (reply === undefined || reply === null) {
      return {
        ok: false,
        requestId,
        code: 'timeout',
        message: `the NanoClaw host did not answer within ${timeoutMs} ms: the traffic guardian delivery actions are probably not registered on the host, or the host is busy.`,
      };
    }
    let parsed = reply;
    if (typeof reply === 'string') {
      try {
        parsed = JSON.parse(reply);
      } catch {
        return { ok: false, requestId, code: 'malformed_reply', message: 'malformed reply: the host reply is not JSON' };
      }
    }
    return validateReply(type, requestId, parsed);
  };
}

function jsonSchema(schema: z.ZodObject, io: 'input' | 'output'): ToolJsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete out['$schema'];
  // A ZodObject always renders as an object schema; say so in the type.
  return { ...out, type: 'object' };
}

/**
 * The three tools as NanoClaw v2 `{ tool, handler }` objects. `ctx` is either
 * the v1 file-IPC context or a v2 exchange. The handlers validate their own
 * arguments (v2's server does not) and never throw.
 */
export function trafficToolsV2(ctx: IpcFileContext | TrafficV2ExchangeContext): TrafficToolV2[] {
  const request = 'exchange' in ctx ? exchangeRequester(ctx) : fileRequester(ctx);
  return TRAFFIC_TOOLS.map((spec) => ({
    tool: {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema: jsonSchema(spec.inputSchema, 'input'),
      outputSchema: jsonSchema(spec.outputSchema, 'output'),
      annotations: spec.annotations,
    },
    handler: (args: Record<string, unknown>) => spec.run(args, request),
  }));
}
