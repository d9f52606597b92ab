/**
 * A real HTTP server on 127.0.0.1 that stands in for "the internet": it
 * records what arrives (so tests can prove the proxy forwarded bytes
 * unchanged) and answers with whatever body the test asks for.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  port: number;
  /** `127.0.0.1:<port>` */
  authority: string;
  url(path?: string): string;
  received: ReceivedRequest[];
  /** Sets what `GET /respond` (or any path registered) returns. */
  respondWith(path: string, body: string, contentType?: string): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const received: ReceivedRequest[] = [];
  const responses = new Map<string, { body: string; contentType: string }>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const r = responses.get(path);
      if (r) {
        res.writeHead(200, { 'content-type': r.contentType });
        res.end(r.body);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      }
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    authority: `127.0.0.1:${port}`,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    received,
    respondWith(path, body, contentType = 'text/plain') {
      responses.set(path, { body, contentType });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
