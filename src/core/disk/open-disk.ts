/**
 * `openDisk`: the one gate every disk passes before anyone issues I/O to it.
 *
 * It validates the inner disk's metadata once (a bad disk fails here with a `DiskConfigError`
 * naming the field, not later with a confusing I/O error), caches it, and then checks every
 * request centrally so that backends don't each have to:
 * - writes, unmaps and resizes on a read-only disk reject with `READ_ONLY` (never an I/O error);
 * - `lba` and counts must be non-negative safe integers, buffers whole sectors (`INVALID_INPUT`);
 * - the byte range must stay below 2^53, and inside the disk (`OUT_OF_RANGE`);
 * - I/O after `close()` rejects with `ABORTED`.
 * Backends still range-check themselves (the conformance suite calls them directly); the repeat
 * here is two comparisons and keeps the error text the same for every disk.
 */
import { DiskConfigError, DiskError } from './errors.ts';
import { MAX_EXACT_BYTES, maxSectorsFor, type Disk, type UnmapBehavior, type WriteOptions } from './disk.ts';
import type { PersistentReservations } from './reservations.ts';
import { checkRange, isPowerOfTwo } from './range.ts';

/** Each validated wrapper and the disk it guards. */
const validated = new WeakMap<Disk, Disk>();

export function openDisk(inner: Disk): Disk {
  if (validated.has(inner)) return inner;
  const disk = new ValidatedDisk(inner);
  validated.set(disk, inner);
  return disk;
}

/**
 * The disk behind an `openDisk` wrapper (or the disk itself), for tools that inspect what a disk
 * is (a map of which file holds which block) rather than do I/O: I/O still goes through the gate.
 */
export function innerDisk(disk: Disk): Disk {
  return validated.get(disk) ?? disk;
}

function validateMetadata(d: Disk): void {
  const bad = (field: string, value: unknown, why: string): never => {
    throw new DiskConfigError('INVALID_PARAMETER', field, `disk '${d.diskType}': ${field} ${why}`, { value });
  };
  if (!isPowerOfTwo(d.sectorSize) || d.sectorSize < 512) bad('sectorSize', d.sectorSize, 'must be a power of two >= 512');
  if (!isPowerOfTwo(d.physicalSectorSize) || d.physicalSectorSize < d.sectorSize) {
    bad('physicalSectorSize', d.physicalSectorSize, 'must be a power of two >= the logical sector size');
  }
  const count = d.sectorCount();
  if (!Number.isSafeInteger(count) || count < 0) bad('sectorCount', count, 'must be a non-negative integer');
  if (count > maxSectorsFor(d.sectorSize)) bad('sectorCount', count, `puts the disk past ${MAX_EXACT_BYTES} bytes`);
  if (!Number.isSafeInteger(d.optimalUnmapSectors) || d.optimalUnmapSectors < 1) {
    bad('optimalUnmapSectors', d.optimalUnmapSectors, 'must be a positive integer');
  }
  if (d.diskId !== undefined && d.diskId.length !== 16) bad('diskId', d.diskId.length, 'must be 16 bytes');
  if (!['zeroes', 'unspecified', 'ignored'].includes(d.unmapBehavior)) bad('unmapBehavior', d.unmapBehavior, 'is unknown');
}

class ValidatedDisk implements Disk {
  readonly diskType: string;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly diskId: Uint8Array | undefined;
  readonly fuaRespected: boolean;
  readonly unmapBehavior: UnmapBehavior;
  readonly optimalUnmapSectors: number;
  readonly reservations: PersistentReservations | undefined;
  readonly resize: ((sectors: number) => Promise<void>) | undefined;
  readonly #inner: Disk;
  #closed = false;

  constructor(inner: Disk) {
    validateMetadata(inner);
    this.#inner = inner;
    this.diskType = inner.diskType;
    this.sectorSize = inner.sectorSize;
    this.physicalSectorSize = inner.physicalSectorSize;
    this.readOnly = inner.readOnly;
    this.diskId = inner.diskId === undefined ? undefined : inner.diskId.slice();
    this.fuaRespected = inner.fuaRespected;
    this.unmapBehavior = inner.unmapBehavior;
    this.optimalUnmapSectors = inner.optimalUnmapSectors;
    this.reservations = inner.reservations;
    this.resize = inner.resize === undefined ? undefined : (sectors) => this.#resize(sectors);
  }

  sectorCount(): number {
    return this.#inner.sectorCount();
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    this.#check('read', lba, this.#sectorsIn('read', buf));
    if (buf.length === 0) return;
    await this.#inner.read(lba, buf);
  }

  async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    const n = this.#sectorsIn('write', data);
    this.#writable('write');
    this.#check('write', lba, n);
    if (n === 0) return;
    await this.#inner.write(lba, data, options);
  }

  async flush(): Promise<void> {
    this.#open('flush');
    await this.#inner.flush();
  }

  async unmap(lba: number, count: number): Promise<void> {
    this.#writable('unmap');
    this.#integer('unmap', 'count', count);
    this.#check('unmap', lba, count);
    if (count === 0) return;
    await this.#inner.unmap(lba, count);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#inner.close();
  }

  async #resize(sectors: number): Promise<void> {
    this.#writable('resize');
    this.#integer('resize', 'sectors', sectors);
    if (sectors > maxSectorsFor(this.sectorSize)) {
      throw new DiskError('INVALID_INPUT', `resize to ${sectors} sectors puts the disk past ${MAX_EXACT_BYTES} bytes`);
    }
    await this.#inner.resize?.(sectors);
  }

  #sectorsIn(op: string, buf: Uint8Array): number {
    if (!(buf instanceof Uint8Array)) throw new DiskError('INVALID_INPUT', `${op}: buffer must be a Uint8Array`);
    if (buf.length % this.sectorSize !== 0) {
      throw new DiskError(
        'INVALID_INPUT',
        `${op}: buffer of ${buf.length} bytes is not a whole number of ${this.sectorSize}-byte sectors`,
      );
    }
    return buf.length / this.sectorSize;
  }

  #open(op: string): void {
    if (this.#closed) throw new DiskError('ABORTED', `${op}: disk '${this.diskType}' is closed`);
  }

  #writable(op: string): void {
    this.#open(op);
    if (this.readOnly) throw new DiskError('READ_ONLY', `${op}: disk '${this.diskType}' is read-only`);
  }

  #integer(op: string, what: string, n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new DiskError('INVALID_INPUT', `${op}: ${what} ${n} is not a non-negative integer`);
  }

  #check(op: string, lba: number, count: number): void {
    this.#open(op);
    this.#integer(op, 'LBA', lba);
    // lba + count < 2^53 whenever it is in range, since the disk itself is smaller than that.
    checkRange(op, lba, count, this.#inner.sectorCount());
  }
}
