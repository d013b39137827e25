// A budget per batch (issue 14): the batch pauses at its cap, resumes when raised, and the cap survives a restart.
import { afterEach, describe, expect, it } from 'vitest';
import { batchBudget, batchSpend } from '../../db/sessions-budget.js';
import { createSqliteStore } from '../../db/store.js';
import type { RunnerEvent } from '../../machines/runner-api.js';
import { useTempDatabases } from '../db/support.js';
import { makeProject, startRunner, type ScenarioRun } from '../support/scenario.js';
import { waitFor } from '../support/wait.js';

const ctx = useTempDatabases();
const IN_PROGRESS = '  epic-1: in-progress\n  1-1-alpha: in-progress\n';
/** a dev-story of the simulated CLI costs about $0.37 (opus prices): the cap is reached during the code-review */
const CAP = 0.5;

const runs: ScenarioRun[] = [];
afterEach(async () => {
  for (const run of runs.splice(0)) await run.runner.close();
});

type End = Extract<RunnerEvent, { type: 'command:end' }>;
const ends = (events: RunnerEvent[]) => events.filter((e): e is End => e.type === 'command:end');
const argvOf = (run: ScenarioRun, logged: string) =>
  (run.trace() as unknown as { ev: string; logged: string; argv: string[]; resumed: string | null }[]).filter((t) => t.ev === 'start' && t.logged === logged);

async function untilBudgetPause(run: ScenarioRun) {
  await waitFor(() => (run.runner.status() === 'paused' && run.runner.pauseReason() === 'budget reached') || null, 'the pause at the cap', 30_000);
}

describe('a budget per batch', () => {
  it('pauses at the cap with "budget reached"; a command the CLI ended for its budget is no failure; raising it resumes', async () => {
    const run = startRunner(makeProject({ developmentStatus: IN_PROGRESS }));
    runs.push(run);
    await run.runner.start({ cycles: 1, budgetUsd: CAP });
    await untilBudgetPause(run);

    const devStory = ends(run.events).find((e) => e.payload.command === 'dev-story')!;
    const spentAfterDev = devStory.payload.outcome.result!.costUsd;
    // each command gets at most what is left: the code-review started with the rest of the cap
    const [review] = argvOf(run, 'code-review-1');
    const cap = review!.argv[review!.argv.indexOf('--max-budget-usd') + 1];
    expect(Number(cap)).toBeCloseTo(Math.floor((CAP - spentAfterDev) * 100) / 100, 5);
    const reviewEnd = ends(run.events).find((e) => e.payload.command === 'code-review-1')!;
    expect(reviewEnd.payload).toMatchObject({ status: 'interrupted', outcome: { failure: 'budget', result: { subtype: 'error_max_budget_usd' } } });
    expect(run.runner.budget().spentUsd).toBeGreaterThanOrEqual(CAP);
    expect(run.events.some((e) => e.type === 'state' && e.payload.status === 'paused' && e.payload.reason === 'budget reached')).toBe(true);
    // not a failure of the story: no error, no failed cycle, the story untouched
    expect(run.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(run.statusOf('1-1-alpha')).toBe('review');

    // resuming without more money is refused, raising the cap lets the batch finish
    await expect(run.runner.resume()).rejects.toThrow(/budget reached/);
    run.runner.setBudget(20);
    await run.runner.resume();
    const output = await run.runner.done();
    expect(output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
    // the review cut off by the budget continues its session
    const reviews = argvOf(run, 'code-review-1');
    expect(reviews).toHaveLength(2);
    expect(reviews[1]!.argv).toContain('--resume');
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('the cap and the spend survive a restart: the stopped batch stays at its cap until it is raised', async () => {
    const db = await ctx.fresh();
    const root = makeProject({ developmentStatus: IN_PROGRESS });
    const first = startRunner(root, { store: createSqliteStore(db) });
    runs.push(first);
    await first.runner.start({ cycles: 1, budgetUsd: CAP });
    await untilBudgetPause(first);
    const batchId = first.runner.batchId()!;
    const spent = first.runner.budget().spentUsd;
    await first.runner.close();
    expect(batchBudget(db, batchId)).toBe(CAP);
    expect(batchSpend(db, batchId)).toBeCloseTo(spent, 10);

    const second = startRunner(root, { store: createSqliteStore(db) });
    runs.push(second);
    await expect(second.runner.resume()).rejects.toThrow(/budget reached/);
    second.runner.setBudget(20);
    expect(batchBudget(db, batchId)).toBe(20);
    await second.runner.resume();
    expect(second.runner.budget()).toMatchObject({ budgetUsd: 20 });
    expect(second.runner.budget().spentUsd).toBeCloseTo(spent, 10);
    expect(await second.runner.done()).toMatchObject({ type: 'ok' });
    expect(second.statusOf('1-1-alpha')).toBe('done');
  });

  it('refuses a budget that is not a positive number', async () => {
    const run = startRunner(makeProject({ developmentStatus: IN_PROGRESS }));
    runs.push(run);
    await expect(run.runner.start({ cycles: 1, budgetUsd: -1 })).rejects.toThrow('budget must be a positive number');
    await expect(run.runner.start({ cycles: 1, budgetUsd: Number.NaN })).rejects.toThrow('budget must be a positive number');
  });
});
