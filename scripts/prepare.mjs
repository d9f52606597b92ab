#!/usr/bin/env node
// npm's `prepare` hook. `npm install` / `npm ci` in a clone builds the addon
// and the TypeScript (so the README's `npm install && npm start` works from a
// fresh clone). `npm pack` and `npm publish` run `prepare` too, but a release
// packs what CI already built for every target (`napi artifacts`), so they
// only check that the built files are there and never start a Rust build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const command = process.env.npm_command ?? '';

if (command === 'pack' || command === 'publish') {
  const needed = ['index.js', 'index.d.ts', 'addon.js', 'addon.d.ts', 'dist/host-services/index.js', 'dist/mcp-tools/index.js', 'dist/host-services/cli/main.js'];
  const missing = needed.filter((f) => !existsSync(join(root, f)));
  if (missing.length > 0) {
    console.error(
      `prepare: npm ${command} packs prebuilt files and does not build; missing ${missing.join(', ')}. ` +
        'Run `npm run build` first (a release build runs it in CI before `napi prepublish`).',
    );
    process.exit(1);
  }
  console.error(`prepare: npm ${command}: packing the existing build (no rebuild)`);
  process.exit(0);
}

const res = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (res.error) {
  console.error(`prepare: could not run \`npm run build\`: ${res.error.message}`);
  process.exit(1);
}
process.exit(res.status ?? 1);
