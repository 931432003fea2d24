/**
 * Data verification for the fio-like workload: every block a verifying write carries a header
 * (magic, the block's first LBA, a generation, the job seed, the block length, a CRC32C of the
 * whole block) followed by pseudo-random payload derived from (LBA, generation, seed); a read
 * checks the header and the checksum and reports what is wrong, with the LBA.
 *
 * Header, little-endian u32 words at the start of each block:
 *   0 magic 'DLVF'   1 LBA low   2 LBA high   3 generation   4 seed   5 block length
 *   6 CRC32C of the block with this word taken as zero   7 reserved (0)
 * A block is one I/O of `bs` bytes. Generations count writes (from 1), so a stale block (an
 * older generation, a lost write) is told apart from a misdirected one (wrong LBA) and from a
 * torn or corrupted one (bad checksum).
 *
 * `VerifyState` remembers the expected generation of each block a job wrote (sparsely: memory
 * grows with blocks written, not with the disk), so a later job sharing it can verify reads.
 *
 * Errors: none thrown; mismatches are returned as values.
 */
import { crc32cWithZeroedField } from '../checksum/crc32c.ts';

export const VERIFY_MAGIC = 0x46564c44; // 'DLVF'
export const VERIFY_HEADER_BYTES = 32;
/** Generation of a block whose last write failed or was not verifiable: its contents are unknown. */
export const UNKNOWN_GENERATION = 0xffffffff;

export type MismatchKind = 'magic' | 'lba' | 'generation' | 'length' | 'checksum';

export interface VerifyMismatch {
  /** First LBA of the block that failed. */
  readonly lba: number;
  readonly kind: MismatchKind;
  readonly expected: number;
  readonly found: number;
}

function words(block: Uint8Array): Uint32Array {
  return new Uint32Array(block.buffer, block.byteOffset, block.length >>> 2);
}

/** CRC32C of a block with its checksum word (bytes 24..27) read as zero. */
function blockCrc(block: Uint8Array): number {
  return crc32cWithZeroedField(block, 24);
}

/** Fills `block` (4-byte aligned, length a multiple of 512) with a verify header and payload. */
export function fillVerifyBlock(block: Uint8Array, lba: number, generation: number, seed: number): void {
  const w = words(block);
  let x = (Math.imul(lba | 0, 0x9e3779b1) ^ Math.imul(generation, 0x85ebca6b) ^ Math.imul(seed, 0xc2b2ae35) ^ Math.floor(lba / 2 ** 32)) | 1;
  for (let i = 8; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = x;
  }
  w[0] = VERIFY_MAGIC;
  w[1] = lba % 2 ** 32;
  w[2] = Math.floor(lba / 2 ** 32);
  w[3] = generation;
  w[4] = seed;
  w[5] = block.length;
  w[6] = 0;
  w[7] = 0;
  w[6] = blockCrc(block);
}

/**
 * Checks a block read at `lba`. `expectedGeneration` undefined means "never written by us": the
 * block passes unless it carries our magic with a wrong LBA, length or checksum.
 */
export function checkVerifyBlock(block: Uint8Array, lba: number, expectedGeneration: number | undefined): VerifyMismatch | undefined {
  const w = words(block);
  const bad = (kind: MismatchKind, expected: number, found: number): VerifyMismatch => ({ lba, kind, expected, found });
  if (w[0] !== VERIFY_MAGIC) return expectedGeneration === undefined ? undefined : bad('magic', VERIFY_MAGIC, w[0]!);
  const foundLba = w[2]! * 2 ** 32 + w[1]!;
  if (foundLba !== lba) return bad('lba', lba, foundLba);
  if (w[5] !== block.length) return bad('length', block.length, w[5]!);
  const crc = blockCrc(block);
  if (crc !== w[6]) return bad('checksum', crc, w[6]!);
  if (expectedGeneration !== undefined && w[3] !== expectedGeneration) return bad('generation', expectedGeneration, w[3]!);
  return undefined;
}

/** Expected generations by block index, shared by the jobs of one verification run. */
export class VerifyState {
  readonly offset: number;
  readonly bs: number;
  readonly generations = new Map<number, number>();
  #next = 1;

  constructor(offset: number, bs: number) {
    this.offset = offset;
    this.bs = bs;
  }

  /** A new, never-used generation (wraps before reaching UNKNOWN_GENERATION). */
  nextGeneration(): number {
    const g = this.#next;
    this.#next = g + 1 >= UNKNOWN_GENERATION ? 1 : g + 1;
    return g;
  }
}
