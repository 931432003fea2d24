/**
 * Open panel: the built-in sample (opened once on the first visit, so the lab shows something with
 * no set-up) and the user's own raw or fixed VHD images from the file picker or dropped on the
 * page. All of them open read-only with an empty RAM diff on top, so writes never touch the file.
 * Also the strip of open stacks, to switch between them or close one.
 */
import { useEffect, useRef } from 'react';
import { formatBytes } from '../format.ts';
import { useLab, type Lab } from '../lab/lab-context.tsx';
import { SAMPLE_NAME, blobUnderRamDiff, fetchSample } from '../lab/specs.ts';

let sampleRequested = false;

export async function openSample(lab: Lab): Promise<void> {
  const blob = await lab.run('Fetching the sample', () => fetchSample());
  if (blob) await lab.open(blobUnderRamDiff(blob, SAMPLE_NAME), SAMPLE_NAME);
}

export async function openLocalFiles(lab: Lab, files: Iterable<File>): Promise<void> {
  for (const file of files) await lab.open(blobUnderRamDiff(file, file.name), file.name);
}

export function OpenPanel() {
  const lab = useLab();
  const input = useRef<HTMLInputElement>(null);
  const labRef = useRef(lab);
  labRef.current = lab;

  useEffect(() => {
    // Module-level, not a ref: StrictMode mounts twice in development and the sample opens once.
    if (sampleRequested) return;
    sampleRequested = true;
    void openSample(labRef.current);
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
              void openLocalFiles(lab, files);
            }}
          />
        </label>
      </div>
      <p className="small muted">…or drop raw and fixed VHD images anywhere on the page. They open read-only under a RAM diff.</p>
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
