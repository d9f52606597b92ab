/**
 * The one request/response contract between the container-side MCP tools and
 * the host-side IPC handler. Both sides import this module, so a field added
 * or renamed on one side is a type error on the other instead of a silent
 * drift. It must stay free of runtime imports of the addon: the container has
 * no native addon, only this file, zod and the MCP SDK.
 */
import { z } from 'zod';

import type { Direction, GuardianState, Severity, ThreatType } from '@clawsec/traffic-guardian/addon';

/** Schema tag carried by every reply, so a reader can reject foreign files. */
export const IPC_SCHEMA = 'clawsec-traffic-ipc/v1' as const;

/** Results subdirectory under a group's IPC dir (`/workspace/ipc/<this>` in the container). */
export const RESULTS_DIR_NAME = 'clawsec_results' as const;

/** The three request types, which are also NanoClaw v1 task `type`s and v2 action names. */
export const TRAFFIC_REQUEST_TYPES = [
  'clawsec_traffic_status',
  'clawsec_traffic_findings',
  'clawsec_traffic_check_config',
] as const;
export type TrafficRequestType = (typeof TRAFFIC_REQUEST_TYPES)[number];

/** Short kind used inside request ids. */
export const REQUEST_KIND: Record<TrafficRequestType, string> = {
  clawsec_traffic_status: 'status',
  clawsec_traffic_findings: 'findings',
  clawsec_traffic_check_config: 'check_config',
};

/**
 * Request ids become file names on the host: only this alphabet, no dots, so
 * `..`, `/`, `\` and NUL can never reach a path.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** NanoClaw group folder names (the trusted `sourceGroup`). */
export const GROUP_FOLDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Largest page a container may ask for. */
export const FINDINGS_LIMIT_MAX = 200;
/** Page size when the caller does not say. */
export const FINDINGS_LIMIT_DEFAULT = 50;

/** Whether a value is a safe request id. */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID_PATTERN.test(value);
}

/** Whether a value is a valid NanoClaw group folder name. */
export function isValidGroupFolder(value: unknown): value is string {
  return typeof value === 'string' && GROUP_FOLDER_PATTERN.test(value);
}

// ---------------------------------------------------------------------------
// Shared enums
// ---------------------------------------------------------------------------

/**
 * Every member of the addon's string union `T` (defined once, by a Rust
 * enum, in the generated `index.d.ts`), as the run-time list zod needs: the
 * container has no addon, so the values are written here, and a missing or
 * unknown member is a compile error, so the list cannot drift from Rust.
 */
function everyMember<T extends string>() {
  return <const L extends readonly [T, ...T[]]>(
    list: L & ([T] extends [L[number]] ? unknown : { missing: Exclude<T, L[number]> }),
  ): L => list;
}

/** `Direction`, outbound first. */
export const DIRECTIONS = everyMember<Direction>()(['outbound', 'inbound']);
/** `ThreatType`. */
export const THREATS = everyMember<ThreatType>()(['EXFIL', 'INJECTION']);
/** `Severity`, least severe first. */
export const SEVERITIES = everyMember<Severity>()(['low', 'medium', 'high', 'critical']);
/** `GuardianState`. */
export const GUARDIAN_STATES = everyMember<GuardianState>()(['stopped', 'starting', 'running', 'stopping', 'failed']);

/** Whether `value` is one of `list` (narrows it to the list's union). */
export function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

export const DirectionSchema = z.enum(DIRECTIONS);
export const ThreatTypeSchema = z.enum(THREATS);
export const SeveritySchema = z.enum(SEVERITIES);

/** RFC 3339 timestamp, or a relative window such as `15m`, `1h`, `7d`. */
export const SinceSchema = z
  .string()
  .max(64)
  .refine(
    (s) => /^\d{1,6}[smhd]$/.test(s) || z.iso.datetime({ offset: true }).safeParse(s).success,
    { message: 'since must be an RFC 3339 timestamp (2026-04-26T00:00:00Z) or a relative window like 15m, 1h, 7d' },
  );

/** Opaque paging cursor returned as `next_cursor`. */
export const CursorSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'cursor must be the opaque next_cursor value from a previous page');

// ---------------------------------------------------------------------------
// Requests (tool arguments and IPC task payloads)
// ---------------------------------------------------------------------------

/** Findings filters as the agent gives them (also the MCP input shape). */
export const FindingsArgsShape = {
  since: SinceSchema.optional().describe(
    'Only findings at or after this time: RFC 3339 (e.g. 2026-04-26T00:00:00Z) or relative (15m, 1h, 7d).',
  ),
  limit: z
    .int()
    .min(1)
    .max(FINDINGS_LIMIT_MAX)
    .optional()
    .describe(`Maximum findings to return, 1-${FINDINGS_LIMIT_MAX} (default ${FINDINGS_LIMIT_DEFAULT}).`),
  direction: DirectionSchema.optional().describe(
    'outbound = traffic leaving the container (secret exfiltration); inbound = responses coming back (prompt injection).',
  ),
  threat_type: ThreatTypeSchema.optional().describe('EXFIL (secrets going out) or INJECTION (payloads coming in).'),
  min_severity: SeveritySchema.optional().describe('Lowest severity to include: low, medium, high or critical.'),
  cursor: CursorSchema.optional().describe('Pass next_cursor from the previous page to get the next page.'),
} as const;
export const FindingsArgsSchema = z.strictObject(FindingsArgsShape);
export type FindingsArgs = z.infer<typeof FindingsArgsSchema>;

/**
 * Fields NanoClaw (or an older client) may add to a task envelope. They are
 * accepted and ignored: identity comes only from the trusted `sourceGroup`.
 */
const EnvelopeExtras = {
  groupFolder: z.unknown().optional(),
  chatJid: z.unknown().optional(),
  isMain: z.unknown().optional(),
  timestamp: z.unknown().optional(),
  createdAt: z.unknown().optional(),
  action: z.unknown().optional(),
} as const;

const RequestIdSchema = z
  .string()
  .regex(REQUEST_ID_PATTERN, 'requestId must be 1-128 characters of A-Z a-z 0-9 _ -');

export const StatusRequestSchema = z.strictObject({
  type: z.literal('clawsec_traffic_status'),
  requestId: RequestIdSchema,
  ...EnvelopeExtras,
});
export const FindingsRequestSchema = z.strictObject({
  type: z.literal('clawsec_traffic_findings'),
  requestId: RequestIdSchema,
  ...FindingsArgsShape,
  ...EnvelopeExtras,
});
export const CheckConfigRequestSchema = z.strictObject({
  type: z.literal('clawsec_traffic_check_config'),
  requestId: RequestIdSchema,
  ...EnvelopeExtras,
});
export const TrafficRequestSchema = z.discriminatedUnion('type', [
  StatusRequestSchema,
  FindingsRequestSchema,
  CheckConfigRequestSchema,
]);
export type StatusRequest = z.infer<typeof StatusRequestSchema>;
export type FindingsRequest = z.infer<typeof FindingsRequestSchema>;
export type CheckConfigRequest = z.infer<typeof CheckConfigRequestSchema>;
export type TrafficRequest = z.infer<typeof TrafficRequestSchema>;

// ---------------------------------------------------------------------------
// Reply payloads (also the MCP tools' output schemas)
// ---------------------------------------------------------------------------

/** A redacted finding (`clawsec-traffic-finding/v1`), as the container may see it. */
export const FindingSchema = z.object({
  schema_version: z.string(),
  platform: z.string(),
  id: z.string(),
  direction: DirectionSchema,
  protocol: z.string(),
  threat_type: ThreatTypeSchema,
  pattern: z.string(),
  severity: SeveritySchema,
  source: z.string(),
  dest: z.string(),
  location: z.string(),
  snippet: z.string(),
  fingerprint: z.string(),
  count: z.number(),
  decoded: z.string().optional(),
  /** On a `model_tool_call`, the rule that matched in the tool call. */
  rule: z.string().optional(),
  method: z.string().optional().describe('Request method of the exchange.'),
  path: z.string().optional().describe('Redacted URL path: no query, credential-like segments [MASKED].'),
  status: z.number().optional().describe('Response status code (findings in a response).'),
  content_type: z.string().optional(),
  connection_id: z.string().optional().describe('Client connection (run tag and counter).'),
  request_id: z.string().optional().describe('Exchange on that connection; findings of one request/response share it.'),
  size_bytes: z.number().optional().describe('Message size in bytes as known when recorded.'),
  timestamp: z.string(),
});
export type ContractFinding = z.infer<typeof FindingSchema>;

export const GuardianStateSchema = z.enum(GUARDIAN_STATES);

/** What `clawsec_traffic_status` returns. Host file paths, tokens and the CA key are never included. */
export const StatusDataSchema = z.object({
  running: z.boolean().describe('Whether the proxy is listening now.'),
  state: GuardianStateSchema,
  mode: z.string().describe('off (nothing listens) or detect (detect-and-log; traffic is never blocked).'),
  reason: z.string().optional().describe('Why the guardian is not running, when it is not.'),
  started_at: z.string().optional(),
  uptime_ms: z.number(),
  listen: z.string().optional().describe('Address the proxy listens on (host side).'),
  inspection: z
    .boolean()
    .optional()
    .describe('false: started with inspect false (--no-inspect): inspection OFF, a benchmarking aid that finds nothing.'),
  https_inspection: z.boolean().describe('Whether HTTPS is inspected (MITM with a host-side CA).'),
  ca_fingerprint: z.string().optional().describe('SHA-256 fingerprint of the CA certificate, when HTTPS inspection is on.'),
  require_auth: z.boolean(),
  chained_upstream: z.boolean().describe('Whether traffic is forwarded through another proxy (e.g. the OneCLI gateway).'),
  max_scan_bytes: z.number(),
  redact_snippets: z.string(),
  counters: z
    .record(z.string(), z.number())
    .describe('all: guardian-wide traffic and finding counters (main/admin group); own_group: only the finding counts of the caller\'s own traffic since start.'),
  counters_scope: z.enum(['all', 'own_group']).optional(),
  caller: z.object({
    group: z.string(),
    is_main: z.boolean(),
    runtime_declared: z.boolean().describe('Whether this group has a proxy credential, so its traffic is attributed to it.'),
  }),
  runtimes: z.array(z.string()).describe('Declared runtimes visible to the caller (all for main, its own otherwise).'),
  store_error: z.string().optional(),
  last_error: z.string().optional(),
});
export type StatusData = z.infer<typeof StatusDataSchema>;

/** What `clawsec_traffic_findings` returns. */
export const FindingsDataSchema = z.object({
  running: z.boolean(),
  scope: z.enum(['all', 'own_group']).describe('all for the main group; own_group: only findings attributed to the caller.'),
  returned: z.number(),
  findings: z.array(FindingSchema),
  next_cursor: z.string().optional().describe('Pass as cursor to fetch the next page; absent on the last page.'),
});
export type FindingsData = z.infer<typeof FindingsDataSchema>;

export const ConfigIssueSchema = z.object({ field: z.string(), message: z.string(), hint: z.string() });

/** What `clawsec_traffic_check_config` returns; `effective` has every secret masked. */
export const CheckConfigDataSchema = z.object({
  ok: z.boolean(),
  running: z.boolean(),
  errors: z.array(ConfigIssueSchema),
  warnings: z.array(ConfigIssueSchema),
  effective: z.record(z.string(), z.unknown()).describe('Merged configuration with tokens and credentials masked.'),
});
export type CheckConfigData = z.infer<typeof CheckConfigDataSchema>;

/** Reply data schema per request type. */
export const RESPONSE_DATA_SCHEMAS = {
  clawsec_traffic_status: StatusDataSchema,
  clawsec_traffic_findings: FindingsDataSchema,
  clawsec_traffic_check_config: CheckConfigDataSchema,
} as const;

// ---------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------

export const ERROR_CODES = [
  'invalid_request',
  'unknown_type',
  'unavailable',
  'query_failed',
  'timeout',
  'internal_error',
] as const;
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type TrafficErrorCode = z.infer<typeof ErrorCodeSchema>;

export const TrafficErrorSchema = z.object({ code: ErrorCodeSchema, message: z.string().max(2000) });

/** Any reply, before its `data` is checked against the request type. */
export const TrafficResponseSchema = z.discriminatedUnion('success', [
  z.object({
    schema: z.literal(IPC_SCHEMA),
    requestId: RequestIdSchema,
    success: z.literal(true),
    data: z.unknown(),
  }),
  z.object({
    schema: z.literal(IPC_SCHEMA),
    requestId: RequestIdSchema,
    success: z.literal(false),
    error: TrafficErrorSchema,
  }),
]);

export type TrafficResponse =
  | { schema: typeof IPC_SCHEMA; requestId: string; success: true; data: StatusData | FindingsData | CheckConfigData }
  | { schema: typeof IPC_SCHEMA; requestId: string; success: false; error: { code: TrafficErrorCode; message: string } };

/** Reply with a typed `data` for a known request type. */
export type TrafficResponseFor<T extends TrafficRequestType> =
  | {
      schema: typeof IPC_SCHEMA;
      requestId: string;
      success: true;
      data: z.infer<(typeof RESPONSE_DATA_SCHEMAS)[T]>;
    }
  | { schema: typeof IPC_SCHEMA; requestId: string; success: false; error: { code: TrafficErrorCode; message: string } };

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Six random characters of [a-z0-9] (Web Crypto: present in Node >= 20 and bun). */
export function randomSuffix(length = 6): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return out;
}

/** A fresh request id: `clawsec-traffic-<kind>-<Date.now()>-<rand6>`. */
export function newRequestId(type: TrafficRequestType): string {
  return `clawsec-traffic-${REQUEST_KIND[type]}-${Date.now()}-${randomSuffix()}`;
}
