import { describe, expect, it } from 'vitest';
import { tokenize } from './tokenize.ts';

const words = (line: string) => {
  const r = tokenize(line);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('tokenize', () => {
  it('splits on runs of spaces and tabs', () => {
    expect(words('read -v  512\t1k ')).toEqual(['read', '-v', '512', '1k']);
    expect(words('')).toEqual([]);
    expect(words('   ')).toEqual([]);
  });

  it('keeps single-quoted text literally and joins quotes with touching text', () => {
    expect(words("read '0' '1 k'")).toEqual(['read', '0', '1 k']);
    expect(words("a'b c'd")).toEqual(['ab cd']);
    expect(words("''")).toEqual(['']);
    expect(words("'a\\b'")).toEqual(['a\\b']);
  });

  it('understands \\" and \\\\ inside double quotes, and nothing else', () => {
    expect(words('"say \\"hi\\"" "a\\\\b" "a\\nb"')).toEqual(['say "hi"', 'a\\b', 'a\\nb']);
    expect(words('"it\'s"')).toEqual(["it's"]);
  });

  it('lets a backslash escape the next character outside quotes', () => {
    expect(words('a\\ b c')).toEqual(['a b', 'c']);
    expect(words("\\'x")).toEqual(["'x"]);
  });

  it('treats # at the start of a word as a comment', () => {
    expect(words('read 0 1 # the first byte')).toEqual(['read', '0', '1']);
    expect(words('# nothing')).toEqual([]);
    expect(words('a#b')).toEqual(['a#b']);
    expect(words("'#x'")).toEqual(['#x']);
  });

  it('reports unterminated quotes and a trailing backslash with their column', () => {
    expect(tokenize("read 'abc")).toEqual({ ok: false, error: "unterminated ' quote starting at column 6" });
    expect(tokenize('x "ab\\"')).toEqual({ ok: false, error: 'unterminated " quote starting at column 3' });
    expect(tokenize('read \\')).toEqual({ ok: false, error: 'trailing backslash at the end of the line' });
  });
});
