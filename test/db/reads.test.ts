// Checks the API's read queries: ordering, filters, limits, cost rollups and event paging across id gaps.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SprintDb } from '../../db/database.js';
import {
  costRollup,
  eventsAfter,
  lastEventId,
  latestBatch,
  listBatches,
  listCommands,
  listStories,
  runningBackgroundTasks,
} from '../../db/reads.js';
import { legacyEvents } from '../../db/legacy-reads.js';
import { upsertBackgroundTask } from '../../db/background-tasks.js';
import { insertBatch, updateBatch } from '../../db/batches.js';
import { insertCommand, type NewCommand, updateCommand } from '../../db/commands.js';
import { insertEvent } from '../../db/events.js';
import { type StoryRef, upsertStory } from '../../db/stories.js';
import { endTask, startTask } from '../../db/tasks.js';
import { importLegacyCsv } from '../../db/legacy-csv.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();

const story = (key: string, shortId: string, epicId: string): StoryRef => ({ key, shortId, epicId });
const S1 = story('1-1-project-scaffold', '1-1', '1');
const S2A1 = story('2a-1-log-parser', '2a-1', '2a');
const S2A2 = story('2a-2-session-scanner', '2a-2', '2a');

function run(db: SprintDb, batchId: number, stories: StoryRef[], startedAt: string, extra: Partial<NewCommand> = {}): number {
  return insertCommand(db, {
    batchId,
    runId: `${startedAt}/${extra.command ?? 'dev-story'}`,
    command: 'dev-story',
    kind: 'dev-story',
    stories,
    attempt: 1,
    reviewAttempt: null,
    model: null,
    background: false,
    startedAt,
    ...extra,
  });
}

describe('batches', () => {
  it('lists newest first with the summed cost, and the latest', async () => {
    const db = await ctx.fresh();
    expect(await listBatches(db)).toEqual([]);
    expect(await latestBatch(db)).toBeNull();
    const b1 = insertBatch(db, { startedAt: '2030-01-01T00:00:00.000Z', maxCycles: 2, status: 'running', projectRoot: '/p' });
    const c1 = run(db, b1, [S1], '2030-01-01T00:01:00.000Z');
    const c2 = run(db, b1, [S1], '2030-01-01T00:02:00.000Z');
    run(db, b1, [S1], '2030-01-01T00:03:00.000Z'); // no cost reported yet
    updateCommand(db, c1, { cost_usd: 0.5 });
    updateCommand(db, c2, { cost_usd: 0.25 });
    updateBatch(db, b1, { status: 'completed', cyclesCompleted: 2, endedAt: '2030-01-01T01:00:00.000Z' });
    const b2 = insertBatch(db, { startedAt: '2030-01-02T00:00:00.000Z', maxCycles: 'all', status: 'running', projectRoot: '/p' });

    const batches = await listBatches(db);
    expect(batches.map((b) => b.id)).toEqual([b2, b1]);
    expect(batches[1]).toEqual({
      id: b1,
      startedAt: '2030-01-01T00:00:00.000Z',
      endedAt: '2030-01-01T01:00:00.000Z',
      maxCycles: 2,
      cyclesCompleted: 2,
      status: 'completed',
      message: null,
      projectRoot: '/p',
      costUsd: 0.75,
      storiesDone: [],
      storiesBlocked: [],
    });
    expect(batches[0]).toMatchObject({ id: b2, maxCycles: 'all', costUsd: 0, cyclesCompleted: 0 });
    expect(await latestBatch(db)).toEqual(batches[0]);
  });
});

describe('batch outcomes', () => {
  it('lists the stories each batch marked done and blocked, with the reason, from its story:status events', async () => {
    const db = await ctx.fresh();
    const b1 = insertBatch(db, { startedAt: '2030-01-01T00:00:00.000Z', maxCycles: 2, status: 'running', projectRoot: '/p' });
    const b2 = insertBatch(db, { startedAt: '2030-01-02T00:00:00.000Z', maxCycles: 2, status: 'running', projectRoot: '/p' });
    const status = (batchId: number, story: StoryRef, value: string, reason: string) =>
      insertEvent(db, { batchId, commandId: null, type: 'story:status', ts: 1, payload: { story, status: value, reason } });
    status(b1, S1, 'done', 'code review passed');
    status(b1, S2A1, 'blocked', 'code review failed 3 times: same error');
    status(b2, S2A2, 'done', '');
    insertEvent(db, { batchId: b1, commandId: null, type: 'story:status', ts: 2, payload: 'written by another tool' });
    const [second, first] = await listBatches(db);
    expect(first).toMatchObject({ id: b1, storiesDone: ['1-1'], storiesBlocked: [{ story: '2a-1', reason: 'code review failed 3 times: same error' }] });
    expect(second).toMatchObject({ id: b2, storiesDone: ['2a-2'], storiesBlocked: [] });
    expect(await latestBatch(db)).toEqual(second);
  });
});

describe('commands', () => {
  it('lists a task left open when its command ended as done at the command\'s end: no phantom running task', async () => {
    const db = await ctx.fresh();
    const b1 = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    const ended = run(db, b1, [S1], '2030-01-01T00:01:00.000Z');
    const live = run(db, b1, [S1], '2030-01-01T00:02:00.000Z');
    startTask(db, { commandId: ended, storyKey: S1.shortId, taskId: 'setup', known: true, message: null, startedAt: '2030-01-01T00:01:01.000Z' });
    startTask(db, { commandId: live, storyKey: S1.shortId, taskId: 'setup', known: true, message: null, startedAt: '2030-01-01T00:02:01.000Z' });
    updateCommand(db, ended, { status: 'interrupted', ended_at: '2030-01-01T00:01:30.000Z' });
    const [liveRow, endedRow] = await listCommands(db);
    expect(endedRow!.tasks[0]).toMatchObject({ status: 'done', endedAt: '2030-01-01T00:01:30.000Z' });
    expect(liveRow!.tasks[0]).toMatchObject({ status: 'running', endedAt: null });
  });

  it('lists newest first with task rows, filtered by story short id or key and by batch', async () => {
    const db = await ctx.fresh();
    const b1 = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    const b2 = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    const c1 = run(db, b1, [S2A1, S2A2], '2030-01-01T00:01:00.000Z', { command: 'create-story', kind: 'create-story' });
    const c2 = run(db, b1, [S2A1], '2030-01-01T00:02:00.000Z', { background: true, model: 'sonnet', reviewAttempt: 1 });
    const c3 = run(db, b2, [S1], '2030-01-01T00:03:00.000Z');
    const t1 = startTask(db, { commandId: c2, storyKey: '2a-1', taskId: 'setup', known: true, message: 'go', startedAt: 'a' });
    endTask(db, { commandId: c2, storyKey: '2a-1', taskId: 'setup', message: 'went', endedAt: 'b' });
    const t2 = startTask(db, { commandId: c2, storyKey: null, taskId: 'workflow', known: false, message: null, startedAt: 'c' });
    updateCommand(db, c2, { is_error: 1, interrupted: 1, status: 'interrupted' });

    const all = await listCommands(db);
    expect(all.map((c) => c.id)).toEqual([c3, c2, c1]);
    expect(all[1]).toMatchObject({
      id: c2,
      batchId: b1,
      stories: ['2a-1'],
      background: true,
      model: 'sonnet',
      reviewAttempt: 1,
      isError: true,
      interrupted: true,
      status: 'interrupted',
      costUsd: null,
    });
    expect(all[1]!.tasks).toEqual([
      { id: t1, commandId: c2, storyId: upsertStory(db, S2A1), storyShortId: '2a-1', taskId: 'setup', known: true, status: 'done', message: 'went', startedAt: 'a', endedAt: 'b' },
      { id: t2, commandId: c2, storyId: null, storyShortId: null, taskId: 'workflow', known: false, status: 'running', message: null, startedAt: 'c', endedAt: null },
    ]);
    expect(all[2]).toMatchObject({ stories: ['2a-1', '2a-2'], background: false, isError: null, interrupted: false, tasks: [] });

    expect((await listCommands(db, { story: '2a-1' })).map((c) => c.id)).toEqual([c2, c1]);
    expect((await listCommands(db, { story: S2A2.key })).map((c) => c.id)).toEqual([c1]);
    expect((await listCommands(db, { story: 'nope' })).map((c) => c.id)).toEqual([]);
    expect((await listCommands(db, { batchId: b2 })).map((c) => c.id)).toEqual([c3]);
    expect((await listCommands(db, { batchId: b1, story: '2a-2' })).map((c) => c.id)).toEqual([c1]);
    expect((await listCommands(db, { limit: 2 })).map((c) => c.id)).toEqual([c3, c2]);
    expect((await listCommands(db, { limit: 0 })).map((c) => c.id)).toEqual([c3]);
    expect(all.map((c) => c.taskCount)).toEqual([0, 2, 0]);
  });

  it("with tasksPerCommand, lists a command's newest task rows in start order, and counts them all", async () => {
    const TASKS_PER_COMMAND = 200;
    const db = await ctx.fresh();
    const b = insertBatch(db, { startedAt: '2030-01-01T00:00:00.000Z', maxCycles: 1, status: 'running', projectRoot: '/p' });
    const loop = run(db, b, [S1], '2030-01-01T00:01:00.000Z');
    const calm = run(db, b, [S1], '2030-01-01T00:02:00.000Z', { command: 'code-review-1' });
    const total = TASKS_PER_COMMAND + 50;
    const loopIds = Array.from({ length: total }, (_, i) => startTask(db, { commandId: loop, storyKey: '1-1', taskId: `t${i}`, known: true, message: null, startedAt: 'a' }));
    const calmId = startTask(db, { commandId: calm, storyKey: null, taskId: 'only', known: true, message: null, startedAt: 'a' });
    expect((await listCommands(db)).map((c) => c.tasks.length)).toEqual([1, total]);
    const [calmRow, loopRow] = await listCommands(db, { tasksPerCommand: TASKS_PER_COMMAND });
    expect(loopRow!.taskCount).toBe(total);
    expect(loopRow!.tasks.map((t) => t.id)).toEqual(loopIds.slice(-TASKS_PER_COMMAND));
    expect(loopRow!.tasks[0]).toMatchObject({ taskId: 't50', storyShortId: '1-1' });
    expect(calmRow).toMatchObject({ taskCount: 1, tasks: [{ id: calmId, taskId: 'only' }] });
  });
});

describe('stories', () => {
  it('lists in sprint order with each story’s latest command', async () => {
    const db = await ctx.fresh();
    const b = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    upsertStory(db, story('10-1-late', '10-1', '10'), 'backlog');
    upsertStory(db, story('2a-10-tenth', '2a-10', '2a'), 'backlog');
    const old = run(db, b, [S2A1, S2A2], '2030-01-01T00:01:00.000Z');
    const newer = run(db, b, [S2A1], '2030-01-01T00:02:00.000Z', { command: 'code-review-1', kind: 'code-review' });
    upsertStory(db, S1, 'done');
    upsertStory(db, story('2-1-plain', '2-1', '2'), 'ready-for-dev');

    const stories = await listStories(db);
    expect(stories.map((s) => s.shortId)).toEqual(['1-1', '2-1', '2a-1', '2a-2', '2a-10', '10-1']);
    const byShort = Object.fromEntries(stories.map((s) => [s.shortId, s]));
    expect(byShort['2a-1']!.latestCommand).toMatchObject({ id: newer, command: 'code-review-1' });
    expect(byShort['2a-2']!.latestCommand).toMatchObject({ id: old, command: 'dev-story' });
    expect(byShort['1-1']).toMatchObject({ key: S1.key, epicId: '1', status: 'done', latestCommand: null });
  });
});

describe('events', () => {
  async function withEvents(n: number): Promise<{ db: SprintDb; ids: number[] }> {
    const db = await ctx.fresh();
    const ids = db.sqlite.transaction(() =>
      Array.from({ length: n }, (_, i) => insertEvent(db, { batchId: null, commandId: null, type: 'e', ts: i, payload: { i } })),
    )();
    return { db, ids };
  }

  it('returns events after an id in ascending order, with the payload parsed', async () => {
    const { db, ids } = await withEvents(10);
    const page = await eventsAfter(db, ids[3]!, 3);
    expect(page).toEqual([
      { id: ids[4], type: 'e', ts: 4, payload: { i: 4 } },
      { id: ids[5], type: 'e', ts: 5, payload: { i: 5 } },
      { id: ids[6], type: 'e', ts: 6, payload: { i: 6 } },
    ]);
    expect((await eventsAfter(db, 0, 100)).map((e) => e.id)).toEqual(ids);
    expect(await eventsAfter(db, ids[9]!, 100)).toEqual([]);
    expect(await lastEventId(db)).toBe(ids[9]);
  });

  it('pages across gaps in the ids', async () => {
    const { db, ids } = await withEvents(10);
    // a rolled-back write leaves a gap too; deleting is the simplest way to make one
    db.sqlite.prepare('DELETE FROM events WHERE id IN (?, ?, ?)').run(ids[2], ids[3], ids[4]);
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = await eventsAfter(db, after, 2);
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.id));
      after = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(ids.filter((_, i) => i < 2 || i > 4));
    expect((await eventsAfter(db, ids[1]!, 1)).map((e) => e.id)).toEqual([ids[5]]);
  });

  it('clamps the limit to 1..5000', async () => {
    const { db } = await withEvents(5003);
    expect(await eventsAfter(db, 0, 0)).toHaveLength(1);
    expect(await eventsAfter(db, 0, -7)).toHaveLength(1);
    expect(await eventsAfter(db, 0, Number.NaN)).toHaveLength(1);
    expect(await eventsAfter(db, 0, 2.9)).toHaveLength(2);
    expect(await eventsAfter(db, 0, 10_000)).toHaveLength(5000);
    expect(await eventsAfter(db, 0, Number.POSITIVE_INFINITY)).toHaveLength(5000);
    expect(await eventsAfter(db, Number.NaN, 1)).toHaveLength(1);
  });

  it('reports 0 as the last id of an empty table and keeps an unparseable payload as text', async () => {
    const db = await ctx.fresh();
    expect(await lastEventId(db)).toBe(0);
    db.sqlite.prepare(`INSERT INTO events (type, ts, payload) VALUES ('x', 1, 'not json')`).run();
    expect((await eventsAfter(db, 0, 10))[0]!.payload).toBe('not json');
  });
});

describe('background tasks', () => {
  it('lists only the running ones of the batch', async () => {
    const db = await ctx.fresh();
    const b = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    const other = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    const base = { commandId: null, command: 'story-review-2', message: null };
    upsertBackgroundTask(db, { ...base, batchId: b, taskKey: 'bg.1', storyIds: ['2a-1', '2a-2'], status: 'running', startedAt: 's1' });
    upsertBackgroundTask(db, { ...base, batchId: b, taskKey: 'bg.2', storyIds: ['2a-3'], status: 'ok', startedAt: 's2' });
    upsertBackgroundTask(db, { ...base, batchId: other, taskKey: 'bg.1', storyIds: [], status: 'running', startedAt: 's3' });
    expect(await runningBackgroundTasks(db, b)).toEqual([
      { id: expect.any(Number), key: 'bg.1', commandId: null, command: 'story-review-2', stories: ['2a-1', '2a-2'], status: 'running', message: null, startedAt: 's1' },
    ]);
  });
});

describe('cost rollup', () => {
  it('sums the batch, and each story over the commands that served it', async () => {
    const db = await ctx.fresh();
    const b = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    const other = insertBatch(db, { startedAt: 't', maxCycles: 1, status: 'running', projectRoot: '/p' });
    expect(await costRollup(db, b)).toEqual({ batch: { costUsd: 0, inputTokens: 0, outputTokens: 0 }, stories: {} });
    const pair = run(db, b, [S2A1, S2A2], '1');
    const single = run(db, b, [S2A1], '2');
    run(db, b, [S1], '3'); // running, nothing reported
    const elsewhere = run(db, other, [S2A1], '4');
    updateCommand(db, pair, { cost_usd: 1, input_tokens: 100, output_tokens: 10 });
    updateCommand(db, single, { cost_usd: 0.5, input_tokens: 50, output_tokens: 5 });
    updateCommand(db, elsewhere, { cost_usd: 9, input_tokens: 9, output_tokens: 9 });
    expect(await costRollup(db, b)).toEqual({
      batch: { costUsd: 1.5, inputTokens: 150, outputTokens: 15 },
      stories: {
        '1-1': { costUsd: 0, inputTokens: 0, outputTokens: 0 },
        '2a-1': { costUsd: 1.5, inputTokens: 150, outputTokens: 15 },
        '2a-2': { costUsd: 1, inputTokens: 100, outputTokens: 10 },
      },
    });
  });
});

describe('legacy events', () => {
  it('lists the imported lines oldest first', async () => {
    const db = await ctx.fresh();
    const file = join(ctx.dir(), 'log.csv');
    writeFileSync(file, '200,1,1-1,dev-story,implement,end\n100,1,1-1,dev-story,implement,start,"go, go"\n');
    await importLegacyCsv(db, file);
    expect(await legacyEvents(db)).toEqual([
      { id: expect.any(Number), epoch: 100, epic: '1', story: '1-1', command: 'dev-story', taskId: 'implement', status: 'start', message: 'go, go', source: 'csv', run: expect.stringMatching(/^legacy:/) },
      { id: expect.any(Number), epoch: 200, epic: '1', story: '1-1', command: 'dev-story', taskId: 'implement', status: 'end', message: null, source: 'csv', run: expect.stringMatching(/^legacy:/) },
    ]);
  });
});
