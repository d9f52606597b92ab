/**
 * `traffic-guardian setup`: prints the wiring steps for one container
 * runtime. It only reads (config, network interfaces, whether the CA export
 * exists) and prints; it runs no command and changes nothing. Commands in
 * the text are for the operator to review and run themselves.
 */
import { networkInterfaces, platform } from 'node:os';

import { MIN_TOKEN_LEN, caPublicLayout, homeLayout } from '@clawsec/traffic-guardian/addon';

import { CONTAINER_CLIENTS, NODE20_FETCH_WARNING, containerNodeCheck, containerShellCheck } from '../clients.js';
import { resolveRuntimeTokens } from '../config.js';
import { DEFAULT_CONTAINER_CA_DIR, DEFAULT_CONTAINER_HOST, buildWiring, parseListen, wiringToDockerArgs } from '../wiring.js';
import { afterHelp, cliCommand, withConfig, type OptionsOf, type Runner } from './command.js';
import { EXIT, CliError, UsageError, colorEnabled, loadConfig, paint, printWarning, safeText, type Io } from './common.js';

/** The `setup` command line: options, help and typed values. */
export const setupCli = () =>
  withConfig(
    cliCommand('setup', 'step-by-step container wiring for your runtime (runs nothing)')
      .usage('[--runtime docker|docker-desktop|apple-container] [--onecli URL] [--group NAME] [--mitm] [--json]')
      .description(
        `Prints step-by-step wiring for NanoClaw containers: the address the guardian
should listen on for your container runtime, the config (runtime tokens and
require_auth when it listens beyond loopback), the exact container
environment and CA mount, the NanoClaw code lines, which clients in the
container honour the wiring (Node 20's fetch does not), and a one-line check
to run inside a container.

setup runs nothing and changes nothing: every command it shows is for you to
review and run yourself. Trust-store changes are optional manual steps.`,
      )
      .option(
        '-r, --runtime <name>',
        "docker (Docker Engine on Linux; default on Linux), docker-desktop (macOS/Windows; default on macOS), apple-container (Apple's container tool)",
      )
      .option('--onecli <url>', "chain to NanoClaw's OneCLI gateway (its proxy URL, e.g. http://x:TOKEN@127.0.0.1:10255); shown masked")
      .option('--group <name>', 'the NanoClaw group (guardian runtime) to wire (default: the first runtime in the config)')
      .option('--mitm', 'include HTTPS inspection (CA export, mount, env)')
      .option('--show-secrets', 'print runtime tokens unmasked (they end up in your terminal scrollback: use with care)')
      .option('--json', 'the same information as JSON'),
    'config file',
  ).addHelpText(
    'after',
    afterHelp(`
Examples:
  traffic-guardian setup
  traffic-guardian setup --runtime docker-desktop --mitm
  traffic-guardian setup --runtime apple-container --group main
  traffic-guardian setup --onecli http://x:TOKEN@127.0.0.1:10255 --json`),
  );

export type SetupOptions = OptionsOf<typeof setupCli>;

export const setupCommand = (run: Runner) => setupCli().action((opts) => run((io) => runSetup(opts, io)));

type Runtime = 'docker' | 'docker-desktop' | 'apple-container';

interface RuntimeFacts {
  label: string;
  /** Address the guardian binds to. */
  bind: string;
  /** How containers reach it. */
  proxyHost: string;
  how: string;
  extraRunArgs: string[];
  cli: string;
}

/** The first IPv4 address of a host interface, if it exists right now. */
function interfaceIPv4(name: string): string | undefined {
  const list = networkInterfaces()[name];
  return list?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

function facts(runtime: Runtime): RuntimeFacts {
  switch (runtime) {
    case 'docker': {
      const found = interfaceIPv4('docker0');
      const bind = found ?? '172.17.0.1';
      return {
        label: 'Docker Engine on Linux',
        bind,
        proxyHost: bind,
        how: found
          ? `the docker0 bridge address of this host (${bind}): containers reach it, the outside network does not`
          : `the usual docker0 bridge address (${bind}; docker0 was not found on this host — check with \`ip -4 addr show docker0\`)`,
        extraRunArgs: [],
        cli: 'docker run',
      };
    }
    case 'docker-desktop':
      return {
        label: 'Docker Desktop',
        bind: '127.0.0.1',
        proxyHost: DEFAULT_CONTAINER_HOST,
        how: `loopback: Docker Desktop forwards ${DEFAULT_CONTAINER_HOST} to the host's 127.0.0.1`,
        extraRunArgs: [],
        cli: 'docker run',
      };
    case 'apple-container': {
      const found = interfaceIPv4('bridge100');
      const bind = found ?? '192.168.64.1';
      return {
        label: 'Apple Container',
        bind,
        proxyHost: bind,
        how: found
          ? `the bridge100 address of this host (${bind})`
          : `the usual bridge100 address (${bind}; bridge100 appears once a container runs — check with \`ifconfig bridge100\`)`,
        extraRunArgs: [],
        cli: 'container run',
      };
    }
  }
}

function isLoopbackHost(h: string): boolean {
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** `http://user:****@host:port` — credentials never printed. */
function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      const user = u.username;
      u.username = '';
      u.password = '';
      return u.toString().replace('://', `://${user ? `${user}:` : ''}****@`).replace(/\/$/, '');
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid URL>';
  }
}

export function runSetup(values: SetupOptions, io: Io): number {
  const rtRaw = values.runtime ?? (platform() === 'darwin' ? 'docker-desktop' : 'docker');
  if (rtRaw !== 'docker' && rtRaw !== 'docker-desktop' && rtRaw !== 'apple-container') {
    throw new UsageError(`--runtime ${JSON.stringify(rtRaw)} is not supported`, 'use docker, docker-desktop or apple-container');
  }
  const runtime: Runtime = rtRaw;
  const onecli = values.onecli;
  if (onecli !== undefined) {
    let ok = false;
    try {
      const u = new URL(onecli);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok) throw new UsageError('--onecli is not an http(s) proxy URL', 'pass the gateway URL NanoClaw gives containers, e.g. http://x:TOKEN@127.0.0.1:10255');
  }
  const reveal = values.showSecrets === true;
  const json = values.json === true;
  if (reveal) printWarning(io, '--show-secrets: runtime tokens are printed unmasked', 'clear your scrollback afterwards and never paste this output into tickets or chats');

  const { report, view, input } = loadConfig(io, values);
  if (!view.home) throw new CliError('the guardian home could not be resolved', 'pass --home DIR or set NANOCLAW_TRAFFIC_GUARDIAN_HOME');
  const f = facts(runtime);
  let port = 8118;
  try {
    const l = parseListen(view.listen);
    if (l.port > 0) port = l.port;
  } catch {
    // keep the documented default port for the text
  }
  const listen = `${f.bind.includes(':') ? `[${f.bind}]` : f.bind}:${port}`;
  const needsAuth = !isLoopbackHost(f.bind);
  const group = values.group ?? view.runtimes[0] ?? (needsAuth ? 'main' : undefined);
  if (group !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(group)) throw new UsageError(`--group ${JSON.stringify(group)} is not a NanoClaw group folder name`);
  const tokens = resolveRuntimeTokens(input);
  const layout = homeLayout(view.home);
  const ctrFiles = caPublicLayout(DEFAULT_CONTAINER_CA_DIR);
  const token = group !== undefined ? tokens.get(group) : undefined;
  const mitm = values.mitm === true || view.mitm_enabled;
  const caPublicDir = layout.ca_public.dir;
  const configPath = values.config ?? io.env['NANOCLAW_TRAFFIC_GUARDIAN_CONFIG'] ?? layout.config_file;

  const tokenPlaceholder = `<${MIN_TOKEN_LEN}+ random characters, e.g. from \`openssl rand -hex 24\`>`;
  const shownToken = token === undefined ? tokenPlaceholder : reveal ? token : '****';
  // Placeholder credentials keep the printed env honest about its shape without a real token.
  const wiring = buildWiring({
    listen,
    mitm,
    caPublicDir,
    proxyHost: f.proxyHost,
    ...(group !== undefined ? { runtime: group, token: token ?? (needsAuth ? 'TOKEN' : undefined) } : {}),
  });
  const env = reveal ? wiring.env : wiring.maskedEnv;
  if (token === undefined && group !== undefined && needsAuth) {
    for (const k of wiring.secretKeys) env[k] = wiring.proxyUrlMasked.replace('****', '<token>');
  }
  // Before the CA is exported, wiring() cannot point at it yet: show the
  // planned lines (same names the export writes) so the text is complete.
  const caPending = mitm && wiring.mounts.length === 0;
  if (caPending) {
    wiring.mounts.push({ hostPath: caPublicDir, containerPath: DEFAULT_CONTAINER_CA_DIR, readonly: true });
    env['NODE_EXTRA_CA_CERTS'] = ctrFiles.cert_file;
    for (const k of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) env[k] = ctrFiles.bundle_file;
    if (!reveal) Object.assign(wiring.maskedEnv, env);
    else Object.assign(wiring.env, env);
  }
  const runArgs = [...f.extraRunArgs, ...wiringToDockerArgs(wiring, { reveal })].map((a) =>
    token === undefined && needsAuth ? a.replace(/:\*\*\*\*@|:TOKEN@/g, ':<token>@') : a,
  );

  const suggestedConfig: Record<string, unknown> = {
    mode: 'detect',
    listen,
    ...(group !== undefined || needsAuth ? { runtimes: [{ name: group ?? 'main', token: shownToken }] } : {}),
    ...(needsAuth ? { require_auth: true } : {}),
    ...(mitm ? { mitm: { enabled: true, trusted_runtimes: [group ?? '*'] } } : {}),
    ...(onecli !== undefined ? { upstream_proxy: reveal ? onecli : maskUrl(onecli) } : {}),
  };

  const shellCheck = containerShellCheck();
  const nodeCheck = containerNodeCheck();
  const verify = `curl -sS -x ${wiring.proxyUrlMasked.replace('****', '<token>')} http://example.com -I`;
  const steps = [
    {
      title: 'Bind address',
      text: [
        `Runtime: ${f.label}. Listen on ${listen} — ${f.how}.`,
        needsAuth
          ? 'This address is reachable by every container on the bridge: give each NanoClaw group a runtime token and set require_auth, so findings are attributed and strangers get 407.'
          : 'Loopback: only this host (and Docker Desktop containers via its forwarder) can connect.',
      ],
    },
    {
      title: 'Config',
      text: [
        `Write this to ${configPath} (mode 0600: it holds tokens) and check it with \`traffic-guardian check-config\`:`,
        JSON.stringify(suggestedConfig, null, 2),
        ...(onecli !== undefined
          ? [
              'OneCLI: the guardian forwards everything to the gateway (upstream_proxy keeps its credentials), so containers point at the guardian instead of OneCLI: container → guardian → OneCLI → internet.',
              'If OneCLI inspects TLS itself, add its CA certificate file as "ca_bundle" so the guardian trusts it upstream, and give containers one bundle file holding both CAs for NODE_EXTRA_CA_CERTS (Node reads only one file).',
            ]
          : []),
      ],
    },
    {
      title: 'Start',
      text: [
        `Foreground, to watch findings: traffic-guardian start${values.config !== undefined ? ` --config ${configPath}` : ''}`,
        'Inside NanoClaw: set NANOCLAW_TRAFFIC_GUARDIAN_MODE=detect (or "mode": "detect" in the config) — the default mode off starts nothing.',
      ],
    },
    {
      title: 'Container environment',
      text: [
        `Add to each ${group !== undefined ? `"${group}" ` : ''}container (${f.cli}):`,
        ...Object.entries(env).map(([k, v]) => `  ${k}=${v}`),
        ...wiring.mounts.map((m) => `  mount ${m.hostPath} → ${m.containerPath} (read-only directory mount)`),
        `As ${f.cli} arguments (for a manual run, put the proxy variables in a 0600 --env-file instead, so the token stays out of \`ps\` and shell history):`,
        `  ${runArgs.map((a) => (/[\s<>`]/.test(a) ? `'${a}'` : a)).join(' ')}`,
      ],
    },
    ...(mitm
      ? [
          {
            title: 'HTTPS inspection (CA)',
            text: [
              `Create the CA and export only its public certificate (the key stays in ${layout.ca_dir}):`,
              `  traffic-guardian ca init`,
              `  traffic-guardian ca export --out ${caPublicDir}`,
              `Mount ${caPublicDir} read-only at ${DEFAULT_CONTAINER_CA_DIR} (a directory mount, which Apple Container also supports); the env above points NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and GIT_SSL_CAINFO there.`,
              'Optional manual step — review before running, only if a tool in the image ignores those variables (traffic-guardian never runs this):',
              `  Debian/Ubuntu/Alpine image: cp ${ctrFiles.cert_file} /usr/local/share/ca-certificates/clawsec-traffic-guardian.crt && update-ca-certificates`,
              'Only containers listed in mitm.trusted_runtimes are inspected; others keep end-to-end TLS (tunnelled, not inspected).',
            ],
          },
        ]
      : []),
    {
      title: 'NanoClaw code',
      text: [
        'A few lines in NanoClaw (INSTALL.md shows exactly where they go):',
        "  import { createTrafficGuardian, wiringToSpawn } from '@clawsec/traffic-guardian';",
        '  export const trafficGuardian = createTrafficGuardian({ logger });       // src/traffic-guardian.ts',
        '  await trafficGuardian.start();                                          // src/index.ts; trafficGuardian.stop() at shutdown',
        '  const { args, env } = wiringToSpawn(trafficGuardian.wiring(group.folder)); // src/container-runner.ts: add to the container spawn',
        'wiringToSpawn passes only variable names on the command line; the token travels in the spawned process env, never in `ps` or logs.',
      ],
    },
    {
      title: 'Canaries and known secrets (optional)',
      text: [
        `Plant a canary credential in ${group !== undefined ? `the "${group}"` : 'each'} group: nothing legitimate ever sends it, so any sighting (to any host, its own provider's included) is a critical canary_token finding naming the group and canary id.`,
        `  traffic-guardian canary new --group ${group ?? '<group>'} --kind aws >> groups/${group ?? '<group>'}/.env   # or github, anthropic, openai, slack, generic`,
        'The value is printed once (NAME=value lines) and the home keeps only keyed hashes (canaries.json, 0600); put it where an agent could find it (the group\'s .env, a config file in its workspace), then restart the guardian. `canary list` and `canary retire ID` manage them.',
        'Secrets with no format of their own (a database password, an internal token): list them as NAME=value lines in a 0600 file and set "known_secrets_file" in the config (or pass createTrafficGuardian({ knownSecrets })); "known_secret_hosts" names where each may go. Any other destination, in any common encoding, is a critical known_secret finding.',
      ],
    },
    {
      title: 'Container clients',
      text: [
        'What inside the container uses this wiring:',
        ...CONTAINER_CLIENTS.map((c) => `  ${c.honours ? 'yes' : 'NO '}  ${c.client}: ${c.how}`),
        `Warning: ${NODE20_FETCH_WARNING}`,
      ],
    },
    {
      title: 'Verify',
      text: [
        'Inside a container, one line says whether its traffic goes through the guardian (no DNS query leaves the machine):',
        `  ${shellCheck}`,
        'and the same for Node\'s fetch (or `bun -e` with the same script):',
        `  ${nodeCheck}`,
        'The proxy must answer; a 407 means the token is missing or wrong:',
        `  ${verify}`,
        'Then on the host:',
        '  traffic-guardian status',
        '  traffic-guardian findings --since 10m',
      ],
    },
  ];
  const warnings = [
    ...wiring.warnings.filter((w) => !/ephemeral|not exported yet/.test(w)),
    ...(caPending ? [`the CA is not exported to ${caPublicDir} yet: run the two \`traffic-guardian ca\` commands of the HTTPS step before starting containers`] : []), ...report.errors.map((e) => `current config: ${e.field}: ${e.message}`)];

  if (json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          runtime,
          bind: f.bind,
          listen,
          proxy_host: f.proxyHost,
          group: group ?? null,
          require_auth: needsAuth,
          config_path: configPath,
          config: suggestedConfig,
          env,
          mounts: wiring.mounts,
          run_args: runArgs,
          verify,
          container_check: { shell: shellCheck, node: nodeCheck },
          clients: CONTAINER_CLIENTS,
          steps,
          warnings,
          secrets_shown: reveal,
        },
        null,
        2,
      )}\n`,
    );
    return EXIT.OK;
  }
  const p = paint(colorEnabled(io.stdout, io.env));
  const out: string[] = [p.bold(`Wiring NanoClaw containers to the traffic guardian (${f.label})`), p.dim('Nothing below has been run: review each step and run it yourself.'), ''];
  steps.forEach((s, i) => {
    out.push(p.bold(`${i + 1}. ${s.title}`));
    for (const t of s.text) out.push(t.split('\n').map((l) => `   ${l}`).join('\n'));
    out.push('');
  });
  if (warnings.length > 0) {
    out.push(p.yellow('Notes'));
    for (const w of warnings) out.push(`   - ${safeText(w, 600)}`);
  }
  io.stdout.write(`${out.join('\n').trimEnd()}\n`);
  return EXIT.OK;
}
