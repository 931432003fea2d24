import { MemoryImageFile } from './vhd/memory-image-file.ts';
import { createVhdDynamic } from './vhd/create-dynamic.ts';
import { VhdDynamicDisk } from './vhd/dynamic-disk.ts';
import { describe, expect, it } from 'vitest';
import { detectSourceFormat, openSource } from './open-source.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { fixedFooterFor } from './vhd/fixed.ts';
import { serializeVhdFooter, VHD_FOOTER_SIZE } from './vhd/footer.ts';
import type { RangeSource } from '../ports/range-source.ts';

function bytesSource(bytes: Uint8Array, name = 'image'): RangeSource & { reads: Array<[number, number]> } {
  return {
    size: bytes.length,
    identity: undefined,
    name,
    reads: [],
    async read(offset, length) {
      this.reads.push([offset, length]);
      return bytes.slice(offset, offset + length);
    },
    async close() {},
  };
}

function fixedVhd(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + VHD_FOOTER_SIZE);
  out.set(data);
  out.set(serializeVhdFooter(fixedFooterFor(data.length, { uniqueId: new Uint8Array(16).fill(9), now: 0 })), data.length);
  return out;
}

describe('openSource', () => {
  it('opens a fixed VHD by content, exposing its data sectors and never the footer', async () => {
    const data = pattern(8 * 512, 3);
    const source = bytesSource(fixedVhd(data), 'a.vhd');
    const opened = await openSource(source);
    expect(opened.format).toBe('vhd');
    expect(opened.detection?.evidence).toContain('conectix');
    expect(opened.disk.diskType).toBe('vhd-fixed');
    expect(opened.disk.sectorCount()).toBe(8);
    expect([...opened.disk.diskId!]).toEqual(new Array(16).fill(9));
    const buf = new Uint8Array(8 * 512);
    await opened.disk.read(0, buf);
    expectSameBytes(buf, data);
    await expectDiskError(opened.disk.read(8, new Uint8Array(512)), 'OUT_OF_RANGE');
  });

  it('fetches only the first and last sectors to detect and validate, however big the image', async () => {
    const source = bytesSource(fixedVhd(new Uint8Array(64 * 512)));
    await openSource(source);
    expect(source.reads).toEqual([[0, 512], [64 * 512, 512]]);
  });

  it('opens anything without a signature as raw, a partial last sector included', async () => {
    const data = pattern(1300, 5);
    const opened = await openSource(bytesSource(data));
    expect(opened.format).toBe('raw');
    expect(opened.disk.diskType).toBe('raw');
    expect(opened.disk.sectorCount()).toBe(3);
    const buf = new Uint8Array(3 * 512);
    await opened.disk.read(0, buf);
    expectSameBytes(buf.subarray(0, 1300), data);
    expectSameBytes(buf.subarray(1300), new Uint8Array(236));
  });

  it('opens tiny and empty sources as raw', async () => {
    expect((await openSource(bytesSource(new Uint8Array(100)))).disk.sectorCount()).toBe(1);
    expect((await openSource(bytesSource(new Uint8Array(0)))).disk.sectorCount()).toBe(0);
  });

  it('honours a named format over detection (a VHD opened as raw shows its footer)', async () => {
    const opened = await openSource(bytesSource(fixedVhd(new Uint8Array(1024))), { format: 'raw' });
    expect(opened.detection).toBeUndefined();
    expect(opened.disk.sectorCount()).toBe(3);
  });

  it('opens a dynamic VHD through its reader, refuses a differencing one without its parent, and qcow2 without a deflate decoder as UNSUPPORTED', async () => {
    const made = new MemoryImageFile('d.vhd');
    const sparse = await createVhdDynamic(made, 4 << 20, { blockSize: 1 << 20 });
    const writer = new VhdDynamicDisk(sparse);
    await writer.write(2048, new Uint8Array(512).fill(0x42));
    await writer.flush();
    const opened = await openSource(bytesSource(made.bytes(), 'd.vhd'));
    expect(opened).toMatchObject({ format: 'vhd', subformat: 'dynamic' });
    const sector = new Uint8Array(512);
    await opened.disk.read(2048, sector);
    expect(sector.every((b) => b === 0x42)).toBe(true);
    expect(opened.disk.readOnly).toBe(true);
    const child = new MemoryImageFile('child.vhd');
    await createVhdDynamic(child, 4 << 20, { parent: { file: new MemoryImageFile('d.vhd', made.bytes(), false), name: 'd.vhd' } });
    expect((await expectDiskError(openSource(bytesSource(child.bytes(), 'child.vhd')), 'INVALID_INPUT')).message).toMatch(/differencing.*d\.vhd/);
    const vhdx = new Uint8Array(4096);
    vhdx.set(new TextEncoder().encode('vhdxfile'));
    await expectDiskError(openSource(bytesSource(vhdx, 'x.vhdx')), 'CORRUPT_IMAGE');
    const qcow = new Uint8Array(4096);
    qcow.set([0x51, 0x46, 0x49, 0xfb]);
    expect((await expectDiskError(openSource(bytesSource(qcow, 'q.qcow2')), 'UNSUPPORTED')).message).toContain('qcow2');
    expect((await detectSourceFormat(bytesSource(qcow))).format).toBe('qcow2');
  });

  it('rejects a damaged footer or a size that disagrees with it as CORRUPT_IMAGE naming the field', async () => {
    const image = fixedVhd(new Uint8Array(1024));
    image[image.length - 1] = image[image.length - 1]! ^ 0xff; // reserved byte: only the checksum notices
    expect((await expectDiskError(openSource(bytesSource(image)), 'CORRUPT_IMAGE')).field).toBe('checksum');
    const footer = serializeVhdFooter(fixedFooterFor(4096, { now: 0 }));
    const wrongSize = new Uint8Array(1024 + 512);
    wrongSize.set(footer, 1024);
    expect((await expectDiskError(openSource(bytesSource(wrongSize)), 'CORRUPT_IMAGE')).field).toBe('currentSize');
  });

  it('passes source failures through with their code', async () => {
    const failing: RangeSource = { ...bytesSource(new Uint8Array(4096)), read: () => Promise.reject(new (class extends Error {})('gone')) };
    await expectDiskError(openSource(failing), 'IO');
  });
});
