/**
 * LiveStack: one open stack in the disk worker: the Disk built from a spec by the resolver, the
 * overlays added on the live stack, and what the page asks of it (tree, occupancy, sectors with
 * their source layer, shell lines). Free of Comlink and OPFS, so it is tested in Node.
 *
 * Promises
 * - Every consumer (controller, shell, hex view) goes through one SwitchableDisk; adding or
 *   removing an overlay recomposes the stack from the same objects (compose.ts) and switches it
 *   between operations, so lower data is kept and nothing that stays is closed.
 * - Overlay changes are serialised with each other.
 * - Per-layer read attribution (`LayerSummary.servedSectors`, `zeroFilledSectors`) counts every
 *   read since the stack opened, across recompositions: counts are kept per layer node id, so a
 *   layer keeps its count when overlays come and go above it. It is exposed through `info()` and
 *   `attribution()` (which the disk worker copies into a shared buffer for the page's live view).
 * - A sector's source layer is the topmost layer of the top-most layered disk holding it (data
 *   or a zero record), -1 if none does (read as zeroes), -2 for a stack with no layered disk.
 * - One DiskShell per stack, its `map` answered by the top-most layered disk; it is rebuilt on
 *   each recomposition so it sees the new read-only flag (its `trace` setting restarts).
 *
 * - Encryption: a crypt overlay (crypt-overlay.ts) takes its secret beside its spec and keeps only
 *   the cipher; `spec` and `info()` never hold a key (a crypt spec given to `open` is kept
 *   redacted, spec.ts `redactSpec`). Removing the overlay disposes its cipher. `info().crypt` and
 *   `readSectors(..., 'below-crypt')` show the top-most encryption layer on the decorator path from
 *   the top and the ciphertext under it; source layers are looked up at the LBAs the layered disk
 *   really holds them (shifted by any passphrase header in between). The occupancy map is in the
 *   layered disk's own LBAs (a header shifts it by 8 sectors against the top's).
 *
 * - `partitionTable()` parses MBR/GPT from what the guest sees (formats/partitions); its reads
 *   count in the read attribution like any other read of the stack.
 *
 * Errors: DiskConfigError for a bad overlay or a composition LayeredDisk refuses; DiskError
 * INVALID_INPUT for an unknown node id or a request too large; I/O errors pass through.
 */
import { redactSpec, type DiskSpec } from '../../src/core/spec.ts';
import type { Disk } from '../../src/core/disk/disk.ts';
import { CryptDisk } from '../../src/core/decorators/crypt-disk.ts';
import { DiskConfigError, DiskError } from '../../src/core/disk/errors.ts';
import { openDisk } from '../../src/core/disk/open-disk.ts';
import { DiskShell, type ShellResult } from '../../src/core/shell/shell.ts';
import { readPartitionTable, type PartitionTable } from '../../src/core/formats/partitions/partition-table.ts';
import { resolveSpec, type SpecPlatform } from '../../src/core/resolve-spec.ts';
import type { CryptInfo, Occupancy, OccupancyRequest, OverlaySecret, OverlaySpec, SectorDump, SectorView, StackInfo, StackNode } from '../api.ts';
import { baseNode, compose, makeOverlay, type Composition, type LiveNode, type Overlay } from './compose.ts';
import { makeCryptState } from './crypt-overlay.ts';
import { SwitchableDisk } from './switchable-disk.ts';

/** Largest hex-view read, in bytes. */
export const MAX_DUMP_BYTES = 1 << 20;
/** Largest occupancy map, in buckets per layer. */
export const MAX_OCCUPANCY_BUCKETS = 1 << 20;
/** The shell's largest read or write in one command: a browser tab is not qemu-io on a server. */
export const SHELL_MAX_TRANSFER_BYTES = 64 << 20;

export class LiveStack {
  readonly id: string;
  readonly name: string;
  readonly spec: DiskSpec;
  readonly switchable: SwitchableDisk;
  readonly #base: LiveNode;
  readonly #overlays: Overlay[] = [];
  readonly #platform: SpecPlatform;
  #comp: Composition;
  #shell: DiskShell;
  /** Served sectors per layer node id, harvested from compositions no longer in use. */
  readonly #served = new Map<string, number>();
  #zeroFilled = 0;
  #nextOverlay = 1;
  #serial: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(id: string, name: string, spec: DiskSpec, base: LiveNode, platform: SpecPlatform) {
    this.id = id;
    this.name = name;
    this.spec = redactSpec(spec);
    this.#base = base;
    this.#platform = platform;
    this.#comp = compose(base, [], platform.clock);
    this.switchable = new SwitchableDisk(this.#comp.disk);
    this.#shell = this.#makeShell();
  }

  static async open(id: string, name: string, spec: DiskSpec, platform: SpecPlatform): Promise<LiveStack> {
    const resolved = await resolveSpec(spec, platform);
    return new LiveStack(id, name, spec, baseNode(resolved.root), platform);
  }

  get overlays(): readonly Overlay[] {
    return this.#overlays;
  }

  info(): StackInfo {
    const comp = this.#comp;
    const disk = comp.disk;
    const counts = this.attribution();
    const layers =
      comp.layered?.node.children.map((n, index) => ({
        index,
        name: n.label,
        bytesPresent: n.layer!.bytesPresent(),
        servedSectors: counts.servedSectors[index] ?? 0,
        ...(n.file === undefined ? {} : { file: n.file }),
      })) ?? [];
    return {
      id: this.id,
      name: this.name,
      spec: this.spec,
      sectorSize: disk.sectorSize,
      sectorCount: disk.sectorCount(),
      readOnly: disk.readOnly,
      tree: this.#treeOf(comp.root),
      layers,
      zeroFilledSectors: counts.zeroFilledSectors,
      ...(this.#cryptInfo() ?? {}),
    };
  }

  #cryptInfo(): { crypt: CryptInfo } | undefined {
    const n = this.#topCrypt();
    if (!n) return undefined;
    const d = n.disk as CryptDisk;
    return { crypt: { nodeId: n.id, label: n.label, cipher: 'aes-xts-plain64', dataOffsetSectors: d.dataOffsetSectors, ivOffset: d.ivOffset.toString() } };
  }

  /** The top-most CryptDisk node on the decorator path from the top. */
  #topCrypt(): LiveNode | undefined {
    for (let n: LiveNode | undefined = this.#comp.root; n; n = n.children[0]) {
      if (n.disk instanceof CryptDisk) return n;
      if (n.role !== 'decorator') return undefined;
    }
    return undefined;
  }

  /** Read attribution since the stack opened, per layer of the top-most layered disk (top first): cheap, for a live refresh. */
  attribution(): { servedSectors: number[]; zeroFilledSectors: number } {
    const layered = this.#comp.layered;
    const stats = layered?.disk.readStats();
    return {
      servedSectors: layered?.node.children.map((n, i) => (this.#served.get(n.id) ?? 0) + (stats?.servedSectors[i] ?? 0)) ?? [],
      zeroFilledSectors: this.#zeroFilled + (stats?.zeroFilledSectors ?? 0),
    };
  }

  addOverlay(spec: OverlaySpec, secret?: OverlaySecret): Promise<StackInfo> {
    return this.#exclusive(async () => {
      checkOverlay(spec);
      if (spec.kind !== 'crypt') {
        if (secret !== undefined) throw new DiskConfigError('INVALID_PARAMETER', 'secret', `a ${spec.kind} overlay takes no secret`);
        const overlay = makeOverlay(`overlay-${this.#nextOverlay++}`, spec, this.#comp.disk);
        await this.#recompose([...this.#overlays, overlay]);
        this.#overlays.push(overlay);
        return this.info();
      }
      const cipherFor = this.#platform.cipher;
      if (!cipherFor) throw new DiskConfigError('UNSUPPORTED_FORMAT', 'kind', 'this worker has no XTS cipher: encryption layers cannot be added');
      const list = [...this.#overlays];
      let below = this.#comp.disk;
      if (spec.create && below.readOnly) {
        // A new header must be written somewhere: a RAM diff takes it (and the ciphertext), as its own overlay.
        const ram = makeOverlay(`overlay-${this.#nextOverlay++}`, { kind: 'ram-diff' }, below);
        list.push(ram);
        below = compose(this.#base, list, this.#platform.clock).disk;
      }
      const crypt = await makeCryptState(spec, secret, below, cipherFor);
      const overlay: Overlay = { id: `overlay-${this.#nextOverlay++}`, spec, ram: undefined, crypt };
      try {
        await this.#recompose([...list, overlay]);
      } catch (e) {
        crypt.cipher.dispose();
        throw e;
      }
      this.#overlays.splice(0, this.#overlays.length, ...list, overlay);
      return this.info();
    });
  }

  removeOverlay(nodeId: string): Promise<StackInfo> {
    return this.#exclusive(async () => {
      const index = this.#overlays.findIndex((o) => o.id === nodeId);
      if (index < 0) throw new DiskError('INVALID_INPUT', `stack '${this.name}' has no removable node '${nodeId}' (only overlays added on the live stack can be removed)`);
      const rest = this.#overlays.filter((_, i) => i !== index);
      await this.#recompose(rest);
      const [removed] = this.#overlays.splice(index, 1);
      removed?.crypt?.cipher.dispose(); // nothing in use refers to it any more: wipe the key
      return this.info();
    });
  }

  async occupancy(request: OccupancyRequest): Promise<Occupancy> {
    const { buckets } = request;
    if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > MAX_OCCUPANCY_BUCKETS) {
      throw new DiskError('INVALID_INPUT', `occupancy: ${buckets} buckets is not an integer in [1, ${MAX_OCCUPANCY_BUCKETS}]`);
    }
    const sectors = this.#comp.disk.sectorCount();
    const lba = request.lba ?? 0;
    const count = request.count ?? Math.max(0, sectors - lba);
    const layered = this.#comp.layered;
    const layers = [];
    if (layered) {
      for (const [index, n] of layered.node.children.entries()) {
        layers.push({ index, name: n.label, map: await layered.disk.occupancyMap(index, buckets, lba, count) });
      }
    }
    return { lba, count, buckets, layers };
  }

  async readSectors(lba: number, count: number, view: SectorView = 'top'): Promise<SectorDump> {
    const ss = this.#comp.disk.sectorSize;
    if (!Number.isSafeInteger(count) || count < 1 || count * ss > MAX_DUMP_BYTES) {
      throw new DiskError('INVALID_INPUT', `read of ${count} sectors: the hex view reads 1 to ${MAX_DUMP_BYTES / ss} sectors at a time`);
    }
    let from: LiveNode = this.#comp.root;
    let disk: Disk = this.switchable;
    let readLba = lba;
    if (view === 'below-crypt') {
      const crypt = this.#topCrypt();
      const below = crypt?.children[0];
      if (!crypt || !below?.disk) throw new DiskError('INVALID_INPUT', `stack '${this.name}' has no encryption layer to look below`);
      from = below;
      disk = below.disk;
      readLba = lba + (crypt.disk as CryptDisk).dataOffsetSectors;
    } else if (view !== 'top') {
      throw new DiskError('INVALID_INPUT', `unknown sector view '${String(view)}'`);
    }
    const data = new Uint8Array(count * ss);
    await openDisk(disk).read(readLba, data);
    const layered = this.#comp.layered;
    const shift = layered ? this.#shiftTo(from, layered.node) : undefined;
    const sourceLayer = new Int16Array(count).fill(shift === undefined ? -2 : -1);
    if (layered && shift !== undefined) {
      // Top first: the first layer found holding a sector is the one a read takes it from.
      const at = readLba + shift;
      for (let i = 0; i < layered.node.children.length; i++) {
        for (const run of await layered.disk.presence(i, at, count)) {
          for (let s = run.lba; s < run.lba + run.count; s++) if (sourceLayer[s - at] === -1) sourceLayer[s - at] = i;
        }
      }
    }
    return {
      lba, data, sourceLayer, layerNames: layered?.node.children.map((n) => n.label) ?? [], view,
      ...(view === 'below-crypt' ? { innerLba: readLba } : {}),
    };
  }

  /** Sectors to add to an LBA of `from` to get the LBA of `to` below it (crypt headers), or undefined when `to` is not on its decorator path. */
  #shiftTo(from: LiveNode, to: LiveNode): number | undefined {
    let shift = 0;
    for (let n: LiveNode | undefined = from; n; n = n.children[0]) {
      if (n === to) return shift;
      if (n.role !== 'decorator') return undefined;
      if (n.disk instanceof CryptDisk) shift += n.disk.dataOffsetSectors;
    }
    return undefined;
  }

  /** The partition table of what the guest sees (through the switchable disk, so overlays' writes count). */
  partitionTable(): Promise<PartitionTable> {
    return readPartitionTable(openDisk(this.switchable));
  }

  runShell(line: string): Promise<ShellResult> {
    if (this.#closed) return Promise.resolve({ ok: false, lines: [{ text: `stack '${this.name}' is closed`, stream: 'err' }] });
    return this.#shell.run(line);
  }

  /** Closes the whole composition (the controller must be stopped first). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#serial.catch(() => undefined);
    await this.#comp.disk.close();
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(() => {
      if (this.#closed) throw new DiskError('ABORTED', `stack '${this.name}' is closed`);
      return fn();
    });
    this.#serial = run.catch(() => undefined);
    return run;
  }

  async #recompose(overlays: readonly Overlay[]): Promise<void> {
    const next = compose(this.#base, overlays, this.#platform.clock);
    const old = this.#comp;
    await this.switchable.switchTo(next.disk);
    // Keep the old top-most layered disk's read counts under its layers' ids (see the module doc).
    if (old.layered) {
      const stats = old.layered.disk.readStats();
      old.layered.node.children.forEach((n, i) => this.#served.set(n.id, (this.#served.get(n.id) ?? 0) + (stats.servedSectors[i] ?? 0)));
      this.#zeroFilled += stats.zeroFilledSectors;
      old.layered.disk.resetReadStats();
    }
    this.#comp = next;
    this.#shell = this.#makeShell();
  }

  #makeShell(): DiskShell {
    return new DiskShell(this.switchable, {
      maxTransferBytes: SHELL_MAX_TRANSFER_BYTES,
      map: { describeMap: (lba, count) => this.#comp.layered?.disk.describeMap(lba, count) ?? Promise.resolve([{ lba, count }]) },
    });
  }

  #treeOf(n: LiveNode): StackNode {
    const layered = this.#comp.layered;
    const layerIndex = layered && n.role === 'layer' ? layered.node.children.indexOf(n) : -1;
    const children = n.children.map((c) => this.#treeOf(c));
    if (n.layer) {
      const l = n.layer;
      return {
        id: n.id, role: n.role, label: n.label, diskType: l.layerType, sizeBytes: l.sectorCount() * l.sectorSize, sectorSize: l.sectorSize,
        readOnly: l.readOnly, bytesPresent: l.bytesPresent(), ...(layerIndex >= 0 ? { layerIndex } : {}), ...(n.file === undefined ? {} : { file: n.file }),
        removable: n.removable, children,
      };
    }
    const d = n.disk!;
    return {
      id: n.id, role: n.role, label: n.label, diskType: d.diskType, sizeBytes: d.sectorCount() * d.sectorSize, sectorSize: d.sectorSize,
      readOnly: d.readOnly, removable: n.removable, children,
    };
  }
}

function checkOverlay(spec: OverlaySpec): void {
  const bad = (field: string, value: unknown, why: string): never => {
    throw new DiskConfigError('INVALID_PARAMETER', field, `overlay ${field} ${String(value)} ${why}`, { value });
  };
  switch (spec?.kind) {
    case 'ram-diff':
      return;
    case 'delay':
      for (const [field, v] of [['readUs', spec.readUs], ['writeUs', spec.writeUs]] as const) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(field, v, 'is not a non-negative number of microseconds');
      }
      return;
    case 'fault':
      if (!Array.isArray(spec.rules)) bad('rules', spec.rules, 'is not a list of fault rules');
      return;
    case 'crypt':
      if (spec.key !== 'passphrase' && spec.key !== 'key-file') bad('key', spec.key, "is not 'passphrase' or 'key-file'");
      if (spec.ivOffset !== undefined && typeof spec.ivOffset !== 'string') bad('ivOffset', spec.ivOffset, 'is not a decimal or 0x string');
      return;
    default:
      bad('kind', (spec as { kind?: unknown } | undefined)?.kind, "is not 'ram-diff', 'delay', 'fault' or 'crypt'");
  }
}
