// Synchronous writes for the runtime's hot path: Kysely builds each query, a cached better-sqlite3 statement runs it.
import type BetterSqlite3 from 'better-sqlite3';
import type { Compilable, Updateable } from 'kysely';
import type { SprintDb } from './handle.js';
import type { BatchesTable, BatchStatus, CommandStatus, CommandUpdate, TaskStatus } from './schema.js';

/*
 * Why synchronous: the runtime records a step and changes state in the same tick, and a better-sqlite3
 * transaction cannot span an await. Callers group writes with `db.sqlite.transaction(() => { ... })()`;
 * functions here that write several rows open their own transaction too, which better-sqlite3 turns into a
 * savepoint when one is already open, so they stay all-or-nothing either way.
 */

/** Distinct SQL texts are few (only `IN (...)` lists vary), but a cap keeps a long run from growing it. */
const STATEMENT_CACHE_LIMIT = 500;
const statementCaches = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

function statement(db: SprintDb, sql: string): BetterSqlite3.Statement {
  let cache = statementCaches.get(db.sqlite);
  if (cache === undefined) {
    cache = new Map();
    statementCaches.set(db.sqlite, cache);
  }
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    stmt = db.sqlite.prepare(sql);
    if (cache.size >= STATEMENT_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(sql, stmt);
  }
  return stmt;
}

/** better-sqlite3 binds only numbers, strings, bigints, buffers and null. */
function bindable(parameters: readonly unknown[]): unknown[] {
  return parameters.map((p) => {
    if (p === undefined) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (p instanceof Date) return p.toISOString();
    return p;
  });
}

/** Runs a query that returns no rows. */
export function runSync(db: SprintDb, query: Compilable<unknown>): BetterSqlite3.RunResult {
  const compiled = query.compile();
  return statement(db, compiled.sql).run(...bindable(compiled.parameters));
}

export function allSync<R>(db: SprintDb, query: Compilable<R>): R[] {
  const compiled = query.compile();
  return statement(db, compiled.sql).all(...bindable(compiled.parameters)) as R[];
}

export function getSync<R>(db: SprintDb, query: Compilable<R>): R | undefined {
  const compiled = query.compile();
  return statement(db, compiled.sql).get(...bindable(compiled.parameters)) as R | undefined;
}

function atomically<T>(db: SprintDb, fn: () => T): T {
  // inside the caller's transaction (the runtime's commit) an exception rolls the whole of it back anyway;
  // a savepoint per call would only cost a new transaction function each time
  if (db.sqlite.inTransaction) return fn();
  return db.sqlite.transaction(fn)();
}

const nowIso = (): string => new Date().toISOString();
/** SQLite allows many more bound values, but short lists keep statements reusable and plans cheap. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

// ---------------------------------------------------------------------------------------------- batches

export interface NewBatch {
  startedAt: string;
  /** a cycle count or 'all'; stored as text ('3' or 'all') */
  maxCycles: number | 'all' | string;
  status: BatchStatus;
  projectRoot: string;
}

export function insertBatch(db: SprintDb, batch: NewBatch): number {
  const result = runSync(
    db,
    db.kysely.insertInto('batches').values({
      started_at: batch.startedAt,
      max_cycles: String(batch.maxCycles),
      status: batch.status,
      project_root: batch.projectRoot,
    }),
  );
  return Number(result.lastInsertRowid);
}

export interface BatchPatch {
  endedAt: string | null;
  cyclesCompleted: number;
  status: BatchStatus;
  message: string | null;
}

export function updateBatch(db: SprintDb, id: number, patch: Partial<BatchPatch>): void {
  const set: Updateable<BatchesTable> = {};
  if (patch.endedAt !== undefined) set.ended_at = patch.endedAt;
  if (patch.cyclesCompleted !== undefined) set.cycles_completed = patch.cyclesCompleted;
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.message !== undefined) set.message = patch.message;
  if (Object.keys(set).length === 0) return;
  runSync(db, db.kysely.updateTable('batches').set(set).where('id', '=', id));
}

// ---------------------------------------------------------------------------------------------- stories

export interface StoryRef {
  /** the long key from sprint-status */
  key: string;
  shortId: string;
  epicId: string;
}

/**
 * Inserts the story or refreshes its short id and epic; returns its id. With `status`, also records the
 * status and `updated_at` (`at`, default now); without, an existing story's status is left alone.
 */
export function upsertStory(db: SprintDb, story: StoryRef, status?: string, at: string = nowIso()): number {
  // a new story or a changed short id or updated_at can change what a short id names
  storyIdCaches.get(db.sqlite)?.clear();
  const row = getSync(
    db,
    db.kysely
      .insertInto('stories')
      .values({ key: story.key, short_id: story.shortId, epic_id: story.epicId, status: status ?? null, updated_at: at })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) =>
          status === undefined
            ? { short_id: eb.ref('excluded.short_id'), epic_id: eb.ref('excluded.epic_id') }
            : {
                short_id: eb.ref('excluded.short_id'),
                epic_id: eb.ref('excluded.epic_id'),
                status: eb.ref('excluded.status'),
                updated_at: eb.ref('excluded.updated_at'),
              },
        ),
      )
      .returning('id'),
  );
  return row!.id;
}

/** findStoryId's answers; every write to `stories` goes through upsertStory, which clears it. */
const storyIdCaches = new WeakMap<BetterSqlite3.Database, Map<string, number | null>>();

/** A story named by its long key or its short id (the log script reports either); null when unknown. */
export function findStoryId(db: SprintDb, keyOrShortId: string): number | null {
  let cache = storyIdCaches.get(db.sqlite);
  if (cache === undefined) storyIdCaches.set(db.sqlite, (cache = new Map()));
  let id = cache.get(keyOrShortId);
  if (id === undefined) {
    id = findStoryIdUncached(db, keyOrShortId);
    cache.set(keyOrShortId, id);
  }
  return id;
}

function findStoryIdUncached(db: SprintDb, keyOrShortId: string): number | null {
  const byKey = getSync(db, db.kysely.selectFrom('stories').select('id').where('key', '=', keyOrShortId));
  if (byKey !== undefined) return byKey.id;
  const byShortId = getSync(
    db,
    db.kysely
      .selectFrom('stories')
      .select('id')
      .where('short_id', '=', keyOrShortId)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1),
  );
  return byShortId?.id ?? null;
}

// --------------------------------------------------------------------------------------------- commands

export interface NewCommand {
  batchId: number;
  runId: string;
  command: string;
  kind: string;
  stories: readonly StoryRef[];
  attempt: number;
  reviewAttempt: number | null;
  model: string | null;
  background: boolean;
  startedAt: string;
}

/** Inserts a running command and links it to its stories, creating any story not yet known. */
export function insertCommand(db: SprintDb, command: NewCommand): number {
  return atomically(db, () => {
    const unique = [...new Map(command.stories.map((s) => [s.key, s])).values()];
    const result = runSync(
      db,
      db.kysely.insertInto('commands').values({
        batch_id: command.batchId,
        run_id: command.runId,
        command: command.command,
        kind: command.kind,
        story_ids: unique.map((s) => s.shortId).join(','),
        attempt: command.attempt,
        review_attempt: command.reviewAttempt,
        model: command.model,
        background: command.background ? 1 : 0,
        status: 'running',
        started_at: command.startedAt,
      }),
    );
    const id = Number(result.lastInsertRowid);
    for (const story of unique) {
      const storyId = upsertStory(db, story, undefined, command.startedAt);
      runSync(db, db.kysely.insertInto('command_stories').values({ command_id: id, story_id: storyId }));
    }
    return id;
  });
}

/** Sets the given columns (snake_case, as in schema.ts); an empty patch does nothing. */
export function updateCommand(db: SprintDb, id: number, patch: CommandUpdate): void {
  const set = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as CommandUpdate;
  if (Object.keys(set).length === 0) return;
  runSync(db, db.kysely.updateTable('commands').set(set).where('id', '=', id));
}

/** Marks the batch's running commands interrupted (after a stop or a crash); returns their ids. */
export function markRunningCommandsInterrupted(db: SprintDb, batchId: number, endedAt: string): number[] {
  return allSync(
    db,
    db.kysely
      .updateTable('commands')
      .set({ status: 'interrupted', interrupted: 1, ended_at: endedAt })
      .where('batch_id', '=', batchId)
      .where('status', '=', 'running' satisfies CommandStatus)
      .returning('id'),
  ).map((row) => row.id);
}

/**
 * Ends the task phases a command left open when it failed or was interrupted, at its end time: no phase of
 * an ended command stays `running`. Returns how many were ended.
 */
export function endOpenTasks(db: SprintDb, commandIds: readonly number[], status: 'failed' | 'interrupted', endedAt: string): number {
  if (commandIds.length === 0) return 0;
  return Number(
    runSync(
      db,
      db.kysely
        .updateTable('tasks')
        .set({ status, ended_at: endedAt })
        .where('command_id', 'in', [...commandIds])
        .where('status', '=', 'running' satisfies TaskStatus),
    ).changes,
  );
}

// ----------------------------------------------------------------------------------------------- events

export interface NewEventInput {
  batchId: number | null;
  commandId: number | null;
  type: string;
  /** epoch milliseconds */
  ts: number;
  /** stored as JSON; undefined is stored as null */
  payload: unknown;
  /** the payload already serialised, when the caller needs the text as well (the store sends it on to clients) */
  payloadJson?: string;
}

/** Stores an event and returns its id, which is also its WebSocket message id. */
export function insertEvent(db: SprintDb, event: NewEventInput): number {
  // the hottest write (one per event): plain SQL, no query building per call
  const result = statement(db, 'insert into "events" ("batch_id", "command_id", "type", "ts", "payload") values (?, ?, ?, ?, ?)').run(
    event.batchId,
    event.commandId,
    event.type,
    event.ts,
    event.payloadJson ?? JSON.stringify(event.payload) ?? 'null',
  );
  return Number(result.lastInsertRowid);
}

// ------------------------------------------------------------------------------------------------ tasks

export interface TaskStart {
  commandId: number;
  /** long key or short id; null (or a story not in the table) leaves the row without a story */
  storyKey: string | null;
  taskId: string;
  known: boolean;
  message: string | null;
  startedAt: string;
  /** with an end time, the row is written already done: its end came in the same transaction */
  endedAt?: string;
}

/** Records a task phase starting (or, with `endedAt`, one that has started and ended); returns the task row id. */
export function startTask(db: SprintDb, task: TaskStart): number {
  const storyId = task.storyKey === null ? null : findStoryId(db, task.storyKey);
  const result = statement(
    db,
    'insert into "tasks" ("command_id", "story_id", "task_id", "known", "status", "message", "started_at", "ended_at") values (?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(task.commandId, storyId, task.taskId, task.known ? 1 : 0, task.endedAt === undefined ? 'running' : 'done', task.message || null, task.startedAt, task.endedAt ?? null);
  return Number(result.lastInsertRowid);
}

export interface TaskEnd {
  commandId: number;
  storyKey: string | null;
  taskId: string;
  /** replaces the start's message only when non-empty */
  message: string | null;
  endedAt: string;
  /** only used when no start was seen and a done row is inserted (default true) */
  known?: boolean;
}

/**
 * Ends the newest running row of this command, story and task; with none (the start was never reported),
 * inserts a done row that starts and ends at `endedAt`. Returns the row id.
 */
export function endTask(db: SprintDb, task: TaskEnd): number {
  return atomically(db, () => {
    const storyId = task.storyKey === null ? null : findStoryId(db, task.storyKey);
    // IS, not =: a null story must match a null story
    const running = statement(
      db,
      'select "id" from "tasks" where "command_id" = ? and "story_id" is ? and "task_id" = ? and "status" = ? order by "id" desc limit 1',
    ).get(task.commandId, storyId, task.taskId, 'running') as { id: number } | undefined;
    if (running !== undefined) {
      if (task.message) statement(db, 'update "tasks" set "status" = ?, "ended_at" = ?, "message" = ? where "id" = ?').run('done', task.endedAt, task.message, running.id);
      else statement(db, 'update "tasks" set "status" = ?, "ended_at" = ? where "id" = ?').run('done', task.endedAt, running.id);
      return running.id;
    }
    return startTask(db, { commandId: task.commandId, storyKey: task.storyKey, taskId: task.taskId, known: task.known !== false, message: task.message, startedAt: task.endedAt, endedAt: task.endedAt });
  });
}

// ------------------------------------------------------------------------------------- background tasks

export type BackgroundStatus = 'running' | 'ok' | 'failed' | 'interrupted';

export interface BackgroundTaskInput {
  batchId: number;
  /** the spawned actor's id in the batch machine (`bg.1`), unique within the batch */
  taskKey: string;
  commandId: number | null;
  command: string;
  /** short ids; stored comma-joined */
  storyIds: readonly string[];
  status: BackgroundStatus;
  message: string | null;
  /** default now on insert; an update without it keeps the stored start */
  startedAt?: string;
  /** an update without it keeps the stored end, except that 'running' clears it (a resumed task) */
  endedAt?: string | null;
}

/** Inserts or updates the background task of (batch, key); returns its id. */
export function upsertBackgroundTask(db: SprintDb, task: BackgroundTaskInput): number {
  const endedAt = task.endedAt !== undefined ? task.endedAt : task.status === 'running' ? null : undefined;
  const row = getSync(
    db,
    db.kysely
      .insertInto('background_tasks')
      .values({
        batch_id: task.batchId,
        task_key: task.taskKey,
        command_id: task.commandId,
        command: task.command,
        story_ids: task.storyIds.join(','),
        status: task.status,
        message: task.message,
        started_at: task.startedAt ?? nowIso(),
        ended_at: endedAt ?? null,
      })
      .onConflict((oc) =>
        oc.columns(['batch_id', 'task_key']).doUpdateSet((eb) => ({
          command_id: eb.ref('excluded.command_id'),
          command: eb.ref('excluded.command'),
          story_ids: eb.ref('excluded.story_ids'),
          status: eb.ref('excluded.status'),
          message: eb.ref('excluded.message'),
          ...(task.startedAt !== undefined ? { started_at: eb.ref('excluded.started_at') } : {}),
          ...(endedAt !== undefined ? { ended_at: eb.ref('excluded.ended_at') } : {}),
        })),
      )
      .returning('id'),
  );
  return row!.id;
}

// -------------------------------------------------------------------------------------------- snapshots

/** Stores the batch's latest persisted snapshot (JSON text), replacing the previous one. */
export function saveSnapshot(db: SprintDb, batchId: number, machineVersion: string, snapshotJson: string): void {
  runSync(
    db,
    db.kysely
      .insertInto('snapshots')
      .values({ batch_id: batchId, machine_version: machineVersion, snapshot: snapshotJson, updated_at: nowIso() })
      .onConflict((oc) =>
        oc.column('batch_id').doUpdateSet((eb) => ({
          machine_version: eb.ref('excluded.machine_version'),
          snapshot: eb.ref('excluded.snapshot'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      ),
  );
}

/** The stored snapshot as JSON text (not parsed: the caller checks the version before trusting it). */
export function loadSnapshot(db: SprintDb, batchId: number): { machineVersion: string; snapshot: string } | null {
  const row = getSync(
    db,
    db.kysely.selectFrom('snapshots').select(['machine_version', 'snapshot']).where('batch_id', '=', batchId),
  );
  return row === undefined ? null : { machineVersion: row.machine_version, snapshot: row.snapshot };
}

// -------------------------------------------------------------------------------------------- processes

export interface ProcessInput {
  commandId: number;
  pid: number;
  startTime: number;
  role: 'root' | 'descendant';
}

export function recordProcess(db: SprintDb, proc: ProcessInput): number {
  const result = runSync(
    db,
    db.kysely
      .insertInto('processes')
      .values({ command_id: proc.commandId, pid: proc.pid, start_time: proc.startTime, role: proc.role }),
  );
  return Number(result.lastInsertRowid);
}

export interface LiveProcess {
  id: number;
  commandId: number;
  pid: number;
  startTime: number;
  role: 'root' | 'descendant';
}

/** Processes not yet seen gone: after a crash, the ones to check (by pid and start time) and end. */
export function liveProcesses(db: SprintDb): LiveProcess[] {
  return allSync(
    db,
    db.kysely
      .selectFrom('processes')
      .select(['id', 'command_id', 'pid', 'start_time', 'role'])
      .where('ended', '=', 0)
      .orderBy('id'),
  ).map((row) => ({ id: row.id, commandId: row.command_id, pid: row.pid, startTime: row.start_time, role: row.role }));
}

export function markProcessesEnded(db: SprintDb, ids: readonly number[]): void {
  if (ids.length === 0) return;
  atomically(db, () => {
    for (const part of chunks(ids)) {
      runSync(db, db.kysely.updateTable('processes').set({ ended: 1 }).where('id', 'in', part));
    }
  });
}
