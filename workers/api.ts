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
import type { ParentProbe } from '../src/core/formats/open-source.ts';
import type { PartitionTable } from '../src/core/formats/partitions/partition-table.ts';
import type { JobsApi, StorageApi } from './storage-api.ts';
import type { UrlCacheApi } from './url-cache-api.ts';
import type { ReservationType } from '../src/core/disk/reservations.ts';

export type { ParentProbe, PartitionTable };

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
  /** For a layer that is one file of an image chain (differencing VHD/VHDX, qcow2 backing): its file name. */
  readonly file?: string;
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
  /** The chain file this layer is, when it is one (see StackNode.file). */
  readonly file?: string;
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
  /**
   * The top-most encryption layer, when the stack has one on its decorator path (what the hex
   * view's "below the encryption" choice reads under). Never any key material.
   */
  readonly crypt?: CryptInfo;
}

export interface CryptInfo {
  readonly nodeId: string;
  readonly label: string;
  /** 'aes-xts-plain64'. */
  readonly cipher: string;
  /** Inner sectors before the encrypted data (the 4 KiB passphrase header), 0 for a key file. */
  readonly dataOffsetSectors: number;
  /** The tweak of the encrypted disk's sector 0, decimal. */
  readonly ivOffset: string;
}

/** What can be added on a live stack, on top of what is there. */
export type OverlaySpec =
  | { readonly kind: 'ram-diff' }
  | { readonly kind: 'delay'; readonly readUs: number; readonly writeUs: number }
  | { readonly kind: 'fault'; readonly rules: readonly FaultRuleData[] }
  /**
   * XTS-AES-256 (dm-crypt aes-xts-plain64) over what is there. The key comes in the separate
   * `OverlaySecret` argument of `addOverlay`, never in this spec (which the worker keeps):
   * - 'passphrase' + `create`: writes a new 4 KiB Disk Lab crypt header (PBKDF2-SHA256) at sector
   *   0 of what is below, destroying what was there; over a read-only stack a RAM diff is added
   *   first, as its own removable overlay, to take the header and the ciphertext.
   * - 'passphrase' without `create`: opens the header below; a wrong passphrase is refused with
   *   DiskConfigError('INVALID_PARAMETER', field 'passphrase'), no header is CORRUPT_IMAGE.
   * - 'key-file': a 64-byte key, no header (plain dm-crypt); `ivOffset` (decimal or 0x) is the
   *   tweak of sector 0. A passphrase header records its own IV offset.
   */
  | { readonly kind: 'crypt'; readonly key: 'passphrase' | 'key-file'; readonly create?: boolean; readonly ivOffset?: string };

/**
 * The secret of a crypt overlay, sent once beside its OverlaySpec: the worker derives or checks
 * the key, keeps only the cipher (which wipes it when the layer goes), zeroes a key file's bytes
 * and never returns any of it. The page should transfer a key file's buffer so it keeps no copy.
 */
export type OverlaySecret = { readonly passphrase: string } | { readonly keyFile: Uint8Array };

/**
 * Which level of the stack the hex view reads: 'top' is what the guest sees; 'below-crypt' is
 * the disk under the top-most encryption layer (ciphertext), at the sectors that hold the top's
 * sectors (LBA + the layer's data offset), so the two views show the same sectors side by side.
 */
export type SectorView = 'top' | 'below-crypt';

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
  /** The level read (see SectorView). */
  readonly view: SectorView;
  /** The LBA read on the level below the encryption (`lba` + its data offset), for 'below-crypt'. */
  readonly innerLba?: number;
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

/**
 * A SCSI-3 persistent-reservation command, or a read/write, issued as one emulated host against a
 * stack (src/core/decorators/reservations-disk.ts over the stack's disk). Keys are decimal or 0x
 * strings (64-bit). 'register' registers (or changes) the host's key, ignoring any existing one.
 */
export type ReservationOp =
  | { readonly op: 'register'; readonly key: string }
  | { readonly op: 'reserve' | 'release'; readonly key: string; readonly type: ReservationType }
  | { readonly op: 'preempt'; readonly key: string; readonly preemptKey: string; readonly type: ReservationType }
  | { readonly op: 'read' | 'write'; readonly lba: number; readonly count: number }
  | { readonly op: 'report' };

export interface ReservationOutcome {
  /** False when the command failed; `code` is then the DiskError code (e.g. RESERVATION_CONFLICT). */
  readonly ok: boolean;
  readonly code?: string;
  readonly message: string;
  readonly generation: number;
  readonly registrations: readonly { readonly hostId: string; readonly key: string }[];
  readonly reservation?: { readonly holder: string | undefined; readonly holderKey: string; readonly type: ReservationType };
}

/** Persistent layers, renames and block jobs are declared in storage-api.ts. */
export interface DiskWorkerApi extends StorageApi, JobsApi, UrlCacheApi {
  openStack(spec: DiskSpec, name: string): Promise<StackInfo>;
  closeStack(id: StackId): Promise<void>;
  stackInfo(id: StackId): Promise<StackInfo>;
  /** `secret` is required for a crypt overlay and refused for any other (see OverlaySecret). */
  addOverlay(id: StackId, overlay: OverlaySpec, secret?: OverlaySecret): Promise<StackInfo>;
  removeOverlay(id: StackId, nodeId: string): Promise<StackInfo>;
  /** The overlays added on the live stack, bottom first, as added (a crypt overlay's spec holds no key): for saving the stack. */
  stackOverlays(id: StackId): Promise<OverlaySpec[]>;
  occupancy(id: StackId, request: OccupancyRequest): Promise<Occupancy>;
  /** `view` defaults to 'top'; 'below-crypt' on a stack with no encryption layer is INVALID_INPUT. */
  readSectors(id: StackId, lba: number, count: number, view?: SectorView): Promise<SectorDump>;
  /** One line of the qemu-io-like language (src/core/shell) against the stack. */
  runShell(id: StackId, line: string): Promise<ShellResult>;
  /** The MBR/GPT partition table of what the stack's guest sees (scheme 'none' when there is none; problems are warnings). */
  partitionTable(id: StackId): Promise<PartitionTable>;
  /** Which parent an image file names (differencing VHD/VHDX, qcow2 overlay), opening no parent: for sorting dropped files into chains. */
  imageParents(blob: Blob, name: string): Promise<ParentProbe>;
  /** A persistent-reservation command as `hostId` on the stack (see ReservationOp); a refused command resolves with ok false. */
  reservation(id: StackId, hostId: string, op: ReservationOp): Promise<ReservationOutcome>;

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
