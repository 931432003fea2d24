/**
 * `disklab io [-f FMT] [-r] IMG -c CMD [-c CMD ...]`: qemu-io's `-c` mode over the shell language
 * in src/core/shell. Commands run in order against the image, writing through to it (unless -r);
 * output goes to stdout, what qemu-io prints on stderr goes to stderr, and the exit status is 1 if
 * any command failed, as qemu-io's is. The image is flushed and closed at the end either way.
 */
import { openImage } from '../node/open-image.ts';
import { DiskShell } from '../core/shell/shell.ts';
import type { CliIo } from './io.ts';

export interface IoArgs {
  readonly image: string;
  readonly format?: string;
  readonly readOnly: boolean;
  readonly commands: readonly string[];
}

export async function ioCommand(args: IoArgs, io: CliIo): Promise<number> {
  const image = await openImage(args.image, { format: args.format, readOnly: args.readOnly });
  try {
    const shell = new DiskShell(image.disk, {
      onLine: (line) => (line.stream === 'err' ? io.stderr : io.stdout)(line.text + '\n'),
    });
    const result = await shell.runAll(args.commands);
    if (!args.readOnly) await image.disk.flush();
    return result.ok ? 0 : 1;
  } finally {
    await image.disk.close();
  }
}
