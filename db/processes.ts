// Synchronous writes to the processes table: every claude process and descendant, so a restart after a crash can end them.
import type { SprintDb } from './handle.js';
import { allSync, atomically, chunks, runSync } from './sync-queries.js';

export interface ProcessInput {
  commandId: number;
  pid: number;
  startTime: number;
  role: 'root' | 'descendant';
}

export function recordProcess(db: SprintDb, proc: ProcessInput): number {
  const result = runSync(
    db,
    db.kysely
      .insertInto('processes')
      .values({ command_id: proc.commandId, pid: proc.pid, start_time: proc.startTime, role: proc.role }),
  );
  return Number(result.lastInsertRowid);
}

export interface LiveProcess {
  id: number;
  commandId: number;
  pid: number;
  startTime: number;
  role: 'root' | 'descendant';
}

/** Processes not yet seen gone: after a crash, the ones to check (by pid and start time) and end. */
export function liveProcesses(db: SprintDb): LiveProcess[] {
  return allSync(
    db,
    db.kysely
      .selectFrom('processes')
      .select(['id', 'command_id', 'pid', 'start_time', 'role'])
      .where('ended', '=', 0)
      .orderBy('id'),
  ).map((row) => ({ id: row.id, commandId: row.command_id, pid: row.pid, startTime: row.start_time, role: row.role }));
}

export function markProcessesEnded(db: SprintDb, ids: readonly number[]): void {
  if (ids.length === 0) return;
  atomically(db, () => {
    for (const part of chunks(ids)) {
      runSync(db, db.kysely.updateTable('processes').set({ ended: 1 }).where('id', 'in', part));
    }
  });
}
