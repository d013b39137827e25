#!/usr/bin/env node
// The installed `sprint-runner` command: checks the Node.js version before anything loads the native SQLite binding.
// Kept apart from cli.ts (a bundle whose imports all load first) and free of imports, so an old Node reads it whole.

/** better-sqlite3 13 and this package need Node.js 22 or later; 22 and 24 are the versions we test. */
const OLDEST_MAJOR = 22;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= OLDEST_MAJOR)) {
  process.stderr.write(
    `sprint-runner needs Node.js ${OLDEST_MAJOR} or later (22 and 24 are supported); this is Node.js ${process.versions.node} (${process.execPath}).\n` +
      `Install Node.js 24 or 22 (https://nodejs.org, or \`nvm install 24\`), then install sprint-runner again with it: npm install -g sprint-runner\n`,
  );
  process.exit(1);
}
// Native Windows has no process groups or POSIX signals: stop, the watchdogs and crash recovery could not end an
// agent's whole tree, so agents would run on unseen. Only what runs nothing is allowed there; WSL 2 is Linux.
const RUNS_NOTHING = new Set(['--version', '-V', '--help', '-h', 'help']);
const first = process.argv[2];
if (process.platform === 'win32' && !(first !== undefined && RUNS_NOTHING.has(first))) {
  process.stderr.write(
    'sprint-runner does not run on native Windows: ending an agent and everything it started needs POSIX process groups and signals.\n' +
      'Run it inside WSL 2 (install Node.js 22 or 24 and the Claude Code CLI there), or on Linux or macOS.\n',
  );
  process.exit(1);
}
const { run } = await import('./cli.js');
run(process.argv.slice(2));
