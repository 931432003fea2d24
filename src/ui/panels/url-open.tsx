/**
 * Opening an image by URL: the "Open URL" field of the open panel and the `?url=` page parameter
 * (opened once at load instead of the sample). The image is read in place by HTTP range requests
 * under a persistent OPFS read cache (src/core/url/open-url-spec.ts), read-only under a RAM diff
 * like every other opened image. A failure (a CORS refusal with what the server must send, a
 * server that ignores Range ...) goes to the status bar with its DiskError code.
 */
import { useState } from 'react';
import type { DiskSpec } from '../../core/spec.ts';
import type { Lab } from '../lab/lab-context.tsx';

/** A URL's image under a RAM diff, with the persistent read cache. */
export function urlUnderRamDiff(url: string): DiskSpec {
  return { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'url', url, persistentCache: true } }] };
}

/** The stack name for a URL: its last path segment (without the query). */
export function urlStackName(url: string): string {
  const path = url.split(/[?#]/)[0] ?? url;
  const last = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last) || url;
  } catch {
    return last || url;
  }
}

/** The page's `?url=` parameter, resolved against the page (so '/images/a.vhd' works), or undefined. */
export function pageUrlParam(): string | undefined {
  const raw = new URLSearchParams(window.location.search).get('url');
  if (!raw) return undefined;
  try {
    return new URL(raw, window.location.href).href;
  } catch {
    return raw;
  }
}

export async function openUrl(lab: Lab, url: string): Promise<void> {
  await lab.open(urlUnderRamDiff(url), urlStackName(url));
}

export function UrlOpenForm({ lab }: { lab: Lab }) {
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="row url-open"
      aria-label="Open URL"
      onSubmit={(e) => {
        e.preventDefault();
        const text = url.trim();
        if (!text) return;
        let absolute = text;
        try {
          absolute = new URL(text, window.location.href).href;
        } catch {
          // Not a URL: the worker refuses it with a message naming it.
        }
        setBusy(true);
        void openUrl(lab, absolute).finally(() => setBusy(false));
      }}
    >
      <input type="url" placeholder="https://…/image.vhd" aria-label="Image URL" data-testid="open-url-input" value={url} onChange={(e) => setUrl(e.target.value)} />
      <button type="submit" data-testid="open-url-button" disabled={busy}>
        {busy ? 'Opening…' : 'Open URL'}
      </button>
    </form>
  );
}
