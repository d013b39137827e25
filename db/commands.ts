// Synchronous writes to the commands table: a command inserted as it starts (linked to its stories), patched as it runs and ends.
import type { SprintDb } from './handle.js';
import type { CommandStatus, CommandUpdate } from './schema.js';
import { upsertStory, type StoryRef } from './stories.js';
import { allSync, atomically, runSync } from './sync-queries.js';

export interface NewCommand {
  batchId: number;
  runId: string;
  command: string;
  kind: string;
  stories: readonly StoryRef[];
  attempt: number;
  reviewAttempt: number | null;
  model: string | null;
  background: boolean;
  startedAt: string;
}

/** Inserts a running command and links it to its stories, creating any story not yet known. */
export function insertCommand(db: SprintDb, command: NewCommand): number {
  return atomically(db, () => {
    const unique = [...new Map(command.stories.map((s) => [s.key, s])).values()];
    const result = runSync(
      db,
      db.kysely.insertInto('commands').values({
        batch_id: command.batchId,
        run_id: command.runId,
        command: command.command,
        kind: command.kind,
        story_ids: unique.map((s) => s.shortId).join(','),
        attempt: command.attempt,
        review_attempt: command.reviewAttempt,
        model: command.model,
        background: command.background ? 1 : 0,
        status: 'running',
        started_at: command.startedAt,
      }),
    );
    const id = Number(result.lastInsertRowid);
    for (const story of unique) {
      const storyId = upsertStory(db, story, undefined, command.startedAt);
      runSync(db, db.kysely.insertInto('command_stories').values({ command_id: id, story_id: storyId }));
    }
    return id;
  });
}

/** Sets the given columns (snake_case, as in schema.ts); an empty patch does nothing. */
export function updateCommand(db: SprintDb, id: number, patch: CommandUpdate): void {
  const set = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as CommandUpdate;
  if (Object.keys(set).length === 0) return;
  runSync(db, db.kysely.updateTable('commands').set(set).where('id', '=', id));
}

/** Marks the batch's running commands interrupted (after a stop or a crash); returns their ids. */
export function markRunningCommandsInterrupted(db: SprintDb, batchId: number, endedAt: string): number[] {
  return allSync(
    db,
    db.kysely
      .updateTable('commands')
      .set({ status: 'interrupted', interrupted: 1, ended_at: endedAt })
      .where('batch_id', '=', batchId)
      .where('status', '=', 'running' satisfies CommandStatus)
      .returning('id'),
  ).map((row) => row.id);
}
