// Checks openDatabase on files it must refuse: garbage, a damaged database, one another process has locked.
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../../db/database.js';
import { DatabaseError } from '../../db/database-errors.js';
import { insertEvent } from '../../db/events.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();

function openError(file: string, options?: Parameters<typeof openDatabase>[1]): DatabaseError {
  try {
    openDatabase(file, options).close();
  } catch (err) {
    expect(err).toBeInstanceOf(DatabaseError);
    return err as DatabaseError;
  }
  throw new Error(`expected ${file} to be refused`);
}

/** A real, migrated database with enough rows to span many pages; closed, so its WAL is checkpointed. */
async function realDatabase(name: string): Promise<string> {
  const db = ctx.open(name);
  await migrateToLatest(db);
  db.sqlite.transaction(() => {
    for (let i = 0; i < 3000; i++) insertEvent(db, { batchId: null, commandId: null, type: 'x', ts: i, payload: { i, pad: 'p'.repeat(100) } });
  })();
  db.close();
  expect(existsSync(`${db.file}-wal`)).toBe(false);
  return db.file;
}

describe('openDatabase', () => {
  it('creates the folder and the file', () => {
    const file = join(ctx.dir(), 'a', 'b', 'sprint.db');
    const db = openDatabase(file);
    try {
      expect(db.file).toBe(file);
      expect(existsSync(file)).toBe(true);
    } finally {
      db.close();
    }
    // closing twice is harmless
    db.close();
  });

  it('refuses 4 KB of garbage as corrupt, naming the file and saying to move it aside', () => {
    const file = join(ctx.dir(), 'garbage.db');
    writeFileSync(file, randomBytes(4096));
    const error = openError(file);
    expect(error.code).toBe('corrupt');
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/move it aside/i);
  });

  it('refuses a text file as corrupt', () => {
    const file = join(ctx.dir(), 'notes.db');
    writeFileSync(file, '1795003212,1,1-1,create-story,setup,start,"a CSV, not a database"\n'.repeat(100));
    expect(openError(file).code).toBe('corrupt');
  });

  it.each([
    ['to a few bytes', (size: number) => 100],
    ['to one page', (size: number) => 4096],
    ['to half', (size: number) => Math.floor(size / 2)],
    ['by one page', (size: number) => size - 4096],
    ['by 100 bytes', (size: number) => size - 100],
  ])('refuses a real database truncated %s as corrupt', async (_, cut) => {
    const original = await realDatabase('real.db');
    const file = join(ctx.dir(), 'truncated.db');
    copyFileSync(original, file);
    truncateSync(file, cut(statSync(original).size));
    const error = openError(file);
    expect(error.code).toBe('corrupt');
    expect(error.message).toContain(file);
  });

  it('leaves a refused file as it was', () => {
    const file = join(ctx.dir(), 'garbage.db');
    const bytes = randomBytes(4096);
    writeFileSync(file, bytes);
    openError(file);
    expect(statSync(file).size).toBe(4096);
  });

  it('reports a database another connection holds an exclusive lock on (WAL database)', async () => {
    const file = await realDatabase('locked.db');
    const other = new BetterSqlite3(file);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const started = Date.now();
      const error = openError(file, { busyTimeoutMs: 100 });
      expect(error.code).toBe('locked');
      expect(error.message).toContain(file);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // free again: opens fine
    openDatabase(file).close();
  });

  it('reports a locked database in rollback-journal mode too', () => {
    const file = join(ctx.dir(), 'journal.db');
    const other = new BetterSqlite3(file);
    try {
      other.exec('CREATE TABLE t (x)');
      other.exec('BEGIN EXCLUSIVE');
      other.exec('INSERT INTO t VALUES (1)');
      const error = openError(file, { busyTimeoutMs: 100 });
      expect(error.code).toBe('locked');
      expect(error.message).toMatch(/locked by another process/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('reports a path that cannot be a database file as open', () => {
    const error = openError(ctx.dir()); // a folder
    expect(error.code).toBe('open');
    expect(error.message).toContain(ctx.dir());
  });

  it('honours busyTimeoutMs', () => {
    const db = ctx.open('t.db', { busyTimeoutMs: 1234 });
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(1234);
  });
});
