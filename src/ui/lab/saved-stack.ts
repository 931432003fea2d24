/**
 * The last stack, kept across reloads, and the persistent diff the stack panel adds.
 *
 * Promises
 * - `saveStack` keeps the active stack's spec (base image, layers, decorators in the spec) and
 *   name in IndexedDB; the spec is redacted first (spec.ts `redactSpec`), so a key or passphrase
 *   is never stored. A spec with a local file keeps that file only when the files total at most
 *   SAVE_BLOB_LIMIT bytes (IndexedDB would copy them whole); otherwise nothing is saved and
 *   the reason is returned. The overlays added on the live stack (delay, fault, RAM diff,
 *   encryption) are saved too, bottom first, as their OverlaySpecs: a RAM diff comes back empty
 *   (its data lived in memory), an encryption layer comes back as "needs passphrase" (or key
 *   file): its spec never holds a key, and `create` is dropped so a restore opens the header the
 *   first session wrote instead of formatting a new one. A persistent diff is part of the spec.
 * - `loadStack` returns what was saved, or undefined (nothing saved, or IndexedDB unavailable).
 * - `restorePlan` splits saved overlays into those that can be re-added at once and the first
 *   encryption layer, which waits for its secret (with the overlays above it).
 * - `withPersistentDiff` is the spec with a persistent OPFS layer on top in place of any RAM
 *   layers at the top (their data would otherwise shadow nothing after a reload).
 *
 * Errors: storage failures reject with the browser's error; callers report them.
 */
import { redactSpec, type DiskSpec, type LayerSpec } from '../../core/spec.ts';
import type { OverlaySpec } from '../../../workers/api.ts';

export const SAVE_BLOB_LIMIT = 256 * 1024 * 1024;
const DB = 'disklab';
const STORE = 'state';
const KEY = 'last-stack';

export interface SavedStack {
  readonly spec: DiskSpec;
  readonly name: string;
  /** Overlays added on the live stack, bottom first (absent in stacks saved before they were kept). */
  readonly overlays?: readonly OverlaySpec[];
}

type CryptOverlay = Extract<OverlaySpec, { readonly kind: 'crypt' }>;

export interface RestorePlan {
  /** Re-added right after the stack opens. */
  readonly now: readonly OverlaySpec[];
  /** The first encryption layer: re-added once the user gives its passphrase (or key file). */
  readonly crypt?: CryptOverlay;
  /** Overlays above that encryption layer, re-added after it. */
  readonly after: readonly OverlaySpec[];
}

/** What a saved overlay list restores as (see the module doc). */
export function restorePlan(overlays: readonly OverlaySpec[] = []): RestorePlan {
  const at = overlays.findIndex((o) => o.kind === 'crypt');
  if (at < 0) return { now: overlays, after: [] };
  return { now: overlays.slice(0, at), crypt: overlays[at] as CryptOverlay, after: overlays.slice(at + 1) };
}

/** The overlay as saved: only data, never a secret; an encryption layer opens what it created. */
function savedOverlay(o: OverlaySpec): OverlaySpec {
  switch (o.kind) {
    case 'ram-diff':
      return { kind: 'ram-diff' };
    case 'delay':
      return { kind: 'delay', readUs: o.readUs, writeUs: o.writeUs };
    case 'fault':
      return { kind: 'fault', rules: o.rules };
    case 'crypt':
      return { kind: 'crypt', key: o.key, ...(o.ivOffset === undefined ? {} : { ivOffset: o.ivOffset }) };
  }
}

function blobsOf(spec: DiskSpec): Blob[] {
  switch (spec.kind) {
    case 'blob':
      return [spec.blob, ...(spec.parents ?? []).map((p) => p.blob)];
    case 'layered':
      return spec.layers.flatMap((l) => (l.kind === 'disk-layer' ? blobsOf(l.disk) : []));
    case 'delay':
    case 'fault':
    case 'metered':
    case 'crypt':
      return blobsOf(spec.inner);
    case 'striped':
      return spec.members.flatMap(blobsOf);
    default:
      return [];
  }
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB failed to open'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = fn(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

/** Saves the stack; returns why it was not saved, or undefined when it was. */
export async function saveStack(spec: DiskSpec, name: string, overlays: readonly OverlaySpec[] = []): Promise<string | undefined> {
  const bytes = blobsOf(spec).reduce((n, b) => n + b.size, 0);
  if (bytes > SAVE_BLOB_LIMIT) return `${name} is a local file of ${Math.round(bytes / 2 ** 20)} MiB: import it into OPFS to have it reopen after a reload`;
  const saved: SavedStack = { spec: redactSpec(spec), name, overlays: overlays.map(savedOverlay) };
  await withStore('readwrite', (s) => s.put(saved, KEY));
  return undefined;
}

export async function loadStack(): Promise<SavedStack | undefined> {
  if (typeof indexedDB === 'undefined') return undefined;
  const saved = (await withStore('readonly', (s) => s.get(KEY))) as SavedStack | undefined;
  return saved && typeof saved === 'object' && 'spec' in saved && typeof saved.name === 'string' ? saved : undefined;
}

export async function forgetStack(): Promise<void> {
  await withStore('readwrite', (s) => s.delete(KEY));
}

/** A layer name from a stack name: file-name-safe and short. */
export function diffNameFor(stackName: string): string {
  const base = stackName.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '').slice(0, 80) || 'disk';
  return `${base}.diff`;
}

export function withPersistentDiff(spec: DiskSpec, layerName: string): DiskSpec {
  const top: LayerSpec = { kind: 'persistent-layer', name: layerName };
  if (spec.kind !== 'layered') return { kind: 'layered', layers: [top, { kind: 'disk-layer', disk: spec }] };
  let i = 0;
  while (spec.layers[i]?.kind === 'ram-layer') i++;
  return { kind: 'layered', layers: [top, ...spec.layers.slice(i)] };
}
