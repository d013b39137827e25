// Why a database cannot be used: a DatabaseError for each way opening, migrating or owning it fails, saying what to do.
import type { DatabaseKind } from './recognise.js';

export type DatabaseErrorCode = 'corrupt' | 'locked' | 'in-use' | 'migration' | 'open' | 'foreign' | 'read-only';

/** Everything that stops the database from being used, with a message that says what to do about it. */
export class DatabaseError extends Error {
  constructor(
    readonly code: DatabaseErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

export function corruptError(file: string, reason: string, cause?: unknown): DatabaseError {
  return new DatabaseError(
    'corrupt',
    file,
    `${file} is not a usable sprint-runner database (${reason}). Move it aside (for example rename it to ` +
      `${file}.broken, with any ${file}-wal and ${file}-shm beside it) and start again: a new, empty database ` +
      `is then created in its place.`,
    { cause },
  );
}

export function lockedError(file: string, busyTimeoutMs: number, cause?: unknown): DatabaseError {
  return new DatabaseError(
    'locked',
    file,
    `${file} is locked by another process, which held its lock for more than ${busyTimeoutMs} ms. ` +
      `End the other program that has this database open (another sprint-runner, or an SQLite tool with an ` +
      `open transaction), then try again.`,
    { cause },
  );
}

export function readOnlyError(file: string, reason: string, cause?: unknown): DatabaseError {
  return new DatabaseError(
    'read-only',
    file,
    `The database ${file} is read-only (${reason}), and sprint-runner records every step in it. Make it writable ` +
      `(its permissions, an immutable flag, a read-only mount), or pass --db with another file.`,
    { cause },
  );
}

/** Maps what better-sqlite3 threw while opening or checking the file to one of our codes. */
export function classify(err: unknown, file: string, busyTimeoutMs: number): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const code = sqliteCode(err);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return corruptError(file, reasonOf(err), err);
  if (isBusy(err)) return lockedError(file, busyTimeoutMs, err);
  if (code.startsWith('SQLITE_READONLY')) return readOnlyError(file, reasonOf(err), err);
  return new DatabaseError('open', file, `Cannot open the database ${file}: ${reasonOf(err)}.`, { cause: err });
}

/** The refusal for a database file that is not ours: it is never opened for writing. */
export function foreignDatabaseError(file: string, kind: DatabaseKind): DatabaseError {
  const what =
    kind.kind === 'previous-orchestrator'
      ? "is the database of the project's previous (Python) sprint-runner orchestrator"
      : `is an SQLite database of another program (tables: ${kind.kind === 'foreign' ? kind.tables.join(', ') : '?'})`;
  return new DatabaseError(
    'foreign',
    file,
    `${file} ${what}, not a sprint-runner database, so it was left exactly as it is. Give this tool a ` +
      `database file of its own with --db FILE (a new file is created there).`,
  );
}
