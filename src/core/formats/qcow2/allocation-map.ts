/**
 * `Qcow2AllocationMap`: where each guest range of one qcow2 file lives, decoded from the L1/L2
 * tables the way QEMU's qcow2 block-status reports it (qcow2.txt "Cluster mapping" and
 * "Extended L2 Entries"; QEMU's qcow2_get_subcluster_type), for `disklab map` and `measure`.
 *
 * Runs, in guest bytes, sorted, never overlapping, with ranges the file does not hold left out:
 * - 'data': a normal (sub)cluster, with `offset` = its host byte offset;
 * - 'zero': a zero (sub)cluster; `offset` is set when the cluster keeps its host allocation
 *   (QEMU's ZERO_ALLOC, which qemu-img map prints with an offset), absent for a plain zero;
 * - 'compressed': a compressed cluster, which has no host offset a reader could seek to.
 * - 'unallocated': a subcluster of an allocated cluster that is neither allocated nor zero
 *   (UNALLOCATED_ALLOC, extended L2 only): reads come from the backing file, but QEMU still
 *   reports its host `offset` (it shows up in qemu-img map when no backing file has the range).
 * Plain unallocated ranges are left out. Neighbouring runs are merged when
 * their state is the same and their host offsets continue (or both have none), which is exactly
 * qemu-img map's merge rule for one file.
 *
 * Reads only the header, the active L1 table and the L2 tables it points at; it never changes
 * the file. Errors: CORRUPT_IMAGE naming the field (`l1_entry`, `l2_entry`) for an L2 table or
 * data cluster that is unaligned or past the end of the file; the header's own errors and the
 * file's errors pass through.
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import type { Qcow2Header } from './header.ts';
import { readQcow2Header } from './open.ts';

export type Qcow2AllocState = 'data' | 'zero' | 'compressed' | 'unallocated';

export interface Qcow2AllocationRun {
  readonly start: number;
  readonly length: number;
  readonly state: Qcow2AllocState;
  readonly offset?: number;
}

const OFFSET_HI_MASK = 0x00ffffff;
const OFFSET_LO_MASK = 0xfffffe00;

export class Qcow2AllocationMap {
  readonly header: Qcow2Header;
  readonly #file: ImageFile;
  readonly #l1: DataView;

  private constructor(file: ImageFile, header: Qcow2Header, l1: Uint8Array) {
    this.#file = file;
    this.header = header;
    this.#l1 = new DataView(l1.buffer, l1.byteOffset, l1.byteLength);
  }

  /** Reads the header and the active L1 table of `file` (which stays the caller's to close). */
  static async open(file: ImageFile): Promise<Qcow2AllocationMap> {
    const header = await readQcow2Header(file);
    const l1 = new Uint8Array(header.l1Size * 8);
    if (header.l1Size > 0) await file.read(header.l1TableOffset, l1, 'L1 table');
    return new Qcow2AllocationMap(file, header, l1);
  }

  /** Every run the file holds over its whole virtual size. */
  async runs(): Promise<Qcow2AllocationRun[]> {
    const h = this.header;
    const cs = h.clusterSize;
    const entryBytes = h.extendedL2 ? 16 : 8;
    const perL2 = cs / entryBytes;
    const clusters = Math.ceil(h.size / cs);
    const out: Qcow2AllocationRun[] = [];
    const push = (start: number, end: number, state: Qcow2AllocState, offset: number | undefined): void => {
      const clipped = Math.min(end, h.size);
      if (clipped <= start) return;
      const last = out[out.length - 1];
      if (last && last.state === state && last.start + last.length === start && (last.offset === undefined ? offset === undefined : offset === last.offset + last.length)) {
        out[out.length - 1] = { ...last, length: clipped - last.start };
      } else out.push(offset === undefined ? { start, length: clipped - start, state } : { start, length: clipped - start, state, offset });
    };
    const l1Entries = Math.min(this.#l1.byteLength / 8, Math.ceil(clusters / perL2));
    for (let i = 0; i < l1Entries; i++) {
      const l2At = (this.#l1.getUint32(i * 8) & OFFSET_HI_MASK) * 0x1_0000_0000 + ((this.#l1.getUint32(i * 8 + 4) & OFFSET_LO_MASK) >>> 0);
      if (l2At === 0) continue;
      if (l2At % cs !== 0 || l2At + cs > this.#file.size()) {
        throw new DiskError('CORRUPT_IMAGE', `${this.#file.name}: qcow2 L1 entry ${i} points at ${l2At}, unaligned or past the end of the file`, { field: 'l1_entry' });
      }
      const table = new Uint8Array(cs);
      await this.#file.read(l2At, table, 'L2 table');
      const view = new DataView(table.buffer);
      const first = i * perL2;
      for (let c = first; c < Math.min(clusters, first + perL2); c++) {
        const at = (c - first) * entryBytes;
        this.#decode(c, view.getUint32(at), view.getUint32(at + 4), entryBytes === 16 ? view.getUint32(at + 8) : 0, entryBytes === 16 ? view.getUint32(at + 12) : 0, push);
      }
    }
    return out;
  }

  #decode(c: number, hi: number, lo: number, zeroBits: number, allocBits: number, push: (s: number, e: number, st: Qcow2AllocState, o: number | undefined) => void): void {
    const h = this.header;
    const cs = h.clusterSize;
    const base = c * cs;
    if (hi & 0x4000_0000) {
      push(base, base + cs, 'compressed', undefined);
      return;
    }
    const host = (hi & OFFSET_HI_MASK) * 0x1_0000_0000 + ((lo & OFFSET_LO_MASK) >>> 0);
    if (host !== 0 && (host % cs !== 0 || host >= this.#file.size())) {
      throw new DiskError('CORRUPT_IMAGE', `${this.#file.name}: qcow2 L2 entry for guest cluster ${c} has host offset ${host}, unaligned or past the end of the file`, { field: 'l2_entry' });
    }
    if (!h.extendedL2) {
      if (h.version === 3 && lo & 1) push(base, base + cs, 'zero', host === 0 ? undefined : host);
      else if (host !== 0) push(base, base + cs, 'data', host);
      return;
    }
    const sub = cs / 32;
    for (let i = 0; i < 32; i++) {
      const alloc = (allocBits >>> i) & 1;
      const zero = (zeroBits >>> i) & 1;
      const s = base + i * sub;
      if (host !== 0 && alloc) push(s, s + sub, 'data', host + i * sub);
      else if (zero) push(s, s + sub, 'zero', host === 0 ? undefined : host + i * sub);
      else if (host !== 0) push(s, s + sub, 'unallocated', host + i * sub);
      // Neither bit and no host cluster: not here.
    }
  }
}
