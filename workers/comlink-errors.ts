/**
 * Errors across the worker boundary. Comlink's built-in "throw" handler sends only an Error's
 * message, name and stack, so a page would see a plain Error where the worker threw a
 * DiskError('LOCKED'). This module replaces that handler (in the worker and in the page: each
 * side's handler map is its own) with one that carries:
 * - DiskError: code, message, lba, field;
 * - DiskConfigError: problem, field, message, layerIndex, and value when it is structured-cloneable;
 * - any other Error: name and message; any other thrown value: itself when cloneable, else its text;
 * - for all of them the `cause` chain (up to 8 deep) as name + message (+ code for DiskErrors),
 *   rebuilt on the other side as a chain of Errors (DiskErrors where there was a code);
 * - the worker's stack, appended to the rebuilt error's own.
 * The page gets real `DiskError`/`DiskConfigError` instances, so `instanceof` and `isDiskError`
 * work there as in the worker.
 *
 * `registerErrorHandlers()` must run once on each side before the first call (idempotent). It
 * also registers the controller-stats handler (comlink-stats.ts), which the same API needs, so
 * the page has one thing to call.
 *
 * Errors: none of its own; a malformed wire error (another version of the lab) still arrives as
 * an Error with whatever message it had.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { DISK_ERROR_CODES, DiskConfigError, DiskError, type DiskConfigProblem, type DiskErrorCode } from '../src/core/disk/errors.ts';
import { registerStatsHandler } from './comlink-stats.ts';

export interface WireCause {
  readonly name: string;
  readonly message: string;
  readonly code?: DiskErrorCode;
}

export type WireError =
  | { readonly kind: 'disk'; readonly code: DiskErrorCode; readonly message: string; readonly lba?: number; readonly field?: string; readonly stack?: string; readonly causes: readonly WireCause[] }
  | {
      readonly kind: 'config';
      readonly problem: DiskConfigProblem;
      readonly field: string;
      readonly message: string;
      readonly layerIndex?: number;
      readonly value?: unknown;
      readonly stack?: string;
      readonly causes: readonly WireCause[];
    }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly stack?: string; readonly causes: readonly WireCause[] }
  | { readonly kind: 'value'; readonly value: unknown };

const MAX_CAUSES = 8;

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function causesOf(e: Error): WireCause[] {
  const out: WireCause[] = [];
  const seen = new Set<unknown>([e]);
  let c: unknown = e.cause;
  while (c !== undefined && c !== null && out.length < MAX_CAUSES && !seen.has(c)) {
    seen.add(c);
    if (c instanceof Error) {
      out.push(c instanceof DiskError ? { name: c.name, message: c.message, code: c.code } : { name: c.name, message: c.message });
      c = c.cause;
    } else {
      out.push({ name: typeof c, message: String(c) });
      break;
    }
  }
  return out;
}

/** The structured-cloneable form of anything thrown. */
export function serializeError(e: unknown): WireError {
  if (e instanceof DiskError) {
    return { kind: 'disk', code: e.code, message: e.message, lba: e.lba, field: e.field, stack: e.stack, causes: causesOf(e) };
  }
  if (e instanceof DiskConfigError) {
    const base = { kind: 'config' as const, problem: e.problem, field: e.field, message: e.message, layerIndex: e.layerIndex, stack: e.stack, causes: causesOf(e) };
    return e.value !== undefined && cloneable(e.value) ? { ...base, value: e.value } : base;
  }
  if (e instanceof Error) return { kind: 'error', name: e.name, message: e.message, stack: e.stack, causes: causesOf(e) };
  return { kind: 'value', value: cloneable(e) ? e : String(e) };
}

function rebuildCauses(causes: readonly WireCause[] | undefined): Error | undefined {
  let cause: Error | undefined;
  for (const c of [...(causes ?? [])].reverse()) {
    const opts = cause === undefined ? {} : { cause };
    cause = c.code !== undefined ? new DiskError(validCode(c.code), c.message, opts) : Object.assign(new Error(c.message, opts), { name: c.name });
  }
  return cause;
}

function validCode(code: unknown): DiskErrorCode {
  return (DISK_ERROR_CODES as readonly unknown[]).includes(code) ? (code as DiskErrorCode) : 'IO';
}

function withRemoteStack<E extends Error>(error: E, stack: string | undefined): E {
  if (stack) Object.defineProperty(error, 'stack', { value: `${error.stack ?? ''}\n    --- thrown in the worker:\n${stack}`, configurable: true, writable: true });
  return error;
}

/** Rebuilds the thrown value (real DiskError/DiskConfigError instances) from its wire form. */
export function rebuildError(w: WireError): unknown {
  switch (w?.kind) {
    case 'disk': {
      const cause = rebuildCauses(w.causes);
      return withRemoteStack(new DiskError(validCode(w.code), w.message, { lba: w.lba, field: w.field, cause }), w.stack);
    }
    case 'config': {
      const cause = rebuildCauses(w.causes);
      return withRemoteStack(new DiskConfigError(w.problem, w.field, w.message, { value: w.value, layerIndex: w.layerIndex, cause }), w.stack);
    }
    case 'error': {
      const cause = rebuildCauses(w.causes);
      return withRemoteStack(Object.assign(new Error(w.message, cause === undefined ? undefined : { cause }), { name: w.name }), w.stack);
    }
    case 'value':
      return w.value;
    default:
      return new Error(`worker threw something this page cannot read: ${JSON.stringify(w)}`);
  }
}

/** What Comlink hands the "throw" handler: its own wrapper around the thrown value. */
interface Thrown {
  readonly value: unknown;
}

let registered = false;

export function registerErrorHandlers(): void {
  registerStatsHandler();
  if (registered) return;
  registered = true;
  const builtin = transferHandlers.get('throw');
  if (!builtin) throw new Error('Comlink has no built-in "throw" handler to replace: is this Comlink 4?');
  const handler: TransferHandler<Thrown, WireError> = {
    // Only Comlink knows its private marker for thrown values: ask the handler being replaced.
    canHandle: (value): value is Thrown => builtin.canHandle(value),
    serialize: (thrown) => [serializeError(thrown.value), []],
    deserialize: (wire) => {
      throw rebuildError(wire);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
