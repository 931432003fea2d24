/**
 * `disklab check [-f FMT] [--output=human|json] IMG`: qemu-img check for qcow2 — every cluster's
 * reference count recomputed from the metadata and compared with the refcount table. Exit codes
 * are qemu-img's: 0 clean, 2 corruptions, 3 leaked clusters only, 63 the format has no checks
 * (raw, VHD, VHDX: as qemu-img says for raw and vpc). It repairs nothing.
 */
import { imageFileFromSync } from '../core/formats/image-file.ts';
import { checkQcow2 } from '../core/formats/qcow2/check.ts';
import { detectFormat } from '../core/formats/detect.ts';
import { NodeSyncFile } from '../node/node-sync-file.ts';
import { parseFormatName } from '../node/open-image.ts';
import type { CliIo } from './io.ts';

export interface CheckArgs {
  readonly image: string;
  readonly format?: string;
  readonly output: 'human' | 'json';
}

export async function checkCommand(args: CheckArgs, io: CliIo): Promise<number> {
  const file = new NodeSyncFile(args.image, { readOnly: true });
  try {
    const format = args.format === undefined ? detectFormat(file, args.image).format : parseFormatName(args.format);
    if (format !== 'qcow2') {
      io.stderr(`disklab: this image format (${format === 'vhd' ? 'vpc' : format}) does not support checks\n`);
      return 63;
    }
    const result = await checkQcow2(imageFileFromSync(file, { name: args.image, writable: false }));
    if (args.output === 'json') {
      io.stdout(`${JSON.stringify(result, null, 4)}\n`);
    } else {
      for (const m of result.messages) io.stdout(`${m}\n`);
      if (result.corruptions === 0 && result.leaks === 0) io.stdout('No errors were found on the image.\n');
      if (result.leaks > 0) io.stdout(`\n${result.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`);
      if (result.corruptions > 0) io.stdout(`\n${result.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`);
      const c = result;
      const pct = (n: number) => ((100 * n) / Math.max(1, c['total-clusters'])).toFixed(2);
      io.stdout(`${c['allocated-clusters']}/${c['total-clusters']} = ${pct(c['allocated-clusters'])}% allocated, ${pct(c['fragmented-clusters'])}% fragmented, ${pct(c['compressed-clusters'])}% compressed clusters\n`);
      io.stdout(`Image end offset: ${c['image-end-offset']}\n`);
    }
    return result.corruptions > 0 ? 2 : result.leaks > 0 ? 3 : 0;
  } finally {
    file.close();
  }
}
