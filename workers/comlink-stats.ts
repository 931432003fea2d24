/**
 * Controller statistics snapshots across the worker boundary. A `ControllerStatsSnapshot` holds
 * `LatencyHistogram` objects, whose state is in private fields that structured cloning drops:
 * sent raw, the page would get empty objects with no `percentiles()`. This Comlink handler sends
 * each histogram's storage (a Float64Array, transferred) and rebuilds real LatencyHistograms on
 * the other side, so `controllerStats()` on the page returns what `readControllerStats` returns
 * in the worker.
 *
 * Registered by `registerErrorHandlers()` (comlink-errors.ts) on both sides; idempotent.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import type { ControllerStatsSnapshot, OpStatsView, StatsOp } from '../src/core/controller/stats.ts';
import { STATS_OPS } from '../src/core/controller/stats.ts';
import { LatencyHistogram } from '../src/core/stats/latency-histogram.ts';

type WireOp = Omit<OpStatsView, 'latency'> & { readonly latency: Float64Array };
export type WireStats = Omit<ControllerStatsSnapshot, 'ops'> & { readonly ops: Readonly<Record<StatsOp, WireOp>> };

export function isStatsSnapshot(value: unknown): value is ControllerStatsSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ControllerStatsSnapshot>;
  return typeof v.consistent === 'boolean' && Array.isArray(v.queues) && typeof v.ops === 'object' && v.ops?.read?.latency instanceof LatencyHistogram;
}

export function serializeStats(s: ControllerStatsSnapshot): [WireStats, Transferable[]] {
  const transfers: Transferable[] = [];
  const ops = {} as Record<StatsOp, WireOp>;
  for (const op of STATS_OPS) {
    const view = s.ops[op];
    const storage = view.latency.storage.slice();
    transfers.push(storage.buffer);
    ops[op] = { ops: view.ops, bytes: view.bytes, errors: view.errors, inFlight: view.inFlight, latency: storage };
  }
  return [{ consistent: s.consistent, queues: s.queues, lastError: s.lastError, ops }, transfers];
}

export function rebuildStats(w: WireStats): ControllerStatsSnapshot {
  const ops = {} as Record<StatsOp, OpStatsView>;
  for (const op of STATS_OPS) {
    const view = w.ops[op];
    ops[op] = { ...view, latency: new LatencyHistogram(view.latency) };
  }
  return { consistent: w.consistent, queues: w.queues, lastError: w.lastError, ops };
}

let registered = false;

export function registerStatsHandler(): void {
  if (registered) return;
  registered = true;
  const handler: TransferHandler<ControllerStatsSnapshot, WireStats> = {
    canHandle: isStatsSnapshot,
    serialize: serializeStats,
    deserialize: rebuildStats,
  };
  transferHandlers.set('disklab-controller-stats', handler as TransferHandler<unknown, unknown>);
}
