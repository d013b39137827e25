#!/usr/bin/env node
// Builds small process trees for the process-tree tests; each member appends "<role> <pid>" to the pid file.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [role, pidFile] = process.argv.slice(2);
const self = fileURLToPath(import.meta.url);
const record = () => appendFileSync(pidFile, `${role} ${process.pid}\n`);
const hang = () => setInterval(() => undefined, 60_000);

switch (role) {
  case 'root':
    // an ordinary child that itself starts a stubborn grandchild in its own session
    spawn(process.execPath, [self, 'middle', pidFile], { stdio: 'ignore' });
    record();
    hang();
    break;
  case 'middle':
    spawn(process.execPath, [self, 'deaf-to-sigint', pidFile], { stdio: 'ignore', detached: true }).unref();
    record();
    hang();
    break;
  case 'deaf-to-sigint':
    // survives SIGINT, so it is still there after its parent died and it was re-parented
    process.on('SIGINT', () => undefined);
    record();
    hang();
    break;
  case 'stubborn':
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => undefined);
    record();
    hang();
    break;
  default:
    process.exit(2);
}
