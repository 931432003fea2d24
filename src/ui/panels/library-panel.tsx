/**
 * Library panel: the persistent diff layers in OPFS (size, reset, rename, delete), renaming and
 * downloading OPFS images, the storage used and the quota (`navigator.storage.estimate`), and a
 * "keep my data" button (`navigator.storage.persist`, so the browser does not evict the lab's
 * storage under pressure). It also keeps the last stack across reloads (lab/saved-stack.ts):
 * the active stack is saved when it changes and reopened once on load.
 *
 * Worker failures (QUOTA, LOCKED ...) go to the lab's status bar with their code.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ImageEntry } from '../../../workers/api.ts';
import type { LayerEntry } from '../../../workers/storage-api.ts';
import { formatBytes } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { downloadOpfsFile } from '../lab/opfs-download.ts';
import { loadStack, saveStack } from '../lab/saved-stack.ts';

interface Usage {
  readonly usage: number;
  readonly quota: number;
}

export function LibraryPanel() {
  const lab = useLab();
  const { run, client, dataVersion } = lab;
  const disk = client.disk;
  const [layers, setLayers] = useState<readonly LayerEntry[]>([]);
  const [images, setImages] = useState<readonly ImageEntry[]>([]);
  const [usage, setUsage] = useState<Usage | undefined>(undefined);
  const [persisted, setPersisted] = useState<boolean | undefined>(undefined);
  useSavedStack();

  const reload = useCallback(async () => {
    const [l, i] = await Promise.all([run('Listing layers', () => disk.listLayers()), run('Listing images', () => disk.listImages())]);
    if (l) setLayers(l);
    if (i) setImages(i);
    const est = await navigator.storage?.estimate?.().catch(() => undefined);
    if (est) setUsage({ usage: est.usage ?? 0, quota: est.quota ?? 0 });
    setPersisted(await navigator.storage?.persisted?.().catch(() => undefined));
  }, [disk, run]);

  useEffect(() => {
    void reload();
  }, [reload, dataVersion, lab.stacks.length]);

  const act = (what: string, call: () => Promise<unknown>) => void run(what, call).then(reload);
  const rename = (kind: 'layer' | 'image', from: string) => {
    const to = window.prompt(`Rename ${kind} ${from} to`, from);
    if (!to || to === from) return;
    act(`Renaming ${from}`, () => (kind === 'layer' ? disk.renameLayer(from, to) : disk.renameImage(from, to)));
  };

  return (
    <section className="panel library-panel" aria-labelledby="library-title" data-testid="panel-library">
      <div className="panel-head">
        <h2 id="library-title">Library</h2>
        <button type="button" className="link" onClick={() => void reload()}>
          Refresh
        </button>
      </div>
      <p className="small" data-testid="storage-usage" data-usage={usage?.usage} data-quota={usage?.quota}>
        {usage ? `${formatBytes(usage.usage)} used of ${formatBytes(usage.quota)} quota` : 'Storage estimate unavailable'}
        {' · '}
        {persisted ? (
          <span>storage is persistent</span>
        ) : (
          <button
            type="button"
            onClick={() =>
              void navigator.storage.persist().then((ok) => {
                setPersisted(ok);
                lab.say({ kind: ok ? 'info' : 'error', text: ok ? 'The browser will keep the lab’s data.' : 'The browser declined to make storage persistent (it may still keep it).' });
              })
            }
          >
            Keep my data
          </button>
        )}
      </p>
      <table className="small" aria-label="Persistent layers">
        <tbody>
          {layers.map((l) => (
            <tr key={l.name} data-testid="layer-entry" data-name={l.name} data-size={l.sizeBytes}>
              <td>{l.name}</td>
              <td>{formatBytes(l.sizeBytes)}</td>
              <td>{l.open ? 'open' : ''}</td>
              <td>
                <button type="button" className="link" aria-label={`Reset ${l.name}`} onClick={() => act(`Resetting ${l.name}`, () => disk.resetLayer(l.name))}>
                  Reset
                </button>{' '}
                <button type="button" className="link" aria-label={`Rename ${l.name}`} onClick={() => rename('layer', l.name)}>
                  Rename
                </button>{' '}
                <button type="button" className="link" aria-label={`Delete layer ${l.name}`} onClick={() => act(`Deleting ${l.name}`, () => disk.deleteLayer(l.name))}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {layers.length === 0 && (
            <tr>
              <td className="muted">No persistent layers yet (add one from the stack panel).</td>
            </tr>
          )}
        </tbody>
      </table>
      <table className="small" aria-label="Image files">
        <tbody>
          {images.map((img) => (
            <tr key={img.name} data-testid="library-image" data-name={img.name} data-size={img.sizeBytes}>
              <td>{img.name}</td>
              <td>{formatBytes(img.sizeBytes)}</td>
              <td>
                <button type="button" className="link" aria-label={`Download ${img.name}`} onClick={() => void run(`Downloading ${img.name}`, () => downloadOpfsFile(img.path, img.name))}>
                  Download
                </button>{' '}
                <button type="button" className="link" aria-label={`Rename image ${img.name}`} onClick={() => rename('image', img.name)}>
                  Rename
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** How long restoring waits for the page's own first stack (the sample) before going ahead. */
const RESTORE_WAIT_MS = 3000;

/**
 * Reopens the saved stack once on load, then saves the active stack whenever it changes. The
 * page opens the sample (or a `?url=` image) on load by itself; restoring waits for that (or
 * RESTORE_WAIT_MS) and opens the saved stack after it, so the saved one ends up active rather
 * than being overwritten by the sample. A saved stack whose name is already open is not reopened.
 */
function useSavedStack(): void {
  const lab = useLab();
  const started = useRef(false);
  const [waited, setWaited] = useState(false);
  const [ready, setReady] = useState(false);
  const { open, say } = lab;
  const openNames = lab.stacks.map((s) => s.name);
  const namesRef = useRef(openNames);
  namesRef.current = openNames;

  useEffect(() => {
    const timer = setTimeout(() => setWaited(true), RESTORE_WAIT_MS);
    return () => clearTimeout(timer);
  }, []);

  const go = waited || openNames.length > 0;
  useEffect(() => {
    if (!go || started.current) return;
    started.current = true;
    void (async () => {
      try {
        const saved = await loadStack();
        if (saved && !namesRef.current.includes(saved.name)) await open(saved.spec, saved.name);
      } catch (e) {
        say({ kind: 'error', text: `Could not restore the last stack: ${e instanceof Error ? e.message : String(e)}` });
      } finally {
        setReady(true);
      }
    })();
  }, [go, open, say]);

  const active = lab.active;
  useEffect(() => {
    if (!ready || !active) return;
    saveStack(active.spec, active.name).then(
      (why) => why && say({ kind: 'info', text: `Not saved for the next visit: ${why}` }),
      () => undefined, // no IndexedDB (private mode): the lab works, it just forgets
    );
  }, [ready, active?.id, active?.spec, active?.name, say]);
}
