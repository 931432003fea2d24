/**
 * Opening dropped or picked image files as chains: several files dropped at once are sorted into
 * chains (chain-plan.ts, from the parent names the disk worker reads out of each file), and each
 * chain opens as one stack whose layers are its files. When a chain's parent is missing, the
 * worker's DiskConfigError names it (resolve-spec.ts `MissingParent`); the chain is kept here as
 * `pending` until the user drops that file or picks it with the "choose parent" input, and is then
 * opened again. A wrong parent is the format's CORRUPT_IMAGE, shown in the status bar; the chain
 * stays pending so another file can be chosen.
 *
 * Errors: everything goes to the lab's status bar; nothing rejects.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { DiskConfigError } from '../../core/disk/errors.ts';
import { isMissingParent, type ParentFileSpec } from '../../core/spec.ts';
import { describeError } from '../format.ts';
import { planChains, isWantedParent, type DroppedImage } from './chain-plan.ts';
import { useLab, type Lab } from './lab-context.tsx';
import { blobUnderRamDiff } from './specs.ts';

/** A chain waiting for a parent the user has not given yet. */
export interface PendingChain {
  readonly top: File;
  readonly parents: readonly ParentFileSpec[];
  /** The parent's name as the chain records it (base name), e.g. "base.vhd". */
  readonly wanted: string;
  /** The file that names it: the top, or a parent further down the chain. */
  readonly child: string;
}

export interface ChainOpener {
  readonly pending: PendingChain | undefined;
  /** Opens dropped or picked files; while a chain is pending, files named as its parent complete it. */
  openFiles(files: readonly File[]): Promise<void>;
  /** The user chose `file` as the pending chain's missing parent (whatever its name). */
  provideParent(file: File): Promise<void>;
  cancel(): void;
}

const ChainContext = createContext<ChainOpener | undefined>(undefined);

export function useChainOpener(): ChainOpener {
  const c = useContext(ChainContext);
  if (!c) throw new Error('useChainOpener outside <ChainOpenProvider>');
  return c;
}

export function ChainOpenProvider({ children }: { children: ReactNode }) {
  const lab = useLab();
  const labRef = useRef(lab);
  labRef.current = lab;
  const [pending, setPending] = useState<PendingChain | undefined>(undefined);
  const pendingRef = useRef(pending);
  pendingRef.current = pending;

  const set = useCallback((p: PendingChain | undefined) => {
    pendingRef.current = p;
    setPending(p);
  }, []);

  /** Opens one chain; on a missing parent, makes it pending; on another failure, restores `before`. */
  const tryOpen = useCallback(async (top: File, parents: readonly ParentFileSpec[], before: PendingChain | undefined) => {
    const l = labRef.current;
    try {
      await l.openOrThrow(blobUnderRamDiff(top, top.name, parents), top.name);
      // Another file opening fine must not drop a chain still waiting for its parent.
      if (pendingRef.current?.top === top) set(undefined);
    } catch (error) {
      if (error instanceof DiskConfigError && isMissingParent(error.value)) {
        const { wanted, child } = error.value;
        const waiting = { top, parents, wanted, child };
        set(waiting);
        l.say(missingMessage(waiting));
        return;
      }
      // A chain that was waiting keeps waiting (a wrong parent was chosen); other pending chains are left alone.
      if (before) set(before);
      l.say({ kind: 'error', text: `Opening ${top.name} failed: ${describeError(error)}` });
    }
  }, [set]);

  const openFiles = useCallback(async (files: readonly File[]) => {
    if (files.length === 0) return;
    const waiting = pendingRef.current;
    if (waiting && files.some((f) => isWantedParent(f.name, waiting.wanted))) {
      await tryOpen(waiting.top, [...waiting.parents, ...files.map((f) => ({ blob: f, name: f.name }))], waiting);
      return;
    }
    const dropped = await Promise.all(files.map((f) => probe(labRef.current, f)));
    for (const { top, parents } of planChains(dropped)) {
      await tryOpen(top.file, parents.map((p) => ({ blob: p.file, name: p.name })), undefined);
    }
    // Files of the same drop that opened later said "Opened ..."; the missing parent is what needs the user.
    const still = pendingRef.current;
    if (still && still !== waiting && files.includes(still.top)) labRef.current.say(missingMessage(still));
  }, [tryOpen]);

  const provideParent = useCallback(async (file: File) => {
    const waiting = pendingRef.current;
    if (!waiting) return;
    await tryOpen(waiting.top, [...waiting.parents, { blob: file, name: file.name, standsFor: waiting.wanted }], waiting);
  }, [tryOpen]);

  const value = useMemo<ChainOpener>(() => ({ pending, openFiles, provideParent, cancel: () => set(undefined) }), [pending, openFiles, provideParent, set]);
  return <ChainContext.Provider value={value}>{children}</ChainContext.Provider>;
}

function missingMessage(p: PendingChain): { kind: 'error'; text: string } {
  return { kind: 'error', text: `${p.top.name} is part of a chain: ${p.child} needs its parent ${p.wanted}. Drop ${p.wanted} on the page or choose it below.` };
}

/** The parent names `file` records; a file the worker cannot read is opened on its own, where its error shows. */
async function probe(lab: Lab, file: File): Promise<DroppedImage<File>> {
  try {
    const { parentCandidates } = await lab.client.disk.imageParents(file, file.name);
    return { file, name: file.name, parentCandidates };
  } catch {
    return { file, name: file.name, parentCandidates: [] };
  }
}
