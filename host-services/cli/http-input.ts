/**
 * Turns saved traffic into the messages the addon's scanner takes: a raw
 * HTTP/1.x request or response (as copied from a proxy log or `curl -v`), or
 * every entry of a HAR capture. Parsing is lenient — the point is to scan
 * what is there — and never evaluates anything.
 */

/** What `scanMessage` accepts (minus the fields the caller sets). */
export interface ParsedMessage {
  direction: 'outbound' | 'inbound';
  method?: string;
  url?: string;
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
  /** `host:port` derived from the request, when it says. */
  dest?: string;
}

const REQUEST_LINE = /^([A-Z][A-Z0-9_-]{1,19}) (\S+) HTTP\/\d(?:\.\d)?$/;
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})(?: .*)?$/;

/** Whether the bytes start like an HTTP/1.x message. */
export function looksLikeHttp(data: Buffer): 'request' | 'response' | undefined {
  const end = data.indexOf(0x0a);
  const first = data.subarray(0, end === -1 ? Math.min(data.length, 8192) : Math.min(end, 8192)).toString('latin1').replace(/\r$/, '');
  if (REQUEST_LINE.test(first)) return 'request';
  if (STATUS_LINE.test(first)) return 'response';
  return undefined;
}

/** `host:port` of an absolute URL, with the scheme's default port. */
export function destFromUrl(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (!u.hostname) return undefined;
    const port = u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80');
    return `${u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

function destFromHost(host: string, defaultPort: string): string | undefined {
  const h = host.trim();
  if (!h || /[\s/@]/.test(h)) return undefined;
  if (/^\[[^\]]+\]:\d+$/.test(h) || /^[^:]+:\d+$/.test(h)) return h;
  if (/^\[[^\]]+\]$/.test(h) || /^[^:]+$/.test(h)) return `${h}:${defaultPort}`;
  return undefined;
}

function addHeader(headers: Record<string, string>, name: string, value: string): void {
  const k = name.trim().toLowerCase();
  if (!k) return;
  const prev = headers[k];
  headers[k] = prev === undefined ? value : `${prev}${k === 'cookie' ? '; ' : ', '}${value}`;
}

/** Decodes `Transfer-Encoding: chunked`; undefined when malformed. */
function dechunk(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const nl = body.indexOf(0x0a, pos);
    if (nl === -1) return undefined;
    const sizeLine = body.subarray(pos, nl).toString('latin1').replace(/\r$/, '').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeLine)) return undefined;
    const size = parseInt(sizeLine, 16);
    pos = nl + 1;
    if (size === 0) return Buffer.concat(parts);
    if (pos + size > body.length) {
      parts.push(body.subarray(pos));
      return Buffer.concat(parts);
    }
    parts.push(body.subarray(pos, pos + size));
    pos += size;
    if (body[pos] === 0x0d) pos++;
    if (body[pos] === 0x0a) pos++;
  }
  return undefined;
}

/** Parses one raw HTTP/1.x message. */
export function parseRawHttp(data: Buffer): ParsedMessage {
  let headEnd = data.indexOf('\r\n\r\n');
  let sepLen = 4;
  const lf = data.indexOf('\n\n');
  if (headEnd === -1 || (lf !== -1 && lf < headEnd)) {
    headEnd = lf;
    sepLen = 2;
  }
  const head = (headEnd === -1 ? data : data.subarray(0, headEnd)).toString('latin1');
  let body = headEnd === -1 ? Buffer.alloc(0) : data.subarray(headEnd + sepLen);
  const lines = head.split(/\r?\n/);
  const first = lines.shift() ?? '';
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      headers[last] = `${headers[last] ?? ''} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    addHeader(headers, last, line.slice(colon + 1).trim());
  }
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
    const decoded = dechunk(body);
    if (decoded) {
      body = decoded;
      delete headers['transfer-encoding'];
    }
  }
  const req = REQUEST_LINE.exec(first);
  if (req) {
    const method = req[1] ?? 'GET';
    const target = req[2] ?? '/';
    let url = target;
    let dest = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? destFromUrl(target) : undefined;
    if (!dest && headers['host']) {
      dest = destFromHost(headers['host'], '80');
      if (dest && target.startsWith('/')) url = `http://${headers['host'].trim()}${target}`;
    }
    return { direction: 'outbound', method, url, headers, body, ...(dest ? { dest } : {}) };
  }
  const res = STATUS_LINE.exec(first);
  if (res) return { direction: 'inbound', status: Number(res[1]), headers, body };
  throw new Error('not an HTTP/1.x message (first line is neither a request line nor a status line)');
}

interface HarHeader {
  name?: unknown;
  value?: unknown;
}

/** HAR bodies are stored decoded: drop the framing headers that would make the scanner decode them again. */
const HAR_DROP_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding']);

function harHeaders(list: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!Array.isArray(list)) return headers;
  for (const h of list as HarHeader[]) {
    if (!h || typeof h.name !== 'string' || typeof h.value !== 'string') continue;
    if (h.name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    if (HAR_DROP_HEADERS.has(h.name.toLowerCase())) continue;
    addHeader(headers, h.name, h.value);
  }
  return headers;
}

function harText(text: unknown, encoding: unknown): Buffer {
  if (typeof text !== 'string') return Buffer.alloc(0);
  return encoding === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
}

export interface HarEntryMessages {
  index: number;
  method: string;
  dest?: string;
  request?: ParsedMessage;
  response?: ParsedMessage;
}

/** Whether parsed JSON is a HAR document. */
export function isHar(doc: unknown): boolean {
  const log = (doc as { log?: { entries?: unknown } } | null)?.log;
  return typeof log === 'object' && log !== null && Array.isArray(log.entries);
}

/** Each HAR entry as an outbound request and an inbound response. */
export function harEntries(doc: unknown): HarEntryMessages[] {
  if (!isHar(doc)) throw new Error('not a HAR capture (no log.entries array)');
  const entries = (doc as { log: { entries: unknown[] } }).log.entries;
  return entries.map((e, index) => {
    const entry = (e ?? {}) as Record<string, unknown>;
    const rq = (entry['request'] ?? {}) as Record<string, unknown>;
    const rs = entry['response'] as Record<string, unknown> | undefined;
    const url = typeof rq['url'] === 'string' ? rq['url'] : undefined;
    const method = typeof rq['method'] === 'string' ? rq['method'] : 'GET';
    const dest = url ? destFromUrl(url) : undefined;
    const out: HarEntryMessages = { index, method, ...(dest ? { dest } : {}) };
    const post = (rq['postData'] ?? {}) as Record<string, unknown>;
    let reqBody = harText(post['text'], post['encoding']);
    if (reqBody.length === 0 && Array.isArray(post['params'])) {
      const form = new URLSearchParams();
      for (const p of post['params'] as HarHeader[]) if (p && typeof p.name === 'string') form.append(p.name, typeof p.value === 'string' ? p.value : '');
      reqBody = Buffer.from(form.toString(), 'utf8');
    }
    out.request = { direction: 'outbound', method, ...(url ? { url } : {}), headers: harHeaders(rq['headers']), body: reqBody, ...(dest ? { dest } : {}) };
    if (rs && typeof rs === 'object') {
      const content = (rs['content'] ?? {}) as Record<string, unknown>;
      const status = typeof rs['status'] === 'number' && rs['status'] > 0 ? rs['status'] : undefined;
      out.response = { direction: 'inbound', ...(status ? { status } : {}), headers: harHeaders(rs['headers']), body: harText(content['text'], content['encoding']) };
    }
    return out;
  });
}
