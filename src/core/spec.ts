/**
 * `DiskSpec`: a whole disk stack described as plain data.
 *
 * Specs are what the page holds and sends to the disk worker, and what the CLI builds from its
 * arguments: structured-cloneable (no functions, no class instances except `Blob`/`File`, which the
 * platform clones by reference), so they cross worker boundaries and can be saved. One resolver
 * (resolve-spec.ts) turns a spec into a Disk by resolving inner specs first. A spec never carries
 * a secret.
 */
import type { DiskErrorCode } from './disk/errors.ts';

/** A formatted image's container: detected from content when absent. */
export type ImageFormat = 'raw' | 'vhd';

export type DiskSpec =
  /** A memory disk, empty at start. */
  | { readonly kind: 'ram'; readonly sectors: number; readonly sectorSize?: number; readonly readOnly?: boolean }
  /** An image file in the Origin Private File System, by path from the OPFS root ("images/a.vhd"). */
  | { readonly kind: 'opfs'; readonly path: string; readonly format?: ImageFormat; readonly readOnly?: boolean }
  /** A user's local file or any Blob, read lazily by slices: always read-only. */
  | { readonly kind: 'blob'; readonly blob: Blob; readonly name: string; readonly format?: ImageFormat }
  /** Copy-on-write layers, top first. */
  | { readonly kind: 'layered'; readonly layers: readonly LayerSpec[] }
  | { readonly kind: 'delay'; readonly inner: DiskSpec; readonly readUs?: number; readonly writeUs?: number; readonly flushUs?: number }
  | { readonly kind: 'fault'; readonly inner: DiskSpec; readonly rules: readonly FaultRuleData[] }
  | { readonly kind: 'striped'; readonly members: readonly DiskSpec[]; readonly chunkSectors?: number }
  | { readonly kind: 'metered'; readonly inner: DiskSpec };

export type LayerSpec =
  | { readonly kind: 'ram-layer'; readonly readCache?: boolean; readonly writeThrough?: boolean }
  | { readonly kind: 'disk-layer'; readonly disk: DiskSpec; readonly readCache?: boolean; readonly writeThrough?: boolean };

/** A FaultDisk rule as data (see decorators/fault-disk.ts for the meaning). */
export interface FaultRuleData {
  readonly op?: 'read' | 'write' | 'flush' | 'unmap';
  readonly sectors?: { readonly lba: number; readonly count: number };
  readonly nth?: number;
  readonly code?: DiskErrorCode;
  readonly once?: boolean;
}

/** A one-line description of a spec node, for trees and messages. */
export function describeSpec(spec: DiskSpec): string {
  switch (spec.kind) {
    case 'ram':
      return `RAM disk (${spec.sectors} x ${spec.sectorSize ?? 512} B)`;
    case 'opfs':
      return `OPFS image ${spec.path}${spec.readOnly ? ' (read-only)' : ''}`;
    case 'blob':
      return `local file ${spec.name} (read-only)`;
    case 'layered':
      return `layered disk (${spec.layers.length} layers)`;
    case 'delay':
      return `delay (read ${spec.readUs ?? 0} us, write ${spec.writeUs ?? 0} us)`;
    case 'fault':
      return `fault injection (${spec.rules.length} rules)`;
    case 'striped':
      return `striped over ${spec.members.length} disks`;
    case 'metered':
      return 'metered';
  }
}
