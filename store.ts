// The package's `sprint-runner/store` entry: the SQLite store `serve` uses, for a runner embedded in another program.
export { createSqliteStore, type RecoveryReport, type SqliteRunStore } from './db/store.js';
export { migrateToLatest, openDatabase } from './db/database.js';
export type { OpenOptions, SprintDb } from './db/database.js';
export { DatabaseError, type DatabaseErrorCode } from './db/database-errors.js';
export { acquireOwner, releaseOwner, type OwnerRecord } from './db/owner.js';
export type { RunStore } from './machines/persistence.js';
