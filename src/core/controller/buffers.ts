/**
 * `allocateControllerBuffers`: creates and initialises the three shared buffers of one controller
 * (control, guest memory, stats; see layout.ts and stats.ts), ready to hand to a ControllerDevice
 * on the disk side and a ControllerHost on the guest side, in the same thread or posted to workers.
 *
 * Errors: impossible sizes throw DiskConfigError naming the field.
 */
import { DiskConfigError } from '../disk/errors.ts';
import { controllerLayout, initControl, type ControllerBuffers, type ControllerConfig } from './layout.ts';
import { initStats, statsBytes } from './stats.ts';

export interface ControllerBuffersConfig extends ControllerConfig {
  /** Size of the guest-memory region in bytes; default 16 MiB. */
  readonly guestMemoryBytes?: number;
}

export const DEFAULT_GUEST_MEMORY_BYTES = 16 * 1024 * 1024;

export function allocateControllerBuffers(config: ControllerBuffersConfig): ControllerBuffers {
  const layout = controllerLayout(config);
  const guestBytes = config.guestMemoryBytes ?? DEFAULT_GUEST_MEMORY_BYTES;
  if (!Number.isSafeInteger(guestBytes) || guestBytes < 4096 || guestBytes > 2 ** 31) {
    throw new DiskConfigError('INVALID_PARAMETER', 'guestMemoryBytes', `guest memory of ${guestBytes} bytes is not in [4096, 2^31]`, { value: guestBytes });
  }
  const control = new SharedArrayBuffer(layout.totalBytes);
  initControl(new Int32Array(control), layout);
  const stats = new SharedArrayBuffer(statsBytes(layout.queues));
  initStats(stats, layout.queues);
  return { control, guestMemory: new SharedArrayBuffer(guestBytes), stats };
}
