/**
 * The disk worker: owns every stack and every OPFS handle, and serves the page over Comlink
 * (`DiskWorkerApi`, workers/api.ts). The page holds only specs, ids and snapshots.
 *
 * - Stacks are built by the one resolver (src/core/resolve-spec.ts) through this worker's
 *   platform: OPFS sync access handles (platform/opfs-sync-file.ts) and lazy Blob sources
 *   (platform/blob-range-source.ts). Each stack is a LiveStack (overlays, tree, occupancy,
 *   sectors, shell) with its StackControllers (attached controller, inline fallback).
 * - Per-layer read attribution is in `stackInfo` (LayerSummary.servedSectors) and, when the worker
 *   is cross-origin isolated, in one shared attribution buffer per stack (StackInfo.attribution):
 *   refreshed on every StackInfo and on a short timer while a controller is attached, so the page
 *   reads it each animation frame. A buffer is replaced only when the layers outgrow it.
 * - Occupancy maps and sector dumps are transferred, not copied.
 * - Chains: a `blob` spec carries its parent files; `imageParents` tells the page which parent a
 *   dropped file names, so it can sort several dropped files into chains before opening them.
 * - Encryption: crypt specs and crypt overlays get their cipher from platform/xts-wasm.ts (the
 *   wasm module is fetched and compiled once per worker). Secrets arrive once, beside an
 *   overlay spec or inside a spec given to `openStack`, and stay here inside ciphers: stacks keep
 *   their specs redacted, so nothing this worker returns carries a key (see api.ts OverlaySecret).
 * - Errors reach the page as real DiskError / DiskConfigError instances (comlink-errors.ts).
 *
 * Errors: an unknown stack id is DiskError('INVALID_INPUT'); everything else is the error of the
 * part that failed (see each module).
 */
import { expose, releaseProxy, transfer } from 'comlink';
import { DiskError } from '../src/core/disk/errors.ts';
import { attributionCapacity, createAttributionBuffer, writeAttribution } from '../src/core/layered/attribution-buffer.ts';
import type { SpecPlatform } from '../src/core/resolve-spec.ts';
import { probeParents } from '../src/core/formats/open-source.ts';
import type { DiskWorkerApi, ReservationOp, ReservationOutcome, StackId, StackInfo } from './api.ts';
import { registerErrorHandlers } from './comlink-errors.ts';
import { StackControllers } from './controller/stack-controllers.ts';
import { browserInflate } from './platform/browser-inflate.ts';
import { browserHttpFetch } from './platform/browser-http-fetch.ts';
import { opfsUrlCacheFiles } from './platform/http-url-cache.ts';
import { UrlSources } from './stack/url-sources.ts';
import { BlobRangeSource } from './platform/blob-range-source.ts';
import { createImage, deleteImage, importImage, listImages } from './platform/opfs-images.ts';
import { OpfsSyncFile } from './platform/opfs-sync-file.ts';
import { browserXtsCipher } from './platform/xts-wasm.ts';
import { LiveStack } from './stack/live-stack.ts';
import { JobRegistry } from './jobs/job-registry.ts';
import { deleteLayer, listLayers, openLayerFiles, renameImage, renameLayer, resetLayer, setSimulatedQuota } from './platform/opfs-layers.ts';
import { ReservationsDisk } from '../src/core/decorators/reservations-disk.ts';

registerErrorHandlers();

const platform: SpecPlatform = {
  openFile: (path, { readOnly }) => OpfsSyncFile.open(path, { readOnly }),
  blobSource: (blob, name) => new BlobRangeSource(blob, name),
  inflate: browserInflate,
  cipher: browserXtsCipher,
  openLayerFiles,
  http: { fetch: browserHttpFetch, cacheFiles: opfsUrlCacheFiles },
};

/** URL disks per stack, for `urlSources` (statistics and cached chunks). */
const urlSources = new UrlSources();

interface Entry {
  readonly stack: LiveStack;
  readonly controllers: StackControllers;
  attribution?: SharedArrayBuffer;
  /** Persistent reservations over the stack, made on the first `reservation` call. */
  reservations?: ReservationsDisk;
}

const stacks = new Map<StackId, Entry>();
let nextId = 1;

/** How often attribution buffers of stacks with an attached controller are refreshed. */
const ATTRIBUTION_REFRESH_MS = 50;
const sharedMemory = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
const attached = new Set<StackId>();
let refreshTimer: ReturnType<typeof setInterval> | undefined;

/** Copies the stack's counts into its shared buffer (a few numbers: cheap enough for a timer). */
function refreshAttribution(e: Entry): void {
  if (!sharedMemory) return;
  const { servedSectors, zeroFilledSectors } = e.stack.attribution();
  if (!e.attribution || attributionCapacity(e.attribution) < servedSectors.length) {
    e.attribution = createAttributionBuffer(Math.max(4, servedSectors.length * 2)); // room for overlays
  }
  writeAttribution(e.attribution, servedSectors, zeroFilledSectors);
}

function withAttribution(e: Entry, info: StackInfo): StackInfo {
  refreshAttribution(e);
  return e.attribution ? { ...info, attribution: e.attribution } : info;
}

function setAttached(id: StackId, on: boolean): void {
  if (on) attached.add(id);
  else attached.delete(id);
  if (attached.size > 0 && sharedMemory && refreshTimer === undefined) {
    refreshTimer = setInterval(() => {
      for (const a of attached) {
        const e = stacks.get(a);
        if (e) refreshAttribution(e);
      }
    }, ATTRIBUTION_REFRESH_MS);
  } else if (attached.size === 0 && refreshTimer !== undefined) {
    clearInterval(refreshTimer);
    refreshTimer = undefined;
  }
}

function entry(id: StackId): Entry {
  const e = stacks.get(id);
  if (!e) throw new DiskError('INVALID_INPUT', `no open stack '${id}' (it was closed, or the page is talking to a restarted worker)`);
  return e;
}

/** One reservation command as `hostId`; failures become the outcome (the lessons show RESERVATION CONFLICT). */
async function reservationCall(e: Entry, hostId: string, op: ReservationOp): Promise<ReservationOutcome> {
  const pr = (e.reservations ??= new ReservationsDisk(e.stack.switchable));
  const view = pr.forHost(hostId);
  let outcome: { ok: boolean; code?: string; message: string };
  try {
    const r = view.reservations!;
    switch (op.op) {
      case 'register': await r.register(0n, BigInt(op.key), { ignoreExisting: true }); break;
      case 'reserve': await r.reserve(BigInt(op.key), op.type); break;
      case 'release': await r.release(BigInt(op.key), op.type); break;
      case 'preempt': await r.preempt(BigInt(op.key), BigInt(op.preemptKey), op.type); break;
      case 'read': await view.read(op.lba, new Uint8Array(op.count * view.sectorSize)); break;
      case 'write': await view.write(op.lba, new Uint8Array(op.count * view.sectorSize).fill(0x50)); break;
      case 'report': break;
    }
    outcome = { ok: true, message: `${hostId}: ${op.op} done` };
  } catch (error) {
    const code = error instanceof DiskError ? error.code : error instanceof SyntaxError ? 'INVALID_INPUT' : 'IO';
    outcome = { ok: false, code, message: `${hostId}: ${op.op} failed: ${code}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const report = pr.report();
  const holder = report.reservation && report.registrations.find((g) => g.key === report.reservation!.holderKey)?.hostId;
  return {
    ...outcome,
    generation: report.generation,
    registrations: report.registrations.map((g) => ({ hostId: g.hostId, key: `0x${g.key.toString(16)}` })),
    ...(report.reservation && { reservation: { holder, holderKey: `0x${report.reservation.holderKey.toString(16)}`, type: report.reservation.type } }),
  };
}

const jobs = new JobRegistry((id) => entry(id).stack);

const api = {
  ...jobs.api(),
  listLayers: () => listLayers(),
  deleteLayer: (name) => deleteLayer(name),
  resetLayer: (name) => resetLayer(name),
  renameLayer: (from, to) => renameLayer(from, to),
  renameImage: (from, to) => renameImage(from, to),
  async setSimulatedQuota(bytes) {
    setSimulatedQuota(bytes);
  },

  async openStack(spec, name) {
    const id = `stack-${nextId++}`;
    const stack = await LiveStack.open(id, name, spec, urlSources.platformFor(platform, id)).catch((error: unknown) => {
      urlSources.forget(id); // a URL disk opened before a later part failed was closed with the rest
      throw error;
    });
    const e: Entry = { stack, controllers: new StackControllers(stack.switchable, name) };
    stacks.set(id, e);
    return withAttribution(e, stack.info());
  },

  async closeStack(id) {
    const { stack, controllers } = entry(id);
    await jobs.stackClosing(id);
    stacks.delete(id);
    urlSources.forget(id);
    setAttached(id, false);
    try {
      await controllers.close();
    } finally {
      await stack.close();
    }
  },

  async stackInfo(id) {
    const e = entry(id);
    return withAttribution(e, e.stack.info());
  },

  async addOverlay(id, overlay, secret) {
    const e = entry(id);
    return withAttribution(e, await e.stack.addOverlay(overlay, secret));
  },

  async stackOverlays(id) {
    return entry(id).stack.overlays.map((o) => o.spec);
  },
  async removeOverlay(id, nodeId) {
    const e = entry(id);
    return withAttribution(e, await e.stack.removeOverlay(nodeId));
  },

  async occupancy(id, request) {
    const occupancy = await entry(id).stack.occupancy(request);
    return transfer(occupancy, occupancy.layers.map((l) => l.map.buffer));
  },

  async readSectors(id, lba, count, view) {
    const dump = await entry(id).stack.readSectors(lba, count, view);
    return transfer(dump, [dump.data.buffer, dump.sourceLayer.buffer]);
  },

  runShell: (id, line) => entry(id).stack.runShell(line),

  async urlSources(id) {
    entry(id);
    const list = await urlSources.info(id);
    return transfer(list, list.flatMap((u) => [u.memory.buffer, ...(u.persistent.map ? [u.persistent.map.buffer] : [])]));
  },

  partitionTable: (id) => entry(id).stack.partitionTable(),

  reservation: (id, hostId, op) => reservationCall(entry(id), hostId, op),

  imageParents: (blob, name) => probeParents(new BlobRangeSource(blob, name), { inflate: browserInflate }),

  listImages: () => listImages(),
  createImage: (name, sizeBytes, format) => createImage(name, sizeBytes, format),
  async importFile(file, name, onProgress) {
    try {
      return await importImage(file, name, onProgress);
    } finally {
      // The callback is a Comlink proxy holding a MessagePort: release it (calls already made are delivered first).
      await Promise.resolve();
      (onProgress as { [releaseProxy]?: () => void } | undefined)?.[releaseProxy]?.();
    }
  },
  deleteImage: (name) => deleteImage(name),

  async attachController(id, options) {
    const buffers = await entry(id).controllers.attach(options);
    setAttached(id, true);
    return buffers;
  },

  async detachController(id) {
    const e = entry(id);
    try {
      await e.controllers.detach();
    } finally {
      setAttached(id, false);
      refreshAttribution(e); // the final counts, for a page that reads the buffer once more
    }
  },

  runWorkloadInline: (id, options, job) => entry(id).controllers.runInline(options, job),

  async controllerStats(id) {
    return entry(id).controllers.stats();
  },

  async stopInlineWorkload(id) {
    entry(id).controllers.stopInline();
  },
} satisfies DiskWorkerApi;

expose(api);
