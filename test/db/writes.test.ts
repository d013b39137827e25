// Checks every synchronous write: what each row holds, task pairing, upserts, and that no foreign key can dangle.
import { describe, expect, it, vi } from 'vitest';
import type { SprintDb } from '../../db/database.js';
import { upsertBackgroundTask } from '../../db/background-tasks.js';
import { insertBatch, updateBatch } from '../../db/batches.js';
import { insertCommand, markRunningCommandsInterrupted, type NewCommand, updateCommand } from '../../db/commands.js';
import { insertEvent } from '../../db/events.js';
import { liveProcesses, markProcessesEnded, recordProcess } from '../../db/processes.js';
import { loadSnapshot, saveSnapshot } from '../../db/snapshots.js';
import { upsertStory } from '../../db/stories.js';
import { getSync, runSync } from '../../db/sync-queries.js';
import { endTask, startTask } from '../../db/tasks.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();

const S1 = { key: '2a-1-log-parser', shortId: '2a-1', epicId: '2a' };
const S2 = { key: '2a-2-session-scanner', shortId: '2a-2', epicId: '2a' };
const T0 = '2030-01-01T00:00:00.000Z';

function rows(db: SprintDb, sql: string, ...params: unknown[]): unknown[] {
  return db.sqlite.prepare(sql).all(...params);
}

function newBatch(db: SprintDb): number {
  return insertBatch(db, { startedAt: T0, maxCycles: 3, status: 'running', projectRoot: '/p' });
}

function command(batchId: number, overrides: Partial<NewCommand> = {}): NewCommand {
  return {
    batchId,
    runId: 'c1/dev-story/2a-1',
    command: 'dev-story',
    kind: 'dev-story',
    stories: [S1],
    attempt: 1,
    reviewAttempt: null,
    model: 'opus',
    background: false,
    startedAt: T0,
    ...overrides,
  };
}

function expectNoDanglingKeys(db: SprintDb): void {
  expect(db.sqlite.pragma('foreign_key_check')).toEqual([]);
}

describe('batches', () => {
  it('inserts with defaults and updates only the fields given', async () => {
    const db = await ctx.fresh();
    const id = newBatch(db);
    const all = insertBatch(db, { startedAt: T0, maxCycles: 'all', status: 'running', projectRoot: '/q' });
    expect(all).toBe(id + 1);
    expect(rows(db, 'SELECT * FROM batches WHERE id = ?', id)).toEqual([
      { id, started_at: T0, ended_at: null, max_cycles: '3', cycles_completed: 0, status: 'running', message: null, project_root: '/p', budget_usd: null },
    ]);
    updateBatch(db, id, { cyclesCompleted: 2 });
    updateBatch(db, id, { status: 'completed', endedAt: '2030-01-01T01:00:00.000Z', message: 'done' });
    updateBatch(db, id, {});
    expect(rows(db, 'SELECT cycles_completed, status, ended_at, message FROM batches WHERE id = ?', id)).toEqual([
      { cycles_completed: 2, status: 'completed', ended_at: '2030-01-01T01:00:00.000Z', message: 'done' },
    ]);
    updateBatch(db, id, { message: null });
    expect(rows(db, 'SELECT message FROM batches WHERE id = ?', id)).toEqual([{ message: null }]);
    expect(rows(db, 'SELECT max_cycles FROM batches WHERE id = ?', all)).toEqual([{ max_cycles: 'all' }]);
  });
});

describe('stories', () => {
  it('upserts by key, keeping the id, and records a status only when given', async () => {
    const db = await ctx.fresh();
    const id = upsertStory(db, S1, undefined, T0);
    expect(rows(db, 'SELECT * FROM stories')).toEqual([
      { id, key: S1.key, short_id: '2a-1', epic_id: '2a', status: null, updated_at: T0 },
    ]);
    expect(upsertStory(db, S1, 'in-progress', '2030-01-02T00:00:00.000Z')).toBe(id);
    expect(upsertStory(db, S1, undefined, '2030-01-03T00:00:00.000Z')).toBe(id);
    expect(rows(db, 'SELECT status, updated_at FROM stories')).toEqual([
      { status: 'in-progress', updated_at: '2030-01-02T00:00:00.000Z' },
    ]);
    expect(upsertStory(db, S2, 'backlog')).not.toBe(id);
    expect(rows(db, 'SELECT count(*) AS n FROM stories')).toEqual([{ n: 2 }]);
  });
});

describe('commands', () => {
  it('inserts a running command linked to its stories, creating them', async () => {
    const db = await ctx.fresh();
    const batchId = newBatch(db);
    const id = insertCommand(db, command(batchId, { stories: [S1, S2, S1], reviewAttempt: 2, background: true }));
    expect(rows(db, 'SELECT batch_id, run_id, command, kind, story_ids, attempt, review_attempt, model, background, status, interrupted, started_at, ended_at FROM commands')).toEqual([
      {
        batch_id: batchId,
        run_id: 'c1/dev-story/2a-1',
        command: 'dev-story',
        kind: 'dev-story',
        story_ids: '2a-1,2a-2',
        attempt: 1,
        review_attempt: 2,
        model: 'opus',
        background: 1,
        status: 'running',
        interrupted: 0,
        started_at: T0,
        ended_at: null,
      },
    ]);
    expect(rows(db, 'SELECT s.key FROM command_stories cs JOIN stories s ON s.id = cs.story_id WHERE cs.command_id = ? ORDER BY s.key', id)).toEqual([
      { key: S1.key },
      { key: S2.key },
    ]);
    // a second command reuses the stories
    insertCommand(db, command(batchId, { stories: [S2] }));
    expect(rows(db, 'SELECT count(*) AS n FROM stories')).toEqual([{ n: 2 }]);
    expectNoDanglingKeys(db);
  });

  it('with a batch that does not exist fails as a whole and leaves nothing behind', async () => {
    const db = await ctx.fresh();
    expect(() => insertCommand(db, command(999))).toThrow(/FOREIGN KEY/);
    expect(rows(db, 'SELECT count(*) AS n FROM commands')).toEqual([{ n: 0 }]);
    expect(rows(db, 'SELECT count(*) AS n FROM stories')).toEqual([{ n: 0 }]);
    expect(rows(db, 'SELECT count(*) AS n FROM command_stories')).toEqual([{ n: 0 }]);
  });

  it('updates the columns given and ignores an empty patch', async () => {
    const db = await ctx.fresh();
    const id = insertCommand(db, command(newBatch(db)));
    updateCommand(db, id, { pid: 4242, pid_start_time: 99, session_id: 'sess' });
    updateCommand(db, id, {
      status: 'ok',
      exit_code: 0,
      cost_usd: 0.25,
      input_tokens: 100,
      output_tokens: 20,
      is_error: 0,
      ended_at: '2030-01-01T00:10:00.000Z',
    });
    updateCommand(db, id, {});
    expect(rows(db, 'SELECT pid, pid_start_time, session_id, status, exit_code, cost_usd, input_tokens, output_tokens, is_error, ended_at FROM commands')).toEqual([
      {
        pid: 4242,
        pid_start_time: 99,
        session_id: 'sess',
        status: 'ok',
        exit_code: 0,
        cost_usd: 0.25,
        input_tokens: 100,
        output_tokens: 20,
        is_error: 0,
        ended_at: '2030-01-01T00:10:00.000Z',
      },
    ]);
  });

  it('marks only the running commands of the batch interrupted', async () => {
    const db = await ctx.fresh();
    const batchId = newBatch(db);
    const otherBatch = newBatch(db);
    const running1 = insertCommand(db, command(batchId));
    const done = insertCommand(db, command(batchId));
    updateCommand(db, done, { status: 'ok' });
    const running2 = insertCommand(db, command(batchId, { background: true }));
    const elsewhere = insertCommand(db, command(otherBatch));
    const ids = markRunningCommandsInterrupted(db, batchId, '2030-01-01T02:00:00.000Z');
    expect(ids.sort()).toEqual([running1, running2].sort());
    expect(rows(db, 'SELECT id, status, interrupted, ended_at FROM commands ORDER BY id')).toEqual([
      { id: running1, status: 'interrupted', interrupted: 1, ended_at: '2030-01-01T02:00:00.000Z' },
      { id: done, status: 'ok', interrupted: 0, ended_at: null },
      { id: running2, status: 'interrupted', interrupted: 1, ended_at: '2030-01-01T02:00:00.000Z' },
      { id: elsewhere, status: 'running', interrupted: 0, ended_at: null },
    ]);
    expect(markRunningCommandsInterrupted(db, batchId, T0)).toEqual([]);
  });
});

describe('events', () => {
  it('stores the payload as JSON with strictly increasing ids', async () => {
    const db = await ctx.fresh();
    const batchId = newBatch(db);
    const commandId = insertCommand(db, command(batchId));
    const a = insertEvent(db, { batchId, commandId, type: 'command:start', ts: 1000, payload: { command: 'dev-story', n: [1, 2] } });
    const b = insertEvent(db, { batchId: null, commandId: null, type: 'state', ts: 1001, payload: undefined });
    const c = insertEvent(db, { batchId, commandId: null, type: 'warning', ts: 1002, payload: 'text' });
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    expect(rows(db, 'SELECT id, batch_id, command_id, type, ts, payload FROM events ORDER BY id')).toEqual([
      { id: a, batch_id: batchId, command_id: commandId, type: 'command:start', ts: 1000, payload: '{"command":"dev-story","n":[1,2]}' },
      { id: b, batch_id: null, command_id: null, type: 'state', ts: 1001, payload: 'null' },
      { id: c, batch_id: batchId, command_id: null, type: 'warning', ts: 1002, payload: '"text"' },
    ]);
  });

  it('never reuses the id of a deleted newest event', async () => {
    const db = await ctx.fresh();
    const a = insertEvent(db, { batchId: null, commandId: null, type: 'x', ts: 1, payload: null });
    db.sqlite.prepare('DELETE FROM events WHERE id = ?').run(a);
    expect(insertEvent(db, { batchId: null, commandId: null, type: 'x', ts: 2, payload: null })).toBeGreaterThan(a);
  });
});

describe('tasks', () => {
  async function withCommand(): Promise<{ db: SprintDb; commandId: number; storyId: number }> {
    const db = await ctx.fresh();
    const commandId = insertCommand(db, command(newBatch(db), { stories: [S1, S2] }));
    const storyId = upsertStory(db, S1);
    return { db, commandId, storyId };
  }

  const taskRows = (db: SprintDb): unknown[] =>
    rows(db, 'SELECT id, command_id, story_id, task_id, known, status, message, started_at, ended_at FROM tasks ORDER BY id');

  it('pairs an end with its start, by long key or short id', async () => {
    const { db, commandId, storyId } = await withCommand();
    const id = startTask(db, { commandId, storyKey: S1.key, taskId: 'setup', known: true, message: 'loading', startedAt: 't1' });
    expect(endTask(db, { commandId, storyKey: '2a-1', taskId: 'setup', message: 'loaded', endedAt: 't2' })).toBe(id);
    expect(taskRows(db)).toEqual([
      { id, command_id: commandId, story_id: storyId, task_id: 'setup', known: 1, status: 'done', message: 'loaded', started_at: 't1', ended_at: 't2' },
    ]);
  });

  it('ends the newest running row of that command, story and task, and keeps the start message when the end has none', async () => {
    const { db, commandId } = await withCommand();
    const first = startTask(db, { commandId, storyKey: '2a-1', taskId: 'implement', known: true, message: 'one', startedAt: 't1' });
    const second = startTask(db, { commandId, storyKey: '2a-1', taskId: 'implement', known: true, message: 'two', startedAt: 't2' });
    const otherStory = startTask(db, { commandId, storyKey: '2a-2', taskId: 'implement', known: true, message: 'other', startedAt: 't3' });
    expect(endTask(db, { commandId, storyKey: '2a-1', taskId: 'implement', message: '', endedAt: 't4' })).toBe(second);
    expect(endTask(db, { commandId, storyKey: '2a-1', taskId: 'implement', message: null, endedAt: 't5' })).toBe(first);
    const all = taskRows(db) as Array<{ id: number; status: string; message: string; ended_at: string | null }>;
    expect(all.map((r) => [r.id, r.status, r.message, r.ended_at])).toEqual([
      [first, 'done', 'one', 't5'],
      [second, 'done', 'two', 't4'],
      [otherStory, 'running', 'other', null],
    ]);
  });

  it('inserts a done row for an end whose start was never seen', async () => {
    const { db, commandId, storyId } = await withCommand();
    const id = endTask(db, { commandId, storyKey: S1.key, taskId: 'review', message: 'ZERO ISSUES', endedAt: 't9' });
    const unknown = endTask(db, { commandId, storyKey: null, taskId: 'workflow', message: null, endedAt: 't9', known: false });
    expect(taskRows(db)).toEqual([
      { id, command_id: commandId, story_id: storyId, task_id: 'review', known: 1, status: 'done', message: 'ZERO ISSUES', started_at: 't9', ended_at: 't9' },
      { id: unknown, command_id: commandId, story_id: null, task_id: 'workflow', known: 0, status: 'done', message: null, started_at: 't9', ended_at: 't9' },
    ]);
  });

  it('pairs tasks without a story, and leaves a story the table does not know as null', async () => {
    const { db, commandId } = await withCommand();
    const none = startTask(db, { commandId, storyKey: null, taskId: 'workflow', known: false, message: null, startedAt: 't1' });
    const stranger = startTask(db, { commandId, storyKey: '9-9', taskId: 'setup', known: true, message: null, startedAt: 't1' });
    expect(endTask(db, { commandId, storyKey: null, taskId: 'workflow', message: null, endedAt: 't2' })).toBe(none);
    expect(endTask(db, { commandId, storyKey: '9-9', taskId: 'setup', message: null, endedAt: 't2' })).toBe(stranger);
    expect((taskRows(db) as Array<{ story_id: number | null; known: number }>).map((r) => [r.story_id, r.known])).toEqual([
      [null, 0],
      [null, 1],
    ]);
    expectNoDanglingKeys(db);
  });
});

describe('background tasks', () => {
  it('upserts by batch and key, keeping the start and handling the end', async () => {
    const db = await ctx.fresh();
    const batchId = newBatch(db);
    const commandId = insertCommand(db, command(batchId, { background: true }));
    const id = upsertBackgroundTask(db, {
      batchId,
      taskKey: 'bg.1',
      commandId: null,
      command: 'story-review-2',
      storyIds: ['2a-1', '2a-2'],
      status: 'running',
      message: null,
      startedAt: 't1',
    });
    expect(upsertBackgroundTask(db, { batchId, taskKey: 'bg.1', commandId, command: 'story-review-2', storyIds: ['2a-1', '2a-2'], status: 'running', message: 'spawned' })).toBe(id);
    expect(upsertBackgroundTask(db, { batchId, taskKey: 'bg.1', commandId, command: 'story-review-2', storyIds: ['2a-1', '2a-2'], status: 'ok', message: 'done', endedAt: 't2' })).toBe(id);
    expect(rows(db, 'SELECT batch_id, command_id, task_key, command, story_ids, status, message, started_at, ended_at FROM background_tasks')).toEqual([
      { batch_id: batchId, command_id: commandId, task_key: 'bg.1', command: 'story-review-2', story_ids: '2a-1,2a-2', status: 'ok', message: 'done', started_at: 't1', ended_at: 't2' },
    ]);
    // resumed: running again clears the end
    upsertBackgroundTask(db, { batchId, taskKey: 'bg.1', commandId, command: 'story-review-2', storyIds: ['2a-1'], status: 'running', message: null });
    expect(rows(db, 'SELECT status, started_at, ended_at, story_ids FROM background_tasks')).toEqual([
      { status: 'running', started_at: 't1', ended_at: null, story_ids: '2a-1' },
    ]);
    // the same key in another batch is another task
    const other = newBatch(db);
    expect(upsertBackgroundTask(db, { batchId: other, taskKey: 'bg.1', commandId: null, command: 'x', storyIds: [], status: 'running', message: null })).not.toBe(id);
    expect(rows(db, 'SELECT count(*) AS n FROM background_tasks')).toEqual([{ n: 2 }]);
  });
});

describe('snapshots', () => {
  it('keeps one snapshot per batch, the latest', async () => {
    const db = await ctx.fresh();
    const batchId = newBatch(db);
    expect(loadSnapshot(db, batchId)).toBeNull();
    saveSnapshot(db, batchId, 'v1', '{"value":"running"}');
    saveSnapshot(db, batchId, 'v2', '{"value":"paused"}');
    expect(loadSnapshot(db, batchId)).toEqual({ machineVersion: 'v2', snapshot: '{"value":"paused"}' });
    expect(rows(db, 'SELECT count(*) AS n FROM snapshots')).toEqual([{ n: 1 }]);
    expect(() => saveSnapshot(db, 999, 'v1', '{}')).toThrow(/FOREIGN KEY/);
  });
});

describe('processes', () => {
  it('records processes, lists the live ones and marks them ended', async () => {
    const db = await ctx.fresh();
    const commandId = insertCommand(db, command(newBatch(db)));
    const root = recordProcess(db, { commandId, pid: 100, startTime: 5000, role: 'root' });
    const child = recordProcess(db, { commandId, pid: 101, startTime: 5001, role: 'descendant' });
    expect(liveProcesses(db)).toEqual([
      { id: root, commandId, pid: 100, startTime: 5000, role: 'root' },
      { id: child, commandId, pid: 101, startTime: 5001, role: 'descendant' },
    ]);
    markProcessesEnded(db, [root]);
    markProcessesEnded(db, []);
    expect(liveProcesses(db).map((p) => p.id)).toEqual([child]);
  });

  it('marks long lists ended', async () => {
    const db = await ctx.fresh();
    const commandId = insertCommand(db, command(newBatch(db)));
    const ids = db.sqlite.transaction(() =>
      Array.from({ length: 1234 }, (_, i) => recordProcess(db, { commandId, pid: 1000 + i, startTime: i, role: 'descendant' })),
    )();
    markProcessesEnded(db, ids.slice(0, 1233));
    expect(liveProcesses(db).map((p) => p.id)).toEqual([ids[1233]]);
  });
});

describe('the synchronous query helpers', () => {
  it('prepare each SQL text once and reuse the statement', async () => {
    const db = await ctx.fresh();
    const prepare = vi.spyOn(db.sqlite, 'prepare');
    for (let i = 0; i < 5; i++) insertEvent(db, { batchId: null, commandId: null, type: 'x', ts: i, payload: i });
    expect(prepare).toHaveBeenCalledTimes(1);
    prepare.mockRestore();
  });

  it('bind booleans and undefined', async () => {
    const db = await ctx.fresh();
    runSync(db, db.kysely.insertInto('events').values({ batch_id: undefined, command_id: null, type: 't', ts: 1, payload: '{}' }));
    const row = getSync(db, db.kysely.selectFrom('events').select(['batch_id', 'ts']));
    expect(row).toEqual({ batch_id: null, ts: 1 });
  });

  it('take part in an outer transaction: a throw rolls every write back', async () => {
    const db = await ctx.fresh();
    expect(() =>
      db.sqlite.transaction(() => {
        const batchId = newBatch(db);
        insertCommand(db, command(batchId));
        insertEvent(db, { batchId, commandId: null, type: 'x', ts: 1, payload: null });
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    for (const table of ['batches', 'commands', 'stories', 'command_stories', 'events']) {
      expect(rows(db, `SELECT count(*) AS n FROM ${table}`), table).toEqual([{ n: 0 }]);
    }
  });

  it('leave no dangling foreign key after a whole run', async () => {
    const db = await ctx.fresh();
    const batchId = newBatch(db);
    const c1 = insertCommand(db, command(batchId, { stories: [S1, S2] }));
    startTask(db, { commandId: c1, storyKey: '2a-1', taskId: 'setup', known: true, message: null, startedAt: 't' });
    endTask(db, { commandId: c1, storyKey: '2a-2', taskId: 'setup', message: null, endedAt: 't' });
    insertEvent(db, { batchId, commandId: c1, type: 'command:end', ts: 1, payload: {} });
    upsertBackgroundTask(db, { batchId, taskKey: 'bg.1', commandId: c1, command: 'x', storyIds: ['2a-1'], status: 'running', message: null });
    saveSnapshot(db, batchId, 'v', '{}');
    recordProcess(db, { commandId: c1, pid: 1, startTime: 1, role: 'root' });
    markRunningCommandsInterrupted(db, batchId, 't');
    expectNoDanglingKeys(db);
    expect(db.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
