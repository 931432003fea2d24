/**
 * ReadCacheGuard: the Layer that wraps a persistent read cache (a PersistentLayer) under a URL
 * disk, so that the cache can only ever make reads cheaper, never make them fail.
 *
 * Promises
 * - Fills (noOverwrite writes from LayeredDisk) are serialised with flushes. The first failed fill
 *   or flush (QUOTA when storage is full, IO) stops filling for the rest of the session: that
 *   failure is reported once (LayeredDisk counts it as a cache-fill error, which never fails the
 *   read) and later fills are dropped silently. What was already cached keeps serving reads.
 * - Fills are made durable by a flush at most `flushDelayMs` after a fill, and on
 *   close, so a reload finds what was read; `state().dirty` says whether fills await that flush.
 * - `discard()` (the object changed on the server) makes the layer hold nothing from then on:
 *   reads fall through to the source (which refuses a changed object), fills are dropped, and the
 *   cache files are closed and handed to `onDiscard` for deletion.
 * - Anything but a noOverwrite write or an unmap (a cache is never in the write path) is refused
 *   with READ_ONLY.
 *
 * Errors: reads from the cache pass its errors through (a damaged cache is not hidden); `flush`
 * and `close` never reject because of the cache.
 */
import type { UnmapBehavior } from '../disk/disk.ts';
import { asDiskError, DiskError } from '../disk/errors.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from '../layered/layer.ts';

export type ReadCacheMode = 'filling' | 'stopped' | 'discarded';

export interface ReadCacheState {
  readonly mode: ReadCacheMode;
  /** Fills not yet made durable by a flush. */
  readonly dirty: boolean;
  /** Why filling stopped, when it did. */
  readonly error: DiskError | undefined;
  readonly bytesPresent: number;
  readonly flushes: number;
}

export interface ReadCacheGuardOptions {
  /** Delay of the flush after the last fill; default 200 ms. 0 flushes after every fill. */
  readonly flushDelayMs?: number;
  /** Called once, after the inner layer is closed, when the cache is discarded. */
  readonly onDiscard?: () => Promise<void>;
}

export class ReadCacheGuard implements Layer {
  readonly layerType: string;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly = true;
  readonly fuaRespected = false;
  readonly unmapBehavior: UnmapBehavior = 'unspecified';
  readonly optimalUnmapSectors: number;
  readonly diskId: Uint8Array | undefined;
  readonly #inner: Layer;
  readonly #options: ReadCacheGuardOptions;
  #mode: ReadCacheMode = 'filling';
  #error: DiskError | undefined;
  #dirty = false;
  #flushes = 0;
  #timer: unknown;
  #serial: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(inner: Layer, options: ReadCacheGuardOptions = {}) {
    this.#inner = inner;
    this.#options = options;
    this.layerType = `read-cache:${inner.layerType}`;
    this.sectorSize = inner.sectorSize;
    this.physicalSectorSize = inner.physicalSectorSize;
    this.optimalUnmapSectors = inner.optimalUnmapSectors;
    this.diskId = inner.diskId;
  }

  state(): ReadCacheState {
    return { mode: this.#mode, dirty: this.#dirty, error: this.#error, bytesPresent: this.bytesPresent(), flushes: this.#flushes };
  }

  sectorCount(): number {
    return this.#inner.sectorCount();
  }

  async read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    if (this.#mode === 'discarded') return;
    await this.#inner.read(lba, buf, marker);
  }

  async write(lba: number, data: Uint8Array, options: LayerWriteOptions = {}): Promise<void> {
    if (!options.noOverwrite) throw new DiskError('READ_ONLY', 'a read cache takes only cache fills, not writes');
    if (this.#mode !== 'filling') return;
    await this.#queue(async () => {
      if (this.#mode !== 'filling') return;
      try {
        await this.#inner.write(lba, data, { noOverwrite: true });
        this.#dirty = true;
      } catch (e) {
        this.#stop(e, 'cache fill');
        throw this.#error;
      }
    });
    this.#scheduleFlush();
  }

  async unmap(lba: number, count: number, nextIsZero: boolean): Promise<void> {
    // Only reached if someone puts the cache in a write path; keep it exact rather than stale.
    if (this.#mode === 'discarded') return;
    await this.#queue(() => this.#inner.unmap(lba, count, nextIsZero));
  }

  async flush(): Promise<void> {
    await this.#queue(() => this.#flushNow());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#mode === 'discarded') return;
    await this.#queue(() => this.#flushNow());
    await this.#inner.close().catch(() => undefined);
  }

  /** The object changed: stop serving and filling, close the cache and let the owner delete it. */
  async discard(): Promise<void> {
    if (this.#mode === 'discarded') return;
    this.#mode = 'discarded';
    this.#dirty = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#queue(async () => {
      await this.#inner.close().catch(() => undefined);
      await this.#options.onDiscard?.().catch(() => undefined);
    });
  }

  async presence(lba: number, count: number): Promise<PresenceRun[]> {
    return this.#mode === 'discarded' ? [] : this.#inner.presence(lba, count);
  }

  async occupancyMap(buckets: number, lba?: number, count?: number): Promise<Float64Array> {
    return this.#mode === 'discarded' ? new Float64Array(buckets) : this.#inner.occupancyMap(buckets, lba, count);
  }

  bytesPresent(): number {
    return this.#mode === 'discarded' ? 0 : this.#inner.bytesPresent();
  }

  async #flushNow(): Promise<void> {
    if (!this.#dirty || this.#mode !== 'filling') return;
    try {
      await this.#inner.flush();
      this.#dirty = false;
      this.#flushes++;
    } catch (e) {
      this.#stop(e, 'cache flush');
    }
  }

  #stop(e: unknown, what: string): void {
    if (this.#mode === 'filling') {
      this.#mode = 'stopped';
      this.#error = asDiskError(e, what);
    }
  }

  #scheduleFlush(): void {
    if (this.#closed || this.#mode !== 'filling') return;
    // At most one pending flush: under a steady stream of fills the cache still becomes durable every `delay`.
    if (this.#timer !== undefined) return;
    const delay = this.#options.flushDelayMs ?? 200;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delay);
  }

  #queue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }
}
