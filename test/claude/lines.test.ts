// Checks the stdout line splitter: chunk boundaries, CRLF, huge lines, overflow recovery, invalid UTF-8.
import { describe, expect, it } from 'vitest';
import { LineSplitter, type LineEvent } from '../../machines/claude/lines.js';

function feed(splitter: LineSplitter, chunks: Buffer[]): { events: LineEvent[]; tail: string | null } {
  const events = chunks.flatMap((chunk) => splitter.push(chunk));
  return { events, tail: splitter.flush() };
}

const linesOf = (events: LineEvent[]): string[] => events.flatMap((e) => (e.kind === 'line' ? [e.line] : []));

describe('LineSplitter', () => {
  const multiByte = ['é', '✓', '🎉', '中文'];
  for (const char of multiByte) {
    const text = `a${char}b\n`;
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      it(`keeps "${char}" intact when a chunk ends at byte ${cut}`, () => {
        const { events, tail } = feed(new LineSplitter(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
        expect(linesOf(events)).toEqual([`a${char}b`]);
        expect(tail).toBeNull();
      });
    }
  }

  it('survives one byte per chunk', () => {
    const bytes = Buffer.from('héllo ✓\nwörld 🎉\n');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(linesOf(feed(new LineSplitter(), chunks).events)).toEqual(['héllo ✓', 'wörld 🎉']);
  });

  const table: Array<{ name: string; chunks: string[]; lines: string[]; tail: string | null }> = [
    { name: 'several lines in one chunk', chunks: ['a\nb\nc\n'], lines: ['a', 'b', 'c'], tail: null },
    { name: 'CRLF endings', chunks: ['a\r\nb\r\n'], lines: ['a', 'b'], tail: null },
    { name: 'CR and LF in different chunks', chunks: ['a\r', '\nb\r', '\n'], lines: ['a', 'b'], tail: null },
    { name: 'a lone CR inside a line stays', chunks: ['a\rb\n'], lines: ['a\rb'], tail: null },
    { name: 'empty lines are reported', chunks: ['\n\na\n'], lines: ['', '', 'a'], tail: null },
    { name: 'unterminated last line comes from flush', chunks: ['a\nb'], lines: ['a'], tail: 'b' },
    { name: 'unterminated CRLF-less tail keeps its CR stripped', chunks: ['a\r'], lines: [], tail: 'a' },
    { name: 'line assembled from many chunks', chunks: ['{"ty', 'pe":', '"x"}', '\n'], lines: ['{"type":"x"}'], tail: null },
    { name: 'nothing at all', chunks: [], lines: [], tail: null },
  ];
  for (const row of table) {
    it(row.name, () => {
      const { events, tail } = feed(new LineSplitter(), row.chunks.map((c) => Buffer.from(c)));
      expect(linesOf(events)).toEqual(row.lines);
      expect(tail).toBe(row.tail);
    });
  }

  it('turns invalid UTF-8 into U+FFFD without throwing', () => {
    const bytes = Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a, 0xe2, 0x9c, 0x0a, 0xc3]);
    const { events, tail } = feed(new LineSplitter(), [bytes]);
    expect(linesOf(events)).toEqual(['a\uFFFD\uFFFDb', '\uFFFD']);
    expect(tail).toBe('\uFFFD');
  });

  it('a truncated sequence at a line end does not swallow the next line', () => {
    const { events } = feed(new LineSplitter(), [Buffer.from([0xe2, 0x0a]), Buffer.from('ok\n')]);
    expect(linesOf(events)).toEqual(['\uFFFD', 'ok']);
  });

  it('assembles a 10 MB line from 4 KB chunks', () => {
    const line = `{"type":"user","content":"${'z'.repeat(10 * 1024 * 1024)}"}`;
    const bytes = Buffer.from(`${line}\nnext\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
    const events = feed(new LineSplitter(), chunks).events;
    const lines = linesOf(events);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.length).toBe(line.length);
    expect(lines[0] === line).toBe(true);
    expect(lines[1]).toBe('next');
  });

  it('reports a line past the cap once and recovers at the next newline', () => {
    const splitter = new LineSplitter(10);
    const events = [
      ...splitter.push(Buffer.from('short\n0123456')),
      ...splitter.push(Buffer.from('789abcdef')),
      ...splitter.push(Buffer.from('ghij')),
      ...splitter.push(Buffer.from('klm\nafter\n')),
    ];
    expect(events.map((e) => e.kind)).toEqual(['line', 'overflow', 'line']);
    expect(linesOf(events)).toEqual(['short', 'after']);
    const overflow = events[1];
    expect(overflow).toMatchObject({ kind: 'overflow', maxLineBytes: 10 });
    expect(splitter.flush()).toBeNull();
  });

  it('a line of exactly the cap is kept; one byte more overflows', () => {
    expect(linesOf(new LineSplitter(5).push(Buffer.from('12345\n')))).toEqual(['12345']);
    expect(new LineSplitter(5).push(Buffer.from('123456\nok\n')).map((e) => e.kind)).toEqual(['overflow', 'line']);
  });

  it('an overflowing unterminated tail is not returned by flush', () => {
    const splitter = new LineSplitter(4);
    expect(splitter.push(Buffer.from('abcdefgh')).map((e) => e.kind)).toEqual(['overflow']);
    expect(splitter.flush()).toBeNull();
  });
});
