/**
 * The commands that describe rather than move data: map, alloc, info, length, help, trace.
 * `map` and `alloc` use the disk's optional `describeMap` (disk-map.ts); without it the whole
 * disk counts as allocated, which is what qemu-io says about a raw image.
 */
import { failed, sizeArg, usage, type CommandContext, type ShellCommand } from './command.ts';
import { allocationExtents, type MapExtent } from './disk-map.ts';
import { formatQemuSize } from './qemu-format.ts';

async function extents(ctx: CommandContext, lba: number, count: number): Promise<MapExtent[]> {
  if (ctx.map === undefined) return count === 0 ? [] : [{ lba, count, allocated: true }];
  return allocationExtents(await ctx.map.describeMap(lba, count), lba, count);
}

export const mapCommand: ShellCommand = {
  name: 'map',
  synopsis: '',
  summary: 'prints the allocated areas of the disk',
  help: [
    ' Lists the disk as ranges that the disk holds itself ("allocated") and ranges it does',
    ' not (for a layered disk: what its top layer holds). A disk that cannot tell is one',
    ' allocated range.',
  ],
  argMin: 0,
  argMax: 0,
  optstring: '',
  async run(ctx) {
    const ss = ctx.io.sectorSize;
    let list: MapExtent[];
    try {
      list = await extents(ctx, 0, ctx.io.disk.sectorCount());
    } catch (e) {
      return failed(ctx, 'map', e);
    }
    for (const e of list) {
      const bytes = e.count * ss;
      const offset = e.lba * ss;
      const state = e.allocated ? '    allocated' : 'not allocated';
      ctx.out(`${formatQemuSize(bytes)} (0x${bytes.toString(16)}) bytes ${state} at offset ${formatQemuSize(offset)} (0x${offset.toString(16)})`);
    }
    return true;
  },
};

export const allocCommand: ShellCommand = {
  name: 'alloc',
  synopsis: 'offset [count]',
  summary: 'checks if offset is allocated in the disk',
  help: [
    " 'alloc 1M 64k' - how many of the 64 KiB at 1 MiB the disk holds itself",
    '',
    ' count defaults to 512 bytes and is cut short at the end of the disk.',
  ],
  argMin: 1,
  argMax: 2,
  optstring: '',
  async run(ctx, a) {
    const offset = sizeArg(ctx, a.args[0]!);
    if (offset === undefined) return false;
    const asked = a.args[1] === undefined ? 512 : sizeArg(ctx, a.args[1]);
    if (asked === undefined) return false;
    const ss = ctx.io.sectorSize;
    const size = ctx.io.sizeBytes();
    if (offset > size) return failed(ctx, 'alloc', `offset ${offset} is beyond the end of a disk of ${size} bytes`);
    const count = Math.min(asked, size - offset);
    let allocated = 0;
    try {
      const first = Math.floor(offset / ss);
      const end = Math.ceil((offset + count) / ss);
      for (const e of await extents(ctx, first, end - first)) {
        if (!e.allocated) continue;
        allocated += Math.min(offset + count, (e.lba + e.count) * ss) - Math.max(offset, e.lba * ss);
      }
    } catch (e) {
      return failed(ctx, 'alloc', e);
    }
    ctx.out(`${allocated}/${count} bytes allocated at offset ${formatQemuSize(offset)}`);
    return true;
  },
};

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

function formatId(id: Uint8Array): string {
  const hex = Array.from(id, (b) => b.toString(16).padStart(2, '0')).join('');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

export const infoCommand: ShellCommand = {
  name: 'info',
  synopsis: '',
  summary: 'prints information about the disk',
  help: [' Size, sector sizes, read-only, identity, FUA, unmap behaviour and optional features.'],
  argMin: 0,
  argMax: 0,
  optstring: '',
  async run(ctx) {
    const d = ctx.io.disk;
    const bytes = ctx.io.sizeBytes();
    const unmapBytes = d.optimalUnmapSectors * d.sectorSize;
    ctx.out(`format name: ${d.diskType}`);
    ctx.out(`disk size: ${formatQemuSize(bytes)} (${bytes} bytes)`);
    ctx.out(`sector size: ${d.sectorSize} bytes`);
    ctx.out(`physical sector size: ${d.physicalSectorSize} bytes`);
    ctx.out(`sectors: ${d.sectorCount()}`);
    ctx.out(`read-only: ${yesNo(d.readOnly)}`);
    ctx.out(`disk id: ${d.diskId === undefined ? 'none' : formatId(d.diskId)}`);
    ctx.out(`fua respected: ${yesNo(d.fuaRespected)}`);
    ctx.out(`unmap behavior: ${d.unmapBehavior}`);
    ctx.out(`optimal unmap: ${d.optimalUnmapSectors} sectors (${formatQemuSize(unmapBytes)})`);
    ctx.out(`resizable: ${yesNo(d.resize !== undefined)}`);
    ctx.out(`persistent reservations: ${yesNo(d.reservations !== undefined)}`);
    ctx.out(`allocation map: ${yesNo(ctx.map !== undefined)}`);
    return true;
  },
};

export const lengthCommand: ShellCommand = {
  name: 'length',
  synopsis: '',
  summary: 'gets the length of the disk',
  help: [' Prints the disk size as qemu-io does ("1 MiB").'],
  argMin: 0,
  argMax: 0,
  optstring: '',
  async run(ctx) {
    ctx.out(formatQemuSize(ctx.io.sizeBytes()));
    return true;
  },
};

export const traceCommand: ShellCommand = {
  name: 'trace',
  synopsis: '[on|off]',
  summary: 'shows the sector-level Disk calls each command makes',
  help: [
    " 'trace on' then 'write 100 10' - shows the read-modify-write a 10-byte write becomes:",
    '   trace: read lba=0 count=1',
    '   trace: write lba=0 count=1',
    '',
    ' Without an argument, says whether tracing is on.',
  ],
  argMin: 0,
  argMax: 1,
  optstring: '',
  async run(ctx, a) {
    const arg = a.args[0];
    if (arg === undefined) {
      ctx.out(`trace is ${ctx.trace ? 'on' : 'off'}`);
      return true;
    }
    if (arg !== 'on' && arg !== 'off') return usage(ctx, this, `expected on or off, got '${arg}'`);
    ctx.trace = arg === 'on';
    return true;
  },
};

export const helpCommand: ShellCommand = {
  name: 'help',
  synopsis: '[command]',
  summary: 'help for one or all commands',
  help: [" 'help read' - what read does and its options"],
  argMin: 0,
  argMax: 1,
  optstring: '',
  async run(ctx, a) {
    const line = (c: ShellCommand) => `${c.name} ${c.synopsis} -- ${c.summary}`;
    const name = a.args[0];
    if (name === undefined) {
      for (const c of ctx.commands) ctx.out(line(c));
      ctx.out('');
      ctx.out("Use 'help commandname' for extended help.");
      return true;
    }
    const cmd = ctx.commands.find((c) => c.name === name);
    if (cmd === undefined) {
      ctx.err(`command ${name} not found; 'help' lists the commands`);
      return false;
    }
    ctx.out(line(cmd));
    ctx.out('');
    for (const text of cmd.help) ctx.out(text);
    ctx.out('');
    return true;
  },
};
