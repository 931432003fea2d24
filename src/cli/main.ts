/**
 * The disklab executable's body (bin/disklab.mjs loads it through tsx): runs the CLI against the
 * real process and sets the exit status. Anything unexpected still ends as one `disklab:` line.
 */
import { reportError } from './errors.ts';
import { processIo } from './io.ts';
import { runCli } from './program.ts';

// A reader that stops early (`disklab map big.qcow2 | head`) closes the pipe: stop quietly, as
// qemu-img does when SIGPIPE ends it, instead of dying on an unhandled EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

try {
  process.exitCode = await runCli(process.argv.slice(2), processIo);
} catch (e) {
  reportError(processIo, e);
  process.exitCode = 1;
}
