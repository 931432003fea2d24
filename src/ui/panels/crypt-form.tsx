/**
 * The stack panel's "Add encryption" form: puts an XTS-AES-256 layer (dm-crypt aes-xts-plain64,
 * the Rust/wasm cipher in the disk worker) over the live stack, keyed by a passphrase (a new one
 * formats a 4 KiB crypt header; an existing one opens it) or by a 64-byte key file.
 *
 * The secret goes to the worker once, as `addOverlay`'s separate `OverlaySecret` argument: the
 * passphrase field is cleared after each attempt and a key file's buffer is transferred (the page
 * keeps no copy). Nothing the worker returns carries the key. A refusal (wrong passphrase, no
 * header, bad key file) is shown right here (`data-testid="crypt-error"`), not only in the status bar.
 */
import { useState } from 'react';
import type { OverlaySecret, OverlaySpec } from '../../../workers/api.ts';
import { describeError } from '../format.ts';
import { transferring } from '../lab/lab-client.ts';
import { useLab } from '../lab/lab-context.tsx';

type KeySource = 'new-passphrase' | 'passphrase' | 'key-file';

export function CryptForm({ stackId, readOnly }: { stackId: string; readOnly: boolean }) {
  const lab = useLab();
  const [source, setSource] = useState<KeySource>('new-passphrase');
  const [passphrase, setPassphrase] = useState('');
  const [keyFile, setKeyFile] = useState<File | undefined>(undefined);
  const [ivOffset, setIvOffset] = useState('0');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      let spec: OverlaySpec;
      let secret: OverlaySecret;
      if (source === 'key-file') {
        if (!keyFile) throw new Error('choose a key file (64 raw bytes)');
        spec = { kind: 'crypt', key: 'key-file', ivOffset: ivOffset.trim() || '0' };
        secret = { keyFile: new Uint8Array(await keyFile.arrayBuffer()) };
      } else {
        if (passphrase.length === 0) throw new Error('type a passphrase');
        spec = { kind: 'crypt', key: 'passphrase', create: source === 'new-passphrase' };
        secret = { passphrase };
      }
      setPassphrase('');
      const transfers = 'keyFile' in secret ? [secret.keyFile.buffer as ArrayBuffer] : [];
      const info = await lab.client.disk.addOverlay(stackId, spec, transferring(secret, transfers));
      lab.update(info);
      lab.say({ kind: 'info', text: `Encryption layer added (${info.crypt?.cipher ?? 'aes-xts-plain64'}): the key stays in the disk worker.` });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <fieldset className="overlays crypt-form" data-testid="crypt-form">
      <legend>Add encryption (XTS-AES-256)</legend>
      <div className="row">
        <label>
          key{' '}
          <select value={source} onChange={(e) => setSource(e.target.value as KeySource)} aria-label="Encryption key">
            <option value="new-passphrase">new passphrase (format a header)</option>
            <option value="passphrase">existing passphrase (open its header)</option>
            <option value="key-file">key file (64 bytes, plain dm-crypt)</option>
          </select>
        </label>
      </div>
      {source === 'key-file' ? (
        <div className="row">
          <label>
            key file <input type="file" aria-label="Key file" onChange={(e) => setKeyFile(e.target.files?.[0])} />
          </label>
          <label>
            IV offset <input className="num" value={ivOffset} onChange={(e) => setIvOffset(e.target.value)} aria-label="IV offset" />
          </label>
        </div>
      ) : (
        <div className="row">
          <label>
            passphrase{' '}
            <input
              type="password"
              autoComplete="off"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              aria-label="Passphrase"
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !busy) void submit();
              }}
            />
          </label>
        </div>
      )}
      <div className="row">
        <button type="button" onClick={() => void submit()} disabled={busy}>
          {busy ? 'Deriving the key…' : 'Add encryption'}
        </button>
      </div>
      {source === 'new-passphrase' && (
        <p className="muted small">
          A new header takes the first 4 KiB of what is below{readOnly ? '; the stack is read-only, so a RAM diff is added to hold it' : ''}. The data there is lost to the encrypted view.
        </p>
      )}
      {error && (
        <p className="error small" role="alert" data-testid="crypt-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
