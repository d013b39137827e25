// One orchestrator per project whatever its --db: a lock file with PID and start time, refused while its holder lives, taken over when stale.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readProcessStartTime } from '../../machines/claude/process-tree.js';
import { SIM_CLAUDE } from '../support/scenario.js';
import { BUILT_CLI, startServe, type ServeProcess } from '../support/serve-process.js';
import { faultProject, removeAll } from './support.js';

const roots: string[] = [];
const serves: ServeProcess[] = [];
afterEach(async () => {
  for (const serve of serves.splice(0)) {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
  removeAll(roots);
});

const lockFileOf = (root: string) => path.join(root, '_bmad/bmm/workflows/4-implementation/sprint-runner/.sprint-runner.lock');

function serveOnce(root: string, db: string) {
  const result = spawnSync(process.execPath, [BUILT_CLI, 'serve', '--project', root, '--db', db, '--port', '0', '--claude', SIM_CLAUDE], {
    env: { ...process.env, IS_SANDBOX: '1' },
    encoding: 'utf8',
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('one orchestrator per project', () => {
  it('a second serve with another --db on the same project is refused, naming the first (PID), before it creates its database', async () => {
    const p = faultProject({}, roots);
    const first = await startServe(p.root, p.db);
    serves.push(first);
    const holder = JSON.parse(readFileSync(lockFileOf(p.root), 'utf8')) as Record<string, unknown>;
    expect(holder).toMatchObject({ pid: first.child.pid, startTime: readProcessStartTime(first.child.pid!), hostname: hostname(), db: p.db });

    const otherDb = path.join(p.root, 'another.db');
    const second = serveOnce(p.root, otherDb);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`another sprint-runner already drives this project: pid ${first.child.pid}`);
    expect(second.output).toContain(p.db);
    expect(existsSync(otherDb)).toBe(false);
    // the first one is untouched and still serving
    expect((await first.api<{ status: string }>('/api/state')).status).toBe(200);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    serves.splice(0);
    expect(existsSync(lockFileOf(p.root))).toBe(false);
  });

  it('a lock left by a dead process (or a reused PID) is stale and taken over', async () => {
    const p = faultProject({}, roots);
    const dead = spawnSync('true').pid;
    // this very test process is alive, but with another start time it is a reused PID, not the holder
    for (const stale of [
      { pid: dead, startTime: 1, hostname: hostname(), db: '/elsewhere.db', startedAt: '2026-01-01T00:00:00.000Z' },
      { pid: process.pid, startTime: (readProcessStartTime(process.pid) ?? 0) + 1, hostname: hostname(), db: '/elsewhere.db', startedAt: '2026-01-01T00:00:00.000Z' },
    ]) {
      writeFileSync(lockFileOf(p.root), JSON.stringify(stale));
      const serve = await startServe(p.root, p.db);
      serves.push(serve);
      expect(JSON.parse(readFileSync(lockFileOf(p.root), 'utf8'))).toMatchObject({ pid: serve.child.pid });
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      serves.splice(0);
    }
  });
});
