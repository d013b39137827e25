// Splits a child's stdout byte stream into UTF-8 lines without a small line cap (tool results can be MBs).

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export type LineEvent =
  | { kind: 'line'; line: string }
  /** a line grew past the cap; its bytes were dropped and splitting resumes after its newline */
  | { kind: 'overflow'; bytes: number; maxLineBytes: number };

export class LineSplitter {
  // Pending chunks are kept as a list and joined once per line, so a 50 MB line costs one copy, not n².
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** true while skipping the rest of an overflowed line up to its newline */
  private discarding = false;

  constructor(readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {}

  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newlineAt = chunk.indexOf(NEWLINE, start);
      const end = newlineAt === -1 ? chunk.length : newlineAt;
      if (!this.discarding) {
        if (this.pendingBytes + (end - start) > this.maxLineBytes) {
          events.push({ kind: 'overflow', bytes: this.pendingBytes + (end - start), maxLineBytes: this.maxLineBytes });
          this.pending = [];
          this.pendingBytes = 0;
          this.discarding = true;
        } else if (end > start) {
          // subarray shares memory with the chunk; Node hands each chunk over once, so keeping a view is safe
          this.pending.push(chunk.subarray(start, end));
          this.pendingBytes += end - start;
        }
      }
      if (newlineAt === -1) break;
      if (this.discarding) {
        this.discarding = false;
      } else {
        events.push({ kind: 'line', line: this.takeLine() });
      }
      start = newlineAt + 1;
    }
    return events;
  }

  /** The last line when the stream ended without a newline, or null when there is none. */
  flush(): string | null {
    if (this.discarding) {
      this.discarding = false;
      return null;
    }
    if (this.pendingBytes === 0) return null;
    return this.takeLine();
  }

  private takeLine(): string {
    let bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, bytes.length - 1);
    // A newline byte never occurs inside a UTF-8 sequence, so decoding whole lines is exact, and a truncated
    // sequence at a line's end cannot bleed into the next line (it becomes U+FFFD).
    return bytes.toString('utf8');
  }
}
