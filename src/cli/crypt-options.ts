/**
 * The encryption options of `disklab convert`, ready for the command to use:
 *
 *   --encrypt-key-file K   encrypt the output with the 64-byte key in file K (dm-crypt plain
 *                          aes-xts-plain64: no header, so `cryptsetup open --type plain
 *                          -c aes-xts-plain64 -s 512 --key-file K` opens it)
 *   --decrypt-key-file K   the input is such an image: read it through the key in K
 *   --iv-offset N          the tweak of sector 0 (dm-crypt --skip), decimal or 0x hex; default 0.
 *                          Applies to both keys when both are given (re-keying an image).
 *
 * `planCrypt` reads and validates the key files (exactly 64 bytes, halves not equal; a 128-char
 * hex text file is the classic mistake and is named as such); `wrapSource` / `wrapTarget` put a
 * CryptDisk over the opened disks. When encrypting, convert must write every block, zero blocks
 * included (`plan.mustWriteZeroes`): a skipped block would stay zero ciphertext, which dm-crypt
 * and OpenSSL decrypt to noise.
 * Errors: `UsageError` for option misuse, `DiskConfigError` for bad keys or offsets (printed as one
 * line by errors.ts); key bytes never appear in a message.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Disk } from '../core/disk/disk.ts';
import { openDisk } from '../core/disk/open-disk.ts';
import { openKeyCryptDisk } from '../core/crypto/open-crypt.ts';
import { checkXtsKey, parseIvOffset, XTS_KEY_BYTES } from '../core/crypto/xts-key.ts';
import { nodeXtsCipher } from '../node/xts-wasm.ts';
import { UsageError } from './errors.ts';

export interface CryptCliOptions {
  readonly encryptKeyFile?: string;
  readonly decryptKeyFile?: string;
  readonly ivOffset?: string;
}

export interface CryptKey {
  readonly key: Uint8Array;
  readonly ivOffset: bigint;
}

export interface CryptPlan {
  /** Read the source through this key. */
  readonly decrypt?: CryptKey;
  /** Write the target through this key. */
  readonly encrypt?: CryptKey;
  /** True when encrypting: the copy must not skip zero blocks. */
  readonly mustWriteZeroes: boolean;
}

/** commander-style option specs, for the lead to add to `convert` in program.ts. */
export const CRYPT_OPTIONS: readonly (readonly [flags: string, description: string])[] = [
  ['--encrypt-key-file <file>', 'encrypt the output with XTS-AES-256 (dm-crypt aes-xts-plain64) using a 64-byte key file'],
  ['--decrypt-key-file <file>', 'the input is encrypted (dm-crypt aes-xts-plain64): decrypt it with a 64-byte key file'],
  ['--iv-offset <n>', 'tweak of sector 0, like dm-crypt --skip (default 0)'],
];

/** Reads a key file: exactly 64 raw bytes whose halves differ. */
export async function readKeyFile(file: string): Promise<Uint8Array> {
  const info = await stat(file);
  if (!info.isFile()) throw new UsageError(`key file ${file} is not a regular file`);
  if (info.size === 128 || info.size === 129) {
    throw new UsageError(`key file ${file} looks like hex text (${info.size} bytes): it must hold the ${XTS_KEY_BYTES} raw key bytes (e.g. xxd -r -p)`);
  }
  if (info.size !== XTS_KEY_BYTES) throw new UsageError(`key file ${file} has ${info.size} bytes; an XTS-AES-256 key file has exactly ${XTS_KEY_BYTES}`);
  const key = new Uint8Array(await readFile(file));
  checkXtsKey(key, `key file ${file}`);
  return key;
}

export async function planCrypt(options: CryptCliOptions): Promise<CryptPlan> {
  if (options.ivOffset !== undefined && options.encryptKeyFile === undefined && options.decryptKeyFile === undefined) {
    throw new UsageError('--iv-offset needs --encrypt-key-file or --decrypt-key-file');
  }
  const ivOffset = parseIvOffset(options.ivOffset ?? '0');
  const encrypt = options.encryptKeyFile === undefined ? undefined : { key: await readKeyFile(options.encryptKeyFile), ivOffset };
  const decrypt = options.decryptKeyFile === undefined ? undefined : { key: await readKeyFile(options.decryptKeyFile), ivOffset };
  return { ...(encrypt && { encrypt }), ...(decrypt && { decrypt }), mustWriteZeroes: encrypt !== undefined };
}

async function wrap(disk: Disk, k: CryptKey | undefined): Promise<Disk> {
  if (k === undefined) return disk;
  try {
    return openDisk(await openKeyCryptDisk(disk, k.key, nodeXtsCipher, { ivOffset: k.ivOffset }));
  } finally {
    k.key.fill(0); // the cipher holds its own (expanded) copy
  }
}

/** The source as convert should read it: decrypted when --decrypt-key-file was given. */
export function wrapSource(source: Disk, plan: CryptPlan): Promise<Disk> {
  return wrap(source, plan.decrypt);
}

/** The target as convert should write it: encrypted when --encrypt-key-file was given. */
export function wrapTarget(target: Disk, plan: CryptPlan): Promise<Disk> {
  return wrap(target, plan.encrypt);
}
