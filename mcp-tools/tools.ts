/**
 * The three container-side tools, independent of how they are registered
 * (McpServer.registerTool for NanoClaw v1, `{ tool, handler }` objects for
 * v2) and of how the host is reached (file IPC or a v2 exchange). A tool only
 * relays what the host returned: status and redacted findings.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import {
  CheckConfigDataSchema,
  FINDINGS_LIMIT_DEFAULT,
  FINDINGS_LIMIT_MAX,
  FindingsArgsShape,
  FindingsDataSchema,
  StatusDataSchema,
  type CheckConfigData,
  type FindingsData,
  type StatusData,
  type TrafficRequestType,
} from './contract.js';
import type { IpcCallResult } from './ipc-client.js';

/** Sends one request to the host; never throws. */
export type TrafficRequester = <T extends TrafficRequestType>(
  type: T,
  args: Record<string, unknown>,
) => Promise<IpcCallResult<T>>;

/** One tool, described once for both NanoClaw generations. */
export interface TrafficToolSpec {
  name: TrafficRequestType;
  title: string;
  description: string;
  inputSchema: z.ZodObject;
  outputSchema: z.ZodObject;
  annotations: { readOnlyHint: true; openWorldHint: false; idempotentHint: true; destructiveHint: false; title: string };
  run(args: unknown, request: TrafficRequester): Promise<CallToolResult>;
}

const STATUS_INPUT = z.strictObject({});
const FINDINGS_INPUT = z.strictObject(FindingsArgsShape);
const CHECK_INPUT = z.strictObject({});

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

function issuesText(err: z.ZodError): string {
  return err.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(arguments)'}: ${i.message}`)
    .join('; ');
}

function annotations(title: string): TrafficToolSpec['annotations'] {
  return { title, readOnlyHint: true, openWorldHint: false, idempotentHint: true, destructiveHint: false };
}

/** Shared run: validate args, ask the host, validate and render the reply. */
async function runTool<T extends TrafficRequestType, D extends Record<string, unknown>>(
  type: T,
  input: z.ZodObject,
  output: z.ZodType<D>,
  render: (data: D) => string,
  rawArgs: unknown,
  request: TrafficRequester,
): Promise<CallToolResult> {
  try {
    const args = input.safeParse(rawArgs ?? {});
    if (!args.success) return errorResult(`Invalid arguments for ${type}: ${issuesText(args.error)}`);
    const result = await request(type, args.data as Record<string, unknown>);
    if (!result.ok) {
      return errorResult(`${type} failed (${result.code}): ${result.message}`);
    }
    const reply = result.response;
    if (!reply.success) {
      return errorResult(`${type}: the host refused the request (${reply.error.code}): ${reply.error.message}`);
    }
    const data = output.safeParse(reply.data);
    if (!data.success) return errorResult(`${type} failed (malformed_reply): ${issuesText(data.error)}`);
    return { content: [{ type: 'text', text: render(data.data) }], structuredContent: data.data };
  } catch (err) {
    // Defensive: requesters never throw, but a tool handler must not either.
    return errorResult(`${type} failed (internal_error): ${err instanceof Error ? err.message : String(err)}`);
  }
}

function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

export function renderStatus(d: StatusData): string {
  const lines: string[] = [];
  if (d.running) {
    lines.push(
      `Traffic guardian is running in ${d.mode} mode on ${d.listen ?? 'an unknown address'} (up ${formatUptime(d.uptime_ms)}). ` +
        'It only detects and logs; it never blocks or alters traffic.',
    );
  } else {
    lines.push(`Traffic guardian is not running (state ${d.state}, mode ${d.mode})${d.reason ? `: ${d.reason}` : '.'}`);
  }
  if (d.inspection === false) lines.push('Inspection OFF — benchmarking aid, finds nothing: traffic is forwarded but never scanned.');
  lines.push(
    d.https_inspection
      ? `HTTPS inspection: on${d.ca_fingerprint ? ` (CA SHA-256 ${d.ca_fingerprint})` : ''}.`
      : 'HTTPS inspection: off (HTTPS is tunnelled without inspection).',
  );
  const c = d.counters;
  const n = (k: string): number => c[k] ?? 0;
  const findingCounts =
    `${n('findings_exfil')} exfiltration, ${n('findings_injection')} injection ` +
    `(critical ${n('findings_critical')}, high ${n('findings_high')}, medium ${n('findings_medium')}, low ${n('findings_low')})`;
  if (d.counters_scope === 'own_group') {
    lines.push(`Findings in this group's traffic since start: ${findingCounts}. Other groups' traffic is not counted here.`);
  } else {
    lines.push(`Findings so far: ${findingCounts}; ${n('requests')} requests, ${n('responses')} responses seen.`);
    lines.push(
      `Scan queue: ${n('scan_queue_bytes')} bytes now, peak ${n('scan_queue_peak_bytes')} bytes; scan time ${n('scan_time_ms')} ms. ` +
        `Forwarded without scanning: ${n('unscanned_overload_bytes')} bytes (scan threads behind), ` +
        `${n('unscanned_limit_bytes')} bytes (over max_scan_bytes), ${n('unscanned_binary_bytes')} bytes (binary bodies), ` +
        `${n('unscanned_stream_budget_bytes')} bytes (long streams over their scan rate, scanned again once it refills).`,
    );
  }
  lines.push(
    d.caller.runtime_declared
      ? `This group (${d.caller.group}) has a proxy credential: its traffic is attributed to it.`
      : `This group (${d.caller.group}) has no declared proxy credential: its traffic is attributed to its client address.`,
  );
  if (d.chained_upstream) lines.push('Traffic is chained through an upstream proxy.');
  if (d.last_error) lines.push(`Last error: ${d.last_error}`);
  if (d.store_error) lines.push(`Findings store error: ${d.store_error}`);
  if (n('findings_pending') || n('findings_dropped')) {
    lines.push(`Findings not yet on disk: ${n('findings_pending')} waiting to be retried, ${n('findings_dropped')} dropped (retry queue full).`);
  }
  return lines.join('\n');
}

export function renderFindings(d: FindingsData): string {
  const lines: string[] = [];
  const scope = d.scope === 'all' ? 'all groups' : 'this group only';
  lines.push(
    `${d.returned} finding(s) (${scope})${d.running ? '' : '; the guardian is not running, these are stored findings'}.`,
  );
  for (const f of d.findings) {
    lines.push(
      `- ${f.timestamp} ${f.severity.toUpperCase()} ${f.threat_type} ${f.pattern} ${f.direction} ` +
        `${f.protocol} ${f.source} -> ${f.dest} at ${f.location}${f.count > 1 ? ` (x${f.count})` : ''}` +
        `${f.request_id ? ` [${[f.method, f.path, f.status !== undefined ? `-> ${f.status}` : undefined, f.request_id].filter((x) => x !== undefined && x !== '').join(' ')}]` : ''}: ${f.snippet}`,
    );
  }
  if (d.next_cursor) lines.push(`More findings: call again with cursor "${d.next_cursor}".`);
  return lines.join('\n');
}

export function renderCheckConfig(d: CheckConfigData): string {
  const lines: string[] = [];
  lines.push(
    d.ok
      ? `Configuration is valid (guardian ${d.running ? 'running' : 'not running'}).`
      : `Configuration has ${d.errors.length} error(s) (guardian ${d.running ? 'running' : 'not running'}).`,
  );
  for (const e of d.errors) lines.push(`error ${e.field}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
  for (const w of d.warnings) lines.push(`warning ${w.field}: ${w.message}${w.hint ? ` (${w.hint})` : ''}`);
  const mode = d.effective['mode'];
  if (typeof mode === 'string') lines.push(`Effective mode: ${mode}.`);
  return lines.join('\n');
}

export const statusTool: TrafficToolSpec = {
  name: 'clawsec_traffic_status',
  title: 'Traffic guardian status',
  description:
    "Report whether the host's traffic guardian (a detect-and-log HTTP/HTTPS proxy in front of this container) is running, " +
    'its mode, whether HTTPS is inspected and the CA fingerprint, whether this group\'s traffic is attributed to it, ' +
    'and counters of findings (only this group\'s own for any group but the main/admin one). Read-only; takes no arguments. The guardian never blocks traffic.',
  inputSchema: STATUS_INPUT,
  outputSchema: StatusDataSchema,
  annotations: annotations('Traffic guardian status'),
  run: (args, request) => runTool('clawsec_traffic_status', STATUS_INPUT, StatusDataSchema, renderStatus, args, request),
};

export const findingsTool: TrafficToolSpec = {
  name: 'clawsec_traffic_findings',
  title: 'Traffic guardian findings',
  description:
    'List redacted findings of the host traffic guardian, newest first: secrets seen leaving this container (EXFIL, outbound) ' +
    'and prompt-injection payloads seen coming in (INJECTION, inbound). Each finding has a time, severity, rule id (pattern), ' +
    'source, destination host:port, location and a redacted snippet (never the secret itself). ' +
    `Filters: since (RFC 3339 or 15m/1h/7d), limit 1-${FINDINGS_LIMIT_MAX} (default ${FINDINGS_LIMIT_DEFAULT}), direction, ` +
    'threat_type, min_severity; page with cursor = next_cursor. Non-main groups only see findings attributed to themselves. Read-only.',
  inputSchema: FINDINGS_INPUT,
  outputSchema: FindingsDataSchema,
  annotations: annotations('Traffic guardian findings'),
  run: (args, request) =>
    runTool('clawsec_traffic_findings', FINDINGS_INPUT, FindingsDataSchema, renderFindings, args, request),
};

export const checkConfigTool: TrafficToolSpec = {
  name: 'clawsec_traffic_check_config',
  title: 'Check traffic guardian config',
  description:
    "Validate the host traffic guardian's configuration without starting or changing anything: returns ok, each error and " +
    'warning with the field, message and a hint, and the effective configuration with every token and credential masked. ' +
    'Read-only; takes no arguments.',
  inputSchema: CHECK_INPUT,
  outputSchema: CheckConfigDataSchema,
  annotations: annotations('Check traffic guardian config'),
  run: (args, request) =>
    runTool('clawsec_traffic_check_config', CHECK_INPUT, CheckConfigDataSchema, renderCheckConfig, args, request),
};

/** The three tools, in a stable order. */
export const TRAFFIC_TOOLS: readonly TrafficToolSpec[] = [statusTool, findingsTool, checkConfigTool];
