/**
 * StripedDisk: RAID-0 style chunked round-robin over N member disks (like OpenVMM disk_striped).
 *
 * Layout: the striped disk is cut into chunks of `chunkSectors` sectors; chunk c lives on member
 * c mod N, as that member's chunk floor(c / N). So sector `lba` is on member (floor(lba / chunk)
 * mod N) at member sector floor(lba / (chunk * N)) * chunk + lba mod chunk. `chunkSectors` may be
 * any positive integer (a power of two is usual and what a guest's alignment hints will like, but
 * nothing here needs one, and odd sizes make good lab exercises).
 *
 * Capacity: whole chunks of the smallest member, times N: floor(min(member sectors) / chunk) *
 * chunk * N. The tail of a larger member, and any partial chunk, is unused. `sectors` may ask for
 * less (the rest of the last stripe rows stay unused); asking for more is a DiskConfigError
 * (SIZE_MISMATCH). The capacity is fixed: members are not resized and there is no `resize`.
 *
 * Metadata: members must share the logical sector size (else SECTOR_SIZE_MISMATCH);
 * physicalSectorSize is the largest member's; readOnly if any member is; fuaRespected only if
 * every member respects FUA; unmapBehavior is the members' common one, or `unspecified` when they
 * differ (some sectors would read zero, others keep old data); optimalUnmapSectors is the largest
 * member's, times N when that exceeds a chunk (then one member unit spans a whole stripe row).
 *
 * I/O: a request is split at chunk boundaries and the pieces are issued to the members
 * concurrently (as subarrays of the caller's buffer: no copies). Flush flushes every member.
 * Every piece settles before the request does, so no member still holds the caller's buffer when
 * it rejects; the error is the one from the lowest-addressed failing piece, with its `lba`
 * translated from member to striped sectors, and on failure some pieces of a write or unmap may
 * have landed (as on a real array). Out-of-range requests are rejected before any member is touched.
 */
import type { Disk, UnmapBehavior, WriteOptions } from '../disk/disk.ts';
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { checkRange } from '../disk/range.ts';

export interface StripedDiskOptions {
  /** Chunk (stripe unit) size in sectors: a positive integer. Default 128 (64 KiB at 512-byte sectors). */
  readonly chunkSectors?: number;
  /** Sectors to expose, at most the capacity; default the capacity. */
  readonly sectors?: number;
}

/** Where a run of striped sectors lives. */
export interface StripeExtent {
  /** First striped-disk sector of the run. */
  readonly lba: number;
  readonly count: number;
  /** Index into the members array. */
  readonly member: number;
  readonly memberLba: number;
}

export const DEFAULT_CHUNK_SECTORS = 128;

export class StripedDisk implements Disk {
  readonly diskType = 'striped';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly diskId = undefined;
  readonly fuaRespected: boolean;
  readonly unmapBehavior: UnmapBehavior;
  readonly optimalUnmapSectors: number;
  readonly chunkSectors: number;
  /** The largest number of sectors these members can hold (see the module doc). */
  readonly capacity: number;
  readonly #members: readonly Disk[];
  readonly #sectors: number;

  constructor(members: readonly Disk[], options: StripedDiskOptions = {}) {
    if (members.length === 0) throw new DiskConfigError('INVALID_PARAMETER', 'members', 'a striped disk needs at least one member', { value: 0 });
    if (new Set(members).size !== members.length) {
      throw new DiskConfigError('INVALID_PARAMETER', 'members', 'the same disk appears twice among the members');
    }
    const chunk = options.chunkSectors ?? DEFAULT_CHUNK_SECTORS;
    if (!Number.isSafeInteger(chunk) || chunk < 1) {
      throw new DiskConfigError('INVALID_PARAMETER', 'chunkSectors', `chunk size ${chunk} is not a positive integer of sectors`, { value: chunk });
    }
    const first = members[0]!;
    members.forEach((m, i) => {
      if (m.sectorSize !== first.sectorSize) {
        throw new DiskConfigError(
          'SECTOR_SIZE_MISMATCH',
          `members[${i}].sectorSize`,
          `member ${i} has ${m.sectorSize}-byte sectors, member 0 has ${first.sectorSize}`,
          { value: m.sectorSize, layerIndex: i },
        );
      }
    });
    const n = members.length;
    this.#members = [...members];
    this.chunkSectors = chunk;
    this.sectorSize = first.sectorSize;
    this.physicalSectorSize = Math.max(...members.map((m) => m.physicalSectorSize));
    this.readOnly = members.some((m) => m.readOnly);
    this.fuaRespected = members.every((m) => m.fuaRespected);
    this.unmapBehavior = members.every((m) => m.unmapBehavior === first.unmapBehavior) ? first.unmapBehavior : 'unspecified';
    const unit = Math.max(...members.map((m) => m.optimalUnmapSectors));
    this.optimalUnmapSectors = unit > chunk ? unit * n : unit;
    const smallest = Math.min(...members.map((m) => m.sectorCount()));
    this.capacity = Math.floor(smallest / chunk) * chunk * n;
    const sectors = options.sectors ?? this.capacity;
    if (!Number.isSafeInteger(sectors) || sectors < 0) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectors', `sector count ${sectors} is not a non-negative integer`, { value: sectors });
    }
    if (sectors > this.capacity) {
      throw new DiskConfigError(
        'SIZE_MISMATCH',
        'sectors',
        `${sectors} sectors do not fit: ${n} member(s) of at least ${smallest} sectors in ${chunk}-sector chunks hold ${this.capacity}`,
        { value: sectors },
      );
    }
    this.#sectors = sectors;
  }

  /** The member disks, in stripe order. */
  get members(): readonly Disk[] {
    return this.#members;
  }

  sectorCount(): number {
    return this.#sectors;
  }

  /** Where one sector lives. Pure arithmetic: no range check, so the UI can map any address. */
  locate(lba: number): { readonly member: number; readonly memberLba: number } {
    const n = this.#members.length;
    const chunk = Math.floor(lba / this.chunkSectors);
    const within = lba - chunk * this.chunkSectors;
    return { member: chunk % n, memberLba: Math.floor(chunk / n) * this.chunkSectors + within };
  }

  /** The member runs making up [lba, lba + count), in address order, one per chunk piece. */
  extents(lba: number, count: number): StripeExtent[] {
    const out: StripeExtent[] = [];
    let at = lba;
    const end = lba + count;
    while (at < end) {
      const len = Math.min(end - at, this.chunkSectors - (at % this.chunkSectors));
      const { member, memberLba } = this.locate(at);
      out.push({ lba: at, count: len, member, memberLba });
      at += len;
    }
    return out;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    const count = buf.length / this.sectorSize;
    checkRange('read', lba, count, this.#sectors);
    await this.#each(lba, count, (m, e, from, to) => m.read(e.memberLba, buf.subarray(from, to)));
  }

  async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    const count = data.length / this.sectorSize;
    checkRange('write', lba, count, this.#sectors);
    await this.#each(lba, count, (m, e, from, to) => m.write(e.memberLba, data.subarray(from, to), options));
  }

  async unmap(lba: number, count: number): Promise<void> {
    checkRange('unmap', lba, count, this.#sectors);
    await this.#each(lba, count, (m, e) => m.unmap(e.memberLba, e.count));
  }

  async flush(): Promise<void> {
    await settleAll(this.#members.map((m) => m.flush()));
  }

  async close(): Promise<void> {
    await settleAll(this.#members.map((m) => m.close()));
  }

  async #each(
    lba: number,
    count: number,
    io: (member: Disk, extent: StripeExtent, from: number, to: number) => Promise<void>,
  ): Promise<void> {
    const ss = this.sectorSize;
    await settleAll(
      this.extents(lba, count).map((e) => {
        const from = (e.lba - lba) * ss;
        let piece: Promise<void>;
        try {
          piece = io(this.#members[e.member]!, e, from, from + e.count * ss);
        } catch (err) {
          piece = Promise.reject(err); // a member that throws synchronously still only fails its piece
        }
        return piece.catch((err: unknown) => {
          throw toStripedError(err, e);
        });
      }),
    );
  }
}

/**
 * A member's error speaks of member sectors; the caller knows only striped ones. Errors carrying
 * an LBA inside the piece are re-issued with the striped LBA (the original rides as `cause`).
 */
function toStripedError(err: unknown, e: StripeExtent): unknown {
  if (!(err instanceof DiskError) || err.lba === undefined) return err;
  const offset = err.lba - e.memberLba;
  if (offset < 0 || offset >= e.count) return err;
  return new DiskError(err.code, `member ${e.member}: ${err.message}`, { lba: e.lba + offset, field: err.field, cause: err });
}

/** Waits for every promise, then rejects with the first failure in array order, if any. */
async function settleAll(ps: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(ps);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
