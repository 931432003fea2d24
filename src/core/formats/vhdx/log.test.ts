/**
 * Log replay, with logs written by hand (qemu-img clears its log on close, so it never leaves
 * one to replay): an entry that allocates a block through the BAT and writes and zeroes data,
 * the choice of the active sequence, wrap-around, and the refusals the spec demands.
 */
import { describe, expect, it } from 'vitest';
import { openDisk } from '../../disk/open-disk.ts';
import { expectDiskError, expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { VhdxImage } from './image.ts';
import { openVhdx } from './open.ts';
import { buildLogEntry, buildVhdx, memoryImageFile, type BuildDescriptor, type BuildLogEntry, type BuiltVhdx } from './testing/builder.ts';

const MiB = 1024 * 1024;
const LOG = '5A5A5A5A-1234-5678-9ABC-DEF012345678';
const A = pattern(MiB, 1);

interface Setup {
  readonly built: BuiltVhdx;
  readonly end: number;
  readonly block0: number;
  /** Descriptors that allocate block 1 at the end of the file with page `first` then `second`, and zero block 0's first 8 KiB. */
  descriptors(first: Uint8Array, second: Uint8Array): BuildDescriptor[];
}

function setup(): Setup {
  const built = buildVhdx({ virtualSize: 4 * MiB, blocks: new Map([[0, { state: 6, data: A }]]), logGuid: LOG });
  const end = built.bytes.length;
  const view = new DataView(built.bytes.buffer);
  const block0 = Number(view.getBigUint64(built.batOffset, true) >> 20n) * MiB;
  return {
    built,
    end,
    block0,
    descriptors(first, second) {
      const batPage = built.bytes.slice(built.batOffset, built.batOffset + 4096);
      new DataView(batPage.buffer).setBigUint64(8, (BigInt(end / MiB) << 20n) | 6n, true);
      return [
        { kind: 'data', fileOffset: built.batOffset, page: batPage },
        { kind: 'data', fileOffset: end, page: first },
        { kind: 'data', fileOffset: end + 4096, page: second },
        { kind: 'zero', fileOffset: block0, length: 8192 },
      ];
    },
  };
}

function writeEntry(built: BuiltVhdx, logLength: number, e: BuildLogEntry, guid = LOG): Uint8Array {
  const bytes = buildLogEntry(guid, e);
  for (let i = 0; i < bytes.length; i++) built.bytes[built.logOffset + ((e.position + i) % logLength)] = bytes[i]!;
  return bytes;
}

async function readDisk(bytes: Uint8Array): Promise<Uint8Array> {
  const disk = openDisk(await openVhdx(memoryImageFile(bytes)));
  const out = new Uint8Array(4 * MiB);
  await disk.read(0, out);
  await disk.close();
  return out;
}

function expected(first: Uint8Array, second: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 * MiB);
  out.set(A.subarray(8192), 8192);
  out.set(first, MiB);
  out.set(second, MiB + 4096);
  return out;
}

const P1 = pattern(4096, 11);
const P2 = pattern(4096, 12);
const P3 = pattern(4096, 13);
const PX = pattern(4096, 14);

describe('VHDX log replay', () => {
  it('replays an entry that allocates a block through the BAT, writes past the end of the file and zeroes data', async () => {
    const s = setup();
    // Before any entry: the header names a log, the log is empty: the spec says refuse.
    const empty = await expectDiskError(openVhdx(memoryImageFile(s.built.bytes.slice())), 'CORRUPT_IMAGE');
    expect(empty.field).toBe('log');
    writeEntry(s.built, MiB, { sequence: 10n, position: 0, tail: 0, descriptors: s.descriptors(P1, P2), flushedFileOffset: s.end, lastFileOffset: s.end + MiB });
    const image = await VhdxImage.open(memoryImageFile(s.built.bytes));
    expect(image.entriesReplayed).toBe(1);
    expect(image.file.size()).toBe(s.end + MiB);
    expectSameBytes(await readDisk(s.built.bytes), expected(P1, P2), 'replayed disk');
    // The file itself is untouched: without the log, block 1 is not present and block 0 intact.
    const noLog = s.built.bytes.slice();
    noLog.fill(0, s.built.logOffset, s.built.logOffset + MiB);
    const plain = buildVhdx({ virtualSize: 4 * MiB, blocks: new Map([[0, { state: 6, data: A }]]) });
    const raw = await readDisk(plain.bytes);
    expectSameBytes(raw.subarray(0, MiB), A, 'block 0 without the log');
  });

  it('replays the newest complete sequence, tail to head, and falls back when its head is torn', async () => {
    const s = setup();
    const logLength = MiB;
    // An old, complete sequence elsewhere in the log.
    writeEntry(s.built, logLength, { sequence: 3n, position: 512 * 1024, tail: 512 * 1024, descriptors: s.descriptors(PX, PX), flushedFileOffset: s.end, lastFileOffset: s.end + MiB });
    const first = writeEntry(s.built, logLength, { sequence: 10n, position: 0, tail: 0, descriptors: s.descriptors(P1, P2), flushedFileOffset: s.end, lastFileOffset: s.end + MiB });
    const second = writeEntry(s.built, logLength, { sequence: 11n, position: first.length, tail: 0, descriptors: [{ kind: 'data', fileOffset: s.end, page: P3 }], flushedFileOffset: s.end, lastFileOffset: s.end + MiB });
    expectSameBytes(await readDisk(s.built.bytes), expected(P3, P2), 'sequence 10-11');
    // Tear the head (a data byte of entry 11): the sequence ending at 10 is the newest complete one.
    const torn = s.built.bytes.slice();
    torn[s.built.logOffset + first.length + second.length - 100]! ^= 0xff;
    expectSameBytes(await readDisk(torn), expected(P1, P2), 'sequence 10 alone');
    // Tear entry 10 too: 11's tail no longer leads to it, so only the old sequence 3 is complete.
    torn[s.built.logOffset + 4096 + 10]! ^= 0xff;
    expectSameBytes(await readDisk(torn), expected(PX, PX), 'sequence 3');
  });

  it('reads an entry that wraps around the end of the log', async () => {
    const s = setup();
    writeEntry(s.built, MiB, { sequence: 7n, position: MiB - 8192, tail: MiB - 8192, descriptors: s.descriptors(P2, P1), flushedFileOffset: s.end, lastFileOffset: s.end + MiB });
    expectSameBytes(await readDisk(s.built.bytes), expected(P2, P1), 'wrapped entry');
  });

  it('ignores entries of another LogGuid and refuses a truncated file', async () => {
    const s = setup();
    writeEntry(s.built, MiB, { sequence: 10n, position: 0, tail: 0, descriptors: s.descriptors(P1, P2), flushedFileOffset: s.end }, '00000000-0000-0000-0000-000000000001');
    expect((await expectDiskError(openVhdx(memoryImageFile(s.built.bytes)), 'CORRUPT_IMAGE')).field).toBe('log');
    const t = setup();
    writeEntry(t.built, MiB, { sequence: 10n, position: 0, tail: 0, descriptors: t.descriptors(P1, P2), flushedFileOffset: t.end + MiB });
    expect((await expectDiskError(openVhdx(memoryImageFile(t.built.bytes)), 'CORRUPT_IMAGE')).field).toBe('log.flushedFileOffset');
  });

  it('checks the sequence number in every descriptor and data sector', async () => {
    const s = setup();
    const bytes = writeEntry(s.built, MiB, { sequence: 10n, position: 0, tail: 0, descriptors: s.descriptors(P1, P2), flushedFileOffset: s.end, lastFileOffset: s.end + MiB });
    // Rewrite the data sector's SequenceLow and fix the CRC: the entry must still be rejected.
    const bad = bytes.slice();
    const v = new DataView(bad.buffer);
    v.setUint32(4096 + 4092, 9, true);
    v.setUint32(4, 0, true);
    const { crc32c } = await import('../../checksum/crc32c.ts');
    v.setUint32(4, crc32c(bad), true);
    s.built.bytes.set(bad, s.built.logOffset);
    expect((await expectDiskError(openVhdx(memoryImageFile(s.built.bytes)), 'CORRUPT_IMAGE')).field).toBe('log');
  });
});
