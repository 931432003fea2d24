/**
 * The disk worker's and guest worker's APIs, declared once and type-only (DESIGN.md convention 7).
 *
 * The page `wrap`s the workers with `import type` of these interfaces; each worker `expose`s an
 * object that `satisfies` its interface. Only data crosses: specs, ids, plain snapshots, transferred
 * or shared buffers; `Comlink.proxy` only for progress callbacks (convention 8). A failed call
 * rejects with a `DiskError` (code, message, lba, field and cause preserved by the custom Comlink
 * throw handler in workers/comlink-errors.ts) or a `DiskConfigError` (problem, field, layerIndex).
 *
 * The disk worker owns every OPFS handle and every stack; the page never holds a Disk. The data
 * plane (controller rings, guest memory, live stats) is SharedArrayBuffers, read by the page each
 * animation frame without messages; when the page is not cross-origin isolated, the workload runs
 * inside the disk worker instead (`runWorkloadInline`), with stats fetched by `controllerStats`.
 */
import type { DiskSpec, FaultRuleData } from '../src/core/spec.ts';
import type { ShellResult } from '../src/core/shell/shell.ts';
import type { ControllerBuffers } from '../src/core/controller/layout.ts';
import type { ControllerStatsSnapshot } from '../src/core/controller/stats.ts';
import type { JobSpec } from '../src/core/workload/job.ts';
import type { WorkloadResult } from '../src/core/workload/results.ts';

export type StackId = string;

/** One node of the stack tree the stack panel draws, top (what the guest sees) first. */
export interface StackNode {
  /** Stable within a stack: overlays are removed by this id. */
  readonly id: string;
  readonly role: 'backend' | 'format' | 'layered' | 'layer' | 'decorator';
  readonly label: string;
  readonly diskType: string;
  readonly sizeBytes: number;
  readonly sectorSize: number;
  readonly readOnly: boolean;
  /** For layers: bytes this layer holds data for. */
  readonly bytesPresent?: number;
  /** For layers: index in the layered disk, top = 0 (the occupancy map's row). */
  readonly layerIndex?: number;
  /** True for overlays added on the live stack (RAM diff, delay, fault): they can be removed. */
  readonly removable: boolean;
  readonly children: readonly StackNode[];
}

export interface LayerSummary {
  readonly index: number;
  readonly name: string;
  readonly bytesPresent: number;
  /** Sectors this layer served to reads since the stack opened (per-layer attribution). */
  readonly servedSectors: number;
}

export interface StackInfo {
  readonly id: StackId;
  readonly name: string;
  readonly spec: DiskSpec;
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly: boolean;
  readonly tree: StackNode;
  /** The layers of the top-most layered disk, top first; [] when the stack has none. */
  readonly layers: readonly LayerSummary[];
  /** Sectors no layer held, read as zeroes. */
  readonly zeroFilledSectors: number;
  /**
   * The same attribution (`layers[i].servedSectors`, `zeroFilledSectors`) live in shared memory
   * (src/core/layered/attribution-buffer.ts), refreshed by the disk worker every few tens of ms
   * while a controller is attached; absent without cross-origin isolation. It may be replaced
   * when the layers change, so use the one from the latest StackInfo.
   */
  readonly attribution?: SharedArrayBuffer;
}

/** What can be added on a live stack, on top of what is there. */
export type OverlaySpec =
  | { readonly kind: 'ram-diff' }
  | { readonly kind: 'delay'; readonly readUs: number; readonly writeUs: number }
  | { readonly kind: 'fault'; readonly rules: readonly FaultRuleData[] };

export interface OccupancyRequest {
  readonly buckets: number;
  readonly lba?: number;
  readonly count?: number;
}

export interface Occupancy {
  readonly lba: number;
  readonly count: number;
  readonly buckets: number;
  /** Top first. `map[b]` is the fraction of bucket b's sectors the layer holds (data or zero record). */
  readonly layers: readonly { readonly index: number; readonly name: string; readonly map: Float64Array }[];
}

export interface SectorDump {
  readonly lba: number;
  readonly data: Uint8Array;
  /** Per sector: the index of the layer that supplied it, -1 when no layer had it (zero-filled), or -2 when the stack is not layered. */
  readonly sourceLayer: Int16Array;
  readonly layerNames: readonly string[];
}

export interface ImageEntry {
  /** Path under the lab's OPFS folder, e.g. "disk.vhd". */
  readonly name: string;
  /** Path from the OPFS root, for an `opfs` DiskSpec, e.g. "disklab/disk.vhd". */
  readonly path: string;
  readonly sizeBytes: number;
  readonly format: 'raw' | 'vhd';
}

export interface JobProgress {
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly bytesPerSecond: number;
  /** Seconds left at the current rate; undefined before there is a rate. */
  readonly etaSeconds: number | undefined;
}

export interface ControllerOptions {
  readonly queues: number;
  readonly depth: number;
  readonly guestMemoryBytes?: number;
}

export interface DiskWorkerApi {
  openStack(spec: DiskSpec, name: string): Promise<StackInfo>;
  closeStack(id: StackId): Promise<void>;
  stackInfo(id: StackId): Promise<StackInfo>;
  addOverlay(id: StackId, overlay: OverlaySpec): Promise<StackInfo>;
  removeOverlay(id: StackId, nodeId: string): Promise<StackInfo>;
  occupancy(id: StackId, request: OccupancyRequest): Promise<Occupancy>;
  readSectors(id: StackId, lba: number, count: number): Promise<SectorDump>;
  /** One line of the qemu-io-like language (src/core/shell) against the stack. */
  runShell(id: StackId, line: string): Promise<ShellResult>;

  listImages(): Promise<ImageEntry[]>;
  createImage(name: string, sizeBytes: number, format: 'raw' | 'vhd'): Promise<ImageEntry>;
  /** Copies a local file into OPFS in bounded chunks, reporting progress; nothing is left on failure. */
  importFile(file: Blob, name: string, onProgress?: (p: JobProgress) => void): Promise<ImageEntry>;
  deleteImage(name: string): Promise<void>;

  /** Starts servicing an emulated controller over the stack; the buffers go to the guest worker. */
  attachController(id: StackId, options: ControllerOptions): Promise<ControllerBuffers>;
  detachController(id: StackId): Promise<void>;
  /** Without cross-origin isolation: runs the workload inside the disk worker over unshared memory. */
  runWorkloadInline(id: StackId, options: ControllerOptions, job: JobSpec): Promise<WorkloadResult>;
  /** Snapshot of the inline controller's statistics (the fallback for reading the stats buffer). */
  controllerStats(id: StackId): Promise<ControllerStatsSnapshot | undefined>;
  /** Asks the inline workload (runWorkloadInline) to stop: it stops issuing, drains and resolves with `aborted` set. */
  stopInlineWorkload(id: StackId): Promise<void>;
}

export interface GuestWorkerApi {
  /**
   * `stop`: a stop word from workers/guest-stop.ts (`createStopBuffer`); the page calls
   * `requestStop(stop)` to end a running job, since a guest blocked in Atomics.wait cannot receive a message.
   */
  attach(buffers: ControllerBuffers, stop?: SharedArrayBuffer): Promise<void>;
  /** Runs a fio-like job to completion, blocking the guest worker on Atomics between completions. */
  run(job: JobSpec): Promise<WorkloadResult>;
}
