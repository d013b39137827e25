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
const { run } = await import('./cli.js');
run(process.argv.slice(2));
