#!/usr/bin/env node
// The `sprint-runner` command: `serve` runs the dashboard on a BMAD project; `demo` does so on a copy of the bundled demo.
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RunnerEvent } from './machines/runner.js';
import { capYoungGeneration } from './server/heap.js';
import { serve, type ServeOptions } from './server/main.js';
import type { PermissionMode } from './machines/actors/claude-command.js';

/** The folder holding package.json, from `cli.ts` (tests) and from `dist/cli.js` alike. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sprint-runner') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the sprint-runner package root');
    dir = parent;
  }
}

export const SIMULATED_CLAUDE = () => path.join(packageRoot(), 'fixtures', 'sim-claude', 'claude.mjs');

/** Copies the demo project to a fresh temporary folder: the bundled one is never written. */
export function copyDemoProject(): string {
  const target = mkdtempSync(path.join(tmpdir(), 'sprint-runner-demo-'));
  cpSync(path.join(packageRoot(), 'fixtures', 'demo-project'), target, { recursive: true });
  return target;
}

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
      if (p.kind === 'session' && (p.continuedFrom || p.note)) return `${at}      ${p.continuedFrom ? `continuing session ${p.continuedFrom}` : p.note}`;
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
    case 'warning':
      return `${at}  warning: ${event.payload.message}`;
    case 'error':
      return `${at}  ERROR: ${event.payload.message}`;
    case 'state':
      return `${at}  [${event.payload.status}${event.payload.reason ? `: ${event.payload.reason}` : ''}]`;
    case 'budget':
      return null;
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
        process.stdout.write(out);
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

async function serveUntilSignal(options: ServeOptions): Promise<number> {
  capYoungGeneration();
  const serving = await serve({ ...options, onEvent: terminalLog() });
  if (serving.recovery.interruptedBatch !== null) {
    process.stdout.write(
      `batch ${serving.recovery.interruptedBatch} was interrupted by a crash; ended ${serving.recovery.killed.length} leftover process(es). Resume it from the dashboard.\n`,
    );
  }
  process.stdout.write(`sprint-runner is serving ${serving.layout.root}\n  dashboard: ${serving.url}\n  database:  ${serving.dbFile}\n`);
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.write('\nstopping: ending every child process tree, recording the batch as stopped...\n');
      void serving.close().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}

const USAGE = `usage:
  sprint-runner serve [--project DIR] [--port 8080] [--host 127.0.0.1] [--db FILE] [--claude BIN] [--permission-mode MODE] [--no-continue]
        serve the dashboard for a BMAD project; batches are started, paused, stopped and resumed there
        (--no-continue: an interrupted step starts afresh instead of continuing its CLI session)
  sprint-runner demo [--port 8080] [--pace MS]
        the same on a copy of the bundled demo project, with the simulated Claude CLI
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      project: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      claude: { type: 'string' },
      'permission-mode': { type: 'string' },
      'no-continue': { type: 'boolean' },
      pace: { type: 'string' },
    },
  });
  const port = values.port !== undefined ? Number(values.port) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--port must be a port number (got ${values.port})`);
  const common = {
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values.db ? { dbFile: values.db } : {}),
    ...(values['no-continue'] ? { continueSessions: false } : {}),
    staticDir: path.join(packageRoot(), 'web', 'dist'),
  };
  if (command === 'demo') {
    const projectRoot = copyDemoProject();
    process.stdout.write(`demo project copied to ${projectRoot}\n`);
    return serveUntilSignal({
      ...common,
      projectRoot,
      claudeBin: SIMULATED_CLAUDE(),
      // the simulated CLI prints at a pace a human can follow
      env: { SPRINT_SIM_PACE_MS: values.pace ?? '120', IS_SANDBOX: '1' },
    });
  }
  if (command === 'serve') {
    return serveUntilSignal({
      ...common,
      projectRoot: values.project ?? process.cwd(),
      ...(values.claude ? { claudeBin: values.claude } : {}),
      ...(values['permission-mode'] ? { permissionMode: values['permission-mode'] as PermissionMode } : {}),
    });
  }
  process.stderr.write(USAGE);
  return command === undefined || command === '--help' ? 0 : 2;
}

// argv[1] may be the npm bin symlink, so compare real paths
const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(path.resolve(process.argv[1]));
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`sprint-runner: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
