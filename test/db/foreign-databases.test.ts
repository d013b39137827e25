// A database file that is not ours is recognised read-only and never written; the previous orchestrator's history is read once.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase, recogniseDatabase } from '../../db/database.js';
import { DatabaseError } from '../../db/database-errors.js';
import { legacyEvents, legacyRecords } from '../../db/legacy-reads.js';
import { importPreviousOrchestrator } from '../../db/previous-orchestrator.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();

/** A database in the shape of the previous (Python) orchestrator's: same five table names, its own columns. */
function previousOrchestratorDb(file: string, rows = true): void {
  const db = new BetterSqlite3(file);
  db.exec(`
    CREATE TABLE batches (id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER, max_cycles INTEGER NOT NULL,
      cycles_completed INTEGER DEFAULT 0, status TEXT NOT NULL DEFAULT 'running');
    CREATE TABLE stories (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, story_key TEXT NOT NULL, epic_id TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'in-progress', started_at INTEGER NOT NULL, ended_at INTEGER);
    CREATE TABLE commands (id INTEGER PRIMARY KEY, story_id INTEGER NOT NULL, command TEXT NOT NULL, task_id TEXT NOT NULL,
      started_at INTEGER NOT NULL, ended_at INTEGER, status TEXT NOT NULL DEFAULT 'running', output_summary TEXT);
    CREATE TABLE events (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, story_id INTEGER, command_id INTEGER,
      timestamp INTEGER NOT NULL, epic_id TEXT NOT NULL, story_key TEXT NOT NULL, command TEXT NOT NULL, task_id TEXT NOT NULL,
      status TEXT NOT NULL, message TEXT);
    CREATE TABLE background_tasks (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, story_key TEXT NOT NULL,
      task_type TEXT NOT NULL, spawned_at INTEGER NOT NULL, completed_at INTEGER, status TEXT NOT NULL DEFAULT 'running');
  `);
  if (rows) {
    db.exec(`
      INSERT INTO batches VALUES (1, 1700000000, 1700003600, 3, 1, 'completed');
      INSERT INTO stories VALUES (1, 1, '3a-2', '3a', 'done', 1700000100, 1700003000);
      INSERT INTO commands VALUES (1, 1, 'create-story', 'setup', 1700000100, 1700000200, 'completed', 'Story written');
      INSERT INTO commands VALUES (2, 1, 'dev-story', 'implement', 1700000300, 1700001300, 'completed', 'Done');
      INSERT INTO events VALUES (1, 1, 1, 2, 1700000300, '3a', '3a-2', 'dev-story', 'implement', 'start', 'Implementing');
      INSERT INTO events VALUES (2, 1, 1, 2, 1700001300, '3a', '3a-2', 'dev-story', 'implement', 'end', 'Implemented');
      INSERT INTO background_tasks VALUES (1, 1, '3a-2', 'story-review-chain', 1700000250, NULL, 'running');
    `);
  }
  db.close();
}

function folderListing(dir: string): string[] {
  return readdirSync(dir).sort();
}

describe('recognising a file before opening it for writing', () => {
  it('tells a new file, ours, the previous orchestrator\'s and another program\'s apart, reading only', async () => {
    const dir = ctx.dir();
    expect(recogniseDatabase(join(dir, 'absent.db'))).toEqual({ kind: 'new' });
    writeFileSync(join(dir, 'empty.db'), '');
    expect(recogniseDatabase(join(dir, 'empty.db'))).toEqual({ kind: 'new' });
    await ctx.fresh('ours.db');
    expect(recogniseDatabase(join(dir, 'ours.db'))).toEqual({ kind: 'ours' });
    previousOrchestratorDb(join(dir, 'previous.db'));
    expect(recogniseDatabase(join(dir, 'previous.db'))).toEqual({ kind: 'previous-orchestrator' });
    const other = new BetterSqlite3(join(dir, 'other.db'));
    other.exec('CREATE TABLE batches (x); CREATE TABLE notes (y)');
    other.close();
    expect(recogniseDatabase(join(dir, 'other.db'))).toEqual({ kind: 'foreign', tables: ['batches', 'notes'] });
  });

  it.each([
    ['the previous orchestrator\'s database', (file: string) => previousOrchestratorDb(file), /previous \(Python\) sprint-runner orchestrator/],
    [
      'another program\'s database',
      (file: string) => {
        const db = new BetterSqlite3(file);
        db.exec("CREATE TABLE batches (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO batches VALUES (1, 'x')");
        db.close();
      },
      /another program \(tables: batches\)/,
    ],
  ])('refuses %s with a message naming --db, and leaves it byte-identical with nothing beside it', (_, make, what) => {
    const file = join(ctx.dir(), 'sprint-runner.db');
    make(file);
    const bytes = readFileSync(file);
    const before = folderListing(ctx.dir());
    let error: unknown;
    try {
      ctx.open('sprint-runner.db');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe('foreign');
    expect((error as DatabaseError).message).toMatch(what);
    expect((error as DatabaseError).message).toMatch(/--db FILE/);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    // no -wal, -shm or .bak: no pragma, backup or migration touched it
    expect(folderListing(ctx.dir())).toEqual(before);
  });

  it('opens our own database as before', async () => {
    await ctx.fresh('ours.db');
    expect(() => openDatabase(join(ctx.dir(), 'ours.db')).close()).not.toThrow();
  });
});

describe('importing the previous orchestrator\'s history', () => {
  it('reads it once, read-only: events and uncovered commands as legacy rows, batches, stories and background tasks as records', async () => {
    const previous = join(ctx.dir(), 'previous.db');
    previousOrchestratorDb(previous);
    const bytes = readFileSync(previous);
    const db = await ctx.fresh();

    const first = importPreviousOrchestrator(db, previous);
    expect(first).toEqual({ imported: true, file: previous, summary: { batches: 1, stories: 1, commands: 2, events: 2, backgroundTasks: 1 } });
    const rows = await legacyEvents(db);
    expect(rows.map((r) => `${r.epoch} ${r.story} ${r.command} ${r.taskId} ${r.status} ${r.message ?? '-'} ${r.source}`)).toEqual([
      '1700000100 3a-2 create-story setup start - previous-db',
      '1700000200 3a-2 create-story setup end Story written previous-db',
      '1700000300 3a-2 dev-story implement start Implementing previous-db',
      '1700001300 3a-2 dev-story implement end Implemented previous-db',
    ]);
    expect(new Set(rows.map((r) => r.run)).size).toBe(2);
    const { imports, records } = await legacyRecords(db);
    expect(imports).toEqual([expect.objectContaining({ source: 'previous-db', file: previous })]);
    expect(records.map((r) => `${r.kind} ${r.sourceId} ${r.story ?? '-'} ${r.label ?? '-'} ${r.status} ${r.startedAt}-${r.endedAt ?? ''}`)).toEqual([
      'batch 1 - 3 completed 1700000000-1700003600',
      'story 1 3a-2 - done 1700000100-1700003000',
      'background-task 1 3a-2 story-review-chain running 1700000250-',
    ]);

    expect(readFileSync(previous).equals(bytes)).toBe(true);

    // rows added to the old file later are not read: it is imported once
    const later = new BetterSqlite3(previous);
    later.exec("INSERT INTO events VALUES (3, 1, 1, 2, 1700005000, '3a', '3a-2', 'dev-story', 'implement', 'start', 'again')");
    later.close();
    expect(importPreviousOrchestrator(db, previous).imported).toBe(false);
    expect(await legacyEvents(db)).toEqual(rows);
    expect(existsSync(`${previous}-wal`)).toBe(false);
  });
});

/**
 * The same tool's later schema (its db.py from story E1-S1 on): `events.event_type`, millisecond times, and
 * statuses beyond start/end as its code writes them. Our own rows in that shape.
 */
function laterPreviousOrchestratorDb(file: string): void {
  const db = new BetterSqlite3(file);
  db.exec(`
    CREATE TABLE batches (id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER, max_cycles INTEGER NOT NULL,
      cycles_completed INTEGER DEFAULT 0, status TEXT NOT NULL DEFAULT 'running');
    CREATE TABLE stories (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, story_key TEXT NOT NULL, epic_id TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'in-progress', started_at INTEGER NOT NULL, ended_at INTEGER, FOREIGN KEY (batch_id) REFERENCES batches(id));
    CREATE TABLE commands (id INTEGER PRIMARY KEY, story_id INTEGER NOT NULL, command TEXT NOT NULL, task_id TEXT NOT NULL,
      started_at INTEGER NOT NULL, ended_at INTEGER, status TEXT NOT NULL DEFAULT 'running', output_summary TEXT);
    CREATE TABLE events (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, story_id INTEGER, command_id INTEGER,
      timestamp INTEGER NOT NULL, event_type TEXT NOT NULL, epic_id TEXT NOT NULL, story_key TEXT NOT NULL, command TEXT NOT NULL,
      task_id TEXT NOT NULL, status TEXT NOT NULL, message TEXT);
    CREATE TABLE background_tasks (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, story_key TEXT NOT NULL,
      task_type TEXT NOT NULL, spawned_at INTEGER NOT NULL, completed_at INTEGER, status TEXT NOT NULL DEFAULT 'running');
    CREATE INDEX idx_stories_batch_key ON stories(batch_id, story_key);
    INSERT INTO batches VALUES (1, 1700000000000, 1700003600000, 2, 1, 'completed');
    INSERT INTO stories VALUES (1, 1, '7-qa-1', '7-qa', 'done', 1700000100000, 1700003000000);
    INSERT INTO commands VALUES (1, 1, 'dev-story', 'implement', 1700000300000, 1700001300000, 'completed', 'Done');
    INSERT INTO events VALUES (1, 1, 1, 1, 1700000300000, 'command:start', '7-qa', '7-qa-1', 'dev-story', 'implement', 'start', 'Implementing');
    INSERT INTO events VALUES (2, 1, 1, 1, 1700000400000, 'command:progress', '7-qa', '7-qa-1', 'dev-story', 'implement', 'progress', 'Half way');
    INSERT INTO events VALUES (3, 1, 1, 1, 1700001300000, 'command:end', '7-qa', '7-qa-1', 'dev-story', 'implement', 'complete', 'Implemented');
  `);
  db.close();
}

describe("importing a later version of the previous orchestrator's database", () => {
  it('reads millisecond times as seconds, an end by any of its names as `end`, and keeps a progress line inside its run', async () => {
    const previous = join(ctx.dir(), 'previous.db');
    laterPreviousOrchestratorDb(previous);
    const bytes = readFileSync(previous);
    expect(recogniseDatabase(previous)).toEqual({ kind: 'previous-orchestrator' });
    const db = await ctx.fresh();
    expect(importPreviousOrchestrator(db, previous)).toMatchObject({ imported: true, summary: { batches: 1, stories: 1, commands: 1, events: 3, backgroundTasks: 0 } });
    const rows = await legacyEvents(db);
    expect(rows.map((r) => `${r.epoch} ${r.story} ${r.command} ${r.status} ${r.message}`)).toEqual([
      '1700000300 7-qa-1 dev-story start Implementing',
      '1700000400 7-qa-1 dev-story progress Half way',
      '1700001300 7-qa-1 dev-story end Implemented',
    ]);
    expect(new Set(rows.map((r) => r.run)).size).toBe(1);
    const { records } = await legacyRecords(db);
    expect(records.map((r) => `${r.kind} ${r.startedAt}-${r.endedAt}`)).toEqual(['batch 1700000000-1700003600', 'story 1700000100-1700003000']);
    expect(readFileSync(previous).equals(bytes)).toBe(true);
  });
});
