import { describe, expect, it } from 'vitest';
import { resolveSpec, type SpecPlatform } from './resolve-spec.ts';
import { DiskConfigError } from './disk/errors.ts';
import { expectSameBytes, pattern } from './testing/disk-conformance.ts';
import type { MemorySyncFile } from './testing/memory-sync-file.ts';
import { memorySpecPlatform } from './testing/memory-spec-platform.ts';
import type { DiskSpec } from './spec.ts';

/** Persistent layers kept in `store` by file name, so "reopening after a reload" sees the same bytes. */
function platform(store: Map<string, Uint8Array>, opened: MemorySyncFile[] = []): SpecPlatform {
  return memorySpecPlatform({ layerStore: store, onFile: (f) => opened.push(f) }).platform;
}

const spec = (sectors: number, name = 'diff'): DiskSpec => ({
  kind: 'layered',
  layers: [{ kind: 'persistent-layer', name }, { kind: 'disk-layer', disk: { kind: 'ram', sectors } }],
});

describe('resolveSpec: persistent-layer', () => {
  it('creates the layer on first use, sized from the disk layer, and keeps flushed writes across a reopen', async () => {
    const store = new Map<string, Uint8Array>();
    const first = await resolveSpec(spec(256), platform(store));
    expect(first.root.children[0]?.label).toBe('persistent layer diff');
    const data = pattern(16 * 512, 7);
    await first.disk.write(40, data);
    await first.disk.flush();
    await first.disk.close();
    expect(store.get('diff.meta')?.length).toBeGreaterThan(0);

    const again = await resolveSpec(spec(256), platform(store));
    const back = new Uint8Array(data.length);
    await again.disk.read(40, back);
    expectSameBytes(back, data);
    // The RAM base below is new and empty: the data can only have come from the persistent layer.
    const other = new Uint8Array(512);
    await again.disk.read(0, other);
    expect(other.every((b) => b === 0)).toBe(true);
    await again.disk.close();
  });

  it('refuses a layer of another geometry and closes what it opened', async () => {
    const store = new Map<string, Uint8Array>();
    const made = await resolveSpec(spec(256), platform(store));
    await made.disk.close();
    const opened: MemorySyncFile[] = [];
    const err = await resolveSpec(spec(512), platform(store, opened)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskConfigError);
    expect((err as DiskConfigError).field).toBe('name');
    expect(opened.length).toBe(2);
    expect(opened.every((f) => f.closed)).toBe(true);
  });

  it('is refused without platform support, and with a bad name', async () => {
    const store = new Map<string, Uint8Array>();
    const { openLayerFiles: _, ...bare } = platform(store);
    await expect(resolveSpec(spec(64), bare)).rejects.toBeInstanceOf(DiskConfigError);
    await expect(resolveSpec(spec(64, 'a/b'), platform(store))).rejects.toMatchObject({ field: 'name' });
  });

  it('needs a disk layer to size a new layer from', async () => {
    const store = new Map<string, Uint8Array>();
    const lone: DiskSpec = { kind: 'layered', layers: [{ kind: 'persistent-layer', name: 'x' }] };
    await expect(resolveSpec(lone, platform(store))).rejects.toMatchObject({ field: 'layers' });
  });
});
