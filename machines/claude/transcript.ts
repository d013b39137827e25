// A command's stream-json as printed, kept within a cap (its start and its end), compressed once when it ends.
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

/** Half for the first lines, half for the last: a run's setup and its outcome are what a reader needs most. */
export const DEFAULT_TRANSCRIPT_CAP_BYTES = 8 * 1024 * 1024;

/** What is saved per command: deflated JSONL of the first and last lines, and what was cut between them. */
export interface TranscriptRecord {
  head: Buffer;
  tail: Buffer;
  lines: number;
  bytes: number;
  cutLines: number;
  cutBytes: number;
}

/** Where finished transcripts go (the store), by the command's run id and attempt; the record is still being compressed. */
export interface TranscriptSink {
  save(key: { runId: string; attempt: number }, record: Promise<TranscriptRecord>): void;
}

/** Lines written as UTF-8 into one fixed block of memory outside the JS heap, each followed by a newline. */
class Block {
  used = 0;
  lines = 0;
  constructor(readonly buf: Buffer) {}

  /** Writes the line if it fits whole; false (and nothing written) if not. */
  tryWrite(line: string, bytes: number): boolean {
    if (this.used + bytes + 1 > this.buf.length) return false;
    this.buf.write(line, this.used, 'utf8');
    this.buf[this.used + bytes] = 0x0a;
    this.used += bytes + 1;
    this.lines++;
    return true;
  }

  reset(): this {
    this.used = 0;
    this.lines = 0;
    return this;
  }
}

/**
 * Buffers lines on the hot path without compressing them (the ingest bench counts lines per second): the head
 * keeps lines until half the cap is used, then the tail keeps the newest lines within the other half.
 *
 * Lines are copied into fixed blocks outside the JS heap, and the tail reuses the block it drops: a line string
 * kept in an array survives into V8's old generation and, once cut from the tail, is garbage the old generation
 * grows for (a 100,000-line command cost `serve` 33 MB of RSS that way, `npm run bench`). A block of the tail is
 * dropped whole, so the tail holds between half the cap less one block and half the cap.
 */
export class TranscriptBuffer {
  private readonly head: Block[] = [];
  private headBytes = 0;
  private tail: Block[] = [];
  private tailBytes = 0;
  private spare: Block | null = null;
  private lines = 0;
  private bytes = 0;
  private cutLines = 0;
  private cutBytes = 0;
  private readonly half: number;
  private readonly blockSize: number;

  constructor(capBytes = DEFAULT_TRANSCRIPT_CAP_BYTES) {
    this.half = Math.max(1, Math.floor(capBytes / 2));
    // small enough that the tail loses little at a drop, large enough that a block holds many lines
    this.blockSize = Math.max(256, Math.min(256 * 1024, Math.floor(this.half / 16)));
  }

  push(line: string): void {
    // the exact UTF-8 size: the cap and the cut are counted in the bytes the CLI printed
    const bytes = Buffer.byteLength(line, 'utf8');
    const size = bytes + 1;
    this.lines++;
    this.bytes += size;
    if (this.tail.length === 0 && this.headBytes + size <= this.half) {
      this.append(this.head, line, bytes);
      this.headBytes += size;
      return;
    }
    this.append(this.tail, line, bytes);
    this.tailBytes += size;
    while (this.tailBytes > this.half && this.tail.length > 1) {
      const dropped = this.tail.shift()!;
      this.tailBytes -= dropped.used;
      this.cutLines += dropped.lines;
      this.cutBytes += dropped.used;
      if (dropped.buf.length === this.blockSize) this.spare = dropped.reset();
    }
  }

  private append(blocks: Block[], line: string, bytes: number): void {
    if (blocks.at(-1)?.tryWrite(line, bytes)) return;
    const reuse = this.spare !== null && bytes + 1 <= this.blockSize ? this.spare : null;
    if (reuse) this.spare = null;
    // a line longer than a block gets a block of its own size
    const block = reuse ?? new Block(Buffer.allocUnsafeSlow(Math.max(this.blockSize, bytes + 1)));
    block.tryWrite(line, bytes);
    blocks.push(block);
  }

  get lineCount(): number {
    return this.lines;
  }

  /** Compresses off the main thread (zlib's thread pool). */
  async finish(): Promise<TranscriptRecord> {
    const join = (blocks: Block[]) => Buffer.concat(blocks.map((b) => b.buf.subarray(0, b.used)));
    const [head, tail] = await Promise.all([deflateAsync(join(this.head)), deflateAsync(join(this.tail))]);
    return { head, tail, lines: this.lines, bytes: this.bytes, cutLines: this.cutLines, cutBytes: this.cutBytes };
  }
}

/** The saved lines, in order, with a marker line where the cap cut some out. */
export async function transcriptLines(record: Pick<TranscriptRecord, 'head' | 'tail' | 'cutLines' | 'cutBytes'>): Promise<{ head: string[]; tail: string[] }> {
  const split = (buf: Buffer) => buf.toString('utf8').split('\n').filter((l) => l !== '');
  const [head, tail] = await Promise.all([inflateAsync(record.head), inflateAsync(record.tail)]);
  return { head: split(head), tail: split(tail) };
}
