/**
 * The `traffic-guardian` command line as a whole: every command module,
 * assembled into one commander program, and `main`, which dispatches an
 * argv to it and maps errors to messages and exit codes. Commands declare
 * their options with commander (`command.ts`), which parses them and writes
 * every --help. No side effects on import (`main.ts` is the executable).
 */
import { Command, CommanderError } from '@commander-js/extra-typings';

import { caCommand } from './cmd-ca.js';
import { canaryCommand } from './cmd-canary.js';
import { checkConfigCommand } from './cmd-check-config.js';
import { findingsCommand } from './cmd-findings.js';
import { ignoreCommand } from './cmd-ignore.js';
import { nanoclawCommand } from './cmd-nanoclaw.js';
import { reloadCommand } from './cmd-reload.js';
import { reportCommand } from './cmd-report.js';
import { rulesCommand } from './cmd-rules.js';
import { scanCommand } from './cmd-scan.js';
import { setupCommand } from './cmd-setup.js';
import { showCommand } from './cmd-show.js';
import { startCommand } from './cmd-start.js';
import { statusCommand } from './cmd-status.js';
import { afterHelp, withVerbosity, type Runner } from './command.js';
import { CliError, EXIT, UsageError, defaultIo, packageVersion, printError, verbosityOf, type Io } from './common.js';

/** Every command, in the order the main help lists them. */
const COMMANDS = [
  startCommand,
  statusCommand,
  reloadCommand,
  findingsCommand,
  showCommand,
  reportCommand,
  ignoreCommand,
  scanCommand,
  checkConfigCommand,
  setupCommand,
  nanoclawCommand,
  caCommand,
  canaryCommand,
  rulesCommand,
] as const;

/** The whole command line; `run` executes the chosen command's body. */
export function program(io: Io, run: Runner): Command {
  const root = new Command('traffic-guardian')
    .usage('<command> [options]')
    .description(
      `traffic-guardian ${packageVersion()} — detect-and-log egress/ingress proxy for NanoClaw containers

Finds secrets leaving agent containers (EXFIL) and prompt-injection payloads
coming back (INJECTION). It never blocks and never alters traffic; findings
are redacted before they are written or shown.`,
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'help (also `traffic-guardian <command> --help`)')
    .helpCommand('help [command]', 'help for a command')
    .addHelpText(
      'after',
      afterHelp(`
Every command also takes -q/--quiet (only results and errors) and
-v/--verbose (more detail on stderr; with \`start\`, the guardian's own log:
-v info, -vv debug).

Environment: NANOCLAW_TRAFFIC_GUARDIAN_{HOME,CONFIG,MODE,PROXY_URL,CA_BUNDLE,
LOG_DIR,MAX_SCAN_BYTES,REDACT_SNIPPETS}; NO_COLOR disables colour.

Quick start:
  traffic-guardian start                     # 127.0.0.1:8118, Ctrl-C to stop
  curl -x http://127.0.0.1:8118 http://example.com -I
  traffic-guardian setup                     # wire NanoClaw containers to it`),
    );
  for (const make of COMMANDS) {
    const cmd = make(run) as unknown as Command;
    // -q/-v on every command, unless it describes them itself (start).
    if (!cmd.options.some((o) => o.long === '--quiet')) withVerbosity(cmd);
    root.addCommand(cmd);
  }
  const output = {
    writeOut: (s: string) => void io.stdout.write(s),
    writeErr: (s: string) => void io.stderr.write(s),
    // Errors are thrown (exitOverride) and printed by `main`, in its format.
    outputError: () => undefined,
  };
  const configure = (c: Command) => {
    c.exitOverride().configureOutput(output).showSuggestionAfterError(true);
    for (const sub of c.commands) configure(sub as Command);
  };
  configure(root);
  return root;
}

/** `error: unknown option '--x'\n(Did you mean --y?)` as message and hint. */
function commanderUsage(err: CommanderError, command: string | undefined): UsageError {
  const [first = '', ...more] = err.message.replace(/^error: /, '').split('\n');
  const suggestion = more.join(' ').trim().replace(/^\((.*)\)$/, '$1');
  const help = `see \`traffic-guardian ${command ? `${command} ` : ''}--help\``;
  return new UsageError(first, suggestion ? `${suggestion} (${help})` : help);
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [first, ...rest] = argv;
  let code: number = EXIT.OK;
  const run: Runner = async (body) => {
    code = await body(io);
  };
  const root = program(io, run);
  const names = root.commands.map((c) => c.name());
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      const cmd = topic !== undefined ? root.commands.find((c) => c.name() === topic) : undefined;
      if (topic !== undefined && !cmd) throw new UsageError(`unknown command ${JSON.stringify(topic)}`, 'run `traffic-guardian --help` for the list');
      (cmd ?? root).outputHelp();
      return first === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (first === 'version') {
      io.stdout.write(`${packageVersion()}\n`);
      return EXIT.OK;
    }
    if (!first.startsWith('-') && !names.includes(first)) {
      const near = names.find((k) => k.startsWith(first.slice(0, 2)));
      throw new UsageError(`unknown command ${JSON.stringify(first)}`, near ? `did you mean \`${near}\`? (\`traffic-guardian --help\` lists all)` : 'run `traffic-guardian --help` for the list');
    }
    io.verbosity = verbosityOf(rest);
    await root.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      if (err.code === 'commander.help') return EXIT.USAGE;
      err = commanderUsage(err, names.includes(first ?? '') ? first : undefined);
    }
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

