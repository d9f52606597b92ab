/**
 * Turns what the host has (an env record, an optional config file path, and
 * explicit overrides) into the addon's `ConfigInput`. Precedence and every
 * default live in Rust (defaults < file < env < overrides); this module only
 * selects what to hand over, so the TypeScript side cannot drift from them.
 */
import { checkConfig as addonCheckConfig, runtimeCredentials } from '@clawsec/traffic-guardian/addon';
import type { ConfigInput, ConfigIssue, ConfigReport } from '@clawsec/traffic-guardian/addon';

import { hookFromEffective, type HookConfig } from './hook.js';

/** Prefix of every environment variable the guardian reads. */
export const ENV_PREFIX = 'NANOCLAW_TRAFFIC_GUARDIAN_';

/** The documented variables (all optional). */
export const ENV_VARS = [
  'NANOCLAW_TRAFFIC_GUARDIAN_HOME',
  'NANOCLAW_TRAFFIC_GUARDIAN_CONFIG',
  'NANOCLAW_TRAFFIC_GUARDIAN_MODE',
  'NANOCLAW_TRAFFIC_GUARDIAN_PROXY_URL',
  'NANOCLAW_TRAFFIC_GUARDIAN_CA_BUNDLE',
  'NANOCLAW_TRAFFIC_GUARDIAN_LOG_DIR',
  'NANOCLAW_TRAFFIC_GUARDIAN_MAX_SCAN_BYTES',
  'NANOCLAW_TRAFFIC_GUARDIAN_REDACT_SNIPPETS',
] as const;

/** Variables outside the prefix the addon needs to resolve its default home. */
const PASSTHROUGH_ENV = ['HOME', 'USERPROFILE', 'XDG_CONFIG_HOME'] as const;

/** An env-like record (`process.env` fits). */
export type EnvLike = Readonly<Record<string, string | undefined>>;

export interface ConfigOptions {
  /** Environment to read; `process.env` when omitted. Only guardian variables (and HOME) are passed on. */
  env?: EnvLike;
  /** Explicit settings; they win over env and file. Same keys as the JSON config file. */
  config?: Record<string, unknown>;
  /** JSON config file; wins over `NANOCLAW_TRAFFIC_GUARDIAN_CONFIG`. */
  configPath?: string;
}

/**
 * Builds the addon's `ConfigInput`. Only the guardian's own variables (and
 * HOME, for the default home) are copied: the rest of the host environment,
 * which holds unrelated secrets, never crosses into the addon.
 */
export function buildConfigInput(opts: ConfigOptions = {}): ConfigInput {
  const source = opts.env ?? process.env;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    if (typeof v !== 'string') continue;
    if (k.startsWith(ENV_PREFIX) || (PASSTHROUGH_ENV as readonly string[]).includes(k)) env[k] = v;
  }
  const input: ConfigInput = { env };
  if (opts.configPath !== undefined) input.config_path = opts.configPath;
  if (opts.config !== undefined) input.overrides = opts.config;
  return input;
}

/** Validates without starting anything (the addon's validator, shared with start). */
export function checkTrafficConfig(opts: ConfigOptions = {}): ConfigReport {
  return addonCheckConfig(buildConfigInput(opts));
}

/** One line per issue: `field: message (hint)`. Issues never carry secrets. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`).join('\n');
}

/** Error thrown where a valid config is required. */
export class TrafficConfigError extends Error {
  readonly errors: ConfigIssue[];
  constructor(errors: ConfigIssue[]) {
    super(`invalid traffic guardian config:\n${formatConfigIssues(errors)}`);
    this.name = 'TrafficConfigError';
    this.errors = errors;
  }
}

/** Effective settings as plain values (the addon's masked `effective` view). */
export interface EffectiveView {
  mode: string;
  listen: string;
  home: string;
  log_dir: string;
  mitm_enabled: boolean;
  runtimes: string[];
  require_auth: boolean;
  /** Prometheus `/metrics` address, or '' when metrics are off (the default). */
  metrics_listen: string;
  /** The `on_finding` hook, when configured. */
  on_finding: HookConfig | undefined;
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

/** Reads the fields TypeScript needs from `ConfigReport.effective`. */
export function effectiveView(report: ConfigReport): EffectiveView {
  const e = (report.effective ?? {}) as Record<string, unknown>;
  const mitm = (e['mitm'] ?? {}) as Record<string, unknown>;
  const runtimes = Array.isArray(e['runtimes']) ? (e['runtimes'] as unknown[]) : [];
  return {
    mode: str(e['mode'], 'off'),
    listen: str(e['listen']),
    home: str(e['home']),
    log_dir: str(e['log_dir']),
    mitm_enabled: mitm['enabled'] === true,
    runtimes: runtimes
      .map((r) => (r && typeof r === 'object' ? str((r as Record<string, unknown>)['name']) : str(r)))
      .filter((n) => n.length > 0),
    require_auth: e['require_auth'] === true,
    metrics_listen: str(e['metrics_listen']),
    on_finding: hookFromEffective(e['on_finding']),
  };
}

/**
 * The runtime credentials (name → token) of the configuration `input`
 * resolves to, from the addon: the same layers and precedence as the
 * validator (defaults < file < environment < overrides), tokens unmasked
 * (`effective` masks them). Wiring needs them to give each container its
 * proxy URL. Host side only: never put them in an IPC or MCP answer, a log
 * line or the status file. Empty when the config is invalid.
 */
export function resolveRuntimeTokens(input: ConfigInput): Map<string, string> {
  return new Map(runtimeCredentials(input).map((c) => [c.name, c.token]));
}
