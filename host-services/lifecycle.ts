/**
 * The host lifecycle (`createTrafficGuardian()`), the layer NanoClaw's host
 * calls at start-up and shutdown, around the addon's `Guardian` class. It is
 * a no-op in mode `off` (the default: opt-in, nothing listens), never
 * throws, validates before starting, keeps `<home>/status.json` fresh for
 * other processes (the CLI), serves metrics, runs the finding hook, mints
 * runtime credentials and wires containers, and logs lifecycle events in
 * pino's shape — never secrets. CONTRIBUTING.md ("Lifecycle layers") names
 * the layers below and above it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

import { Guardian, homeLayout, queryFindings } from '@clawsec/traffic-guardian/addon';
import type {
  ConfigInput,
  ConfigIssue,
  ConfigReport,
  Finding,
  KnownSecretInput,
  FindingPage,
  FindingQuery,
  GuardianStatus,
  ReloadResult,
  StartInfo,
} from '@clawsec/traffic-guardian/addon';

import {
  buildConfigInput,
  checkTrafficConfig,
  effectiveView,
  formatConfigIssues,
  resolveRuntimeTokens,
  type ConfigOptions,
  type EffectiveView,
} from './config.js';
import { writeFileAtomicSync } from './atomic.js';
import { FindingHookRunner, type HookCounters } from './hook.js';
import { FindingCounters, renderMetrics, startMetricsServer, type MetricsServer } from './metrics.js';
import { buildWiring, prepareCaPublicDir, wiringToSpawn, type ContainerWiring } from './wiring.js';

/**
 * The `(obj, msg)` logger shape: NanoClaw v1's own logger (whose first
 * parameter is `Record<string, unknown> | string`) and pino both fit, so the
 * first parameter is a plain record rather than pino's `object`.
 */
export interface TrafficLogger {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  debug?(obj: Record<string, unknown>, msg?: string): void;
}

/** NanoClaw v2's logger shape: `log.info('msg', { data })`. */
export interface MsgDataLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  debug?(msg: string, data?: Record<string, unknown>): void;
}

const silentLogger: TrafficLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Adapts a `(msg, data)` logger (NanoClaw v2) to the `(obj, msg)` shape used here. */
export function fromMsgDataLogger(log: MsgDataLogger): TrafficLogger {
  return {
    info: (obj, msg) => log.info(msg ?? '', obj),
    warn: (obj, msg) => log.warn(msg ?? '', obj),
    error: (obj, msg) => log.error(msg ?? '', obj),
    debug: (obj, msg) => log.debug?.(msg ?? '', obj),
  };
}

export interface CreateTrafficGuardianOptions extends ConfigOptions {
  /** A `(obj, msg)` logger (NanoClaw v1's own logger, pino). */
  logger?: TrafficLogger;
  /** A `(msg, data)` logger (NanoClaw v2's `log`); used when `logger` is not given. */
  log?: MsgDataLogger;
  /** Called for each finding (already redacted). Exceptions are swallowed. */
  onFinding?: (finding: Finding) => void;
  /** How often `<home>/status.json` is refreshed while running (default 2000 ms). */
  statusIntervalMs?: number;
  /**
   * Secret values the host knows (NAME → value, or entries with expected
   * hosts), reported as `known_secret` (critical) when they leave in any
   * common encoding to any other host. Handed to the addon once, kept there
   * only as keyed hashes; never written, logged or sent over IPC/MCP.
   */
  knownSecrets?: Readonly<Record<string, string>> | readonly KnownSecretInput[];
}

/** `knownSecrets` as the addon takes it. */
function knownSecretList(
  known: CreateTrafficGuardianOptions['knownSecrets'],
): KnownSecretInput[] | undefined {
  if (known === undefined) return undefined;
  if (Array.isArray(known)) return known.map((k: KnownSecretInput) => ({ ...k }));
  return Object.entries(known as Readonly<Record<string, string>>).map(([name, value]) => ({ name, value }));
}

export type StartResult =
  | { started: true; info: StartInfo }
  | { started: false; reason: 'mode_off' | 'invalid_config' | 'start_failed'; message: string; errors?: ConfigIssue[] };

/** Status when no guardian could be built (invalid config). */
export interface UnavailableStatus {
  state: 'failed';
  running: false;
  mode: string;
  reason: string;
  config_errors: ConfigIssue[];
}

/**
 * Status in mode `off`: no guardian is built, so nothing on disk is created
 * or touched (no home, key, logs or status file).
 */
export interface OffStatus {
  state: 'stopped';
  running: false;
  mode: 'off';
  reason: string;
  home: string;
}

/** What `status()` returns and `<home>/status.json` holds. */
export type ServiceStatus = (GuardianStatus | UnavailableStatus | OffStatus) & {
  pid: number;
  updated_at: string;
  /** Why the guardian is not running (mode off, invalid config, start failure). */
  reason?: string;
  /** The Prometheus `/metrics` address bound, when `metrics_listen` is set. */
  metrics_listen?: string;
  /** Why `/metrics` is not served although `metrics_listen` is set. */
  metrics_error?: string;
  /** The `on_finding` hook's counters, when one is configured. */
  hook?: HookCounters;
};

export interface WiringOptions {
  /** Host name or address containers use to reach the proxy (default: bind address, or host.docker.internal). */
  proxyHost?: string;
  /** Extra NO_PROXY entries. */
  noProxy?: readonly string[];
  /** Mount point of the CA directory inside containers. */
  containerCaDir?: string;
}

export interface ContainerWireOptions extends WiringOptions {
  /**
   * Host the guardian uses to reach an upstream proxy found in the container
   * arguments under `host.docker.internal` (a name containers resolve, the
   * host usually not). Default `127.0.0.1`.
   */
  upstreamHost?: string;
  /** The runtime's read-only directory mount syntax (NanoClaw's `readonlyMountArgs`). */
  mountArgs?: (hostPath: string, containerPath: string) => string[];
}

export interface TrafficGuardianService {
  /** Starts the proxy unless mode is `off`. Never throws: failures are values, and logged. */
  start(): Promise<StartResult>;
  /** Stops the proxy (no-op when not running) and writes the final status file. */
  stop(): Promise<void>;
  status(): ServiceStatus;
  /** Stored and recent findings (works stopped too: reads the JSONL store). */
  findings(query?: FindingQuery): FindingPage;
  /** Re-validates the current config; never starts anything. */
  checkConfig(): ConfigReport;
  /**
   * Re-reads the config file and environment, validates them and applies
   * them to new connections (see the addon's \`Guardian.reload\`; the
   * \`on_finding\` hook is swapped here). An invalid config is rejected and
   * the running one kept. The status file is rewritten at once. Never throws.
   */
  reload(): ReloadResult;
  /** The container env and mounts for `runtime` (a declared runtime, or one added with `addRuntime`). */
  wiring(runtime?: string, opts?: WiringOptions): ContainerWiring;
  /**
   * Registers a runtime with the running (or stopped) guardian without a
   * restart: its token (minted when not given; an existing one is kept) and
   * optionally its own upstream proxy credentials. Returns the token.
   */
  addRuntime(name: string, opts?: { token?: string; upstreamProxy?: string }): string;
  /**
   * Points one container at the guardian, in place: mints and registers
   * `runtime`'s credential, takes the container's own upstream proxy
   * (OneCLI's per-agent `HTTPS_PROXY`) out of `args` as that runtime's
   * upstream, and inserts the guardian's `-e NAME` / mount flags right after
   * `run` (before the image and its command). Returns the values for the
   * spawned CLI's env. When the guardian is off, failed to start, or
   * anything goes wrong, `args` is left untouched and `{}` is returned: the
   * container keeps its normal network.
   */
  wireContainerArgs(args: string[], runtime: string, opts?: ContainerWireOptions): Promise<Record<string, string>>;
  /** Whether the proxy is listening. */
  readonly running: boolean;
  /** Path of the status file (undefined when the home is unknown). */
  readonly statusFile: string | undefined;
}

/** Proxy variables a container runtime's own gateway (OneCLI) may set inline. */
const PROXY_ENV_NAMES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** Value of `-e NAME=value` pairs in docker-style args, by name (first wins). */
function inlineEnv(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] !== '-e' && args[i] !== '--env') continue;
    const pair = args[i + 1] ?? '';
    const eq = pair.indexOf('=');
    if (eq > 0 && !out.has(pair.slice(0, eq))) out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/** The container's own upstream proxy URL (OneCLI's per-agent one), if its args set one inline. */
function takeProxyEnv(args: readonly string[]): string | undefined {
  const env = inlineEnv(args);
  for (const name of PROXY_ENV_NAMES) {
    const v = env.get(name);
    if (v) return v;
  }
  return undefined;
}

/** The container-side upstream URL as the host reaches it. */
function hostSideUpstream(raw: string, upstreamHost: string): string {
  const url = new URL(raw);
  if (url.hostname === 'host.docker.internal') url.hostname = upstreamHost;
  return url.toString().replace(/\/$/, '');
}

/** `args` without the `-e`/`--env` pairs (inline or name-only) for `names`. */
function withoutEnv(args: readonly string[], names: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if ((a === '-e' || a === '--env') && i + 1 < args.length) {
      const pair = args[i + 1] as string;
      const name = pair.includes('=') ? pair.slice(0, pair.indexOf('=')) : pair;
      if (names.has(name)) {
        i++;
        continue;
      }
    }
    out.push(a);
  }
  return out;
}

/** The home layout relative to the home itself (the addon defines it). */
const RELATIVE_LAYOUT = homeLayout('');
/** Status file name inside the guardian home. */
export const STATUS_FILE_NAME = RELATIVE_LAYOUT.status_file;
/** Public CA export dir inside the guardian home (mounted into containers). */
export const CA_PUBLIC_DIR_NAME = RELATIVE_LAYOUT.ca_public.dir;

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Atomic JSON write (pretty-printed, newline-terminated) with `mode`. */
export function writeJsonAtomic(path: string, value: unknown, mode: number): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode });
}

/**
 * Creates the host lifecycle. Nothing is started and nothing listens until
 * `start()`; an invalid config is reported by `start()`/`status()`, not thrown.
 */
export function createTrafficGuardian(options: CreateTrafficGuardianOptions = {}): TrafficGuardianService {
  const logger = options.logger ?? (options.log ? fromMsgDataLogger(options.log) : silentLogger);
  const input: ConfigInput = buildConfigInput(options);
  let pendingKnown = knownSecretList(options.knownSecrets);
  const configOptions: ConfigOptions = { env: options.env, config: options.config, configPath: options.configPath };
  const intervalMs = Math.max(100, options.statusIntervalMs ?? 2000);

  let guardian: Guardian | undefined;
  let guardianError: { message: string; errors: ConfigIssue[]; mode: string } | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let startInfo: StartInfo | undefined;
  let starting: Promise<StartResult> | undefined;
  let stopping: Promise<void> | undefined;
  let lastReason: string | undefined;
  let offLogged = false;
  let statusWriteFailed = false;
  /** Tokens minted or registered at run time (kept for the life of the process, in memory only). */
  const addedTokens = new Map<string, string>();
  const findingCounters = new FindingCounters();
  let metrics: MetricsServer | undefined;
  let metricsError: string | undefined;
  let hook: FindingHookRunner | undefined;
  let hookConfig: EffectiveView['on_finding'];

  function report(): ConfigReport {
    return checkTrafficConfig(configOptions);
  }

  /** Builds the Guardian once (validates; does not listen). */
  function ensureGuardian(): Guardian | undefined {
    if (guardian) return guardian;
    const r = report();
    if (!r.ok) {
      guardianError = { message: formatConfigIssues(r.errors), errors: r.errors, mode: effectiveView(r).mode };
      return undefined;
    }
    try {
      guardian = new Guardian({ ...input, known_secrets: pendingKnown });
      // The addon keeps only keyed hashes: drop this process's reference.
      pendingKnown = undefined;
      guardianError = undefined;
    } catch (err) {
      guardianError = { message: errorMessage(err), errors: [], mode: effectiveView(r).mode };
    }
    return guardian;
  }

  /**
   * Mode `off` is a no-op on disk too: building a Guardian would create the
   * home, the fingerprint key and the log dir, so nothing here builds one
   * while the (valid) config says `off`.
   */
  function offView(): EffectiveView | undefined {
    if (guardian) return undefined;
    const r = report();
    const view = effectiveView(r);
    return r.ok && view.mode === 'off' ? view : undefined;
  }

  function status(): ServiceStatus {
    const common = { pid: process.pid, updated_at: new Date().toISOString() };
    const off = offView();
    if (off) {
      return { state: 'stopped', running: false, mode: 'off', reason: 'mode off', home: off.home, ...common };
    }
    const g = ensureGuardian();
    if (!g) {
      const e = guardianError ?? { message: 'unknown error', errors: [], mode: 'off' };
      return {
        state: 'failed',
        running: false,
        mode: e.mode,
        reason: `invalid config: ${e.message}`,
        config_errors: e.errors,
        ...common,
      };
    }
    const s = g.status();
    const out: ServiceStatus = { ...s, ...common };
    if (!s.running && lastReason !== undefined) out.reason = lastReason;
    if (metrics) out.metrics_listen = metrics.address;
    if (metricsError) out.metrics_error = metricsError;
    if (hook) out.hook = hook.counters();
    return out;
  }

  function statusFilePath(): string | undefined {
    const g = guardian;
    const home = g ? g.status().home : undefined;
    return home ? homeLayout(home).status_file : undefined;
  }

  function writeStatusFile(): void {
    const path = statusFilePath();
    if (!path) return;
    try {
      writeJsonAtomic(path, status(), 0o600);
      statusWriteFailed = false;
    } catch (err) {
      if (!statusWriteFailed) logger.warn({ err: errorMessage(err), path }, 'traffic guardian: cannot write status file');
      statusWriteFailed = true;
    }
  }

  async function doStart(): Promise<StartResult> {
    const r = report();
    const view = effectiveView(r);
    if (!r.ok) {
      lastReason = 'invalid config';
      logger.error(
        { errors: r.errors.map((e) => ({ field: e.field, message: e.message, hint: e.hint })) },
        'traffic guardian: invalid config, not starting',
      );
      return { started: false, reason: 'invalid_config', message: formatConfigIssues(r.errors), errors: r.errors };
    }
    for (const w of r.warnings) logger.warn({ field: w.field, hint: w.hint }, `traffic guardian config: ${w.message}`);
    if (view.mode === 'off') {
      lastReason = 'mode off';
      if (!offLogged) {
        logger.info({ mode: 'off' }, 'traffic guardian disabled (mode off); set NANOCLAW_TRAFFIC_GUARDIAN_MODE=detect to enable');
        offLogged = true;
      }
      return { started: false, reason: 'mode_off', message: 'mode is off: nothing started' };
    }
    const g = ensureGuardian();
    if (!g) {
      lastReason = 'invalid config';
      const message = guardianError?.message ?? 'could not create the guardian';
      logger.error({ err: message }, 'traffic guardian: cannot create the proxy');
      return { started: false, reason: 'invalid_config', message, errors: guardianError?.errors ?? [] };
    }
    const onFinding = (f: Finding): void => {
      findingCounters.observe(f);
      hook?.offer(f);
      logger.warn(
        { threat_type: f.threat_type, pattern: f.pattern, severity: f.severity, source: f.source, dest: f.dest, direction: f.direction },
        'traffic guardian finding',
      );
      try {
        options.onFinding?.(f);
      } catch {
        // a consumer's bug must not reach the proxy
      }
    };
    if (view.on_finding) hook = new FindingHookRunner(view.on_finding, logger);
    hookConfig = view.on_finding;
    try {
      startInfo = await g.start(onFinding);
    } catch (err) {
      lastReason = `start failed: ${errorMessage(err)}`;
      logger.error({ err: errorMessage(err) }, 'traffic guardian: start failed');
      return { started: false, reason: 'start_failed', message: errorMessage(err) };
    }
    lastReason = undefined;
    logger.info(
      {
        listen: startInfo.address,
        port: startInfo.port,
        mode: startInfo.mode,
        mitm: startInfo.https.mitm,
        // Only with HTTPS inspection on: without it there is no CA to name.
        ...(startInfo.https.mitm && startInfo.https.ca_fingerprint ? { ca_fingerprint: startInfo.https.ca_fingerprint } : {}),
        runtimes: view.runtimes,
      },
      'traffic guardian started (detect-and-log; traffic is never blocked)',
    );
    if (view.metrics_listen) {
      try {
        metrics = await startMetricsServer(view.metrics_listen, () => {
          const st = g.status();
          return renderMetrics(findingCounters, st.counters, st.running, hook?.counters());
        });
        metricsError = undefined;
        logger.info({ metrics_listen: metrics.address }, 'traffic guardian: Prometheus metrics at /metrics');
      } catch (err) {
        // The proxy matters more than its metrics: keep running, say why.
        metricsError = `cannot listen on ${view.metrics_listen}: ${errorMessage(err)}`;
        logger.warn({ err: metricsError, hint: 'pick a free port for metrics_listen' }, 'traffic guardian: metrics not served');
      }
    }
    writeStatusFile();
    timer = setInterval(writeStatusFile, intervalMs);
    timer.unref();
    return { started: true, info: startInfo };
  }

  async function doStop(): Promise<void> {
    if (timer) {
      clearInterval(timer);
      timer = undefined;
    }
    if (metrics) {
      const m = metrics;
      metrics = undefined;
      await m.close();
    }
    const g = guardian;
    if (!g) return;
    const wasRunning = g.status().running;
    // After the proxy stops no finding arrives; runs still going are killed.
    const stopHook = () => {
      hook?.close();
    };
    if (wasRunning) {
      try {
        await g.stop();
        logger.info({}, 'traffic guardian stopped');
      } catch (err) {
        logger.error({ err: errorMessage(err) }, 'traffic guardian: stop failed');
      }
      lastReason = 'stopped';
    }
    stopHook();
    startInfo = undefined;
    if (wasRunning) writeStatusFile();
  }

  const service: TrafficGuardianService = {
    start(): Promise<StartResult> {
      if (guardian?.status().running && startInfo) return Promise.resolve({ started: true, info: startInfo });
      if (!starting) {
        starting = (async () => {
          if (stopping) await stopping;
          try {
            return await doStart();
          } catch (err) {
            logger.error({ err: errorMessage(err) }, 'traffic guardian: start failed');
            return { started: false, reason: 'start_failed', message: errorMessage(err) } as const;
          }
        })().finally(() => {
          starting = undefined;
        });
      }
      return starting;
    },
    stop(): Promise<void> {
      if (!stopping) {
        stopping = (async () => {
          if (starting) await starting.catch(() => undefined);
          await doStop();
        })().finally(() => {
          stopping = undefined;
        });
      }
      return stopping;
    },
    status,
    findings(query?: FindingQuery): FindingPage {
      const g = offView() ? undefined : ensureGuardian();
      if (g) return g.findings(query);
      const view = effectiveView(report());
      if (!view.log_dir || !existsSync(view.log_dir)) return { findings: [], skipped_lines: 0, ignored: 0 };
      return queryFindings(view.log_dir, query);
    },
    checkConfig: report,
    reload(): ReloadResult {
      const g = guardian;
      if (!g || !g.status().running) {
        return { applied: false, error: 'the guardian is not running', issues: [], restart_needed: [] };
      }
      let result: ReloadResult;
      try {
        result = g.reload(buildConfigInput(options));
      } catch (err) {
        result = { applied: false, error: errorMessage(err), issues: [], restart_needed: [] };
      }
      if (result.applied) {
        // The hook lives here, not in the addon: swap it when it changed.
        const next = effectiveView(report()).on_finding;
        if (JSON.stringify(next) !== JSON.stringify(hookConfig)) {
          hook?.close();
          hook = next ? new FindingHookRunner(next, logger) : undefined;
          hookConfig = next;
        }
        logger.info({ restart_needed: result.restart_needed }, 'traffic guardian: configuration reloaded (applies to new connections)');
      } else {
        logger.error(
          { errors: result.issues.map((e) => ({ field: e.field, message: e.message, hint: e.hint })), err: result.error },
          'traffic guardian: config reload rejected; the running configuration is kept',
        );
      }
      writeStatusFile();
      return result;
    },
    wiring(runtime?: string, opts: WiringOptions = {}): ContainerWiring {
      const r = report();
      const view: EffectiveView = effectiveView(r);
      if (runtime !== undefined && !view.runtimes.includes(runtime) && !addedTokens.has(runtime)) {
        throw new TypeError(
          `unknown runtime ${JSON.stringify(runtime)}: declare it in the guardian config's runtimes (with a token) first`,
        );
      }
      const tokens = resolveRuntimeTokens(input);
      const token = runtime !== undefined ? (addedTokens.get(runtime) ?? tokens.get(runtime)) : undefined;
      const s = guardian?.status();
      const listen = s?.running && s.listen ? s.listen : view.listen;
      let caPublicDir: string | undefined;
      // Mode off touches no disk: no CA export either.
      const mitm = view.mode === 'off' ? false : (s?.https.mitm ?? view.mitm_enabled);
      if (mitm) {
        const layout = homeLayout(s?.home ?? view.home);
        try {
          caPublicDir = prepareCaPublicDir(layout.ca_dir, layout.ca_public.dir).dir;
        } catch (err) {
          logger.warn({ err: errorMessage(err) }, 'traffic guardian: cannot export the CA public certificate');
        }
      }
      const w = buildWiring({
        listen,
        runtime,
        token,
        mitm,
        caPublicDir,
        proxyHost: opts.proxyHost,
        noProxy: opts.noProxy,
        containerCaDir: opts.containerCaDir,
      });
      if (view.require_auth && runtime === undefined) {
        w.warnings.push('require_auth is on: a container without a runtime credential gets 407 from the proxy');
      }
      if (view.require_auth && runtime !== undefined && token === undefined) {
        w.warnings.push(`require_auth is on but runtime ${runtime}'s token could not be read from the config`);
      }
      return w;
    },
    addRuntime(name: string, opts: { token?: string; upstreamProxy?: string } = {}): string {
      const g = ensureGuardian();
      if (!g) throw new Error(`traffic guardian unavailable: ${guardianError?.message ?? 'unknown error'}`);
      const declared = resolveRuntimeTokens(input).get(name);
      const token = opts.token ?? addedTokens.get(name) ?? declared ?? randomBytes(24).toString('hex');
      g.addRuntime(name, token, opts.upstreamProxy);
      addedTokens.set(name, token);
      return token;
    },
    async wireContainerArgs(args: string[], runtime: string, opts: ContainerWireOptions = {}): Promise<Record<string, string>> {
      if (starting) await starting.catch(() => undefined);
      if (!(guardian?.status().running ?? false)) return {};
      try {
        const found = takeProxyEnv(args);
        const upstreamProxy = found ? hostSideUpstream(found, opts.upstreamHost ?? '127.0.0.1') : undefined;
        service.addRuntime(runtime, { upstreamProxy });
        const w = service.wiring(runtime, opts);
        const { args: flags, env } = wiringToSpawn(w, opts.mountArgs);
        const next = withoutEnv(args, new Set(Object.keys(env)));
        const at = next.indexOf('run');
        if (at < 0) throw new Error('the container arguments have no `run` subcommand');
        next.splice(at + 1, 0, ...flags);
        args.splice(0, args.length, ...next);
        for (const warning of w.warnings) logger.warn({ runtime }, `traffic guardian: ${warning}`);
        logger.info(
          { runtime, proxy: w.proxyUrlMasked, upstream: upstreamProxy ? 'own' : 'default' },
          'traffic guardian: container wired',
        );
        return env;
      } catch (err) {
        logger.warn({ runtime, err: errorMessage(err) }, 'traffic guardian: container not wired (it keeps its normal network)');
        return {};
      }
    },
    get running(): boolean {
      return guardian?.status().running ?? false;
    },
    get statusFile(): string | undefined {
      return statusFilePath();
    },
  };
  return service;
}
