/**
 * ByteDisk: byte-granular I/O over a whole-sector Disk, the way qemu's block layer serves a
 * request that is not aligned to the device's request alignment.
 *
 * The rule (what an unaligned request gets):
 * - read(offset, length): one Disk read of the covering whole sectors; the requested bytes are
 *   sliced out of it.
 * - write(offset, data): if both ends are sector-aligned, one Disk write. Otherwise read-modify-
 *   write: the partial head sector and the partial tail sector (one read if they are the same
 *   sector) are read, the new bytes merged in, and the covering span written in one Disk write
 *   (with FUA if asked). The read and the write are separate Disk operations: another writer to
 *   the same disk between them can be lost. qemu serializes overlapping requests to avoid that;
 *   the shell runs one command at a time, so only I/O from outside the shell can race.
 * - writeZeroes: partial head/tail sectors by read-modify-write; the whole sectors between them
 *   are unmapped when `mayUnmap` is set and the disk's unmap reads back zeroes (then flushed if
 *   FUA was asked, since unmap has no FUA), otherwise written as zeroes 1 MiB at a time.
 *   `noFallback` refuses (UNSUPPORTED) unless the whole range can be unmapped that way.
 * - discard: unmaps the whole sectors inside the range; partial sectors at the ends are left
 *   alone (discard is advisory, as in qemu, which drops unaligned heads and tails too).
 * Every Disk call is reported to `onCall` first, so a user can watch what a request became.
 *
 * Errors: a range not inside the disk rejects with the same OUT_OF_RANGE DiskError (same words)
 * the disk would give for the covering sectors, before any Disk call; anything the Disk rejects
 * with propagates unchanged. Arguments must be non-negative safe integers (the shell's parser
 * guarantees it); others reject with INVALID_INPUT.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { checkRange } from '../disk/range.ts';

export type SectorCall =
  | { readonly op: 'read' | 'unmap'; readonly lba: number; readonly count: number }
  | { readonly op: 'write'; readonly lba: number; readonly count: number; readonly fua: boolean }
  | { readonly op: 'flush' };

export interface WriteZeroesOptions {
  readonly fua?: boolean;
  readonly mayUnmap?: boolean;
  readonly noFallback?: boolean;
}

const ZERO_CHUNK_BYTES = 1 << 20;

export class ByteDisk {
  readonly disk: Disk;
  /** Told of every Disk call before it is made; the shell's `trace` sets it. */
  onCall: ((call: SectorCall) => void) | undefined;
  #zeroes: Uint8Array | undefined;

  constructor(disk: Disk, onCall?: (call: SectorCall) => void) {
    this.disk = disk;
    this.onCall = onCall;
  }

  get sectorSize(): number {
    return this.disk.sectorSize;
  }

  sizeBytes(): number {
    return this.disk.sectorCount() * this.disk.sectorSize;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const { lba, count, head } = this.#span('read', offset, length);
    if (length === 0) return new Uint8Array(0);
    const buf = new Uint8Array(count * this.sectorSize);
    await this.#read(lba, buf);
    return buf.subarray(head, head + length);
  }

  async write(offset: number, data: Uint8Array, fua = false): Promise<void> {
    const ss = this.sectorSize;
    const { lba, count, head, tail } = this.#span('write', offset, data.length);
    if (data.length === 0) return;
    if (head === 0 && tail === 0) {
      await this.#write(lba, data, fua);
      return;
    }
    const buf = new Uint8Array(count * ss);
    if (head !== 0) await this.#read(lba, buf.subarray(0, ss));
    if (tail !== 0 && (count > 1 || head === 0)) await this.#read(lba + count - 1, buf.subarray((count - 1) * ss));
    buf.set(data, head);
    await this.#write(lba, buf, fua);
  }

  async writeZeroes(offset: number, length: number, options: WriteZeroesOptions = {}): Promise<void> {
    const ss = this.sectorSize;
    const { head, tail } = this.#span('write', offset, length);
    if (length === 0) return;
    const fua = options.fua ?? false;
    const canUnmap = (options.mayUnmap ?? false) && this.disk.unmapBehavior === 'zeroes';
    if (options.noFallback && !(canUnmap && head === 0 && tail === 0)) {
      throw new DiskError(
        'UNSUPPORTED',
        `zeroes cannot be written without the slow fallback: that needs -u, a sector-aligned range and a disk whose unmap reads back zeroes (this disk's unmap: ${this.disk.unmapBehavior})`,
      );
    }
    const end = offset + length;
    const first = Math.ceil(offset / ss);
    const last = Math.floor(end / ss); // whole sectors are [first, last)
    if (first >= last) {
      await this.write(offset, new Uint8Array(length), fua);
      return;
    }
    if (offset < first * ss) await this.write(offset, new Uint8Array(first * ss - offset), fua);
    if (canUnmap) {
      await this.#unmap(first, last - first);
    } else {
      const zeroes = this.#zeroBuffer();
      const step = zeroes.length / ss;
      for (let lba = first; lba < last; lba += step) {
        const n = Math.min(step, last - lba);
        await this.#write(lba, zeroes.subarray(0, n * ss), fua);
      }
    }
    if (end > last * ss) await this.write(last * ss, new Uint8Array(end - last * ss), fua);
    if (canUnmap && fua) await this.flush();
  }

  async discard(offset: number, length: number): Promise<void> {
    const ss = this.sectorSize;
    this.#span('unmap', offset, length);
    const first = Math.ceil(offset / ss);
    const last = Math.floor((offset + length) / ss);
    if (first < last) await this.#unmap(first, last - first);
  }

  async flush(): Promise<void> {
    this.onCall?.({ op: 'flush' });
    await this.disk.flush();
  }

  /** The covering sectors of [offset, offset + length), range-checked; head/tail are the partial bytes' positions. */
  #span(op: string, offset: number, length: number): { lba: number; count: number; head: number; tail: number } {
    for (const [what, n] of [['offset', offset], ['length', length]] as const) {
      if (!Number.isSafeInteger(n) || n < 0) throw new DiskError('INVALID_INPUT', `${op}: ${what} ${n} is not a non-negative integer`);
    }
    const ss = this.sectorSize;
    const head = offset % ss;
    // Worked out from the offset within the first sector, so it stays exact near 2^53.
    const count = length === 0 ? 0 : Math.ceil((head + length) / ss);
    // An empty request names the sector boundary at or after it, so one past the end is rejected.
    const lba = length === 0 ? Math.ceil(offset / ss) : Math.floor(offset / ss);
    checkRange(op, lba, count, this.disk.sectorCount());
    return { lba, count, head, tail: (head + length) % ss };
  }

  #zeroBuffer(): Uint8Array {
    this.#zeroes ??= new Uint8Array(Math.max(ZERO_CHUNK_BYTES, this.sectorSize));
    return this.#zeroes;
  }

  async #read(lba: number, buf: Uint8Array): Promise<void> {
    this.onCall?.({ op: 'read', lba, count: buf.length / this.sectorSize });
    await this.disk.read(lba, buf);
  }

  async #write(lba: number, data: Uint8Array, fua: boolean): Promise<void> {
    this.onCall?.({ op: 'write', lba, count: data.length / this.sectorSize, fua });
    await this.disk.write(lba, data, fua ? { fua } : undefined);
  }

  async #unmap(lba: number, count: number): Promise<void> {
    this.onCall?.({ op: 'unmap', lba, count });
    await this.disk.unmap(lba, count);
  }
}
