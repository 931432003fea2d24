import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RamDisk } from '../core/backends/ram-disk.ts';
import { DiskConfigError } from '../core/disk/errors.ts';
import { expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { planCrypt, readKeyFile, wrapSource, wrapTarget } from './crypt-options.ts';
import { UsageError } from './errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'disklab-crypt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const KEY = pattern(64, 11);

describe('convert encryption options', () => {
  it('reads a 64-byte key file and refuses wrong sizes, hex text and equal halves', async () => {
    expectSameBytes(await readKeyFile(file('good.key', KEY)), KEY);
    await expect(readKeyFile(file('short.key', KEY.subarray(0, 32)))).rejects.toThrow(/exactly 64/);
    await expect(readKeyFile(file('hex.key', Buffer.from(KEY).toString('hex') + '\n'))).rejects.toThrow(/hex text/);
    await expect(readKeyFile(file('equal.key', new Uint8Array(64).fill(1)))).rejects.toThrow(DiskConfigError);
    await expect(readKeyFile(dir)).rejects.toThrow(UsageError);
  });

  it('plans from the options, checking the IV offset', async () => {
    const key = file('plan.key', KEY);
    const plan = await planCrypt({ encryptKeyFile: key, ivOffset: '0x100' });
    expect(plan.encrypt?.ivOffset).toBe(256n);
    expect(plan.decrypt).toBeUndefined();
    expect(plan.mustWriteZeroes).toBe(true);
    expect((await planCrypt({ decryptKeyFile: key })).mustWriteZeroes).toBe(false);
    expect(await planCrypt({})).toEqual({ mustWriteZeroes: false });
    await expect(planCrypt({ ivOffset: '5' })).rejects.toThrow(UsageError);
    await expect(planCrypt({ encryptKeyFile: key, ivOffset: 'twelve' })).rejects.toThrow(DiskConfigError);
  });

  it('writes a target that OpenSSL decrypts sector by sector, and reads it back with the decrypt key', async () => {
    const key = file('round.key', KEY);
    const raw = new RamDisk({ sectors: 40 });
    const target = await wrapTarget(raw, await planCrypt({ encryptKeyFile: key, ivOffset: '9' }));
    const data = pattern(40 * 512, 2);
    await target.write(0, data);
    const stored = new Uint8Array(40 * 512);
    await raw.read(0, stored);
    for (let s = 0; s < 40; s++) {
      const tweak = Buffer.alloc(16);
      tweak.writeBigUInt64LE(BigInt(s + 9));
      const d = createDecipheriv('aes-256-xts', KEY, tweak);
      const plain = Buffer.concat([d.update(stored.subarray(s * 512, (s + 1) * 512)), d.final()]);
      expectSameBytes(new Uint8Array(plain), data.subarray(s * 512, (s + 1) * 512), `sector ${s}`);
    }
    const source = await wrapSource(raw, await planCrypt({ decryptKeyFile: key, ivOffset: '9' }));
    const back = new Uint8Array(40 * 512);
    await source.read(0, back);
    expectSameBytes(back, data);
    expect(source.diskType).toBe('crypt');
  });
});
