/**
 * The disk worker: owns every stack and every OPFS handle, and serves the page over Comlink
 * (`DiskWorkerApi`, workers/api.ts). The page holds only specs, ids and snapshots.
 *
 * - Stacks are built by the one resolver (src/core/resolve-spec.ts) through this worker's
 *   platform: OPFS sync access handles (platform/opfs-sync-file.ts) and lazy Blob sources
 *   (platform/blob-range-source.ts). Each stack is a LiveStack (overlays, tree, occupancy,
 *   sectors, shell) with its StackControllers (attached controller, inline fallback).
 * - Per-layer read attribution is exposed through `stackInfo` (LayerSummary.servedSectors), not
 *   shared memory: the page polls it a few times a second while a workload runs.
 * - Occupancy maps and sector dumps are transferred, not copied.
 * - Errors reach the page as real DiskError / DiskConfigError instances (comlink-errors.ts).
 *
 * Errors: an unknown stack id is DiskError('INVALID_INPUT'); everything else is the error of the
 * part that failed (see each module).
 */
import { expose, releaseProxy, transfer } from 'comlink';
import { DiskError } from '../src/core/disk/errors.ts';
import type { SpecPlatform } from '../src/core/resolve-spec.ts';
import type { DiskWorkerApi, StackId } from './api.ts';
import { registerErrorHandlers } from './comlink-errors.ts';
import { StackControllers } from './controller/stack-controllers.ts';
import { BlobRangeSource } from './platform/blob-range-source.ts';
import { createImage, deleteImage, importImage, listImages } from './platform/opfs-images.ts';
import { OpfsSyncFile } from './platform/opfs-sync-file.ts';
import { LiveStack } from './stack/live-stack.ts';

registerErrorHandlers();

const platform: SpecPlatform = {
  openFile: (path, { readOnly }) => OpfsSyncFile.open(path, { readOnly }),
  blobSource: (blob, name) => new BlobRangeSource(blob, name),
};

interface Entry {
  readonly stack: LiveStack;
  readonly controllers: StackControllers;
}

const stacks = new Map<StackId, Entry>();
let nextId = 1;

function entry(id: StackId): Entry {
  const e = stacks.get(id);
  if (!e) throw new DiskError('INVALID_INPUT', `no open stack '${id}' (it was closed, or the page is talking to a restarted worker)`);
  return e;
}

const api = {
  async openStack(spec, name) {
    const id = `stack-${nextId++}`;
    const stack = await LiveStack.open(id, name, spec, platform);
    stacks.set(id, { stack, controllers: new StackControllers(stack.switchable, name) });
    return stack.info();
  },

  async closeStack(id) {
    const { stack, controllers } = entry(id);
    stacks.delete(id);
    try {
      await controllers.close();
    } finally {
      await stack.close();
    }
  },

  async stackInfo(id) {
    return entry(id).stack.info();
  },

  addOverlay: (id, overlay) => entry(id).stack.addOverlay(overlay),
  removeOverlay: (id, nodeId) => entry(id).stack.removeOverlay(nodeId),

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
    return entry(id).controllers.attach(options);
  },

  async detachController(id) {
    await entry(id).controllers.detach();
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
