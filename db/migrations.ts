// Every schema migration, in a static map so dist/ and the tests run exactly the same ones.
import { sql, type Kysely, type Migration } from 'kysely';

/*
 * Migrations are frozen in time: they take Kysely<any>, never the current Database interface, so a later
 * change to schema.ts cannot change what an old migration does. Kysely applies them in name order, and
 * migrateToLatest (database.ts) wraps all pending ones in one transaction, so a migration must not open a
 * transaction itself. A later migration that must rebuild a table (SQLite's way to change a column) cannot
 * switch foreign_keys off inside that transaction; it should use `PRAGMA defer_foreign_keys = ON` instead.
 *
 * Status columns carry no CHECK constraint on purpose: adding a status later would then need a table
 * rebuild. The TypeScript types guard them; the one CHECK left (owner.id = 1) is what makes a single row.
 */

const initial: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('batches')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('started_at', 'text', (col) => col.notNull())
      .addColumn('ended_at', 'text')
      .addColumn('max_cycles', 'text', (col) => col.notNull())
      .addColumn('cycles_completed', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('message', 'text')
      .addColumn('project_root', 'text', (col) => col.notNull())
      .execute();

    await db.schema
      .createTable('stories')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('key', 'text', (col) => col.notNull().unique())
      .addColumn('short_id', 'text', (col) => col.notNull())
      .addColumn('epic_id', 'text', (col) => col.notNull())
      .addColumn('status', 'text')
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();

    await db.schema
      .createTable('commands')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('batch_id', 'integer', (col) => col.notNull().references('batches.id'))
      .addColumn('run_id', 'text', (col) => col.notNull())
      .addColumn('command', 'text', (col) => col.notNull())
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('story_ids', 'text', (col) => col.notNull())
      .addColumn('attempt', 'integer', (col) => col.notNull())
      .addColumn('review_attempt', 'integer')
      .addColumn('model', 'text')
      .addColumn('background', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('pid', 'integer')
      .addColumn('pid_start_time', 'integer')
      .addColumn('session_id', 'text')
      .addColumn('exit_code', 'integer')
      .addColumn('signal', 'text')
      .addColumn('result_subtype', 'text')
      .addColumn('is_error', 'integer')
      .addColumn('failure', 'text')
      .addColumn('message', 'text')
      .addColumn('cost_usd', 'real')
      .addColumn('input_tokens', 'integer')
      .addColumn('output_tokens', 'integer')
      .addColumn('cache_read_tokens', 'integer')
      .addColumn('cache_creation_tokens', 'integer')
      .addColumn('duration_ms', 'integer')
      .addColumn('num_turns', 'integer')
      .addColumn('interrupted', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('started_at', 'text', (col) => col.notNull())
      .addColumn('ended_at', 'text')
      .execute();

    await db.schema
      .createTable('command_stories')
      .addColumn('command_id', 'integer', (col) => col.notNull().references('commands.id').onDelete('cascade'))
      .addColumn('story_id', 'integer', (col) => col.notNull().references('stories.id').onDelete('cascade'))
      // the pair is the identity: a command serves a story once
      .addPrimaryKeyConstraint('command_stories_pk', ['command_id', 'story_id'])
      .execute();

    await db.schema
      .createTable('tasks')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('command_id', 'integer', (col) => col.notNull().references('commands.id'))
      .addColumn('story_id', 'integer', (col) => col.references('stories.id'))
      .addColumn('task_id', 'text', (col) => col.notNull())
      .addColumn('known', 'integer', (col) => col.notNull())
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('message', 'text')
      .addColumn('started_at', 'text', (col) => col.notNull())
      .addColumn('ended_at', 'text')
      .execute();

    // AUTOINCREMENT matters here above all: event ids are what clients resume from, so one must never be reused
    await db.schema
      .createTable('events')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('batch_id', 'integer', (col) => col.references('batches.id'))
      .addColumn('command_id', 'integer', (col) => col.references('commands.id'))
      .addColumn('type', 'text', (col) => col.notNull())
      .addColumn('ts', 'integer', (col) => col.notNull())
      .addColumn('payload', 'text', (col) => col.notNull())
      .execute();

    await db.schema
      .createTable('background_tasks')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('batch_id', 'integer', (col) => col.notNull().references('batches.id'))
      .addColumn('command_id', 'integer', (col) => col.references('commands.id'))
      .addColumn('task_key', 'text', (col) => col.notNull())
      .addColumn('command', 'text', (col) => col.notNull())
      .addColumn('story_ids', 'text', (col) => col.notNull())
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('message', 'text')
      .addColumn('started_at', 'text', (col) => col.notNull())
      .addColumn('ended_at', 'text')
      .addUniqueConstraint('background_tasks_batch_key', ['batch_id', 'task_key'])
      .execute();

    await db.schema
      .createTable('snapshots')
      .addColumn('batch_id', 'integer', (col) => col.primaryKey().references('batches.id'))
      .addColumn('machine_version', 'text', (col) => col.notNull())
      .addColumn('snapshot', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();

    await db.schema
      .createTable('processes')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('command_id', 'integer', (col) => col.notNull().references('commands.id'))
      .addColumn('pid', 'integer', (col) => col.notNull())
      .addColumn('start_time', 'integer', (col) => col.notNull())
      .addColumn('role', 'text', (col) => col.notNull())
      .addColumn('ended', 'integer', (col) => col.notNull().defaultTo(0))
      .execute();

    await db.schema
      .createTable('legacy_events')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('line', 'text', (col) => col.notNull().unique())
      .addColumn('epoch', 'integer', (col) => col.notNull())
      .addColumn('epic', 'text', (col) => col.notNull())
      .addColumn('story', 'text', (col) => col.notNull())
      .addColumn('command', 'text', (col) => col.notNull())
      .addColumn('task_id', 'text', (col) => col.notNull())
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('message', 'text')
      .execute();

    await db.schema
      .createTable('owner')
      .addColumn('id', 'integer', (col) => col.primaryKey())
      .addColumn('pid', 'integer', (col) => col.notNull())
      .addColumn('start_time', 'integer', (col) => col.notNull())
      .addColumn('hostname', 'text', (col) => col.notNull())
      .addColumn('acquired_at', 'text', (col) => col.notNull())
      .addCheckConstraint('owner_single_row', sql`id = 1`)
      .execute();

    // What the dashboard and the runtime look up by; the unique constraints above bring their own indexes.
    await db.schema.createIndex('events_batch_id').on('events').columns(['batch_id', 'id']).execute();
    await db.schema.createIndex('commands_batch_started').on('commands').columns(['batch_id', 'started_at']).execute();
    await db.schema.createIndex('commands_run_id').on('commands').column('run_id').execute();
    await db.schema.createIndex('command_stories_story').on('command_stories').column('story_id').execute();
    await db.schema.createIndex('tasks_command').on('tasks').column('command_id').execute();
    await db.schema.createIndex('background_tasks_batch').on('background_tasks').column('batch_id').execute();
    await db.schema.createIndex('processes_ended').on('processes').column('ended').execute();
    // child-side indexes of foreign keys, so checking or deleting a parent row never scans the child table
    await db.schema.createIndex('tasks_story').on('tasks').column('story_id').execute();
    await db.schema.createIndex('events_command').on('events').column('command_id').execute();
    await db.schema.createIndex('processes_command').on('processes').column('command_id').execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    // children before parents, so no foreign key is left dangling mid-way
    for (const table of [
      'owner',
      'legacy_events',
      'processes',
      'snapshots',
      'background_tasks',
      'events',
      'tasks',
      'command_stories',
      'commands',
      'stories',
      'batches',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

/**
 * Real projects (issue 11): where a legacy row came from (the CSV, or the previous orchestrator's database),
 * the record that the previous database was imported (once), and its batches, stories and background tasks,
 * which have no place among the CSV-shaped rows.
 */
const realProjects: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('legacy_events').addColumn('source', 'text', (col) => col.notNull().defaultTo('csv')).execute();
    await db.schema
      .createTable('legacy_imports')
      .addColumn('source', 'text', (col) => col.primaryKey())
      .addColumn('file', 'text', (col) => col.notNull())
      .addColumn('imported_at', 'text', (col) => col.notNull())
      .addColumn('summary', 'text', (col) => col.notNull())
      .execute();
    await db.schema
      .createTable('legacy_records')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('source', 'text', (col) => col.notNull())
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('source_id', 'integer', (col) => col.notNull())
      .addColumn('batch_source_id', 'integer')
      .addColumn('story', 'text')
      .addColumn('epic', 'text')
      .addColumn('label', 'text')
      .addColumn('status', 'text')
      .addColumn('started_at', 'integer')
      .addColumn('ended_at', 'integer')
      .addColumn('data', 'text', (col) => col.notNull())
      .addUniqueConstraint('legacy_records_source_kind_id', ['source', 'kind', 'source_id'])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('legacy_records').execute();
    await db.schema.dropTable('legacy_imports').execute();
    await db.schema.alterTable('legacy_events').dropColumn('source').execute();
  },
};

/** Issue 14: the session each attempt continued, and a batch's spending cap. */
const sessionsBudget: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    // the CLI session this attempt forked to continue (null: a fresh start)
    await db.schema.alterTable('commands').addColumn('continued_from', 'text').execute();
    // USD; null = no cap
    await db.schema.alterTable('batches').addColumn('budget_usd', 'real').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('commands').dropColumn('continued_from').execute();
    await db.schema.alterTable('batches').dropColumn('budget_usd').execute();
  },
};

/** Issue 13: each command's stream-json, compressed, with its start and end kept under a cap. */
const transcripts: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('transcripts')
      .addColumn('command_id', 'integer', (col) => col.primaryKey().references('commands.id'))
      .addColumn('head', 'blob', (col) => col.notNull())
      .addColumn('tail', 'blob', (col) => col.notNull())
      .addColumn('lines', 'integer', (col) => col.notNull())
      .addColumn('bytes', 'integer', (col) => col.notNull())
      .addColumn('cut_lines', 'integer', (col) => col.notNull())
      .addColumn('cut_bytes', 'integer', (col) => col.notNull())
      .addColumn('saved_at', 'text', (col) => col.notNull())
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('transcripts').execute();
  },
};

export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0003_real_projects': realProjects,
  '0006_sessions_budget': sessionsBudget,
  '0007_transcripts': transcripts,
};
