// Temp-dir SQLite files for the db tests: each test gets its own folder, and every database opened is closed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { migrateToLatest, openDatabase, type OpenOptions, type SprintDb } from '../../db/database.js';

export interface DbTestContext {
  /** the test's own temp folder */
  dir(): string;
  /** opens (and remembers, to close after the test) a database in the temp folder */
  open(name?: string, options?: OpenOptions): SprintDb;
  /** opens and migrates */
  fresh(name?: string): Promise<SprintDb>;
}

/** Registers beforeEach/afterEach hooks in the calling file. */
export function useTempDatabases(): DbTestContext {
  let dir = '';
  const opened: SprintDb[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sprint-db-'));
  });
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (name = 'sprint.db', options?: OpenOptions): SprintDb => {
    const db = openDatabase(join(dir, name), options);
    opened.push(db);
    return db;
  };
  return {
    dir: () => dir,
    open,
    async fresh(name = 'sprint.db') {
      const db = open(name);
      await migrateToLatest(db);
      return db;
    },
  };
}
