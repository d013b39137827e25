// Synchronous writes to the tasks table: the task phases a command's log-script calls start and end, and those it left open.
import type { SprintDb } from './handle.js';
import type { TaskStatus } from './schema.js';
import { findStoryId } from './stories.js';
import { atomically, runSync, statement } from './sync-queries.js';

export interface TaskStart {
  commandId: number;
  /** long key or short id; null (or a story not in the table) leaves the row without a story */
  storyKey: string | null;
  taskId: string;
  known: boolean;
  message: string | null;
  startedAt: string;
  /** with an end time, the row is written already done: its end came in the same transaction */
  endedAt?: string;
}

/** Records a task phase starting (or, with `endedAt`, one that has started and ended); returns the task row id. */
export function startTask(db: SprintDb, task: TaskStart): number {
  const storyId = task.storyKey === null ? null : findStoryId(db, task.storyKey);
  const result = statement(
    db,
    'insert into "tasks" ("command_id", "story_id", "task_id", "known", "status", "message", "started_at", "ended_at") values (?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(task.commandId, storyId, task.taskId, task.known ? 1 : 0, task.endedAt === undefined ? 'running' : 'done', task.message || null, task.startedAt, task.endedAt ?? null);
  return Number(result.lastInsertRowid);
}

export interface TaskEnd {
  commandId: number;
  storyKey: string | null;
  taskId: string;
  /** replaces the start's message only when non-empty */
  message: string | null;
  endedAt: string;
  /** only used when no start was seen and a done row is inserted (default true) */
  known?: boolean;
}

/**
 * Ends the newest running row of this command, story and task; with none (the start was never reported),
 * inserts a done row that starts and ends at `endedAt`. Returns the row id.
 */
export function endTask(db: SprintDb, task: TaskEnd): number {
  return atomically(db, () => {
    const storyId = task.storyKey === null ? null : findStoryId(db, task.storyKey);
    // IS, not =: a null story must match a null story
    const running = statement(
      db,
      'select "id" from "tasks" where "command_id" = ? and "story_id" is ? and "task_id" = ? and "status" = ? order by "id" desc limit 1',
    ).get(task.commandId, storyId, task.taskId, 'running') as { id: number } | undefined;
    if (running !== undefined) {
      if (task.message) statement(db, 'update "tasks" set "status" = ?, "ended_at" = ?, "message" = ? where "id" = ?').run('done', task.endedAt, task.message, running.id);
      else statement(db, 'update "tasks" set "status" = ?, "ended_at" = ? where "id" = ?').run('done', task.endedAt, running.id);
      return running.id;
    }
    return startTask(db, { commandId: task.commandId, storyKey: task.storyKey, taskId: task.taskId, known: task.known !== false, message: task.message, startedAt: task.endedAt, endedAt: task.endedAt });
  });
}

/**
 * Ends the task phases a command left open when it failed or was interrupted, at its end time: no phase of
 * an ended command stays `running`. Returns how many were ended.
 */
export function endOpenTasks(db: SprintDb, commandIds: readonly number[], status: 'failed' | 'interrupted', endedAt: string): number {
  if (commandIds.length === 0) return 0;
  return Number(
    runSync(
      db,
      db.kysely
        .updateTable('tasks')
        .set({ status, ended_at: endedAt })
        .where('command_id', 'in', [...commandIds])
        .where('status', '=', 'running' satisfies TaskStatus),
    ).changes,
  );
}
