// Imports, read-only and once, the history kept by the project's previous (Python) orchestrator in its own database.
import BetterSqlite3 from 'better-sqlite3';
import type { SprintDb } from './database.js';
import { getSync, runSync } from './sync-queries.js';

/*
 * The previous orchestrator kept `batches`, `stories`, `commands`, `events` and `background_tasks` (times in
 * epoch seconds) at the very path our database has by default. Its file is never written: it is read through
 * a read-only connection, and its rows become history shown like the legacy CSV's: events and commands as
 * legacy rows (`source = 'previous-db'`), batches, stories and background tasks as legacy records. A column
 * a later or earlier version of that tool lacks reads as null, so other commits of a project import too.
 */

export const PREVIOUS_DB_SOURCE = 'previous-db';

export interface PreviousImportSummary {
  batches: number;
  stories: number;
  commands: number;
  events: number;
  backgroundTasks: number;
}

export interface PreviousImportResult {
  /** false when it had been imported before (it is read once) */
  imported: boolean;
  file: string;
  summary: PreviousImportSummary;
}

type Row = Record<string, unknown>;

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);
/** epoch seconds; a value that can only be milliseconds is scaled */
const epoch = (v: unknown): number | null => {
  const n = int(v);
  return n === null ? null : n > 100_000_000_000 ? Math.floor(n / 1000) : n;
};

/*
 * Later versions of that tool (its E1-S1 story on) add `events.event_type` (`command:start`,
 * `command:progress`, `command:end`), write times in milliseconds, and record statuses beyond start/end:
 * `progress` for a message in the middle of a task, `complete` or `done` for its end (its own server reads
 * them so). An end is stored as `end`, what the legacy log calls it; a progress line stays `progress`.
 */
const END_STATUSES = new Set(['end', 'complete', 'completed', 'done']);
function eventStatus(e: Row): string | null {
  const raw = (text(e['status']) ?? text(e['event_type'])?.split(':')[1] ?? null)?.trim().toLowerCase() ?? null;
  if (raw === null || raw === '') return null;
  return END_STATUSES.has(raw) ? 'end' : raw === 'started' ? 'start' : raw;
}

function readAll(ro: BetterSqlite3.Database, table: string): Row[] {
  const exists = ro.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
  return exists === undefined ? [] : (ro.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all() as Row[]);
}

/**
 * Reads the previous orchestrator's database at `file` (read-only) into ours, once: a second call finds the
 * import recorded and reads nothing. All of it is written in one transaction.
 */
export function importPreviousOrchestrator(db: SprintDb, file: string): PreviousImportResult {
  const done = getSync(db, db.kysely.selectFrom('legacy_imports').selectAll().where('source', '=', PREVIOUS_DB_SOURCE));
  if (done !== undefined) return { imported: false, file: done.file, summary: JSON.parse(done.summary) as PreviousImportSummary };

  const ro = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  let tables: Record<'batches' | 'stories' | 'commands' | 'events' | 'background_tasks', Row[]>;
  try {
    tables = {
      batches: readAll(ro, 'batches'),
      stories: readAll(ro, 'stories'),
      commands: readAll(ro, 'commands'),
      events: readAll(ro, 'events'),
      background_tasks: readAll(ro, 'background_tasks'),
    };
  } finally {
    ro.close();
  }

  const storyById = new Map(tables.stories.map((s) => [int(s['id']), s]));
  const summary: PreviousImportSummary = {
    batches: tables.batches.length,
    stories: tables.stories.length,
    commands: tables.commands.length,
    events: tables.events.length,
    backgroundTasks: tables.background_tasks.length,
  };

  const record = (kind: 'batch' | 'story' | 'background-task', row: Row, fields: { batch?: unknown; story?: unknown; epic?: unknown; label?: unknown; status?: unknown; started?: unknown; ended?: unknown }) =>
    runSync(
      db,
      db.kysely
        .insertInto('legacy_records')
        .values({
          source: PREVIOUS_DB_SOURCE,
          kind,
          source_id: int(row['id']) ?? 0,
          batch_source_id: int(fields.batch),
          story: text(fields.story),
          epic: text(fields.epic),
          label: text(fields.label),
          status: text(fields.status),
          started_at: epoch(fields.started),
          ended_at: epoch(fields.ended),
          data: JSON.stringify(row),
        })
        .onConflict((oc) => oc.columns(['source', 'kind', 'source_id']).doNothing()),
    );

  const legacyRow = (line: string, at: number | null, r: { epic: unknown; story: unknown; command: unknown; taskId: unknown; status: unknown; message: unknown }) => {
    if (at === null) return;
    runSync(
      db,
      db.kysely
        .insertInto('legacy_events')
        .values({
          line,
          source: PREVIOUS_DB_SOURCE,
          epoch: at,
          epic: text(r.epic) ?? '',
          story: text(r.story) ?? '',
          command: text(r.command) ?? '',
          task_id: text(r.taskId) ?? '',
          status: text(r.status) ?? '',
          message: text(r.message),
        })
        .onConflict((oc) => oc.column('line').doNothing()),
    );
  };

  db.sqlite.transaction(() => {
    for (const b of tables.batches) {
      record('batch', b, { label: b['max_cycles'], status: b['status'], started: b['started_at'], ended: b['ended_at'] });
    }
    for (const s of tables.stories) {
      record('story', s, { batch: s['batch_id'], story: s['story_key'], epic: s['epic_id'], status: s['status'], started: s['started_at'], ended: s['ended_at'] });
    }
    for (const t of tables.background_tasks) {
      record('background-task', t, { batch: t['batch_id'], story: t['story_key'], label: t['task_type'], status: t['status'], started: t['spawned_at'], ended: t['completed_at'] });
    }
    // events are the task phases as the log script reported them: the same shape as a CSV line
    const covered = new Set<string>();
    for (const e of tables.events) {
      const key = `${text(e['story_key'])}|${text(e['command'])}|${text(e['task_id'])}`;
      covered.add(key);
      legacyRow(`${PREVIOUS_DB_SOURCE}:event:${text(e['id'])}`, epoch(e['timestamp']), {
        epic: e['epic_id'], story: e['story_key'], command: e['command'], taskId: e['task_id'], status: eventStatus(e), message: e['message'],
      });
    }
    // a command no event reported still ran: its start and end become a pair of rows
    for (const c of tables.commands) {
      const story = storyById.get(int(c['story_id']));
      const storyKey = story?.['story_key'] ?? '';
      if (covered.has(`${text(storyKey)}|${text(c['command'])}|${text(c['task_id'])}`)) continue;
      const fields = { epic: story?.['epic_id'], story: storyKey, command: c['command'], taskId: c['task_id'] };
      legacyRow(`${PREVIOUS_DB_SOURCE}:command:${text(c['id'])}:start`, epoch(c['started_at']), { ...fields, status: 'start', message: null });
      legacyRow(`${PREVIOUS_DB_SOURCE}:command:${text(c['id'])}:end`, epoch(c['ended_at']), { ...fields, status: 'end', message: c['output_summary'] ?? c['status'] });
    }
    runSync(
      db,
      db.kysely
        .insertInto('legacy_imports')
        .values({ source: PREVIOUS_DB_SOURCE, file, imported_at: new Date().toISOString(), summary: JSON.stringify(summary) }),
    );
  })();
  return { imported: true, file, summary };
}
