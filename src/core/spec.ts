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
  /**
   * A user's local file or any Blob, read lazily by slices: always read-only. `parents` are the
   * files a differencing VHD/VHDX or qcow2 overlay may need (its parent, grandparent ...), in any
   * order: each parent is found by the names the child records (see formats/open-source.ts).
   */
  | { readonly kind: 'blob'; readonly blob: Blob; readonly name: string; readonly format?: ImageFormat; readonly parents?: readonly ParentFileSpec[] }
  /** Copy-on-write layers, top first. */
  | { readonly kind: 'layered'; readonly layers: readonly LayerSpec[] }
  | { readonly kind: 'delay'; readonly inner: DiskSpec; readonly readUs?: number; readonly writeUs?: number; readonly flushUs?: number }
  | { readonly kind: 'fault'; readonly inner: DiskSpec; readonly rules: readonly FaultRuleData[] }
  | { readonly kind: 'striped'; readonly members: readonly DiskSpec[]; readonly chunkSectors?: number }
  | { readonly kind: 'metered'; readonly inner: DiskSpec }
  /**
   * XTS-AES-256 encryption (dm-crypt aes-xts-plain64) over `inner`: see `CryptKeySpec` for how the
   * key is given and why a stored spec says only 'held-by-worker'. `ivOffset` is the tweak of the
   * encrypted disk's sector 0 (dm-crypt --skip) as a decimal or 0x string, so a spec stays JSON;
   * a passphrase header records its own IV offset, so there it applies only when `create` is set.
   */
  | { readonly kind: 'crypt'; readonly inner: DiskSpec; readonly key: CryptKeySpec; readonly ivOffset?: string }
  /**
   * An image on a web server, read in place by HTTP range requests (always read-only; the format
   * detected unless named): `chunkSize`/`cacheBytes` tune the memory chunk cache, and
   * `persistentCache` keeps what was read in the platform's storage (OPFS) across reloads, as
   * src/core/url/open-url-spec.ts explains.
   */
  | { readonly kind: 'url'; readonly url: string; readonly format?: ImageFormat; readonly chunkSize?: number; readonly cacheBytes?: number; readonly persistentCache?: boolean };

/**
 * How a crypt spec is keyed. A spec must never carry a secret where the page keeps or shows it,
 * so the key material travels exactly once, to whoever resolves the spec:
 * - `keyFile`: a 64-byte key (data key then tweak key); the image is plain dm-crypt, no header.
 * - `passphrase`: a Disk Lab crypt header (4 KiB, PBKDF2-SHA256) in front of the data; `create`
 *   writes a new header (destroying what the first 4 KiB held), otherwise the header is opened and
 *   a wrong passphrase is refused.
 * - 'held-by-worker': what a stored or displayed spec says instead. The disk worker replaces the
 *   key of every spec it keeps (`redactSpec`) and the page adds encryption with `addOverlay`, whose
 *   secret is a separate argument the worker turns into a cipher and drops, so no StackInfo ever
 *   carries it back. Resolving a 'held-by-worker' spec again is refused: only the open stack has
 *   the key.
 */
export type CryptKeySpec =
  | { readonly keyFile: Uint8Array }
  | { readonly passphrase: string; readonly create?: boolean }
  | 'held-by-worker';

/**
 * A candidate parent file for a `blob` spec. It is matched by its base name (case-insensitive)
 * against the names the child records, or by `standsFor` when the user picked this file for the
 * parent named so (a renamed parent still opens: the format's own id check decides if it is right).
 */
export interface ParentFileSpec {
  readonly blob: Blob;
  readonly name: string;
  readonly standsFor?: string;
}

/** `DiskConfigError.value` when a blob spec's chain needs a parent that is not among its `parents`. */
export interface MissingParent {
  readonly kind: 'missing-parent';
  /** The file whose parent is missing (the dropped child, or a parent further down). */
  readonly child: string;
  /** The base name of the best candidate, for "choose parent <wanted>". */
  readonly wanted: string;
  /** Every name the child records, best first. */
  readonly candidates: readonly string[];
}

export function isMissingParent(value: unknown): value is MissingParent {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'missing-parent' && typeof (value as { wanted?: unknown }).wanted === 'string';
}

export type LayerSpec =
  | { readonly kind: 'ram-layer'; readonly readCache?: boolean; readonly writeThrough?: boolean }
  | { readonly kind: 'disk-layer'; readonly disk: DiskSpec; readonly readCache?: boolean; readonly writeThrough?: boolean }
  /**
   * A persistent copy-on-write layer by name (layered/persistent-layer.ts): in the browser the
   * OPFS files `disklab/layers/<name>.data` and `.meta`, created empty (sized like the first disk
   * layer) when missing, so its writes survive a reload. See `SpecPlatform.openLayerFiles`.
   */
  | { readonly kind: 'persistent-layer'; readonly name: string; readonly readCache?: boolean; readonly writeThrough?: boolean };

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
      return spec.parents?.length ? `local file ${spec.name} with ${spec.parents.length} parent file${spec.parents.length === 1 ? '' : 's'} (read-only)` : `local file ${spec.name} (read-only)`;
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
    case 'crypt':
      return `XTS-AES-256 encryption (${cryptKeyWord(spec.key)})`;
    case 'url':
      return `${spec.url} (read-only${spec.persistentCache ? ', persistent cache' : ''})`;
  }
}

function cryptKeyWord(key: CryptKeySpec): string {
  if (key === 'held-by-worker') return 'key held by the worker';
  return 'keyFile' in key ? 'key file' : key.create ? 'new passphrase header' : 'passphrase header';
}

/**
 * The spec with every crypt key replaced by 'held-by-worker' (and nothing else changed), for
 * anything kept or shown. Structure is shared where nothing changed.
 */
export function redactSpec(spec: DiskSpec): DiskSpec {
  switch (spec.kind) {
    case 'crypt':
      return { ...spec, inner: redactSpec(spec.inner), key: 'held-by-worker' };
    case 'delay':
    case 'fault':
    case 'metered': {
      const inner = redactSpec(spec.inner);
      return inner === spec.inner ? spec : { ...spec, inner };
    }
    case 'striped': {
      const members = spec.members.map(redactSpec);
      return members.every((m, i) => m === spec.members[i]) ? spec : { ...spec, members };
    }
    case 'layered': {
      const layers = spec.layers.map((l) => (l.kind === 'disk-layer' ? redactLayer(l) : l));
      return layers.every((l, i) => l === spec.layers[i]) ? spec : { ...spec, layers };
    }
    default:
      return spec;
  }
}

function redactLayer(l: Extract<LayerSpec, { kind: 'disk-layer' }>): LayerSpec {
  const disk = redactSpec(l.disk);
  return disk === l.disk ? l : { ...l, disk };
}
