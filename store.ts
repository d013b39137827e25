// The package's `sprint-runner/store` entry: the SQLite store `serve` uses, for a runner embedded in another program.
export { createSqliteStore, type RecoveryReport, type SqliteRunStore } from './db/store.js';
export { acquireOwner, DatabaseError, migrateToLatest, openDatabase, releaseOwner } from './db/database.js';
export type { DatabaseErrorCode, OpenOptions, OwnerRecord, SprintDb } from './db/database.js';
export type { RunStore } from './machines/persistence.js';
