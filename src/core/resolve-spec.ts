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
 * - layered: RAM layers carry no size in the spec; they take the sector size and count of the first
 *   disk layer in the list, so a layered spec needs at least one (else INVALID_PARAMETER 'layers').
 * - delay: readUs/writeUs/flushUs in microseconds, absent = no delay for that op.
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
import { openSource } from './formats/open-source.ts';
import type { Inflate } from './ports/inflate.ts';
import { DiskLayer } from './layered/disk-layer.ts';
import type { Layer } from './layered/layer.ts';
import { LayeredDisk, type LayerConfig } from './layered/layered-disk.ts';
import { RamLayer } from './layered/ram-layer.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { RangeSource } from './ports/range-source.ts';
import type { SyncFile } from './ports/sync-file.ts';
import { describeSpec, type DiskSpec, type LayerSpec } from './spec.ts';

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
        const opened = await openSource(source, { format: spec.format, inflate: platform.inflate });
        const what = opened.format === 'raw' ? 'raw' : `${opened.subformat ?? ''} ${opened.format.toUpperCase()}`.trim();
        return node(opened.format === 'raw' ? 'backend' : 'format', opened.disk, [], `${what}: ${describeSpec(spec)}`);
      } catch (e) {
        await source.close().catch(() => undefined);
        throw e;
      }
    }
    case 'layered':
      return resolveLayered(spec.layers, platform, id, (disk, children) => node('layered', disk, children));
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
  make: (disk: LayeredDisk, children: readonly ResolvedNode[]) => ResolvedDiskNode,
): Promise<ResolvedDiskNode> {
  // Disk layers first (inner specs before what wraps them); RAM layers are sized from them.
  const diskNodes = new Map<number, ResolvedDiskNode>();
  await guardAsync(() => [...diskNodes.values()].map((n) => n.disk), async () => {
    for (const [i, l] of layers.entries()) if (l.kind === 'disk-layer') diskNodes.set(i, await resolveNode(l.disk, platform, `${id}.${i}.0`));
  });
  const opened = [...diskNodes.values()].map((n) => n.disk);
  return guard(opened, () => {
    const sizer = [...diskNodes.values()][0]?.disk;
    const children: ResolvedLayerNode[] = layers.map((l, i) => {
      const flags = { readCache: l.readCache ?? false, writeThrough: l.writeThrough ?? false };
      const suffix = `${flags.readCache ? ', read cache' : ''}${flags.writeThrough ? ', write-through' : ''}`;
      if (l.kind === 'ram-layer') {
        if (!sizer) {
          throw new DiskConfigError('INVALID_PARAMETER', 'layers', 'a layered spec needs a disk layer: RAM layers take their size from it', { layerIndex: i });
        }
        const layer: Layer = new RamLayer({ sectors: sizer.sectorCount(), sectorSize: sizer.sectorSize });
        return { kind: 'layer', id: `${id}.${i}`, role: 'layer', label: `RAM layer${suffix}`, config: { layer, ...flags }, children: [] };
      }
      if (l.kind !== 'disk-layer') {
        throw new DiskConfigError('INVALID_PARAMETER', 'kind', `unknown layer spec kind '${String((l as { kind?: unknown }).kind)}'`, { layerIndex: i });
      }
      const inner = diskNodes.get(i)!;
      const layer = new DiskLayer(inner.disk);
      return { kind: 'layer', id: `${id}.${i}`, role: 'layer', label: `disk layer (${inner.disk.diskType})${suffix}`, config: { layer, ...flags }, children: [inner] };
    });
    return make(new LayeredDisk(children.map((c) => c.config)), children);
  });
}

function delayConfig(spec: Extract<DiskSpec, { kind: 'delay' }>): DelayConfig {
  const config: { -readonly [K in keyof DelayConfig]: DelayConfig[K] } = {};
  if (spec.readUs !== undefined) config.read = { us: spec.readUs };
  if (spec.writeUs !== undefined) config.write = { us: spec.writeUs };
  if (spec.flushUs !== undefined) config.flush = { us: spec.flushUs };
  return config;
}

/** Runs `build`; if it throws, closes `opened` (best effort) and rethrows. */
function guard<T>(opened: readonly Disk[], build: () => T): T {
  try {
    return build();
  } catch (e) {
    for (const d of opened) void closeQuietly(d);
    throw e;
  }
}

async function guardAsync(opened: () => readonly Disk[], build: () => Promise<void>): Promise<void> {
  try {
    await build();
  } catch (e) {
    for (const d of opened()) await closeQuietly(d);
    throw e;
  }
}

async function closeQuietly(disk: Disk): Promise<void> {
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
