import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DiskError } from '../../disk/errors.ts';
import {
  VHD_EPOCH_UNIX_SECONDS,
  VHD_FOOTER_SIZE,
  formatUniqueId,
  parseVhdFooter,
  serializeVhdFooter,
  vhdChecksum,
  vhdTimestamp,
  type VhdFooter,
} from './footer.ts';
import { DISKLAB_CREATOR, fixedFooterFor } from './fixed.ts';

const ID = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
const good = (): Uint8Array => serializeVhdFooter(fixedFooterFor(10 * 1024 * 1024 + 3 * 512, { uniqueId: ID, now: Date.UTC(2024, 0, 2) }));

/** Applies `edit` to a footer's bytes and fixes the checksum, so only the edited field is wrong. */
function mutated(edit: (view: DataView, bytes: Uint8Array) => void, fixChecksum = true): Uint8Array {
  const bytes = good();
  const view = new DataView(bytes.buffer);
  edit(view, bytes);
  if (fixChecksum) view.setUint32(64, vhdChecksum(bytes));
  return bytes;
}

function corruptField(bytes: Uint8Array): string | undefined {
  try {
    parseVhdFooter(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DiskError);
    expect((e as DiskError).code).toBe('CORRUPT_IMAGE');
    return (e as DiskError).field;
  }
  return undefined;
}

describe('VHD footer', () => {
  it('serializes the fields where the specification puts them', () => {
    const bytes = good();
    const text = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(VHD_FOOTER_SIZE);
    expect(text(0, 8)).toBe('conectix');
    expect(view.getUint32(8)).toBe(2);
    expect(view.getUint32(12)).toBe(0x00010000);
    expect(view.getBigUint64(16)).toBe(0xffffffffffffffffn);
    expect(view.getUint32(24)).toBe(Date.UTC(2024, 0, 2) / 1000 - VHD_EPOCH_UNIX_SECONDS);
    expect(text(28, 32)).toBe('win ');
    expect(view.getUint32(32)).toBe(0x000a0000);
    expect(text(36, 40)).toBe('Wi2k');
    expect(view.getBigUint64(40)).toBe(10487296n);
    expect(view.getBigUint64(48)).toBe(10487296n);
    expect([view.getUint16(56), view.getUint8(58), view.getUint8(59)]).toEqual([301, 4, 17]);
    expect(view.getUint32(60)).toBe(2);
    expect(bytes.subarray(68, 84)).toEqual(ID);
    expect(bytes[84]).toBe(0);
    expect(bytes.subarray(85).every((b) => b === 0)).toBe(true);
    // One's complement of the byte sum excluding the checksum field.
    let sum = 0;
    bytes.forEach((b, i) => {
      if (i < 64 || i >= 68) sum += b;
    });
    expect(view.getUint32(64)).toBe(~sum >>> 0);
  });

  it('parses what it serializes', () => {
    const footer = parseVhdFooter(good());
    expect(footer).toMatchObject({
      creatorApplication: DISKLAB_CREATOR.application,
      creatorHostOs: 'Wi2k',
      currentSize: 10487296,
      diskType: 'fixed',
      savedState: false,
    } satisfies Partial<VhdFooter>);
    expect(serializeVhdFooter(footer)).toEqual(good());
    expect(formatUniqueId(footer.uniqueId)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });

  it('reads the footer QEMU 7.2 writes for a 10 MiB fixed VHD', () => {
    const hex =
      '636f6e65637469780000000200010000ffffffffffffffff32950b6671656d75000500035769326b0000000000a070000000000000a07000012e041100000002ffffe7cd2b116cff17524c408471fd0ac25b591100';
    const bytes = new Uint8Array(512);
    bytes.set(Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)));
    const f = parseVhdFooter(bytes);
    expect(f.creatorApplication).toBe('qemu');
    expect(f.currentSize).toBe(10514432);
    expect(f.geometry).toEqual({ cylinders: 302, heads: 4, sectorsPerTrack: 17 });
    expect(formatUniqueId(f.uniqueId)).toBe('2b116cff-1752-4c40-8471-fd0ac25b5911');
  });

  it('converts timestamps from the 2000 epoch', () => {
    expect(vhdTimestamp(Date.UTC(2000, 0, 1))).toBe(0);
    expect(vhdTimestamp(Date.UTC(1999, 0, 1))).toBe(0);
    expect(vhdTimestamp(Date.UTC(2000, 0, 1, 0, 1))).toBe(60);
  });

  describe('rejects hostile footers with CORRUPT_IMAGE naming the field', () => {
    const cases: [string, string, (v: DataView, b: Uint8Array) => void, boolean?][] = [
      ['bad cookie', 'cookie', (_, b) => b.set([0x63, 0x6f, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x79])],
      ['bad checksum', 'checksum', (v) => v.setUint32(64, v.getUint32(64) ^ 1), false],
      ['a changed byte under an old checksum', 'checksum', (_, b) => void (b[100] = 1), false],
      ['version 0x00020000', 'version', (v) => v.setUint32(12, 0x00020000)],
      ['version 0', 'version', (v) => v.setUint32(12, 0)],
      ['disk type 0 (none)', 'diskType', (v) => v.setUint32(60, 0)],
      ['disk type 1 (reserved)', 'diskType', (v) => v.setUint32(60, 1)],
      ['disk type 5', 'diskType', (v) => v.setUint32(60, 5)],
      ['current size not a multiple of 512', 'currentSize', (v) => v.setBigUint64(48, 10487297n)],
      ['current size past 2^53', 'currentSize', (v) => v.setBigUint64(48, 1n << 60n)],
      ['original size past 2^53', 'originalSize', (v) => v.setBigUint64(40, 0xffffffffffffffffn)],
      ['zero heads', 'diskGeometry', (v) => v.setUint8(58, 0)],
      ['17 heads', 'diskGeometry', (v) => v.setUint8(58, 17)],
      ['zero sectors per track', 'diskGeometry', (v) => v.setUint8(59, 0)],
      ['geometry larger than the disk', 'diskGeometry', (v) => v.setUint16(56, 60000)],
      ['geometry one cylinder short of the maximum', 'diskGeometry', (v) => v.setUint32(56, (65534 << 16) | (16 << 8) | 255)],
      ['a fixed disk with a data offset', 'dataOffset', (v) => v.setBigUint64(16, 512n)],
    ];
    for (const [what, field, edit, fix] of cases) {
      it(what, () => expect(corruptField(mutated(edit, fix ?? true))).toBe(field));
    }
    it('a short buffer', () => expect(corruptField(good().subarray(0, 511))).toBe('footer'));
  });

  it('accepts the maximal geometry on any size: it means "use the current size"', () => {
    const f = parseVhdFooter(mutated((v) => v.setUint32(56, (65535 << 16) | (16 << 8) | 255)));
    expect(f.geometry).toEqual({ cylinders: 65535, heads: 16, sectorsPerTrack: 255 });
    expect(f.currentSize).toBe(10487296);
  });

  it('recognises dynamic and differencing types (the opener decides what it supports)', () => {
    const dynamic = mutated((v) => {
      v.setUint32(60, 3);
      v.setBigUint64(16, 512n);
    });
    expect(parseVhdFooter(dynamic).diskType).toBe('dynamic');
    expect(parseVhdFooter(mutated((v) => v.setUint32(60, 4))).diskType).toBe('differencing');
  });

  it('survives seeded random mutation: a typed error or a valid footer, never a crash', () => {
    const mutation = fc.record({
      edits: fc.array(fc.tuple(fc.integer({ min: 0, max: 511 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fixChecksum: fc.boolean(),
    });
    fc.assert(
      fc.property(mutation, ({ edits, fixChecksum }) => {
        const bytes = mutated((_, b) => edits.forEach(([at, value]) => void (b[at] = value)), fixChecksum);
        let footer: VhdFooter;
        try {
          footer = parseVhdFooter(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DiskError);
          expect((e as DiskError).code).toBe('CORRUPT_IMAGE');
          expect((e as DiskError).field).toBeTruthy();
          return;
        }
        // Whatever parses is self-consistent and survives a round trip (reserved bytes aside).
        expect(footer.currentSize % 512).toBe(0);
        expect(Number.isSafeInteger(footer.currentSize)).toBe(true);
        expect(footer.geometry.heads).toBeGreaterThanOrEqual(1);
        expect(parseVhdFooter(serializeVhdFooter(footer))).toEqual(footer);
      }),
      { numRuns: 3000, seed: 42 },
    );
  });
});
