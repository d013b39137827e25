// Every snapshot the runner writes can be resumed: none catches a finished actor whose parent has not yet taken its end.
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../db/store.js';
import { prepareSnapshotForResume, type RunStore } from '../../machines/persistence.js';
import { createSprintRunner } from '../../machines/runner.js';
import { makeProject, SIM_CLAUDE } from '../support/scenario.js';
import { useTempDatabases } from './support.js';

const dbs = useTempDatabases();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

type Node = { status?: string; value?: unknown; context?: Record<string, unknown>; children?: Record<string, { snapshot: Node; src: unknown }> };

/**
 * The finished actors a restore would never start (XState starts only active children), each with the parent
 * that would wait for it: a finished child still listed by its parent, unless it is a background task whose end
 * the batch has recorded.
 */
function orphans(node: Node, path = 'batch'): string[] {
  const out: string[] = [];
  for (const [id, child] of Object.entries(node.children ?? {})) {
    const finished = child.snapshot.status === 'done' || child.snapshot.status === 'error';
    const recorded = id.startsWith('bg.') && ((node.context?.['background'] ?? []) as { id: string; status: string }[]).find((t) => t.id === id)?.status !== 'running';
    if (finished && !recorded) out.push(`${path}/${id} (${JSON.stringify(child.snapshot.value)})`);
    out.push(...orphans(child.snapshot, `${path}/${id}`));
  }
  return out;
}

describe('the snapshots a batch writes', () => {
  it('never hold a finished actor its parent has not yet heard from, so a crash after any commit resumes', async () => {
    const db = await dbs.fresh();
    const store = createSqliteStore(db);
    const snapshots: Node[] = [];
    const recording: RunStore = {
      ...store,
      commit(batchId, events, snapshot) {
        if (snapshot !== null) snapshots.push(structuredClone(snapshot) as Node);
        return store.commit(batchId, events, snapshot);
      },
    };
    // two cycles: parallel create-story and discovery, reviews that fork background chains, dev, code review
    const root = makeProject({ developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n  1-2-beta: backlog\n', scenario: { stories: { '1-1': { storyReview: [1] } } } });
    const runner = createSprintRunner({ projectRoot: root, claudeBin: SIM_CLAUDE, store: recording, resultGraceMs: 500, env: { SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1' } });
    closers.push(() => runner.close());
    await runner.start({ cycles: 2 });
    expect(await runner.done()).toMatchObject({ type: 'ok' });

    expect(snapshots.length).toBeGreaterThan(50);
    const bad = snapshots.map((s, i) => ({ i, orphans: orphans(s) })).filter((s) => s.orphans.length > 0);
    expect(bad).toEqual([]);
  });
});

describe('a snapshot written before that rule', () => {
  it('brings back a finished command whose end its parent never took as held, to run again like an interrupted one', () => {
    const done = { status: 'done', value: 'succeeded', output: { type: 'ok' }, context: { control: 'run', attempt: 1 } };
    const snapshot: Node = {
      status: 'active',
      value: 'cycling',
      context: { control: 'run', background: [{ id: 'bg.1', status: 'ok' }, { id: 'bg.2', status: 'running' }] },
      children: {
        cycle: { src: 'cycle', snapshot: { status: 'active', value: { developing: 'story' }, context: { control: 'run' }, children: { story: { src: 'story', snapshot: { status: 'active', value: 'codeReview', context: { control: 'run' }, children: { codeReview: { src: 'commandRun', snapshot: structuredClone(done) } } } } } } },
        'bg.1': { src: 'commandRun', snapshot: structuredClone(done) },
        'bg.2': { src: 'commandRun', snapshot: structuredClone(done) },
      },
    };
    const resumed = prepareSnapshotForResume(snapshot);
    const review = resumed.children!['cycle']!.snapshot.children!['story']!.snapshot.children!['codeReview']!.snapshot;
    expect(review).toMatchObject({ status: 'active', value: 'held', context: { control: 'stop' } });
    expect(review).not.toHaveProperty('output');
    // a background task the batch recorded as ended stays as it was; one it still counts as running runs again
    expect(resumed.children!['bg.1']!.snapshot).toMatchObject({ status: 'done', value: 'succeeded' });
    expect(resumed.children!['bg.2']!.snapshot).toMatchObject({ status: 'active', value: 'held' });
    expect(orphans(resumed)).toEqual([]);
  });
});
