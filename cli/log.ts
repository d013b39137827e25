// The terminal log of `serve` and `demo`: one readable line per runner event, and a progress line under it on a TTY.
import type { RunnerEvent } from '../machines/runner.js';

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
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** One readable line per event (null: not worth a line), for a terminal log. */
export function formatEvent(event: RunnerEvent): string | null {
  const at = clock(event.ts);
  switch (event.type) {
    case 'batch:start':
      return `${at}  batch started (${event.payload.maxCycles} cycle${event.payload.maxCycles === 1 ? '' : 's'})`;
    case 'batch:end':
      return `${at}  batch ${event.payload.status}: ${event.payload.message} (${event.payload.cyclesCompleted} cycles)`;
    case 'cycle:start':
      return `${at}  cycle ${event.payload.cycle}: ${event.payload.stories.map((s) => s.shortId).join(' + ')} from ${event.payload.entryStep}`;
    case 'cycle:end':
      return `${at}  cycle ${event.payload.cycle} ${event.payload.counted ? 'done' : `not counted: ${event.payload.failure?.command} failed`}`;
    case 'command:start': {
      const p = event.payload;
      const tags = [p.model ?? 'default model', p.background ? 'background' : null, p.attempt > 1 ? `attempt ${p.attempt}` : null].filter(Boolean);
      return `${at}  > ${p.command} ${p.stories.map((s) => s.shortId).join(',')} (${tags.join(', ')})`;
    }
    case 'command:progress': {
      const p = event.payload;
      if (p.kind === 'task') return `${at}      ${p.task.story} ${p.task.taskId} ${p.task.status}${p.task.message ? `: ${p.task.message}` : ''}`;
      if (p.kind === 'warning') return `${at}      warning: ${p.message}`;
      if (p.kind === 'rate-limit') return `${at}      usage limit: ${p.info.status}`;
      return null;
    }
    case 'command:end': {
      const p = event.payload;
      const result = p.outcome.result;
      const cost = result ? ` $${result.costUsd.toFixed(4)}` : '';
      const took = result ? ` ${seconds(result.durationMs)}` : '';
      const mark = p.status === 'ok' ? 'ok' : p.status === 'interrupted' ? 'interrupted' : `FAILED: ${p.outcome.message}`;
      return `${at}  < ${p.command} ${p.stories.join(',')} ${mark}${took}${cost}`;
    }
    case 'story:status':
      return `${at}  story ${event.payload.story.key} -> ${event.payload.status}${event.payload.reason ? ` (${event.payload.reason})` : ''}`;
    case 'review:verdict': {
      const p = event.payload;
      if (p.kind !== 'code-review') return `${at}      ${p.command}: ${p.critical ? 'critical issues' : 'no critical issues'} (${p.source})`;
      return `${at}      ${p.command} ${p.story.shortId}: ${p.zeroIssues ? 'zero issues' : (p.highest ?? 'no verdict')}, ${p.issues.length} issue(s) (${p.source})`;
    }
    case 'review:decision':
      return `${at}  ${event.payload.story.shortId} ${event.payload.message}`;
    case 'warning':
      return `${at}  warning: ${event.payload.message}`;
    case 'error':
      return `${at}  ERROR: ${event.payload.message}`;
    case 'state':
      return `${at}  [${event.payload.status}]`;
    case 'machine':
      return null;
    case 'usage-limit':
      return `${at}  usage limit reached (${event.payload.command}): waiting until ${clock(event.payload.until)}`;
    case 'usage-limit-end':
      return `${at}  usage limit reset: going on`;
  }
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
