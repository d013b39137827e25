// Opens the SQLite file with the settings the runner relies on and migrates it safely (owner.ts then guards it to one orchestrator).
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationResultSet } from 'kysely';
import { classify, corruptError, DatabaseError, foreignDatabaseError, readOnlyError, reasonOf } from './database-errors.js';
import { migrations as defaultMigrations } from './migrations.js';
import { MIGRATION_TABLE, recogniseDatabase } from './recognise.js';
import type { Database } from './schema.js';
import type { SprintDb } from './handle.js';

export type { SprintDb };

export { recogniseDatabase, type DatabaseKind } from './recognise.js';

export interface OpenOptions {
  /** how long a statement waits for another connection's lock before failing (default 5000 ms) */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** Kysely's own bookkeeping tables: they alone do not make a database worth backing up. */
const MIGRATION_LOCK_TABLE = 'kysely_migration_lock';

/**
 * Why this process cannot write `path` (a file, or the folder that must hold the WAL beside it), or null.
 * access(2) also sees what permission bits do not: an immutable flag (even for root) and a read-only mount.
 */
function notWritable(path: string): string | null {
  try {
    accessSync(path, constants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    return `${path}: ${code === 'EROFS' ? 'on a read-only file system' : code === 'EPERM' ? 'not writable (immutable?)' : code === 'EACCES' ? 'permission denied' : reasonOf(err)}`;
  }
}

/**
 * What quick_check cannot see: a file cut short inside its last pages reads as zeros there, which can
 * look like valid empty space. The header records the page size and (when its version stamp is current)
 * the page count, and a database file only ever holds whole pages. Skipped while the WAL holds frames,
 * because a checkpoint interrupted by a crash legitimately leaves the file short until recovery.
 */
function truncation(file: string): string | null {
  let size: number;
  let header: Buffer;
  try {
    if (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0) return null;
    size = statSync(file).size;
    if (size === 0) return null;
    header = Buffer.alloc(100);
    const fd = openSync(file, 'r');
    try {
      if (readSync(fd, header, 0, 100, 0) < 100) return 'the file is shorter than its header';
    } finally {
      closeSync(fd);
    }
  } catch {
    // unreadable here means SQLite will say so on first use; this check only adds to its own
    return null;
  }
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512) return null;
  if (size % pageSize !== 0) return `the file is ${size} bytes, not a whole number of ${pageSize}-byte pages: it was cut short`;
  const pages = header.readUInt32BE(28);
  const stampValid = header.readUInt32BE(24) === header.readUInt32BE(92);
  if (stampValid && pages > 0 && pages * pageSize > size) {
    return `its header counts ${pages} pages but the file holds ${size / pageSize}: it was cut short`;
  }
  return null;
}

/**
 * Opens (creating if needed) the database file. Fails fast with a DatabaseError when the file is not a
 * database or is damaged ('corrupt'), when another process holds its write lock ('locked'), or when it
 * cannot be opened at all ('open'). Call migrateToLatest next, then acquireOwner.
 */
export function openDatabase(file: string, options: OpenOptions = {}): SprintDb {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const inMemory = file === ':memory:' || file === '';
  // first, before any pragma, backup or migration: a file that is not ours is never opened for writing
  const kind = recogniseDatabase(file);
  if (kind.kind === 'foreign' || kind.kind === 'previous-orchestrator') throw foreignDatabaseError(file, kind);
  if (!inMemory) {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      throw new DatabaseError('open', file, `Cannot create the folder for the database ${file}: ${reasonOf(err)}.`, {
        cause: err,
      });
    }
  }

  if (!inMemory) {
    // SQLite opens a file it cannot write read-only without a word, and fails only at the first write
    const readOnly = notWritable(file) ?? notWritable(dirname(file));
    if (readOnly !== null) throw readOnlyError(file, readOnly);
  }

  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(file, { timeout: busyTimeoutMs });
  } catch (err) {
    throw classify(err, file, busyTimeoutMs);
  }

  try {
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    // Read before anything writes: switching to WAL would rewrite the header of a damaged file.
    // schema_version fails on a file that is no database; quick_check finds damage deeper in it.
    sqlite.pragma('schema_version', { simple: true });
    const check = sqlite.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') throw corruptError(file, `integrity check: ${String(check).replace(/\s+/g, ' ').trim()}`);
    if (!inMemory) {
      const truncated = truncation(file);
      if (truncated !== null) throw corruptError(file, truncated);
    }
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // NORMAL is durable in WAL mode except for the last commits before a power loss, and much faster
    sqlite.pragma('synchronous = NORMAL');
    // No memory-mapped reads of the file: a mapped page that the disk cannot back (a file cut short, a full or
    // vanished filesystem) is a SIGBUS that kills the process; read() gives an error we can report instead.
    sqlite.pragma('mmap_size = 0');
    // In WAL mode another writer's exclusive lock does not stop reads, so only trying to write finds it;
    // finding it now gives one clear error instead of a failure in the middle of a run.
    sqlite.exec('BEGIN IMMEDIATE');
    sqlite.exec('ROLLBACK');
  } catch (err) {
    sqlite.close();
    throw classify(err, file, busyTimeoutMs);
  }

  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    file,
    sqlite,
    kysely,
    close(): void {
      // Synchronous on purpose: it must work from exit handlers. Kysely holds nothing beyond this handle.
      if (sqlite.open) sqlite.close();
    },
  };
}

function userTableCount(sqlite: BetterSqlite3.Database): number {
  return sqlite
    .prepare(
      `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ` +
        `AND name NOT IN (?, ?)`,
    )
    .pluck()
    .get(MIGRATION_TABLE, MIGRATION_LOCK_TABLE) as number;
}

function executedMigrationNames(sqlite: BetterSqlite3.Database): string[] {
  const exists = sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(MIGRATION_TABLE);
  if (exists === undefined) return [];
  return sqlite.prepare(`SELECT name FROM ${MIGRATION_TABLE} ORDER BY name`).pluck().all() as string[];
}

function backupPath(file: string, migration: string): string {
  // no ':' in the name, so the file can be copied to any filesystem
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return `${file}.before-${migration}.${stamp}.bak`;
}

/**
 * Applies every pending migration, all in one transaction. Before touching a database that already holds
 * tables it writes an online backup beside it and returns its path. Call it right after openDatabase,
 * before anything else writes: the transaction stays open across awaits. `migrationMap` exists for tests.
 */
export async function migrateToLatest(
  db: SprintDb,
  migrationMap: Record<string, Migration> = defaultMigrations,
): Promise<{ applied: string[]; backup: string | null }> {
  const unknown = executedMigrationNames(db.sqlite).filter((name) => !(name in migrationMap));
  if (unknown.length > 0) {
    throw new DatabaseError(
      'migration',
      db.file,
      `${db.file} was migrated by a newer sprint-runner: it has migration ${unknown.join(', ')}, which this ` +
        `version does not know. Use that newer sprint-runner, or move the file aside to start a new database.`,
    );
  }

  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrationMap },
  });

  let pending: string[];
  try {
    pending = (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
  } catch (err) {
    throw new DatabaseError('migration', db.file, `Cannot read the migration state of ${db.file}: ${reasonOf(err)}.`, {
      cause: err,
    });
  }
  if (pending.length === 0) return { applied: [], backup: null };

  let backup: string | null = null;
  if (db.file !== ':memory:' && db.file !== '' && userTableCount(db.sqlite) > 0) {
    const path = backupPath(db.file, pending[0]!);
    try {
      await db.sqlite.backup(path);
    } catch (err) {
      throw new DatabaseError(
        'migration',
        db.file,
        `Could not back up ${db.file} to ${path} before migrating it, so nothing was changed: ${reasonOf(err)}. ` +
          `Free some disk space or fix the folder's permissions, then try again.`,
        { cause: err },
      );
    }
    backup = path;
  }

  // Kysely runs SQLite migrations without a transaction (its adapter claims no transactional DDL), so a
  // failure would leave half a schema. SQLite does have transactional DDL, and Kysely uses this very
  // connection, so one transaction around the whole run makes it all-or-nothing. IMMEDIATE also makes a
  // second process migrating at the same moment wait, then find nothing left to do.
  try {
    db.sqlite.exec('BEGIN IMMEDIATE');
  } catch (err) {
    throw classify(err, db.file, Number(db.sqlite.pragma('busy_timeout', { simple: true })));
  }
  let outcome: MigrationResultSet;
  try {
    outcome = await migrator.migrateToLatest();
  } catch (err) {
    outcome = { error: err };
  }
  const { error, results = [] } = outcome;
  if (error === undefined) db.sqlite.exec('COMMIT');
  else if (db.sqlite.inTransaction) db.sqlite.exec('ROLLBACK');
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? pending[0]!;
    throw new DatabaseError(
      'migration',
      db.file,
      `Migration ${failed} of ${db.file} failed: ${reasonOf(error)}. No migration was applied (they run in one ` +
        `transaction)` +
        (backup === null ? '.' : `; the database as it was before is also saved in ${backup}.`),
      { cause: error },
    );
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName), backup };
}
