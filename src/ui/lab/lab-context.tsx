/**
 * The lab's page state: which stacks are open in the disk worker, which one the panels show, and a
 * data version that panels watch to re-read (bumped after anything that may have written).
 *
 * Every call to the worker that can fail goes through `run`, which shows the failure in the status
 * bar (with the DiskError code) instead of letting it become an unhandled rejection.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import type { DiskSpec } from '../../core/spec.ts';
import type { StackId, StackInfo } from '../../../workers/api.ts';
import { describeError, formatInt } from '../format.ts';
import { getLabClient, type LabClient } from './lab-client.ts';

export interface LabMessage {
  readonly kind: 'info' | 'error';
  readonly text: string;
}

export interface Lab {
  readonly client: LabClient;
  readonly stacks: readonly StackInfo[];
  readonly active: StackInfo | undefined;
  readonly dataVersion: number;
  readonly message: LabMessage | undefined;
  open(spec: DiskSpec, name: string): Promise<StackInfo | undefined>;
  /** As `open`, but a failure rejects (with the worker's DiskError/DiskConfigError) instead of going to the status bar. */
  openOrThrow(spec: DiskSpec, name: string): Promise<StackInfo>;
  close(id: StackId): Promise<void>;
  select(id: StackId): void;
  /** Stores a fresher StackInfo and (unless `dataChanged` is false) bumps the data version. */
  update(info: StackInfo, dataChanged?: boolean): void;
  /** Re-reads a stack's info (default the active one) and bumps the data version. */
  refresh(id?: StackId): Promise<void>;
  /** Runs a worker call, reporting a failure in the status bar; resolves undefined on failure. */
  run<T>(what: string, call: () => Promise<T>): Promise<T | undefined>;
  say(message: LabMessage | undefined): void;
}

const LabContext = createContext<Lab | undefined>(undefined);

export function useLab(): Lab {
  const lab = useContext(LabContext);
  if (!lab) throw new Error('useLab outside <LabProvider>');
  return lab;
}

/** The active stack; panels render a placeholder without one. */
export function useActiveStack(): StackInfo | undefined {
  return useLab().active;
}

export function LabProvider({ children }: { children: ReactNode }) {
  const client = useRef<LabClient | undefined>(undefined);
  client.current ??= getLabClient();
  const [stacks, setStacks] = useState<readonly StackInfo[]>([]);
  const [activeId, setActiveId] = useState<StackId | undefined>(undefined);
  const [dataVersion, setDataVersion] = useState(0);
  const [message, setMessage] = useState<LabMessage | undefined>(undefined);
  const activeRef = useRef<StackId | undefined>(undefined);
  activeRef.current = activeId;
  const stacksRef = useRef(stacks);
  stacksRef.current = stacks;

  const run = useCallback(async <T,>(what: string, call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      setMessage({ kind: 'error', text: `${what} failed: ${describeError(error)}` });
      return undefined;
    }
  }, []);

  const update = useCallback((info: StackInfo, dataChanged = true) => {
    setStacks((list) => (list.some((s) => s.id === info.id) ? list.map((s) => (s.id === info.id ? info : s)) : [...list, info]));
    if (dataChanged) setDataVersion((v) => v + 1);
  }, []);

  const lab = useMemo<Lab>(() => {
    const c = client.current!;
    const openOrThrow = async (spec: DiskSpec, name: string): Promise<StackInfo> => {
      const info = await c.disk.openStack(spec, name);
      update(info);
      setActiveId(info.id);
      setMessage({ kind: 'info', text: `Opened ${name}: ${formatInt(info.sectorCount)} sectors of ${info.sectorSize} bytes.` });
      return info;
    };
    return {
      client: c,
      stacks,
      active: stacks.find((s) => s.id === activeId),
      dataVersion,
      message,
      run,
      update,
      say: setMessage,
      open: (spec, name) => run(`Opening ${name}`, () => openOrThrow(spec, name)),
      openOrThrow,
      async close(id) {
        await run('Closing the stack', () => c.disk.closeStack(id));
        const rest = stacksRef.current.filter((s) => s.id !== id);
        setStacks(rest);
        if (activeRef.current === id) setActiveId(rest[0]?.id);
      },
      select: setActiveId,
      async refresh(id = activeRef.current) {
        if (id === undefined) return;
        const info = await run('Reading the stack', () => c.disk.stackInfo(id));
        if (info) update(info);
      },
    };
  }, [stacks, activeId, dataVersion, message, run, update]);

  return <LabContext.Provider value={lab}>{children}</LabContext.Provider>;
}
