/**
 * `-r RATE` for `disklab convert`: a speed limit in bytes per second on the data convert reads,
 * enforced by the Job contract's own throttle (src/core/jobs/base-job.ts), so the CLI and the
 * page's jobs limit speed the same way: bytes done never run ahead of limit * time by more than
 * one piece (one chunk read).
 *
 * qemu-img has `-r RATE_LIMIT` for convert only in newer releases (QEMU 7.2+); older ones reject
 * it. Disk Lab's rate counts the bytes read from the source (holes the source's metadata knows
 * of are skipped unread and cost nothing), as a rate-limited block job counts its progress.
 *
 * `throttleReads(disk, rate)` returns a Disk that forwards everything and, after each read,
 * waits as the throttle says, plus the job (for its progress: rate and ETA) and `finish()` to
 * end it. Errors: the inner disk's pass through; a rate that is not a positive number is
 * DiskConfigError('INVALID_PARAMETER', field 'rate').
 */
import type { Disk } from '../core/disk/disk.ts';
import { DiskConfigError } from '../core/disk/errors.ts';
import { ForwardingDisk } from '../core/decorators/forwarding-disk.ts';
import { BaseJob } from '../core/jobs/base-job.ts';
import type { Job } from '../core/jobs/job.ts';

/** A job with no work of its own: its "pieces" are the reads of the disk it throttles. */
class ThrottleJob extends BaseJob<void> {
  readonly kind = 'convert' as const;
  #finish!: () => void;
  readonly #finished = new Promise<void>((resolve) => (this.#finish = resolve));

  protected async execute(): Promise<void> {
    await this.#finished;
  }

  total(bytes: number): void {
    this.setTotal(bytes);
  }

  read(bytes: number): Promise<void> {
    return this.piece(bytes);
  }

  finish(): void {
    this.#finish();
  }
}

class ThrottledDisk extends ForwardingDisk {
  constructor(
    inner: Disk,
    private readonly job: ThrottleJob,
  ) {
    super(inner);
  }

  override async read(lba: number, buf: Uint8Array): Promise<void> {
    await this.inner.read(lba, buf);
    await this.job.read(buf.length);
  }
}

export interface Throttled {
  readonly disk: Disk;
  readonly job: Job<void>;
  /** Ends the job (it completes); the throttled disk forwards without waiting from then on. */
  finish(): Promise<void>;
}

export function throttleReads(disk: Disk, bytesPerSecond: number): Throttled {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
    throw new DiskConfigError('INVALID_PARAMETER', 'rate', `rate limit ${bytesPerSecond} is not a positive number of bytes per second`, { value: bytesPerSecond });
  }
  const job = new ThrottleJob({ speedLimit: bytesPerSecond });
  job.total(disk.sectorCount() * disk.sectorSize);
  const done = job.start();
  return {
    disk: new ThrottledDisk(disk, job),
    job,
    async finish() {
      job.finish();
      await done;
    },
  };
}
