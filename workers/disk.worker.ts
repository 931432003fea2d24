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
 * - Errors reach the page as real DiskError / DiskConfigError instances (comlink-errors.ts).
 *
 * Errors: an unknown stack id is DiskError('INVALID_INPUT'); everything else is the error of the
 * part that failed (see each module).
 */
import { expose, releaseProxy, transfer } from 'comlink';
import { DiskError } from '../src/core/disk/errors.ts';
import { attributionCapacity, createAttributionBuffer, writeAttribution } from '../src/core/layered/attribution-buffer.ts';
import type { SpecPlatform } from '../src/core/resolve-spec.ts';
import type { DiskWorkerApi, StackId, StackInfo } from './api.ts';
import { registerErrorHandlers } from './comlink-errors.ts';
import { StackControllers } from './controller/stack-controllers.ts';
import { browserInflate } from './platform/browser-inflate.ts';
import { BlobRangeSource } from './platform/blob-range-source.ts';
import { createImage, deleteImage, importImage, listImages } from './platform/opfs-images.ts';
import { OpfsSyncFile } from './platform/opfs-sync-file.ts';
import { LiveStack } from './stack/live-stack.ts';

registerErrorHandlers();

const platform: SpecPlatform = {
  openFile: (path, { readOnly }) => OpfsSyncFile.open(path, { readOnly }),
  blobSource: (blob, name) => new BlobRangeSource(blob, name),
  inflate: browserInflate,
};

interface Entry {
  readonly stack: LiveStack;
  readonly controllers: StackControllers;
  attribution?: SharedArrayBuffer;
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

const api = {
  async openStack(spec, name) {
    const id = `stack-${nextId++}`;
    const stack = await LiveStack.open(id, name, spec, platform);
    const e: Entry = { stack, controllers: new StackControllers(stack.switchable, name) };
    stacks.set(id, e);
    return withAttribution(e, stack.info());
  },

  async closeStack(id) {
    const { stack, controllers } = entry(id);
    stacks.delete(id);
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

  async addOverlay(id, overlay) {
    const e = entry(id);
    return withAttribution(e, await e.stack.addOverlay(overlay));
  },

  async removeOverlay(id, nodeId) {
    const e = entry(id);
    return withAttribution(e, await e.stack.removeOverlay(nodeId));
  },

  async occupancy(id, request) {
    const occupancy = await entry(id).stack.occupancy(request);
    return transfer(occupancy, occupancy.layers.map((l) => l.map.buffer));
  },

  async readSectors(id, lba, count) {
    const dump = await entry(id).stack.readSectors(lba, count);
    return transfer(dump, [dump.data.buffer, dump.sourceLayer.buffer]);
  },

  runShell: (id, line) => entry(id).stack.runShell(line),

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
