/**
 * Splits one shell command line into words.
 *
 * Rules (a small subset of POSIX sh, enough for typing commands into a terminal):
 * - words are separated by spaces and tabs;
 * - 'single quotes' keep everything literally;
 * - "double quotes" keep everything except `\"` and `\\`, which stand for `"` and `\`;
 * - outside quotes, a backslash makes the next character literal;
 * - a `#` at the start of a word starts a comment that runs to the end of the line.
 * Quotes join with what touches them: `a'b c'd` is the one word `ab cd`. qemu-io itself splits
 * on whitespace only; anything that tokenizes there tokenizes the same here.
 *
 * Errors: an unterminated quote or a trailing backslash is reported as a result, never thrown.
 */
import type { Parsed } from './qemu-format.ts';

export function tokenize(line: string): Parsed<string[]> {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return { ok: false, error: `unterminated ' quote starting at column ${i + 1}` };
      word += line.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= line.length) return { ok: false, error: `unterminated " quote starting at column ${start + 1}` };
        const d = line[i]!;
        if (d === '"') break;
        if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return { ok: false, error: 'trailing backslash at the end of the line' };
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { ok: true, value: words };
}
