// Oracle tests for `disklab commit` on qcow2 overlays, written with `disklab io`: committing
// into qcow2, raw and VHD parents must leave the parent with the bytes `qemu-img commit -d`
// gives on a copy of the same chain (qemu-img compare), a clean qemu-img check, and the overlay
// unchanged. Registered when qemu-img exists (required on CI).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { qemuToolsAvailable } from '../node/qemu-tools.ts';
import { useTempDir } from '../node/testing/temp-files.ts';
import { mustRun as ok, runDisklab as disklab } from './testing/run-cli.ts';

const hasQemu = qemuToolsAvailable();

const overlayWrites = ['write -P 0x55 1000 3000', 'write -P 0x66 1M 100k', 'discard 2M 128k', 'write -z 3M 64k', 'write -P 0x77 7000k 1M'];

describe.runIf(hasQemu)('disklab commit of qcow2 overlays agrees with qemu-img commit', () => {
  const { at } = useTempDir('disklab-commit-');

  /** Two identical chains: parent (made by `makeParent`) and an overlay written by `disklab io` (ours) or qemu-io (theirs). */
  async function chains(fmt: 'qcow2' | 'raw' | 'vpc', makeParent: (p: string) => void) {
    const ours = { parent: at(`ours-parent.${fmt}`), top: at(`ours-top-${fmt}.qcow2`) };
    const theirs = { parent: at(`theirs-parent.${fmt}`), top: at(`theirs-top-${fmt}.qcow2`) };
    makeParent(ours.parent);
    fs.copyFileSync(ours.parent, theirs.parent);
    const made = await disklab('create', '-f', 'qcow2', '-b', path.basename(ours.parent), '-F', fmt, ours.top);
    expect(made.status, made.err).toBe(0);
    ok('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', path.basename(theirs.parent), '-F', fmt, theirs.top);
    const io = await disklab('io', ours.top, ...overlayWrites.flatMap((c) => ['-c', c]));
    expect(io.status, io.err).toBe(0);
    ok('qemu-io', '-f', 'qcow2', ...overlayWrites.flatMap((c) => ['-c', c]), theirs.top);
    return { ours, theirs };
  }

  async function commitBoth(fmt: 'qcow2' | 'raw' | 'vpc', makeParent: (p: string) => void) {
    const { ours, theirs } = await chains(fmt, makeParent);
    const topBefore = fs.readFileSync(ours.top);
    const r = await disklab('commit', '-p', ours.top);
    expect(r.status, r.err).toBe(0);
    expect(r.out).toBe('Image committed.\n');
    expect(r.err).toContain('(100.00/100%)');
    ok('qemu-img', 'commit', '-q', '-d', theirs.top);
    expect(ok('qemu-img', 'compare', '-f', fmt, '-F', fmt, ours.parent, theirs.parent)).toBe('Images are identical.\n');
    expect(ok('qemu-img', 'compare', ours.top, theirs.top)).toBe('Images are identical.\n');
    expect(fs.readFileSync(ours.top).equals(topBefore), 'the overlay is kept as it was').toBe(true);
    if (fmt === 'qcow2') ok('qemu-img', 'check', ours.parent);
  }

  it('commits into a raw parent', async () => {
    await commitBoth('raw', (p) => {
      ok('qemu-img', 'create', '-q', '-f', 'raw', p, '8M');
      ok('qemu-io', '-f', 'raw', '-c', 'write -P 0x41 0 8M', p);
    });
  });

  it('commits into a qcow2 parent (with zero clusters and its own unallocated ranges)', async () => {
    await commitBoth('qcow2', (p) => {
      ok('qemu-img', 'create', '-q', '-f', 'qcow2', p, '8M');
      ok('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x31 0 5M', '-c', 'write -z 6M 64k', p);
    });
  });

  it('commits into a dynamic VHD parent', async () => {
    await commitBoth('vpc', (p) => {
      ok('qemu-img', 'create', '-q', '-f', 'vpc', p, '8M');
      ok('qemu-io', '-f', 'vpc', '-c', 'write -P 0x42 512k 2M', p);
    });
  });

  it('commits 4 KiB overlay clusters into a 64 KiB-cluster qcow2 parent, copying the rest of each cluster from its raw backing file', async () => {
    for (const side of ['ours', 'theirs']) {
      ok('qemu-img', 'create', '-q', '-f', 'raw', at(`g-${side}.raw`), '8M');
      ok('qemu-io', '-f', 'raw', '-c', 'write -P 0x11 0 8M', at(`g-${side}.raw`));
      ok('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', `g-${side}.raw`, '-F', 'raw', at(`m-${side}.qcow2`));
      ok('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x22 100k 300k', at(`m-${side}.qcow2`));
      ok('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4k', '-b', `m-${side}.qcow2`, '-F', 'qcow2', at(`t-${side}.qcow2`));
      ok('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x33 1000 5000', '-c', 'write -P 0x44 3M 10k', '-c', 'write -z 200k 64k', at(`t-${side}.qcow2`));
    }
    expect((await disklab('commit', at('t-ours.qcow2'))).status).toBe(0);
    ok('qemu-img', 'commit', '-q', '-d', at('t-theirs.qcow2'));
    expect(ok('qemu-img', 'compare', at('m-ours.qcow2'), at('m-theirs.qcow2'))).toBe('Images are identical.\n');
    ok('qemu-img', 'check', at('m-ours.qcow2'));
    expect(fs.readFileSync(at('g-ours.raw')).equals(fs.readFileSync(at('g-theirs.raw')))).toBe(true);
  });

  it('refuses a stand-alone qcow2 with UNSUPPORTED', async () => {
    ok('qemu-img', 'create', '-q', '-f', 'qcow2', at('alone.qcow2'), '1M');
    const r = await disklab('commit', at('alone.qcow2'));
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/commit needs a differencing VHD or a qcow2 image with a backing file.*\[UNSUPPORTED\]/);
  });
});
