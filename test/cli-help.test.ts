/**
 * The CLI's option parsing and help, in process (commander, program.ts):
 * every option of every command has a description and shows in that
 * command's --help, unknown and malformed options are usage errors that
 * name the option, and the main help lists every command. The spawned-binary
 * tests (cli*.test.ts) cover what the commands do.
 */
import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import type { Io } from '../host-services/cli/common.js';
import { main, program } from '../host-services/cli/program.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stream = (sink: string[]) => {
    const s = new PassThrough() as unknown as NodeJS.WriteStream;
    s.write = ((chunk: string | Uint8Array) => {
      sink.push(String(chunk));
      return true;
    }) as NodeJS.WriteStream['write'];
    return s;
  };
  const io: Io = { stdout: stream(out), stderr: stream(err), env: { NO_COLOR: '1' } };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const noRun = async () => undefined;
const io: Io = { stdout: process.stdout, stderr: process.stderr, env: {} };
const commands = program(io, noRun).commands.filter((c) => c.name() !== 'help');

describe('generated help', () => {
  it('knows the fourteen commands', () => {
    expect(commands.map((c) => c.name()).sort()).toEqual(
      ['ca', 'canary', 'check-config', 'findings', 'ignore', 'nanoclaw', 'reload', 'report', 'rules', 'scan', 'setup', 'show', 'start', 'status'].sort(),
    );
  });

  it('every option of every command has a description and is in its --help', async () => {
    for (const c of commands) {
      const r = await run([c.name(), '--help']);
      expect(r.code, c.name()).toBe(0);
      expect(r.stdout, c.name()).toContain(`Usage: traffic-guardian ${c.name()}`);
      expect(r.stdout, c.name()).toContain('Examples:');
      const flags = c.options.map((o) => o.long);
      for (const f of ['--quiet', '--verbose']) expect(flags, c.name()).toContain(f);
      expect(r.stdout, c.name()).toContain('-h, --help');
      for (const o of c.options) {
        expect(o.description.length, `${c.name()} ${o.flags}`).toBeGreaterThan(8);
        expect(r.stdout, `${c.name()} ${o.flags}`).toContain(o.flags);
      }
    }
  });

  it('the main help lists every command with its summary; `help CMD` is CMD --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.stdout).toMatch(new RegExp(`\\n  ${c.name()} .*${c.summary().slice(0, 20).replace(/[.*+?^${}()|[\]\\`]/g, '\\$&')}`));
    expect(r.stdout).toContain('-V, --version');
    expect((await run(['help', 'scan'])).stdout).toBe((await run(['scan', '--help'])).stdout);
    expect((await run([])).code).toBe(2);
  });
});

describe('option errors', () => {
  it('an unknown option is a usage error naming it, with a suggestion when one is near', async () => {
    const r = await run(['findings', '--sinse', '1h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown option '--sinse' — Did you mean --since\? \(see `traffic-guardian findings --help`\)\n$/);
    const far = await run(['status', '--frobnicate']);
    expect(far.code).toBe(2);
    expect(far.stderr).toBe("error: unknown option '--frobnicate' — see `traffic-guardian status --help`\n");
  });

  it('a missing option value is a usage error naming the option', async () => {
    const r = await run(['report', '--since']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--since <age|time>' argument missing");
  });

  it('-q with -v contradict, before anything runs', async () => {
    const r = await run(['rules', '-q', '-vv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('contradict');
    expect(r.stdout).toBe('');
  });
});
