/**
 * Sends real HTTP requests through the guardian the way a container's
 * `HTTP_PROXY` client does: absolute-form request line to the proxy, with an
 * optional `Proxy-Authorization` for runtime attribution.
 */
import { request } from 'node:http';

export interface ProxiedResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface ProxyTarget {
  host: string;
  port: number;
  /** Runtime credentials, sent as Basic `<runtime>:<token>`. */
  auth?: { runtime: string; token: string };
}

/** Parses `http://[user:pass@]host:port` as wiring() produces it. */
export function proxyTargetFromUrl(proxyUrl: string): ProxyTarget {
  const u = new URL(proxyUrl);
  const target: ProxyTarget = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
  if (u.username) target.auth = { runtime: decodeURIComponent(u.username), token: decodeURIComponent(u.password) };
  return target;
}

export function proxiedRequest(
  proxy: ProxyTarget,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ProxiedResponse> {
  const target = new URL(url);
  const headers: Record<string, string> = { host: target.host, connection: 'close', ...(opts.headers ?? {}) };
  if (proxy.auth) {
    headers['proxy-authorization'] =
      'Basic ' + Buffer.from(`${proxy.auth.runtime}:${proxy.auth.token}`).toString('base64');
  }
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(
      { host: proxy.host, port: proxy.port, method: opts.method ?? 'GET', path: url, headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('proxied request timed out')));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Waits until `check` returns a truthy value or the time runs out (20 s by
 * default: callers expect the value, and 5 s was within reach of a loaded
 * 2-core CI box). */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
