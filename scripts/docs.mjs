#!/usr/bin/env node
// Regenerates the README's rule table from the rule registry (the CLI's
// `rules --markdown`), so the documentation cannot drift from the rules.
// `--check` exits 1 instead of writing when the README is stale.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readmePath = `${root}README.md`;
const START = '<!-- rules:start -->';
const END = '<!-- rules:end -->';

export function renderReadme(readme, table) {
  const s = readme.indexOf(START);
  const e = readme.indexOf(END);
  if (s < 0 || e < s) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, s + START.length)}\n${table.trim()}\n${readme.slice(e)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = execFileSync(process.execPath, [`${root}dist/host-services/cli/main.js`, 'rules', '--markdown'], {
    encoding: 'utf8',
  });
  const readme = readFileSync(readmePath, 'utf8');
  const next = renderReadme(readme, table);
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md rule table is stale: run `npm run docs`');
      process.exit(1);
    }
  } else if (next !== readme) {
    writeFileSync(readmePath, next);
    console.log('README.md rule table updated');
  }
}
