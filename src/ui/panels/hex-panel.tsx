/**
 * Hex view: one sector of the active stack as offset / hex / ASCII rows, with the layer that
 * supplied it (or "zero-filled" when no layer held it). Re-reads when the stack's data changes.
 * The dump carries `data-lba`, `data-source` and `data-hex` (the whole sector in hex) for tests.
 *
 * On a stack with an encryption layer, a choice of level (`data-testid="hex-level"`) shows the
 * same sector as plaintext (what the guest sees, above the layer) or as ciphertext (what is stored
 * below it, at the inner sector after any passphrase header): the teaching view of encryption at
 * rest. The dump then also carries `data-view` and `data-inner-lba`.
 */
import { useEffect, useState } from 'react';
import type { SectorDump, SectorView } from '../../../workers/api.ts';
import { describeError } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { layerColor } from './layer-colors.ts';

export function HexPanel() {
  const lab = useLab();
  const stack = lab.active;
  const [input, setInput] = useState('0');
  const [lba, setLba] = useState(0);
  const [dump, setDump] = useState<SectorDump | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [chosenView, setView] = useState<SectorView>('top');
  const disk = lab.client.disk;
  const last = stack ? stack.sectorCount - 1 : 0;
  const crypt = stack?.crypt;
  const view: SectorView = crypt ? chosenView : 'top';

  useEffect(() => {
    if (!stack) return;
    let cancelled = false;
    disk.readSectors(stack.id, lba, 1, view).then(
      (d) => {
        if (cancelled) return;
        setDump(d);
        setError(undefined);
      },
      (e: unknown) => {
        if (cancelled) return;
        setDump(undefined);
        setError(describeError(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [disk, stack, lba, view, lab.dataVersion]);

  const go = (n: number) => {
    const next = Math.min(last, Math.max(0, n));
    setLba(next);
    setInput(String(next));
  };
  const source = dump ? sourceName(dump, 0) : '';
  const layerIndex = dump?.sourceLayer[0] ?? -2;

  return (
    <section className="panel hex-panel" aria-labelledby="hex-title" data-testid="panel-hex">
      <div className="panel-head">
        <h2 id="hex-title">Hex view</h2>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            const n = Number(input);
            if (Number.isSafeInteger(n)) go(n);
            else setError(`"${input}" is not a sector number`);
          }}
        >
          <button type="button" onClick={() => go(lba - 1)} disabled={!stack || lba === 0} aria-label="Previous sector">
            ◀
          </button>
          <label>
            Sector <input className="num" value={input} onChange={(e) => setInput(e.target.value)} aria-label="Sector number" inputMode="numeric" />
          </label>
          <button type="submit" disabled={!stack}>
            Show
          </button>
          <button type="button" onClick={() => go(lba + 1)} disabled={!stack || lba >= last} aria-label="Next sector">
            ▶
          </button>
        </form>
      </div>
      {crypt && (
        <div className="row small" role="radiogroup" aria-label="Stack level" data-testid="hex-level">
          <label>
            <input type="radio" name="hex-level" checked={view === 'top'} onChange={() => setView('top')} /> plaintext (above the encryption)
          </label>
          <label>
            <input type="radio" name="hex-level" checked={view === 'below-crypt'} onChange={() => setView('below-crypt')} /> ciphertext (below it, as stored)
          </label>
        </div>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      {dump && (
        <>
          <p className="small" data-testid="hex-source">
            Sector {dump.lba} ({dump.data.length} bytes){dump.innerLba !== undefined && <> as stored below the encryption, at inner sector {dump.innerLba},</>} from{' '}
            {layerIndex >= 0 && <span className="swatch" style={{ background: layerColor(layerIndex) }} aria-hidden="true" />} <strong>{source}</strong>
          </p>
          {crypt && (
            <p className="muted small" data-testid="hex-crypt-note">
              {dump.view === 'top'
                ? `Plaintext: ${crypt.cipher} decrypts this sector with tweak ${BigInt(dump.lba) + BigInt(crypt.ivOffset)} on every read.`
                : `Ciphertext: what the disk below holds; the key that turns it into the plaintext above never leaves the disk worker.`}
            </p>
          )}
          <pre
            className="hex"
            data-testid="hex-dump"
            data-lba={dump.lba}
            data-view={dump.view}
            data-inner-lba={dump.innerLba}
            data-source={source}
            data-hex={toHex(dump.data)}
            aria-label={`Sector ${dump.lba} in hex`}
          >
            {rows(dump.data, (dump.innerLba ?? dump.lba) * dump.data.length)}
          </pre>
        </>
      )}
    </section>
  );
}

function sourceName(dump: SectorDump, sector: number): string {
  const i = dump.sourceLayer[sector] ?? -2;
  if (i === -1) return 'zero-filled (no layer holds it)';
  if (i === -2) return 'the disk (not layered)';
  return `layer ${i}: ${dump.layerNames[i] ?? '?'}`;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** 16 bytes a row, each row labelled with its byte offset in the disk (as qemu-io and hexdump do). */
function rows(bytes: Uint8Array, base: number): string {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out.push(`${(base + at).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return out.join('\n');
}
