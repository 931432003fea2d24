/**
 * A fio-like job description for the guest-side workload generator, and its resolution against
 * the controller's namespace into a fully specified job.
 *
 * Semantics follow fio where it has a word for it:
 * - rw: read | write (sequential) | randread | randwrite | randrw (mixed by `rwmixread` %).
 * - bs: bytes per I/O, a multiple of the sector size. Offsets are bs-aligned from `offset`.
 * - iodepth: commands kept outstanding on each queue; `queues` I/O queue pairs (0..queues-1) are
 *   used, so the total outstanding is iodepth x queues (like fio's numjobs x iodepth).
 * - size/offset: the byte range the job touches; default the whole namespace after `offset`.
 * - Stopping: `ios` total I/Os and/or `runtimeNs`, whichever comes first. With neither, the job
 *   does size / bs I/Os (one pass, like fio's default). With only `runtimeNs` it runs for that
 *   long (fio's time_based).
 * - rateIops: at most this many I/Os per second over the job (fio's rate_iops); 0 = unlimited.
 * - verify: writes carry verify headers (verify.ts) and reads check them; a write job with verify
 *   reads back every block it wrote after its main phase (fio's do_verify).
 * - Random offsets are uniform over the range (fio's norandommap), drawn from a PRNG seeded with
 *   `seed`, so a job is reproducible. No two in-flight I/Os touch the same block, so verification
 *   is never confused by the order of racing writes.
 *
 * Errors: an impossible job throws DiskConfigError naming the field.
 */
import { DiskConfigError } from '../disk/errors.ts';
import type { NamespaceInfo } from '../controller/host.ts';

export type RwMode = 'read' | 'write' | 'randread' | 'randwrite' | 'randrw';
export const RW_MODES: readonly RwMode[] = ['read', 'write', 'randread', 'randwrite', 'randrw'];

export interface JobSpec {
  readonly name?: string;
  readonly rw: RwMode;
  /** Default 4096. */
  readonly bs?: number;
  /** Per queue; default 1. */
  readonly iodepth?: number;
  /** Default 1. */
  readonly queues?: number;
  /** Bytes; default 0. */
  readonly offset?: number;
  /** Bytes; default the rest of the namespace. */
  readonly size?: number;
  /** Percent of reads in randrw; default 50. */
  readonly rwmixread?: number;
  readonly runtimeNs?: number;
  readonly ios?: number;
  readonly rateIops?: number;
  readonly verify?: boolean;
  readonly seed?: number;
  /** Set FUA on writes. */
  readonly fua?: boolean;
}

export interface ResolvedJob {
  readonly name: string;
  readonly rw: RwMode;
  readonly random: boolean;
  /** Percent of I/Os that are reads: 100 for read jobs, 0 for write jobs. */
  readonly readPercent: number;
  readonly bs: number;
  readonly blocksPerIo: number;
  readonly sectorSize: number;
  readonly iodepth: number;
  readonly queues: number;
  readonly offset: number;
  readonly size: number;
  /** Number of bs blocks in the range. */
  readonly blocks: number;
  /** Total I/O budget (Infinity when only time-based). */
  readonly ios: number;
  readonly runtimeNs: number | undefined;
  readonly rateIops: number;
  readonly verify: boolean;
  readonly seed: number;
  readonly fua: boolean;
}

export function resolveJob(spec: JobSpec, ns: NamespaceInfo, controller: { readonly queues: number; readonly depth: number }): ResolvedJob {
  const bad = (field: string, value: unknown, why: string): never => {
    throw new DiskConfigError('INVALID_PARAMETER', field, `job ${field} ${String(value)} ${why}`, { value });
  };
  if (!RW_MODES.includes(spec.rw)) bad('rw', spec.rw, `is not one of ${RW_MODES.join(', ')}`);
  const ss = ns.sectorSize;
  const bs = spec.bs ?? 4096;
  if (!Number.isSafeInteger(bs) || bs < ss || bs % ss !== 0) bad('bs', bs, `is not a positive multiple of the ${ss}-byte sector`);
  if (bs / ss > ns.maxTransferBlocks) bad('bs', bs, `exceeds the controller's transfer limit of ${ns.maxTransferBlocks} blocks`);
  const iodepth = spec.iodepth ?? 1;
  if (!Number.isInteger(iodepth) || iodepth < 1 || iodepth > controller.depth) bad('iodepth', iodepth, `is not in [1, ${controller.depth}] (the queue depth)`);
  const queues = spec.queues ?? 1;
  if (!Number.isInteger(queues) || queues < 1 || queues > controller.queues) bad('queues', queues, `is not in [1, ${controller.queues}]`);
  const diskBytes = ns.sectorCount * ss;
  const offset = spec.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % ss !== 0 || offset >= diskBytes) {
    bad('offset', offset, `is not a sector-aligned offset inside the ${diskBytes}-byte namespace`);
  }
  const size = spec.size ?? diskBytes - offset;
  if (!Number.isSafeInteger(size) || size < bs || offset + size > diskBytes) bad('size', size, `is not in [bs, ${diskBytes - offset}]`);
  const blocks = Math.floor(size / bs);
  if (blocks < iodepth * queues) bad('size', size, `holds ${blocks} blocks, fewer than the ${iodepth * queues} I/Os kept in flight`);
  const rwmixread = spec.rwmixread ?? 50;
  if (!(rwmixread >= 0 && rwmixread <= 100)) bad('rwmixread', rwmixread, 'is not a percentage');
  const runtimeNs = spec.runtimeNs;
  if (runtimeNs !== undefined && !(runtimeNs > 0)) bad('runtimeNs', runtimeNs, 'is not positive');
  if (spec.ios !== undefined && (!Number.isSafeInteger(spec.ios) || spec.ios < 0)) bad('ios', spec.ios, 'is not a count');
  const ios = spec.ios ?? (runtimeNs !== undefined ? Infinity : blocks);
  const rateIops = spec.rateIops ?? 0;
  if (!(rateIops >= 0 && Number.isFinite(rateIops))) bad('rateIops', rateIops, 'is not a non-negative rate');
  const readPercent = spec.rw === 'read' || spec.rw === 'randread' ? 100 : spec.rw === 'randrw' ? rwmixread : 0;
  return {
    name: spec.name ?? spec.rw,
    rw: spec.rw,
    random: spec.rw.startsWith('rand'),
    readPercent,
    bs,
    blocksPerIo: bs / ss,
    sectorSize: ss,
    iodepth,
    queues,
    offset,
    size,
    blocks,
    ios,
    runtimeNs,
    rateIops,
    verify: spec.verify ?? false,
    seed: spec.seed ?? 1,
    fua: spec.fua ?? false,
  };
}
