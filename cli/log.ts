// The terminal log of `serve` and `demo`: one readable line per runner event, and a progress line under it on a TTY.
import { eventText } from '../machines/event-text.js';
import type { RunnerEvent } from '../machines/runner-api.js';

// a flood of events shares a second: each second is formatted once
let clockSecond = NaN;
let clockText = '';
const clock = (ts: number): string => {
  const second = Math.floor(ts / 1000);
  if (second !== clockSecond) {
    clockSecond = second;
    clockText = new Date(ts).toTimeString().slice(0, 8);
  }
  return clockText;
};
/** One readable line per event (null: a detail not worth a terminal line): the dashboard log's text, timed. */
export function formatEvent(event: RunnerEvent): string | null {
  const { text, detail } = eventText(event);
  return detail ? null : `${clock(event.ts)}  ${text}`;
}

/** Tracks what is running, for the single progress line under the log. */
class ProgressLine {
  private cycle = '';
  private readonly running = new Map<string, { command: string; stories: string; phase: string }>();

  update(event: RunnerEvent): void {
    if (event.type === 'cycle:start') this.cycle = `cycle ${event.payload.cycle}`;
    if (event.type === 'command:start') {
      this.running.set(event.payload.runId, { command: event.payload.command, stories: event.payload.stories.map((s) => s.shortId).join(','), phase: '' });
    }
    if (event.type === 'command:progress' && event.payload.kind === 'task') {
      const entry = this.running.get(event.payload.runId);
      if (entry) entry.phase = `${event.payload.task.taskId} ${event.payload.task.status}`;
    }
    if (event.type === 'command:end') this.running.delete(event.payload.runId);
  }

  render(): string {
    const commands = [...this.running.values()].map((r) => `${r.command} ${r.stories}${r.phase ? ` [${r.phase}]` : ''}`);
    return `${this.cycle || 'starting'} | ${commands.join(' | ') || 'between steps'}`;
  }
}

/**
 * The terminal log is for the operator only: a closed pipe (`serve | head -3`: EPIPE), a terminal that went
 * away (EIO) or a full disk behind a redirect must never affect the run. Errors of our own output are
 * swallowed, and once a stream has failed nothing more is written to it.
 */
export function guardTerminalOutput(streams: NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) stream.on('error', () => undefined);
}

/** Writes to stdout while it can still take output; never throws. */
export function say(text: string): void {
  if (!process.stdout.writable) return;
  try {
    process.stdout.write(text);
  } catch {
    // a synchronous write error of a file or tty stdout: the log is lost, the run goes on
  }
}

/** Prints each event as a log line, with a progress line under it on a terminal. */
export function terminalLog(): (event: RunnerEvent) => void {
  const progress = new ProgressLine();
  const tty = process.stdout.isTTY;
  // the events of one commit come in one synchronous burst: one write for all of them
  let buffered = '';
  const write = (text: string) => {
    if (buffered === '') {
      process.nextTick(() => {
        const out = buffered;
        buffered = '';
        say(out);
      });
    }
    buffered += text;
  };
  return (event) => {
    progress.update(event);
    const line = formatEvent(event);
    if (tty) write('\r\x1b[2K');
    if (line) write(`${line}\n`);
    if (tty) write(progress.render().slice(0, (process.stdout.columns ?? 120) - 1));
  };
}
