/**
 * `traffic-guardian scan`: the proxy's scanner (same rules, decoding and
 * redaction, via the addon) on saved traffic — a body, a raw HTTP message or
 * a HAR capture — so captures can be checked offline and in CI.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

import { StreamScanner, httpMessageKind, parseHar, parseHttpMessage, scanMessage } from '@clawsec/traffic-guardian/addon';
import type { CapturedMessage, Finding, HarEntryMessages, StreamScanOptions } from '@clawsec/traffic-guardian/addon';

import { afterHelp, cliCommand, type OptionsOf, type Runner } from './command.js';
import { EXIT, CliError, UsageError, colorEnabled, formatBytes, note, paint, progress, safeText, type Io } from './common.js';
import { csvHeader, csvRow, listFormat, toSarif, type ListFormat } from './export.js';
import { findingLine } from './format.js';

/** The `scan` command line: options, help and typed values. */
export const scanCli = () =>
  cliCommand('scan', 'scan a saved body, raw HTTP message or HAR capture offline')
    .usage('[FILE|-] [--direction outbound|inbound] [--dest HOST:PORT] [--har] [--json|--format F] [--baseline FILE] [--max-scan-bytes SIZE]')
    .description(
      `Scans saved traffic offline with the same rules, decoding and redaction as
the proxy. Nothing is sent anywhere and nothing is stored.

Input (FILE, or stdin when FILE is - or absent):
  a raw HTTP/1.x message  first line "METHOD URL HTTP/1.1" (scanned as outbound)
                          or "HTTP/1.1 200 OK" (inbound); headers and body are
                          parsed, chunked and content-encoded bodies decoded
  a HAR capture           --har, or a .har file, or JSON with log.entries: each
                          entry's request is scanned outbound and its response
                          inbound, the destination taken from the URL
  anything else           scanned as a plain body; --direction is then required.
                          A file of any size is streamed in windows that
                          overlap as the proxy's do, so a secret is found
                          wherever it lies`,
    )
    .argument('[file]', 'the input file; - or nothing for stdin')
    .option(
      '-d, --direction <dir>',
      'outbound (EXFIL rules: secrets leaving) or inbound (INJECTION rules: payloads arriving); for HAR, scan only that side',
    )
    .option('--dest <host:port>', 'destination (decides expected destinations, e.g. an Anthropic key sent to api.anthropic.com:443 is normal)')
    .option('--har', 'treat the input as a HAR capture')
    .option('--format <format>', 'text (default), json (= --json), sarif (SARIF 2.1.0, for code-scanning dashboards) or csv')
    .option(
      '--json',
      'one finding per line (JSONL); when some bytes were not scanned, a last line {"scan_incomplete": {…}} gives bytes_scanned and bytes_unscanned',
    )
    .option(
      '--baseline <file>',
      'report only findings not in FILE, the --json output of an earlier scan (JSONL): a finding is known when its rule, direction, destination, location, decoding and redacted snippet are the same (new context around a known secret counts as new). Exit 3 only for new ones',
    )
    .option(
      '--max-scan-bytes <size>',
      'scan at most SIZE bytes of a body (512k, 64m, 2g); default: all of it, or NANOCLAW_TRAFFIC_GUARDIAN_MAX_SCAN_BYTES when set. What is left unscanned is reported on stderr',
    )
    .allowExcessArguments()
    .addHelpText(
      'after',
      afterHelp(`
Exit status: 0 no findings, 3 findings, 1 error, 2 usage error.

Examples:
  traffic-guardian scan request.txt
  traffic-guardian scan page.html --direction inbound --dest example.com:443
  traffic-guardian scan session.har --json | jq -r .pattern
  traffic-guardian scan session.har --format sarif > guardian.sarif
  traffic-guardian scan session.har --json > baseline.jsonl   # accept what is there now
  traffic-guardian scan session.har --baseline baseline.jsonl # later: only what is new
  pbpaste | traffic-guardian scan - --direction outbound --dest paste.example:443`),
    );

export type ScanOptions = OptionsOf<typeof scanCli>;

export const scanCommand = (run: Runner) => scanCli().action((_file, opts, cmd) => run((io) => runScan(cmd.args, opts, io)));

/** HTTP messages and HAR captures are parsed whole; bound them so a mistaken path cannot exhaust memory. Plain bodies are streamed and have no bound. */
const MAX_INPUT_BYTES = 512 * 1024 * 1024;
/** Bytes read from a file per window fed to the streaming scanner. */
const CHUNK_BYTES = 1024 * 1024;
/** Bytes looked at to tell a plain body from an HTTP message or a HAR capture. */
const SNIFF_BYTES = 64 * 1024;
const ENV_MAX_SCAN_BYTES = 'NANOCLAW_TRAFFIC_GUARDIAN_MAX_SCAN_BYTES';

/** A file opened for streaming, with its first bytes read for sniffing. */
interface OpenFile {
  fd: number;
  size: number;
  head: Buffer;
}

function openInput(file: string): OpenFile {
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new CliError(`${file} is a directory`, 'pass a file');
    const fd = openSync(file, 'r');
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
    const n = head.length > 0 ? readSync(fd, head, 0, head.length, 0) : 0;
    return { fd, size: st.size, head: head.subarray(0, n) };
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${file} does not exist`, 'check the path');
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function newScanner(opts: StreamScanOptions, limitFrom: string): StreamScanner {
  try {
    return new StreamScanner(opts);
  } catch (err) {
    throw new UsageError(`${limitFrom} ${(err as Error).message}`, 'e.g. --max-scan-bytes 64m, or leave it out to scan everything');
  }
}

/** What a streamed scan left out. */
interface Coverage {
  scanned: number;
  unscanned: number;
  why: string;
}

/** All of stdin. readFileSync(0) fails with EAGAIN on a non-blocking pipe that is not yet full (large inputs): wait and retry. */
function readStdin(): Buffer {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(CHUNK_BYTES);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      if (code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

function readInput(file: string | undefined): Buffer {
  if (file === undefined || file === '-') {
    if (process.stdin.isTTY) throw new UsageError('no input: pass a FILE, or pipe data and use -', 'traffic-guardian scan --help');
    try {
      return readStdin();
    } catch (err) {
      throw new CliError(`cannot read stdin: ${(err as Error).message}`);
    }
  }
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new CliError(`${file} is a directory`, 'pass a file');
    if (st.size > MAX_INPUT_BYTES) throw new CliError(`${file} is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`, 'split it, or scan a smaller capture');
    return readFileSync(file);
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${file} does not exist`, 'check the path');
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function scanParsed(m: CapturedMessage, dest: string | undefined, source: string | undefined): Finding[] {
  const d = dest ?? m.dest;
  return scanMessage({
    direction: m.direction,
    ...(d ? { dest: d } : {}),
    ...(source ? { source } : {}),
    ...(m.method ? { method: m.method } : {}),
    ...(m.url ? { url: m.url } : {}),
    ...(m.status !== undefined ? { status: m.status } : {}),
    headers: m.headers,
    body: m.body,
  });
}

export function runScan(positionals: string[], values: ScanOptions, io: Io): number {
  if (positionals.length > 1) throw new UsageError(`scan takes one input, got ${positionals.length}`, 'scan one file at a time, or cat them into -');
  const dirRaw = values.direction;
  const direction = dirRaw?.toLowerCase();
  if (direction !== undefined && direction !== 'outbound' && direction !== 'inbound') {
    throw new UsageError(`--direction ${JSON.stringify(dirRaw)} is not a direction`, 'use outbound (secrets leaving) or inbound (payloads arriving)');
  }
  const dest = values.dest;
  if (dest !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(dest)) {
    throw new UsageError(`--dest ${JSON.stringify(dest)} is not host:port`, 'e.g. --dest api.example.com:443');
  }
  const flagLimit = values.maxScanBytes;
  const envLimit = io.env[ENV_MAX_SCAN_BYTES]?.trim() || undefined;
  const limit = flagLimit ?? envLimit;
  const limitFrom = flagLimit !== undefined ? '--max-scan-bytes' : ENV_MAX_SCAN_BYTES;
  const limitOpt = limit !== undefined ? { max_scan_bytes: limit } : {};
  // Validate the limit before reading anything.
  if (limit !== undefined) newScanner({ direction: 'outbound', ...limitOpt }, limitFrom);
  const baselinePath = values.baseline;
  const baseline = baselinePath !== undefined ? loadBaseline(baselinePath) : undefined;
  const file = positionals[0];
  const out: Out = { fmt: listFormat(values), sarif: [], csvStarted: false, notes: [], ...(file !== undefined && file !== '-' ? { artifact: file } : {}) };
  const p = paint(colorEnabled(io.stdout, io.env));
  const fromFile = file !== undefined && file !== '-';
  let opened = fromFile ? openInput(file) : undefined;
  try {
    const sniff = opened ? opened.head : readInput(file);
    const harWanted = values.har === true || (file !== undefined && /\.har$/i.test(file));
    const jsonLike = sniff.length > 0 && (sniff[0] === 0x7b || sniff.subarray(0, 64).toString('utf8').trimStart().startsWith('{'));
    // JSON too large to parse whole is still scanned, as a plain body.
    if (opened && !harWanted && (!jsonLike || opened.size > MAX_INPUT_BYTES) && httpMessageKind(sniff) === null) {
      // A plain body: streamed, whatever its size.
      if (direction === undefined) {
        throw new UsageError(
          'a plain body needs --direction',
          'outbound for data leaving a container (secrets), inbound for data coming back (injection payloads)',
        );
      }
      return scanPlainFile(opened, safeText(file, 200), { direction, ...(dest ? { dest } : {}), ...limitOpt }, limitFrom, out, p, io, baseline);
    }
    const data = opened ? (opened.size > MAX_INPUT_BYTES ? readInput(file) : readRest(opened)) : sniff;
    return scanWhole(data, file, { direction: direction as 'outbound' | 'inbound' | undefined, dest, out, har: harWanted, limitOpt, limitFrom, baseline }, p, io);
  } finally {
    if (opened) closeSync(opened.fd);
    opened = undefined;
  }
}

/** The rest of an opened file after its sniffed head. */
function readRest(f: OpenFile): Buffer {
  if (f.head.length >= f.size) return f.head;
  const buf = Buffer.alloc(f.size);
  f.head.copy(buf);
  let off = f.head.length;
  while (off < f.size) {
    const n = readSync(f.fd, buf, off, f.size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

type Painter = ReturnType<typeof paint>;

/**
 * What identifies a finding across offline scans. Offline fingerprints are
 * keyed per process, so they cannot; the redacted snippet (which never
 * holds the secret) and where it was found can.
 */
export function baselineKey(f: Pick<Finding, 'pattern' | 'direction' | 'dest' | 'location' | 'snippet' | 'decoded'>): string {
  return JSON.stringify([f.pattern, f.direction, f.dest ?? '', f.location, f.decoded ?? '', f.snippet]);
}

/** A set of known findings and how many of this scan's were in it. */
export interface Baseline {
  keys: Set<string>;
  known: number;
}

/** Reads an earlier `scan --json` output (JSONL; non-finding lines such as scan_incomplete are skipped). */
export function loadBaseline(path: string): Baseline {
  let text: string;
  try {
    if (statSync(path).size > MAX_INPUT_BYTES) throw new CliError(`the baseline ${path} is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`, 'use the --json output of one scan');
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`the baseline ${path} does not exist`, 'create it with `traffic-guardian scan INPUT --json > FILE`');
    throw new CliError(`cannot read the baseline ${path}: ${(err as Error).message}`);
  }
  const keys = new Set<string>();
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new CliError(`the baseline ${path} line ${lineNo} is not JSON`, 'a baseline is the --json output of `traffic-guardian scan` (one finding per line)');
    }
    const f = v as Partial<Finding>;
    if (typeof f !== 'object' || f === null || typeof f.pattern !== 'string' || typeof f.snippet !== 'string') continue;
    keys.add(baselineKey(f as Finding));
  }
  return { keys, known: 0 };
}

/** Drops findings the baseline knows, counting them. */
function notInBaseline(list: Finding[], b: Baseline | undefined): Finding[] {
  if (!b) return list;
  return list.filter((f) => {
    if (!b.keys.has(baselineKey(f))) return true;
    b.known++;
    return false;
  });
}

function baselineNote(b: Baseline | undefined): string {
  return b && b.known > 0 ? ` (${b.known} more in the baseline)` : '';
}

/** Where findings go, by --format: streamed (text, json, csv) or collected for one document (sarif). */
interface Out {
  fmt: ListFormat;
  artifact?: string;
  sarif: Finding[];
  csvStarted: boolean;
  notes: string[];
}

function startCsv(out: Out, io: Io): void {
  if (out.fmt !== 'csv' || out.csvStarted) return;
  out.csvStarted = true;
  io.stdout.write(csvHeader());
}

/** Ends the output: the SARIF document, or a CSV header when nothing was found. */
function finishOut(out: Out, io: Io): void {
  startCsv(out, io);
  if (out.fmt === 'sarif') io.stdout.write(`${JSON.stringify(toSarif(out.sarif, { ...(out.artifact ? { artifact: out.artifact } : {}), notifications: out.notes }), null, 2)}\n`);
}

function writeFinding(f: Finding, out: Out, p: Painter, io: Io, context?: string): void {
  if (out.fmt === 'json') io.stdout.write(`${JSON.stringify(f)}\n`);
  else if (out.fmt === 'sarif') out.sarif.push(f);
  else if (out.fmt === 'csv') {
    startCsv(out, io);
    io.stdout.write(csvRow(f));
  } else io.stdout.write(`${context ? `${p.dim(context)} ` : ''}${findingLine(f, p)}\n`);
}

/** Says on stderr (and in --json, as a last line) what was not scanned. */
function reportCoverage(c: Coverage | undefined, out: Out, io: Io): void {
  if (!c || (c.unscanned <= 0 && c.why === '')) return;
  const left = c.unscanned > 0 ? `${formatBytes(c.unscanned)} (${c.unscanned} bytes)` : 'the rest';
  io.stderr.write(`warning: only the first ${formatBytes(c.scanned)} (${c.scanned} bytes) were scanned; ${left} not scanned: ${c.why}\n`);
  if (out.fmt === 'sarif') out.notes.push(`only the first ${c.scanned} bytes were scanned; ${c.unscanned} bytes not scanned: ${c.why}`);
  if (out.fmt === 'json') {
    io.stdout.write(`${JSON.stringify({ scan_incomplete: { bytes_scanned: c.scanned, bytes_unscanned: c.unscanned, reason: c.why } })}\n`);
  }
}

function coverageOf(sc: StreamScanner, total: number, limitFrom: string, encoded: boolean): Coverage | undefined {
  const st = sc.stats();
  if (st.decode_failed) return { scanned: st.scanned_bytes, unscanned: encoded ? 0 : Math.max(0, total - st.scanned_bytes), why: 'the content-encoding could not be decoded' };
  if (!st.truncated) return undefined;
  const why = encoded ? `the decoded body reached the limit (${limitFrom}, or the decoder's bound)` : `the limit was reached (${limitFrom}); raise it, or leave it out to scan everything`;
  return { scanned: st.scanned_bytes, unscanned: encoded ? 0 : Math.max(0, total - st.scanned_bytes), why };
}

function scanPlainFile(f: OpenFile, name: string, opts: StreamScanOptions, limitFrom: string, out: Out, p: Painter, io: Io, baseline?: Baseline): number {
  const sc = newScanner(opts, limitFrom);
  const bar = progress(io);
  let count = 0;
  const emit = (list: Finding[]) => {
    for (const x of notInBaseline(list, baseline)) {
      count++;
      writeFinding(x, out, p, io);
    }
  };
  try {
    emit(sc.feed(f.head));
    let off = f.head.length;
    const buf = Buffer.alloc(CHUNK_BYTES);
    while (off < f.size && !sc.stats().truncated) {
      const n = readSync(f.fd, buf, 0, Math.min(buf.length, f.size - off), off);
      if (n === 0) break;
      emit(sc.feed(buf.subarray(0, n)));
      off += n;
      if (f.size > 8 * CHUNK_BYTES) bar.update(`scanning ${name}… ${formatBytes(off)} of ${formatBytes(f.size)} (${Math.floor((off / f.size) * 100)}%)`);
    }
    emit(sc.finish());
  } finally {
    bar.done();
  }
  const cov = coverageOf(sc, f.size, limitFrom, false);
  reportCoverage(cov, out, io);
  finishOut(out, io);
  if (out.fmt === 'text') {
    const what = cov ? `the first ${formatBytes(cov.scanned)} of ${name}` : name;
    const adj = baseline ? 'new ' : '';
    note(io, `${count === 0 ? p.green(`no ${adj}findings in ${what}`) : p.bold(`${count} ${adj}finding${count === 1 ? '' : 's'} in ${what}`)}${baselineNote(baseline)}\n`);
  }
  return count > 0 ? EXIT.ATTENTION : EXIT.OK;
}

interface WholeOptions {
  direction: 'outbound' | 'inbound' | undefined;
  dest: string | undefined;
  out: Out;
  har: boolean;
  limitOpt: { max_scan_bytes?: string };
  limitFrom: string;
  baseline: Baseline | undefined;
}

/** Streams a body already in memory through the scanner, in windows. */
function streamBuffer(sc: StreamScanner, data: Buffer): Finding[] {
  const out: Finding[] = [];
  for (let off = 0; off < data.length && !sc.stats().truncated; off += CHUNK_BYTES) {
    out.push(...sc.feed(data.subarray(off, off + CHUNK_BYTES)));
  }
  out.push(...sc.finish());
  return out;
}

/** A saved HTTP message: its head as the proxy scans it, its body streamed. */
function scanHttp(m: CapturedMessage, dest: string | undefined, o: WholeOptions): { findings: Finding[]; coverage: Coverage | undefined } {
  const d = dest ?? m.dest;
  const head = scanParsed({ ...m, body: Buffer.alloc(0) }, dest, undefined);
  const header = (name: string): string | undefined => Object.entries(m.headers).find(([k]) => k.toLowerCase() === name)?.[1];
  const encoding = header('content-encoding');
  const type = header('content-type');
  const sc = newScanner(
    {
      direction: m.direction,
      protocol: 'http',
      location: 'body',
      ...(d ? { dest: d } : {}),
      ...(encoding ? { content_encoding: encoding } : {}),
      ...(type ? { content_type: type } : {}),
      ...o.limitOpt,
    },
    o.limitFrom,
  );
  const known = new Set(head.map((f) => `${f.pattern}\0${f.fingerprint}`));
  const body = streamBuffer(sc, m.body).filter((f) => !known.has(`${f.pattern}\0${f.fingerprint}`));
  return { findings: [...head, ...body], coverage: coverageOf(sc, m.body.length, o.limitFrom, encoding !== undefined) };
}

function scanWhole(data: Buffer, file: string | undefined, o: WholeOptions, p: Painter, io: Io): number {
  const { direction, dest, out } = o;

  const input = file === undefined || file === '-' ? 'stdin' : safeText(file, 200);
  // Raw HTTP and HAR are parsed by the addon (httparse, serde); a HAR error
  // says what is wrong and where (`is not valid JSON: … at line 3 column 7`).
  let entries: HarEntryMessages[] | undefined;
  if (o.har || (data.length > 0 && (data[0] === 0x7b || data.subarray(0, 64).toString('utf8').trimStart().startsWith('{')))) {
    try {
      entries = parseHar(data);
    } catch (err) {
      if (o.har) {
        const notHar = (err as { code?: unknown }).code === 'HAR_NOT_HAR';
        throw new CliError(`${notHar ? input : `the HAR capture ${input}`} ${(err as Error).message}`, notHar ? 'drop --har to scan it as a plain body' : 'export it again from the browser or proxy');
      }
    }
  }
  const har = entries !== undefined;

  const findings: Finding[] = [];
  const emit = (list: Finding[], context?: string) => {
    for (const f of notInBaseline(list, o.baseline)) {
      findings.push(f);
      writeFinding(f, out, p, io, context);
    }
  };
  let coverage: Coverage | undefined;

  let scanned = 0;
  if (entries !== undefined) {
    const bar = progress(io);
    try {
      for (const e of entries) {
        const ctx = `#${e.index + 1} ${safeText(e.method, 16)} ${safeText(dest ?? e.dest ?? '?', 80)}`;
        if (e.request && direction !== 'inbound') {
          emit(scanParsed(e.request, dest, `har#${e.index + 1}`), ctx);
          scanned++;
        }
        if (e.response && direction !== 'outbound') {
          emit(scanParsed(e.response, dest ?? e.dest, `har#${e.index + 1}`), ctx);
          scanned++;
        }
        bar.update(`scanning HAR entries… ${e.index + 1}/${entries.length}`);
      }
    } finally {
      bar.done();
    }
  } else if (httpMessageKind(data) !== null) {
    let m: CapturedMessage;
    try {
      m = parseHttpMessage(data);
    } catch (err) {
      throw new CliError(`cannot parse the HTTP message in ${input}: ${(err as Error).message}`, 'fix or remove that line');
    }
    if (direction !== undefined && direction !== m.direction) {
      io.stderr.write(`note: the input is an HTTP ${m.direction === 'outbound' ? 'request' : 'response'}; scanning it as ${direction} as asked\n`);
      m = { ...m, direction };
    }
    const r = scanHttp(m, dest, o);
    emit(r.findings);
    coverage = r.coverage;
    scanned = 1;
  } else {
    if (direction === undefined) {
      throw new UsageError(
        'a plain body needs --direction',
        'outbound for data leaving a container (secrets), inbound for data coming back (injection payloads)',
      );
    }
    const sc = newScanner({ direction, ...(dest ? { dest } : {}), ...o.limitOpt }, o.limitFrom);
    emit(streamBuffer(sc, data));
    coverage = coverageOf(sc, data.length, o.limitFrom, false);
    scanned = 1;
  }

  reportCoverage(coverage, out, io);
  finishOut(out, io);
  if (out.fmt === 'text') {
    const what = har ? `${scanned} HAR message${scanned === 1 ? '' : 's'}` : coverage ? `the scanned part of ${input}` : input;
    const adj = o.baseline ? 'new ' : '';
    const summary = findings.length === 0 ? p.green(`no ${adj}findings in ${what}`) : p.bold(`${findings.length} ${adj}finding${findings.length === 1 ? '' : 's'} in ${what}`);
    note(io, `${summary}${baselineNote(o.baseline)}\n`);
  }
  return findings.length > 0 ? EXIT.ATTENTION : EXIT.OK;
}
