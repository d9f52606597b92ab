/**
 * `traffic-guardian ca`: the host-held CA used for HTTPS inspection. Only
 * the addon touches the key; this command handles paths and public data
 * (fingerprint, public certificate), so the private key is never read here.
 */
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { caEnsure, caInfo, homeLayout } from '@clawsec/traffic-guardian/addon';

import { DEFAULT_CONTAINER_CA_DIR, prepareCaPublicDir } from '../wiring.js';
import { afterHelp, cliCommand, usageHelp, withConfig, type OptionsOf, type Runner } from './command.js';
import { EXIT, CliError, UsageError, colorEnabled, paint, requirePaths, safeText, type Io } from './common.js';

/** The `ca` command line: options, help and typed values. */
export const caCli = () =>
  withConfig(
    cliCommand('ca', 'create the HTTPS-inspection CA, show its fingerprint, export the public cert')
      .usage('init|fingerprint|export [--out DIR] [--json]')
      .description(
        `Manages the guardian's own certificate authority under <home>/ca/ (ca.pem is
public; the private key stays there, mode 0600, and is never printed, copied
or exported). The CA is only used when HTTPS inspection (mitm) is on, and only
containers that mount its public certificate trust it.`,
      )
      .argument(
        '[action]',
        `init: create the CA if it does not exist yet; print its fingerprint
fingerprint: print the SHA-256 fingerprint and the public certificate path
export: write only public certificates into --out DIR (created if missing), ready to mount read-only into containers: ca.pem (the CA) and bundle.pem (the CA + this host's public roots)`,
      )
      .option('-o, --out <dir>', 'target directory for `export`')
      .option('--json', 'machine-readable output'),
  )
    .allowExcessArguments()
    .addHelpText(
      'after',
      afterHelp(`
Exit status: 0 ok, 1 error (e.g. no CA yet), 2 usage error.

Examples:
  traffic-guardian ca init
  traffic-guardian ca fingerprint
  traffic-guardian ca export --out ~/nanoclaw/guardian-ca`),
    );

export type CaOptions = OptionsOf<typeof caCli>;

export const caCommand = (run: Runner) =>
  caCli().action((action, opts, cmd) => run((io) => (action === undefined ? usageHelp(cmd) : runCa(cmd.args, opts, io))));

export function runCa(positionals: string[], values: CaOptions, io: Io): number {
  const [sub, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`, 'traffic-guardian ca --help');
  const json = values.json === true;
  const out = values.out;
  if (sub !== 'export' && out !== undefined) throw new UsageError('--out is only for `ca export`');
  const { view } = requirePaths(io, values);
  const caDir = homeLayout(view.home).ca_dir;
  const p = paint(colorEnabled(io.stdout, io.env));
  const addonError = (what: string, err: unknown) => new CliError(`${what}: ${(err as Error).message}`, `check that ${caDir} is writable by you only`);

  switch (sub) {
    case 'init': {
      let r: ReturnType<typeof caEnsure>;
      try {
        r = caEnsure(caDir);
      } catch (err) {
        throw addonError('cannot create the CA', err);
      }
      if (json) io.stdout.write(`${JSON.stringify({ created: r.created, fingerprint: r.fingerprint, cert_path: r.cert_path })}\n`);
      else {
        io.stdout.write(`${r.created ? p.green('created a new CA') : 'the CA already exists'}\n`);
        io.stdout.write(`  fingerprint  ${safeText(r.fingerprint)}\n  public cert  ${safeText(r.cert_path, 400)}\n`);
        io.stdout.write(p.dim(`  next: traffic-guardian ca export --out DIR   (public certificate only, for a read-only container mount)\n`));
      }
      return EXIT.OK;
    }
    case 'fingerprint': {
      const info = caInfo(caDir);
      if (!info) throw new CliError(`no CA in ${caDir} yet`, 'create it with `traffic-guardian ca init` (or start with --mitm)');
      if (json) io.stdout.write(`${JSON.stringify({ fingerprint: info.fingerprint, cert_path: info.cert_path })}\n`);
      else io.stdout.write(`${safeText(info.fingerprint)}  ${safeText(info.cert_path, 400)}\n`);
      return EXIT.OK;
    }
    case 'export': {
      if (out === undefined || out === '') throw new UsageError('`ca export` needs --out DIR', 'e.g. traffic-guardian ca export --out ./guardian-ca');
      const info = caInfo(caDir);
      if (!info) throw new CliError(`no CA in ${caDir} yet`, 'create it with `traffic-guardian ca init` first');
      const dir = resolve(out);
      if (resolve(dir) === resolve(caDir)) throw new CliError('--out is the CA directory itself', 'export into a separate directory: mounting the CA directory would expose the private key');
      try {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      } catch (err) {
        throw new CliError(`cannot use ${dir} as the export directory: ${(err as Error).message}`, 'pass a writable directory with --out');
      }
      let exported: ReturnType<typeof prepareCaPublicDir>;
      try {
        exported = prepareCaPublicDir(caDir, dir);
      } catch (err) {
        throw addonError('cannot export the public certificate', err);
      }
      if (json) io.stdout.write(`${JSON.stringify({ cert_path: exported.certPath, bundle_path: exported.bundlePath ?? null, fingerprint: info.fingerprint, dir })}\n`);
      else {
        io.stdout.write(`wrote the public certificate (no private key) to ${safeText(exported.certPath, 400)}\n  fingerprint  ${safeText(info.fingerprint)}\n`);
        if (exported.bundlePath) io.stdout.write(`  bundle       ${safeText(exported.bundlePath, 400)} (the CA + this host's public roots, for SSL_CERT_FILE)\n`);
        io.stdout.write(p.dim(`  mount read-only, e.g.: --mount type=bind,source=${dir},target=${DEFAULT_CONTAINER_CA_DIR},readonly\n`));
      }
      return EXIT.OK;
    }
    default:
      throw new UsageError(`unknown ca subcommand ${JSON.stringify(sub)}`, 'use init, fingerprint or export');
  }
}
