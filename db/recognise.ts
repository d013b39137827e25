// Tells what an existing database file is by reading it only: the first step of every open (never a write).
import { statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

/** Kysely's migration table: its presence is what makes a file ours. */
export const MIGRATION_TABLE = 'kysely_migration';

/** The five tables of the project's previous (Python) orchestrator; ours share their names, not their columns. */
const PREVIOUS_ORCHESTRATOR_TABLES = ['batches', 'stories', 'commands', 'events', 'background_tasks'] as const;

/**
 * What an existing file is, found by reading it only: `new` (absent or empty: ours to create), `ours` (our
 * migration table, or an SQLite file with no table at all), `previous-orchestrator` (the Python orchestrator's
 * schema: `events.story_key`, `background_tasks.task_type`, no migration table), `foreign` (any other SQLite
 * file), `unreadable` (not SQLite, damaged or locked: the open path classifies it without writing).
 */
export type DatabaseKind =
  | { kind: 'new' }
  | { kind: 'ours' }
  | { kind: 'previous-orchestrator' }
  | { kind: 'foreign'; tables: string[] }
  | { kind: 'unreadable' };

/**
 * Recognises a database file before anything may write to it: a read-only connection, no pragma that
 * writes, no WAL switch, no backup. Call it first on every open; only `new` and `ours` may be opened for writing.
 */
export function recogniseDatabase(file: string): DatabaseKind {
  if (file === ':memory:' || file === '') return { kind: 'new' };
  const size = (() => {
    try {
      return statSync(file).size;
    } catch {
      return -1;
    }
  })();
  if (size <= 0) return { kind: 'new' };
  let ro: BetterSqlite3.Database;
  try {
    ro = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } catch {
    return { kind: 'unreadable' };
  }
  try {
    const tables = ro
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`)
      .pluck()
      .all() as string[];
    if (tables.includes(MIGRATION_TABLE) || tables.length === 0) return { kind: 'ours' };
    const columns = (table: string) => (ro.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]);
    const previous =
      PREVIOUS_ORCHESTRATOR_TABLES.every((t) => tables.includes(t)) &&
      columns('events').includes('story_key') &&
      columns('background_tasks').includes('task_type');
    return previous ? { kind: 'previous-orchestrator' } : { kind: 'foreign', tables: tables.sort() };
  } catch {
    return { kind: 'unreadable' };
  } finally {
    ro.close();
  }
}
