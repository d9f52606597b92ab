// Round trip on a real NanoClaw v1 1.2.52 build after `nanoclaw apply`:
// proxy finding -> container MCP tool -> host IPC (NanoClaw's handler wiring) -> redacted answer.
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, unlinkSync, mkdirSync, chmodSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const home = mkdtempSync(join(tmpdir(), 'tg-v1rt-'));
chmodSync(home, 0o700);
writeFileSync(join(home, 'config.json'), JSON.stringify({ allow_private_destinations: ['127.0.0.1'] }), { mode: 0o600 });
process.env.NANOCLAW_TRAFFIC_GUARDIAN_HOME = home;
process.env.NANOCLAW_TRAFFIC_GUARDIAN_MODE = 'detect';
process.env.NANOCLAW_TRAFFIC_GUARDIAN_PROXY_URL = '127.0.0.1:0';

const nc = '/tmp/nc/v1';
const { trafficGuardian, wireTrafficContainer, handleTrafficTask } = await import(`${nc}/dist/traffic-guardian.js`);
const { DATA_DIR } = await import(`${nc}/dist/config.js`);
const { registerTrafficTools } = await import(`${nc}/container/agent-runner/node_modules/@clawsec/traffic-guardian/dist/mcp-tools/index.js`);

const origin = createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
await new Promise((r) => origin.listen(0, '127.0.0.1', r));
const port = origin.address().port;

const started = await trafficGuardian.start();
console.log('start:', started.started, started.info?.address);
const group = 'family_chat';
const oneCliToken = 'aoc_' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
const args = ['run', '-i', '--rm', '--name', 'nanoclaw-x', '-e', 'TZ=UTC', 'nanoclaw-agent:latest'];
const env = await wireTrafficContainer(args, group);
console.log('args:', args.join(' '));
console.log('env names:', Object.keys(env).join(','));

// A container request carrying a fake AWS key (generated now), plain HTTP through the proxy.
const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
let key = 'AKIA'; for (let i = 0; i < 16; i++) key += A[Math.floor(Math.random() * A.length)];
const proxy = new URL(env.HTTP_PROXY);
const auth = 'Basic ' + Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64');
const body = `aws_access_key_id=${key}`;
const status = await new Promise((resolve) => {
  const req = request({ host: '127.0.0.1', port: Number(proxy.port), method: 'POST', path: `http://127.0.0.1:${port}/upload`, headers: { host: `127.0.0.1:${port}`, 'proxy-authorization': auth, 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
  req.on('error', (e) => resolve(String(e)));
  req.end(body);
});
console.log('proxied status:', status);
for (let i = 0; i < 100 && trafficGuardian.findings().findings.length === 0; i++) await new Promise((r) => setTimeout(r, 50));

// Emulate NanoClaw's IPC watcher for this group: tasks/*.json -> processTaskIpc's new case.
const ipc = join(DATA_DIR, 'ipc', group);
mkdirSync(join(ipc, 'tasks'), { recursive: true });
const watcher = setInterval(async () => {
  for (const f of readdirSync(join(ipc, 'tasks')).filter((n) => n.endsWith('.json'))) {
    const p = join(ipc, 'tasks', f);
    const data = JSON.parse(readFileSync(p, 'utf8'));
    unlinkSync(p);
    await handleTrafficTask(data, group, false);
  }
}, 100);

// The container tool, registered as NanoClaw's ipc-mcp-stdio.ts does, on a stand-in server.
const tools = new Map();
registerTrafficTools({ registerTool: (name, _def, cb) => tools.set(name, cb) }, { tasksDir: join(ipc, 'tasks'), resultsDir: join(ipc, 'clawsec_results') });
const out = await tools.get('clawsec_traffic_findings')({}, {});
clearInterval(watcher);
const text = out.content.map((c) => c.text).join('\n');
console.log('tool answer:\n' + text.split('\n').slice(0, 12).join('\n'));
const all = JSON.stringify(out);
console.log('finding reached the tool:', /aws/i.test(all));
console.log('AWS key absent from the answer:', !all.includes(key) && !all.includes(key.slice(4)));
console.log('OneCLI token absent from args and answer:', !args.join(' ').includes(oneCliToken) && !all.includes(oneCliToken));
await trafficGuardian.stop();
origin.close();
