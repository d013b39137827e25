// Checks that the migrations build exactly schema.ts, with its keys and indexes, and that migrating backs up first.
import { existsSync, readdirSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely, type Migration } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../db/database.js';
import { DatabaseError } from '../../db/database-errors.js';
import { migrations } from '../../db/migrations.js';
import type { Database } from '../../db/schema.js';
import { insertBatch } from '../../db/batches.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();

/** Every column of every table, checked by the compiler against schema.ts: a missing or extra key fails tsc. */
const SCHEMA_COLUMNS: { [T in keyof Database]: { [C in keyof Database[T]]-?: true } } = {
  batches: { id: true, started_at: true, ended_at: true, max_cycles: true, cycles_completed: true, status: true, message: true, project_root: true, budget_usd: true },
  stories: { id: true, key: true, short_id: true, epic_id: true, status: true, updated_at: true },
  commands: {
    id: true, batch_id: true, run_id: true, command: true, kind: true, story_ids: true, attempt: true, review_attempt: true,
    model: true, background: true, status: true, pid: true, pid_start_time: true, session_id: true, exit_code: true,
    signal: true, result_subtype: true, is_error: true, failure: true, message: true, cost_usd: true, input_tokens: true,
    output_tokens: true, cache_read_tokens: true, cache_creation_tokens: true, duration_ms: true, num_turns: true,
    interrupted: true, started_at: true, ended_at: true, continued_from: true,
  },
  command_stories: { command_id: true, story_id: true },
  tasks: { id: true, command_id: true, story_id: true, task_id: true, known: true, status: true, message: true, started_at: true, ended_at: true },
  events: { id: true, batch_id: true, command_id: true, type: true, ts: true, payload: true },
  background_tasks: {
    id: true, batch_id: true, command_id: true, task_key: true, command: true, story_ids: true, status: true, message: true,
    started_at: true, ended_at: true,
  },
  snapshots: { batch_id: true, machine_version: true, snapshot: true, updated_at: true },
  processes: { id: true, command_id: true, pid: true, start_time: true, role: true, ended: true },
  legacy_events: { id: true, line: true, epoch: true, epic: true, story: true, command: true, task_id: true, status: true, message: true, source: true },
  legacy_imports: { source: true, file: true, imported_at: true, summary: true },
  legacy_records: {
    id: true, source: true, kind: true, source_id: true, batch_source_id: true, story: true, epic: true, label: true, status: true,
    started_at: true, ended_at: true, data: true,
  },
  owner: { id: true, pid: true, start_time: true, hostname: true, acquired_at: true },
  transcripts: { command_id: true, head: true, tail: true, lines: true, bytes: true, cut_lines: true, cut_bytes: true, saved_at: true },
};

/** child table → [column, parent table, parent column, on delete] */
const FOREIGN_KEYS: Array<[string, string, string, string, string]> = [
  ['commands', 'batch_id', 'batches', 'id', 'NO ACTION'],
  ['command_stories', 'command_id', 'commands', 'id', 'CASCADE'],
  ['command_stories', 'story_id', 'stories', 'id', 'CASCADE'],
  ['tasks', 'command_id', 'commands', 'id', 'NO ACTION'],
  ['tasks', 'story_id', 'stories', 'id', 'NO ACTION'],
  ['events', 'batch_id', 'batches', 'id', 'NO ACTION'],
  ['events', 'command_id', 'commands', 'id', 'NO ACTION'],
  ['background_tasks', 'batch_id', 'batches', 'id', 'NO ACTION'],
  ['background_tasks', 'command_id', 'commands', 'id', 'NO ACTION'],
  ['snapshots', 'batch_id', 'batches', 'id', 'NO ACTION'],
  ['processes', 'command_id', 'commands', 'id', 'NO ACTION'],
  ['transcripts', 'command_id', 'commands', 'id', 'NO ACTION'],
];

function tables(sqlite: BetterSqlite3.Database): string[] {
  return sqlite
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' ORDER BY name`)
    .pluck()
    .all() as string[];
}

/** index name → its columns, for every index (explicit or from a constraint) of a table */
function indexes(sqlite: BetterSqlite3.Database, table: string): Array<{ columns: string[]; unique: boolean }> {
  const list = sqlite.pragma(`index_list(${table})`) as Array<{ name: string; unique: number }>;
  return list.map((index) => ({
    unique: index.unique === 1,
    columns: (sqlite.pragma(`index_info(${index.name})`) as Array<{ name: string }>).map((c) => c.name),
  }));
}

describe('migration 0001 on a fresh file', () => {
  it('creates every table of schema.ts with exactly its columns', async () => {
    const db = ctx.open();
    const result = await migrateToLatest(db);
    expect(result).toEqual({ applied: Object.keys(migrations).sort(), backup: null });
    expect(tables(db.sqlite)).toEqual(Object.keys(SCHEMA_COLUMNS).sort());
    for (const [table, columns] of Object.entries(SCHEMA_COLUMNS)) {
      const actual = (db.sqlite.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name).sort();
      expect(actual, table).toEqual(Object.keys(columns).sort());
    }
  });

  it('is clean, in WAL mode, with foreign keys enforced', async () => {
    const db = await ctx.fresh();
    expect(db.sqlite.pragma('foreign_key_check')).toEqual([]);
    expect(db.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('declares every foreign key, cascading only from command_stories', async () => {
    const db = await ctx.fresh();
    const actual = Object.keys(SCHEMA_COLUMNS).flatMap((table) =>
      (db.sqlite.pragma(`foreign_key_list(${table})`) as Array<{ table: string; from: string; to: string; on_delete: string }>).map(
        (fk) => [table, fk.from, fk.table, fk.to, fk.on_delete],
      ),
    );
    expect(actual.sort()).toEqual([...FOREIGN_KEYS].sort());
  });

  it('has the unique constraints and the indexes the dashboard needs', async () => {
    const db = await ctx.fresh();
    const has = (table: string, columns: string[], unique = false): boolean =>
      indexes(db.sqlite, table).some((i) => i.columns.join() === columns.join() && (!unique || i.unique));
    expect(has('stories', ['key'], true)).toBe(true);
    expect(has('legacy_events', ['line'], true)).toBe(true);
    expect(has('background_tasks', ['batch_id', 'task_key'], true)).toBe(true);
    expect(has('events', ['batch_id', 'id'])).toBe(true);
    expect(has('commands', ['batch_id', 'started_at'])).toBe(true);
    expect(has('commands', ['run_id'])).toBe(true);
    expect(has('command_stories', ['story_id'])).toBe(true);
    expect(has('tasks', ['command_id'])).toBe(true);
    expect(has('background_tasks', ['batch_id'])).toBe(true);
    expect(has('processes', ['ended'])).toBe(true);
    const pk = (db.sqlite.pragma('table_info(snapshots)') as Array<{ name: string; pk: number }>).filter((c) => c.pk > 0);
    expect(pk.map((c) => c.name)).toEqual(['batch_id']);
  });

  it('allows only owner row 1', async () => {
    const db = await ctx.fresh();
    const insert = db.sqlite.prepare(`INSERT INTO owner (id, pid, start_time, hostname, acquired_at) VALUES (?, 1, 1, 'h', 't')`);
    insert.run(1);
    expect(() => insert.run(2)).toThrow(/CHECK constraint failed/);
  });

  it('applies nothing the second time', async () => {
    const db = ctx.open();
    await migrateToLatest(db);
    expect(await migrateToLatest(db)).toEqual({ applied: [], backup: null });
    // nor after reopening
    db.close();
    expect(await migrateToLatest(ctx.open())).toEqual({ applied: [], backup: null });
  });
});

describe('a later migration', () => {
  const only0001 = { '0001_initial': migrations['0001_initial']! };
  const add0002: Record<string, Migration> = {
    ...only0001,
    '0002_test': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('batches').addColumn('note', 'text').execute();
      },
    },
  };

  it('is applied after an online backup that holds the data as it was', async () => {
    const db = ctx.open();
    await migrateToLatest(db, only0001);
    const batchId = insertBatch(db, { startedAt: '2030-01-01T00:00:00.000Z', maxCycles: 3, status: 'completed', projectRoot: '/p' });

    const result = await migrateToLatest(db, add0002);
    expect(result.applied).toEqual(['0002_test']);
    expect(result.backup).not.toBeNull();
    const backup = result.backup!;
    expect(backup.startsWith(`${db.file}.before-0002_test.`)).toBe(true);
    expect(backup.endsWith('.bak')).toBe(true);
    expect(existsSync(backup)).toBe(true);

    const copy = new BetterSqlite3(backup, { readonly: true });
    try {
      expect(copy.prepare('SELECT id, project_root FROM batches').all()).toEqual([{ id: batchId, project_root: '/p' }]);
      const columns = (copy.pragma('table_info(batches)') as Array<{ name: string }>).map((c) => c.name);
      expect(columns).not.toContain('note');
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      copy.close();
    }
    const columns = (db.sqlite.pragma('table_info(batches)') as Array<{ name: string }>).map((c) => c.name);
    expect(columns).toContain('note');
    expect(await migrateToLatest(db, add0002)).toEqual({ applied: [], backup: null });
  });

  it('that fails is a DatabaseError(migration), changes nothing, and leaves the backup', async () => {
    const db = ctx.open();
    await migrateToLatest(db, only0001);
    insertBatch(db, { startedAt: '2030-01-01T00:00:00.000Z', maxCycles: 'all', status: 'running', projectRoot: '/p' });
    const failing: Record<string, Migration> = {
      ...add0002,
      '0003_broken': {
        async up(db: Kysely<any>) {
          await sql`THIS IS NOT SQL`.execute(db);
        },
      },
    };
    const error = await migrateToLatest(db, failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe('migration');
    expect((error as DatabaseError).message).toContain('0003_broken');
    expect((error as DatabaseError).message).toContain(db.file);
    // 0002 ran in the same transaction, so it is rolled back too
    const columns = (db.sqlite.pragma('table_info(batches)') as Array<{ name: string }>).map((c) => c.name);
    expect(columns).not.toContain('note');
    expect(readdirSync(ctx.dir()).filter((f) => f.includes('.before-0002_test.'))).toHaveLength(1);
  });

  it('made by a newer version is refused with a clear message', async () => {
    const db = ctx.open();
    await migrateToLatest(db, add0002);
    const error = await migrateToLatest(db, only0001).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe('migration');
    expect((error as DatabaseError).message).toMatch(/newer sprint-runner.*0002_test/);
  });

  it('on a database without tables takes no backup', async () => {
    const db = ctx.open();
    const result = await migrateToLatest(db, add0002);
    expect(result).toEqual({ applied: ['0001_initial', '0002_test'], backup: null });
    expect(readdirSync(ctx.dir()).filter((f) => f.endsWith('.bak'))).toEqual([]);
  });
});

describe('the migration map', () => {
  it('is static and names sort in the order they must run', () => {
    const names = Object.keys(migrations);
    expect(names).toEqual([...names].sort());
    expect(names[0]).toBe('0001_initial');
  });
});
