import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DiskConfigError } from '../disk/errors.ts';
import { allocateControllerBuffers } from './buffers.ts';
import {
  CQE_WORDS,
  DB_CQ_HEAD,
  DB_SQ_TAIL,
  LINE_WORDS,
  Opcode,
  SQE_WORDS,
  controllerLayout,
  cqePhase,
  decodeCqe,
  decodeSqe,
  encodeSqe,
  layoutOf,
  statusField,
  writeCqe,
} from './layout.ts';

describe('controller layout', () => {
  it('gives every doorbell, vector and ring slot its own words', () => {
    const layout = controllerLayout({ queues: 3, depth: 5, vectors: 2 });
    const used = new Map<number, string>();
    const claim = (from: number, words: number, what: string) => {
      for (let w = from; w < from + words; w++) {
        expect(used.get(w), `${what} overlaps ${used.get(w)}`).toBeUndefined();
        used.set(w, what);
      }
    };
    claim(0, 16, 'header');
    for (let v = 0; v < 2; v++) claim(layout.vectorWord(v), LINE_WORDS, `vector ${v}`);
    for (let q = 0; q < 3; q++) {
      expect(layout.doorbellWord(q, DB_CQ_HEAD)).toBe(layout.doorbellWord(q, DB_SQ_TAIL) + 1);
      claim(layout.doorbellWord(q, DB_SQ_TAIL), LINE_WORDS, `doorbells ${q}`);
      for (let s = 0; s < layout.entries; s++) {
        claim(layout.sqeWord(q, s), SQE_WORDS, `sqe ${q}/${s}`);
        claim(layout.cqeWord(q, s), CQE_WORDS, `cqe ${q}/${s}`);
      }
    }
    expect(Math.max(...used.keys())).toBeLessThan(layout.totalBytes / 4);
    expect([0, 1, 2].map((q) => layout.vectorOf(q))).toEqual([0, 1, 0]);
  });

  it('is read back from an initialised control buffer', () => {
    const buffers = allocateControllerBuffers({ queues: 2, depth: 16 });
    const layout = layoutOf(new Int32Array(buffers.control));
    expect([layout.queues, layout.depth, layout.vectors, layout.entries]).toEqual([2, 16, 1, 17]);
    expect(() => layoutOf(new Int32Array(64))).toThrow(DiskConfigError);
  });

  it('rejects impossible configurations naming the field', () => {
    for (const [config, field] of [
      [{ queues: 0, depth: 4 }, 'queues'],
      [{ queues: 1, depth: 0 }, 'depth'],
      [{ queues: 1, depth: 4096 }, 'depth'],
      [{ queues: 2, depth: 4, vectors: 3 }, 'vectors'],
    ] as const) {
      expect(() => controllerLayout(config)).toThrow(expect.objectContaining({ field }));
    }
  });

  it('round-trips submission entries in NVMe field positions', () => {
    const ring = new Int32Array(SQE_WORDS * 2);
    fc.assert(
      fc.property(
        fc.constantFrom(Opcode.READ, Opcode.WRITE, Opcode.DSM),
        fc.integer({ min: 0, max: 0xffff }),
        fc.maxSafeNat(),
        fc.integer({ min: 1, max: 0x10000 }),
        fc.boolean(),
        fc.nat({ max: 2 ** 31 }),
        fc.nat({ max: 2 ** 31 }),
        (opcode, cid, lba, blocks, fua, dataOffset, dataLength) => {
          encodeSqe(ring, SQE_WORDS, cid, { opcode, lba, blocks, fua, dataOffset, dataLength });
          expect(decodeSqe(ring, SQE_WORDS)).toEqual({ opcode, cid, nsid: 1, lba, blocks, fua, dataOffset, dataLength });
          expect(ring[SQE_WORDS]! & 0xff).toBe(opcode); // CDW0 OPC
          expect((ring[SQE_WORDS + 12]! & 0xffff) + 1).toBe(blocks); // CDW12 NLB is zero-based
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('round-trips completion entries with the phase tag and status field where NVMe has them', () => {
    const ring = new Int32Array(CQE_WORDS);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.nat({ max: 7 }), fc.nat({ max: 0xff }), fc.boolean(), fc.nat({ max: 1 }), fc.nat({ max: 0xffff }), fc.nat({ max: 63 }), (cid, sct, sc, dnr, phase, sqHead, sqId) => {
        const status = statusField(sct, sc, dnr);
        writeCqe(ring, 0, cid, status, phase, sqHead, sqId);
        expect(cqePhase(ring, 0)).toBe(phase);
        expect(decodeCqe(ring, 0)).toEqual({ cid, phase, status, sct, sc, dnr, sqHead, sqId });
        expect(((ring[3]! >>> 17) & 0xff) === sc && ((ring[3]! >>> 25) & 7) === sct).toBe(true); // DW3 bits 24:17, 27:25
      }),
      { numRuns: 2000 },
    );
  });
});
