/**
 * Test support for the shell (used by its *.test.ts files; nothing else should import it):
 * a clock that moves a fixed step per reading, so every timed command reports the same elapsed
 * time, and RamDisk variants with an allocation map and with a FUA log.
 */
import { RamDisk, type RamDiskOptions } from '../backends/ram-disk.ts';
import type { WriteOptions } from '../disk/disk.ts';
import type { Clock } from '../ports/clock.ts';
import type { DescribesMap, MapRun } from './disk-map.ts';
import type { ShellResult } from './shell.ts';

/** Each `nowNs()` returns `step` ns more than the last, so a timed operation takes exactly `step`. */
export class StepClock implements Clock {
  #t = 0;
  constructor(readonly step: number) {}
  nowNs(): number {
    const t = this.#t;
    this.#t += this.step;
    return t;
  }
  async sleep(): Promise<void> {}
}

/** A RamDisk that remembers which sectors were written (and forgets unmapped ones), and logs FUA. */
export class MappedRamDisk extends RamDisk implements DescribesMap {
  readonly written = new Set<number>();
  readonly fuaLog: boolean[] = [];

  constructor(options: RamDiskOptions) {
    super(options);
  }

  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    await super.write(lba, data);
    this.fuaLog.push(options?.fua ?? false);
    for (let i = 0; i < data.length / this.sectorSize; i++) this.written.add(lba + i);
  }

  override async unmap(lba: number, count: number): Promise<void> {
    await super.unmap(lba, count);
    for (let i = 0; i < count; i++) this.written.delete(lba + i);
  }

  async describeMap(lba: number, count: number): Promise<MapRun[]> {
    const runs: MapRun[] = [];
    for (let s = lba; s < lba + count; s++) {
      if (!this.written.has(s)) continue;
      const last = runs[runs.length - 1];
      if (last && last.lba + last.count === s) runs[runs.length - 1] = { lba: last.lba, count: last.count + 1 };
      else runs.push({ lba: s, count: 1 });
    }
    return runs;
  }
}

/** A result's lines as text, stderr lines marked "E: ". */
export function shown(r: ShellResult): string[] {
  return r.lines.map((l) => (l.stream === 'err' ? `E: ${l.text}` : l.text));
}
