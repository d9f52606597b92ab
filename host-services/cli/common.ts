/**
 * What every command shares: typed errors that map to exit codes, the
 * config flags' meaning (their parsing is commander's, in `command.ts`),
 * the -q/-v verbosity, terminal-aware output (colour only
 * on a TTY and never with NO_COLOR), and neutralising of text that came from
 * traffic so a hostile page cannot drive the operator's terminal.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { styleText } from 'node:util';

import { buildConfigInput, checkTrafficConfig, effectiveView, type ConfigOptions, type EffectiveView } from '../config.js';
import type { ConfigInput, ConfigReport } from '@clawsec/traffic-guardian/addon';

/** Exit codes, the same for every command. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  /** `scan`: findings; `status`: not running. Distinct so scripts can branch. */
  ATTENTION: 3,
} as const;

/** A wrong invocation: printed with the command's usage hint, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint = 'see --help',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the operator can fix: `error: <what> — <how to fix>`, exit 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: number = EXIT.ERROR,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Streams and environment a command runs with (injectable for in-process use). */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** -1 with -q/--quiet, 0 normally, 1+ with -v/--verbose (repeatable). */
  verbosity?: number;
}

/**
 * The verbosity asked for in `args` (before any `--`): -1 quiet, 0, or the
 * number of -v. Read once by the dispatcher so every command honours it.
 */
export function verbosityOf(args: readonly string[]): number {
  let v = 0;
  let q = false;
  for (const a of args) {
    if (a === '--') break;
    if (a === '-q' || a === '--quiet') q = true;
    else if (a === '--verbose') v++;
    else if (/^-v+$/.test(a)) v += a.length - 1;
  }
  if (q && v > 0) throw new UsageError('-q/--quiet and -v/--verbose contradict each other', 'pass one of them');
  return q ? -1 : v;
}

export function isQuiet(io: Io): boolean {
  return (io.verbosity ?? 0) < 0;
}

/** A detail for -v: `<what>` on stderr, only when verbose. */
export function verbose(io: Io, what: string, level = 1): void {
  if ((io.verbosity ?? 0) >= level) io.stderr.write(`${paint(colorEnabled(io.stderr, io.env)).dim(`verbose: ${what}`)}\n`);
}

/** A note for people (a summary, a hint): left out with -q. */
export function note(io: Io, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
  if (!isQuiet(io)) io[stream].write(text);
}

export function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Colour is for people: only on a TTY, never with NO_COLOR or TERM=dumb. */
export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}

type StyleFormat = Parameters<typeof styleText>[0];

export interface Paint {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  severity(sev: string, text?: string): string;
}

/**
 * Styles text with Node's `util.styleText` when `enabled`. Whether colour is
 * wanted is decided once, by `colorEnabled` for the stream actually written
 * (NO_COLOR, TERM=dumb, not a TTY), so styleText's own check of
 * `process.stdout` is turned off (`validateStream: false`; older Node 20
 * releases ignore the option and never check).
 */
export function paint(enabled: boolean): Paint {
  const wrap = (style: StyleFormat) => (s: string) => (enabled ? styleText(style, s, { validateStream: false }) : s);
  const p = {
    enabled,
    bold: wrap('bold'),
    dim: wrap('dim'),
    red: wrap('red'),
    yellow: wrap('yellow'),
    green: wrap('green'),
    cyan: wrap('cyan'),
    magenta: wrap('magenta'),
  };
  return {
    ...p,
    severity(sev: string, text = sev) {
      switch (sev) {
        case 'critical':
          return p.bold(p.magenta(text));
        case 'high':
          return p.red(text);
        case 'medium':
          return p.yellow(text);
        default:
          return p.cyan(text);
      }
    },
  };
}

/**
 * Makes a value from traffic safe to print: control characters (ESC, C1,
 * CR, …) become visible escapes so a snippet can neither move the cursor nor
 * recolour or retitle the terminal. Also bounds the length.
 */
export function safeText(value: unknown, max = 200): string {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) || c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      out += c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : `\\u{${c.toString(16)}}`;
    } else {
      out += ch;
    }
    if (out.length >= max) return `${out.slice(0, max - 1)}…`;
  }
  return out;
}

/** Prints `error: <what> — <how to fix>` on stderr. */
export function printError(io: Io, what: string, hint?: string): void {
  const p = paint(colorEnabled(io.stderr, io.env));
  io.stderr.write(`${p.red('error:')} ${what}${hint ? ` — ${hint}` : ''}\n`);
}

export function printWarning(io: Io, what: string, hint?: string): void {
  if (isQuiet(io)) return;
  const p = paint(colorEnabled(io.stderr, io.env));
  io.stderr.write(`${p.yellow('warning:')} ${what}${hint ? ` — ${hint}` : ''}\n`);
}

/** The `--config` and `--home` values of a command (see `withConfig`). */
export interface ConfigFlags {
  config?: string | undefined;
  home?: string | undefined;
}

/** The config layers a command asked for: `--config`, `--home`, plus `extra` overrides. */
export function configOptions(io: Io, values: ConfigFlags, extra: Record<string, unknown> = {}): ConfigOptions {
  const overrides: Record<string, unknown> = { ...extra };
  const home = values.home;
  if (home !== undefined) {
    if (home === '') throw new UsageError('--home needs a directory');
    overrides['home'] = home;
  }
  const opts: ConfigOptions = { env: io.env };
  const configPath = values.config;
  if (configPath !== undefined) {
    if (configPath === '') throw new UsageError('--config needs a file path');
    opts.configPath = configPath;
  }
  if (Object.keys(overrides).length > 0) opts.config = overrides;
  return opts;
}

export interface LoadedConfig {
  options: ConfigOptions;
  input: ConfigInput;
  report: ConfigReport;
  view: EffectiveView;
}

/** Validates the config (never starts anything). */
export function loadConfig(io: Io, values: ConfigFlags, extra: Record<string, unknown> = {}): LoadedConfig {
  const options = configOptions(io, values, extra);
  const report = checkTrafficConfig(options);
  return { options, input: buildConfigInput(options), report, view: effectiveView(report) };
}

/**
 * Like `loadConfig`, but a command that only needs paths (home, log dir)
 * fails with the validator's first error when the config is invalid.
 */
export function requirePaths(io: Io, values: ConfigFlags): LoadedConfig {
  const c = loadConfig(io, values);
  verbose(io, `home ${c.view.home || '(unresolved)'}, log_dir ${c.view.log_dir || '(unresolved)'}${c.options.configPath ? `, config ${c.options.configPath}` : ''}`);
  if (!c.report.ok || !c.view.home) {
    const first = c.report.errors[0];
    throw new CliError(
      first ? `invalid config: ${first.field}: ${first.message}` : 'the guardian home could not be resolved',
      first?.hint ? `${first.hint} (\`traffic-guardian check-config\` lists every issue)` : 'pass --home DIR or set NANOCLAW_TRAFFIC_GUARDIAN_HOME',
    );
  }
  return c;
}

/** The package version, read from package.json next to the build (no `__dirname`). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@clawsec/traffic-guardian' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // keep walking up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return 'unknown';
}

/** `1h 02m 03s` style. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(sec).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 10 ? 0 : 1)} ${units[i]}`;
}

/**
 * The terminal width tables must fit: `COLUMNS` when set, else the TTY's
 * width; undefined (no limit) when writing to a pipe or file.
 */
export function termWidth(io: Io): number | undefined {
  const env = io.env['COLUMNS'];
  if (env !== undefined && /^\d{1,4}$/.test(env) && Number(env) >= 20) return Number(env);
  return io.stdout.isTTY === true && typeof io.stdout.columns === 'number' && io.stdout.columns >= 20 ? io.stdout.columns : undefined;
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Left-aligned table with a header; cells are already safe text. With
 * `maxWidth`, the widest columns shrink (cells end in `…`) until every line
 * fits.
 */
export function table(headers: string[], rows: string[][], p: Paint, widths?: number[], maxWidth?: number): string {
  const visible = (s: string) => s.replace(ANSI, '').length;
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  if (widths) widths.forEach((max, i) => (w[i] = Math.min(w[i] ?? max, max)));
  if (maxWidth !== undefined && maxWidth > 0) {
    const floor = headers.map((h) => Math.min(Math.max(4, h.length), 10));
    let total = w.reduce((a, b) => a + b, 0) + 2 * (w.length - 1);
    while (total > maxWidth) {
      let widest = -1;
      w.forEach((x, j) => {
        if (x > (floor[j] ?? 4) && (widest < 0 || x > (w[widest] ?? 0))) widest = j;
      });
      if (widest < 0) break;
      w[widest] = (w[widest] ?? 1) - 1;
      total--;
    }
  }
  const fit = (s: string, i: number) => {
    const max = w[i] ?? 0;
    if (visible(s) <= max) return s;
    const plain = [...s.replace(ANSI, '')];
    return `${plain.slice(0, Math.max(0, max - 1)).join('')}…`;
  };
  const pad = (s: string, i: number) => s + ' '.repeat(Math.max(0, (w[i] ?? 0) - visible(s)));
  const lines = [p.bold(headers.map((h, i) => pad(fit(h, i), i)).join('  ').trimEnd())];
  for (const r of rows) lines.push(r.map((c, i) => (i === r.length - 1 ? fit(c, i) : pad(fit(c, i), i))).join('  ').trimEnd());
  return `${lines.join('\n')}\n`;
}

/** The candidate nearest to `value` (edit distance ≤ 2 or a shared prefix), for a "did you mean". */
export function nearest(value: string, candidates: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  const dist = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
    return prev[b.length] ?? Infinity;
  };
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = dist(v, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(v.length / 4))) return best;
  return candidates.find((c) => v.length >= 3 && (c.toLowerCase().startsWith(v) || v.startsWith(c.toLowerCase())));
}

/** ` — did you mean "x"?`-style hint text, or the fallback. */
export function didYouMean(value: string, candidates: readonly string[], fallback: string): string {
  const n = nearest(value, candidates);
  return n === undefined ? fallback : `did you mean ${JSON.stringify(n)}? ${fallback}`;
}

/** A progress line on stderr, only when stderr is a TTY. */
export function progress(io: Io): { update(text: string): void; done(): void } {
  const on = io.stderr.isTTY === true && !isQuiet(io);
  let last = 0;
  let shown = false;
  return {
    update(text: string) {
      if (!on) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      io.stderr.write(`\r\x1b[2K${text}`);
    },
    done() {
      if (on && shown) io.stderr.write('\r\x1b[2K');
    },
  };
}
