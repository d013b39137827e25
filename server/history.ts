// At start-up: which database file is ours, and the history from before the tool (previous orchestrator, legacy CSV).
import path from 'node:path';
import { recogniseDatabase, type SprintDb } from '../db/database.js';
import { describeLegacyImport, importLegacyCsv } from '../db/legacy-csv.js';
import { importPreviousOrchestrator } from '../db/previous-orchestrator.js';
import { insertEvent } from '../db/events.js';
import { getSync, runSync } from '../db/sync-queries.js';
import type { ProjectLayout } from '../machines/project/layout.js';

/** Our database's name when the default path holds the previous orchestrator's: beside it, never over it. */
export const OWN_DB_BESIDE_PREVIOUS = 'sprint-runner.node.db';

export function defaultDbFile(layout: ProjectLayout): string {
  return path.join(layout.workflowDir, 'dashboard', 'sprint-runner.db');
}

export interface DbChoice {
  /** the file we open (and may create) */
  file: string;
  /** the previous orchestrator's database at the default path, when there is one (only ever read) */
  previous: string | null;
}

/**
 * The default path may hold the project's previous orchestrator's database (same table names, another
 * schema). It stays as it is; ours lives beside it. A `--db` naming a file that is not ours is refused
 * by openDatabase itself.
 */
export function chooseDatabaseFile(layout: ProjectLayout, requested: string | undefined): DbChoice {
  const byDefault = defaultDbFile(layout);
  const previous = recogniseDatabase(byDefault).kind === 'previous-orchestrator' ? byDefault : null;
  if (requested !== undefined) return { file: path.resolve(requested), previous };
  return { file: previous === null ? byDefault : path.join(path.dirname(byDefault), OWN_DB_BESIDE_PREVIOUS), previous };
}

/** What the start-up log says once, and the warning events stored for the dashboard. */
export async function importHistory(db: SprintDb, layout: ProjectLayout, choice: DbChoice): Promise<string[]> {
  const notices: string[] = [];
  if (choice.previous !== null) {
    const result = importPreviousOrchestrator(db, choice.previous);
    const s = result.summary;
    const counts = `${s.batches} batches, ${s.stories} stories, ${s.commands} commands, ${s.events} events, ${s.backgroundTasks} background tasks`;
    notices.push(
      `${choice.previous} is the database of this project's previous orchestrator: it is left exactly as it is ` +
        `(only ever read). sprint-runner keeps its own database beside it${choice.file.startsWith(path.dirname(choice.previous)) ? `, in ${path.basename(choice.file)}` : ` (${choice.file})`}; ` +
        (result.imported ? `its history (${counts}) was imported once, read-only.` : `its history (${counts}) was imported before.`),
    );
  }
  const report = await importLegacyCsv(db, layout.legacyCsv);
  const problem = describeLegacyImport(path.relative(layout.root, layout.legacyCsv), report);
  if (problem !== null) {
    notices.push(problem);
    // the dashboard is told once per different finding, not at every start
    const previous = getSync(db, db.kysely.selectFrom('legacy_imports').select('summary').where('source', '=', 'csv'));
    if (previous?.summary !== problem) {
      db.sqlite.transaction(() => {
        insertEvent(db, { batchId: null, commandId: null, type: 'warning', ts: Date.now(), payload: { message: problem } });
        runSync(
          db,
          db.kysely
            .insertInto('legacy_imports')
            .values({ source: 'csv', file: layout.legacyCsv, imported_at: new Date().toISOString(), summary: problem })
            .onConflict((oc) => oc.column('source').doUpdateSet({ imported_at: new Date().toISOString(), summary: problem })),
        );
      })();
    }
  }
  return notices;
}
