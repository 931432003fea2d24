/**
 * Library panel: the persistent diff layers in OPFS (size, reset, rename, delete), renaming and
 * downloading OPFS images, the storage used and the quota (`navigator.storage.estimate`), and a
 * "keep my data" button (`navigator.storage.persist`, so the browser does not evict the lab's
 * storage under pressure). It also keeps the last stack across reloads (lab/saved-stack.ts):
 * the active stack and its overlays are saved when they change and reopened once on load (an
 * encryption layer asks for its passphrase, which is never stored).
 *
 * Worker failures (QUOTA, LOCKED ...) go to the lab's status bar with their code.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ImageEntry, OverlaySpec, StackId } from '../../../workers/api.ts';
import type { LayerEntry } from '../../../workers/storage-api.ts';
import { formatBytes } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { downloadOpfsFile } from '../lab/opfs-download.ts';
import { loadStack, restorePlan, saveStack, type RestorePlan } from '../lab/saved-stack.ts';
import { openSample } from './open-panel.tsx';
import { pageUrlParam } from './url-open.tsx';

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
  const restore = useSavedStack();

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
      {restore.pending && <RestoreCrypt {...restore} pending={restore.pending} />}
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

/** With `?url=`, how long restoring waits for the page's own first stack (that URL) before going ahead. */
const RESTORE_WAIT_MS = 3000;

/** A restored stack's encryption layer waiting for its secret, with the overlays above it. */
interface PendingCrypt {
  readonly stackId: StackId;
  readonly name: string;
  readonly crypt: NonNullable<RestorePlan['crypt']>;
  readonly after: readonly OverlaySpec[];
}

/**
 * Reopens the saved stack once on load, with its overlays (saved-stack.ts `restorePlan`), then
 * saves the active stack and its overlays whenever they change. With no `?url=` the open panel
 * leaves the sample closed when a stack is saved, so only the restored stack opens; if the
 * restore fails the sample opens instead. With `?url=` that image opens first and the saved stack
 * after it (unless it is the same name), as before. An encryption layer waits for its passphrase
 * (never stored): nothing is saved until it is given or skipped, so the saved overlays survive.
 */
function useSavedStack(): { pending: PendingCrypt | undefined; unlock: (passphrase: string) => Promise<void>; skip: () => void } {
  const lab = useLab();
  const started = useRef(false);
  const urlPage = useRef(pageUrlParam() !== undefined).current;
  const [waited, setWaited] = useState(!urlPage);
  const [ready, setReady] = useState(false);
  const [pending, setPending] = useState<PendingCrypt | undefined>(undefined);
  const { open, say, client, update } = lab;
  const openNames = lab.stacks.map((s) => s.name);
  const namesRef = useRef(openNames);
  namesRef.current = openNames;
  const labRef = useRef(lab);
  labRef.current = lab;

  useEffect(() => {
    const timer = setTimeout(() => setWaited(true), RESTORE_WAIT_MS);
    return () => clearTimeout(timer);
  }, []);

  const addAll = useCallback(
    async (stackId: StackId, overlays: readonly OverlaySpec[]) => {
      for (const o of overlays) update(await client.disk.addOverlay(stackId, o));
    },
    [client, update],
  );

  const go = waited || openNames.length > 0;
  useEffect(() => {
    if (!go || started.current) return;
    started.current = true;
    void (async () => {
      // The sample opens here only when a saved stack was there but failed to open (else the open panel opens it).
      let restored = true;
      try {
        const saved = await loadStack();
        if (saved && !namesRef.current.includes(saved.name)) {
          restored = false;
          const info = await open(saved.spec, saved.name);
          restored = info !== undefined;
          if (info) {
            const plan = restorePlan(saved.overlays);
            await addAll(info.id, plan.now);
            if (plan.crypt) {
              setPending({ stackId: info.id, name: saved.name, crypt: plan.crypt, after: plan.after });
              return; // saving resumes once the passphrase is given or skipped
            }
          }
        }
      } catch (e) {
        say({ kind: 'error', text: `Could not restore the last stack: ${e instanceof Error ? e.message : String(e)}` });
      }
      if (!restored && !urlPage) await openSample(labRef.current);
      setReady(true);
    })();
  }, [go, open, say, addAll, urlPage]);

  const unlock = useCallback(
    async (passphrase: string) => {
      if (!pending) return;
      try {
        update(await client.disk.addOverlay(pending.stackId, { ...pending.crypt, create: false }, { passphrase }));
        await addAll(pending.stackId, pending.after);
        setPending(undefined);
        setReady(true);
      } catch (e) {
        say({ kind: 'error', text: `Could not reopen the encryption layer of ${pending.name}: ${e instanceof Error ? e.message : String(e)}` });
      }
    },
    [pending, client, update, addAll, say],
  );
  const skip = useCallback(() => {
    setPending(undefined);
    setReady(true);
  }, []);

  const active = lab.active;
  useEffect(() => {
    if (!ready || !active) return;
    void (async () => {
      const overlays = await client.disk.stackOverlays(active.id).catch(() => [] as OverlaySpec[]);
      const why = await saveStack(active.spec, active.name, overlays);
      if (why) say({ kind: 'info', text: `Not saved for the next visit: ${why}` });
    })().catch(() => undefined); // no IndexedDB (private mode): the lab works, it just forgets
  }, [ready, active?.id, active?.spec, active?.name, active?.tree, client, say]);
  return { pending, unlock, skip };
}

/** Asks for the passphrase of a restored stack's encryption layer; it goes to the worker only. */
function RestoreCrypt({ pending, unlock, skip }: ReturnType<typeof useSavedStack> & { pending: PendingCrypt }) {
  const [passphrase, setPassphrase] = useState('');
  const keyFile = pending.crypt.key === 'key-file';
  return (
    <form
      className="row small"
      data-testid="restore-crypt"
      onSubmit={(e) => {
        e.preventDefault();
        const p = passphrase;
        setPassphrase('');
        void unlock(p);
      }}
    >
      <span role="status">
        {pending.name} was saved with an encryption layer: it {keyFile ? 'needs its key file (add it from the stack panel)' : 'needs its passphrase'}.
      </span>
      {!keyFile && (
        <>
          <input type="password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} aria-label="Passphrase of the restored encryption layer" autoComplete="off" />
          <button type="submit">Unlock</button>
        </>
      )}
      <button type="button" className="link" onClick={skip}>
        {keyFile ? 'Dismiss' : 'Skip'}
      </button>
    </form>
  );
}
