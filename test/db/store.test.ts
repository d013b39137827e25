// The SQLite RunStore under real batches: rows per transition, resume in a new runner, and recovery after a crash.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../db/store.js';
import { endRecordedProcesses, isAlive, readProcessStartTime } from '../../machines/claude/process-tree.js';
import { createSprintRunner } from '../../machines/runner.js';
import type { RunnerEvent } from '../../machines/runner-api.js';
import { insertBatch } from '../../db/batches.js';
import { insertCommand } from '../../db/commands.js';
import { recordProcess } from '../../db/processes.js';
import { eventsAfter, listCommands, latestBatch } from '../../db/reads.js';
import { makeProject, SIM_CLAUDE } from '../support/scenario.js';
import { waitFor } from '../support/wait.js';
import { useTempDatabases } from './support.js';

const dbs = useTempDatabases();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function runnerOn(root: string, store: ReturnType<typeof createSqliteStore>) {
  const runner = createSprintRunner({ projectRoot: root, claudeBin: SIM_CLAUDE, store, resultGraceMs: 500, env: { SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1' } });
  const events: RunnerEvent[] = [];
  runner.subscribe((e) => events.push(e));
  closers.push(() => runner.close());
  return { runner, events };
}

const checks = (db: Awaited<ReturnType<typeof dbs.fresh>>) => ({
  integrity: db.sqlite.pragma('integrity_check', { simple: true }),
  foreignKeys: db.sqlite.pragma('foreign_key_check'),
});

describe('SQLite store', () => {
  it('stores every event with contiguous ids and the rows the dashboard reads', async () => {
    const db = await dbs.fresh();
    const root = makeProject({ developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n', scenario: { stories: { '1-1': { storyReview: [1] } } } });
    const { runner, events } = runnerOn(root, createSqliteStore(db));
    await runner.start({ cycles: 1 });
    await runner.done();
    const stored = await eventsAfter(db, 0, 5000);
    expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(stored.map((e) => e.id)).toEqual(stored.map((_, i) => i + 1));
    const commands = await listCommands(db, {});
    expect(commands.map((c) => c.command).sort()).toEqual(
      ['background-review-chain', 'batch-commit', 'code-review-1', 'create-story', 'dev-story', 'story-discovery', 'story-review-1'].sort(),
    );
    expect(commands.every((c) => c.status === 'ok')).toBe(true);
    const dev = commands.find((c) => c.command === 'dev-story')!;
    expect(dev.tasks.length).toBeGreaterThan(0);
    expect(dev.tasks.every((t) => t.status === 'done')).toBe(true);
    expect(await latestBatch(db)).toMatchObject({ status: 'completed', cyclesCompleted: 1 });
    expect(checks(db)).toEqual({ integrity: 'ok', foreignKeys: [] });
  });

  it('a new runner on the same database resumes a stopped batch at the exact step', async () => {
    const db = await dbs.fresh();
    const root = makeProject({
      developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n',
      scenario: { stories: { '1-1': { run: { 'dev-story': ['hang', 'ok'] } } } },
    });
    const first = runnerOn(root, createSqliteStore(db));
    await first.runner.start({ cycles: 1 });
    await waitFor(() => first.events.some((e) => e.type === 'command:progress' && e.payload.kind === 'init') || null, 'dev-story to start');
    await first.runner.close();
    expect(await latestBatch(db)).toMatchObject({ status: 'stopped' });

    const second = runnerOn(root, createSqliteStore(db));
    expect(second.runner.status()).toBe('stopped');
    await second.runner.resume();
    await second.runner.done();
    const commands = (await listCommands(db, {})).reverse();
    expect(commands.map((c) => `${c.command}#${c.attempt}:${c.status}`)).toEqual(['dev-story#1:interrupted', 'dev-story#2:ok', 'code-review-1#1:ok', 'batch-commit#1:ok']);
    expect(await latestBatch(db)).toMatchObject({ status: 'completed' });
    expect(checks(db)).toEqual({ integrity: 'ok', foreignKeys: [] });
  });

  it('recovery after a crash ends the recorded children whose start time matches, and only those', async () => {
    const db = await dbs.fresh();
    const ours = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const stranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    closers.push(async () => {
      for (const child of [ours, stranger]) if (child.pid && isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
    });
    const ourStart = await waitFor(() => readProcessStartTime(ours.pid!), 'start time');
    const batchId = insertBatch(db, { startedAt: new Date().toISOString(), maxCycles: 2, status: 'running', projectRoot: '/p' });
    const commandId = insertCommand(db, {
      batchId,
      runId: 'c1/dev-story/1-1',
      command: 'dev-story',
      kind: 'dev-story',
      stories: [{ key: '1-1-a', shortId: '1-1', epicId: '1' }],
      attempt: 1,
      reviewAttempt: null,
      model: null,
      background: false,
      startedAt: new Date().toISOString(),
    });
    recordProcess(db, { commandId, pid: ours.pid!, startTime: ourStart, role: 'root' });
    // same PID number reused by someone else: the start time does not match, so it must be left alone
    recordProcess(db, { commandId, pid: stranger.pid!, startTime: 1, role: 'root' });

    const store = createSqliteStore(db);
    expect(store.leftoverProcesses().map((proc) => [proc.pid, proc.startTime])).toEqual([[ours.pid, ourStart], [stranger.pid, 1]]);
    // db only reports what the dead run recorded; the process layer ends them, as server start-up does
    const report = store.recover(await endRecordedProcesses(store.leftoverProcesses()));
    expect(report).toEqual({ interruptedBatch: batchId, killed: [ours.pid] });
    expect(store.leftoverProcesses()).toEqual([]);
    expect(isAlive(ours.pid!)).toBe(false);
    expect(isAlive(stranger.pid!)).toBe(true);
    expect(await latestBatch(db)).toMatchObject({ status: 'interrupted' });
    expect((await listCommands(db, {}))[0]).toMatchObject({ status: 'interrupted' });
    expect(createSqliteStore(db).resumable()).toBeNull(); // no snapshot was ever written for this batch
  });
});

describe('task rows of a commit with many lines', () => {
  // A flood of stdout lines commits task starts together with their ends; the rows must be exactly what one
  // commit per line leaves. Each case is a sequence of (status, story, task, message) lines of one command.
  type Line = ['start' | 'end', string, string, string];
  const cases: [string, Line[]][] = [
    ['start then end', [['start', '1-1', 'a', 'm1'], ['end', '1-1', 'a', '']]],
    ['the end message wins when it has one', [['start', '1-1', 'a', 'm1'], ['end', '1-1', 'a', 'done!']]],
    ['nested starts close newest first', [['start', '1-1', 'a', 's1'], ['start', '1-1', 'a', 's2'], ['end', '1-1', 'a', 'e1'], ['end', '1-1', 'a', 'e2']]],
    ['an end without a start is a done row', [['end', '1-1', 'a', 'x'], ['start', '1-1', 'a', ''], ['end', '1-1', 'a', '']]],
    ['long key and short id name the same story', [['start', '1-1', 'a', 's1'], ['start', '1-1-alpha', 'a', 's2'], ['end', '1-1', 'a', 'e']]],
    ['different tasks and stories interleave', [['start', '1-1', 'a', ''], ['start', '1-2', 'a', ''], ['start', '1-1', 'b', ''], ['end', '1-2', 'a', ''], ['end', '1-1', 'a', ''], ['end', '1-1', 'b', 'b']]],
    ['unknown stories and no story', [['start', '', 'a', ''], ['start', '9-9', 'a', ''], ['end', '', 'a', 'e'], ['end', '9-9', 'a', ''], ['end', '9-9', 'a', '']]],
    ['a start left open stays running', [['start', '1-1', 'a', ''], ['start', '1-1', 'b', ''], ['end', '1-1', 'b', '']]],
  ];

  const stories = [
    { key: '1-1-alpha', shortId: '1-1', epicId: '1' },
    { key: '1-2-beta', shortId: '1-2', epicId: '1' },
  ];
  const linesToEvents = (lines: Line[], t0: number) =>
    lines.map(([status, story, taskId, message], i) => ({
      type: 'command:progress',
      ts: t0 + i,
      payload: { kind: 'task', task: { story, taskId, status, message }, known: true, runId: 'r1', command: 'dev-story', stories: ['1-1'] },
    }));

  async function taskRows(lines: Line[], oneCommit: boolean) {
    const db = await dbs.fresh(`tasks-${oneCommit}.db`);
    const store = createSqliteStore(db);
    const batchId = store.beginBatch({ maxCycles: 1, projectRoot: '/p', startedAt: 1_000 });
    const start = { runId: 'r1', command: 'dev-story', kind: 'dev-story', stories, attempt: 1, reviewAttempt: null, model: null, background: false };
    // an earlier commit leaves one task of each story running, so ends can also close rows from before
    store.commit(batchId, [{ type: 'command:start', ts: 1_000, payload: start }, ...linesToEvents([['start', '1-1', 'a', 'before']], 1_001)], null);
    const events = linesToEvents(lines, 2_000);
    if (oneCommit) store.commit(batchId, events, null);
    else for (const event of events) store.commit(batchId, [event], null);
    return db.sqlite.prepare('select id, story_id, task_id, known, status, message, started_at, ended_at from tasks order by id').all();
  }

  it.each(cases)('%s', async (_name, lines) => {
    const separate = await taskRows(lines, false);
    expect(await taskRows(lines, true)).toEqual(separate);
    expect(separate.length).toBeGreaterThan(1);
  });
});
