// Read queries for the HTTP API and the dashboard: async Kysely, rows mapped to camelCase objects.
import { sql } from 'kysely';
import { compareEpicIds } from '../machines/rules/story-keys.js';
import type { SprintDb } from './handle.js';
import type { CommandRow } from './schema.js';
import type {
  BackgroundTaskSummary,
  BatchSummary,
  CommandSummary,
  CommandWithTasks,
  Cost,
  LegacyEvent,
  StoredEvent,
  StorySummary,
  TaskSummary,
} from '../machines/wire.js';

// the rows are the dashboard's too: declared once in the Node-free wire module
export type { BackgroundTaskSummary, BatchSummary, CommandSummary, CommandWithTasks, Cost, LegacyEvent, StorySummary, TaskSummary } from '../machines/wire.js';
/** an event as read back: the API's StoredEvent */
export type EventRecord = StoredEvent;

/*
 * Everything here only reads, through Kysely's async API, and never opens a transaction: a Kysely
 * transaction left open across an await would swallow the runtime's synchronous writes (better-sqlite3
 * would nest them as savepoints of it).
 */

/** SQLite takes many more bound values; short lists keep statements small. */
const CHUNK = 500;
const MAX_EVENTS = 5000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function splitIds(text: string): string[] {
  return text === '' ? [] : text.split(',');
}

// ---------------------------------------------------------------------------------------------- batches

function parseMaxCycles(text: string): number | 'all' {
  return /^\d+$/.test(text) ? Number(text) : 'all';
}

function batchQuery(db: SprintDb) {
  return db.kysely
    .selectFrom('batches as b')
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('commands')
          .select((e) => ['batch_id', e.fn.sum<number | null>('cost_usd').as('cost')])
          .groupBy('batch_id')
          .as('c'),
      (join) => join.onRef('c.batch_id', '=', 'b.id'),
    )
    .selectAll('b')
    .select(sql<number>`coalesce(c.cost, 0)`.as('cost_usd'))
    .orderBy('b.id', 'desc');
}

type BatchQueryRow = Awaited<ReturnType<ReturnType<typeof batchQuery>['executeTakeFirstOrThrow']>>;

type StoryOutcomes = Pick<BatchSummary, 'storiesDone' | 'storiesBlocked'>;

/** The stories each batch marked done or blocked (its `story:status` events), by batch id. */
async function storyOutcomes(db: SprintDb, batchIds: readonly number[]): Promise<Map<number, StoryOutcomes>> {
  const out = new Map<number, StoryOutcomes>();
  for (const part of chunks(batchIds)) {
    const rows = await db.kysely
      .selectFrom('events')
      .select(['batch_id', 'payload'])
      .where('type', '=', 'story:status')
      .where('batch_id', 'in', part)
      .orderBy('id')
      .execute();
    for (const row of rows) {
      const payload = parsePayload(row.payload) as { story?: { shortId?: string }; status?: string; reason?: string } | string;
      if (row.batch_id === null || typeof payload !== 'object' || !payload.story?.shortId) continue;
      const entry = out.get(row.batch_id) ?? { storiesDone: [], storiesBlocked: [] };
      out.set(row.batch_id, entry);
      if (payload.status === 'done') entry.storiesDone.push(payload.story.shortId);
      else if (payload.status === 'blocked') entry.storiesBlocked.push({ story: payload.story.shortId, reason: payload.reason ?? '' });
    }
  }
  return out;
}

function toBatch(row: BatchQueryRow, outcomes: StoryOutcomes = { storiesDone: [], storiesBlocked: [] }): BatchSummary {
  return {
    id: row.id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    maxCycles: parseMaxCycles(row.max_cycles),
    cyclesCompleted: row.cycles_completed,
    status: row.status,
    message: row.message,
    projectRoot: row.project_root,
    costUsd: Number(row.cost_usd),
    ...outcomes,
  };
}

/** Every batch, newest first. */
export async function listBatches(db: SprintDb): Promise<BatchSummary[]> {
  const rows = await batchQuery(db).execute();
  const outcomes = await storyOutcomes(db, rows.map((row) => row.id));
  return rows.map((row) => toBatch(row, outcomes.get(row.id)));
}

export async function latestBatch(db: SprintDb): Promise<BatchSummary | null> {
  const row = await batchQuery(db).limit(1).executeTakeFirst();
  return row === undefined ? null : toBatch(row, (await storyOutcomes(db, [row.id])).get(row.id));
}

// --------------------------------------------------------------------------------------------- commands

function toCommand(row: CommandRow): CommandSummary {
  return {
    id: row.id,
    batchId: row.batch_id,
    runId: row.run_id,
    command: row.command,
    kind: row.kind,
    stories: splitIds(row.story_ids),
    attempt: row.attempt,
    reviewAttempt: row.review_attempt,
    model: row.model,
    background: row.background === 1,
    status: row.status,
    pid: row.pid,
    pidStartTime: row.pid_start_time,
    sessionId: row.session_id,
    continuedFrom: row.continued_from ?? null,
    exitCode: row.exit_code,
    signal: row.signal,
    resultSubtype: row.result_subtype,
    isError: row.is_error === null ? null : row.is_error === 1,
    failure: row.failure,
    message: row.message,
    costUsd: row.cost_usd,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheCreationTokens: row.cache_creation_tokens,
    durationMs: row.duration_ms,
    numTurns: row.num_turns,
    interrupted: row.interrupted === 1,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/** Task rows per command id: how many each has, and its newest `perCommand`. */
async function tasksOf(db: SprintDb, commandIds: readonly number[], perCommand: number): Promise<{ counts: Map<number, number>; tasks: Map<number, TaskSummary[]> }> {
  const counts = new Map<number, number>();
  for (const part of chunks(commandIds)) {
    const rows = await db.kysely
      .selectFrom('tasks')
      .select(['command_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('command_id', 'in', part)
      .groupBy('command_id')
      .execute();
    for (const row of rows) counts.set(row.command_id, Number(row.n));
  }
  const ids = [...counts.keys()];
  const few = ids.filter((id) => counts.get(id)! <= perCommand);
  const many = ids.filter((id) => counts.get(id)! > perCommand);
  const byCommand = new Map<number, TaskSummary[]>();
  const base = () => db.kysely.selectFrom('tasks as t').leftJoin('stories as s', 's.id', 't.story_id').selectAll('t').select('s.short_id');
  const rowSets = [];
  for (const part of chunks(few)) rowSets.push(await base().where('t.command_id', 'in', part).orderBy('t.id').execute());
  // one indexed query each for the few commands over the cap, newest first, then put back in start order
  for (const id of many) rowSets.push((await base().where('t.command_id', '=', id).orderBy('t.id', 'desc').limit(perCommand).execute()).reverse());
  for (const rows of rowSets) {
    for (const row of rows) {
      const task: TaskSummary = {
        id: row.id,
        commandId: row.command_id,
        storyId: row.story_id,
        storyShortId: row.short_id,
        taskId: row.task_id,
        known: row.known === 1,
        status: row.status,
        message: row.message,
        startedAt: row.started_at,
        endedAt: row.ended_at,
      };
      const list = byCommand.get(row.command_id);
      if (list) list.push(task);
      else byCommand.set(row.command_id, [task]);
    }
  }
  return { counts, tasks: byCommand };
}

export interface CommandFilter {
  /** a story's short id (`2a-1`) or long key */
  story?: string;
  batchId?: number;
  /** the newest this many (1..5000); all when absent */
  limit?: number;
  /**
   * each command's newest this many task rows; all when absent. A real command reports tens of phases; an agent
   * stuck calling the log script in a loop can report tens of thousands, which no view can show.
   */
  tasksPerCommand?: number;
}

/** Commands, newest first, each with its task rows. */
export async function listCommands(db: SprintDb, filter: CommandFilter = {}): Promise<CommandWithTasks[]> {
  let query = db.kysely.selectFrom('commands').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc');
  if (filter.batchId !== undefined) query = query.where('batch_id', '=', filter.batchId);
  if (filter.story !== undefined) {
    const story = filter.story;
    query = query.where('id', 'in', (eb) =>
      eb
        .selectFrom('command_stories as cs')
        .innerJoin('stories as s', 's.id', 'cs.story_id')
        .select('cs.command_id')
        .where((w) => w.or([w('s.key', '=', story), w('s.short_id', '=', story)])),
    );
  }
  if (filter.limit !== undefined) query = query.limit(clamp(filter.limit, 1, MAX_EVENTS));
  const rows = await query.execute();
  const tasks = await tasksOf(
    db,
    rows.map((r) => r.id),
    filter.tasksPerCommand ?? Infinity,
  );
  return rows.map((row) => ({ ...toCommand(row), tasks: closeOrphanTasks(tasks.tasks.get(row.id) ?? [], row.ended_at), taskCount: tasks.counts.get(row.id) ?? 0 }));
}

/**
 * A task phase still open when its command ended (the agent never logged its end, or a stop cut it) ended with
 * the command: listing it as running would show a phantom task counting up long after the batch.
 */
function closeOrphanTasks(tasks: TaskSummary[], commandEndedAt: string | null): TaskSummary[] {
  if (commandEndedAt === null) return tasks;
  return tasks.map((task) => (task.status === 'running' ? { ...task, status: 'done', endedAt: commandEndedAt } : task));
}

// ---------------------------------------------------------------------------------------------- stories

function storyNumber(shortId: string, epicId: string): number {
  const n = Number(shortId.slice(epicId.length + 1));
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** Every story known, in sprint order (epic, then story number), with its latest command. */
export async function listStories(db: SprintDb): Promise<StorySummary[]> {
  const stories = await db.kysely.selectFrom('stories').selectAll().execute();
  const latest = await db.kysely
    .selectFrom('command_stories')
    .select((eb) => ['story_id', eb.fn.max('command_id').as('command_id')])
    .groupBy('story_id')
    .execute();
  const commands = new Map<number, CommandSummary>();
  const ids = [...new Set(latest.map((l) => l.command_id))];
  for (const part of chunks(ids)) {
    for (const row of await db.kysely.selectFrom('commands').selectAll().where('id', 'in', part).execute()) {
      commands.set(row.id, toCommand(row));
    }
  }
  const latestByStory = new Map(latest.map((l) => [l.story_id, commands.get(l.command_id) ?? null]));
  return stories
    .sort(
      (a, b) =>
        compareEpicIds(a.epic_id, b.epic_id) ||
        storyNumber(a.short_id, a.epic_id) - storyNumber(b.short_id, b.epic_id) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    )
    .map((row) => ({
      id: row.id,
      key: row.key,
      shortId: row.short_id,
      epicId: row.epic_id,
      status: row.status,
      updatedAt: row.updated_at,
      latestCommand: latestByStory.get(row.id) ?? null,
    }));
}

// ----------------------------------------------------------------------------------------------- events

function clamp(value: number, min: number, max: number): number {
  if (Number.isNaN(value)) return min;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}

/**
 * Events with id > afterId, ascending, at most `limit` (clamped to 1..5000; NaN counts as 1). Ids may have
 * gaps (a rolled-back write), so a client resumes from the last id it saw, never from a count.
 */
export async function eventsAfter(db: SprintDb, afterId: number, limit: number): Promise<EventRecord[]> {
  const after = Number.isNaN(afterId) ? 0 : afterId;
  const rows = await db.kysely
    .selectFrom('events')
    .select(['id', 'type', 'ts', 'payload'])
    .where('id', '>', after)
    .orderBy('id')
    .limit(clamp(limit, 1, MAX_EVENTS))
    .execute();
  return rows.map((row) => ({ id: row.id, type: row.type, ts: row.ts, payload: parsePayload(row.payload) }));
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // written by another tool: hand it on as text rather than lose the event
    return text;
  }
}

/** The newest event id, 0 when there is none. */
export async function lastEventId(db: SprintDb): Promise<number> {
  const row = await db.kysely
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return row?.id ?? 0;
}

// ------------------------------------------------------------------------------------- background tasks

export async function runningBackgroundTasks(db: SprintDb, batchId: number): Promise<BackgroundTaskSummary[]> {
  const rows = await db.kysely
    .selectFrom('background_tasks')
    .selectAll()
    .where('batch_id', '=', batchId)
    .where('status', '=', 'running')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    key: row.task_key,
    commandId: row.command_id,
    command: row.command,
    stories: splitIds(row.story_ids),
    status: row.status,
    message: row.message,
    startedAt: row.started_at,
  }));
}

// ------------------------------------------------------------------------------------------------- cost

/**
 * Cost of a batch and of each of its stories (keyed by short id). A command that served two stories counts
 * in full for each of them, so the stories can add up to more than the batch.
 */
export async function costRollup(
  db: SprintDb,
  batchId: number,
): Promise<{ batch: Cost; stories: Record<string, Cost> }> {
  const totals = sql<number>`coalesce(sum(c.cost_usd), 0)`.as('cost_usd');
  const inputs = sql<number>`coalesce(sum(c.input_tokens), 0)`.as('input_tokens');
  const outputs = sql<number>`coalesce(sum(c.output_tokens), 0)`.as('output_tokens');
  const batch = await db.kysely
    .selectFrom('commands as c')
    .select([totals, inputs, outputs])
    .where('c.batch_id', '=', batchId)
    .executeTakeFirst();
  const perStory = await db.kysely
    .selectFrom('commands as c')
    .innerJoin('command_stories as cs', 'cs.command_id', 'c.id')
    .innerJoin('stories as s', 's.id', 'cs.story_id')
    .select(['s.short_id', totals, inputs, outputs])
    .where('c.batch_id', '=', batchId)
    .groupBy('s.short_id')
    .orderBy('s.short_id')
    .execute();
  const cost = (row: { cost_usd: number; input_tokens: number; output_tokens: number } | undefined): Cost => ({
    costUsd: Number(row?.cost_usd ?? 0),
    inputTokens: Number(row?.input_tokens ?? 0),
    outputTokens: Number(row?.output_tokens ?? 0),
  });
  return {
    batch: cost(batch),
    stories: Object.fromEntries(perStory.map((row) => [row.short_id, cost(row)])),
  };
}
