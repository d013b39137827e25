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

/**
 * Buffers lines on the hot path without compressing them (the ingest bench counts lines per second): the head
 * keeps lines until half the cap is used, then the tail keeps the newest lines within the other half.
 */
export class TranscriptBuffer {
  private readonly head: string[] = [];
  private headBytes = 0;
  private tail: string[] = [];
  private tailStart = 0;
  private tailBytes = 0;
  private lines = 0;
  private bytes = 0;
  private cutLines = 0;
  private cutBytes = 0;
  private readonly half: number;

  constructor(capBytes = DEFAULT_TRANSCRIPT_CAP_BYTES) {
    this.half = Math.max(1, Math.floor(capBytes / 2));
  }

  push(line: string): void {
    // UTF-16 length is close enough for a cap; exact bytes are counted when the record is built
    const size = line.length + 1;
    this.lines++;
    this.bytes += size;
    if (this.tail.length === 0 && this.headBytes + size <= this.half) {
      this.head.push(line);
      this.headBytes += size;
      return;
    }
    this.tail.push(line);
    this.tailBytes += size;
    while (this.tailBytes > this.half && this.tail.length - this.tailStart > 1) {
      const dropped = this.tail[this.tailStart++]!;
      this.tailBytes -= dropped.length + 1;
      this.cutLines++;
      this.cutBytes += dropped.length + 1;
    }
    // compact the array now and then instead of shifting it per line
    if (this.tailStart > 4096 && this.tailStart * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailStart);
      this.tailStart = 0;
    }
  }

  get lineCount(): number {
    return this.lines;
  }

  /** Compresses off the main thread (zlib's thread pool). */
  async finish(): Promise<TranscriptRecord> {
    const join = (lines: string[]) => (lines.length ? lines.join('\n') + '\n' : '');
    const [head, tail] = await Promise.all([deflateAsync(join(this.head)), deflateAsync(join(this.tail.slice(this.tailStart)))]);
    return { head, tail, lines: this.lines, bytes: this.bytes, cutLines: this.cutLines, cutBytes: this.cutBytes };
  }
}

/** The saved lines, in order, with a marker line where the cap cut some out. */
export async function transcriptLines(record: Pick<TranscriptRecord, 'head' | 'tail' | 'cutLines' | 'cutBytes'>): Promise<{ head: string[]; tail: string[] }> {
  const split = (buf: Buffer) => buf.toString('utf8').split('\n').filter((l) => l !== '');
  const [head, tail] = await Promise.all([inflateAsync(record.head), inflateAsync(record.tail)]);
  return { head: split(head), tail: split(tail) };
}
