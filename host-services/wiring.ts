/**
 * What a container needs to send its traffic through the guardian: the
 * proxy variables (with the runtime's credential for attribution), and with
 * HTTPS inspection the CA's *public* certificate as a directory mount plus
 * the variables common clients read. The CA key never leaves the host: the
 * mounted directory is a separate export holding certificates only.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';

import { caExport, caPublicLayout } from '@clawsec/traffic-guardian/addon';

import { writeFileAtomicSync } from './atomic.js';

/** Where the CA directory appears inside containers. */
export const DEFAULT_CONTAINER_CA_DIR = '/usr/local/share/clawsec-traffic-guardian';
/** Name the containers use to reach the host when the bind address does not say. */
export const DEFAULT_CONTAINER_HOST = 'host.docker.internal';
/** Destinations containers reach directly (never through the proxy). */
export const DEFAULT_NO_PROXY = ['localhost', '127.0.0.1', '::1'] as const;

/** System trust bundles looked for, to build a bundle that keeps public roots. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

export interface WiringInput {
  /** The address the proxy is (or will be) bound to: `ip:port` or `[v6]:port`. */
  listen: string;
  /** Runtime (NanoClaw group) the container belongs to. */
  runtime?: string;
  /** That runtime's proxy token, when it has one. */
  token?: string;
  /** Whether HTTPS is inspected for this runtime. */
  mitm: boolean;
  /** Host directory with only public certificates (see `prepareCaPublicDir`). */
  caPublicDir?: string;
  /** Host name or address the container uses to reach the proxy. */
  proxyHost?: string;
  /** Extra NO_PROXY entries. */
  noProxy?: readonly string[];
  /** Where the CA directory is mounted in the container. */
  containerCaDir?: string;
}

export interface WiringMount {
  hostPath: string;
  containerPath: string;
  readonly: true;
}

export interface ContainerWiring {
  /** The proxy URL, credential included when the runtime has one. */
  proxyUrl: string;
  /** The proxy URL with the credential replaced by `****`. */
  proxyUrlMasked: string;
  /** Exact container environment. Values named in `secretKeys` carry a credential. */
  env: Record<string, string>;
  /** Keys of `env` whose values are secret; print them masked. */
  secretKeys: string[];
  /** `env` with secrets masked, safe to print or log. */
  maskedEnv: Record<string, string>;
  /** Directory mounts (read-only); only the CA public directory. */
  mounts: WiringMount[];
  warnings: string[];
}

/** Splits `ip:port` / `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  if (!m || m[1] === undefined || m[2] === undefined) throw new TypeError(`not an ip:port address: ${listen}`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`bad port in ${listen}`);
  return { host: m[1], port };
}

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '::0';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Builds the wiring; pure apart from checking that the CA files exist. */
export function buildWiring(input: WiringInput): ContainerWiring {
  const warnings: string[] = [];
  const { host: bindHost, port } = parseListen(input.listen);
  if (port === 0) warnings.push('the proxy port is ephemeral (0) and not bound yet: start the guardian first');
  let proxyHost = input.proxyHost;
  if (!proxyHost) {
    if (isUnspecified(bindHost) || isLoopback(bindHost)) {
      proxyHost = DEFAULT_CONTAINER_HOST;
      if (isLoopback(bindHost)) {
        warnings.push(
          `the proxy listens on loopback (${bindHost}): containers reach it through ${DEFAULT_CONTAINER_HOST} on Docker Desktop only; ` +
            'on Docker for Linux bind to the docker0 address (e.g. 172.17.0.1), on Apple Container to the bridge100 address',
        );
      }
    } else {
      proxyHost = bindHost;
    }
  }

  const base = `http://${hostForUrl(proxyHost)}:${port}`;
  let proxyUrl = base;
  let proxyUrlMasked = base;
  if (input.runtime !== undefined && input.token !== undefined && input.token.length > 0) {
    const user = encodeURIComponent(input.runtime);
    proxyUrl = `http://${user}:${encodeURIComponent(input.token)}@${hostForUrl(proxyHost)}:${port}`;
    proxyUrlMasked = `http://${user}:****@${hostForUrl(proxyHost)}:${port}`;
  } else if (input.runtime !== undefined) {
    warnings.push(
      `runtime ${input.runtime} has no proxy token: its findings are attributed to the container's address, not to the runtime`,
    );
  }

  const noProxy = [...new Set([...DEFAULT_NO_PROXY, ...(input.noProxy ?? [])])].join(',');
  const env: Record<string, string> = {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    NODE_USE_ENV_PROXY: '1',
  };
  const secretKeys = proxyUrl === base ? [] : ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'];
  const mounts: WiringMount[] = [];

  if (input.mitm) {
    const ctrDir = input.containerCaDir ?? DEFAULT_CONTAINER_CA_DIR;
    const hostFiles = input.caPublicDir ? caPublicLayout(input.caPublicDir) : undefined;
    if (!hostFiles || !existsSync(hostFiles.cert_file)) {
      warnings.push('HTTPS inspection is on but the CA public certificate is not exported yet: start the guardian first');
    } else {
      mounts.push({ hostPath: hostFiles.dir, containerPath: ctrDir, readonly: true });
      const hasBundle = existsSync(hostFiles.bundle_file);
      if (!hasBundle) {
        warnings.push(
          'no system trust bundle was found to combine with the CA: SSL_CERT_FILE and friends point at the guardian CA alone, ' +
            'so hosts excluded from inspection will fail verification in OpenSSL-based clients',
        );
      }
      const ctrFiles = caPublicLayout(ctrDir);
      const bundle = hasBundle ? ctrFiles.bundle_file : ctrFiles.cert_file;
      env['NODE_EXTRA_CA_CERTS'] = ctrFiles.cert_file;
      env['SSL_CERT_FILE'] = bundle;
      env['REQUESTS_CA_BUNDLE'] = bundle;
      env['CURL_CA_BUNDLE'] = bundle;
      env['GIT_SSL_CAINFO'] = bundle;
    }
  }

  const maskedEnv: Record<string, string> = { ...env };
  for (const k of secretKeys) maskedEnv[k] = proxyUrlMasked;
  return { proxyUrl, proxyUrlMasked, env, secretKeys, maskedEnv, mounts, warnings };
}

/**
 * Exports the CA's public certificate into `outDir` (never the key) and
 * writes `bundle.pem` = CA + the host's system roots, so clients that take a
 * single bundle file still trust ordinary public hosts. Returns the dir.
 */
export function prepareCaPublicDir(caDir: string, outDir: string): { dir: string; certPath: string; bundlePath?: string } {
  mkdirSync(outDir, { recursive: true, mode: 0o755 });
  chmodSync(outDir, 0o755);
  const exported = caExport(caDir, outDir);
  const files = caPublicLayout(outDir);
  const certPath = files.cert_file;
  const pem = readFileSync(exported, 'utf8');
  if (exported !== certPath) writeAtomic(certPath, pem);
  chmodSync(certPath, 0o644);
  const system = SYSTEM_BUNDLES.find((p) => existsSync(p));
  if (!system) return { dir: outDir, certPath };
  const bundlePath = files.bundle_file;
  writeAtomic(bundlePath, `${pem.trimEnd()}\n${readFileSync(system, 'utf8')}`);
  return { dir: outDir, certPath, bundlePath };
}

function writeAtomic(path: string, text: string): void {
  writeFileAtomicSync(path, text, { mode: 0o644 });
}

/**
 * Arguments and environment for spawning `docker run` / `container run`
 * without putting credentials on the command line (where `ps`, shell history
 * and NanoClaw's debug log of the container args would show them): `-e NAME`
 * carries only the name, and the value comes from the spawned CLI's env.
 * `mountArgs` lets the caller use its runtime's read-only mount syntax.
 */
export function wiringToSpawn(
  w: ContainerWiring,
  mountArgs: (hostPath: string, containerPath: string) => string[] = (h, c) => ['-v', `${h}:${c}:ro`],
): { args: string[]; env: Record<string, string> } {
  const args: string[] = [];
  for (const m of w.mounts) args.push(...mountArgs(m.hostPath, m.containerPath));
  for (const k of Object.keys(w.env)) args.push('-e', k);
  return { args, env: { ...w.env } };
}

/** `docker run` style arguments with values inline, masked unless `reveal` (for display). */
export function wiringToDockerArgs(w: ContainerWiring, opts: { reveal?: boolean } = {}): string[] {
  const env = opts.reveal ? w.env : w.maskedEnv;
  const args: string[] = [];
  for (const m of w.mounts) args.push('--mount', `type=bind,source=${m.hostPath},target=${m.containerPath},readonly`);
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  return args;
}
