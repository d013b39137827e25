// Rows for issue 14 and the transcript of issue 13: each step's last attempt, a batch's budget and spend, transcripts.
import type { TranscriptRecord } from '../machines/claude/transcript.js';
import { stepKeyOf, type AttemptRecord } from '../machines/sessions.js';
import type { SprintDb } from './database.js';
import type { CommandStatus } from './schema.js';
import { allSync, getSync, runSync } from './sync-queries.js';

/** The newest attempt of every step (command and stories), for the session ledger after a restart. */
export function lastAttempts(db: SprintDb): AttemptRecord[] {
  const rows = allSync(
    db,
    db.kysely
      .selectFrom('commands')
      .select(['command', 'story_ids', 'session_id', 'status', 'failure'])
      .where('id', 'in', (qb) => qb.selectFrom('commands').select((eb) => eb.fn.max('id').as('id')).groupBy(['command', 'story_ids'])),
  );
  return rows.map((row) => ({
    step: stepKeyOf(row.command, row.story_ids ? row.story_ids.split(',') : []),
    sessionId: row.session_id,
    status: row.status as CommandStatus,
    failure: row.failure,
  }));
}

/** USD the batch's commands have cost so far (a command still running counts once it reports its result). */
export function batchSpend(db: SprintDb, batchId: number): number {
  const row = getSync(
    db,
    db.kysely
      .selectFrom('commands')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), eb.lit(0)).as('spent'))
      .where('batch_id', '=', batchId),
  );
  return Number(row?.spent ?? 0);
}

export function setBatchBudget(db: SprintDb, batchId: number, budgetUsd: number | null): void {
  runSync(db, db.kysely.updateTable('batches').set({ budget_usd: budgetUsd }).where('id', '=', batchId));
}

export function batchBudget(db: SprintDb, batchId: number): number | null {
  return getSync(db, db.kysely.selectFrom('batches').select('budget_usd').where('id', '=', batchId))?.budget_usd ?? null;
}

/** Stores an attempt's transcript on its command row (the newest row of that run id and attempt). */
export function saveTranscript(db: SprintDb, key: { runId: string; attempt: number }, record: TranscriptRecord): boolean {
  const command = getSync(
    db,
    db.kysely.selectFrom('commands').select('id').where('run_id', '=', key.runId).where('attempt', '=', key.attempt).orderBy('id', 'desc').limit(1),
  );
  if (!command) return false;
  const columns = {
    head: record.head,
    tail: record.tail,
    lines: record.lines,
    bytes: record.bytes,
    cut_lines: record.cutLines,
    cut_bytes: record.cutBytes,
    saved_at: new Date().toISOString(),
  };
  runSync(
    db,
    db.kysely
      .insertInto('transcripts')
      .values({ command_id: command.id, ...columns })
      .onConflict((oc) => oc.column('command_id').doUpdateSet(columns)),
  );
  return true;
}

export interface StoredTranscript extends TranscriptRecord {
  commandId: number;
}

export function loadTranscript(db: SprintDb, commandId: number): StoredTranscript | null {
  const row = getSync(db, db.kysely.selectFrom('transcripts').selectAll().where('command_id', '=', commandId));
  if (!row) return null;
  return { commandId, head: row.head, tail: row.tail, lines: row.lines, bytes: row.bytes, cutLines: row.cut_lines, cutBytes: row.cut_bytes };
}
