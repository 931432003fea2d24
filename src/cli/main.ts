/**
 * The disklab executable's body (bin/disklab.mjs loads it through tsx): runs the CLI against the
 * real process and sets the exit status. Anything unexpected still ends as one `disklab:` line.
 */
import { reportError } from './errors.ts';
import { processIo } from './io.ts';
import { runCli } from './program.ts';

try {
  process.exitCode = await runCli(process.argv.slice(2), processIo);
} catch (e) {
  reportError(processIo, e);
  process.exitCode = 1;
}
