// Resume from a persisted snapshot in a new runner: the exact step, a new attempt for the interrupted command, counters kept.
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../machines/claude/process-tree.js';
import { createSprintRunner } from '../../machines/runner.js';
import type { RunnerEvent } from '../../machines/runner-api.js';
import { JsonStore } from '../support/json-store.js';
import { makeProject, SIM_CLAUDE } from '../support/scenario.js';
import { waitFor } from '../support/wait.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function runnerOn(root: string, store: JsonStore) {
  const trace = path.join(root, '.sprint-sim', 'trace.jsonl');
  const runner = createSprintRunner({
    projectRoot: root,
    claudeBin: SIM_CLAUDE,
    store,
    resultGraceMs: 500,
    env: { SPRINT_SIM_TRACE: trace, SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1' },
  });
  const events: RunnerEvent[] = [];
  runner.subscribe((e) => events.push(e));
  closers.push(() => runner.close());
  const starts = () =>
    (existsSync(trace) ? readFileSync(trace, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { ev: string; logged: string; stories: string[]; pid: number })
      .filter((t) => t.ev === 'start')
      .map((t) => `${t.logged} ${t.stories.join(',')}`);
  return { runner, events, trace, starts };
}

describe('resume from a persisted snapshot', () => {
  it('a new runner resumes a stopped batch at the exact step: the interrupted command runs again as attempt 2', async () => {
    const root = makeProject({
      developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n  1-2-beta: review\n',
      scenario: {
        stories: {
          '1-1': { codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:1'] }, 'zero'] },
          '1-2': { run: { 'code-review': ['hang', 'ok'] } },
        },
      },
    });
    const store = new JsonStore();
    const first = runnerOn(root, store);
    await first.runner.start({ cycles: 1 });
    await waitFor(() => first.starts().includes('code-review-1 1-2') || null, 'code-review of 1-2');
    const pids = first.runner.livePids();
    await first.runner.close();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(store.resumable()).toMatchObject({ status: 'stopped' });

    const second = runnerOn(root, store);
    expect(second.runner.status()).toBe('stopped');
    await second.runner.resume();
    const output = await second.runner.done();
    expect(output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
    // completed commands never run again; the interrupted one runs once more
    expect(second.starts()).toEqual(['code-review-1 1-1', 'code-review-2 1-1', 'code-review-1 1-2', 'code-review-1 1-2', 'batch-commit 1-1,1-2']);
    const restarted = second.events.find((e) => e.type === 'command:start');
    expect(restarted?.payload).toMatchObject({ command: 'code-review-1', attempt: 2 });
    // event ids continue from the first runner's, with no gap
    const ids = store.events.map((e) => e.id);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });

  it('keeps the review attempt and error streaks across the restore', async () => {
    const root = makeProject({
      developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n',
      scenario: {
        stories: {
          '1-1': {
            run: { 'code-review': ['ok', 'no-result', 'hang', 'ok'] },
            codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:1'] }, 'zero'],
          },
        },
      },
    });
    const store = new JsonStore();
    const first = runnerOn(root, store);
    await first.runner.start({ cycles: 1 });
    await waitFor(() => first.starts().filter((s) => s === 'code-review-2 1-1').length === 2 || null, 'the hanging code-review-2');
    await first.runner.close();

    const second = runnerOn(root, store);
    await second.runner.resume();
    await second.runner.done();
    expect(second.starts()).toEqual(['code-review-1 1-1', 'code-review-2 1-1', 'code-review-2 1-1', 'code-review-2 1-1', 'batch-commit 1-1']);
    const snapshot = JSON.parse(store.batches[0]!.snapshot!) as { context: { errorStreaks: Record<string, { count: number }> } };
    // the no-result failure counted 1; the success of code-review-2 after the restore ended the streak
    expect(snapshot.context.errorStreaks['1-1']).toEqual({ count: 0, command: null });
  });

  it('refuses to resume a snapshot written by other machines', async () => {
    const store = new JsonStore();
    const root = makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n' });
    const first = runnerOn(root, store);
    await first.runner.start({ cycles: 1 });
    await first.runner.close();
    store.batches[0]!.version = 'older';
    store.batches[0]!.status = 'stopped';
    const second = runnerOn(root, store);
    await expect(second.runner.resume()).rejects.toThrow('cannot resume exactly');
  });

  it('Start with a resumable batch is refused by code, naming it, until discard records it abandoned', async () => {
    const store = new JsonStore();
    const root = makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n', scenario: { commands: { 'code-review': ['hang', 'ok'] } } });
    const first = runnerOn(root, store);
    await first.runner.start({ cycles: 1 });
    await waitFor(() => first.starts().length > 0 || null, 'the hanging code-review');
    await expect(first.runner.start({ cycles: 1 })).rejects.toMatchObject({ code: 'already-active' });
    await first.runner.stop();
    // stopped in this process is the same as after a restart
    await expect(first.runner.start({ cycles: 1 })).rejects.toMatchObject({ code: 'resumable-batch', batchId: 1, message: 'batch 1 is stopped: resume it, or discard it and start a new batch' });
    await first.runner.close();

    const second = runnerOn(root, store);
    await expect(second.runner.start({ cycles: 1 })).rejects.toMatchObject({ code: 'resumable-batch', batchId: 1 });
    store.batches[0]!.version = 'older';
    await expect(second.runner.resume()).rejects.toMatchObject({ code: 'version-mismatch', batchId: 1 });
    await expect(second.runner.start({ cycles: 1 })).rejects.toMatchObject({ code: 'resumable-batch', message: expect.stringContaining('cannot resume exactly: discard it') });
    await second.runner.start({ cycles: 1, discard: true });
    await second.runner.done();
    expect(store.batches.map((b) => b.status)).toEqual(['abandoned', 'completed']);
    expect(second.events.find((e) => e.type === 'state' && e.payload.status === 'abandoned')).toBeDefined();
    await expect(second.runner.resume()).rejects.toMatchObject({ code: 'nothing-to-resume' });
  });

  it('discard in the process that stopped the batch releases it and runs a new batch to the end', async () => {
    const store = new JsonStore();
    const root = makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n', scenario: { commands: { 'code-review': ['hang', 'ok'] } } });
    const first = runnerOn(root, store);
    await first.runner.start({ cycles: 1 });
    await waitFor(() => first.starts().length > 0 || null, 'the hanging code-review');
    await first.runner.stop();
    await first.runner.start({ cycles: 1, discard: true });
    expect(first.runner.batchId()).toBe(2);
    const output = await first.runner.done();
    expect(output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
    expect(store.batches.map((b) => b.status)).toEqual(['abandoned', 'completed']);
    expect(first.runner.livePids()).toEqual([]);
  });
});
