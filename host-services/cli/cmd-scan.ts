/**
 * `traffic-guardian scan`: the proxy's scanner (same rules, decoding and
 * redaction, via the addon) on saved traffic — a body, a raw HTTP message or
 * a HAR capture — so captures can be checked offline and in CI.
 */
import { readFileSync, statSync } from 'node:fs';

import { scanMessage, scanText } from '@clawsec/traffic-guardian/addon';
import type { Finding } from '@clawsec/traffic-guardian/addon';

import { EXIT, CliError, UsageError, colorEnabled, optBool, optString, paint, parse, progress, safeText, type Io } from './common.js';
import { findingLine } from './format.js';
import { harEntries, isHar, looksLikeHttp, parseRawHttp, type ParsedMessage } from './http-input.js';

export const SCAN_HELP = `Usage: traffic-guardian scan [FILE|-] [--direction outbound|inbound] [--dest HOST:PORT] [--har] [--json]

Scans saved traffic offline with the same rules, decoding and redaction as
the proxy. Nothing is sent anywhere and nothing is stored.

Input (FILE, or stdin when FILE is - or absent):
  a raw HTTP/1.x message  first line "METHOD URL HTTP/1.1" (scanned as outbound)
                          or "HTTP/1.1 200 OK" (inbound); headers and body are
                          parsed, chunked and content-encoded bodies decoded
  a HAR capture           --har, or a .har file, or JSON with log.entries: each
                          entry's request is scanned outbound and its response
                          inbound, the destination taken from the URL
  anything else           scanned as a plain body; --direction is then required

Options:
  -d, --direction DIR   outbound (EXFIL rules: secrets leaving) or inbound
                        (INJECTION rules: payloads arriving); for HAR, scan
                        only that side
      --dest HOST:PORT  destination (decides expected destinations, e.g. an
                        Anthropic key sent to api.anthropic.com:443 is normal)
      --har             treat the input as a HAR capture
      --json            one finding per line (JSONL)
  -h, --help            show this help

Exit status: 0 no findings, 3 findings, 1 error, 2 usage error.

Examples:
  traffic-guardian scan request.txt
  traffic-guardian scan page.html --direction inbound --dest example.com:443
  traffic-guardian scan session.har --json | jq -r .pattern
  pbpaste | traffic-guardian scan - --direction outbound --dest paste.example:443
`;

/** Inputs are read whole; bound them so a mistaken path cannot exhaust memory. */
const MAX_INPUT_BYTES = 512 * 1024 * 1024;

function readInput(file: string | undefined): Buffer {
  if (file === undefined || file === '-') {
    if (process.stdin.isTTY) throw new UsageError('no input: pass a FILE, or pipe data and use -', 'traffic-guardian scan --help');
    try {
      return readFileSync(0);
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

function scanParsed(m: ParsedMessage, dest: string | undefined, source: string | undefined): Finding[] {
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

export function runScan(args: string[], io: Io): number {
  const { values, positionals } = parse(
    args,
    { direction: { type: 'string', short: 'd' }, dest: { type: 'string' }, har: { type: 'boolean' }, json: { type: 'boolean' } },
    true,
  );
  if (optBool(values, 'help')) {
    io.stdout.write(SCAN_HELP);
    return EXIT.OK;
  }
  if (positionals.length > 1) throw new UsageError(`scan takes one input, got ${positionals.length}`, 'scan one file at a time, or cat them into -');
  const dirRaw = optString(values, 'direction');
  const direction = dirRaw?.toLowerCase();
  if (direction !== undefined && direction !== 'outbound' && direction !== 'inbound') {
    throw new UsageError(`--direction ${JSON.stringify(dirRaw)} is not a direction`, 'use outbound (secrets leaving) or inbound (payloads arriving)');
  }
  const dest = optString(values, 'dest');
  if (dest !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(dest)) {
    throw new UsageError(`--dest ${JSON.stringify(dest)} is not host:port`, 'e.g. --dest api.example.com:443');
  }
  const file = positionals[0];
  const json = optBool(values, 'json');
  const data = readInput(file);
  const p = paint(colorEnabled(io.stdout, io.env));

  let har = optBool(values, 'har') || (file !== undefined && /\.har$/i.test(file));
  let doc: unknown;
  if (har || (data.length > 0 && (data[0] === 0x7b || data.subarray(0, 64).toString('utf8').trimStart().startsWith('{')))) {
    try {
      doc = JSON.parse(data.toString('utf8'));
    } catch (err) {
      if (har) throw new CliError(`the HAR capture is not valid JSON: ${(err as Error).message}`, 'export it again from the browser or proxy');
    }
    if (doc !== undefined && isHar(doc)) har = true;
    else if (har) throw new CliError('the input is JSON but not a HAR capture (no log.entries)', 'drop --har to scan it as a plain body');
  }

  const findings: Finding[] = [];
  const emit = (list: Finding[], context?: string) => {
    for (const f of list) {
      findings.push(f);
      if (json) io.stdout.write(`${JSON.stringify(f)}\n`);
      else io.stdout.write(`${context ? `${p.dim(context)} ` : ''}${findingLine(f, p)}\n`);
    }
  };

  let scanned = 0;
  if (har) {
    const entries = harEntries(doc);
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
  } else if (looksLikeHttp(data)) {
    let m: ParsedMessage;
    try {
      m = parseRawHttp(data);
    } catch (err) {
      throw new CliError(`cannot parse the HTTP message: ${(err as Error).message}`, 'pass --direction to scan it as a plain body');
    }
    if (direction !== undefined && direction !== m.direction) {
      io.stderr.write(`note: the input is an HTTP ${m.direction === 'outbound' ? 'request' : 'response'}; scanning it as ${direction} as asked\n`);
      m = { ...m, direction };
    }
    emit(scanParsed(m, dest, undefined));
    scanned = 1;
  } else {
    if (direction === undefined) {
      throw new UsageError(
        'a plain body needs --direction',
        'outbound for data leaving a container (secrets), inbound for data coming back (injection payloads)',
      );
    }
    emit(scanText(data, { direction, ...(dest ? { dest } : {}) }));
    scanned = 1;
  }

  if (!json) {
    const what = har ? `${scanned} HAR message${scanned === 1 ? '' : 's'}` : file === undefined || file === '-' ? 'stdin' : safeText(file, 200);
    const summary = findings.length === 0 ? p.green(`no findings in ${what}`) : p.bold(`${findings.length} finding${findings.length === 1 ? '' : 's'} in ${what}`);
    io.stdout.write(`${summary}\n`);
  }
  return findings.length > 0 ? EXIT.ATTENTION : EXIT.OK;
}
