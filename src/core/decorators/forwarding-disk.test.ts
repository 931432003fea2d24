import { describe, expect, it } from 'vitest';
import { ForwardingDisk } from './forwarding-disk.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { describeDiskConformance, expectDiskError, pattern } from '../testing/disk-conformance.ts';
import type { Disk } from '../disk/disk.ts';
import type { PersistentReservations } from '../disk/reservations.ts';

describeDiskConformance({
  name: 'ForwardingDisk over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) => new ForwardingDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 })),
});

/** A disk with distinctive metadata that records every call, and no resize. */
function recordingDisk(calls: string[]): Disk {
  const reservations = { hostId: 'h' } as PersistentReservations;
  return {
    diskType: 'odd',
    sectorSize: 4096,
    physicalSectorSize: 8192,
    readOnly: true,
    diskId: new Uint8Array(16).fill(7),
    fuaRespected: false,
    unmapBehavior: 'unspecified',
    optimalUnmapSectors: 33,
    reservations,
    sectorCount: () => 1234,
    read: async (lba, buf) => void calls.push(`read ${lba} ${buf.length}`),
    write: async (lba, data, o) => void calls.push(`write ${lba} ${data.length} ${o?.fua}`),
    flush: async () => void calls.push('flush'),
    unmap: async (lba, n) => void calls.push(`unmap ${lba} ${n}`),
    close: async () => void calls.push('close'),
  };
}

describe('ForwardingDisk', () => {
  it('forwards every metadata property and operation unchanged', async () => {
    const calls: string[] = [];
    const inner = recordingDisk(calls);
    const d = new ForwardingDisk(inner);
    expect([d.diskType, d.sectorSize, d.physicalSectorSize, d.readOnly, d.fuaRespected, d.unmapBehavior, d.optimalUnmapSectors]).toEqual([
      'odd', 4096, 8192, true, false, 'unspecified', 33,
    ]);
    expect(d.diskId).toBe(inner.diskId);
    expect(d.reservations).toBe(inner.reservations);
    expect(d.sectorCount()).toBe(1234);
    expect(d.innerDisk).toBe(inner);
    await d.read(1, new Uint8Array(4096));
    await d.write(2, new Uint8Array(8192), { fua: true });
    await d.flush();
    await d.unmap(3, 4);
    await d.close();
    expect(calls).toEqual(['read 1 4096', 'write 2 8192 true', 'flush', 'unmap 3 4', 'close']);
  });

  it('offers resize exactly when the inner disk has it', async () => {
    expect(new ForwardingDisk(recordingDisk([])).resize).toBeUndefined();
    const ram = new RamDisk({ sectors: 10 });
    const d = new ForwardingDisk(ram);
    expect(d.resize).toBeTypeOf('function');
    await d.resize?.(20);
    expect(ram.sectorCount()).toBe(20);
    expect(d.sectorCount()).toBe(20);
  });

  it('passes inner errors through unchanged', async () => {
    const d = new ForwardingDisk(new RamDisk({ sectors: 4 }));
    await expectDiskError(d.write(4, pattern(512, 1)), 'OUT_OF_RANGE');
  });

  it('lets a subclass override metadata with getters', () => {
    class Renamed extends ForwardingDisk {
      override get diskType(): string {
        return 'renamed';
      }
    }
    const d = new Renamed(new RamDisk({ sectors: 4 }));
    expect(d.diskType).toBe('renamed');
    expect(d.sectorSize).toBe(512);
  });
});
