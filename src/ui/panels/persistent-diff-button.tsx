/**
 * "Persistent diff (OPFS)": reopens the active stack with a persistent OPFS layer on top
 * (lab/saved-stack.ts `withPersistentDiff`) in place of its RAM diff, so writes survive a reload.
 * The layer is named after the stack, so adding it again over the same image finds the same
 * layer and its data; the reopened stack is called "<name> (persistent)". The RAM diff's data is dropped (the user is asked first when it has any).
 */
import type { StackInfo } from '../../../workers/api.ts';
import { useLab } from '../lab/lab-context.tsx';
import { diffNameFor, withPersistentDiff } from '../lab/saved-stack.ts';

export function PersistentDiffButton({ stack }: { stack: StackInfo }) {
  const lab = useLab();
  const has = stack.spec.kind === 'layered' && stack.spec.layers[0]?.kind === 'persistent-layer';
  const add = async () => {
    const ramBytes = stack.layers.filter((l) => l.name.startsWith('RAM')).reduce((n, l) => n + l.bytesPresent, 0);
    if (ramBytes > 0 && !window.confirm(`The RAM diff holds ${ramBytes} bytes that a persistent diff does not keep. Drop them?`)) return;
    const name = diffNameFor(stack.name);
    const spec = withPersistentDiff(stack.spec, name);
    await lab.close(stack.id);
    const info = await lab.open(spec, `${stack.name} (persistent)`);
    if (info) lab.say({ kind: 'info', text: `${stack.name} now writes to the persistent layer ${name} in OPFS.` });
  };
  return (
    <button type="button" disabled={has} onClick={() => void add()} title="A diff layer in OPFS that survives a reload">
      Persistent diff (OPFS)
    </button>
  );
}
