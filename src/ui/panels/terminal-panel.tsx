/**
 * Terminal: xterm.js (sized by the fit addon) running the qemu-io-like shell of src/core/shell
 * against the active stack in the disk worker. Lines are edited locally (terminal/line-editor.ts:
 * cursor keys, history), each submitted line goes to `runShell`, and its result lines are printed,
 * 'err' lines in red. Commands run one after another in the order typed.
 *
 * Everything printed is also kept in a visually hidden log (`role="log"`, test id
 * "terminal-log"), which screen readers announce and tests read.
 */
import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { describeError } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { LineEditor } from '../terminal/line-editor.ts';

const PROMPT = 'disklab> ';
const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
const LOG_LINES = 500;

export function TerminalPanel() {
  const lab = useLab();
  const host = useRef<HTMLDivElement>(null);
  const [log, setLog] = useState<readonly { text: string; err: boolean }[]>([]);
  // The xterm instance lives across renders; these refs let its callbacks see the current lab.
  const labRef = useRef(lab);
  labRef.current = lab;
  const termRef = useRef<{ term: Terminal; editor: LineEditor } | undefined>(undefined);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const term = new Terminal({
      fontFamily: "'DejaVu Sans Mono', 'Liberation Mono', monospace",
      fontSize: 13,
      cursorBlink: true,
      convertEol: false,
      scrollback: 2000,
      theme: { background: '#0d1117', foreground: '#e6edf3', red: '#ff7b72' },
    });
    const fitAddon = new FitAddon();
    term.loadAddon(fitAddon);
    term.open(el);
    // The fit addon's proposed size applied to the terminal (as the addon's own fit method does), skipped while
    // the panel is hidden and has no size to measure.
    const sizeToPanel = () => {
      const dims = fitAddon.proposeDimensions();
      if (!dims || Number.isNaN(dims.cols) || Number.isNaN(dims.rows)) return;
      if (dims.cols !== term.cols || dims.rows !== term.rows) term.resize(dims.cols, dims.rows);
    };
    sizeToPanel();
    const editor = new LineEditor(PROMPT);
    termRef.current = { term, editor };
    const record = (text: string, err: boolean) => setLog((l) => [...l, { text, err }].slice(-LOG_LINES));
    term.writeln(`${DIM}qemu-io-like shell over the active stack. Type "help" for commands.${RESET}`);
    term.write(editor.redraw());

    let queue = Promise.resolve();
    const runLine = async (line: string) => {
      const { active, client } = labRef.current;
      record(`${PROMPT}${line}`, false);
      if (line.trim() === '') return;
      if (!active) {
        term.writeln(`${RED}no stack is open${RESET}`);
        record('no stack is open', true);
        return;
      }
      try {
        const result = await client.disk.runShell(active.id, line);
        for (const l of result.lines) {
          term.writeln(l.stream === 'err' ? `${RED}${l.text}${RESET}` : l.text);
          record(l.text, l.stream === 'err');
        }
        if (/^\s*(write|discard|truncate)\b/.test(line)) void labRef.current.refresh(active.id);
      } catch (error) {
        const text = describeError(error);
        term.writeln(`${RED}${text}${RESET}`);
        record(text, true);
      }
    };
    const sub = term.onData((data) => {
      const { submitted, output } = editor.feed(data);
      if (submitted.length === 0) {
        term.write(output);
        return;
      }
      // Echo the submitted lines now; the prompt comes back after their output.
      term.write(output.slice(0, output.lastIndexOf('\r\n') + 2));
      for (const line of submitted) {
        queue = queue.then(() => runLine(line));
      }
      queue = queue.then(() => term.write(editor.redraw()));
    });
    const observer = new ResizeObserver(sizeToPanel);
    observer.observe(el);
    return () => {
      observer.disconnect();
      sub.dispose();
      term.dispose();
      termRef.current = undefined;
    };
  }, []);

  return (
    <section className="panel terminal-panel" aria-labelledby="terminal-title" data-testid="panel-terminal">
      <div className="panel-head">
        <h2 id="terminal-title">Terminal</h2>
        <span className="small muted">{lab.active ? `on ${lab.active.name}` : 'no stack'}</span>
      </div>
      <div ref={host} className="terminal-host" data-testid="terminal" onClick={() => termRef.current?.term.focus()} />
      <div className="visually-hidden" role="log" aria-label="Terminal output" data-testid="terminal-log">
        {log.map((l, i) => (
          <div key={i} data-stream={l.err ? 'err' : 'out'}>
            {l.text}
          </div>
        ))}
      </div>
    </section>
  );
}
