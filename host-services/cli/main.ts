#!/usr/bin/env node
/**
 * The `traffic-guardian` executable: runs `main` (program.ts) on the
 * process's argv and streams, and exits with its code once output is flushed.
 */
import { EXIT } from './common.js';
import { main } from './program.js';

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
