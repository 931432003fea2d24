/**
 * `Qcow2Layer`: one qcow2 image (its active state, or one internal snapshot) as a Layer,
 * read-only unless opened with a writer (writer.ts: the top of a chain, or a stand-alone image). Presence follows the L2 tables: allocated and compressed clusters (or subclusters)
 * are `data`, zero clusters are `zero`, unallocated ones are `absent`, so a LayeredDisk of
 * [image, backing, backing's backing, ...] reads exactly what QEMU reads.
 *
 * The layer's sector size must not exceed the mapping granularity (cluster, or subcluster with
 * extended L2), so that every sector has one state. The virtual size is floor(size / sector).
 * Writable: writes and unmaps go to the writer (whole clusters, copy-on-write from the backing
 * chain given by `setBacking`); a write-no-overwrite writes only into absent clusters, whole
 * ones, so that a cache fill never turns part of a cluster into stale data. Closing flushes.
 * Errors: OUT_OF_RANGE for requests past the end, READ_ONLY for writes to a read-only layer
 * (write-no-overwrite is accepted and ignored, as the Layer contract allows), CORRUPT_IMAGE for
 * bad metadata found while reading; construction problems are DiskConfigErrors.
 */
import type { Disk, UnmapBehavior } from '../../disk/disk.ts';
import { DiskConfigError, DiskError } from '../../disk/errors.ts';
import { checkRange } from '../../disk/range.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from '../../layered/layer.ts';
import { checkMapArgs, occupancyFromRuns, pushRun } from '../../layered/occupancy.ts';
import type { Inflate } from '../../ports/inflate.ts';
import type { ClusterMap } from './cluster-map.ts';
import type { Qcow2Header } from './header.ts';
import { Qcow2Writer, type Qcow2WriterParts } from './writer.ts';

export interface Qcow2LayerParts {
  readonly header: Qcow2Header;
  readonly map: ClusterMap;
  readonly inflate: Inflate;
  /** Virtual size in bytes (the snapshot's, for a snapshot). */
  readonly size: number;
  readonly sectorSize: number;
  readonly name: string;
  /** Bytes in the data state, counted at open. */
  readonly dataBytes: number;
  readonly close: () => Promise<void>;
  /** Present for a writable image: what its writer needs besides the byte counter. */
  readonly writer?: Omit<Qcow2WriterParts, 'onDataBytes'>;
}

export class Qcow2Layer implements Layer {
  readonly layerType = 'qcow2';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly fuaRespected = true;
  readonly unmapBehavior: UnmapBehavior = 'zeroes';
  readonly optimalUnmapSectors: number;
  readonly diskId = undefined;
  readonly header: Qcow2Header;
  readonly name: string;
  readonly #p: Qcow2LayerParts;
  readonly #sectors: number;
  readonly #writer: Qcow2Writer | undefined;
  #dataBytes: number;

  constructor(parts: Qcow2LayerParts) {
    const granularity = parts.header.extendedL2 ? parts.header.clusterSize / 32 : parts.header.clusterSize;
    if (parts.sectorSize > granularity) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectorSize', `${parts.name}: sector size ${parts.sectorSize} exceeds the qcow2 mapping granularity of ${granularity} bytes`, { value: parts.sectorSize });
    }
    this.#p = parts;
    this.header = parts.header;
    this.name = parts.name;
    this.sectorSize = parts.sectorSize;
    this.physicalSectorSize = parts.sectorSize;
    this.optimalUnmapSectors = Math.max(1, granularity / parts.sectorSize);
    this.#sectors = Math.floor(parts.size / parts.sectorSize);
    this.#dataBytes = parts.dataBytes;
    this.#writer = parts.writer && new Qcow2Writer({ ...parts.writer, onDataBytes: (d) => void (this.#dataBytes += d) });
    this.readOnly = this.#writer === undefined;
  }

  /** The backing chain below this image (for copy-on-write of partial cluster writes). */
  setBacking(backing: Disk | undefined): void {
    this.#writer?.setBacking(backing);
  }

  sectorCount(): number {
    return this.#sectors;
  }

  bytesPresent(): number {
    return this.#dataBytes;
  }

  async read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    const ss = this.sectorSize;
    checkRange('read', lba, buf.length / ss, this.#sectors);
    const { map, header, inflate } = this.#p;
    const cs = header.clusterSize;
    const start = lba * ss;
    const end = start + buf.length;
    for (let pos = start; pos < end; ) {
      const c = Math.floor(pos / cs);
      const base = c * cs;
      for (const seg of await map.segments(c)) {
        const a = Math.max(pos, base + seg.start);
        const b = Math.min(end, base + seg.end);
        if (a >= b) continue;
        const out = buf.subarray(a - start, b - start);
        if (seg.state === 'absent') continue;
        if (seg.state === 'zero') out.fill(0);
        else if (seg.state === 'data') await map.readData(seg.host + (a - base - seg.start), out);
        else out.set((await map.readCompressed(seg, inflate)).subarray(a - base, b - base));
        marker.mark(a / ss, (b - a) / ss);
      }
      pos = Math.min(end, base + cs);
    }
  }

  async write(lba: number, data: Uint8Array, options?: LayerWriteOptions): Promise<void> {
    const ss = this.sectorSize;
    checkRange('write', lba, data.length / ss, this.#sectors);
    if (data.length === 0) return;
    if (!this.#writer) {
      if (options?.noOverwrite) return;
      throw new DiskError('READ_ONLY', `${this.name}: this qcow2 image is open read-only`, { lba });
    }
    if (!options?.noOverwrite) return this.#writer.write(lba * ss, data, options?.fua === true);
    // Fill only whole absent clusters: a partly filled cluster would need the rest from below.
    const cs = this.header.clusterSize;
    const start = lba * ss;
    const end = start + data.length;
    for (let c = Math.ceil(start / cs); (c + 1) * cs <= end; c++) {
      const segs = await this.#p.map.segments(c);
      if (segs.length === 1 && segs[0]!.state === 'absent') await this.#writer.write(c * cs, data.subarray(c * cs - start, (c + 1) * cs - start), false);
    }
  }

  async unmap(lba: number, count: number, nextIsZero = false): Promise<void> {
    checkRange('unmap', lba, count, this.#sectors);
    if (count === 0) return;
    if (!this.#writer) throw new DiskError('READ_ONLY', `${this.name}: this qcow2 image is open read-only`, { lba });
    await this.#writer.unmap(lba * this.sectorSize, (lba + count) * this.sectorSize, nextIsZero);
  }

  async flush(): Promise<void> {
    await this.#writer?.flush();
  }

  async close(): Promise<void> {
    try {
      await this.#writer?.flush();
    } finally {
      await this.#p.close();
    }
  }

  async presence(lba: number, count: number): Promise<PresenceRun[]> {
    checkRange('presence', lba, count, this.#sectors);
    const ss = this.sectorSize;
    const { map, header } = this.#p;
    const cs = header.clusterSize;
    const span = cs * map.l2Entries;
    const out: PresenceRun[] = [];
    const start = lba * ss;
    const end = (lba + count) * ss;
    for (let pos = start; pos < end; ) {
      const l1i = Math.floor(pos / span);
      if (l1i >= map.l1Size) break; // a snapshot's L1 table may cover less than its virtual size
      if (map.l1Empty(l1i)) {
        pos = Math.min(end, (l1i + 1) * span);
        continue;
      }
      const c = Math.floor(pos / cs);
      const base = c * cs;
      for (const seg of await map.segments(c)) {
        const a = Math.max(pos, base + seg.start);
        const b = Math.min(end, base + seg.end);
        if (a >= b || seg.state === 'absent') continue;
        pushRun(out, a / ss, (b - a) / ss, seg.state === 'zero' ? 'zero' : 'data');
      }
      pos = Math.min(end, base + cs);
    }
    return out;
  }

  async occupancyMap(buckets: number, lba = 0, count = this.#sectors - lba): Promise<Float64Array> {
    checkMapArgs(buckets, lba, count, this.#sectors);
    return occupancyFromRuns(await this.presence(lba, count), buckets, lba, count);
  }
}
