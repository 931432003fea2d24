/**
 * GuestMemory: the guest's side of the guest-memory SharedArrayBuffer, where it allocates the
 * buffers its commands point at (by byte offset and length, in place of NVMe's PRP addresses).
 *
 * A bump allocator with `reset` and `rewind`: the fio-like workload allocates its buffers once per
 * job and frees them all together when it ends, so nothing finer is needed. Allocations are aligned (default 4096,
 * a page, which is also every sector size's multiple) so Uint32 views over a buffer are legal.
 *
 * Errors: running out of guest memory, or a bad size or alignment, throws DiskConfigError
 * (field 'guestMemory'): it is a sizing mistake in the job, not an I/O failure.
 */
import { DiskConfigError } from '../disk/errors.ts';
import { isPowerOfTwo } from '../disk/range.ts';

export class GuestMemory {
  readonly bytes: Uint8Array;
  #next = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.bytes = new Uint8Array(buffer);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Bytes handed out since the last reset (including alignment padding). */
  get used(): number {
    return this.#next;
  }

  /** Reserves `length` bytes aligned to `align`; returns their offset. */
  alloc(length: number, align = 4096): number {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new DiskConfigError('INVALID_PARAMETER', 'guestMemory', `allocation of ${length} bytes is not a byte count`, { value: length });
    }
    if (!isPowerOfTwo(align)) {
      throw new DiskConfigError('INVALID_PARAMETER', 'guestMemory', `alignment ${align} is not a power of two`, { value: align });
    }
    const offset = Math.ceil(this.#next / align) * align;
    if (offset + length > this.bytes.length) {
      throw new DiskConfigError(
        'INVALID_PARAMETER',
        'guestMemory',
        `guest memory of ${this.bytes.length} bytes cannot hold ${length} more bytes (${this.#next} in use)`,
        { value: length },
      );
    }
    this.#next = offset + length;
    return offset;
  }

  /** A live view of guest memory (no copy). */
  view(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }

  /** Frees every allocation. */
  reset(): void {
    this.#next = 0;
  }

  /** Frees every allocation made since `used` was `mark` (allocations are a stack). */
  rewind(mark: number): void {
    if (mark >= 0 && mark <= this.#next) this.#next = mark;
  }
}
