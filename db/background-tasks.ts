// Synchronous writes to the background_tasks table: the batch machine's spawned actors, one row per batch and key.
import type { SprintDb } from './handle.js';
import { getSync, nowIso } from './sync-queries.js';

export type BackgroundStatus = 'running' | 'ok' | 'failed' | 'interrupted';

export interface BackgroundTaskInput {
  batchId: number;
  /** the spawned actor's id in the batch machine (`bg.1`), unique within the batch */
  taskKey: string;
  commandId: number | null;
  command: string;
  /** short ids; stored comma-joined */
  storyIds: readonly string[];
  status: BackgroundStatus;
  message: string | null;
  /** default now on insert; an update without it keeps the stored start */
  startedAt?: string;
  /** an update without it keeps the stored end, except that 'running' clears it (a resumed task) */
  endedAt?: string | null;
}

/** Inserts or updates the background task of (batch, key); returns its id. */
export function upsertBackgroundTask(db: SprintDb, task: BackgroundTaskInput): number {
  const endedAt = task.endedAt !== undefined ? task.endedAt : task.status === 'running' ? null : undefined;
  const row = getSync(
    db,
    db.kysely
      .insertInto('background_tasks')
      .values({
        batch_id: task.batchId,
        task_key: task.taskKey,
        command_id: task.commandId,
        command: task.command,
        story_ids: task.storyIds.join(','),
        status: task.status,
        message: task.message,
        started_at: task.startedAt ?? nowIso(),
        ended_at: endedAt ?? null,
      })
      .onConflict((oc) =>
        oc.columns(['batch_id', 'task_key']).doUpdateSet((eb) => ({
          command_id: eb.ref('excluded.command_id'),
          command: eb.ref('excluded.command'),
          story_ids: eb.ref('excluded.story_ids'),
          status: eb.ref('excluded.status'),
          message: eb.ref('excluded.message'),
          ...(task.startedAt !== undefined ? { started_at: eb.ref('excluded.started_at') } : {}),
          ...(endedAt !== undefined ? { ended_at: eb.ref('excluded.ended_at') } : {}),
        })),
      )
      .returning('id'),
  );
  return row!.id;
}
