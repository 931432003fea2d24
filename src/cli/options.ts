/**
 * Shared argument helpers: qemu-img style `-o key=value,key=value` lists, and the refusal to
 * overwrite an existing file unless asked.
 */
import * as fs from 'node:fs';
import { UsageError } from './errors.ts';

/** Parses `-o` lists (repeatable) into a map; only `allowed` keys are accepted. */
export function parseCreateOptions(lists: readonly string[], allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of lists.flatMap((l) => l.split(',')).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0) throw new UsageError(`option '${item}' needs a value (${key}=...)`);
    if (!allowed.includes(key)) {
      throw new UsageError(`unknown option '${key}'${allowed.length ? ` (known: ${allowed.join(', ')})` : ' (this format takes none)'}`);
    }
    out.set(key, item.slice(eq + 1));
  }
  return out;
}

/** Options each creatable format takes through -o. */
export function optionsFor(format: string): readonly string[] {
  return format === 'vhd' ? ['subformat'] : [];
}

export function refuseExisting(path: string, force: boolean): void {
  if (!force && fs.existsSync(path)) throw new UsageError(`${path} already exists (use --force to replace it)`);
}
