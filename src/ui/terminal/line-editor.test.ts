import { describe, expect, it } from 'vitest';
import { LineEditor } from './line-editor.ts';

const UP = '\x1b[A';
const DOWN = '\x1b[B';
const LEFT = '\x1b[D';

describe('LineEditor', () => {
  it('submits typed lines and echoes them after the prompt', () => {
    const e = new LineEditor('> ');
    expect(e.feed('read 0 512').submitted).toEqual([]);
    expect(e.line).toBe('read 0 512');
    const r = e.feed('\r');
    expect(r.submitted).toEqual(['read 0 512']);
    expect(r.output).toContain('> read 0 512\r\n');
    expect(e.line).toBe('');
  });

  it('edits in the middle of the line', () => {
    const e = new LineEditor('$ ');
    e.feed(`wrte${LEFT}${LEFT}i`);
    expect(e.line).toBe('write');
    e.feed('\x1b[F\x7f\x7f');
    expect(e.line).toBe('wri');
    e.feed('\x01X\x1b[3~');
    expect(e.line).toBe('Xri');
  });

  it('walks the history and brings the draft back', () => {
    const e = new LineEditor('$ ');
    e.feed('one\rtwo\rtwo\r');
    expect(e.history).toEqual(['one', 'two']);
    e.feed('dra');
    e.feed(UP);
    expect(e.line).toBe('two');
    e.feed(UP + UP + UP);
    expect(e.line).toBe('one');
    e.feed(DOWN);
    expect(e.line).toBe('two');
    e.feed(DOWN);
    expect(e.line).toBe('dra');
    expect(e.cursor).toBe(3);
  });

  it('submits each line of a paste and ignores unknown sequences', () => {
    const e = new LineEditor('$ ');
    expect(e.feed('a\r\nb\nc').submitted).toEqual(['a', 'b']);
    e.feed('\x1b[15~');
    expect(e.line).toBe('c');
    e.feed('\x03');
    expect(e.line).toBe('');
  });

  it('redraws the cursor where it is', () => {
    const e = new LineEditor('$ ');
    const r = e.feed(`abc${LEFT}${LEFT}`);
    expect(r.output.endsWith('$ abc\x1b[2D')).toBe(true);
  });
});
