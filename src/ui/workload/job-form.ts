/**
 * The controller panel's form as strings (what the inputs hold), its presets, and the conversion
 * to a JobSpec plus controller options. Conversion reports the first bad field by name; the job's
 * deeper checks (fits the disk, within queue depth) stay in core's resolveJob, whose
 * DiskConfigError the page shows when the run starts.
 */
import type { JobSpec, RwMode } from '../../core/workload/job.ts';
import type { ControllerOptions } from '../../../workers/api.ts';
import { parseSize } from '../format.ts';

export interface JobForm {
  readonly rw: RwMode;
  readonly bs: string;
  readonly iodepth: string;
  readonly queues: string;
  /** Empty: the whole disk after the offset. */
  readonly size: string;
  readonly offset: string;
  /** Seconds; empty: not time based. */
  readonly runtime: string;
  /** Empty: one pass over the range (or until the runtime ends). */
  readonly ios: string;
  /** I/Os per second; 0 or empty: unlimited. */
  readonly rate: string;
  readonly rwmixread: string;
  readonly verify: boolean;
  readonly fua: boolean;
}

export const DEFAULT_FORM: JobForm = { rw: 'randread', bs: '4k', iodepth: '32', queues: '1', size: '', offset: '0', runtime: '3', ios: '', rate: '', rwmixread: '70', verify: false, fua: false };

export const PRESETS: readonly { readonly name: string; readonly form: JobForm }[] = [
  { name: '4k random read QD32', form: DEFAULT_FORM },
  { name: 'sequential 1M write', form: { ...DEFAULT_FORM, rw: 'write', bs: '1M', iodepth: '4', runtime: '' } },
  { name: 'verify', form: { ...DEFAULT_FORM, rw: 'randwrite', bs: '4k', iodepth: '16', queues: '2', runtime: '', verify: true } },
];

export type FormResult = { ok: true; job: JobSpec; options: ControllerOptions } | { ok: false; field: keyof JobForm; message: string };

const MIB = 1024 * 1024;
const DEFAULT_GUEST_MEMORY = 16 * MIB;

export function toJob(form: JobForm, name: string): FormResult {
  const bad = (field: keyof JobForm, message: string): FormResult => ({ ok: false, field, message });
  const int = (text: string): number | undefined => (/^\s*\d+\s*$/.test(text) ? Number(text) : undefined);
  const bs = parseSize(form.bs);
  if (bs === undefined || bs <= 0) return bad('bs', `block size "${form.bs}" is not a size (e.g. 4k, 1M)`);
  const iodepth = int(form.iodepth);
  if (iodepth === undefined || iodepth < 1 || iodepth > 1024) return bad('iodepth', 'iodepth must be a whole number from 1 to 1024');
  const queues = int(form.queues);
  if (queues === undefined || queues < 1 || queues > 64) return bad('queues', 'queues must be a whole number from 1 to 64');
  const offset = form.offset.trim() === '' ? 0 : parseSize(form.offset);
  if (offset === undefined) return bad('offset', `offset "${form.offset}" is not a size`);
  const size = form.size.trim() === '' ? undefined : parseSize(form.size);
  if (form.size.trim() !== '' && size === undefined) return bad('size', `size "${form.size}" is not a size`);
  const runtime = form.runtime.trim() === '' ? undefined : Number(form.runtime);
  if (runtime !== undefined && !(runtime > 0 && runtime <= 3600)) return bad('runtime', 'runtime must be seconds between 0 and 3600');
  const ios = form.ios.trim() === '' ? undefined : int(form.ios);
  if (form.ios.trim() !== '' && ios === undefined) return bad('ios', 'ios must be a whole number');
  const rate = form.rate.trim() === '' ? 0 : Number(form.rate);
  if (!(rate >= 0 && Number.isFinite(rate))) return bad('rate', 'rate must be a number of I/Os per second (0 = unlimited)');
  const mix = Number(form.rwmixread);
  if (form.rw === 'randrw' && !(mix >= 0 && mix <= 100)) return bad('rwmixread', 'rwmixread must be a percentage');

  const job: JobSpec = {
    name,
    rw: form.rw,
    bs,
    iodepth,
    queues,
    offset,
    ...(size !== undefined && { size }),
    ...(runtime !== undefined && { runtimeNs: runtime * 1e9 }),
    ...(ios !== undefined && { ios }),
    ...(rate > 0 && { rateIops: rate }),
    ...(form.rw === 'randrw' && { rwmixread: mix }),
    verify: form.verify,
    fua: form.fua,
  };
  // Every in-flight I/O has its own buffer in guest memory; leave room for the allocator.
  const needed = Math.ceil((2 * bs * iodepth * queues) / MIB) * MIB;
  return { ok: true, job, options: { queues, depth: iodepth, guestMemoryBytes: Math.max(DEFAULT_GUEST_MEMORY, needed) } };
}
