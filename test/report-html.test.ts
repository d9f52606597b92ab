/**
 * `report --format html --out FILE` through the real CLI, opened in a real
 * headless Chromium (Debian's package; `.ci/run` installs it): the page
 * renders (its DOM has the timeline and the counts), logs nothing to the
 * console (a negative control proves console errors are seen), and its
 * screenshot is a real, non-uniform image. Statically: one self-contained
 * file, no script, nothing loaded from anywhere, traffic text escaped, no
 * secret.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { fakeAwsAccessKeyId, findLeaks } from './helpers/secrets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'host-services', 'cli', 'main.js');
const AWS = fakeAwsAccessKeyId();

const tmp = mkdtempSync(join(tmpdir(), 'tg-html-'));
const HOME = join(tmp, 'home');
const LOGS = join(tmp, 'logs');
mkdirSync(LOGS, { recursive: true });

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp, NANOCLAW_TRAFFIC_GUARDIAN_HOME: HOME, NANOCLAW_TRAFFIC_GUARDIAN_LOG_DIR: LOGS },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Findings from the real scanner (fake secret), spread over a day, with hostile text in a snippet. */
function seed(): number {
  const req = join(tmp, 'req.http');
  writeFileSync(req, `POST http://collector.example/up HTTP/1.1\r\nHost: collector.example\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ aws_access_key_id: AWS })}`);
  const [base] = run(['scan', req, '--json']).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const now = Date.now();
  const sev = ['low', 'medium', 'high', 'critical'];
  const lines: string[] = [];
  for (let i = 0; i < 30; i++) {
    lines.push(
      JSON.stringify({
        ...base,
        id: `tgf_${(0x1000 + i).toString(16).padStart(16, '0')}`,
        severity: sev[i % 4],
        source: `group-${i % 3}`,
        dest: `host${i % 4}.example:443`,
        snippet: i === 3 ? `<img src=x onerror=alert(1)> ${String(base?.['snippet'])}` : base?.['snippet'],
        count: 1 + (i % 3),
        timestamp: new Date(now - i * 40 * 60_000).toISOString(),
      }),
    );
  }
  writeFileSync(join(LOGS, 'findings.jsonl'), `${lines.join('\n')}\n`);
  return lines.length;
}

function findChromium(): string | undefined {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

/** Headless Chromium on a local file, with a fresh profile and no network. */
function chromium(bin: string, file: string, extra: string[]): { stdout: string; stderr: string; code: number | null } {
  const profile = mkdtempSync(join(tmp, 'profile-'));
  const r = spawnSync(
    bin,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--no-default-browser-check',
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      '--window-size=1200,1400',
      ...extra,
      pathToFileURL(file).href,
    ],
    { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp } },
  );
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

/** Console messages Chromium logged (`INFO:CONSOLE…] "…"`). */
function consoleLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l));
}

/** Decodes a PNG's pixel rows (zlib) and counts distinct byte values: a blank image has one or two. */
function pngStats(path: string): { width: number; height: number; distinct: number } {
  const buf = readFileSync(path);
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('ascii');
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  const seen = new Set<number>();
  for (let i = 0; i < pixels.length && seen.size < 256; i += 7) seen.add(pixels[i] ?? 0);
  return { width, height, distinct: seen.size };
}

describe('report --format html', () => {
  const total = seed();
  const out = join(tmp, 'report.html');
  const r = run(['report', '--format', 'html', '--out', out, '--since', '2d']);

  it('writes one self-contained, owner-only file that loads nothing and escapes traffic text', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`wrote ${out} (${total} findings)`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|@import|url\(/i);
    expect(html).not.toMatch(/\s(src|href)=["']?(https?:|\/\/)/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('<svg');
    for (const section of ['Timeline', 'By severity', 'By rule', 'By destination', 'By group (source)', 'Top findings']) expect(html).toContain(`<h2>${section}</h2>`);
    expect(findLeaks(html, [AWS])).toEqual([]);
    expect(run(['report', '--format', 'htm']).stderr).toContain('did you mean "html"');
  });

  const bin = findChromium();
  const required = process.env['TG_REQUIRE_CHROMIUM'] === '1';
  it.runIf(bin !== undefined || required)('renders in headless Chromium with no console message and a non-empty screenshot', () => {
    expect(bin, 'chromium is not installed (.ci/run installs it with apt-get)').toBeDefined();
    const chrome = bin ?? 'chromium';
    // Negative control: a page whose inline script the CSP blocks logs a console error we can see.
    const bad = join(tmp, 'control.html');
    writeFileSync(bad, `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><script>1</script></body></html>`);
    expect(consoleLines(chromium(chrome, bad, ['--dump-dom']).stderr).length).toBeGreaterThan(0);

    const dom = chromium(chrome, out, ['--dump-dom']);
    expect(dom.code).toBe(0);
    expect(dom.stdout).toContain('<svg');
    expect(dom.stdout).toContain(`<div class="v" id="total-findings">${total}</div>`);
    expect(consoleLines(dom.stderr)).toEqual([]);

    const shot = join(tmp, 'report.png');
    const s = chromium(chrome, out, [`--screenshot=${shot}`]);
    expect(s.code).toBe(0);
    expect(consoleLines(s.stderr)).toEqual([]);
    expect(existsSync(shot)).toBe(true);
    const st = pngStats(shot);
    expect(st.width).toBe(1200);
    expect(st.height).toBeGreaterThan(100);
    expect(st.distinct).toBeGreaterThan(16);
  });
});
