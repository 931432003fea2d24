/**
 * Shares one WorkloadRunner between the controller and latency panels, re-renders them when its
 * view changes, and drives its `tick` from requestAnimationFrame while a shared-memory run is
 * going (the stats buffer is read once per frame, never per I/O).
 */
import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { useLab } from '../lab/lab-context.tsx';
import { WorkloadRunner, type WorkloadView } from './workload-runner.ts';

interface Workload {
  readonly runner: WorkloadRunner;
  readonly view: WorkloadView;
}

const WorkloadContext = createContext<Workload | undefined>(undefined);

export function useWorkload(): Workload {
  const w = useContext(WorkloadContext);
  if (!w) throw new Error('useWorkload outside <WorkloadProvider>');
  return w;
}

export function WorkloadProvider({ children }: { children: ReactNode }) {
  const lab = useLab();
  const runner = useMemo(() => new WorkloadRunner(lab.client), [lab.client]);
  const view = useSyncExternalStore(runner.subscribe, runner.getView);
  const { refresh } = lab;

  useEffect(() => {
    runner.onFinished = () => void refresh(runner.getView().stackId);
  }, [runner, refresh]);

  const live = (view.phase === 'running' || view.phase === 'stopping') && view.mode === 'shared';
  useEffect(() => {
    if (!live) return;
    let frame = requestAnimationFrame(function loop(t) {
      runner.tick(t);
      frame = requestAnimationFrame(loop);
    });
    return () => cancelAnimationFrame(frame);
  }, [live, runner]);

  const value = useMemo(() => ({ runner, view }), [runner, view]);
  return <WorkloadContext.Provider value={value}>{children}</WorkloadContext.Provider>;
}
