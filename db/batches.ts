// Synchronous writes to the batches table: a row inserted when a batch starts, patched as it runs and ends.
import type { Updateable } from 'kysely';
import type { SprintDb } from './handle.js';
import type { BatchesTable, BatchStatus } from './schema.js';
import { runSync } from './sync-queries.js';

export interface NewBatch {
  startedAt: string;
  /** a cycle count or 'all'; stored as text ('3' or 'all') */
  maxCycles: number | 'all' | string;
  status: BatchStatus;
  projectRoot: string;
}

export function insertBatch(db: SprintDb, batch: NewBatch): number {
  const result = runSync(
    db,
    db.kysely.insertInto('batches').values({
      started_at: batch.startedAt,
      max_cycles: String(batch.maxCycles),
      status: batch.status,
      project_root: batch.projectRoot,
    }),
  );
  return Number(result.lastInsertRowid);
}

export interface BatchPatch {
  endedAt: string | null;
  cyclesCompleted: number;
  status: BatchStatus;
  message: string | null;
}

export function updateBatch(db: SprintDb, id: number, patch: Partial<BatchPatch>): void {
  const set: Updateable<BatchesTable> = {};
  if (patch.endedAt !== undefined) set.ended_at = patch.endedAt;
  if (patch.cyclesCompleted !== undefined) set.cycles_completed = patch.cyclesCompleted;
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.message !== undefined) set.message = patch.message;
  if (Object.keys(set).length === 0) return;
  runSync(db, db.kysely.updateTable('batches').set(set).where('id', '=', id));
}
