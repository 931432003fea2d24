/**
 * OPFS images: import a local file into the origin private file system as a writable image (with
 * a progress bar fed by a Comlink.proxy callback), create an empty OPFS image or RAM disk of a
 * chosen size, and list, open or delete the images already there.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ImageEntry, JobProgress } from '../../../workers/api.ts';
import { formatBytes, parseSize } from '../format.ts';
import { progressCallback } from '../lab/lab-client.ts';
import { useLab } from '../lab/lab-context.tsx';
import { opfsImage, ramDisk } from '../lab/specs.ts';

type CreateKind = 'ram' | 'raw' | 'vhd';

export function ImagesPanel() {
  const lab = useLab();
  const disk = lab.client.disk;
  const [images, setImages] = useState<readonly ImageEntry[]>([]);
  const [progress, setProgress] = useState<(JobProgress & { name: string }) | undefined>(undefined);
  const [name, setName] = useState('disk.img');
  const [size, setSize] = useState('64M');
  const [kind, setKind] = useState<CreateKind>('ram');
  const [sizeError, setSizeError] = useState<string | undefined>(undefined);
  const { run } = lab;

  const reload = useCallback(async () => {
    const list = await run('Listing OPFS images', () => disk.listImages());
    if (list) setImages(list);
  }, [disk, run]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const importFile = async (file: File) => {
    setProgress({ name: file.name, doneBytes: 0, totalBytes: file.size, bytesPerSecond: 0, etaSeconds: undefined });
    const onProgress = progressCallback((p: JobProgress) => setProgress({ ...p, name: file.name }));
    const entry = await run(`Importing ${file.name}`, () => disk.importFile(file, file.name, onProgress));
    setProgress(undefined);
    if (entry) {
      lab.say({ kind: 'info', text: `Imported ${entry.name} (${formatBytes(entry.sizeBytes)}) into OPFS.` });
      await reload();
    }
  };

  const create = async () => {
    const bytes = parseSize(size);
    if (bytes === undefined || bytes <= 0) {
      setSizeError(`"${size}" is not a size (e.g. 64M, 1G)`);
      return;
    }
    setSizeError(undefined);
    if (kind === 'ram') {
      await lab.open(ramDisk(bytes), `RAM disk ${formatBytes(bytes)}`);
      return;
    }
    const entry = await run(`Creating ${name}`, () => disk.createImage(name, bytes, kind));
    if (entry) {
      await reload();
      await lab.open(opfsImage(entry.path), entry.name);
    }
  };

  return (
    <section className="panel images-panel" aria-labelledby="images-title" data-testid="panel-images">
      <h2 id="images-title">Disks and OPFS images</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label>
          new{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value as CreateKind)} aria-label="New disk kind">
            <option value="ram">RAM disk</option>
            <option value="raw">OPFS raw image</option>
            <option value="vhd">OPFS fixed VHD</option>
          </select>
        </label>
        {kind !== 'ram' && (
          <label>
            name <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Image name" className="name" />
          </label>
        )}
        <label>
          size <input value={size} onChange={(e) => setSize(e.target.value)} aria-label="Disk size" className="num" />
        </label>
        <button type="submit">Create</button>
      </form>
      {sizeError && (
        <p className="error small" role="alert">
          {sizeError}
        </p>
      )}
      <div className="row">
        <label className="button-like">
          Import into OPFS…
          <input
            type="file"
            className="visually-hidden"
            aria-label="Import into OPFS"
            disabled={progress !== undefined}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void importFile(file);
            }}
          />
        </label>
        {progress && (
          <span className="progress small">
            <progress max={progress.totalBytes || 1} value={progress.doneBytes} aria-label={`Importing ${progress.name}`} />{' '}
            {formatBytes(progress.doneBytes)} / {formatBytes(progress.totalBytes)}
            {progress.bytesPerSecond > 0 && ` · ${formatBytes(progress.bytesPerSecond)}/s`}
            {progress.etaSeconds !== undefined && ` · ${progress.etaSeconds.toFixed(0)} s left`}
          </span>
        )}
      </div>
      <table className="images small" aria-label="OPFS images">
        <tbody>
          {images.map((img) => (
            <tr key={img.name} data-testid="opfs-image" data-name={img.name}>
              <td>{img.name}</td>
              <td>{img.format}</td>
              <td>{formatBytes(img.sizeBytes)}</td>
              <td>
                <button type="button" className="link" onClick={() => void lab.open(opfsImage(img.path), img.name)}>
                  Open
                </button>{' '}
                <button
                  type="button"
                  className="link"
                  aria-label={`Delete ${img.name}`}
                  onClick={() => void run(`Deleting ${img.name}`, () => disk.deleteImage(img.name)).then(reload)}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {images.length === 0 && (
            <tr>
              <td className="muted">No images in OPFS yet.</td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
