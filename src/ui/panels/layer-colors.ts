/**
 * One colour per layer index (top = 0), shared by the stack panel's swatches and the occupancy
 * map, so a colour means the same layer everywhere. Chosen to stay apart for common colour
 * vision deficiencies (orange, blue, purple, teal) and to read on white.
 */
const PALETTE = ['#e8710a', '#1f6feb', '#8250df', '#0e8a7e', '#bf3989', '#7d6608'];

export const EMPTY_COLOR = '#e6e9ee';

export function layerColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}
