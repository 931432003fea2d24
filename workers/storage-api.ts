/**
 * The disk worker's library and jobs API (type-only; `DiskWorkerApi` in api.ts extends these):
 * persistent diff layers in OPFS, renames, and block jobs (commit, stream, mirror, backup,
 * export) over open stacks with progress, throttle, pause/resume/cancel.
 *
 * Progress reaches the page as a polled snapshot (`listJobs`, a few times a second), never a
 * message per I/O. Failures reject with DiskError / DiskConfigError (comlink-errors.ts); a job's
 * own failure is not a rejection of `startJob`: it is the job's `state: 'failed'` and `error`.
 */
import type { DiskErrorCode } from '../src/core/disk/errors.ts';
import type { JobKind, JobState } from '../src/core/jobs/job.ts';
import type { StackId } from './api.ts';

export interface LayerEntry {
  /** The name in a `persistent-layer` spec; files `disklab/layers/<name>.data|.meta`. */
  readonly name: string;
  /** Bytes of both files (0 when another tab holds them). */
  readonly sizeBytes: number;
  /** A stack in this worker has it open (delete, reset and rename are refused then). */
  readonly open: boolean;
}

export interface StorageApi {
  listLayers(): Promise<LayerEntry[]>;
  deleteLayer(name: string): Promise<void>;
  /** Empties a layer that no stack has open: the image under it reads as before the layer's writes. */
  resetLayer(name: string): Promise<void>;
  renameLayer(from: string, to: string): Promise<void>;
  renameImage(from: string, to: string): Promise<void>;
  /**
   * Test-only: files the worker writes from now on fail QUOTA past `bytes` more (undefined: off).
   * Simulates the browser's quota, which a test cannot shrink (workers/platform/opfs-layers.ts).
   */
  setSimulatedQuota(bytes: number | undefined): Promise<void>;
}

/**
 * What a job does to a stack (the stack must have no overlays for commit and stream, so its
 * layered disk is the one its spec describes):
 * - commit: the top layer into the one below; the top must be resettable (a persistent layer)
 *   and is emptied afterwards, so the stack reads the same and new writes land in it again.
 * - stream: the lower layers' data copied up into the top layer; the stack is unchanged otherwise.
 * - mirror: the live disk to a new raw OPFS image `target`, converging while the guest writes;
 *   `complete` switches the stack's I/O to the image (reopen it to see it in the tree).
 * - backup: a point-in-time full copy into a new raw OPFS image `target` (copy-before-write).
 * - export: the stack into a new OPFS image `target` as raw or dynamic VHD (holes stay holes),
 *   which the page then downloads from OPFS in chunks.
 */
export type ExportFormat = 'raw' | 'vhd' | 'qcow2';

/**
 * What the worker's job registry runs.
 * - export: raw, dynamic VHD, or qcow2 v3 (sparse: only clusters with non-zero data).
 * - backup without `mode`: a raw point-in-time image. `mode: 'full'`: a full backup into a new
 *   dynamic VHD that starts an incremental chain (from then on the worker keeps a dirty bitmap of
 *   the stack's writes). `mode: 'incremental'`: the blocks written since the chain's last backup,
 *   as a new differencing VHD whose parent is that backup (named by its image name, which is how
 *   the chain's files find each other when downloaded side by side).
 */
export type JobRequest =
  | { readonly kind: 'commit' }
  | { readonly kind: 'stream' }
  | { readonly kind: 'mirror'; readonly target: string }
  | { readonly kind: 'backup'; readonly target: string; readonly mode?: 'full' | 'incremental' }
  | { readonly kind: 'export'; readonly target: string; readonly format: ExportFormat };

export interface JobInfo {
  readonly id: string;
  readonly kind: JobKind;
  readonly stackId: StackId;
  readonly label: string;
  readonly state: JobState;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second over the running time. */
  readonly rate: number;
  readonly etaSeconds: number | undefined;
  readonly speedLimit: number | undefined;
  readonly error?: { readonly code: DiskErrorCode; readonly message: string };
  /** The OPFS image a mirror, backup or export wrote: name under `disklab/` and path from the root. */
  readonly output?: { readonly name: string; readonly path: string };
  /** What happened to the stack, for the page to say. */
  readonly note?: string;
}

export type JobAction = 'pause' | 'resume' | 'cancel' | 'complete';

export interface JobsApi {
  startJob(stackId: StackId, request: JobRequest, options?: { readonly speedLimit?: number }): Promise<JobInfo>;
  /** Every job this worker has run since it started, newest last: the page polls this. */
  listJobs(): Promise<JobInfo[]>;
  jobControl(id: string, action: JobAction): Promise<JobInfo>;
  setJobSpeedLimit(id: string, bytesPerSecond: number | undefined): Promise<JobInfo>;
  /** Resolves when the job has ended (completed, cancelled or failed). */
  waitForJob(id: string): Promise<JobInfo>;
}
