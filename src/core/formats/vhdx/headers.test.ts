/** Header pair, region table copies and required-but-unknown items, on builder images. */
import { describe, expect, it } from 'vitest';
import { expectDiskError } from '../../testing/disk-conformance.ts';
import { VhdxImage } from './image.ts';
import { guidBytes } from './guid.ts';
import { buildVhdx, headerBytes, memoryImageFile, sealCrc } from './testing/builder.ts';

const MiB = 1024 * 1024;
const open = (bytes: Uint8Array) => VhdxImage.open(memoryImageFile(bytes));

describe('VHDX headers and region tables', () => {
  it('takes the valid header with the higher sequence number', async () => {
    const built = buildVhdx({ virtualSize: MiB, headerSequence: [7n, 3n] });
    expect((await open(built.bytes)).header.copy).toBe(0);
    built.bytes.set(headerBytes(9n, '99999999-9999-9999-9999-999999999999', '00000000-0000-0000-0000-000000000000', 0, 0), 128 * 1024);
    const image = await open(built.bytes);
    expect(image.header.copy).toBe(1);
    expect(image.header.sequenceNumber).toBe(9n);
    // Damage the newer one: the older valid header is used.
    built.bytes[128 * 1024 + 200]! ^= 1;
    expect((await open(built.bytes)).header.copy).toBe(0);
    built.bytes[64 * 1024 + 200]! ^= 1;
    expect((await expectDiskError(open(built.bytes), 'CORRUPT_IMAGE')).field).toBe('header');
  });

  it('refuses another file type, header version 2 and log version 1', async () => {
    const built = buildVhdx({ virtualSize: MiB });
    const other = built.bytes.slice();
    other[0] = 0x56;
    expect((await expectDiskError(open(other), 'CORRUPT_IMAGE')).field).toBe('fileIdentifier');
    for (const [at, value] of [[66, 2], [64, 1]] as const) {
      const b = built.bytes.slice();
      for (const h of [64 * 1024, 128 * 1024]) {
        new DataView(b.buffer).setUint16(h + at, value, true);
        sealCrc(b.subarray(h, h + 4096));
      }
      await expectDiskError(open(b), 'UNSUPPORTED');
    }
  });

  it('falls back to the region table copy at 256 KiB', async () => {
    const built = buildVhdx({ virtualSize: 2 * MiB, blocks: new Map([[1, { state: 6 }]]) });
    built.bytes[192 * 1024 + 40]! ^= 0xff;
    expect((await open(built.bytes)).regions.bat.fileOffset).toBe(2 * MiB);
    built.bytes[256 * 1024 + 40]! ^= 0xff;
    expect((await expectDiskError(open(built.bytes), 'CORRUPT_IMAGE')).field).toBe('regionTable');
  });

  it('refuses required regions and metadata items it does not know, and ignores optional ones', async () => {
    const built = buildVhdx({ virtualSize: MiB });
    const region = built.bytes.subarray(192 * 1024, 256 * 1024);
    const rv = new DataView(region.buffer, region.byteOffset);
    rv.setUint32(8, 3, true);
    region.set(guidBytes('01010101-0202-0303-0404-050505050505'), 16 + 64);
    rv.setBigUint64(16 + 64 + 16, BigInt(10 * MiB), true);
    rv.setUint32(16 + 64 + 24, MiB, true);
    sealCrc(region);
    await open(built.bytes);
    rv.setUint32(16 + 64 + 28, 1, true);
    sealCrc(region);
    await expectDiskError(open(built.bytes), 'UNSUPPORTED');

    const meta = buildVhdx({ virtualSize: MiB });
    const mv = new DataView(meta.bytes.buffer, meta.metadataOffset);
    const count = mv.getUint16(10, true);
    mv.setUint16(10, count + 1, true);
    meta.bytes.set(guidBytes('0A0A0A0A-0B0B-0C0C-0D0D-0E0E0E0E0E0E'), meta.metadataOffset + 32 + 32 * count);
    await open(meta.bytes);
    mv.setUint32(32 + 32 * count + 24, 4, true);
    await expectDiskError(open(meta.bytes), 'UNSUPPORTED');
  });

  it('validates metadata values and the BAT size', async () => {
    const built = buildVhdx({ virtualSize: MiB });
    // The file parameters item is the first item the builder writes, at 64 KiB: a 3 MiB block size.
    new DataView(built.bytes.buffer, built.metadataOffset).setUint32(64 * 1024, 3 * MiB, true);
    expect((await expectDiskError(open(built.bytes), 'CORRUPT_IMAGE')).field).toBe('metadata.blockSize');
    // A virtual size whose BAT does not fit the BAT region.
    const big = buildVhdx({ virtualSize: MiB });
    const mv = new DataView(big.bytes.buffer, big.metadataOffset);
    mv.setBigUint64(64 * 1024 + 8, BigInt(1024 * 1024 * MiB), true);
    expect((await expectDiskError(open(big.bytes), 'CORRUPT_IMAGE')).field).toBe('regionTable.bat');
  });
});
