// Storage faults with the exact fault (a full tmpfs, `chattr +i` on the WAL or the database, the file deleted): serve stops cleanly and a restart resumes exactly.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';
import { expectIntactDatabase, expectNoProcessLeft, faultProject, referenceRun, removeAll, waitForStatus } from './support.js';

const roots: string[] = [];
const serves: ServeProcess[] = [];
/** undone after each test even when it fails: no immutable file or mount is left behind */
const undo: (() => void)[] = [];
afterEach(async () => {
  for (const serve of serves.splice(0)) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  for (const step of undo.splice(0).reverse()) step();
  removeAll(roots);
});

const sh = (cmd: string, ...args: string[]) => {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${result.stderr}`);
};

const scenario = { commands: { 'code-review': ['slow:800'] } };
const CYCLES = 2;
let expected = '';
const referenceRoots: string[] = [];
beforeAll(async () => {
  expected = await referenceRun(scenario, CYCLES, referenceRoots);
}, 180_000);
afterAll(() => removeAll(referenceRoots));

interface Fault {
  name: string;
  /** where the database lives (a tmpfs for the full disk) */
  dbIn(root: string): string;
  /** applied once the batch has written this many events */
  afterEvents: number;
  apply(db: string): void;
  /** the cause the message must name */
  says: RegExp;
}

const faults: Fault[] = [
  {
    name: 'the disk is full (a 2 MB tmpfs)',
    dbIn(root) {
      const dir = path.join(root, 'small-disk');
      mkdirSync(dir);
      sh('mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir);
      undo.push(() => spawnSync('umount', ['-l', dir]));
      return path.join(dir, 'runner.db');
    },
    afterEvents: 5,
    apply(db) {
      // leave a little room, so the batch runs into the wall a few transactions later
      const free = statfsSync(path.dirname(db));
      writeFileSync(path.join(path.dirname(db), 'filler'), Buffer.alloc(Math.max(0, free.bavail * free.bsize - 96 * 1024)));
    },
    says: /disk is full \(SQLITE_FULL\)/,
  },
  {
    name: 'the WAL is made immutable (chattr +i)',
    dbIn: (root) => path.join(root, 'runner.db'),
    afterEvents: 15,
    apply(db) {
      sh('chattr', '+i', `${db}-wal`);
      undo.push(() => spawnSync('chattr', ['-i', `${db}-wal`]));
    },
    says: /read-only/,
  },
  {
    name: 'the database file is made immutable (chattr +i)',
    dbIn: (root) => path.join(root, 'runner.db'),
    afterEvents: 15,
    apply(db) {
      sh('chattr', '+i', db);
      undo.push(() => spawnSync('chattr', ['-i', db]));
    },
    says: /read-only/,
  },
  {
    name: 'the database file is deleted',
    dbIn: (root) => path.join(root, 'runner.db'),
    afterEvents: 15,
    apply(db) {
      rmSync(db);
    },
    says: /deleted while serving.*saved in /,
  },
];

describe('a database that can no longer be written', () => {
  it.each(faults)('$name: one clear message, exit 1, no agent left, nothing lost, and a restart resumes exactly', async (fault) => {
    const base = faultProject(scenario, roots);
    const p = { ...base, db: fault.dbIn(base.root) };
    const serve = await startServe(p.root, p.db, { SPRINT_SIM_TRACE: p.trace });
    serves.push(serve);
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles: CYCLES } });
    await waitFor(async () => (await serve.api<{ lastEventId: number }>('/api/state')).body.lastEventId >= fault.afterEvents || null, 'the batch to be under way');
    fault.apply(p.db);

    expect(await serve.exited).toBe(1);
    serves.splice(0);
    const output = serve.output();
    const message = output.split('\n').filter((l) => l.startsWith('sprint-runner stopped:'));
    expect(message).toHaveLength(1);
    expect(message[0]).toContain(p.db);
    expect(message[0]).toMatch(fault.says);
    expect(message[0]).toContain('press Resume');
    // no raw stack trace, no uncaught exception
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toMatch(/SqliteError|Uncaught|node:internal/);
    expectNoProcessLeft(p.trace);

    // a healthy copy: the database with its WAL, on an ordinary disk
    const healthy = mkdtempSync(path.join(tmpdir(), 'sprint-runner-healthy-'));
    roots.push(healthy);
    const copy = path.join(healthy, 'runner.db');
    copyFileSync(p.db, copy);
    if (existsSync(`${p.db}-wal`)) copyFileSync(`${p.db}-wal`, `${copy}-wal`);
    for (const step of undo.splice(0).reverse()) step();
    expectIntactDatabase(copy);

    const again = await startServe(p.root, copy, { SPRINT_SIM_TRACE: p.trace });
    serves.push(again);
    expect((await again.api<{ status: string }>('/api/state')).body.status).toBe('interrupted');
    expect((await again.api('/api/batch/resume', { method: 'POST' })).status).toBe(200);
    expect(await waitForStatus(again, ['completed', 'error'], 'the resumed batch')).toBe('completed');
    expect(p.sprintStatus()).toBe(expected);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    serves.splice(0);
    expectIntactDatabase(copy);
    expectNoProcessLeft(p.trace);
  }, 240_000);
});
