/**
 * Transport-free request handling shared by the NanoClaw v1 (files) and v2
 * (delivery actions) adapters. Identity comes only from the trusted
 * `sourceGroup`/`isMain` the host derived itself; non-main groups only ever
 * see findings attributed to their own runtime. Replies carry status and
 * redacted findings only — never host paths of the CA key, tokens or raw
 * config secrets — and always follow the shared contract.
 */
import type { ConfigReport, Finding, FindingPage, FindingQuery } from '@clawsec/traffic-guardian/addon';

import {
  CheckConfigDataSchema,
  FINDINGS_LIMIT_DEFAULT,
  FINDINGS_LIMIT_MAX,
  FindingSchema,
  FindingsDataSchema,
  GuardianStateSchema,
  IPC_SCHEMA,
  StatusDataSchema,
  TRAFFIC_REQUEST_TYPES,
  TrafficRequestSchema,
  isValidGroupFolder,
  isValidRequestId,
  type CheckConfigData,
  type ContractFinding,
  type FindingsData,
  type FindingsRequest,
  type StatusData,
  type TrafficErrorCode,
  type TrafficResponse,
} from '../../mcp-tools/contract.js';
import type { ServiceStatus } from '../lifecycle.js';

/**
 * Compile-time drift check: the contract's finding and the addon's finding
 * have the same keys. If the Rust schema gains or loses a field, this line
 * stops the build until the contract follows.
 */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const FINDING_KEYS_MATCH: SameKeys<Finding, ContractFinding> = true;
void FINDING_KEYS_MATCH;

/** What the handler needs from the service (the real one, or a stopped one). */
export interface TrafficServiceLike {
  status(): ServiceStatus;
  findings(query?: FindingQuery): FindingPage;
  checkConfig(): ConfigReport;
}

export interface TrafficRequestContext {
  /** Trusted group folder (from the IPC directory name / v2 session), never from the payload. */
  sourceGroup: string;
  /** Trusted main-group flag. */
  isMain: boolean;
  service: TrafficServiceLike;
}

/** requestId used in a reply when the request carried no usable id (never written to disk). */
export const UNUSABLE_REQUEST_ID = 'invalid-request-id';

const MASK = '****';
/** Keys whose string values are secrets wherever they appear. */
const SECRET_KEY = /(token|password|passwd|secret|credential|authorization|private[_-]?key|api[_-]?key)$/i;
/** `scheme://user:pass@` or `scheme://token@` in any string. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^@\s/]+@/gi;

/** Masks credentials inside free text (URLs with user info). */
export function scrubText(text: string): string {
  return text.replace(URL_CREDENTIALS, `$1${MASK}@`);
}

/** Deep copy with secret-looking values masked; defence in depth over the addon's own masking. */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32) return null;
  if (typeof value === 'string') return scrubText(value);
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = typeof v === 'string' && SECRET_KEY.test(k) && v !== MASK ? MASK : scrubSecrets(v, depth + 1);
    }
    return out;
  }
  return value;
}

function ok(requestId: string, data: StatusData | FindingsData | CheckConfigData): TrafficResponse {
  return { schema: IPC_SCHEMA, requestId, success: true, data };
}

function fail(requestId: string, code: TrafficErrorCode, message: string): TrafficResponse {
  return { schema: IPC_SCHEMA, requestId, success: false, error: { code, message: scrubText(message).slice(0, 2000) } };
}

function numbers(obj: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    }
  }
  return out;
}

/** The finding counters a non-main group gets, all counted over its own findings only. */
const GROUP_COUNTER_KEYS = [
  'findings_exfil',
  'findings_injection',
  'findings_low',
  'findings_medium',
  'findings_high',
  'findings_critical',
] as const;
/** Bound on the pages read to count one group's findings (1000 findings each). */
const GROUP_COUNT_MAX_PAGES = 100;

/**
 * One group's finding counters since the guardian started, from the store
 * (attribution is the finding's `source`, the runtime name). The
 * guardian-wide counters mix every group's traffic, so a non-main group gets
 * only these: `count` folds dedup repeats back in, as the global counters do.
 */
function groupCounters(ctx: TrafficRequestContext, startedAt: string | undefined): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(GROUP_COUNTER_KEYS.map((k) => [k, 0]));
  if (!startedAt) return out;
  let cursor: string | undefined;
  for (let page = 0; page < GROUP_COUNT_MAX_PAGES; page++) {
    const query: FindingQuery = { sources: [ctx.sourceGroup], since: startedAt, limit: FINDINGS_LIMIT_MAX };
    if (cursor) query.cursor = cursor;
    const res = ctx.service.findings(query);
    for (const f of res.findings) {
      // Isolation re-checked here so a store bug cannot leak another group's counts.
      if (f.source !== ctx.sourceGroup) continue;
      const n = Number.isFinite(f.count) && f.count > 0 ? f.count : 1;
      const threat = `findings_${f.threat_type.toLowerCase()}`;
      const severity = `findings_${f.severity}`;
      if (threat in out) out[threat]! += n;
      if (severity in out) out[severity]! += n;
    }
    cursor = res.next_cursor ?? undefined;
    if (!cursor) break;
  }
  return out;
}

function statusData(ctx: TrafficRequestContext): StatusData {
  const s = ctx.service.status();
  const declared: string[] = 'config' in s ? [...s.config.runtimes] : [];
  const state = GuardianStateSchema.safeParse(s.state);
  const base: StatusData = {
    running: s.running,
    state: state.success ? state.data : s.running ? 'running' : 'failed',
    mode: s.mode,
    uptime_ms: 'uptime_ms' in s ? s.uptime_ms : 0,
    https_inspection: 'https' in s ? s.https.mitm : false,
    inspection: 'inspect' in s ? s.inspect : true,
    require_auth: 'config' in s ? s.config.require_auth : false,
    chained_upstream: 'config' in s ? typeof s.config.upstream_proxy === 'string' && s.config.upstream_proxy.length > 0 : false,
    max_scan_bytes: 'config' in s ? s.config.max_scan_bytes : 0,
    redact_snippets: 'config' in s ? s.config.redact_snippets : 'full',
    // Guardian-wide counters only for main (v1) / the admin group (v2); any
    // other group sees its own findings counted, nothing about other groups.
    counters: ctx.isMain
      ? 'counters' in s
        ? numbers(s.counters)
        : {}
      : groupCounters(ctx, 'started_at' in s && s.running ? s.started_at : undefined),
    counters_scope: ctx.isMain ? 'all' : 'own_group',
    caller: { group: ctx.sourceGroup, is_main: ctx.isMain, runtime_declared: declared.includes(ctx.sourceGroup) },
    runtimes: ctx.isMain ? declared : declared.filter((n) => n === ctx.sourceGroup),
  };
  if (s.reason) base.reason = scrubText(s.reason);
  if ('started_at' in s && s.started_at) base.started_at = s.started_at;
  if ('listen' in s && s.listen) base.listen = s.listen;
  if ('https' in s && s.https.mitm && s.https.ca_fingerprint) base.ca_fingerprint = s.https.ca_fingerprint;
  if ('store_error' in s && s.store_error) base.store_error = scrubText(s.store_error);
  if ('last_error' in s && s.last_error) base.last_error = scrubText(s.last_error);
  return StatusDataSchema.parse(base);
}

function findingsData(req: FindingsRequest, ctx: TrafficRequestContext): FindingsData {
  const running = ctx.service.status().running;
  const limit = Math.min(FINDINGS_LIMIT_MAX, Math.max(1, req.limit ?? FINDINGS_LIMIT_DEFAULT));
  const query: FindingQuery = { limit };
  if (req.since !== undefined) query.since = req.since;
  if (req.direction !== undefined) query.direction = req.direction;
  if (req.threat_type !== undefined) query.threat_type = req.threat_type;
  if (req.min_severity !== undefined) query.min_severity = req.min_severity;
  if (req.cursor !== undefined) query.cursor = req.cursor;
  if (!ctx.isMain) query.sources = [ctx.sourceGroup];
  const page = ctx.service.findings(query);
  const findings = page.findings
    // Isolation is enforced by the query; re-checked here so a store bug cannot leak across groups.
    .filter((f) => ctx.isMain || f.source === ctx.sourceGroup)
    .slice(0, limit)
    .map((f) => FindingSchema.parse(f));
  const data: FindingsData = { running, scope: ctx.isMain ? 'all' : 'own_group', returned: findings.length, findings };
  if (page.next_cursor) data.next_cursor = page.next_cursor;
  return FindingsDataSchema.parse(data);
}

function checkConfigData(ctx: TrafficRequestContext): CheckConfigData {
  const r = ctx.service.checkConfig();
  const effective = scrubSecrets(r.effective ?? {}) as Record<string, unknown>;
  if (!ctx.isMain && Array.isArray(effective['runtimes'])) {
    effective['runtimes'] = (effective['runtimes'] as unknown[]).filter(
      (rt) => rt && typeof rt === 'object' && (rt as Record<string, unknown>)['name'] === ctx.sourceGroup,
    );
  }
  const issue = (i: { field: string; message: string; hint: string }) => ({
    field: i.field,
    message: scrubText(i.message),
    hint: scrubText(i.hint),
  });
  return CheckConfigDataSchema.parse({
    ok: r.ok,
    running: ctx.service.status().running,
    errors: r.errors.map(issue),
    warnings: r.warnings.map(issue),
    effective,
  });
}

function describeIssues(err: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code: string }> }): string {
  return err.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.map(String).join('.');
      return `${path || '(request)'}: ${i.message}`;
    })
    .join('; ');
}

/**
 * Answers one request. Never throws; every failure is an error reply with a
 * precise code and message.
 */
export async function handleTrafficRequest(request: unknown, ctx: TrafficRequestContext): Promise<TrafficResponse> {
  const rawId =
    request && typeof request === 'object' ? (request as Record<string, unknown>)['requestId'] : undefined;
  const requestId = isValidRequestId(rawId) ? rawId : UNUSABLE_REQUEST_ID;
  try {
    if (!isValidGroupFolder(ctx.sourceGroup)) {
      return fail(requestId, 'invalid_request', 'the source group is not a valid NanoClaw group folder');
    }
    if (!request || typeof request !== 'object' || Array.isArray(request)) {
      return fail(requestId, 'invalid_request', 'the request must be a JSON object');
    }
    const type = (request as Record<string, unknown>)['type'];
    if (typeof type !== 'string' || !(TRAFFIC_REQUEST_TYPES as readonly string[]).includes(type)) {
      return fail(
        requestId,
        'unknown_type',
        `unknown request type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 64)) : '(missing)'}; ` +
          `expected one of ${TRAFFIC_REQUEST_TYPES.join(', ')}`,
      );
    }
    if (!isValidRequestId(rawId)) {
      return fail(requestId, 'invalid_request', 'requestId must be 1-128 characters of A-Z a-z 0-9 _ -');
    }
    const parsed = TrafficRequestSchema.safeParse(request);
    if (!parsed.success) {
      return fail(requestId, 'invalid_request', `invalid ${type} request: ${describeIssues(parsed.error)}`);
    }
    const req = parsed.data;
    switch (req.type) {
      case 'clawsec_traffic_status':
        return ok(requestId, statusData(ctx));
      case 'clawsec_traffic_check_config':
        return ok(requestId, checkConfigData(ctx));
      case 'clawsec_traffic_findings':
        try {
          return ok(requestId, findingsData(req, ctx));
        } catch (err) {
          return fail(requestId, 'query_failed', `findings query failed: ${err instanceof Error ? err.message : String(err)}`);
        }
    }
  } catch (err) {
    return fail(requestId, 'internal_error', `the host could not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
}
