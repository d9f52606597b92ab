/**
 * Command-line definitions on commander (with @commander-js/extra-typings):
 * each command declares its arguments and options once, and gets from that
 * its parser, its typed option values and the option list of its --help.
 * Prose around the generated list (what the command does, exit status,
 * examples) is the command's own `description` and after-help text.
 */
import { Command, type OptionValues } from '@commander-js/extra-typings';

import type { Io } from './common.js';

/** Runs a command's body with the invocation's streams; main records the exit code. */
export type Runner = (body: (io: Io) => number | Promise<number>) => Promise<void>;

/** The typed option values of a command definition. */
export type OptionsOf<F extends () => { opts(): unknown }> = ReturnType<ReturnType<F>['opts']>;

/** A command named `name`, with the one-line `summary` the main help lists. */
export function cliCommand(name: string, summary: string) {
  return new Command(name).summary(summary).helpOption('-h, --help', 'show this help');
}

/** `-c/--config` and `--home`: where the guardian's config and home are. */
export function withConfig<A extends unknown[], O extends OptionValues, G extends OptionValues>(c: Command<A, O, G>, config = 'config file (to find the home)', home = 'guardian home') {
  return c.option('-c, --config <file>', config).option('--home <dir>', home);
}

/** `-q/--quiet` and `-v/--verbose`, on every command (read once by main: `verbosityOf`). */
export function withVerbosity<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  c: Command<A, O, G>,
  quiet = 'only results and errors: no summaries, notes, warnings or progress',
  verbose = 'more detail on stderr (the paths used; unexpected errors with their stack); repeatable: -vv',
) {
  return c.option('-q, --quiet', quiet).option('-v, --verbose', `${verbose}; repeatable (-vv)`, (_: string, n: number) => n + 1, 0);
}

/** After-help text: exit status and examples, set off from the generated option list. */
export function afterHelp(text: string): string {
  return `\n${text.replace(/^\n+|\n+$/g, '')}\n`;
}

/** A command run without its action word (`ca`, `ignore`, …): its help on stdout, exit 2. */
export function usageHelp(cmd: { outputHelp(): void }): number {
  cmd.outputHelp();
  return 2;
}
