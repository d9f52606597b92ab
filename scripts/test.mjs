#!/usr/bin/env node
// `npm test`: build the addon and TypeScript once, run the Rust tests on the
// same build artefacts, then the TypeScript tests, then the package install
// test (scripts/package-test.mjs), and print one tally line.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hostTriple = execFileSync('rustc', ['-vV'], { encoding: 'utf8' })
  .split('\n')
  .find((l) => l.startsWith('host: '))
  ?.slice(6)
  .trim();
if (!hostTriple) {
  console.error('test: could not read the host target from `rustc -vV`; is the Rust toolchain installed?');
  process.exit(2);
}

function run(title, cmd, args, opts = {}) {
  console.log(`\n▶ ${title}: ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, { stdio: opts.capture ? ['inherit', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', ...opts });
  if (opts.capture && res.stdout) process.stdout.write(res.stdout);
  if (res.error) {
    console.error(`test: ${title} could not start: ${res.error.message}`);
    process.exit(2);
  }
  return res;
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
let status = 0;
for (const [title, cmd, args] of [
  ['build addon', 'npm', ['run', '--silent', 'build:addon']],
  ['build TypeScript', 'npm', ['run', '--silent', 'build:ts']],
]) {
  if (run(title, cmd, args).status !== 0) process.exit(1);
}

const cargo = run('Rust tests', 'cargo', ['test', '--release', '--no-fail-fast', '--target', hostTriple], { capture: true });
let rustPassed = 0;
let rustFailed = 0;
for (const m of (cargo.stdout ?? '').matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
  rustPassed += Number(m[1]);
  rustFailed += Number(m[2]);
}
if (cargo.status !== 0) status = 1;

const dir = mkdtempSync(join(tmpdir(), 'tg-vitest-'));
const report = join(dir, 'report.json');
const vitest = run('TypeScript tests', npx, ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
let tsPassed = 0;
let tsFailed = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  tsPassed = r.numPassedTests ?? 0;
  tsFailed = r.numFailedTests ?? 0;
  // A file that fails to load has no failed tests of its own: count it.
  if (tsFailed === 0) tsFailed = r.numFailedTestSuites ?? 0;
} catch {
  tsFailed += 1;
}
rmSync(dir, { recursive: true, force: true });
if (vitest.status !== 0) status = 1;

// The package as an operator installs it (npm pack, install into an empty project, import, CLI).
const pack = run('package install test', process.execPath, ['scripts/package-test.mjs'], { capture: true });
const packTally = /package test: (\d+) passed, (\d+) failed/.exec(pack.stdout ?? '');
const packPassed = packTally ? Number(packTally[1]) : 0;
const packFailed = packTally ? Number(packTally[2]) : 1;
if (pack.status !== 0) status = 1;

console.log(
  `\nRust: ${rustPassed} passed, ${rustFailed} failed; TypeScript: ${tsPassed} passed, ${tsFailed} failed; ` +
    `package: ${packPassed} passed, ${packFailed} failed`,
);
const passed = rustPassed + tsPassed + packPassed;
const failed = rustFailed + tsFailed + packFailed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(status || (failed > 0 ? 1 : 0));
