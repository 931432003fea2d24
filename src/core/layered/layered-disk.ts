/**
 * LayeredDisk: a Disk made of a stack of copy-on-write layers, top first (OpenVMM's
 * disk_layered). See stack-plan.ts for which stacks are valid and how metadata is derived.
 *
 * - Read: each run of still-unserved sectors is offered to the topmost layer that has not been
 *   asked yet; a layer marks what it supplied and the rest falls through. Sectors beyond a
 *   layer's visible size are never asked of it (they read as zero from there down). What no
 *   layer supplies is zero-filled. A read-cache layer then gets the sectors found below it,
 *   written with noOverwrite so that a guest write racing the read wins. Data destined for caches
 *   is read into a private bounce buffer, so a caller scribbling on `buf` mid-read (guest memory
 *   is shared) can never poison a cache.
 * - Write: to the top layer, then down the contiguous write-through chain, in order. If a lower
 *   layer fails, the error reaches the caller; layers above it already hold the data.
 * - Unmap: `unmapBehavior` is `zeroes` iff every write-path layer zeroes (else see
 *   stack-plan.ts: `ignored` with write-through, otherwise the top's behaviour). Write-path
 *   layers are unmapped bottom-up, each told `nextIsZero` per run from what actually lies below
 *   it (no data in any lower layer within its visible size), so a layer drops sectors to absent
 *   instead of recording zeroes whenever it can. Read-cache layers are the exception: they are
 *   always told `nextIsZero: false`, because an absent sector would let a racing read's cache
 *   fill write stale data into it (the model test's concurrent runs find exactly that).
 * - Flush: the write path and every read-cache layer (a persistent cache's fills are worth
 *   keeping). Resize: offered when every write-path layer can resize; lower layers' visible
 *   sizes only ever shrink, so growing exposes zeroes, never stale lower data.
 * - For the UI: `layerInfo()`, per-layer `presence`/`occupancyMap` in disk coordinates, and
 *   read attribution counters (`readStats()`), plain numbers updated per read.
 *
 * Errors: OUT_OF_RANGE from its own range checks; layer failures propagate as DiskErrors. A
 * failed cache fill does not fail the read (the data returned is right): it is counted in
 * `readStats().cacheFillErrors` and kept as `lastCacheFillError` for the UI to show.
 */
import { maxSectorsFor, type Disk, type UnmapBehavior, type WriteOptions } from '../disk/disk.ts';
import { asDiskError, DiskError } from '../disk/errors.ts';
import { checkRange } from '../disk/range.ts';
import type { Layer, PresenceRun } from './layer.ts';
import { checkMapArgs, occupancyFromRuns } from './occupancy.ts';
import { SectorBitmap } from './sector-bitmap.ts';
import { planStack, type LayerConfig, type LayeredDiskOptions } from './stack-plan.ts';

export type { LayerConfig, LayeredDiskOptions } from './stack-plan.ts';

export interface LayeredDiskLayerInfo {
  readonly index: number;
  readonly layer: Layer;
  readonly layerType: string;
  readonly readCache: boolean;
  readonly writeThrough: boolean;
  /** Writes reach this layer (the top and its write-through chain). */
  readonly inWritePath: boolean;
  /** Sectors of this layer the disk can see (sizes above it may hide its tail). */
  readonly visibleSectors: number;
}

export interface LayeredReadStats {
  /** Per layer, top first: sectors it supplied to reads. */
  readonly servedSectors: readonly number[];
  /** Sectors no layer had, returned as zeroes. */
  readonly zeroFilledSectors: number;
  /** Per layer: sectors offered to it as a read cache (noOverwrite keeps any it already had). */
  readonly cacheFilledSectors: readonly number[];
  readonly cacheFillErrors: number;
  readonly lastCacheFillError: DiskError | undefined;
  readonly reads: number;
}

export class LayeredDisk implements Disk {
  readonly diskType = 'layered';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly diskId: Uint8Array | undefined;
  readonly fuaRespected: boolean;
  readonly unmapBehavior: UnmapBehavior;
  readonly optimalUnmapSectors: number;
  readonly resize: ((sectors: number) => Promise<void>) | undefined;
  readonly #configs: readonly Required<LayerConfig>[];
  readonly #writePath: number;
  readonly #visible: number[];
  readonly #served: number[];
  readonly #cacheFilled: number[];
  #zeroFilled = 0;
  #cacheFillErrors = 0;
  #lastCacheFillError: DiskError | undefined;
  #reads = 0;

  constructor(layers: readonly LayerConfig[], options: LayeredDiskOptions = {}) {
    const plan = planStack(layers, options);
    this.#configs = layers.map((c) => ({ layer: c.layer, readCache: c.readCache ?? false, writeThrough: c.writeThrough ?? false }));
    this.#writePath = plan.writePathLength;
    this.#visible = plan.visible;
    this.sectorSize = plan.sectorSize;
    this.physicalSectorSize = plan.physicalSectorSize;
    this.readOnly = plan.readOnly;
    this.diskId = plan.diskId?.slice();
    this.fuaRespected = plan.fuaRespected;
    this.unmapBehavior = plan.unmapBehavior;
    this.optimalUnmapSectors = plan.optimalUnmapSectors;
    this.#served = layers.map(() => 0);
    this.#cacheFilled = layers.map(() => 0);
    const resizable = this.#configs.slice(0, this.#writePath).every((c) => c.layer.resize !== undefined);
    this.resize = resizable ? (sectors) => this.#resize(sectors) : undefined;
  }

  sectorCount(): number {
    return this.#top.sectorCount();
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    const ss = this.sectorSize;
    const n = buf.length / ss;
    checkRange('read', lba, n, this.sectorCount());
    if (n === 0) return;
    this.#reads++;
    const end = lba + n;
    const served = new SectorBitmap(lba, n);
    let target = buf;
    let bounce: Uint8Array | undefined;
    let bounced: SectorBitmap | undefined; // its unset sectors are the ones read into `bounce`
    const fills: Array<{ index: number; wanted: SectorBitmap }> = [];
    const last = this.#configs.length - 1;
    for (let i = 0; i <= last && !served.full; i++) {
      const { layer, readCache } = this.#configs[i]!;
      const limit = i === 0 ? end : Math.min(end, this.#visible[i]!);
      if (limit <= lba) break; // this layer and all below are invisible here: the rest is zero
      const before = served.setCount;
      for (const [s, c] of served.runs(false)) {
        if (s >= limit) break;
        const e = Math.min(s + c, limit);
        await this.#io(layer, 'read', () => layer.read(s, target.subarray((s - lba) * ss, (e - lba) * ss), served));
      }
      this.#served[i]! += served.setCount - before;
      if (readCache && i < last && !served.full) {
        if (!bounce) {
          bounce = new Uint8Array(buf.length);
          bounced = served.clone();
          target = bounce;
        }
        fills.push({ index: i, wanted: served.clone() });
      }
    }
    for (const [s, c] of served.runs(false)) target.fill(0, (s - lba) * ss, (s - lba + c) * ss);
    this.#zeroFilled += n - served.setCount;
    if (!bounce || !bounced) return;
    for (const [s, c] of bounced.runs(false)) buf.set(bounce.subarray((s - lba) * ss, (s - lba + c) * ss), (s - lba) * ss);
    for (const { index, wanted } of fills) await this.#fillCache(index, wanted, served, bounce);
  }

  async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    if (this.readOnly) throw new DiskError('READ_ONLY', 'write: layered disk is read-only', { lba });
    checkRange('write', lba, data.length / this.sectorSize, this.sectorCount());
    if (data.length === 0) return;
    const fua = options?.fua ? { fua: true } : undefined;
    for (const { layer } of this.#configs.slice(0, this.#writePath)) await this.#io(layer, 'write', () => layer.write(lba, data, fua));
  }

  async unmap(lba: number, count: number): Promise<void> {
    if (this.readOnly) throw new DiskError('READ_ONLY', 'unmap: layered disk is read-only', { lba });
    checkRange('unmap', lba, count, this.sectorCount());
    if (count === 0 || this.unmapBehavior === 'ignored') return;
    for (let i = this.#writePath - 1; i >= 0; i--) {
      const { layer, readCache } = this.#configs[i]!;
      if (readCache) {
        // A read racing this unmap may be about to fill the cache with what it found below.
        // Only a present (zero-state) sector stops that noOverwrite fill, so never drop to absent here.
        await this.#io(layer, 'unmap', () => layer.unmap(lba, count, false));
        continue;
      }
      let at = lba;
      for (const [s, e] of await this.#dataBelow(i, lba, lba + count)) {
        if (s > at) await this.#io(layer, 'unmap', () => layer.unmap(at, s - at, true));
        await this.#io(layer, 'unmap', () => layer.unmap(s, e - s, false));
        at = e;
      }
      const tail = at;
      if (tail < lba + count) await this.#io(layer, 'unmap', () => layer.unmap(tail, lba + count - tail, true));
    }
  }

  async flush(): Promise<void> {
    for (const [i, { layer, readCache }] of this.#configs.entries()) {
      if (i < this.#writePath || readCache) await this.#io(layer, 'flush', () => layer.flush());
    }
  }

  async close(): Promise<void> {
    let first: unknown;
    for (const { layer } of this.#configs) {
      try {
        await layer.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw asDiskError(first, 'close of a layer');
  }

  /** The stack as the UI shows it, top first. */
  layerInfo(): LayeredDiskLayerInfo[] {
    return this.#configs.map((c, i) => ({
      index: i,
      layer: c.layer,
      layerType: c.layer.layerType,
      readCache: c.readCache,
      writeThrough: c.writeThrough,
      inWritePath: i < this.#writePath,
      visibleSectors: this.#visibleOf(i),
    }));
  }

  /** Present runs of layer `index` within [lba, lba + count) of the disk, ignoring what the disk cannot see of it. */
  async presence(index: number, lba: number, count: number): Promise<PresenceRun[]> {
    const layer = this.#layerAt(index);
    checkRange('presence', lba, count, this.sectorCount());
    const end = Math.min(lba + count, this.#visibleOf(index));
    return end <= lba ? [] : layer.presence(lba, end - lba);
  }

  /**
   * The shell's `map` (src/core/shell/disk-map.ts): what the top layer holds, as qemu-io reports
   * allocation in the top image of a backing chain. Zero records count: they shadow what is below.
   */
  async describeMap(lba: number, count: number): Promise<{ lba: number; count: number }[]> {
    return (await this.presence(0, lba, count)).map((r) => ({ lba: r.lba, count: r.count }));
  }

  /** Layer `index`'s occupancy in disk coordinates, so every layer's map lines up on one canvas. */
  async occupancyMap(index: number, buckets: number, lba = 0, count = this.sectorCount() - lba): Promise<Float64Array> {
    checkMapArgs(buckets, lba, count, this.sectorCount());
    return occupancyFromRuns(await this.presence(index, lba, count), buckets, lba, count);
  }

  readStats(): LayeredReadStats {
    return {
      servedSectors: this.#served.slice(),
      zeroFilledSectors: this.#zeroFilled,
      cacheFilledSectors: this.#cacheFilled.slice(),
      cacheFillErrors: this.#cacheFillErrors,
      lastCacheFillError: this.#lastCacheFillError,
      reads: this.#reads,
    };
  }

  resetReadStats(): void {
    this.#served.fill(0);
    this.#cacheFilled.fill(0);
    this.#zeroFilled = 0;
    this.#cacheFillErrors = 0;
    this.#lastCacheFillError = undefined;
    this.#reads = 0;
  }

  get #top(): Layer {
    return this.#configs[0]!.layer;
  }

  #visibleOf(i: number): number {
    return i === 0 ? this.sectorCount() : this.#visible[i]!;
  }

  #layerAt(index: number): Layer {
    const config = this.#configs[index];
    if (!config) throw new DiskError('INVALID_INPUT', `no layer ${index} in a stack of ${this.#configs.length}`);
    return config.layer;
  }

  /** Writes into cache layer `index` the sectors it lacked (`wanted` unset) that a lower layer supplied (`served` set). */
  async #fillCache(index: number, wanted: SectorBitmap, served: SectorBitmap, bounce: Uint8Array): Promise<void> {
    const { layer } = this.#configs[index]!;
    const ss = this.sectorSize;
    for (const [s, c] of wanted.runs(false)) {
      for (let i = s; i < s + c; ) {
        if (!served.has(i)) {
          i++;
          continue;
        }
        let j = i + 1;
        while (j < s + c && served.has(j)) j++;
        const from = (i - wanted.lba) * ss;
        const start = i;
        this.#cacheFilled[index]! += j - i;
        try {
          await layer.write(start, bounce.subarray(from, from + (j - i) * ss), { noOverwrite: true });
        } catch (e) {
          this.#cacheFillErrors++;
          this.#lastCacheFillError = asDiskError(e, `read-cache fill of layer ${index} (${layer.layerType})`);
        }
        i = j;
      }
    }
  }

  /** Merged [start, end) runs within [lba, end) where some layer below `index` holds data the disk can see. */
  async #dataBelow(index: number, lba: number, end: number): Promise<Array<[number, number]>> {
    const runs: Array<[number, number]> = [];
    for (let j = index + 1; j < this.#configs.length; j++) {
      const stop = Math.min(end, this.#visible[j]!);
      if (stop <= lba) break;
      const layer = this.#configs[j]!.layer;
      const found = await this.#io(layer, 'presence', () => layer.presence(lba, stop - lba));
      for (const r of found) if (r.state === 'data') runs.push([r.lba, r.lba + r.count]);
    }
    runs.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const [s, e] of runs) {
      const prev = merged[merged.length - 1];
      if (prev && s <= prev[1]) prev[1] = Math.max(prev[1], e);
      else merged.push([s, e]);
    }
    return merged;
  }

  async #resize(sectors: number): Promise<void> {
    if (this.readOnly) throw new DiskError('READ_ONLY', 'resize: layered disk is read-only');
    if (!Number.isSafeInteger(sectors) || sectors < 0 || sectors > maxSectorsFor(this.sectorSize)) {
      throw new DiskError('INVALID_INPUT', `resize: ${sectors} is not a sector count the disk can hold`);
    }
    for (const { layer } of this.#configs.slice(0, this.#writePath)) await this.#io(layer, 'resize', () => layer.resize!(sectors));
    this.#visible[0] = sectors;
    for (let i = 1; i < this.#configs.length; i++) {
      this.#visible[i] = i < this.#writePath ? sectors : Math.min(this.#visible[i]!, this.#visible[i - 1]!);
    }
  }

  async #io<T>(layer: Layer, op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw asDiskError(e, `${op} on layer '${layer.layerType}'`);
    }
  }
}
