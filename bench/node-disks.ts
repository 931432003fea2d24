/**
 * Node benchmarks of the core disks, 4 KiB random I/O at queue depth 1 (each op awaited), against
 * the raw platform doing the same copies or syscalls, and against each other as peers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RamDisk } from '../src/core/backends/ram-disk.ts';
import { FileDisk } from '../src/core/backends/file-disk.ts';
import { openDisk } from '../src/core/disk/open-disk.ts';
import type { Disk } from '../src/core/disk/disk.ts';
import { NodeSyncFile } from '../src/node/node-sync-file.ts';
import { LayeredDisk } from '../src/core/layered/layered-disk.ts';
import { RamLayer } from '../src/core/layered/ram-layer.ts';
import { DiskLayer } from '../src/core/layered/disk-layer.ts';
import { offsets, rate, result, type BenchResult } from './harness.ts';

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;
const IO = 4096;
const SECTOR = 512;
const SLOTS = DISK_BYTES / IO;
const lbas = offsets(1 << 16, SLOTS, 7);
const lbaAt = (i: number) => (lbas[i & 0xffff] as number) * (IO / SECTOR);

async function fill(disk: Disk): Promise<void> {
  const chunk = new Uint8Array(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
  for (let lba = 0; lba < disk.sectorCount(); lba += MiB / SECTOR) await disk.write(lba, chunk);
}

/** The platform baseline for a memory disk: copying 4 KiB between typed arrays at the same offsets. */
async function memcpyRate(direction: 'read' | 'write') {
  const mem = new Uint8Array(DISK_BYTES);
  const buf = new Uint8Array(IO);
  return rate((i) => {
    const at = lbaAt(i) * SECTOR;
    if (direction === 'read') buf.set(mem.subarray(at, at + IO));
    else mem.set(buf, at);
  });
}

async function diskRate(disk: Disk, direction: 'read' | 'write') {
  const buf = new Uint8Array(IO).fill(7);
  return rate((i) => (direction === 'read' ? disk.read(lbaAt(i), buf) : disk.write(lbaAt(i), buf)));
}

export async function ramDiskBenchmarks(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const direction of ['read', 'write'] as const) {
    const disk = openDisk(new RamDisk({ sectors: DISK_BYTES / SECTOR }));
    await fill(disk);
    const subject = await diskRate(disk, direction);
    const baseline = await memcpyRate(direction);
    out.push(
      result(`ramdisk-4k-rand${direction}-qd1`, `RamDisk (through openDisk) 4 KiB random ${direction}s, each awaited`, 'IOPS', subject, {
        name: `Uint8Array.set of 4 KiB at the same offsets (platform)`,
        rate: baseline,
      }),
    );
  }
  return out;
}

export async function fileDiskBenchmarks(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-bench-'));
  const file = path.join(dir, 'disk.img');
  fs.writeFileSync(file, new Uint8Array(DISK_BYTES).fill(3));
  const out: BenchResult[] = [];
  try {
    for (const direction of ['read', 'write'] as const) {
      const disk = openDisk(new FileDisk(new NodeSyncFile(file)));
      const subject = await diskRate(disk, direction);
      await disk.close();
      const fd = fs.openSync(file, 'r+');
      const buf = new Uint8Array(IO);
      const baseline = await rate((i) => {
        const at = lbaAt(i) * SECTOR;
        if (direction === 'read') fs.readSync(fd, buf, 0, IO, at);
        else fs.writeSync(fd, buf, 0, IO, at);
      });
      fs.closeSync(fd);
      out.push(
        result(`filedisk-4k-rand${direction}-qd1`, `FileDisk over node:fs 4 KiB random ${direction}s (page cache), each awaited`, 'IOPS', subject, {
          name: `fs.${direction}Sync of 4 KiB at the same offsets (platform)`,
          rate: baseline,
        }),
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/**
 * Copy-on-write cost: a RAM layer over a base disk, against the flat RamDisk as the peer. Reads hit
 * a stack where the top layer holds every other 64 KiB region, so half fall through to the base.
 */
export async function layeredDiskBenchmarks(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const direction of ['read', 'write'] as const) {
    const base = new RamDisk({ sectors: DISK_BYTES / SECTOR });
    await fill(base);
    const top = new RamLayer({ sectors: DISK_BYTES / SECTOR });
    const stack = openDisk(new LayeredDisk([{ layer: top }, { layer: new DiskLayer(base) }]));
    const half = new Uint8Array(64 * 1024).fill(9);
    for (let lba = 0; lba < stack.sectorCount(); lba += 256) await stack.write(lba, half);
    const subject = await diskRate(stack, direction);
    const flat = openDisk(new RamDisk({ sectors: DISK_BYTES / SECTOR }));
    await fill(flat);
    const peer = await diskRate(flat, direction);
    out.push(
      result(`layered-ram-over-ram-4k-rand${direction}-qd1`, `LayeredDisk (RAM layer over a RAM base, top half-populated) 4 KiB random ${direction}s`, 'IOPS', subject, {
        name: 'RamDisk, flat (peer)',
        rate: peer,
      }),
    );
  }
  return out;
}
