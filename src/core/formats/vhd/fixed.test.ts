import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSyncFile } from '../../../node/node-sync-file.ts';
import { openDisk } from '../../disk/open-disk.ts';
import { DiskConfigError } from '../../disk/errors.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { VHD_FOOTER_SIZE, parseVhdFooter, serializeVhdFooter, vhdChecksum } from './footer.ts';
import { VHD_MAX_BYTES, VhdFixedDisk, fixedFooterFor } from './fixed.ts';
import { openVhd } from './open.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-vhd-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => path.join(dir, `d${counter++}.vhd`);

describeDiskConformance({
  name: 'VhdFixedDisk',
  sectorSizes: [512],
  // 2^40 bytes: well inside VHD's limit and every file system the tests run on.
  maxSectors: () => 2 ** 31,
  make: async ({ sectors, readOnly }) => {
    const p = freshPath();
    VhdFixedDisk.create(new NodeSyncFile(p, { create: true }), sectors * 512).close();
    return openVhd(new NodeSyncFile(p, { readOnly }), { readOnly, name: p });
  },
});

function makeVhd(sizeBytes: number): string {
  const p = freshPath();
  const disk = VhdFixedDisk.create(new NodeSyncFile(p, { create: true }), sizeBytes, { name: p });
  void disk.close();
  return p;
}

const open = (p: string, readOnly = false) => openVhd(new NodeSyncFile(p, { readOnly }), { readOnly, name: p });

function rewriteFooter(p: string, edit: (bytes: Uint8Array, view: DataView) => void): void {
  const size = fs.statSync(p).size;
  const fd = fs.openSync(p, 'r+');
  const bytes = new Uint8Array(VHD_FOOTER_SIZE);
  fs.readSync(fd, bytes, 0, VHD_FOOTER_SIZE, size - VHD_FOOTER_SIZE);
  const view = new DataView(bytes.buffer);
  edit(bytes, view);
  view.setUint32(64, vhdChecksum(bytes));
  fs.writeSync(fd, bytes, 0, VHD_FOOTER_SIZE, size - VHD_FOOTER_SIZE);
  fs.closeSync(fd);
}

describe('fixed VHD', () => {
  it('creates a file of size + 512 with a valid footer, and exposes exactly the data sectors', async () => {
    const p = makeVhd(10 * 1024 * 1024 + 3 * 512);
    expect(fs.statSync(p).size).toBe(10 * 1024 * 1024 + 4 * 512);
    const disk = openDisk(open(p));
    expect(disk.diskType).toBe('vhd-fixed');
    expect(disk.sectorCount()).toBe(20483);
    expect(disk.diskId).toEqual(parseVhdFooter(fs.readFileSync(p).subarray(-512)).uniqueId);
    // The footer is past the last sector: unreachable by reads and writes.
    await expectDiskError(disk.read(20483, new Uint8Array(512)), 'OUT_OF_RANGE');
    await expectDiskError(disk.write(20482, new Uint8Array(1024)), 'OUT_OF_RANGE');
    expect(disk.resize).toBeUndefined();
    await disk.close();
  });

  it('keeps data and footer intact across close and reopen', async () => {
    const p = makeVhd(1024 * 512);
    const footerBefore = fs.readFileSync(p).subarray(-512);
    const disk = openDisk(open(p));
    await disk.write(1023, pattern(512, 5));
    await disk.write(0, pattern(4096, 6));
    await disk.close();
    const raw = fs.readFileSync(p);
    expectSameBytes(raw.subarray(-512), footerBefore, 'footer');
    expectSameBytes(raw.subarray(1023 * 512, 1024 * 512), pattern(512, 5), 'last sector');
    const again = openDisk(open(p, true));
    const buf = new Uint8Array(4096);
    await again.read(0, buf);
    expectSameBytes(buf, pattern(4096, 6));
    await again.close();
  });

  it('gives every new disk its own unique id', () => {
    const a = parseVhdFooter(fs.readFileSync(makeVhd(512)).subarray(-512)).uniqueId;
    const b = parseVhdFooter(fs.readFileSync(makeVhd(512)).subarray(-512)).uniqueId;
    expect(a).not.toEqual(b);
  });

  it('rejects a file whose size does not match the current size, naming currentSize', async () => {
    const p = makeVhd(64 * 512);
    rewriteFooter(p, (_, v) => v.setBigUint64(48, BigInt(32 * 512)));
    const e = await expectDiskError(Promise.resolve().then(() => open(p)), 'CORRUPT_IMAGE');
    expect(e.field).toBe('currentSize');
    expect(e.message).toContain(p);
  });

  it('rejects a file appended to after the footer', async () => {
    const p = makeVhd(64 * 512);
    fs.appendFileSync(p, new Uint8Array(512));
    // The footer is no longer last: the last 512 bytes are zeroes, not a footer.
    expect((await expectDiskError(Promise.resolve().then(() => open(p)), 'CORRUPT_IMAGE')).field).toBe('cookie');
  });

  it('rejects files too small for a footer', async () => {
    const p = freshPath();
    fs.writeFileSync(p, new Uint8Array(100));
    expect((await expectDiskError(Promise.resolve().then(() => open(p)), 'CORRUPT_IMAGE')).field).toBe('footer');
    expect((await expectDiskError(Promise.resolve().then(() => VhdFixedDisk.open(new NodeSyncFile(p))), 'CORRUPT_IMAGE')).field).toBe('footer');
  });

  it('recognises dynamic and differencing VHDs and reports them as not supported yet', async () => {
    for (const [type, name] of [[3, 'dynamic'], [4, 'differencing']] as const) {
      const p = makeVhd(64 * 512);
      rewriteFooter(p, (_, v) => {
        v.setUint32(60, type);
        v.setBigUint64(16, 512n);
      });
      const e = await expectDiskError(Promise.resolve().then(() => open(p)), 'UNSUPPORTED');
      expect(e.message).toContain(name);
    }
  });

  it('recognises a dynamic VHD by the footer copy at offset 0 when the end footer is damaged', async () => {
    const p = freshPath();
    const copy = serializeVhdFooter({ ...fixedFooterFor(1024 * 512), diskType: 'dynamic', dataOffset: 512n });
    fs.writeFileSync(p, Buffer.concat([copy, new Uint8Array(2048)]));
    await expectDiskError(Promise.resolve().then(() => open(p)), 'UNSUPPORTED');
  });

  it('refuses to create impossible sizes with a DiskConfigError naming size', () => {
    const file = new NodeSyncFile(freshPath(), { create: true });
    for (const size of [-512, 1000, VHD_MAX_BYTES + 512, 2 ** 60]) {
      expect(() => VhdFixedDisk.create(file, size)).toThrow(DiskConfigError);
    }
    file.close();
  });
});
