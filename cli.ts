#!/usr/bin/env node
// The `sprint-runner` command: `serve` runs the dashboard on a BMAD project; `demo` does so on a copy of the bundled demo.
import { realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { capYoungGeneration } from './server/heap.js';
import { serve, type ServeOptions } from './server/main.js';
import { guardTerminalOutput, say, terminalLog } from './cli/log.js';
import { helpText, parseCommandLine, UsageError, type CliSettings } from './cli/options.js';
import { copyDemoProject, packageRoot, packageVersion, SIMULATED_CLAUDE } from './cli/package-files.js';

export { formatEvent, guardTerminalOutput, terminalLog } from './cli/log.js';
export { copyDemoProject, packageRoot, SIMULATED_CLAUDE } from './cli/package-files.js';

async function serveUntilSignal(options: ServeOptions): Promise<number> {
  capYoungGeneration();
  // listening before anything is printed: a Ctrl-C that comes right after the URL still stops cleanly;
  // a storage fault can come at any moment after start-up: it ends serve with its message and exit code 1
  let finish: (code: number) => void = () => {};
  const ended = new Promise<number>((resolve) => (finish = resolve));
  let fatal: string | null = null;
  const onSignal = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    finish(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let serving;
  try {
    serving = await serve({
      ...options,
      onEvent: terminalLog(),
      onFatal: (message) => {
        fatal ??= message;
        onSignal();
        finish(1);
      },
    });
  } catch (error) {
    onSignal();
    throw error;
  }
  if (serving.recovery.interruptedBatch !== null) {
    say(
      `batch ${serving.recovery.interruptedBatch} was interrupted by a crash; ended ${serving.recovery.killed.length} leftover process(es). Resume it from the dashboard.\n`,
    );
  }
  say(`sprint-runner is serving ${serving.layout.root}\n  dashboard: ${serving.dashboardUrl}\n  database:  ${serving.dbFile}\n`);
  for (const notice of serving.notices) say(`note: ${notice}\n`);
  const code = await ended;
  if (fatal !== null) {
    if (process.stderr.writable) process.stderr.write(`\n${fatal}\n`);
  } else {
    say('\nstopping: ending every child process tree, recording the batch as stopped...\n');
  }
  await serving.close();
  return fatal !== null ? 1 : code;
}

const staticDir = () => path.join(packageRoot(), 'web', 'dist');

/** The demo runs on a temporary copy of the bundled project, removed when it exits unless --keep. */
async function demo(settings: CliSettings): Promise<number> {
  const projectRoot = copyDemoProject();
  const fate = settings.demo.keep ? 'kept on exit (--keep)' : 'removed on exit; --keep keeps it';
  say(`demo project copied to ${projectRoot} (${fate})\n`);
  try {
    return await serveUntilSignal({
      ...settings.serve,
      staticDir: staticDir(),
      projectRoot,
      claudeBin: SIMULATED_CLAUDE(),
      // the simulated CLI prints at a pace a human can follow
      env: { SPRINT_SIM_PACE_MS: settings.demo.paceMs, IS_SANDBOX: '1' },
    });
  } finally {
    if (!settings.demo.keep) rmSync(projectRoot, { recursive: true, force: true });
  }
}

/** Runs the command line; resolves with the exit code (2: a usage error, reported in one line on stderr). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  guardTerminalOutput();
  let parsed;
  try {
    parsed = parseCommandLine(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sprint-runner: ${error.message}\n`);
    return 2;
  }
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(helpText(parsed.command, packageVersion()));
      return 0;
    case 'version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case 'run':
      if (parsed.command === 'demo') return demo(parsed.settings);
      return serveUntilSignal({ ...parsed.settings.serve, staticDir: staticDir(), projectRoot: parsed.settings.serve.projectRoot ?? process.cwd() });
  }
}

/** The process's entry: runs main and exits with its code; any other failure is one line on stderr and exit 1. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`sprint-runner: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}

// argv[1] may be the npm bin symlink, so compare real paths
const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(path.resolve(process.argv[1]));
if (invokedDirectly) run(process.argv.slice(2));
