import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_CHS_SECTORS, chsGeometryFor, chsSectors } from './geometry.ts';

describe('chsGeometryFor (VHD spec appendix)', () => {
  it('matches geometries real tools write', () => {
    // QEMU's 10 MiB fixed VHD (20536 sectors after its round-up) and the spec's small-disk path.
    expect(chsGeometryFor(20536)).toEqual({ cylinders: 302, heads: 4, sectorsPerTrack: 17 });
    expect(chsGeometryFor(20480)).toEqual({ cylinders: 301, heads: 4, sectorsPerTrack: 17 });
    expect(chsGeometryFor(204800)).toEqual({ cylinders: 1003, heads: 12, sectorsPerTrack: 17 });
    expect(chsGeometryFor(204816)).toEqual({ cylinders: 1004, heads: 12, sectorsPerTrack: 17 }); // QEMU's 100 MiB
    // 1 GiB moves to 16 heads and 63 sectors per track.
    expect(chsGeometryFor(2097152)).toEqual({ cylinders: 2080, heads: 16, sectorsPerTrack: 63 });
    // 127 GiB and beyond: 255 sectors per track, capped at the largest geometry.
    expect(chsGeometryFor(65535 * 16 * 63)).toEqual({ cylinders: 16191, heads: 16, sectorsPerTrack: 255 });
    expect(chsGeometryFor(2 ** 32)).toEqual({ cylinders: 65535, heads: 16, sectorsPerTrack: 255 });
    expect(chsGeometryFor(0)).toEqual({ cylinders: 0, heads: 4, sectorsPerTrack: 17 });
  });

  it('never describes more than the disk, and stays within the footer fields', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff00_0000 }), (sectors) => {
        const g = chsGeometryFor(sectors);
        expect(chsSectors(g)).toBeLessThanOrEqual(Math.min(sectors, MAX_CHS_SECTORS));
        expect(g.cylinders).toBeLessThanOrEqual(65535);
        expect(g.heads).toBeGreaterThanOrEqual(4);
        expect(g.heads).toBeLessThanOrEqual(16);
        expect([17, 31, 63, 255]).toContain(g.sectorsPerTrack);
      }),
      { numRuns: 2000, seed: 20240601 },
    );
  });
});
