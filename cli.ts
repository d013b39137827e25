#!/usr/bin/env node
// The `sprint-runner` command: `demo` runs the bundled demo project with the simulated CLI; `run` drives a real project.
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSprintRunner, validateCycles, type RunnerEvent, type SprintRunnerOptions } from './machines/runner.js';
import type { PermissionMode } from './machines/actors/claude-command.js';
import type { MaxCycles } from './machines/batch.machine.js';

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

const clock = (ts: number) => new Date(ts).toTimeString().slice(0, 8);
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
    case 'warning':
      return `${at}  warning: ${event.payload.message}`;
    case 'error':
      return `${at}  ERROR: ${event.payload.message}`;
    case 'state':
      return `${at}  [${event.payload.status}]`;
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

async function askCycles(): Promise<MaxCycles> {
  if (!process.stdin.isTTY) return 2;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = (await rl.question('Cycles for this batch (a number or "all") [2]: ')).trim();
  rl.close();
  if (answer === '') return 2;
  return validateCycles(answer === 'all' ? 'all' : Number(answer));
}

async function runInTerminal(options: SprintRunnerOptions, cycles: MaxCycles): Promise<number> {
  const runner = createSprintRunner(options);
  const progress = new ProgressLine();
  const tty = process.stdout.isTTY;
  runner.subscribe((event) => {
    progress.update(event);
    const line = formatEvent(event);
    if (tty) process.stdout.write('\r\x1b[2K');
    if (line) process.stdout.write(`${line}\n`);
    if (tty) process.stdout.write(progress.render().slice(0, (process.stdout.columns ?? 120) - 1));
  });
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    process.stdout.write('\nstopping: ending every child process tree...\n');
    void runner.stop().then(() => runner.close()).then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await runner.start({ cycles });
  const output = await runner.done();
  await runner.close();
  if (tty) process.stdout.write('\r\x1b[2K');
  return output.type === 'ok' ? 0 : 1;
}

const USAGE = `usage:
  sprint-runner demo                      run the bundled demo project with the simulated Claude CLI
  sprint-runner run [--project DIR] [--claude BIN] [--permission-mode MODE]
                                          run a batch on a BMAD project with the real claude
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      project: { type: 'string' },
      claude: { type: 'string' },
      'permission-mode': { type: 'string' },
      pace: { type: 'string' },
    },
  });
  if (command === 'demo') {
    const projectRoot = copyDemoProject();
    process.stdout.write(`demo project copied to ${projectRoot}\n`);
    return runInTerminal(
      {
        projectRoot,
        claudeBin: SIMULATED_CLAUDE(),
        // the simulated CLI prints at a pace a human can follow
        env: { SPRINT_SIM_PACE_MS: values.pace ?? '120', IS_SANDBOX: '1' },
      },
      2,
    );
  }
  if (command === 'run') {
    const cycles = await askCycles();
    return runInTerminal(
      {
        projectRoot: values.project ?? process.cwd(),
        ...(values.claude ? { claudeBin: values.claude } : {}),
        ...(values['permission-mode'] ? { permissionMode: values['permission-mode'] as PermissionMode } : {}),
      },
      cycles,
    );
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
