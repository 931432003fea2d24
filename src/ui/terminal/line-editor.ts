/**
 * Line editing for the lab's terminal, independent of xterm: feed it what the terminal reports as
 * typed (`onData` strings: characters, pastes, and the VT escape sequences of the editing keys) and
 * it returns the lines the user submitted plus the escape sequences that redraw the input line.
 *
 * Keys: printable text inserts at the cursor; Backspace and Delete; Left/Right, Home/End (also
 * Ctrl-A/Ctrl-E); Up/Down walk the history (the line being typed is kept and comes back at the
 * bottom); Enter submits (a non-empty line different from the previous one enters the history);
 * Ctrl-C abandons the line; Ctrl-U clears it. A pasted block with newlines submits each line.
 * Unknown escape sequences are ignored rather than inserted.
 */

export interface EditResult {
  /** Lines submitted, in order. */
  readonly submitted: string[];
  /** What to write to the terminal to show the editing (redraws of the prompt line, newlines). */
  readonly output: string;
}

const KEYS: Record<string, string> = {
  '\x1b[A': 'up',
  '\x1b[B': 'down',
  '\x1b[C': 'right',
  '\x1b[D': 'left',
  '\x1b[H': 'home',
  '\x1bOH': 'home',
  '\x1b[1~': 'home',
  '\x1b[F': 'end',
  '\x1bOF': 'end',
  '\x1b[4~': 'end',
  '\x1b[3~': 'delete',
};

/** What follows ESC in a CSI ("[" params final) or SS3 ("O" letter) sequence. */
const ESCAPE_SEQUENCE = /^(\[[0-9;]*[A-Za-z~]|O[A-Za-z])/;

export class LineEditor {
  readonly prompt: string;
  readonly #maxHistory: number;
  #line = '';
  #cursor = 0;
  readonly #history: string[] = [];
  /** Position in history while walking it; history.length means "the line being typed". */
  #at = 0;
  #draft = '';

  constructor(prompt: string, maxHistory = 200) {
    this.prompt = prompt;
    this.#maxHistory = maxHistory;
  }

  get line(): string {
    return this.#line;
  }
  get cursor(): number {
    return this.#cursor;
  }
  get history(): readonly string[] {
    return this.#history;
  }

  /** The prompt and the current line, for after output has been printed. */
  redraw(): string {
    const back = this.#line.length - this.#cursor;
    return `\r\x1b[2K${this.prompt}${this.#line}${back > 0 ? `\x1b[${back}D` : ''}`;
  }

  feed(data: string): EditResult {
    const submitted: string[] = [];
    let output = '';
    let i = 0;
    while (i < data.length) {
      const ch = data[i]!;
      if (ch === '\x1b') {
        const seq = ESCAPE_SEQUENCE.exec(data.slice(i + 1));
        const len = seq ? seq[0].length + 1 : 1;
        const key = seq ? KEYS[`\x1b${seq[0]}`] : undefined;
        if (key) this.#key(key);
        i += len;
      } else if (ch === '\r' || ch === '\n') {
        // Windows-style "\r\n" in a paste is one line end.
        if (ch === '\r' && data[i + 1] === '\n') i++;
        submitted.push(this.#submit());
        output += `${this.#echo()}\r\n`;
        this.#line = '';
        this.#cursor = 0;
        i++;
        continue;
      } else if (ch === '\x7f' || ch === '\b') {
        if (this.#cursor > 0) {
          this.#line = this.#line.slice(0, this.#cursor - 1) + this.#line.slice(this.#cursor);
          this.#cursor--;
        }
        i++;
      } else if (ch === '\x03') {
        output += `${this.redraw()}^C\r\n`;
        this.#line = '';
        this.#cursor = 0;
        this.#at = this.#history.length;
        i++;
      } else if (ch === '\x15') {
        this.#line = '';
        this.#cursor = 0;
        i++;
      } else if (ch === '\x01') {
        this.#cursor = 0;
        i++;
      } else if (ch === '\x05') {
        this.#cursor = this.#line.length;
        i++;
      } else if (ch >= ' ') {
        let j = i;
        while (j < data.length && data[j]! >= ' ' && data[j] !== '\x7f') j++;
        const text = data.slice(i, j);
        this.#line = this.#line.slice(0, this.#cursor) + text + this.#line.slice(this.#cursor);
        this.#cursor += text.length;
        i = j;
      } else {
        i++; // other control characters: ignored
      }
    }
    return { submitted, output: output + this.redraw() };
  }

  /** The finished line as it stays on screen, cursor at its end. */
  #echo(): string {
    return `\r\x1b[2K${this.prompt}${this.#line}`;
  }

  #submit(): string {
    const line = this.#line;
    if (line.trim() !== '' && this.#history[this.#history.length - 1] !== line) {
      this.#history.push(line);
      if (this.#history.length > this.#maxHistory) this.#history.shift();
    }
    this.#at = this.#history.length;
    this.#draft = '';
    return line;
  }

  #key(key: string): void {
    switch (key) {
      case 'left':
        this.#cursor = Math.max(0, this.#cursor - 1);
        break;
      case 'right':
        this.#cursor = Math.min(this.#line.length, this.#cursor + 1);
        break;
      case 'home':
        this.#cursor = 0;
        break;
      case 'end':
        this.#cursor = this.#line.length;
        break;
      case 'delete':
        this.#line = this.#line.slice(0, this.#cursor) + this.#line.slice(this.#cursor + 1);
        break;
      case 'up':
        if (this.#at === 0) return;
        if (this.#at === this.#history.length) this.#draft = this.#line;
        this.#at--;
        this.#setLine(this.#history[this.#at]!);
        break;
      case 'down':
        if (this.#at >= this.#history.length) return;
        this.#at++;
        this.#setLine(this.#at === this.#history.length ? this.#draft : this.#history[this.#at]!);
        break;
    }
  }

  #setLine(line: string): void {
    this.#line = line;
    this.#cursor = line.length;
  }
}
