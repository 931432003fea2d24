/**
 * Open panel: the built-in sample (opened once on the first visit, so the lab shows something with
 * no set-up) and the user's own images (raw, VHD, VHDX, qcow2) from the file picker or dropped on
 * the page; several files at once open as image chains (lab/chain-open.tsx). All of them open
 * read-only with an empty RAM diff on top, so writes never touch the files. When a chain's parent
 * is missing, a prompt names it with a "choose parent <name>" file input. Also the strip of open
 * stacks, to switch between them or close one.
 */
import { useEffect, useRef } from 'react';
import { formatBytes } from '../format.ts';
import { useChainOpener } from '../lab/chain-open.tsx';
import { useLab, type Lab } from '../lab/lab-context.tsx';
import { loadStack } from '../lab/saved-stack.ts';
import { SAMPLE_NAME, blobUnderRamDiff, fetchSample } from '../lab/specs.ts';
import { UrlOpenForm, openUrl, pageUrlParam } from './url-open.tsx';

let sampleRequested = false;

export async function openSample(lab: Lab): Promise<void> {
  const blob = await lab.run('Fetching the sample', () => fetchSample());
  if (blob) await lab.open(blobUnderRamDiff(blob, SAMPLE_NAME), SAMPLE_NAME);
}

export function OpenPanel() {
  const lab = useLab();
  const chains = useChainOpener();
  const input = useRef<HTMLInputElement>(null);
  const labRef = useRef(lab);
  labRef.current = lab;

  useEffect(() => {
    // Module-level, not a ref: StrictMode mounts twice in development and the sample opens once.
    if (sampleRequested) return;
    sampleRequested = true;
    // A `?url=` page opens that image instead of the sample. A saved stack is restored (with
    // its overlays) by the library panel instead of the sample, which it opens if that fails.
    const url = pageUrlParam();
    if (url !== undefined) void openUrl(labRef.current, url);
    else void loadStack().catch(() => undefined).then((saved) => (saved ? undefined : openSample(labRef.current)));
  }, []);

  return (
    <section className="panel open-panel" aria-labelledby="open-title" data-testid="panel-open">
      <h2 id="open-title">Open</h2>
      <div className="row">
        <button type="button" onClick={() => void openSample(lab)}>
          Open sample
        </button>
        <label className="button-like">
          Open local image…
          <input
            ref={input}
            type="file"
            className="visually-hidden"
            aria-label="Open local image"
            data-testid="open-file"
            multiple
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = '';
              void chains.openFiles(files);
            }}
          />
        </label>
      </div>
      <UrlOpenForm lab={lab} />
      <p className="small muted">
        …or drop raw, VHD, VHDX and qcow2 images anywhere on the page; drop a differencing image or overlay together with its parents to open the chain. They open read-only under a RAM diff.
      </p>
      <MissingParent />
      <h3 className="small-head">Open stacks</h3>
      <ul className="stacks" aria-label="Open stacks">
        {lab.stacks.map((s) => (
          <li key={s.id} className={s.id === lab.active?.id ? 'active' : ''}>
            <button type="button" className="link" aria-pressed={s.id === lab.active?.id} onClick={() => lab.select(s.id)} data-testid="stack-tab" data-name={s.name}>
              {s.name}
            </button>
            <span className="small muted"> {formatBytes(s.sectorCount * s.sectorSize)}</span>
            <button type="button" className="link close" aria-label={`Close ${s.name}`} onClick={() => void lab.close(s.id)}>
              ×
            </button>
          </li>
        ))}
        {lab.stacks.length === 0 && <li className="muted small">none yet</li>}
      </ul>
    </section>
  );
}

function MissingParent() {
  const { pending, provideParent, cancel } = useChainOpener();
  if (!pending) return null;
  return (
    <div className="missing-parent" role="group" aria-label="Missing parent" data-testid="missing-parent" data-wanted={pending.wanted} data-child={pending.child}>
      <p className="small">
        <strong>{pending.top.name}</strong> needs <strong>{pending.wanted}</strong> (the parent {pending.child} names). Drop it on the page, or:
      </p>
      <div className="row">
        <label className="button-like">
          Choose parent {pending.wanted}…
          <input
            type="file"
            className="visually-hidden"
            aria-label={`choose parent ${pending.wanted}`}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void provideParent(file);
            }}
          />
        </label>
        <button type="button" className="link" onClick={cancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
