/**
 * Reads a stack's occupancy map from the disk worker: once when the stack, range or data version
 * changes, and a few times a second while `live` (a workload is writing). One request is in flight
 * at a time; an answer for a range that is no longer shown is dropped.
 */
import { useEffect, useState } from 'react';
import type { Occupancy, StackId } from '../../../workers/api.ts';
import { describeError } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';

const LIVE_POLL_MS = 300;

export interface OccupancyState {
  readonly occupancy: Occupancy | undefined;
  readonly error: string | undefined;
  /** Completed reads since mount: lets tests and people see the live refresh happen. */
  readonly reads: number;
}

export function useOccupancy(stackId: StackId | undefined, lba: number, count: number, buckets: number, live: boolean): OccupancyState {
  const lab = useLab();
  const disk = lab.client.disk;
  const [state, setState] = useState<OccupancyState>({ occupancy: undefined, error: undefined, reads: 0 });

  useEffect(() => {
    if (stackId === undefined || count <= 0) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const occupancy = await disk.occupancy(stackId, { buckets, lba, count });
        if (!cancelled) setState((s) => ({ occupancy, error: undefined, reads: s.reads + 1 }));
      } catch (error) {
        if (!cancelled) setState((s) => ({ ...s, error: describeError(error) }));
      }
      if (!cancelled && live) timer = setTimeout(() => void read(), LIVE_POLL_MS);
    };
    void read();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [disk, stackId, lba, count, buckets, live, lab.dataVersion]);

  return state;
}
