/**
 * The CLI's pure helpers: raw HTTP and HAR parsing for `scan` (in the addon,
 * on httparse and serde), the terminal neutraliser, and time flags. The spawned-binary tests cover the commands.
 */
import { describe, expect, it } from 'vitest';

import { httpMessageKind, parseHar, parseHttpMessage } from '@clawsec/traffic-guardian/addon';

import { colorEnabled, paint, safeText } from '../host-services/cli/common.js';
import { checkTime } from '../host-services/cli/store.js';

describe('raw HTTP parsing', () => {
  it('recognises request and status lines only', () => {
    expect(httpMessageKind(Buffer.from('GET /x HTTP/1.1\r\nHost: a\r\n\r\n'))).toBe('request');
    expect(httpMessageKind(Buffer.from('HTTP/1.0 404 Not Found\n\n'))).toBe('response');
    expect(httpMessageKind(Buffer.from('GET is a verb\n'))).toBeNull();
    expect(httpMessageKind(Buffer.from('{"log":{}}'))).toBeNull();
  });

  it('parses an origin-form request with folded and repeated headers', () => {
    const m = parseHttpMessage(Buffer.from('POST /api?q=1 HTTP/1.1\r\nHost: api.example:8443\r\nX-A: one\r\n two\r\nCookie: a=1\r\nCookie: b=2\r\n\r\nbody'));
    expect(m).toMatchObject({ direction: 'outbound', method: 'POST', url: 'http://api.example:8443/api?q=1', dest: 'api.example:8443' });
    expect(m.headers).toMatchObject({ 'x-a': 'one two', cookie: 'a=1; b=2', host: 'api.example:8443' });
    expect(m.body.toString()).toBe('body');
  });

  it('takes the destination from an absolute URL with the scheme port', () => {
    expect(parseHttpMessage(Buffer.from('GET https://h.example/p HTTP/1.1\n\n')).dest).toBe('h.example:443');
    expect(parseHttpMessage(Buffer.from('GET http://[::1]:81/ HTTP/1.1\n\n')).dest).toBe('[::1]:81');
    expect(parseHttpMessage(Buffer.from('GET not-a-url HTTP/1.1\n\n')).dest).toBeUndefined();
  });

  it('decodes a chunked body and drops transfer-encoding', () => {
    const m = parseHttpMessage(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n'));
    expect(m).toMatchObject({ direction: 'inbound', status: 200 });
    expect(m.body.toString()).toBe('hello world');
    expect(m.headers['transfer-encoding']).toBeUndefined();
  });

  it('keeps a malformed chunked body as it is', () => {
    const m = parseHttpMessage(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot chunked at all'));
    expect(m.body.toString()).toBe('not chunked at all');
  });

  it('says which line is wrong, and what', () => {
    expect(() => parseHttpMessage(Buffer.from('hello'))).toThrow(/not an HTTP\/1\.x message/);
    expect(() => parseHttpMessage(Buffer.from('GET / HTTP/1.1\r\nA: 1\r\nB: x\0y\r\n\r\n'))).toThrow(/^line 3 \(a header\): invalid header value/);
  });

  it('keeps body bytes exactly (binary, gzip)', () => {
    const body = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x00]);
    const m = parseHttpMessage(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n'), body]));
    expect(m.body.equals(body)).toBe(true);
    expect(m.headers['content-encoding']).toBe('gzip');
  });
});

describe('HAR parsing', () => {
  it('maps entries to an outbound request and an inbound response', () => {
    const har = {
      log: {
        entries: [
          {
            request: {
              method: 'POST',
              url: 'https://a.example/x',
              headers: [{ name: ':authority', value: 'a.example' }, { name: 'Content-Encoding', value: 'gzip' }, { name: 'X-K', value: 'v' }],
              postData: { params: [{ name: 'k', value: 'v w' }] },
            },
            response: { status: 201, headers: [{ name: 'Content-Length', value: '3' }], content: { text: Buffer.from('hey').toString('base64'), encoding: 'base64' } },
          },
          { request: { url: 'http://b.example:8080/' } },
          null,
        ],
      },
    };
    const [a, b, c] = parseHar(Buffer.from(JSON.stringify(har)));
    expect(a?.dest).toBe('a.example:443');
    expect(a?.request).toMatchObject({ direction: 'outbound', method: 'POST', headers: { 'x-k': 'v' } });
    // HAR bodies are stored decoded: content-encoding would make the scanner decode twice.
    expect(a?.request?.headers['content-encoding']).toBeUndefined();
    expect(a?.request?.headers[':authority']).toBeUndefined();
    expect(a?.request?.body.toString()).toBe('k=v+w');
    expect(a?.response).toMatchObject({ direction: 'inbound', status: 201 });
    expect(a?.response?.body.toString()).toBe('hey');
    expect(a?.response?.headers['content-length']).toBeUndefined();
    expect(b).toMatchObject({ method: 'GET', dest: 'b.example:8080' });
    expect(b?.response).toBeUndefined();
    expect(c?.request?.body.length).toBe(0);
    expect(() => parseHar(Buffer.from('{"log":{}}'))).toThrow(/not a HAR/);
    expect(() => parseHar(Buffer.from('{"log":{}}'))).toThrow(expect.objectContaining({ code: 'HAR_NOT_HAR' }));
    expect(() => parseHar(Buffer.from('{"log":\n['))).toThrow(/not valid JSON: .* line 2 column/);
  });
});

describe('safeText', () => {
  it('neutralises terminal control characters and bidi overrides', () => {
    expect(safeText('a\x1b[2Jb\x07c\rd\ne\u202ef\u009bg')).toBe('a\\u{1b}[2Jb\\u{7}c\\rd\\ne\\u{202e}f\\u{9b}g');
    expect(safeText('plain → ünïcode ✓')).toBe('plain → ünïcode ✓');
    expect(safeText('x'.repeat(500), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(safeText(undefined)).toBe('');
  });
});

describe('time flags', () => {
  it('accepts ages and ISO times, rejects the rest', () => {
    expect(checkTime('--since', '15m')).toBe('15m');
    expect(checkTime('--since', '2w')).toBe('14d');
    expect(checkTime('--since', '2026-01-31T12:00:00+01:00')).toBe('2026-01-31T11:00:00.000Z');
    expect(() => checkTime('--since', 'yesterday')).toThrow(/not a time/);
    expect(() => checkTime('--since', '1y')).toThrow(/not a time/);
  });
});

describe('colour (util.styleText behind our own TTY / NO_COLOR decision)', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;

  it('is on only for a TTY without NO_COLOR or TERM=dumb', () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('writes the same SGR codes whatever process.stdout is, and nothing when off', () => {
    const on = paint(true);
    expect(on.bold('a')).toBe('\x1b[1ma\x1b[22m');
    expect(on.dim('a')).toBe('\x1b[2ma\x1b[22m');
    expect(on.red('a')).toBe('\x1b[31ma\x1b[39m');
    expect(on.severity('critical', 'c')).toBe('\x1b[1m\x1b[35mc\x1b[39m\x1b[22m');
    expect(on.severity('low', 'l')).toBe('\x1b[36ml\x1b[39m');
    const off = paint(false);
    expect(off.severity('critical', 'c') + off.bold('b') + off.green('g')).toBe('cbg');
  });
});
