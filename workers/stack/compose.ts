/**
 * Composition of a live stack: the stack resolved from its spec, with the overlays added on the
 * page (RAM diff, delay, fault) stacked on top in the order they were added.
 *
 * `compose` builds the whole composition from existing objects every time: the base objects
 * from the resolver and each overlay's own state (a RAM diff's RamLayer, which holds its data)
 * are reused, never copied or closed; only the thin wrappers (LayeredDisk, DelayDisk, FaultDisk,
 * DiskLayer around a lower disk) are new. Dropping an old composition therefore loses nothing but
 * the overlays taken out of the list, and closes nothing (wrappers are just forgotten; closing one
 * would close what it wraps).
 *
 * Overlays
 * - ram-diff: a RamLayer on top. Over a LayeredDisk it joins that disk's layers (one flat stack,
 *   so the occupancy map shows every layer); over anything else it goes over a DiskLayer of it.
 * - delay / fault: a DelayDisk / FaultDisk over what is there. Rebuilding one after a change
 *   below it makes a new decorator with the same delays or rules (a fault rule's counters restart).
 * - crypt: a CryptDisk over what is there with the overlay's own cipher (its state, made once by
 *   crypt-overlay.ts), data offset and IV offset. A rebuilt CryptDisk shares the cipher; only
 *   closing the stack (or removing the overlay, live-stack.ts) disposes it.
 *
 * Each node has an id that is stable for the life of the stack: the resolver's path ids for the
 * base, the overlay's id for an overlay, and ids derived from the overlay for the wrappers it adds.
 *
 * Errors: a composition LayeredDisk rejects is thrown as its DiskConfigError; nothing is changed.
 */
import type { Disk } from '../../src/core/disk/disk.ts';
import { DiskConfigError } from '../../src/core/disk/errors.ts';
import { systemClock, type Clock } from '../../src/core/ports/clock.ts';
import { DelayDisk } from '../../src/core/decorators/delay-disk.ts';
import { FaultDisk } from '../../src/core/decorators/fault-disk.ts';
import { DiskLayer } from '../../src/core/layered/disk-layer.ts';
import type { Layer } from '../../src/core/layered/layer.ts';
import { LayeredDisk, type LayerConfig } from '../../src/core/layered/layered-disk.ts';
import { RamLayer } from '../../src/core/layered/ram-layer.ts';
import { CryptDisk } from '../../src/core/decorators/crypt-disk.ts';
import type { SectorCipher } from '../../src/core/ports/sector-cipher.ts';
import type { ResolvedNode } from '../../src/core/resolve-spec.ts';
import type { OverlaySpec } from '../api.ts';
import type { StackNode } from '../api.ts';

export interface Overlay {
  readonly id: string;
  readonly spec: OverlaySpec;
  /** The RAM diff's layer (its data), for ram-diff overlays. */
  readonly ram: RamLayer | undefined;
  /** The crypt overlay's cipher and layout (crypt-overlay.ts), for crypt overlays. */
  readonly crypt?: CryptState;
}

export interface CryptState {
  readonly cipher: SectorCipher;
  readonly dataOffsetSectors: number;
  readonly ivOffset: bigint;
  /** 'passphrase header' or 'key file', for the label. */
  readonly keyWord: string;
}

export interface LiveNode {
  readonly id: string;
  readonly role: StackNode['role'];
  readonly label: string;
  readonly disk?: Disk;
  readonly layer?: Layer;
  readonly config?: LayerConfig;
  /** For a layer that is one file of an image chain: its file name. */
  readonly file?: string;
  readonly removable: boolean;
  readonly children: readonly LiveNode[];
}

export interface Composition {
  /** The top of the stack (not behind openDisk: the switchable disk's consumers wrap it). */
  readonly disk: Disk;
  readonly root: LiveNode;
  /** The top-most LayeredDisk (under any decorators) and its node, whose children are its layers. */
  readonly layered: { readonly disk: LayeredDisk; readonly node: LiveNode } | undefined;
}

/** The resolver's tree as live nodes (nothing in it is removable). */
export function baseNode(n: ResolvedNode): LiveNode {
  const children = n.children.map(baseNode);
  if (n.kind === 'layer') {
    return { id: n.id, role: 'layer', label: n.label, layer: n.config.layer, config: n.config, ...(n.file === undefined ? {} : { file: n.file }), removable: false, children };
  }
  return { id: n.id, role: n.role, label: n.label, disk: n.disk, removable: false, children };
}

export function makeOverlay(id: string, spec: OverlaySpec, below: Disk): Overlay {
  const ram = spec.kind === 'ram-diff' ? new RamLayer({ sectors: below.sectorCount(), sectorSize: below.sectorSize }) : undefined;
  return { id, spec, ram };
}

export function overlayLabel(spec: OverlaySpec, crypt?: CryptState): string {
  switch (spec.kind) {
    case 'crypt':
      return `XTS-AES-256 encryption (${crypt?.keyWord ?? spec.key}${crypt?.ivOffset ? `, IV offset ${crypt.ivOffset}` : ''})`;
    case 'ram-diff':
      return 'RAM diff layer';
    case 'delay':
      return `delay (read ${spec.readUs} us, write ${spec.writeUs} us)`;
    case 'fault':
      return `fault injection (${spec.rules.length} rule${spec.rules.length === 1 ? '' : 's'})`;
  }
}

export function compose(base: LiveNode, overlays: readonly Overlay[], clock: Clock = systemClock): Composition {
  let disk = base.disk!;
  let root = base;
  for (const o of overlays) {
    const spec = o.spec;
    const label = overlayLabel(spec, o.crypt);
    if (spec.kind === 'crypt') {
      const c = o.crypt!;
      disk = new CryptDisk(disk, c.cipher, { dataOffsetSectors: c.dataOffsetSectors, ivOffset: c.ivOffset });
      root = { id: o.id, role: 'decorator', label, disk, removable: true, children: [root] };
    } else if (spec.kind === 'delay') {
      disk = new DelayDisk(disk, clock, { read: { us: spec.readUs }, write: { us: spec.writeUs } });
      root = { id: o.id, role: 'decorator', label, disk, removable: true, children: [root] };
    } else if (spec.kind === 'fault') {
      disk = new FaultDisk(disk, spec.rules);
      root = { id: o.id, role: 'decorator', label, disk, removable: true, children: [root] };
    } else {
      const ram = o.ram!;
      const ramNode: LiveNode = { id: o.id, role: 'layer', label, layer: ram, config: { layer: ram }, removable: true, children: [] };
      let made = disk instanceof LayeredDisk ? tryLayered(ramNode, [...root.children]) : undefined;
      if (!made) {
        // Not layered, or a layer flag (write-through at the top) that only makes sense where it was.
        const layer = new DiskLayer(disk);
        const below: LiveNode = { id: `${o.id}.below`, role: 'layer', label: `disk layer (${disk.diskType})`, layer, config: { layer }, removable: false, children: [root] };
        made = tryLayered(ramNode, [below], true)!;
      }
      disk = made.disk;
      root = { ...made.node, id: `${o.id}.stack` };
    }
  }
  return { disk, root, layered: topLayered(root) };
}

/** A LayeredDisk of `top` over `lower`; undefined if LayeredDisk rejects it (unless `mustBuild`, when its error is thrown). */
function tryLayered(top: LiveNode, lower: readonly LiveNode[], mustBuild = false): { disk: LayeredDisk; node: LiveNode } | undefined {
  const nodes = [top, ...lower];
  let disk: LayeredDisk;
  try {
    disk = new LayeredDisk(nodes.map((n) => n.config!));
  } catch (e) {
    if (mustBuild || !(e instanceof DiskConfigError)) throw e;
    return undefined;
  }
  return { disk, node: { id: '', role: 'layered', label: `layered disk (${nodes.length} layers)`, disk, removable: false, children: nodes } };
}

function topLayered(root: LiveNode): Composition['layered'] {
  let n: LiveNode | undefined = root;
  while (n && n.role === 'decorator') n = n.children[0];
  return n?.disk instanceof LayeredDisk ? { disk: n.disk, node: n } : undefined;
}
