// Checks that one orchestrator at a time holds a database, and that a dead or reused-pid owner is taken over.
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../db/database-errors.js';
import { acquireOwner, currentOwnerIdentity, releaseOwner, type OwnerIdentity } from '../../db/owner.js';
import { isAlive, readProcessStartTime } from '../../machines/claude/process-tree.js';
import { waitFor } from '../support/wait.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();
const children: number[] = [];

afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function ownerRow(db: Awaited<ReturnType<typeof ctx.fresh>>): unknown {
  return db.sqlite.prepare('SELECT pid, start_time, hostname FROM owner').all();
}

function acquireError(fn: () => unknown): DatabaseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatabaseError);
    return err as DatabaseError;
  }
  throw new Error('expected acquireOwner to throw');
}

/** A pid that certainly ran and is certainly gone: a child that exited and was reaped. */
function deadPid(): number {
  const result = spawnSync('true');
  expect(result.pid).toBeGreaterThan(0);
  return result.pid;
}

describe('acquireOwner', () => {
  it('records this process with its /proc start time and host', async () => {
    const db = await ctx.fresh();
    const me = currentOwnerIdentity();
    expect(me).toEqual({ pid: process.pid, startTime: readProcessStartTime(process.pid), hostname: hostname() });
    const record = acquireOwner(db);
    expect(record).toMatchObject(me);
    expect(Date.parse(record.acquiredAt)).not.toBeNaN();
    expect(ownerRow(db)).toEqual([{ pid: me.pid, start_time: me.startTime, hostname: me.hostname }]);
  });

  it('refuses a second acquire while the first owner (this process) is alive, naming its pid and host', async () => {
    const db = await ctx.fresh();
    acquireOwner(db);
    const error = acquireError(() => acquireOwner(db));
    expect(error.code).toBe('in-use');
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain(hostname());
    expect(error.message).toContain(db.file);
    expect(error.message).toMatch(/only one orchestrator may use a database at a time/i);
  });

  it('refuses while another live process on this host owns it, from a second connection too', async () => {
    const db = await ctx.fresh();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child.pid!);
    const startTime = await waitFor(() => readProcessStartTime(child.pid!), 'the child in /proc');
    acquireOwner(db, { pid: child.pid!, startTime, hostname: hostname() });

    const second = ctx.open(); // the same file, as another orchestrator would open it
    const error = acquireError(() => acquireOwner(second));
    expect(error.code).toBe('in-use');
    expect(error.message).toContain(`pid ${child.pid}`);
    expect(error.message).toMatch(/another sprint-runner orchestrator/);
    // the refused acquire changed nothing
    expect(ownerRow(second)).toEqual([{ pid: child.pid, start_time: startTime, hostname: hostname() }]);

    // once that owner is gone, the next acquire takes over
    child.kill('SIGKILL');
    await waitFor(() => !isAlive(child.pid!, startTime), 'the child to end');
    acquireOwner(second);
    expect(ownerRow(second)).toEqual([{ pid: process.pid, start_time: currentOwnerIdentity().startTime, hostname: hostname() }]);
  });

  it.each<[string, () => OwnerIdentity]>([
    ['a dead pid', () => ({ pid: deadPid(), startTime: 12345, hostname: hostname() })],
    ['a live pid with another start time (the pid was reused)', () => ({ pid: process.pid, startTime: currentOwnerIdentity().startTime + 1, hostname: hostname() })],
    ['an owner on another host (it cannot be checked from here)', () => ({ pid: process.pid, startTime: currentOwnerIdentity().startTime, hostname: `${hostname()}-elsewhere` })],
  ])('takes over a stale owner row: %s', async (_, stale) => {
    const db = await ctx.fresh();
    acquireOwner(db, stale());
    const record = acquireOwner(db);
    expect(record.pid).toBe(process.pid);
    expect(ownerRow(db)).toEqual([{ pid: process.pid, start_time: currentOwnerIdentity().startTime, hostname: hostname() }]);
  });

  it('reports a database another connection holds locked as locked, not in use', async () => {
    const db = await ctx.fresh();
    const other = ctx.open();
    other.sqlite.exec('BEGIN IMMEDIATE');
    try {
      db.sqlite.pragma('busy_timeout = 50');
      const error = acquireError(() => acquireOwner(db));
      expect(error.code).toBe('locked');
    } finally {
      other.sqlite.exec('ROLLBACK');
    }
  });
});

describe('releaseOwner', () => {
  it('deletes our row, after which acquiring works again', async () => {
    const db = await ctx.fresh();
    acquireOwner(db);
    expect(releaseOwner(db)).toBe(true);
    expect(ownerRow(db)).toEqual([]);
    expect(releaseOwner(db)).toBe(false);
    acquireOwner(db);
  });

  it("leaves another orchestrator's row alone", async () => {
    const db = await ctx.fresh();
    const other: OwnerIdentity = { pid: process.pid, startTime: currentOwnerIdentity().startTime + 7, hostname: hostname() };
    acquireOwner(db, other);
    expect(releaseOwner(db)).toBe(false);
    expect(ownerRow(db)).toEqual([{ pid: other.pid, start_time: other.startTime, hostname: other.hostname }]);
  });
});
