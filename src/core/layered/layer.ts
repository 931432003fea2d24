/**
 * The Layer contract: one level of a copy-on-write stack (see layered-disk.ts). Modelled on
 * OpenVMM's `LayerIo`.
 *
 * A layer is a Disk-like store of whole sectors that also knows, per sector, whether it holds
 * that sector at all. Each sector is in one of three presence states:
 * - `absent`: the layer has nothing there; a read falls through to the layer below;
 * - `zero`: the layer holds the sector and it reads as zeroes (no data is stored for it);
 * - `data`: the layer holds bytes for the sector.
 *
 * Promises
 * - Metadata (`sectorSize`, `physicalSectorSize`, `readOnly`, `fuaRespected`, `unmapBehavior`,
 *   `optimalUnmapSectors`, `diskId`, `layerType`) is fixed for the life of the layer;
 *   `sectorCount()` may change after `resize`.
 * - `read(lba, buf, marker)` fills `buf` only for the sectors the layer holds (zero-state sectors
 *   are zero-filled) and calls `marker.mark` for exactly those; bytes of sectors it does not mark
 *   are left untouched. `marker` is in absolute LBAs.
 * - `write(lba, data)` makes the sectors `data`. With `noOverwrite` ("write-no-overwrite"), only
 *   sectors that are `absent` are written; `zero` and `data` sectors are kept. LayeredDisk fills
 *   read caches this way, so a guest write that raced the read is never clobbered by stale data.
 *   A read-only layer accepts noOverwrite writes: they do not change what the stack reads
 *   (the data is what lies below), which is how a read-only persistent cache gets populated.
 * - `unmap(lba, count, nextIsZero)`: afterwards the sectors read as `unmapBehavior` says, *as
 *   seen through this layer*. For `zeroes`: the layer puts the sectors in the `zero` state; when
 *   `nextIsZero` promises that everything below reads as zero there, it may instead drop them to
 *   `absent` (cheaper: no record at all).
 * - Occupancy: `presence` lists the present runs in a range; `occupancyMap` downsamples presence
 *   into buckets for a canvas; `bytesPresent` counts the bytes held in the `data` state.
 * - The caller owns `buf`/`data`; a layer keeps no reference to either after the promise settles.
 *
 * Errors: every failure rejects with a `DiskError`. A layer range-checks every request against
 * its current size itself (`OUT_OF_RANGE`, never clamped); a zero-length request at
 * `lba <= sectorCount()` succeeds. Write (without noOverwrite), unmap and resize on a read-only
 * layer reject with `READ_ONLY`. Argument shape (integers, whole-sector buffers) is the caller's
 * job: LayeredDisk sits behind `openDisk`, which checks it once for the whole stack.
 */
import type { UnmapBehavior } from '../disk/disk.ts';

export type PresenceState = 'absent' | 'zero' | 'data';

/** A maximal run of sectors in one present state (runs in a `presence` answer never touch with equal state). */
export interface PresenceRun {
  readonly lba: number;
  readonly count: number;
  readonly state: 'zero' | 'data';
}

/** Collects which sectors of a read a layer supplied. LBAs are absolute. */
export interface SectorMarker {
  mark(lba: number, count: number): void;
}

export interface LayerWriteOptions {
  /** Force unit access, as for Disk.write. */
  readonly fua?: boolean;
  /** Write only the sectors that are absent; keep every present sector as it is. */
  readonly noOverwrite?: boolean;
}

export interface Layer {
  /** What the layer is, for display: 'ram', 'disk:<diskType>', ... */
  readonly layerType: string;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly fuaRespected: boolean;
  readonly unmapBehavior: UnmapBehavior;
  readonly optimalUnmapSectors: number;
  /** 16 bytes when the layer carries an identity, else undefined. */
  readonly diskId: Uint8Array | undefined;

  sectorCount(): number;
  read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void>;
  write(lba: number, data: Uint8Array, options?: LayerWriteOptions): Promise<void>;
  unmap(lba: number, count: number, nextIsZero: boolean): Promise<void>;
  flush(): Promise<void>;
  /** Present only on layers that can change size. Growing exposes absent sectors. */
  resize?(sectors: number): Promise<void>;
  close(): Promise<void>;

  /** Present runs within [lba, lba + count), in LBA order, clipped to the range. */
  presence(lba: number, count: number): Promise<PresenceRun[]>;
  /**
   * Fraction (0..1) of sectors present (zero or data) in each of `buckets` equal slices of
   * [lba, lba + count) (default: the whole layer); see `bucketBounds` in occupancy.ts.
   */
  occupancyMap(buckets: number, lba?: number, count?: number): Promise<Float64Array>;
  /** Bytes held in the `data` state (zero-state sectors store nothing). */
  bytesPresent(): number;
}
