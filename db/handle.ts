// The open database handle every db module works on; its own module so that opening and writing never import each other.
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** One open sprint-runner database: the raw connection for synchronous writes and Kysely over the same one. */
export interface SprintDb {
  file: string;
  sqlite: BetterSqlite3.Database;
  kysely: Kysely<Database>;
  close(): void;
}
