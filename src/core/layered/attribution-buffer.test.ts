import { describe, expect, it } from 'vitest';
import { DiskConfigError } from '../disk/errors.ts';
import { attributionBytes, attributionCapacity, createAttributionBuffer, readAttribution, writeAttribution } from './attribution-buffer.ts';

describe('attribution buffer', () => {
  it('starts empty and sized for its capacity', () => {
    const buf = createAttributionBuffer(3);
    expect(buf.byteLength).toBe(attributionBytes(3));
    expect(attributionCapacity(buf)).toBe(3);
    expect(readAttribution(buf)).toEqual({ servedSectors: [], zeroFilledSectors: 0, consistent: true });
  });

  it('reads back what was written, including counts beyond 2^32', () => {
    const buf = createAttributionBuffer(4);
    writeAttribution(buf, [5, 0, 2 ** 40 + 1], 7);
    expect(readAttribution(buf)).toEqual({ servedSectors: [5, 0, 2 ** 40 + 1], zeroFilledSectors: 7, consistent: true });
    writeAttribution(buf, [9], 8); // fewer layers after a recomposition
    expect(readAttribution(buf)).toEqual({ servedSectors: [9], zeroFilledSectors: 8, consistent: true });
    expect(new Int32Array(buf, 0, 4)[3]! % 2).toBe(0);
  });

  it('reports an inconsistent copy while the writer is mid-update (odd sequence)', () => {
    const buf = createAttributionBuffer(2);
    writeAttribution(buf, [1, 2], 3);
    const header = new Int32Array(buf, 0, 4);
    Atomics.add(header, 3, 1);
    expect(readAttribution(buf).consistent).toBe(false);
    Atomics.add(header, 3, 1);
    expect(readAttribution(buf).consistent).toBe(true);
  });

  it('sees a copy from another agent (a worker thread) through the same memory', async () => {
    const { Worker } = await import('node:worker_threads');
    const buf = createAttributionBuffer(2);
    const src = `const { workerData, parentPort } = require('node:worker_threads');
      const h = new Int32Array(workerData, 0, 4); const s = new Float64Array(workerData, 16, 3);
      Atomics.add(h, 3, 1); s[0] = 4; s[1] = 10; s[2] = 20; Atomics.store(h, 2, 2); Atomics.add(h, 3, 1);
      parentPort.postMessage('done');`;
    const w = new Worker(src, { eval: true, workerData: buf });
    await new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)));
    await w.terminate();
    expect(readAttribution(buf)).toEqual({ servedSectors: [10, 20], zeroFilledSectors: 4, consistent: true });
  });

  it('refuses bad capacities, foreign buffers and too many layers', () => {
    expect(() => createAttributionBuffer(-1)).toThrow(DiskConfigError);
    expect(() => createAttributionBuffer(1.5)).toThrow(DiskConfigError);
    expect(() => readAttribution(new SharedArrayBuffer(64))).toThrow(DiskConfigError);
    expect(() => readAttribution(new SharedArrayBuffer(4))).toThrow(DiskConfigError);
    const buf = createAttributionBuffer(1);
    expect(() => writeAttribution(buf, [1, 2], 0)).toThrow(DiskConfigError);
    expect(readAttribution(buf).servedSectors).toEqual([]);
  });
});
