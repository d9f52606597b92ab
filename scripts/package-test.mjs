#!/usr/bin/env node
// The package as an operator installs it: `npm pack` the checkout, run the
// release's `napi prepublish` on a staged copy (it writes the main package's
// optionalDependencies), pack the main package and this host's platform
// package (carrying the addon built in this checkout), install both into an
// empty project, import every entry point and run the CLI. Also checks what must NOT be there: no `.node` file in the main
// package, no MCP SDK installed for the host (optional peer dependency), and
// a loader error that says how to build from source when no binary fits.
// Needs `npm run build` first (`npm test` does it). Exit 0 = all passed.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const binaryName = pkg.napi.binaryName;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function isMusl() {
  if (process.platform !== 'linux') return false;
  const report = process.report?.getReport?.();
  return !(report && report.header && report.header.glibcVersionRuntime);
}

/** napi-rs's platform-arch-abi name of this host, e.g. linux-x64-gnu. */
function hostAbi() {
  if (process.platform === 'linux') return `linux-${process.arch}-${isMusl() ? 'musl' : 'gnu'}`;
  return `${process.platform}-${process.arch}`;
}

let failures = 0;
let passes = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passes += 1;
    console.log(`  ✓ ${name}`);
  } else {
    failures += 1;
    console.log(`  ✗ ${name}${detail ? `\n    ${detail.split('\n').join('\n    ')}` : ''}`);
  }
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  if (res.error) throw new Error(`${cmd} ${args.join(' ')} could not run: ${res.error.message}`);
  return res;
}

const abi = hostAbi();
const platformDir = join(root, 'npm', abi);
const binary = join(root, `${binaryName}.${abi}.node`);
if (!existsSync(platformDir)) {
  console.error(`package test: this host (${abi}) has no platform package in npm/; add the target to napi.targets and run \`npx napi create-npm-dirs\``);
  process.exit(1);
}
if (!existsSync(binary) || !existsSync(join(root, 'dist/host-services/index.js'))) {
  console.error(`package test: ${binary} or dist/ is missing; run \`npm run build\` first`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'tg-package-'));
try {
  console.log(`package test (${abi}) in ${work}`);
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  // 1. `npm pack` in the checkout: `prepare` must not rebuild (it checks the build and packs it).
  const packRaw = run(npm, ['pack', '--silent', '--pack-destination', tarballs], { cwd: root });
  check('npm pack of the checkout', packRaw.status === 0, packRaw.stderr);
  check('npm pack does not rebuild', /no rebuild/.test(packRaw.stderr) && !/Compiling|Finished `release`/.test(packRaw.stderr + packRaw.stdout), packRaw.stderr);
  const rawTgz = readdirSync(tarballs).find((f) => f.endsWith('.tgz'));
  if (!rawTgz) throw new Error('npm pack wrote no tarball');

  // 2. What the release workflow does next, for real: the binaries go into
  // npm/<platform> (this host's from this checkout; the other targets get
  // placeholders, never packed), then `napi prepublish` writes the main
  // package's optionalDependencies (publishing of the platform packages skipped).
  const stage = join(work, 'stage');
  mkdirSync(stage);
  execFileSync('tar', ['-xzf', join(tarballs, rawTgz), '-C', stage]);
  rmSync(join(tarballs, rawTgz));
  const staged = join(stage, 'package');
  cpSync(join(root, 'npm'), join(staged, 'npm'), { recursive: true });
  for (const target of readdirSync(join(staged, 'npm'))) {
    const file = join(staged, 'npm', target, `${binaryName}.${target}.node`);
    if (target === abi) cpSync(binary, file);
    else writeFileSync(file, 'placeholder: only the host platform package is packed by this test\n');
  }
  const napi = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'napi.cmd' : 'napi');
  const prepublish = run(napi, ['prepublish', '--skip-optional-publish', '--no-gh-release', '--tag-style', 'npm'], { cwd: staged });
  check('napi prepublish (platform publishing skipped)', prepublish.status === 0, (prepublish.stderr || prepublish.stdout).slice(-1500));
  const packMain = run(npm, ['pack', '--silent', '--ignore-scripts', '--pack-destination', tarballs], { cwd: staged });
  check('npm pack of the main package', packMain.status === 0, packMain.stderr);
  const packPlatform = run(npm, ['pack', '--silent', '--pack-destination', tarballs], { cwd: join(staged, 'npm', abi) });
  check('npm pack of the platform package', packPlatform.status === 0, packPlatform.stderr);
  const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  const mainTgz = files.find((f) => !f.includes(abi));
  const platformTgz = files.find((f) => f.includes(abi));
  if (!mainTgz || !platformTgz) throw new Error(`expected two tarballs, found ${files.join(', ')}`);
  const mainList = execFileSync('tar', ['-tzf', join(tarballs, mainTgz)], { encoding: 'utf8' });
  check('the main package ships no .node file', !/\.node$/m.test(mainList));
  check('the main package ships config.schema.json', mainList.includes('package/config.schema.json'));
  check('the main package ships the loader and the built entry points', ['package/index.js', 'package/addon.js', 'package/dist/host-services/index.js', 'package/dist/mcp-tools/index.js'].every((f) => mainList.includes(f)));
  const platformList = execFileSync('tar', ['-tzf', join(tarballs, platformTgz)], { encoding: 'utf8' });
  check('the platform package ships the binary', platformList.includes(`package/${binaryName}.${abi}.node`));

  // 3. An empty project installs both (runtime deps from the npm cache or the registry).
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tg-package-test', version: '0.0.0', private: true, type: 'module' }));
  const install = run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(tarballs, mainTgz), join(tarballs, platformTgz)], { cwd: project });
  check('npm install of both tarballs into an empty project', install.status === 0, install.stderr);
  const installed = join(project, 'node_modules', '@clawsec');
  const installedMain = JSON.parse(readFileSync(join(installed, 'traffic-guardian', 'package.json'), 'utf8'));
  check(
    'the main package declares every platform package as an optional dependency',
    pkg.napi.targets.length === Object.keys(installedMain.optionalDependencies ?? {}).length &&
      Object.keys(installedMain.optionalDependencies ?? {}).includes(`@clawsec/traffic-guardian-${abi}`),
  );
  check('the host platform package is installed', existsSync(join(installed, `traffic-guardian-${abi}`, `${binaryName}.${abi}.node`)));
  check('the MCP SDK is not installed for the host (optional peer dependency)', !existsSync(join(project, 'node_modules', '@modelcontextprotocol')));

  // 4. Every entry point imports, with the addon from the platform package.
  const probe = `
    const main = await import('@clawsec/traffic-guardian');
    const addon = await import('@clawsec/traffic-guardian/addon');
    const host = await import('@clawsec/traffic-guardian/host-services');
    const tools = await import('@clawsec/traffic-guardian/mcp-tools');
    const out = {
      main: typeof main.createTrafficGuardian,
      host: typeof host.handleTrafficIpc,
      tools: typeof tools.registerTrafficTools + ',' + typeof tools.trafficToolsV2,
      rules: addon.ruleCatalog().length,
      target: addon.__napiBindingTarget,
      allocator: addon.allocatorInfo().name,
    };
    console.log(JSON.stringify(out));
  `;
  const imp = run(process.execPath, ['--input-type=module', '-e', probe], { cwd: project });
  let got = {};
  try {
    got = JSON.parse(imp.stdout.trim());
  } catch {
    // reported below
  }
  check(
    'every entry point imports (., ./addon, ./host-services, ./mcp-tools)',
    imp.status === 0 && got.main === 'function' && got.host === 'function' && got.tools === 'function,function' && got.rules > 0,
    imp.stderr || imp.stdout,
  );
  // The published binary is built with the addon's allocator (build:addon's `--features mimalloc`).
  check('the installed addon runs mimalloc', got.allocator === 'mimalloc', imp.stderr || imp.stdout);

  // 5. The CLI.
  const bin = join(project, 'node_modules', '.bin', 'traffic-guardian');
  const version = run(bin, ['--version'], { cwd: project });
  check('traffic-guardian --version', version.status === 0 && version.stdout.includes(pkg.version), version.stderr || version.stdout);
  const rules = run(bin, ['rules'], { cwd: project });
  check('traffic-guardian rules', rules.status === 0 && /aws_access_key_id/.test(rules.stdout), rules.stderr || rules.stdout.slice(0, 500));
  // The option parser and help generator (commander) is a runtime dependency.
  const help = run(bin, ['scan', '--help'], { cwd: project });
  check('traffic-guardian scan --help', help.status === 0 && /Usage: traffic-guardian scan/.test(help.stdout) && /--max-scan-bytes <size>/.test(help.stdout), help.stderr || help.stdout.slice(0, 500));
  const bad = run(bin, ['rules', '--colour'], { cwd: project });
  check('traffic-guardian rules --colour is a usage error naming the option', bad.status === 2 && /unknown option '--colour'/.test(bad.stderr), bad.stderr);

  // 6. Without a fitting binary the error says how to build one from source,
  // and the container entry (no native code) still imports.
  rmSync(join(installed, `traffic-guardian-${abi}`), { recursive: true, force: true });
  const container = run(process.execPath, ['--input-type=module', '-e', "const t = await import('@clawsec/traffic-guardian/mcp-tools'); if (typeof t.registerTrafficTools !== 'function') process.exit(3)"], { cwd: project });
  check('./mcp-tools imports without any native binary (the container case)', container.status === 0, container.stderr);
  const none = run(process.execPath, ['--input-type=module', '-e', "await import('@clawsec/traffic-guardian')"], { cwd: project });
  check(
    'no fitting binary: the error says how to build from source',
    none.status !== 0 && /npm run build:addon/.test(none.stderr) && /rustup/.test(none.stderr) && /optional/.test(none.stderr),
    none.stderr.slice(0, 800),
  );
} catch (err) {
  failures += 1;
  console.log(`  ✗ package test aborted: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`package test: ${passes} passed, ${failures} failed`);
process.exit(failures > 0 ? 1 : 0);
