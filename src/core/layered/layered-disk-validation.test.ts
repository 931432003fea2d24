import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { DiskConfigError, type DiskConfigProblem } from '../disk/errors.ts';
import { DiskLayer } from './disk-layer.ts';
import type { Layer } from './layer.ts';
import { LayeredDisk, type LayerConfig } from './layered-disk.ts';
import { RamLayer } from './ram-layer.ts';

const ram = (sectors = 64, extra: { sectorSize?: number; readOnly?: boolean } = {}) => new RamLayer({ sectors, ...extra });
const base = (sectors = 64, readOnly = true) => new DiskLayer(new RamDisk({ sectors, readOnly }));

function expectProblem(build: () => unknown, problem: DiskConfigProblem, layerIndex: number | undefined, field?: string): void {
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  expect(error, `expected DiskConfigError ${problem}`).toBeInstanceOf(DiskConfigError);
  const e = error as DiskConfigError;
  expect(e.problem).toBe(problem);
  expect(e.layerIndex).toBe(layerIndex);
  if (field !== undefined) expect(e.field).toBe(field);
}

describe('LayeredDisk stack validation', () => {
  it('rejects an empty stack with NO_LAYERS', () => {
    expectProblem(() => new LayeredDisk([]), 'NO_LAYERS', undefined, 'layers');
  });

  it('rejects layers whose sector size differs from the top’s with SECTOR_SIZE_MISMATCH', () => {
    expectProblem(() => new LayeredDisk([{ layer: ram() }, { layer: ram(64, { sectorSize: 4096 }) }]), 'SECTOR_SIZE_MISMATCH', 1, 'sectorSize');
    expectProblem(
      () => new LayeredDisk([{ layer: ram(64, { sectorSize: 4096 }) }, { layer: ram(64, { sectorSize: 4096 }) }, { layer: base() }]),
      'SECTOR_SIZE_MISMATCH',
      2,
    );
  });

  it('rejects a layer with an impossible sector size', () => {
    const odd: Layer = Object.assign(Object.create(RamLayer.prototype) as Layer, { sectorSize: 1000 });
    expectProblem(() => new LayeredDisk([{ layer: odd }]), 'INVALID_PARAMETER', 0, 'sectorSize');
  });

  it('rejects write-through on the bottom layer with USELESS_WRITE_THROUGH', () => {
    expectProblem(() => new LayeredDisk([{ layer: ram(), writeThrough: true }]), 'USELESS_WRITE_THROUGH', 0, 'writeThrough');
    expectProblem(
      () => new LayeredDisk([{ layer: ram(), writeThrough: true }, { layer: base(64, false), writeThrough: true }]),
      'USELESS_WRITE_THROUGH',
      1,
    );
  });

  it('rejects write-through that writes never reach (a gap in the chain) with USELESS_WRITE_THROUGH', () => {
    expectProblem(
      () => new LayeredDisk([{ layer: ram() }, { layer: ram(), writeThrough: true }, { layer: base() }]),
      'USELESS_WRITE_THROUGH',
      1,
    );
    expectProblem(
      () => new LayeredDisk([{ layer: ram(), writeThrough: true }, { layer: ram() }, { layer: ram(), writeThrough: true }, { layer: base() }]),
      'USELESS_WRITE_THROUGH',
      2,
    );
  });

  it('rejects a read-only layer on the write path of a writable disk with READ_ONLY_IN_WRITE_PATH', () => {
    expectProblem(() => new LayeredDisk([{ layer: ram(), writeThrough: true }, { layer: base(64, true) }]), 'READ_ONLY_IN_WRITE_PATH', 1, 'readOnly');
    expectProblem(
      () => new LayeredDisk([{ layer: ram(), writeThrough: true }, { layer: ram(64, { readOnly: true }), writeThrough: true }, { layer: base() }]),
      'READ_ONLY_IN_WRITE_PATH',
      1,
    );
  });

  it('accepts read-only layers on the write path when the disk itself is read-only', () => {
    const forced = new LayeredDisk([{ layer: ram(), writeThrough: true }, { layer: base(64, true) }], { readOnly: true });
    expect(forced.readOnly).toBe(true);
    const readOnlyTop = new LayeredDisk([{ layer: ram(64, { readOnly: true }), writeThrough: true }, { layer: base(64, true) }]);
    expect(readOnlyTop.readOnly).toBe(true);
  });

  it('rejects write-path layers whose size differs from the top’s with SIZE_MISMATCH, but lets lower layers differ', () => {
    expectProblem(() => new LayeredDisk([{ layer: ram(64), writeThrough: true }, { layer: ram(32) }]), 'SIZE_MISMATCH', 1, 'sectorCount');
    expectProblem(() => new LayeredDisk([{ layer: ram(64), writeThrough: true }, { layer: ram(65) }]), 'SIZE_MISMATCH', 1);
    const overlay = new LayeredDisk([{ layer: ram(128) }, { layer: ram(32) }, { layer: base(1000) }]);
    expect(overlay.sectorCount()).toBe(128);
    expect(overlay.layerInfo().map((l) => l.visibleSectors)).toEqual([128, 32, 32]);
  });

  it('rejects a read cache on the bottom layer, which nothing could fill', () => {
    expectProblem(() => new LayeredDisk([{ layer: ram() }, { layer: ram(), readCache: true }]), 'INVALID_PARAMETER', 1, 'readCache');
    expectProblem(() => new LayeredDisk([{ layer: ram(), readCache: true }]), 'INVALID_PARAMETER', 0, 'readCache');
  });

  it('derives metadata from the stack', () => {
    const id = new Uint8Array(16).fill(7);
    const idLayer = new DiskLayer(new RamDisk({ sectors: 64 }));
    Object.defineProperty(idLayer, 'diskId', { value: id });
    const configs: LayerConfig[] = [
      { layer: new RamLayer({ sectors: 64, chunkBytes: 4096 }), readCache: true, writeThrough: true },
      { layer: new RamLayer({ sectors: 64, chunkBytes: 8192, physicalSectorSize: 4096 }) },
      { layer: idLayer },
    ];
    const disk = new LayeredDisk(configs);
    expect(disk.diskType).toBe('layered');
    expect(disk.readOnly).toBe(false);
    expect(disk.unmapBehavior).toBe('zeroes');
    expect(disk.optimalUnmapSectors).toBe(16);
    expect(disk.physicalSectorSize).toBe(4096);
    expect(disk.diskId).toEqual(id);
    expect(disk.fuaRespected).toBe(true);
    expect(disk.resize).toBeDefined();
    expect(disk.layerInfo().map((l) => [l.layerType, l.readCache, l.writeThrough, l.inWritePath])).toEqual([
      ['ram', true, true, true],
      ['ram', false, false, true],
      ['disk:ram', false, false, false],
    ]);
    const fixed = new RamDisk({ sectors: 64 });
    Object.defineProperty(fixed, 'resize', { value: undefined });
    const unresizable = new LayeredDisk([{ layer: ram(), writeThrough: true }, { layer: new DiskLayer(fixed) }]);
    expect(unresizable.resize).toBeUndefined();
  });
});
