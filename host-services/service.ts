/**
 * The host-managed lifecycle NanoClaw calls at start-up and shutdown. It is
 * a no-op in mode `off` (the default: opt-in, nothing listens), validates
 * before starting, keeps `<home>/status.json` fresh for other processes (the
 * CLI) and logs lifecycle events in pino's shape — never secrets.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { Guardian, queryFindings } from '@clawsec/traffic-guardian/addon';
import type {
  ConfigInput,
  ConfigIssue,
  ConfigReport,
  Finding,
  FindingPage,
  FindingQuery,
  GuardianStatus,
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
import { FindingHookRunner, type HookCounters } from './hook.js';
import { FindingCounters, renderMetrics, startMetricsServer, type MetricsServer } from './metrics.js';
import { buildWiring, prepareCaPublicDir, type ContainerWiring } from './wiring.js';

/** NanoClaw's logger shape (pino): `logger.info({ obj }, 'msg')`. */
export interface TrafficLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

const silentLogger: TrafficLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface CreateTrafficGuardianOptions extends ConfigOptions {
  logger?: TrafficLogger;
  /** Called for each finding (already redacted). Exceptions are swallowed. */
  onFinding?: (finding: Finding) => void;
  /** How often `<home>/status.json` is refreshed while running (default 2000 ms). */
  statusIntervalMs?: number;
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

/** What `status()` returns and `<home>/status.json` holds. */
export type ServiceStatus = (GuardianStatus | UnavailableStatus) & {
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
  /** The container env and mounts for `runtime` (a NanoClaw group with a declared token). */
  wiring(runtime?: string, opts?: WiringOptions): ContainerWiring;
  /** Whether the proxy is listening. */
  readonly running: boolean;
  /** Path of the status file (undefined when the home is unknown). */
  readonly statusFile: string | undefined;
}

/** Status file name inside the guardian home. */
export const STATUS_FILE_NAME = 'status.json';
/** Public CA export dir inside the guardian home (mounted into containers). */
export const CA_PUBLIC_DIR_NAME = 'ca-public';

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Atomic JSON write: unique tmp (exclusive create) + rename. */
export function writeJsonAtomic(path: string, value: unknown, mode: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode, flag: 'wx' });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // tmp may not exist
    }
    throw err;
  }
}

/**
 * Creates the service. Nothing is started and nothing listens until
 * `start()`; an invalid config is reported by `start()`/`status()`, not thrown.
 */
export function createTrafficGuardian(options: CreateTrafficGuardianOptions = {}): TrafficGuardianService {
  const logger = options.logger ?? silentLogger;
  const input: ConfigInput = buildConfigInput(options);
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
  const findingCounters = new FindingCounters();
  let metrics: MetricsServer | undefined;
  let metricsError: string | undefined;
  let hook: FindingHookRunner | undefined;

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
      guardian = new Guardian(input);
      guardianError = undefined;
    } catch (err) {
      guardianError = { message: errorMessage(err), errors: [], mode: effectiveView(r).mode };
    }
    return guardian;
  }

  function status(): ServiceStatus {
    const common = { pid: process.pid, updated_at: new Date().toISOString() };
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
    return home ? join(home, STATUS_FILE_NAME) : undefined;
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
        ca_fingerprint: startInfo.https.ca_fingerprint,
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
      const g = ensureGuardian();
      if (g) return g.findings(query);
      const view = effectiveView(report());
      if (!view.log_dir) return { findings: [], skipped_lines: 0, ignored: 0 };
      return queryFindings(view.log_dir, query);
    },
    checkConfig: report,
    wiring(runtime?: string, opts: WiringOptions = {}): ContainerWiring {
      const r = report();
      const view: EffectiveView = effectiveView(r);
      if (runtime !== undefined && !view.runtimes.includes(runtime)) {
        throw new TypeError(
          `unknown runtime ${JSON.stringify(runtime)}: declare it in the guardian config's runtimes (with a token) first`,
        );
      }
      const tokens = resolveRuntimeTokens(input, view);
      const token = runtime !== undefined ? tokens.get(runtime) : undefined;
      const s = guardian?.status();
      const listen = s?.running && s.listen ? s.listen : view.listen;
      let caPublicDir: string | undefined;
      const mitm = s?.https.mitm ?? view.mitm_enabled;
      if (mitm) {
        const home = s?.home ?? view.home;
        try {
          caPublicDir = prepareCaPublicDir(join(home, 'ca'), join(home, CA_PUBLIC_DIR_NAME)).dir;
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
    get running(): boolean {
      return guardian?.status().running ?? false;
    },
    get statusFile(): string | undefined {
      return statusFilePath();
    },
  };
  return service;
}
