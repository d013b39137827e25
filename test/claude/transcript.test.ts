// The transcript buffer: under its cap it keeps every line; over it, the first and the last lines and what was cut.
import { describe, expect, it } from 'vitest';
import { TranscriptBuffer, transcriptLines } from '../../machines/claude/transcript.js';

const line = (n: number) => JSON.stringify({ type: 'assistant', n, pad: 'x'.repeat(80) });

describe('TranscriptBuffer', () => {
  it('keeps every line of a run under the cap, compressed', async () => {
    const buffer = new TranscriptBuffer(1024 * 1024);
    for (let n = 0; n < 100; n++) buffer.push(line(n));
    const record = await buffer.finish();
    expect(record).toMatchObject({ lines: 100, cutLines: 0, cutBytes: 0 });
    expect(record.head.length + record.tail.length).toBeLessThan(record.bytes / 4);
    const { head, tail } = await transcriptLines(record);
    expect([...head, ...tail]).toEqual(Array.from({ length: 100 }, (_, n) => line(n)));
  });

  it('over the cap keeps the start and the end, and counts what it cut between them', async () => {
    const cap = 20_000;
    const buffer = new TranscriptBuffer(cap);
    const total = 2_000;
    for (let n = 0; n < total; n++) buffer.push(line(n));
    const record = await buffer.finish();
    const { head, tail } = await transcriptLines(record);
    expect(head[0]).toBe(line(0));
    expect(tail.at(-1)).toBe(line(total - 1));
    // the kept lines plus the cut ones are all of them, in order, with nothing twice
    expect(head.length + tail.length + record.cutLines).toBe(total);
    expect(tail[0]).toBe(line(head.length + record.cutLines));
    const size = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i).length + 1).reduce((a, b) => a + b, 0);
    expect(record.cutBytes).toBe(size(head.length, head.length + record.cutLines));
    expect([...head, ...tail].join('\n').length).toBeLessThanOrEqual(cap);
    expect(record).toMatchObject({ lines: total, bytes: size(0, total) });
  });

  it('keeps a single line longer than half the cap rather than nothing', async () => {
    const buffer = new TranscriptBuffer(100);
    buffer.push('y'.repeat(500));
    const { head, tail } = await transcriptLines(await buffer.finish());
    expect([...head, ...tail]).toEqual(['y'.repeat(500)]);
  });

  it('keeps text that is not ASCII as printed, and counts its bytes as UTF-8', async () => {
    const buffer = new TranscriptBuffer(4096);
    const lines = Array.from({ length: 200 }, (_, n) => JSON.stringify({ type: 'assistant', n, text: '✓ déjà vu 🚀 — 審査' }));
    for (const l of lines) buffer.push(l);
    const record = await buffer.finish();
    const { head, tail } = await transcriptLines(record);
    expect(record.bytes).toBe(lines.reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0));
    expect([...head, ...tail]).toEqual([...lines.slice(0, head.length), ...lines.slice(lines.length - tail.length)]);
    expect(head.length + tail.length + record.cutLines).toBe(lines.length);
  });
});
