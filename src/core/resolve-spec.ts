/**
 * The one resolver from a `DiskSpec` (spec.ts) to a Disk: inner specs first, then what wraps them.
 * The disk worker uses it for every stack; anything else that turns specs into disks should too.
 *
 * It talks to the platform only through `SpecPlatform` (open an OPFS path as a SyncFile, wrap a
 * Blob as a RangeSource), so it runs in Node under test with fakes and in the worker with OPFS.
 *
 * Result: `disk` is the whole stack behind `openDisk`; `root` is a tree of what was built (each
 * node's Disk or Layer object, its role and a label), top first, for the stack panel and for the
 * worker's live overlays, which recompose these same objects.
 *
 * Rules beyond each constructor's own:
 * - opfs: the format is detected by content unless named; raw and fixed VHD open (writable unless
 *   `readOnly`), VHDX and qcow2 are UNSUPPORTED. blob: always read-only, via formats/open-source.ts.
 * - blob chains: a differencing VHD/VHDX or qcow2 overlay finds each parent among `parents` by
 *   name (open-source.ts `matchParent`, or a parent's `standsFor`). A parent that is not there is
 *   a DiskConfigError (INVALID_PARAMETER, field 'parents') whose `value` is a `MissingParent`, so
 *   a page can ask the user for exactly that file; a wrong parent is the format's CORRUPT_IMAGE.
 *   An opened chain is a 'layered' node whose layers are the chain's files, child first, each
 *   layer node carrying its `file` name.
 * - layered: a disk layer whose disk is itself such a chain (with no read-cache or write-through
 *   flags) contributes the chain's layers rather than one opaque layer, so the occupancy map and
 *   read attribution have one row per file.
 * - layered: RAM layers carry no size in the spec; they take the sector size and count of the first
 *   disk layer in the list, so a layered spec needs at least one (else INVALID_PARAMETER 'layers').
 * - delay: readUs/writeUs/flushUs in microseconds, absent = no delay for that op.
 * - crypt: the cipher comes from `SpecPlatform.cipher` (Node: src/node/xts-wasm.ts nodeXtsCipher,
 *   worker: workers/platform/xts-wasm.ts browserXtsCipher); without one, UNSUPPORTED. A key file
 *   opens plain dm-crypt data, a passphrase opens (or with `create`, writes) a Disk Lab crypt
 *   header (src/core/crypto/open-crypt.ts). 'held-by-worker' is refused (INVALID_PARAMETER 'key'):
 *   the key is only in the stack that was opened with it. The spec's key bytes are not zeroed
 *   here (they belong to the caller); the cipher keeps its own expanded copy.
 *
 * Errors: construction problems are DiskConfigErrors (with `layerIndex` for layer problems, from
 * LayeredDisk's own validation); platform and format failures are DiskErrors (LOCKED, QUOTA,
 * CORRUPT_IMAGE, UNSUPPORTED, IO ...). Whatever fails, everything already opened for the spec
 * (OPFS handles lock their files) is closed before the error is thrown.
 */
import type { Disk } from './disk/disk.ts';
import { DiskConfigError } from './disk/errors.ts';
import { openDisk } from './disk/open-disk.ts';
import { RamDisk } from './backends/ram-disk.ts';
import { StripedDisk } from './backends/striped-disk.ts';
import { DelayDisk, type DelayConfig } from './decorators/delay-disk.ts';
import { FaultDisk } from './decorators/fault-disk.ts';
import { MeteredDisk } from './decorators/metered-disk.ts';
import { detectFormat } from './formats/detect.ts';
import { openFormat } from './formats/open-format.ts';
import { matchParent, openSource, parentBaseName } from './formats/open-source.ts';
import { fileLayers } from './formats/file-layers.ts';
import { imageFileFromRange, type ImageFile } from './formats/image-file.ts';
import type { Inflate } from './ports/inflate.ts';
import { DiskLayer } from './layered/disk-layer.ts';
import type { Layer } from './layered/layer.ts';
import { LayeredDisk, type LayerConfig } from './layered/layered-disk.ts';
import { RamLayer } from './layered/ram-layer.ts';
import { openPersistentLayer, type OpenLayerFiles } from './layered/open-persistent-layer.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { RangeSource } from './ports/range-source.ts';
import type { SyncFile } from './ports/sync-file.ts';
import { formatPassphraseCryptDisk, openKeyCryptDisk, openPassphraseCryptDisk, type CipherFactory } from './crypto/open-crypt.ts';
import { parseIvOffset } from './crypto/xts-key.ts';
import { describeSpec, type DiskSpec, type LayerSpec, type MissingParent, type ParentFileSpec } from './spec.ts';
import { resolveUrlNode, type UrlPlatform } from './url/open-url-spec.ts';

export { isMissingParent, type MissingParent } from './spec.ts';


/** What the resolver needs from the platform. */
export interface SpecPlatform {
  /** Opens a file by path from the OPFS root; rejects with LOCKED when another handle holds it. */
  openFile(path: string, options: { readonly readOnly: boolean }): Promise<SyncFile>;
  /** A lazy RangeSource over a Blob or File (never reads it whole). */
  blobSource(blob: Blob, name: string): RangeSource;
  /** For delay and metered decorators; default the system clock. */
  readonly clock?: Clock;
  /** Raw-deflate decoding for qcow2's compressed clusters; without it qcow2 images are refused. */
  readonly inflate?: Inflate;
  /** The XTS-AES-256 cipher for crypt specs; without it crypt specs are refused. */
  readonly cipher?: CipherFactory;
  /**
   * The data and meta files of a `persistent-layer` by name (created empty when missing unless
   * read-only; layered/open-persistent-layer.ts); without it persistent layers are refused.
   */
  readonly openLayerFiles?: OpenLayerFiles;
  /** Fetch port and persistent cache storage for `url` specs (url/open-url-spec.ts); without it they are refused. */
  readonly http?: UrlPlatform;
}

export type NodeRole = 'backend' | 'format' | 'layered' | 'layer' | 'decorator';

export interface ResolvedDiskNode {
  readonly kind: 'disk';
  /** Stable path id within the tree: 'n', 'n.0', 'n.0.1' ... */
  readonly id: string;
  readonly role: Exclude<NodeRole, 'layer'>;
  readonly label: string;
  readonly spec: DiskSpec;
  readonly disk: Disk;
  readonly children: readonly ResolvedNode[];
}

export interface ResolvedLayerNode {
  readonly kind: 'layer';
  readonly id: string;
  readonly role: 'layer';
  readonly label: string;
  readonly config: LayerConfig;
  /** For a layer that is one file of an image chain: that file's name. */
  readonly file?: string;
  /** A disk layer's disk; [] for a RAM layer. */
  readonly children: readonly ResolvedNode[];
}

export type ResolvedNode = ResolvedDiskNode | ResolvedLayerNode;

export interface ResolvedStack {
  /** The whole stack, behind `openDisk`. */
  readonly disk: Disk;
  readonly root: ResolvedDiskNode;
}

export async function resolveSpec(spec: DiskSpec, platform: SpecPlatform): Promise<ResolvedStack> {
  const root = await resolveNode(spec, platform, 'n');
  try {
    return { disk: openDisk(root.disk), root };
  } catch (e) {
    await closeQuietly(root.disk);
    throw e;
  }
}

/** Convenience: just the Disk. */
export async function resolveDisk(spec: DiskSpec, platform: SpecPlatform): Promise<Disk> {
  return (await resolveSpec(spec, platform)).disk;
}

async function resolveNode(spec: DiskSpec, platform: SpecPlatform, id: string): Promise<ResolvedDiskNode> {
  const clock = platform.clock ?? systemClock;
  const node = (role: ResolvedDiskNode['role'], disk: Disk, children: readonly ResolvedNode[] = [], label = describeSpec(spec)): ResolvedDiskNode => ({
    kind: 'disk', id, role, label, spec, disk, children,
  });
  switch (spec?.kind) {
    case 'ram':
      return node('backend', new RamDisk({ sectors: spec.sectors, sectorSize: spec.sectorSize, readOnly: spec.readOnly }));
    case 'opfs': {
      const readOnly = spec.readOnly ?? false;
      const file = await platform.openFile(spec.path, { readOnly });
      try {
        const format = spec.format ?? detectFormat(file, spec.path).format;
        const disk = openFormat(file, format, { readOnly, name: spec.path });
        return node(format === 'raw' ? 'backend' : 'format', disk, [], `${format === 'raw' ? 'raw' : 'fixed VHD'}: ${describeSpec(spec)}`);
      } catch (e) {
        closeFileQuietly(file);
        throw e;
      }
    }
    case 'blob': {
      const source = platform.blobSource(spec.blob, spec.name);
      try {
        const resolveParent = parentResolver(spec.name, spec.parents ?? [], platform);
        const opened = await openSource(source, { format: spec.format, inflate: platform.inflate, resolveParent });
        const what = opened.format === 'raw' ? 'raw' : `${opened.subformat ?? ''} ${opened.format.toUpperCase()}`.trim();
        // Every file of the image, a stand-alone dynamic VHD/VHDX or qcow2 included, is a layer
        // of its own so the occupancy map shows the blocks each one holds.
        const chain = await fileLayers(opened.disk);
        if (chain !== undefined) {
          const layers: ResolvedLayerNode[] = chain.layerInfo().map((l, i) => {
            const file = opened.chain[i] ?? `layer ${i}`;
            const part = opened.chain.length === 1 ? 'stand-alone' : i === 0 ? 'child' : i === opened.chain.length - 1 ? 'base' : 'parent';
            return {
              kind: 'layer', id: `${id}.${i}`, role: 'layer', label: `${file} (${l.layerType}, ${part})`, file,
              config: { layer: l.layer, readCache: l.readCache, writeThrough: l.writeThrough }, children: [],
            };
          });
          const shape = layers.length === 1 ? what : `${what} chain of ${layers.length} files`;
          return node('layered', chain, layers, `${shape}: ${describeSpec(spec)}`);
        }
        return node(opened.format === 'raw' ? 'backend' : 'format', opened.disk, [], `${what}: ${describeSpec(spec)}`);
      } catch (e) {
        await source.close().catch(() => undefined);
        throw e;
      }
    }
    case 'layered':
      return resolveLayered(spec.layers, platform, id, (disk, children, label) => node('layered', disk, children, label));
    case 'delay': {
      const inner = await resolveNode(spec.inner, platform, `${id}.0`);
      return guard([inner.disk], () => node('decorator', new DelayDisk(inner.disk, clock, delayConfig(spec)), [inner]));
    }
    case 'fault': {
      const inner = await resolveNode(spec.inner, platform, `${id}.0`);
      return guard([inner.disk], () => node('decorator', new FaultDisk(inner.disk, spec.rules), [inner]));
    }
    case 'metered': {
      const inner = await resolveNode(spec.inner, platform, `${id}.0`);
      return guard([inner.disk], () => node('decorator', new MeteredDisk(inner.disk, clock), [inner]));
    }
    case 'crypt': {
      const inner = await resolveNode(spec.inner, platform, `${id}.0`);
      try {
        return node('decorator', await openCrypt(spec, inner.disk, platform), [inner]);
      } catch (e) {
        await closeQuietly(inner.disk);
        throw e;
      }
    }
    case 'url':
      return resolveUrlNode(spec, platform, id);
    case 'striped': {
      const members: ResolvedDiskNode[] = [];
      await guardAsync(() => members.map((m) => m.disk), async () => {
        for (const [i, m] of spec.members.entries()) members.push(await resolveNode(m, platform, `${id}.${i}`));
      });
      return guard(members.map((m) => m.disk), () => node('backend', new StripedDisk(members.map((m) => m.disk), { chunkSectors: spec.chunkSectors }), members));
    }
    default:
      throw new DiskConfigError('INVALID_PARAMETER', 'kind', `unknown disk spec kind '${String((spec as { kind?: unknown } | undefined)?.kind)}'`, {
        value: (spec as { kind?: unknown } | undefined)?.kind,
      });
  }
}

async function resolveLayered(
  layers: readonly LayerSpec[],
  platform: SpecPlatform,
  id: string,
  make: (disk: LayeredDisk, children: readonly ResolvedNode[], label: string) => ResolvedDiskNode,
): Promise<ResolvedDiskNode> {
  // Disk layers first (inner specs before what wraps them); RAM layers are sized from them.
  const diskNodes = new Map<number, ResolvedDiskNode>();
  await guardAsync(() => [...diskNodes.values()].map((n) => n.disk), async () => {
    for (const [i, l] of layers.entries()) if (l.kind === 'disk-layer') diskNodes.set(i, await resolveNode(l.disk, platform, `${id}.${i}.0`));
  });
  // Persistent layers next: a new one takes its size from the first disk layer, as RAM layers do.
  const sizer = [...diskNodes.values()][0]?.disk;
  const persistent = new Map<number, Layer>();
  await guardAsync(() => [...[...diskNodes.values()].map((n) => n.disk), ...persistent.values()], async () => {
    for (const [i, l] of layers.entries()) {
      if (l.kind !== 'persistent-layer') continue;
      if (!sizer) throw new DiskConfigError('INVALID_PARAMETER', 'layers', 'a layered spec needs a disk layer: persistent layers take their size from it', { layerIndex: i });
      persistent.set(i, await openPersistentLayer(l.name, { sectors: sizer.sectorCount(), sectorSize: sizer.sectorSize }, platform.openLayerFiles));
    }
  });
  const opened = [...[...diskNodes.values()].map((n) => n.disk), ...persistent.values()];
  return guard(opened, () => {
    const children: ResolvedLayerNode[] = layers.flatMap((l, i): ResolvedLayerNode | readonly ResolvedLayerNode[] => {
      const flags = { readCache: l.readCache ?? false, writeThrough: l.writeThrough ?? false };
      const suffix = `${flags.readCache ? ', read cache' : ''}${flags.writeThrough ? ', write-through' : ''}`;
      if (l.kind === 'ram-layer') {
        if (!sizer) {
          throw new DiskConfigError('INVALID_PARAMETER', 'layers', 'a layered spec needs a disk layer: RAM layers take their size from it', { layerIndex: i });
        }
        const layer: Layer = new RamLayer({ sectors: sizer.sectorCount(), sectorSize: sizer.sectorSize });
        return { kind: 'layer', id: `${id}.${i}`, role: 'layer', label: `RAM layer${suffix}`, config: { layer, ...flags }, children: [] };
      }
      if (l.kind === 'persistent-layer') {
        const layer = persistent.get(i)!;
        return { kind: 'layer', id: `${id}.${i}`, role: 'layer', label: `persistent layer ${l.name}${suffix}`, config: { layer, ...flags }, children: [] };
      }
      if (l.kind !== 'disk-layer') {
        throw new DiskConfigError('INVALID_PARAMETER', 'kind', `unknown layer spec kind '${String((l as { kind?: unknown }).kind)}'`, { layerIndex: i });
      }
      const inner = diskNodes.get(i)!;
      if (isChainNode(inner) && !flags.readCache && !flags.writeThrough) return inner.children;
      const layer = new DiskLayer(inner.disk);
      return { kind: 'layer', id: `${id}.${i}`, role: 'layer', label: `disk layer (${inner.disk.diskType})${suffix}`, config: { layer, ...flags }, children: [inner] };
    });
    return make(new LayeredDisk(children.map((c) => c.config)), children, `layered disk (${children.length} layers)`);
  });
}

/** A blob chain's node (see `resolveNode`): its children are the chain's file layers. */
function isChainNode(n: ResolvedDiskNode): n is ResolvedDiskNode & { readonly children: readonly ResolvedLayerNode[] } {
  return n.role === 'layered' && n.spec.kind === 'blob' && n.children.every((c) => c.kind === 'layer' && c.file !== undefined);
}

/**
 * `resolveParent` over a blob spec's parent files: each call takes the candidates a child records
 * and returns the parent file by base name (or `standsFor`), else throws the MissingParent
 * DiskConfigError. A file is given out once: a chain that names one file twice is the format's
 * loop to report, and the resolver must not hand out a source it already gave to another layer.
 */
function parentResolver(childName: string, parents: readonly ParentFileSpec[], platform: SpecPlatform): (candidates: string[]) => Promise<ImageFile> {
  const used = new Set<number>();
  let child = childName;
  return async (candidates) => {
    const keys = parents.map((p, i) => (used.has(i) ? '' : (p.standsFor ?? p.name)));
    const i = matchParent(candidates, keys);
    const found = i >= 0 ? parents[i] : undefined;
    if (!found) {
      const wanted = parentBaseName(candidates[0] ?? '') || 'unnamed parent';
      const value: MissingParent = { kind: 'missing-parent', child, wanted, candidates: [...candidates] };
      throw new DiskConfigError('INVALID_PARAMETER', 'parents', `${child} needs its parent ${wanted}, which is not among the files given (it records ${candidates.map((c) => `'${c}'`).join(', ') || 'no name'})`, { value });
    }
    used.add(i);
    child = found.name;
    return imageFileFromRange(platform.blobSource(found.blob, found.name));
  };
}

async function openCrypt(spec: Extract<DiskSpec, { kind: 'crypt' }>, inner: Disk, platform: SpecPlatform): Promise<Disk> {
  const cipher = platform.cipher;
  if (!cipher) throw new DiskConfigError('UNSUPPORTED_FORMAT', 'kind', 'this platform has no XTS cipher: crypt specs cannot be opened here');
  const key = spec.key;
  if (key === 'held-by-worker' || typeof key !== 'object' || key === null) {
    throw new DiskConfigError('INVALID_PARAMETER', 'key', "a crypt spec whose key is 'held-by-worker' cannot be opened again: give the key file or passphrase");
  }
  const ivOffset = spec.ivOffset === undefined ? undefined : parseIvOffset(spec.ivOffset);
  if ('keyFile' in key) return openKeyCryptDisk(inner, key.keyFile, cipher, ivOffset === undefined ? {} : { ivOffset });
  if (key.create) return formatPassphraseCryptDisk(inner, key.passphrase, cipher, ivOffset === undefined ? {} : { ivOffset });
  return openPassphraseCryptDisk(inner, key.passphrase, cipher);
}

function delayConfig(spec: Extract<DiskSpec, { kind: 'delay' }>): DelayConfig {
  const config: { -readonly [K in keyof DelayConfig]: DelayConfig[K] } = {};
  if (spec.readUs !== undefined) config.read = { us: spec.readUs };
  if (spec.writeUs !== undefined) config.write = { us: spec.writeUs };
  if (spec.flushUs !== undefined) config.flush = { us: spec.flushUs };
  return config;
}

/** Anything `guard` may have to close: disks, and layers opened on their own (persistent layers). */
type Closable = Pick<Disk, 'close'>;

/** Runs `build`; if it throws, closes `opened` (best effort) and rethrows. */
function guard<T>(opened: readonly Closable[], build: () => T): T {
  try {
    return build();
  } catch (e) {
    for (const d of opened) void closeQuietly(d);
    throw e;
  }
}

async function guardAsync(opened: () => readonly Closable[], build: () => Promise<void>): Promise<void> {
  try {
    await build();
  } catch (e) {
    for (const d of opened()) await closeQuietly(d);
    throw e;
  }
}

async function closeQuietly(disk: Closable): Promise<void> {
  try {
    await disk.close();
  } catch {
    // The original error is what the caller needs; a failed close adds nothing to it.
  }
}

function closeFileQuietly(file: SyncFile): void {
  try {
    file.close();
  } catch {
    // As above.
  }
}
