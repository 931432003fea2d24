/**
 * VHD disk geometry (cylinders, heads, sectors per track), computed as the VHD specification's
 * appendix "CHS Calculation" says. Geometry only matters to BIOS-era guests and to readers that
 * size a disk from it (Virtual PC, and QEMU for images whose creator is 'vpc ' or 'qemu'); our own
 * reader sizes a disk from the footer's current size. The algorithm rounds *down*, so the CHS
 * capacity never exceeds the real size, and caps at 65535/16/255 (about 127 GiB).
 */

export interface ChsGeometry {
  readonly cylinders: number;
  readonly heads: number;
  readonly sectorsPerTrack: number;
}

/** The largest geometry a footer can hold; QEMU treats it as "use the current size instead". */
export const MAX_CHS_SECTORS = 65535 * 16 * 255;

export function chsSectors(g: ChsGeometry): number {
  return g.cylinders * g.heads * g.sectorsPerTrack;
}

/** Geometry for a disk of `totalSectors` 512-byte sectors (VHD spec, appendix). */
export function chsGeometryFor(totalSectors: number): ChsGeometry {
  const total = Math.min(totalSectors, MAX_CHS_SECTORS);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (total >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    heads = Math.max(4, Math.floor((cylinderTimesHeads + 1023) / 1024));
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}
