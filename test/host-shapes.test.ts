/**
 * The entry points take the real hosts' shapes (issue #14 item 2). These are
 * compile-time checks (`tsc -p tsconfig.json` covers test/) with a runtime
 * assertion each: before, NanoClaw v1's own logger failed with TS2322 and
 * v2's `registerTools(trafficToolsV2(…))` with TS2345.
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import { createTrafficGuardian, fromMsgDataLogger } from '../host-services/lifecycle.js';
import { trafficToolsV2 } from '../mcp-tools/index.js';
import { makeTempHome } from './helpers/guardian.js';

/** NanoClaw v1 (1.2.36+) logger's method type: data or message first. */
type V1LogFn = (dataOrMsg: Record<string, unknown> | string, msg?: string) => void;
/** NanoClaw v2's `log` method type. */
type V2LogFn = (msg: string, data?: Record<string, unknown>) => void;
/** NanoClaw v2 agent runner's `McpToolDefinition`. */
interface McpToolDefinition {
  tool: Tool;
  handler: (args: Record<string, unknown>) => Promise<CallToolResult>;
}

describe('host shapes', () => {
  it("takes NanoClaw v1's logger and v2's log as they are", async () => {
    const t = await makeTempHome();
    try {
      const v1calls: unknown[][] = [];
      const v1fn: V1LogFn = (...a) => void v1calls.push(a);
      const v1 = { debug: v1fn, info: v1fn, warn: v1fn, error: v1fn, fatal: v1fn };
      const a = createTrafficGuardian({ logger: v1, env: { HOME: t.home }, config: { home: t.home, mode: 'off' } });
      await a.start();
      expect(v1calls[0]?.[1]).toMatch(/disabled \(mode off\)/);

      const v2calls: unknown[][] = [];
      const v2fn: V2LogFn = (...c) => void v2calls.push(c);
      const v2 = { debug: v2fn, info: v2fn, warn: v2fn, error: v2fn, fatal: v2fn };
      const b = createTrafficGuardian({ log: v2, env: { HOME: t.home }, config: { home: t.home, mode: 'off' } });
      await b.start();
      expect(v2calls[0]?.[0]).toMatch(/disabled \(mode off\)/);
      expect(v2calls[0]?.[1]).toEqual({ mode: 'off' });
      fromMsgDataLogger(v2).warn({ k: 1 }, 'm');
      expect(v2calls.at(-1)).toEqual(['m', { k: 1 }]);
    } finally {
      await t.cleanup();
    }
  });

  it("gives v2's registerTools MCP Tool definitions (no cast)", () => {
    const defs: McpToolDefinition[] = trafficToolsV2({ exchange: async () => undefined, timeoutMs: 10 });
    expect(defs.map((d) => d.tool.inputSchema.type)).toEqual(['object', 'object', 'object']);
  });
});
