// Guards a database to one orchestrator: the owner row names the process using it, and a live owner keeps others out.
import { hostname } from 'node:os';
import { isAlive, readProcessStartTime } from '../machines/claude/process-tree.js';
import { DatabaseError, isBusy, lockedError } from './database-errors.js';
import type { SprintDb } from './handle.js';
import { getSync, runSync } from './sync-queries.js';

export interface OwnerIdentity {
  pid: number;
  /** start time in the process table's unit (see ProcessEntry): tells this process apart from a later one that reuses the pid */
  startTime: number;
  hostname: string;
}

export interface OwnerRecord extends OwnerIdentity {
  acquiredAt: string;
}

/** Who this process is, for the owner row. Throws ProcessTableError when the process table cannot be read. */
export function currentOwnerIdentity(): OwnerIdentity {
  return { pid: process.pid, startTime: readProcessStartTime(process.pid) ?? 0, hostname: hostname() };
}

/**
 * Makes this process the database's one orchestrator. Throws DatabaseError('in-use') while the recorded
 * owner still runs on this host (same pid and the same start time, so a reused pid does not count) — even
 * when that owner is this very process. A dead owner's row, or one from another host (whose processes
 * cannot be checked; a crashed container's old hostname must not block for ever), is taken over.
 */
export function acquireOwner(db: SprintDb, me: OwnerIdentity = currentOwnerIdentity()): OwnerRecord {
  const take = (): OwnerRecord => {
    const row = getSync(db, db.kysely.selectFrom('owner').selectAll().where('id', '=', 1));
    if (row !== undefined && row.hostname === me.hostname && isAlive(row.pid, row.start_time)) {
      const self = row.pid === me.pid && row.start_time === me.startTime;
      throw new DatabaseError(
        'in-use',
        db.file,
        `${db.file} is in use by ${self ? 'this process already' : 'another sprint-runner orchestrator'}: ` +
          `pid ${row.pid} on host ${row.hostname}, since ${row.acquired_at}. Only one orchestrator may use a ` +
          `database at a time: stop that one (or let it finish), or give this one another database file.`,
      );
    }
    const acquiredAt = new Date().toISOString();
    runSync(
      db,
      db.kysely
        .replaceInto('owner')
        .values({ id: 1, pid: me.pid, start_time: me.startTime, hostname: me.hostname, acquired_at: acquiredAt }),
    );
    return { ...me, acquiredAt };
  };
  try {
    // IMMEDIATE takes the write lock before the read, so two starting orchestrators cannot both see "free"
    return db.sqlite.transaction(take).immediate();
  } catch (err) {
    if (isBusy(err)) throw lockedError(db.file, Number(db.sqlite.pragma('busy_timeout', { simple: true })), err);
    throw err;
  }
}

/** Gives the database up; only our own row is removed. True when there was one. */
export function releaseOwner(db: SprintDb, me: OwnerIdentity = currentOwnerIdentity()): boolean {
  const result = runSync(
    db,
    db.kysely
      .deleteFrom('owner')
      .where('id', '=', 1)
      .where('pid', '=', me.pid)
      .where('start_time', '=', me.startTime)
      .where('hostname', '=', me.hostname),
  );
  return result.changes > 0;
}
