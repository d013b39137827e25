// Splits a shell command line into words and simple commands as a POSIX shell's lexer does, expanding nothing.
export type ShellToken =
  /** `quoted` is true when any part of the word was quoted or escaped */
  | { kind: 'word'; value: string; quoted: boolean }
  /** control operators (`&&`, `;`, newline, ...) and redirections (`>`, `2>&1`'s `2>&`, `<<`, ...) */
  | { kind: 'op'; value: string };

/** Longest first, so `<<-` wins over `<<` and `&&` over `&`. */
const OPERATORS = ['&>>', '<<-', '<<<', '&&', '||', ';;', '|&', '>>', '<<', '<&', '>&', '<>', '>|', '&>', '&', '|', ';', '<', '>', '(', ')'];
const SEPARATORS = new Set(['&&', '||', ';;', '|&', '&', '|', ';', '\n', '(', ')']);

/**
 * Simple commands of a shell line as word lists: split at control operators, redirections and their
 * targets removed, heredoc bodies skipped. Null when the line does not tokenize (unterminated quote).
 */
export function splitCommands(input: string): string[][] | null {
  const commands = splitCommandTokens(input);
  return commands === null ? null : commands.map((words) => words.map((w) => w.value));
}

/** splitCommands with each word's `quoted` flag kept (a quoted `if` is a plain word, not a reserved word). */
export function splitCommandTokens(input: string): Array<Array<{ value: string; quoted: boolean }>> | null {
  const tokens = shellTokens(input);
  if (tokens === null) return null;
  const commands: Array<Array<{ value: string; quoted: boolean }>> = [];
  let current: Array<{ value: string; quoted: boolean }> = [];
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.kind === 'word') {
      current.push({ value: token.value, quoted: token.quoted });
    } else if (SEPARATORS.has(token.value)) {
      if (current.length > 0) commands.push(current);
      current = [];
    } else if (tokens[t + 1]?.kind === 'word') {
      t++; // a redirection's target is not an argument
    }
  }
  if (current.length > 0) commands.push(current);
  return commands;
}

/**
 * POSIX shell words of a line, flattened: control operators and redirections come out as their own
 * elements (`a && b` gives `['a', '&&', 'b']`). Null when a quote is not closed.
 */
export function shellSplit(input: string): string[] | null {
  const tokens = shellTokens(input);
  return tokens === null ? null : tokens.map((t) => t.value);
}

/** Tokenizes like a POSIX shell's lexer, without expanding anything: `$x`, `$(..)` and backticks stay literal. */
export function shellTokens(input: string): ShellToken[] | null {
  const tokens: ShellToken[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  const pendingHeredocs: Array<{ delimiter: string; stripTabs: boolean }> = [];
  let heredocDelimiterNext: { stripTabs: boolean } | null = null;

  const endWord = (): void => {
    if (!inWord) return;
    tokens.push({ kind: 'word', value: word, quoted });
    if (heredocDelimiterNext) {
      pendingHeredocs.push({ delimiter: word, stripTabs: heredocDelimiterNext.stripTabs });
      heredocDelimiterNext = null;
    }
    word = '';
    inWord = false;
    quoted = false;
  };

  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '\n') {
      endWord();
      tokens.push({ kind: 'op', value: '\n' });
      i++;
      // heredoc bodies start on the line after their operator and are data, not commands
      while (pendingHeredocs.length > 0) {
        const heredoc = pendingHeredocs.shift()!;
        i = skipHeredocBody(input, i, heredoc.delimiter, heredoc.stripTabs);
      }
    } else if (c === '#' && !inWord) {
      while (i < input.length && input[i] !== '\n') i++;
    } else if (c === '\\') {
      const next = input[i + 1];
      if (next === '\n') {
        i += 2; // line continuation
      } else if (next === undefined) {
        word += '\\';
        inWord = true;
        i++;
      } else {
        word += next;
        inWord = true;
        quoted = true;
        i += 2;
      }
    } else if (c === "'") {
      const close = input.indexOf("'", i + 1);
      if (close === -1) return null;
      word += input.slice(i + 1, close);
      inWord = true;
      quoted = true;
      i = close + 1;
    } else if (c === '"') {
      const scanned = scanDoubleQuoted(input, i + 1);
      if (scanned === null) return null;
      word += scanned.text;
      inWord = true;
      quoted = true;
      i = scanned.end;
    } else if (c === '$' && input[i + 1] === "'") {
      const scanned = scanAnsiC(input, i + 2);
      if (scanned === null) return null;
      word += scanned.text;
      inWord = true;
      quoted = true;
      i = scanned.end;
    } else if (c === '$' && (input[i + 1] === '(' || input[i + 1] === '{')) {
      const end = scanBalanced(input, i + 1);
      if (end === -1) return null;
      word += input.slice(i, end);
      inWord = true;
      i = end;
    } else if (c === '`') {
      const end = scanBackticks(input, i + 1);
      if (end === -1) return null;
      word += input.slice(i, end);
      inWord = true;
      i = end;
    } else if ('&|;<>()'.includes(c)) {
      const op = OPERATORS.find((candidate) => input.startsWith(candidate, i))!;
      const isRedirection = op.includes('<') || op.includes('>');
      if (isRedirection && inWord && !quoted && /^[0-9]+$/.test(word)) {
        // `2>` : the digits are the redirected descriptor, not an argument
        tokens.push({ kind: 'op', value: word + op });
        word = '';
        inWord = false;
      } else {
        endWord();
        tokens.push({ kind: 'op', value: op });
      }
      if (op === '<<' || op === '<<-') heredocDelimiterNext = { stripTabs: op === '<<-' };
      i += op.length;
    } else {
      // a run of plain characters in one slice: appending them one at a time allocates a string per character
      const end = runEnd(PLAIN_RUN, input, i);
      word += input.slice(i, end);
      inWord = true;
      i = end;
    }
  }
  endWord();
  return tokens;
}

/** Characters with no meaning to the lexer outside quotes (`$` and `#` are handled one at a time). */
const PLAIN_RUN = /[^ \t\n#\\'"$`&|;<>()]+/y;
/** ... and inside double quotes. */
const PLAIN_QUOTED_RUN = /[^"\\$`]+/y;

/** Where a run of plain characters starting at `start` ends; at least one character is taken. */
function runEnd(run: RegExp, input: string, start: number): number {
  run.lastIndex = start;
  return run.test(input) ? run.lastIndex : start + 1;
}

/** Index just past a heredoc body that starts at `start` (end of input when the delimiter never comes). */
function skipHeredocBody(input: string, start: number, delimiter: string, stripTabs: boolean): number {
  let lineStart = start;
  while (lineStart < input.length) {
    const newline = input.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? input.length : newline;
    let line = input.slice(lineStart, lineEnd);
    if (stripTabs) line = line.replace(/^\t+/, '');
    lineStart = lineEnd + 1;
    if (line === delimiter) return Math.min(lineStart, input.length);
  }
  return input.length;
}

/** Inside double quotes a backslash only escapes `$`, backtick, `"`, `\` and newline; others stay literal. */
function scanDoubleQuoted(input: string, start: number): { text: string; end: number } | null {
  let text = '';
  let i = start;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '"') return { text, end: i + 1 };
    if (c === '\\') {
      const next = input[i + 1];
      if (next === undefined) return null;
      if (next === '\n') {
        i += 2;
      } else if (next === '$' || next === '`' || next === '"' || next === '\\') {
        text += next;
        i += 2;
      } else {
        text += '\\';
        i++;
      }
    } else if (c === '$' && (input[i + 1] === '(' || input[i + 1] === '{')) {
      const end = scanBalanced(input, i + 1);
      if (end === -1) return null;
      text += input.slice(i, end);
      i = end;
    } else if (c === '`') {
      const end = scanBackticks(input, i + 1);
      if (end === -1) return null;
      text += input.slice(i, end);
      i = end;
    } else {
      const end = runEnd(PLAIN_QUOTED_RUN, input, i);
      text += input.slice(i, end);
      i = end;
    }
  }
  return null;
}

const ANSI_C_ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v',
  '\\': '\\', "'": "'", '"': '"', '?': '?',
};

/** `$'..'`: the common escapes are decoded; numeric ones (`\x41`, `\101`) are kept as written. */
function scanAnsiC(input: string, start: number): { text: string; end: number } | null {
  let text = '';
  let i = start;
  while (i < input.length) {
    const c = input[i]!;
    if (c === "'") return { text, end: i + 1 };
    if (c === '\\' && i + 1 < input.length) {
      const next = input[i + 1]!;
      const decoded = ANSI_C_ESCAPES[next];
      text += decoded ?? `\\${next}`;
      i += 2;
    } else {
      text += c;
      i++;
    }
  }
  return null;
}

/**
 * End index (exclusive) of a `(..)` or `{..}` group opening at `open`, honouring quotes inside it, so a
 * `"` within `"$(cmd "x")"` does not end the outer string. -1 when unbalanced.
 */
function scanBalanced(input: string, open: number): number {
  const closers: string[] = [];
  let i = open;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '(') closers.push(')');
    else if (c === '{') closers.push('}');
    else if (c === ')' || c === '}') {
      if (closers[closers.length - 1] === c) closers.pop();
      if (closers.length === 0) return i + 1;
    } else if (c === '\\') {
      i++;
    } else if (c === "'") {
      const close = input.indexOf("'", i + 1);
      if (close === -1) return -1;
      i = close;
    } else if (c === '"') {
      const scanned = scanDoubleQuoted(input, i + 1);
      if (scanned === null) return -1;
      i = scanned.end - 1;
    } else if (c === '`') {
      const end = scanBackticks(input, i + 1);
      if (end === -1) return -1;
      i = end - 1;
    }
    i++;
  }
  return -1;
}

function scanBackticks(input: string, start: number): number {
  let i = start;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '\\') i += 2;
    else if (c === '`') return i + 1;
    else i++;
  }
  return -1;
}
