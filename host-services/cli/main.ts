#!/usr/bin/env node
/**
 * The `traffic-guardian` operator CLI: one entry that dispatches to a
 * command module. Every command goes through the same host-services and
 * addon NanoClaw uses; this file only maps errors to messages and exit codes.
 */
import { runCa, CA_HELP } from './cmd-ca.js';
import { runCanary, CANARY_HELP } from './cmd-canary.js';
import { runCheckConfig, CHECK_CONFIG_HELP } from './cmd-check-config.js';
import { runNanoclaw, NANOCLAW_HELP } from './cmd-nanoclaw.js';
import { runFindings, FINDINGS_HELP } from './cmd-findings.js';
import { runIgnore, IGNORE_HELP } from './cmd-ignore.js';
import { runReload, RELOAD_HELP } from './cmd-reload.js';
import { runReport, REPORT_HELP } from './cmd-report.js';
import { runRules, RULES_HELP } from './cmd-rules.js';
import { runScan, SCAN_HELP } from './cmd-scan.js';
import { runSetup, SETUP_HELP } from './cmd-setup.js';
import { runShow, SHOW_HELP } from './cmd-show.js';
import { runStart, START_HELP } from './cmd-start.js';
import { runStatus, STATUS_HELP } from './cmd-status.js';
import { CliError, EXIT, UsageError, defaultIo, packageVersion, printError, verbosityOf, type Io } from './common.js';

type Command = { run: (args: string[], io: Io) => number | Promise<number>; help: string; summary: string };

const COMMANDS: Record<string, Command> = {
  start: { run: runStart, help: START_HELP, summary: 'run the guardian in the foreground (detect mode) and show findings live' },
  status: { run: runStatus, help: STATUS_HELP, summary: 'is a guardian running for this home? counters and addresses' },
  reload: { run: runReload, help: RELOAD_HELP, summary: 'make the running `start` re-read its config (SIGHUP); applied or rejected' },
  findings: { run: runFindings, help: FINDINGS_HELP, summary: 'list stored findings (table or JSONL), or --follow new ones' },
  show: { run: runShow, help: SHOW_HELP, summary: 'one finding with its exchange context, and the others of that exchange' },
  report: { run: runReport, help: REPORT_HELP, summary: 'summary of a period: by pattern, severity, destination, source' },
  ignore: { run: runIgnore, help: IGNORE_HELP, summary: 'suppress known findings (add, list, remove); they stay counted' },
  scan: { run: runScan, help: SCAN_HELP, summary: 'scan a saved body, raw HTTP message or HAR capture offline' },
  'check-config': { run: runCheckConfig, help: CHECK_CONFIG_HELP, summary: 'validate the configuration without starting anything' },
  setup: { run: runSetup, help: SETUP_HELP, summary: 'step-by-step container wiring for your runtime (runs nothing)' },
  nanoclaw: { run: runNanoclaw, help: NANOCLAW_HELP, summary: 'apply the integration edits to a NanoClaw v1/v2 checkout (--dry-run: diff)' },
  ca: { run: runCa, help: CA_HELP, summary: 'create the HTTPS-inspection CA, show its fingerprint, export the public cert' },
  canary: { run: runCanary, help: CANARY_HELP, summary: 'mint, list and retire canary credentials planted in a group (any sighting is critical)' },
  rules: { run: runRules, help: RULES_HELP, summary: 'the built-in detection rules (--markdown for the README table)' },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const list = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n');
  return `traffic-guardian ${packageVersion()} — detect-and-log egress/ingress proxy for NanoClaw containers

Finds secrets leaving agent containers (EXFIL) and prompt-injection payloads
coming back (INJECTION). It never blocks and never alters traffic; findings
are redacted before they are written or shown.

Usage: traffic-guardian <command> [options]

Commands:
${list}

Global options (every command):
  -h, --help      help (also \`traffic-guardian <command> --help\`)
  -q, --quiet     only results and errors: no summaries, notes, warnings or progress
  -v, --verbose   more detail on stderr (paths used; with \`start\`, the guardian's
                  own log: -v info, -vv debug); unexpected errors with their stack
  -V, --version   print the version

Environment: NANOCLAW_TRAFFIC_GUARDIAN_{HOME,CONFIG,MODE,PROXY_URL,CA_BUNDLE,
LOG_DIR,MAX_SCAN_BYTES,REDACT_SNIPPETS}; NO_COLOR disables colour.

Quick start:
  traffic-guardian start                     # 127.0.0.1:8118, Ctrl-C to stop
  curl -x http://127.0.0.1:8118 http://example.com -I
  traffic-guardian setup                     # wire NanoClaw containers to it
`;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      const cmd = topic !== undefined ? COMMANDS[topic] : undefined;
      if (topic !== undefined && !cmd) throw new UsageError(`unknown command ${JSON.stringify(topic)}`, 'run `traffic-guardian --help` for the list');
      io.stdout.write(cmd ? cmd.help : mainHelp());
      return first === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (first === '-V' || first === '--version' || first === 'version') {
      io.stdout.write(`${packageVersion()}\n`);
      return EXIT.OK;
    }
    const cmd = COMMANDS[first];
    io.verbosity = verbosityOf(rest);
    if (!cmd) {
      const near = Object.keys(COMMANDS).find((k) => k.startsWith(first.slice(0, 2)));
      throw new UsageError(`unknown command ${JSON.stringify(first)}`, near ? `did you mean \`${near}\`? (\`traffic-guardian --help\` lists all)` : 'run `traffic-guardian --help` for the list');
    }
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      printError(io, err.message, err.hint);
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      printError(io, err.message, err.hint);
      return err.exitCode;
    }
    printError(io, err instanceof Error ? err.message : String(err), 'this looks like a bug; please report it with the command you ran');
    if ((io.verbosity ?? 0) > 0 && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return EXIT.ERROR;
  }
}

// A reader that goes away (`traffic-guardian start | head`) must not crash the
// process mid-proxy: treat EPIPE as a stop request, handled like SIGTERM.
let pipeClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  if (pipeClosed) return;
  pipeClosed = true;
  process.kill(process.pid, 'SIGTERM');
});

// Output is flushed before exiting: stdout may be a pipe.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.ERROR);
  },
);
