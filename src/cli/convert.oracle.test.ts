// Oracle tests for `disklab convert -O qcow2`: the result has the source's bytes (qemu-img
// compare), checks clean, and stays sparse: holes and all-zero clusters are not allocated, so
// its size matches what `qemu-img convert -O qcow2` produces. Registered when qemu-img exists.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { qemuToolsAvailable } from '../node/qemu-tools.ts';
import { useTempDir } from '../node/testing/temp-files.ts';
import { mustRun as ok, runDisklab as disklab } from './testing/run-cli.ts';

const hasQemu = qemuToolsAvailable();

const allocated = (p: string): number => (JSON.parse(ok('qemu-img', 'check', '--output=json', p)) as { 'allocated-clusters': number })['allocated-clusters'];

describe.runIf(hasQemu)('disklab convert -O qcow2 agrees with qemu-img convert', () => {
  const { at } = useTempDir('disklab-convert-');

  async function both(source: string, name: string, ...extra: string[]): Promise<{ ours: string; theirs: string }> {
    const ours = at(`${name}-ours.qcow2`);
    const theirs = at(`${name}-theirs.qcow2`);
    const r = await disklab('convert', '-O', 'qcow2', ...extra, source, ours);
    expect(r.status, r.err).toBe(0);
    ok('qemu-img', 'convert', '-O', 'qcow2', ...extra, source, theirs);
    ok('qemu-img', 'check', ours);
    expect(ok('qemu-img', 'compare', ours, source)).toBe('Images are identical.\n');
    return { ours, theirs };
  }

  it('keeps a sparse raw image sparse: same allocated clusters and file size as qemu-img', async () => {
    const raw = at('sparse.raw');
    ok('qemu-img', 'create', '-q', '-f', 'raw', raw, '64M');
    ok('qemu-io', '-f', 'raw', '-c', 'write -P 0x31 1M 3M', '-c', 'write -P 0x32 20M 4k', '-c', 'write -P 0 30M 1M', '-c', 'write -P 0x33 40000k 200k', raw);
    const { ours, theirs } = await both(raw, 'sparse');
    expect(allocated(ours)).toBe(allocated(theirs));
    expect(fs.statSync(ours).size).toBe(fs.statSync(theirs).size);
    expect(fs.statSync(ours).size).toBeLessThan(5 << 20);
  });

  it('converts a qcow2 overlay over a raw backing file, with 4 KiB clusters', async () => {
    const base = at('base.raw');
    ok('qemu-img', 'create', '-q', '-f', 'raw', base, '8M');
    ok('qemu-io', '-f', 'raw', '-c', 'write -P 0x41 0 2M', base);
    const top = at('top.qcow2');
    ok('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', top);
    ok('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x42 1M 64k', '-c', 'write -z 1536k 64k', '-c', 'write -P 0x43 7M 4k', top);
    const { ours, theirs } = await both(top, 'chain', '-o', 'cluster_size=4k');
    expect(JSON.parse(ok('qemu-img', 'info', '--output=json', ours))).toMatchObject({ 'cluster-size': 4096, 'virtual-size': 8 << 20 });
    expect(allocated(ours)).toBe(allocated(theirs));
  });
});
