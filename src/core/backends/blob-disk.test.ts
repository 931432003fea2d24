import { describe, expect, it } from 'vitest';
import { BlobDisk } from './blob-disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { openDisk } from '../disk/open-disk.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { RamLayer } from '../layered/ram-layer.ts';
import { DiskLayer } from '../layered/disk-layer.ts';
import type { RangeSource } from '../ports/range-source.ts';

/** A source of `size` bytes, `content` at the start and zeroes after it (virtual: a 2^53-byte source costs nothing), recording every read. */
function memorySource(size: number, content: Uint8Array = new Uint8Array(0)): RangeSource & { reads: Array<[number, number]>; closed: boolean } {
  return {
    size,
    identity: 'test',
    name: 'test.img',
    reads: [],
    closed: false,
    async read(offset: number, length: number) {
      this.reads.push([offset, length]);
      if (offset < 0 || length < 0 || offset + length > size) throw new DiskError('OUT_OF_RANGE', `source read ${offset}+${length} past ${size}`);
      const out = new Uint8Array(length);
      if (offset < content.length) out.set(content.subarray(offset, Math.min(content.length, offset + length)));
      return out;
    },
    async close() {
      this.closed = true;
    },
  };
}

// BlobDisk is read-only by nature, but the suite writes to most disks it makes. So a writable
// disk is BlobDisk under a RAM diff (LayeredDisk [RamLayer, DiskLayer(BlobDisk)]): the suite's
// reads then fall through to the BlobDisk wherever nothing was written, exercising its reads and
// ranges, and a read-only disk is the BlobDisk itself (reads, READ_ONLY refusals). BlobDisk's own
// range checks and exact-range reads are tested directly below.
describeDiskConformance({
  name: 'BlobDisk',
  make: async ({ sectorSize, sectors, readOnly }) => {
    const blob = new BlobDisk(memorySource(sectors * sectorSize), { sectorSize });
    if (readOnly) return blob;
    return new LayeredDisk([{ layer: new RamLayer({ sectors, sectorSize }) }, { layer: new DiskLayer(blob) }]);
  },
});

describe('BlobDisk', () => {
  const content = pattern(10 * 512, 7);

  it('reads exactly the byte ranges asked for, never the whole source', async () => {
    const source = memorySource(content.length, content);
    const disk = new BlobDisk(source);
    const buf = new Uint8Array(3 * 512);
    await disk.read(4, buf);
    expectSameBytes(buf, content.subarray(4 * 512, 7 * 512));
    expect(source.reads).toEqual([[2048, 1536]]);
  });

  it('never exposes bytes past its own sector count (a VHD footer stays unreadable)', async () => {
    const source = memorySource(content.length, content);
    const disk = new BlobDisk(source, { sectors: 9, diskType: 'vhd-fixed' });
    expect(disk.sectorCount()).toBe(9);
    await expectDiskError(disk.read(9, new Uint8Array(512)), 'OUT_OF_RANGE');
    await expectDiskError(disk.read(8, new Uint8Array(1024)), 'OUT_OF_RANGE');
    expect(source.reads).toEqual([]);
  });

  it('exposes a partial last sector with its missing tail as zeroes', async () => {
    const source = memorySource(1000, content.subarray(0, 1000));
    const disk = new BlobDisk(source);
    expect(disk.sectorCount()).toBe(2);
    const buf = new Uint8Array(1024).fill(0xee);
    await disk.read(0, buf);
    expectSameBytes(buf.subarray(0, 1000), content.subarray(0, 1000));
    expectSameBytes(buf.subarray(1000), new Uint8Array(24));
    expect(source.reads).toEqual([[0, 1000]]);
  });

  it('refuses writes and unmaps with READ_ONLY, but range-checks them first', async () => {
    const disk = new BlobDisk(memorySource(content.length, content));
    expect(disk.readOnly).toBe(true);
    await expectDiskError(disk.write(0, pattern(512, 1)), 'READ_ONLY');
    await expectDiskError(disk.unmap(0, 1), 'READ_ONLY');
    await expectDiskError(disk.write(10, pattern(512, 1)), 'OUT_OF_RANGE');
    await expectDiskError(openDisk(disk).write(0, pattern(512, 1)), 'READ_ONLY');
  });

  it('passes a source DiskError code through with the LBA, and wraps anything else as IO', async () => {
    const failing = (e: unknown): RangeSource => ({ ...memorySource(4096), read: () => Promise.reject(e) });
    const net = await expectDiskError(new BlobDisk(failing(new DiskError('NETWORK', 'object changed'))).read(3, new Uint8Array(512)), 'NETWORK');
    expect(net.lba).toBe(3);
    const io = await expectDiskError(new BlobDisk(failing(new TypeError('boom'))).read(2, new Uint8Array(512)), 'IO');
    expect(io.lba).toBe(2);
    expect(io.message).toContain('boom');
  });

  it('rejects a short answer from a misbehaving source as IO', async () => {
    const short: RangeSource = { ...memorySource(4096), read: async (_o, length) => new Uint8Array(length - 1) };
    await expectDiskError(new BlobDisk(short).read(0, new Uint8Array(512)), 'IO');
  });

  it('closes its source', async () => {
    const source = memorySource(512);
    await new BlobDisk(source).close();
    expect(source.closed).toBe(true);
  });

  it('rejects sizes the source cannot back and bad sector sizes with DiskConfigError', () => {
    expect(() => new BlobDisk(memorySource(4096), { sectors: 9 })).toThrow(DiskConfigError);
    expect(() => new BlobDisk(memorySource(4096), { sectorSize: 1000 })).toThrow(DiskConfigError);
    expect(() => new BlobDisk(memorySource(4096), { diskId: new Uint8Array(3) })).toThrow(DiskConfigError);
  });
});
