// The snapshots table: each batch's latest persisted machine snapshot, saved synchronously and loaded on resume.
import type { SprintDb } from './handle.js';
import { getSync, nowIso, runSync } from './sync-queries.js';

/** Stores the batch's latest persisted snapshot (JSON text), replacing the previous one. */
export function saveSnapshot(db: SprintDb, batchId: number, machineVersion: string, snapshotJson: string): void {
  runSync(
    db,
    db.kysely
      .insertInto('snapshots')
      .values({ batch_id: batchId, machine_version: machineVersion, snapshot: snapshotJson, updated_at: nowIso() })
      .onConflict((oc) =>
        oc.column('batch_id').doUpdateSet((eb) => ({
          machine_version: eb.ref('excluded.machine_version'),
          snapshot: eb.ref('excluded.snapshot'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      ),
  );
}

/** The stored snapshot as JSON text (not parsed: the caller checks the version before trusting it). */
export function loadSnapshot(db: SprintDb, batchId: number): { machineVersion: string; snapshot: string } | null {
  const row = getSync(
    db,
    db.kysely.selectFrom('snapshots').select(['machine_version', 'snapshot']).where('batch_id', '=', batchId),
  );
  return row === undefined ? null : { machineVersion: row.machine_version, snapshot: row.snapshot };
}
