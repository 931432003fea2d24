/**
 * Temporary directories and files for Node tests.
 *
 * `useTempDir(prefix)` makes a fresh directory under the OS temp dir at once and registers a
 * Vitest `afterAll` that removes it with everything in it, so call it where an `afterAll` may be
 * registered (a test file's top level or a `describe` body); the hook belongs to that scope.
 * `at(name)` is a path inside it; `newFile(bytes)` creates `disk-<n>.img` there, sparse (made by
 * truncate, so it reads as zeros), a new name on every call. Failures are thrown as node:fs throws.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

export interface TempDir {
  /** The directory itself. */
  readonly dir: string;
  /** A path inside `dir`. */
  at(name: string): string;
  /** A new sparse file of `bytes` zero bytes; returns its path. */
  newFile(bytes: number): string;
}

export function useTempDir(prefix: string): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const at = (name: string): string => path.join(dir, name);
  let n = 0;
  return {
    dir,
    at,
    newFile(bytes) {
      const p = at(`disk-${n++}.img`);
      fs.writeFileSync(p, '');
      fs.truncateSync(p, bytes);
      return p;
    },
  };
}
